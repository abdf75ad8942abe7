---@brief Code actions and inline edits. Listing is the server's (`textDocument/codeAction`,
---shown by |vim.lsp.buf.code_action()|); this module adds commands that pick one action
---(`:QwenExplain`, `:QwenRefactor`, `:QwenDocstring`, `:QwenTests`) and a diff preview
---for every `workspace/applyEdit` the server sends, asked before anything changes.

local config = require('qwen.config')
local lsp = require('qwen.lsp')
local chat = require('qwen.chat')

local M = {}

---@alias qwen.ActionName "explain"|"refactor"|"docstring"|"tests"

--- How each command recognises the server's action: by the command it runs (in the action's
--- `command` or its resolve `data`), else by its title.
---@type table<qwen.ActionName, {command: string, title: string[]}>
M.matchers = {
  explain = { command = 'qwen.explain', title = { 'explain' } },
  refactor = { command = 'qwen.refactor', title = { 'refactor' } },
  docstring = { command = 'qwen.addDocstring', title = { 'docstring' } },
  tests = { command = 'qwen.generateTests', title = { 'unit test' } },
}

---@param action lsp.CodeAction|lsp.Command
---@return string?
local function command_of(action)
  if type(action.command) == 'string' then
    return action.command --[[@as string]]
  end
  if type(action.command) == 'table' then
    return action.command.command
  end
  return type(action.data) == 'table' and type(action.data.command) == 'string' and action.data.command or nil
end

---@param action lsp.CodeAction|lsp.Command
---@param name qwen.ActionName
---@param by_title boolean
---@return boolean
local function matches(action, name, by_title)
  local m = M.matchers[name]
  if not by_title then
    return command_of(action) == m.command
  end
  local title = (action.title or ''):lower()
  for _, t in ipairs(m.title) do
    if title:find(t, 1, true) then
      return true
    end
  end
  return false
end

--- Put the user's instruction where the server reads it: the command's first argument
--- (read when the command runs) and the action's data (read in codeAction/resolve).
---@param action lsp.CodeAction
---@param instruction string
local function set_instruction(action, instruction)
  local data = action.data
  if type(data) == 'table' then
    if type(data.args) == 'table' then
      data.args.instruction = instruction
    else
      data.instruction = instruction
    end
  end
  local cmd = action.command
  if type(cmd) == 'table' and type(cmd.arguments) == 'table' and type(cmd.arguments[1]) == 'table' then
    cmd.arguments[1].instruction = instruction
  end
end

--- Run a server command. An answer streamed as chat (Explain) goes to the chat buffer,
--- in the current chat session so that follow-ups can refer to it.
---@param client vim.lsp.Client
---@param cmd lsp.Command
---@param bufnr integer
---@param streams_chat boolean
---@param done fun(err?: string)
local function run_command(client, cmd, bufnr, streams_chat, done)
  local turn
  if streams_chat then
    local arg = type(cmd.arguments) == 'table' and cmd.arguments[1] or nil
    turn = chat.begin_external(cmd.title or cmd.command, bufnr, client)
    if type(arg) == 'table' then
      arg.sessionId = turn.session_id
    end
  end
  local _, rid = lsp.exec_command(client, cmd, bufnr, function(err, result)
    if turn then
      chat.finish_external(turn, err, result)
    end
    done(err and (err.message or vim.inspect(err)) or nil)
  end)
  if turn then
    turn.request_id = rid
  end
end

---@param client vim.lsp.Client
---@param action lsp.CodeAction|lsp.Command
---@param bufnr integer
---@param streams_chat boolean
---@param done? fun(err?: string)
local function execute(client, action, bufnr, streams_chat, done)
  done = done or function() end
  if type(action.command) == 'string' then -- a bare Command
    run_command(client, action --[[@as lsp.Command]], bufnr, streams_chat, done)
    return
  end
  local function finish(a)
    if a.edit then
      M.apply_edit(client, a.edit, a.title)
    end
    if type(a.command) == 'table' then
      run_command(client, a.command, bufnr, streams_chat, done)
    else
      done(nil)
    end
  end
  -- As vim.lsp.buf.code_action does: resolve only what lacks both an edit and a command.
  local resolvable = vim.tbl_get(client.server_capabilities, 'codeActionProvider', 'resolveProvider')
  if not action.edit and not action.command and resolvable then
    lsp.request(client, 'codeAction/resolve', action, function(err, resolved)
      if err then
        done(err.message or vim.inspect(err))
        return
      end
      if not (resolved and (resolved.edit or resolved.command)) then
        done('the server could not prepare this action (see :messages)')
        return
      end
      finish(resolved)
    end, bufnr)
  else
    finish(action)
  end
