---@brief Next-edit suggestions: the server proposes an edit that may be lines away from the
---cursor (`textDocument/copilotInlineEdit`); this module asks for it, draws it with extmarks,
---and lets Tab jump to it and accept it, Escape dismiss it.
---
---When it asks: after each change (insert or normal mode) and each cursor move in normal
---mode, with the previous request cancelled; the server waits for a pause
---(`next_edit.debounce_ms`) before it calls the model. Never while the completion menu or
---ghost text is showing, never while an edit is shown and the text has not changed, never
---again in a buffer the server refused (a secret or ignored file) until it is renamed or
---reloaded.

local config = require('qwen.config')
local lsp = require('qwen.lsp')
local diff = require('qwen.next_edit.diff')
local text = require('qwen.completion.text')

local M = {}

M.METHOD = 'textDocument/copilotInlineEdit'
M.ns = vim.api.nvim_create_namespace('qwen.next_edit')
M.hint_ns = vim.api.nvim_create_namespace('qwen.next_edit.hint')
local SIGN = '»'

---@class qwen.NextEdit
---@field item table the edit as the server sent it
---@field version integer buffer version it was made for
---@field start {row: integer, col: integer} range start (bytes)
---@field finish {row: integer, col: integer} range end (bytes)
---@field hunks qwen.NextEditHunk[]
---@field target {row: integer, col: integer}
---@field first integer first row it spans
---@field last integer last row it spans

---@class qwen.NextEditState
---@field client_id integer
---@field request_id? integer
---@field pending? table token of a request scheduled for this event
---@field edit? qwen.NextEdit the edit on screen
---@field augroup integer
---@field quiet? boolean the last automatic answer was empty: wait for a change before asking again
---@field refused? {reason: string, name: string} the server refused the file under this name

---@type table<integer, qwen.NextEditState>
local states = {}

--- Whether the server has been seen to answer the method (false once it said it does not know it).
M.supported = true

---@param bufnr integer
---@return integer
local function buf_version(bufnr)
  local versions = vim.lsp.util.buf_versions or {}
  return versions[bufnr] or vim.api.nvim_buf_get_changedtick(bufnr)
end

local function redraw_status()
  pcall(vim.cmd.redrawstatus)
end

--- The next-edit model the server will use, as far as the client can tell: `next_edit.model`,
--- `settings.nextEdit.model`, or QWEN_LSP_NEXT_EDIT_MODEL in `cmd_env` or the environment.
---@return string? model
---@return string? where it was set
function M.model()
  local wire = lsp.server_settings().nextEdit
  if type(wire) == 'table' and type(wire.model) == 'string' and wire.model ~= '' then
    return wire.model, config.current.next_edit.model and 'next_edit.model' or 'settings.nextEdit.model'
  end
  local env = (config.current.cmd_env or {}).QWEN_LSP_NEXT_EDIT_MODEL
  if type(env) == 'string' and env ~= '' then
    return env, 'cmd_env.QWEN_LSP_NEXT_EDIT_MODEL'
  end
  env = vim.env.QWEN_LSP_NEXT_EDIT_MODEL
  if env and env ~= '' then
    return env, '$QWEN_LSP_NEXT_EDIT_MODEL'
  end
  return nil
end

--- Whether to ask automatically: the server has next edits on when `enabled` says so, or,
--- left unset, when a model is set. Asking a server that has them off would only send
--- requests answered with nothing.
---@return boolean
function M.enabled()
  local ne = config.current.next_edit
  if ne.enabled == false or not M.supported then
    return false
  end
  local wire = lsp.server_settings().nextEdit
  if type(wire) == 'table' and wire.enabled ~= nil then
    return wire.enabled == true
  end
  return M.model() ~= nil
end

---@param bufnr integer
---@return boolean
local function ghost_visible(bufnr)
  local ok, visible = pcall(function()
    return require('qwen.completion').visible(bufnr)
  end)
  return ok and visible or false
