---@brief Ghost text through Neovim 0.12's built-in |vim.lsp.inline_completion|.
---The built-in draws, debounces and runs the acceptance command; this module adds what it
---lacks: cancelling the stale request on each keystroke, partial acceptance, dismiss and
---a manual trigger.

local lsp = require('qwen.lsp')
local shared = require('qwen.completion.shared')

local M = {}

local METHOD = 'textDocument/inlineCompletion'
local ns = vim.api.nvim_create_namespace('nvim.lsp.inline_completion')

---@return boolean
function M.available()
  return vim.lsp.inline_completion ~= nil and vim.lsp.inline_completion.get ~= nil
end

local attached = {} ---@type table<integer, integer> bufnr -> augroup

---@param bufnr integer
---@param client vim.lsp.Client
function M.attach(bufnr, client)
  vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  if attached[bufnr] then
    return
  end
  -- Typing started before the server was ready: ask now rather than at the next key.
  if vim.api.nvim_get_current_buf() == bufnr and vim.api.nvim_get_mode().mode:match('^i') then
    vim.schedule(function()
      if vim.api.nvim_get_mode().mode:match('^i') then
        vim.api.nvim_exec_autocmds('CursorMovedI', { buffer = bufnr, modeline = false })
      end
    end)
  end
  local group = vim.api.nvim_create_augroup('qwen.builtin.' .. bufnr, { clear = true })
  attached[bufnr] = group
  -- The built-in sends a new request after each keystroke but leaves the old one running.
  vim.api.nvim_create_autocmd({ 'TextChangedI', 'TextChangedP' }, {
    group = group, buffer = bufnr,
    callback = function()
      local c = vim.lsp.get_client_by_id(client.id)
      if c then
        lsp.cancel_pending(c, METHOD, bufnr)
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
  if vim.api.nvim_buf_is_valid(bufnr) then
    pcall(vim.lsp.inline_completion.enable, false, { bufnr = bufnr })
  end
  if attached[bufnr] then
    pcall(vim.api.nvim_del_augroup_by_id, attached[bufnr])
    attached[bufnr] = nil
  end
end

---@param bufnr integer
---@return boolean
function M.attached(bufnr)
  return attached[bufnr] ~= nil
end

--- The ghost text the built-in has drawn (reassembled from its extmark).
---@param bufnr integer
---@return string?
function M.ghost_text(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return nil
  end
  local marks = vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })
  local m = marks[1]
  if not m then
    return nil
  end
  local d = m[4] or {}
  local parts = {}
  local function line(chunks)
    local s = {}
    for _, c in ipairs(chunks or {}) do
      if c[2] ~= 'ComplHintMore' then
        s[#s + 1] = c[1]
      end
    end
    return table.concat(s)
  end
  parts[1] = line(d.virt_text)
  for _, l in ipairs(d.virt_lines or {}) do
    parts[#parts + 1] = line(l)
  end
  return table.concat(parts, '\n')
end

---@param bufnr integer
---@return boolean
function M.accept(bufnr)
  return vim.lsp.inline_completion.get({ bufnr = bufnr })
end

---@param item vim.lsp.inline_completion.Item
---@param bufnr integer
---@return qwen.Suggestion
local function to_suggestion(item, bufnr)
  local insert = item.insert_text
  if type(insert) == 'table' then
    insert = insert.value or ''
  end
  local cur = assert(shared.cursor(bufnr))
  local start, finish = cur, cur
  if item.range then
    start = { row = item.range.start.row, col = item.range.start.col }
    finish = { row = item.range.end_.row, col = item.range.end_.col }
  end
  return {
    bufnr = bufnr, client_id = item.client_id, text = insert, start = start, finish = finish,
    command = item.command, suffix = shared.suffix(bufnr, cur, finish),
  }
end

--- Accept the next word or line; the built-in asks again after the edit.
---@param bufnr integer
---@param kind "word"|"line"
---@return boolean
function M.accept_part(bufnr, kind)
  return vim.lsp.inline_completion.get({
    bufnr = bufnr,
    on_accept = function(item)
      local client = vim.lsp.get_client_by_id(item.client_id)
      if client and client.name == lsp.name then
        shared.accept_part(to_suggestion(item, bufnr), kind)
      else
        -- Another server's item: no partial protocol, accept it whole.
        local s = to_suggestion(item, bufnr)
        shared.insert_all(s)
        shared.report_accept(s)
      end
    end,
  })
end

--- Hide the suggestion until the next keystroke.
---@param bufnr integer
function M.dismiss(bufnr)
  local c = lsp.get_client(bufnr)
  if c then
    lsp.cancel_pending(c, METHOD, bufnr)
  end
  if attached[bufnr] then
    -- The built-in has no public dismiss; re-enabling drops its state and its extmark.
    vim.lsp.inline_completion.enable(false, { bufnr = bufnr })
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  end
end

---@param bufnr integer
---@param delta integer
function M.cycle(bufnr, delta)
  vim.lsp.inline_completion.select({ bufnr = bufnr, count = delta })
end

--- Ask now: the built-in requests on CursorMovedI, so fire that for its fresh state.
---@param bufnr integer
function M.suggest(bufnr)
  M.dismiss(bufnr)
  vim.api.nvim_exec_autocmds('CursorMovedI', { buffer = bufnr, modeline = false })
end

---@param bufnr integer
---@return boolean
function M.busy(bufnr)
  local c = lsp.get_client(bufnr)
  if not c then
    return false
  end
  for _, req in pairs(c.requests or {}) do
    if req.type == 'pending' and req.method == METHOD and req.bufnr == bufnr then
      return true
    end
  end
  return false
end

return M