end

--- Commands the client runs itself when an action from |vim.lsp.buf.code_action()| carries
--- them: Refactor… asks for its instruction, Explain streams into the chat buffer.
---@type table<string, fun(command: lsp.Command, ctx: {client_id: integer, bufnr: integer})>
M.client_commands = {
  ['qwen.refactor'] = function(command, ctx)
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    local arg = type(command.arguments) == 'table' and command.arguments[1] or nil
    if not client then
      return
    end
    local function go()
      run_command(client, command, ctx.bufnr, false, function(err)
        if err then
          vim.notify('qwen: ' .. err, vim.log.levels.ERROR)
        end
      end)
    end
    if type(arg) == 'table' and (arg.instruction == nil or arg.instruction == '') then
      vim.ui.input({ prompt = 'Refactor: ' }, function(input)
        if input and input ~= '' then
          arg.instruction = input
          go()
        end
      end)
    else
      go()
    end
  end,
  ['qwen.explain'] = function(command, ctx)
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if client then
      run_command(client, command, ctx.bufnr, true, function(err)
        if err then
          vim.notify('qwen: ' .. err, vim.log.levels.ERROR)
        end
      end)
    end
  end,
}

---@class qwen.RunOpts
---@field line1? integer
---@field line2? integer
---@field instruction? string
---@field on_done? fun(err?: string)

--- Find the server's action for `name` on the range (or cursor) and run it.
---@param name qwen.ActionName
---@param opts? qwen.RunOpts
function M.run(name, opts)
  opts = opts or {}
  local bufnr = vim.api.nvim_get_current_buf()
  local client = lsp.get_client(bufnr)
  local on_done = opts.on_done or function(err)
    if err then
      vim.notify('qwen: ' .. err, vim.log.levels.ERROR)
    end
  end
  if not client then
    on_done('the server is not attached to this buffer (see :checkhealth qwen)')
    return
  end
  if not client.server_capabilities.codeActionProvider then
    on_done('the server offers no code actions yet')
    return
  end
  local range
  if opts.line1 then
    range = chat.line_range(bufnr, opts.line1, opts.line2 or opts.line1)
  else
    local c = vim.api.nvim_win_get_cursor(0)
    local pos = { line = c[1] - 1, character = require('qwen.completion.text').utf16_len(
      vim.api.nvim_get_current_line():sub(1, c[2])) }
    range = { start = pos, ['end'] = pos }
  end
  local diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.lnum >= range.start.line and d.lnum <= range['end'].line and d.user_data and d.user_data.lsp then
      table.insert(diagnostics, d.user_data.lsp)
    end
  end
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = range,
    context = { diagnostics = diagnostics, triggerKind = 1 },
  }
  lsp.request(client, 'textDocument/codeAction', params, function(err, actions)
    if err then
      on_done(err.message or vim.inspect(err))
      return
    end
    local found
    for _, by_title in ipairs({ false, true }) do
      for _, a in ipairs(actions or {}) do
        if not found and matches(a, name, by_title) then
          found = a
        end
      end
    end
    if not found then
      on_done(('the server offers no %s action here'):format(name))
      return
    end
    local function go(instruction)
      if instruction then
        set_instruction(found, instruction)
      end
      execute(client, found, bufnr, name == 'explain', on_done)
    end
    if name == 'refactor' and not opts.instruction then
      vim.ui.input({ prompt = 'Refactor: ' }, function(input)
        if input and input ~= '' then
          go(input)
        end
      end)
    else
      go(opts.instruction)
    end
  end, bufnr)
end

-- Inline edits ------------------------------------------------------------------

local diff = (vim.text and vim.text.diff) or vim.diff