end

--- Clear what is drawn; report a dismissal when reason is given.
---@param bufnr integer
---@param reason? "dismissed"|"superseded"|"typed"
function M.clear(bufnr, reason)
  local st = states[bufnr]
  if st and st.edit then
    local edit = st.edit
    st.edit = nil
    local client = vim.lsp.get_client_by_id(st.client_id)
    if reason and client then
      lsp.notify(client, 'qwen/didRejectInlineEdit', { item = edit.item, reason = reason })
    end
    redraw_status()
  end
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
    vim.api.nvim_buf_clear_namespace(bufnr, M.hint_ns, 0, -1)
  end
end

--- Cancel the request in flight for a buffer.
---@param bufnr integer
local function cancel(bufnr)
  local st = states[bufnr]
  if not st then
    return
  end
  st.pending = nil
  if st.request_id then
    local client = vim.lsp.get_client_by_id(st.client_id)
    if client then
      lsp.cancel(client, st.request_id)
    end
    st.request_id = nil
    redraw_status()
  end
end

---@param key string|false
---@return string
local function key_name(key)
  return key and key or ':QwenNextEdit'
end

--- Show "next edit: line N, Tab to jump" at the cursor line when the edit is off-screen.
---@param bufnr integer
function M.update_hint(bufnr)
  local st = states[bufnr]
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  vim.api.nvim_buf_clear_namespace(bufnr, M.hint_ns, 0, -1)
  if not st or not st.edit then
    return
  end
  local win = vim.fn.bufwinid(bufnr)
  if win == -1 then
    return
  end
  local top, bottom = vim.fn.line('w0', win) - 1, vim.fn.line('w$', win) - 1
  local e = st.edit
  if e.last >= top and e.first <= bottom then
    return
  end
  local row = vim.api.nvim_win_get_cursor(win)[1] - 1
  vim.api.nvim_buf_set_extmark(bufnr, M.hint_ns, row, 0, {
    virt_text = { { diff.hint(e.target.row, key_name(config.current.next_edit.keymaps.accept)), diff.hl.hint } },
    virt_text_pos = 'eol',
    priority = 300,
  })
end

--- Convert an LSP position to bytes in the buffer as it is.
---@param bufnr integer
---@param pos {line: integer, character: integer}
---@param encoding string
---@return {row: integer, col: integer}?
local function to_bytes(bufnr, pos, encoding)
  local count = vim.api.nvim_buf_line_count(bufnr)
  if type(pos) ~= 'table' or type(pos.line) ~= 'number' or type(pos.character) ~= 'number' then
    return nil
  end
  if pos.line >= count then
    -- The end of the last line (an edit that appends).
    local last = vim.api.nvim_buf_get_lines(bufnr, count - 1, count, false)[1] or ''
    return { row = count - 1, col = #last }
  end
  local line = vim.api.nvim_buf_get_lines(bufnr, pos.line, pos.line + 1, false)[1] or ''
  return { row = pos.line, col = text.byte_col(line, pos.character, encoding) }
end

--- Build the client-side form of an edit item; nil when it does not apply to the buffer.
---@param bufnr integer
---@param client vim.lsp.Client
---@param item table
---@return qwen.NextEdit?
function M.to_edit(bufnr, client, item)
  if type(item) ~= 'table' or type(item.range) ~= 'table' or type(item.text) ~= 'string' then
    return nil
  end
  local version = vim.tbl_get(item, 'textDocument', 'version')
  if type(version) == 'number' and version ~= buf_version(bufnr) then
    return nil -- made for another version of the text
  end
  local enc = client.offset_encoding or 'utf-16'
  local start, finish = to_bytes(bufnr, item.range.start, enc), to_bytes(bufnr, item.range['end'], enc)
  if not start or not finish or finish.row < start.row or (finish.row == start.row and finish.col < start.col) then
    return nil
  end
  local lines = vim.api.nvim_buf_get_lines(bufnr, start.row, finish.row + 1, false)
  local new_lines = diff.apply(lines, start.col, finish.col, item.text)
  local hunks = diff.hunks(lines, new_lines, start.row)
  if #hunks == 0 then
    return nil -- changes nothing
  end
  local first, last = diff.span(hunks)
  return {
    item = item, version = buf_version(bufnr), start = start, finish = finish, hunks = hunks,
    target = assert(diff.target(hunks)), first = first, last = last,
  }
end

--- Draw an edit and tell the server it is shown.
---@param bufnr integer
---@param edit qwen.NextEdit
function M.show(bufnr, edit)
  local st = states[bufnr]
  if not st then
    return
  end
  if st.edit then
    if vim.deep_equal(st.edit.item, edit.item) then
      return -- already on screen (and reported)
    end
    M.clear(bufnr, 'superseded')
  end
  vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  local function line_len(row)
    return #(vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or '')
  end
  for _, p in ipairs(diff.placements(edit.hunks, line_len, SIGN)) do
    pcall(vim.api.nvim_buf_set_extmark, bufnr, M.ns, p.row, p.col, p.opts)
  end
  st.edit = edit
  M.update_hint(bufnr)
  local client = vim.lsp.get_client_by_id(st.client_id)
  if client then
    lsp.notify(client, 'textDocument/didShowInlineEdit', { item = edit.item })
  end
  redraw_status()
end

---@param bufnr integer
---@return boolean
local function may_ask(bufnr)
  local mode = vim.api.nvim_get_mode().mode
  return vim.api.nvim_buf_is_valid(bufnr) and vim.bo[bufnr].buftype == ''
    and (mode == 'n' or mode:sub(1, 1) == 'i')
    and vim.fn.pumvisible() == 0 and not ghost_visible(bufnr)
end

--- Ask the server for a next edit now.
---@param bufnr integer
---@param kind integer 1 invoked, 2 automatic
---@param on_done? fun(found: boolean, refused?: string) refused: the server's reason
function M.request(bufnr, kind, on_done)
  local st = states[bufnr]
  local done = on_done or function() end
  if not st or not may_ask(bufnr) then
    return done(false)
  end
  cancel(bufnr)
  local client = vim.lsp.get_client_by_id(st.client_id)
  if not client then
    return done(false)
  end
  local win = vim.fn.bufwinid(bufnr)
  if win == -1 then
    return done(false)
  end
  local cur = vim.api.nvim_win_get_cursor(win)
  local line = vim.api.nvim_buf_get_lines(bufnr, cur[1] - 1, cur[1], false)[1] or ''
  local version = buf_version(bufnr)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr), version = version },
    position = { line = cur[1] - 1, character = text.character(line, cur[2], client.offset_encoding) },
    context = { triggerKind = kind },
  }
  local id
  local ok, rid = lsp.request(client, M.METHOD, params, function(err, result)
    if st.request_id ~= id then
      return -- cancelled or superseded
    end
    st.request_id = nil
    redraw_status()
    if err then
      if err.code == vim.lsp.protocol.ErrorCodes.MethodNotFound then
        M.supported = false
      end
      return done(false)
    end
    if type(result) == 'table' and type(result.refused) == 'string' then
      st.refused = { reason = result.refused, name = vim.api.nvim_buf_get_name(bufnr) }
      return done(false, result.refused)
    end
    local items = type(result) == 'table' and result.edits or {}
    local edit = nil
    for _, item in ipairs(type(items) == 'table' and items or {}) do
      edit = M.to_edit(bufnr, client, item)
      if edit then
        break
      end
    end
    if not edit then
      st.quiet = kind == 2 or nil
      return done(false)
    end
    -- The user may have opened the menu or got ghost text meanwhile: those win.
    if buf_version(bufnr) ~= version or not may_ask(bufnr) then
      return done(false)
    end
    M.show(bufnr, edit)
    done(true)
  end, bufnr)
  if ok then
    id = rid
    st.request_id = rid
    redraw_status()
  else
    done(false)
  end