--- A unified diff of what a workspace edit would change.
---@param edit lsp.WorkspaceEdit
---@param encoding string
---@return string
function M.preview_text(edit, encoding)
  local per_uri = {} ---@type table<string, lsp.TextEdit[]>
  local order = {} ---@type string[]
  local notes = {} ---@type string[]
  local function add(uri, edits)
    if not per_uri[uri] then
      per_uri[uri] = {}
      table.insert(order, uri)
    end
    vim.list_extend(per_uri[uri], edits)
  end
  for uri, edits in pairs(edit.changes or {}) do
    add(uri, edits)
  end
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.kind == 'create' then
      table.insert(notes, 'create ' .. vim.uri_to_fname(change.uri))
    elseif change.kind == 'rename' then
      table.insert(notes, ('rename %s -> %s'):format(vim.uri_to_fname(change.oldUri), vim.uri_to_fname(change.newUri)))
    elseif change.kind == 'delete' then
      table.insert(notes, 'delete ' .. vim.uri_to_fname(change.uri))
    elseif change.textDocument then
      add(change.textDocument.uri, change.edits)
    end
  end
  local out = {}
  for _, n in ipairs(notes) do
    table.insert(out, '# ' .. n)
  end
  for _, uri in ipairs(order) do
    local fname = vim.uri_to_fname(uri)
    local src = vim.fn.bufnr(fname)
    local old
    if src ~= -1 and vim.api.nvim_buf_is_loaded(src) then
      old = vim.api.nvim_buf_get_lines(src, 0, -1, false)
    elseif vim.fn.filereadable(fname) == 1 then
      old = vim.fn.readfile(fname)
    else
      old = {}
    end
    local scratch = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_lines(scratch, 0, -1, false, old)
    local edits = vim.tbl_map(function(e)
      return { range = e.range, newText = e.newText }
    end, per_uri[uri])
    vim.lsp.util.apply_text_edits(edits, scratch, encoding)
    local new = vim.api.nvim_buf_get_lines(scratch, 0, -1, false)
    vim.api.nvim_buf_delete(scratch, { force = true })
    local rel = vim.fn.fnamemodify(fname, ':.')
    local d = diff(table.concat(old, '\n') .. '\n', table.concat(new, '\n') .. '\n', { result_type = 'unified', ctxlen = 3 })
    table.insert(out, ('--- a/%s'):format(rel))
    table.insert(out, ('+++ b/%s'):format(rel))
    table.insert(out, (tostring(d):gsub('\n$', '')))
  end
  return table.concat(out, '\n')
end

---@type string? The last previewed diff (for tests and :messages-minded users).
M.last_preview = nil

--- Show the diff and ask; calls cb(true) to apply.
---@param title string
---@param text string
---@param cb fun(apply: boolean)
function M.confirm(title, text, cb)
  M.last_preview = text
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(text, '\n', { plain = true }))
  vim.bo[buf].filetype = 'diff'
  vim.bo[buf].bufhidden = 'wipe'
  local width = math.min(math.max(40, vim.o.columns - 10), 120)
  local height = math.min(#vim.api.nvim_buf_get_lines(buf, 0, -1, false), math.max(5, vim.o.lines - 10))
  local win = vim.api.nvim_open_win(buf, false, {
    relative = 'editor', border = 'rounded', title = ' ' .. title .. ' ', width = width, height = height,
    row = 1, col = math.floor((vim.o.columns - width) / 2), style = 'minimal',
  })
  vim.cmd('redraw')
  vim.ui.select({ 'Apply', 'Discard' }, { prompt = title .. ': apply this edit?' }, function(choice)
    pcall(vim.api.nvim_win_close, win, true)
    cb(choice == 'Apply')
  end)
end

--- Apply a workspace edit, after a diff preview when `actions.preview` is on.
---@param client vim.lsp.Client
---@param edit lsp.WorkspaceEdit
---@param title? string
---@param cb? fun(applied: boolean, reason?: string)
function M.apply_edit(client, edit, title, cb)
  cb = cb or function() end
  local function apply()
    local ok, err = pcall(vim.lsp.util.apply_workspace_edit, edit, client.offset_encoding)
    cb(ok, not ok and tostring(err) or nil)
  end
  if not config.current.actions.preview then
    apply()
    return
  end
  local ok, text = pcall(M.preview_text, edit, client.offset_encoding)
  M.confirm(title or 'Qwen edit', ok and text or ('(no preview: ' .. tostring(text) .. ')'), function(yes)
    if yes then
      apply()
    else
      cb(false, 'The user declined the edit.')
    end
  end)
end

for name, fn in pairs(M.client_commands) do
  lsp.commands[name] = fn
end

lsp.handlers['workspace/applyEdit'] = function(_, params, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client or type(params) ~= 'table' or type(params.edit) ~= 'table' then
    return { applied = false, failureReason = 'invalid workspace/applyEdit' }
  end
  local co = coroutine.running()
  local result
  M.apply_edit(client, params.edit, params.label, function(applied, reason)
    result = { applied = applied, failureReason = reason }
    if co and coroutine.status(co) == 'suspended' then
      coroutine.resume(co)
    end
  end)
  if result then
    return result
  end
  if co and coroutine.isyieldable() then
    -- Neovim runs server requests in a coroutine: answer once the user has chosen.
    coroutine.yield()
    return result
  end
  -- No coroutine (older Neovim): wait for the choice in place.
  vim.wait(600000, function()
    return result ~= nil
  end, 50)
  return result or { applied = false, failureReason = 'No answer from the user.' }
end

return M