end

--- Whether the server refused the buffer's file (under its current name).
---@param bufnr? integer
---@return string? reason
function M.refused(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local st = states[bufnr]
  if st and st.refused and st.refused.name ~= vim.api.nvim_buf_get_name(bufnr) then
    st.refused = nil -- renamed: the server decides again
  end
  return st and st.refused and st.refused.reason or nil
end

--- Ask after the events of this keystroke are handled (they come in bursts).
---@param bufnr integer
local function schedule(bufnr)
  local st = states[bufnr]
  if not st or not M.enabled() or not config.current.next_edit.auto_trigger or M.refused(bufnr) then
    return
  end
  local token = {}
  st.pending = token
  vim.schedule(function()
    if st.pending == token and states[bufnr] == st and vim.api.nvim_get_current_buf() == bufnr then
      st.pending = nil
      M.request(bufnr, 2)
    end
  end)
end

---@param bufnr integer
local function on_text_changed(bufnr)
  local st = states[bufnr]
  if not st then
    return
  end
  st.quiet = nil
  if st.edit then
    -- The text the edit was made for is gone.
    M.clear(bufnr, 'typed')
  end
  cancel(bufnr)
  schedule(bufnr)
end

---@param bufnr integer
local function on_cursor_moved(bufnr)
  local st = states[bufnr]
  if not st then
    return
  end
  if st.edit then
    M.update_hint(bufnr)
    return -- keep what is shown; moving towards it is what Tab is for
  end
  if st.quiet then
    return -- nothing here for this text; a change will ask again
  end
  cancel(bufnr)
  schedule(bufnr)
end

---@param client vim.lsp.Client
---@param bufnr integer
function M.attach(client, bufnr)
  if states[bufnr] then
    states[bufnr].client_id = client.id
    return
  end
  local group = vim.api.nvim_create_augroup('qwen.next_edit.' .. bufnr, { clear = true })
  states[bufnr] = { client_id = client.id, augroup = group }
  vim.api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI', 'TextChangedP' }, {
    group = group, buffer = bufnr,
    callback = function()
      on_text_changed(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd('CursorMoved', {
    group = group, buffer = bufnr,
    callback = function()
      on_cursor_moved(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd('WinScrolled', {
    group = group,
    callback = function()
      if vim.api.nvim_get_current_buf() == bufnr then
        M.update_hint(bufnr)
      end
    end,
  })
  vim.api.nvim_create_autocmd('BufReadPost', {
    group = group, buffer = bufnr,
    callback = function()
      if states[bufnr] then
        states[bufnr].refused = nil -- reloaded: the server decides again
      end
    end,
  })
  vim.api.nvim_create_autocmd('BufUnload', {
    group = group, buffer = bufnr,
    callback = function()
      M.detach(bufnr)
    end,
  })
end

---@param bufnr integer
function M.detach(bufnr)
  local st = states[bufnr]
  if not st then
    return
  end
  cancel(bufnr)
  M.clear(bufnr)
  pcall(vim.api.nvim_del_augroup_by_id, st.augroup)
  states[bufnr] = nil
end

--- The edit shown in a buffer, if any.
---@param bufnr? integer
---@return qwen.NextEdit?
function M.current(bufnr)
  local st = states[bufnr or vim.api.nvim_get_current_buf()]
  return st and st.edit or nil
end

---@param bufnr? integer
---@return boolean
function M.visible(bufnr)
  return M.current(bufnr) ~= nil
end

--- Whether the cursor is on the lines the edit changes.
---@param bufnr integer
---@return boolean
function M.at_edit(bufnr)
  local e = M.current(bufnr)
  if not e then
    return false
  end
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  return row >= e.first and row <= e.last
end

--- Move the cursor to the start of the edit (on the jumplist).
---@param bufnr? integer
---@return boolean
function M.jump(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local e = M.current(bufnr)
  if not e then
    return false
  end
  if vim.api.nvim_get_mode().mode == 'n' then
    vim.cmd("normal! m'")
  end
  vim.api.nvim_win_set_cursor(0, { e.target.row + 1, e.target.col })
  M.update_hint(bufnr)
  return true
end

--- Apply the edit (one undo step), run its command so the server counts it, and put the
--- cursor at the end of the change.
---@param bufnr? integer
---@return boolean
function M.accept(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local st = states[bufnr]
  local e = st and st.edit
  if not e then
    return false
  end
  if buf_version(bufnr) ~= e.version then
    M.clear(bufnr, 'typed')
    return false
  end
  st.edit = nil
  M.clear(bufnr)
  local new = vim.split(e.item.text, '\n', { plain = true })
  vim.api.nvim_buf_set_text(bufnr, e.start.row, e.start.col, e.finish.row, e.finish.col, new)
  local after = e.hunks[#e.hunks].after
  local count = vim.api.nvim_buf_line_count(bufnr)
  local row = math.min(after.row, count - 1)
  local len = #(vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or '')
  local col = math.min(after.col, len)
  if vim.api.nvim_get_mode().mode == 'n' and col > 0 and col >= len then
    col = len - 1 -- normal mode cannot sit past the end of the line
  end
  vim.api.nvim_win_set_cursor(0, { row + 1, math.max(col, 0) })
  local client = vim.lsp.get_client_by_id(st.client_id)
  if client and type(e.item.command) == 'table' then
    lsp.exec_command(client, e.item.command, bufnr)
  end
  redraw_status()
  return true
end

--- Hide the edit and tell the server.
---@param bufnr? integer
---@return boolean whether one was shown
function M.dismiss(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if not M.visible(bufnr) then
    return false
  end
  cancel(bufnr)
  M.clear(bufnr, 'dismissed')
  local st = states[bufnr]
  if st then
    st.quiet = true -- do not ask again until the text changes
  end
  return true
end

--- `:QwenNextEdit`: ask now, whatever the automatic settings say.
function M.command()
  local bufnr = vim.api.nvim_get_current_buf()
  if config.current.next_edit.enabled == false then
    vim.notify('qwen: next edits are off (next_edit.enabled = false)', vim.log.levels.WARN)
    return
  end
  if not states[bufnr] then
    vim.notify('qwen: no next edits in this buffer (the server is not attached)', vim.log.levels.WARN)
    return
  end
  M.request(bufnr, 1, function(found, refused)
    if refused then
      vim.notify('qwen: no next edits in this file: ' .. refused, vim.log.levels.INFO)
    elseif not found then
      vim.notify('qwen: no next edit here', vim.log.levels.INFO)
    end
  end)
end

--- What Tab does now, as diff.route decides.
---@param mode "n"|"i"
---@return "completion"|"fallback"|"jump"|"accept"
function M.route(mode)
  local bufnr = vim.api.nvim_get_current_buf()
  return diff.route({
    mode = mode, ghost = mode == 'i' and ghost_visible(bufnr), edit = M.visible(bufnr), at_edit = M.at_edit(bufnr),
  })
end

--- Keys for an expr mapping of the accept key: schedule the action, return what to type.
---@param mode "n"|"i"
---@return string? nil when there is nothing to do for next edits
local function accept_key(mode)
  local action = M.route(mode)
  if action == 'jump' then
    vim.schedule(function() M.jump() end)
    return ''
  elseif action == 'accept' then
    vim.schedule(function() M.accept() end)
    -- In insert mode, start a new undo step so `u` restores exactly the text before.
    return mode == 'i' and vim.keycode('<C-g>u') or ''
  end
  return nil
end

local mapped = {} ---@type {mode: string, lhs: string}[]

--- Map the keys (again, after setup() changed them). Keys the user maps are left alone.
function M.set_keymaps()
  local completion = require('qwen.completion')
  for _, m in ipairs(mapped) do
    pcall(vim.keymap.del, m.mode, m.lhs)
  end
  mapped = {}
  for lhs, _ in pairs(completion.fallback_hooks) do
    completion.fallback_hooks[lhs] = nil
  end
  local keys = config.current.next_edit.keymaps
  if config.current.next_edit.enabled == false then
    return
  end
  local function map(mode, lhs, fn, desc)
    if completion.user_mapped(lhs, nil, mode) then
      completion.skipped_keys[lhs] = 'next_edit'
      return
    end
    vim.keymap.set(mode, lhs, fn, { expr = true, replace_keycodes = false, desc = 'qwen: ' .. desc })
    table.insert(mapped, { mode = mode, lhs = lhs })
  end
  if keys.accept then
    local lhs = keys.accept
    map('n', lhs, function()
      return accept_key('n') or vim.keycode(lhs)
    end, 'jump to the next edit, or accept it')
    -- Insert mode: through the ghost-text accept key when it is the same key, so ghost text
    -- keeps it first and the key keeps its usual meaning (indent, snippet jump) after both.
    if completion.mapped_keys()[lhs] == 'accept' then
      completion.fallback_hooks[lhs] = function()
        return accept_key('i')
      end
    end
  end
  if keys.dismiss then
    local lhs = keys.dismiss
    map('n', lhs, function()
      if M.visible() then
        vim.schedule(function() M.dismiss() end)
        return ''
      end
      return vim.keycode(lhs)
    end, 'dismiss the next edit')
  end
end

--- A short text for the statusline: '' , 'next edit…' or 'next edit L84'.
---@return string
function M.status_text()
  local bufnr = vim.api.nvim_get_current_buf()
  local st = states[bufnr]
  if not st then
    return ''
  end
  if st.edit then
    return ('next edit L%d'):format(st.edit.target.row + 1)
  end
  if st.request_id then
    return 'next edit…'
  end
  return ''
end

--- One line for `:QwenStatus`.
---@return string
function M.describe()
  local ne = config.current.next_edit
  if ne.enabled == false then
    return 'off (next_edit.enabled = false)'
  end
  if not M.supported then
    return 'the server does not offer them'
  end
  local model, where = M.model()
  if not M.enabled() then
    return 'off: no next-edit model set (next_edit.model); :QwenNextEdit still asks'
  end
  local now = M.status_text()
  return ('%s, model %s (%s)%s'):format(ne.auto_trigger and 'automatic' or 'on demand (:QwenNextEdit)',
    model or '(set by the server)', where or 'next_edit.enabled', now ~= '' and (', ' .. now) or '')
end

local function set_highlights()
  local links = {
    QwenNextEditAdd = 'DiffAdd',
    QwenNextEditDelete = 'DiffDelete',
    QwenNextEditChange = 'DiffChange',
    QwenNextEditSign = 'DiffChange',
    QwenNextEditHint = 'NonText',
  }
  for name, target in pairs(links) do
    vim.api.nvim_set_hl(0, name, { link = target, default = true })
  end
  vim.api.nvim_set_hl(0, 'QwenNextEditStrike', { strikethrough = true, default = true })
end

--- Apply the options (setup() may run again).
function M.setup()
  set_highlights()
  M.set_keymaps()
  if config.current.next_edit.enabled == false then
    for bufnr in pairs(states) do
      M.clear(bufnr)
      cancel(bufnr)
    end
  end
end

local group = vim.api.nvim_create_augroup('qwen.next_edit', { clear = true })
vim.api.nvim_create_autocmd('ColorScheme', { group = group, callback = set_highlights })

table.insert(lsp.on_attach_hooks, function(client, bufnr)
  M.attach(client, bufnr)
end)

return M
