---@brief Ghost text drawn with extmarks from `textDocument/inlineCompletion`, for Neovim
---before 0.12 (or when `completion.engine = "extmark"`). Asks after each keystroke (the
---server debounces), cancels the stale request, and keeps showing a suggestion the user
---types through.

local lsp = require('qwen.lsp')
local config = require('qwen.config')
local shared = require('qwen.completion.shared')
local text = require('qwen.completion.text')

local M = {}

M.ns = vim.api.nvim_create_namespace('qwen.ghost')
local METHOD = 'textDocument/inlineCompletion'

---@class qwen.ExtmarkState
---@field items qwen.Suggestion[]
---@field index integer
---@field request_id? integer
---@field client_id? integer
---@field timer? uv.uv_timer_t
---@field pending? table token of a request scheduled for this keystroke
---@field tick integer
---@field pos qwen.Pos
---@field shown? string
---@field augroup integer

---@type table<integer, qwen.ExtmarkState>
local states = {}

---@param bufnr integer
local function clear(bufnr)
  local st = states[bufnr]
  if st then
    st.shown = nil
  end
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

---@param st qwen.ExtmarkState
local function stop_timer(st)
  st.pending = nil
  if st.timer then
    st.timer:stop()
    if not st.timer:is_closing() then
      st.timer:close()
    end
    st.timer = nil
  end
end

--- Cancel the in-flight request and the pending debounce.
---@param bufnr integer
local function cancel(bufnr)
  local st = states[bufnr]
  if not st then
    return
  end
  stop_timer(st)
  if st.request_id and st.client_id then
    local client = vim.lsp.get_client_by_id(st.client_id)
    if client then
      lsp.cancel(client, st.request_id)
    end
  end
  st.request_id = nil
end

---@param bufnr integer
local function render(bufnr)
  local st = states[bufnr]
  vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  st.shown = nil
  local s = st.items[st.index]
  if not s then
    return
  end
  local rest = shared.remainder(s)
  local cur = shared.cursor(bufnr)
  if not rest or rest == '' or not cur then
    return
  end
  local chunks = {}
  for _, l in ipairs(vim.split(rest, '\n', { plain = true })) do
    chunks[#chunks + 1] = { { l, 'QwenSuggestion' } }
  end
  if #st.items > 1 then
    table.insert(chunks[#chunks], { (' (%d/%d)'):format(st.index, #st.items), 'QwenSuggestionInfo' })
  end
  local first = table.remove(chunks, 1)
  local virt_lines = chunks
  vim.api.nvim_buf_set_extmark(bufnr, M.ns, cur.row, cur.col, {
    virt_text = first,
    virt_text_pos = 'inline',
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = 'combine',
    priority = 200,
  })
  st.shown = rest
end

--- Convert one LSP item to a suggestion in byte positions.
---@param bufnr integer
---@param client vim.lsp.Client
---@param item lsp.InlineCompletionItem
---@param cur qwen.Pos
---@return qwen.Suggestion
local function to_suggestion(bufnr, client, item, cur)
  local insert = item.insertText
  if type(insert) == 'table' then
    insert = insert.value or ''
  end
  local start, finish = cur, cur
  if item.range then
    local enc = client.offset_encoding
    local function pos(p)
      local line = vim.api.nvim_buf_get_lines(bufnr, p.line, p.line + 1, false)[1] or ''
      return { row = p.line, col = text.byte_col(line, p.character, enc) }
    end
    start, finish = pos(item.range.start), pos(item.range['end'])
  end
  return {
    bufnr = bufnr,
    client_id = client.id,
    text = insert,
    start = start,
    finish = finish,
    command = item.command,
    suffix = shared.suffix(bufnr, cur, finish),
  }
end

---@param bufnr integer
---@param client vim.lsp.Client
---@param cur qwen.Pos
---@return table
local function position_params(bufnr, client, cur)
  local line = vim.api.nvim_buf_get_lines(bufnr, cur.row, cur.row + 1, false)[1] or ''
  local character = text.character(line, cur.col, client.offset_encoding)
  return {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = cur.row, character = character },
  }
end

--- Ask the server now.
---@param bufnr integer
---@param kind integer 1 invoked, 2 automatic
function M.request(bufnr, kind)
  local st = states[bufnr]
  if not st or not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  cancel(bufnr)
  local client = vim.lsp.get_client_by_id(st.client_id or -1)
  if not client or not vim.api.nvim_get_mode().mode:match('^i') then
    return
  end
  local cur = shared.cursor(bufnr)
  if not cur then
    return
  end
  local params = position_params(bufnr, client, cur)
  params.context = { triggerKind = kind }
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local id
  local ok, rid = lsp.request(client, METHOD, params, function(err, result)
    if st.request_id ~= id then
      return -- superseded or cancelled
    end
    st.request_id = nil
    if err or not result then
      return
    end
    local now = shared.cursor(bufnr)
    if vim.api.nvim_buf_get_changedtick(bufnr) ~= tick or not now or now.row ~= cur.row
      or now.col ~= cur.col or not vim.api.nvim_get_mode().mode:match('^i') then
      return
    end
    local items = result.items or result
    st.items = {}
    for _, item in ipairs(items) do
      local s = to_suggestion(bufnr, client, item, cur)
      local rest = shared.remainder(s)
      if rest and rest ~= '' then
        table.insert(st.items, s)
      end
    end
    st.index = 1
    render(bufnr)
  end, bufnr)
  if ok then
    id = rid
    st.request_id = rid
  end
end

--- Ask after this keystroke's events are handled. The server waits for a typing pause
--- (its adaptive debounce) and drops requests it no longer needs; the client adds no wait
--- of its own unless `completion.debounce_ms` asks for one.
---@param bufnr integer
local function schedule_request(bufnr)
  local st = states[bufnr]
  stop_timer(st)
  local c = config.current.completion
  if not (c.enabled and c.auto_trigger and config.filetype_enabled(vim.bo[bufnr].filetype)) then
    return
  end
  local function fire()
    st.timer, st.pending = nil, nil
    if vim.api.nvim_get_current_buf() == bufnr then
      M.request(bufnr, 2)
    end
  end
  if c.debounce_ms > 0 then
    st.timer = vim.defer_fn(fire, c.debounce_ms)
    return
  end
  local token = {}
  st.pending = token
  vim.schedule(function()
    if st.pending == token then
      fire()
    end
  end)
end

--- React to a keystroke or cursor move: keep a suggestion the user types through,
--- otherwise drop it, cancel the request in flight and ask again after the debounce.
---@param bufnr integer
---@param force? boolean
local function on_change(bufnr, force)
  local st = states[bufnr]
  local cur = shared.cursor(bufnr)
  if not st or not cur then
    return
  end
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  if not force and tick == st.tick and cur.row == st.pos.row and cur.col == st.pos.col then
    return
  end
  st.tick, st.pos = tick, cur
  local s = st.items[st.index]
  local rest = s and shared.remainder(s)
  if rest and rest ~= '' then
    cancel(bufnr)
    render(bufnr)
    return
  end
  st.items = {}
  clear(bufnr)
  cancel(bufnr)
  schedule_request(bufnr)
end

---@param bufnr integer
---@param client vim.lsp.Client
function M.attach(bufnr, client)
  if states[bufnr] then
    states[bufnr].client_id = client.id
    return
  end
  local group = vim.api.nvim_create_augroup('qwen.ghost.' .. bufnr, { clear = true })
  states[bufnr] = {
    items = {}, index = 1, client_id = client.id, tick = -1, pos = { row = -1, col = -1 },
    augroup = group,
  }
  vim.api.nvim_create_autocmd({ 'InsertEnter' }, {
    group = group, buffer = bufnr,
    callback = function()
      on_change(bufnr, true)
    end,
  })
  vim.api.nvim_create_autocmd({ 'TextChangedI', 'TextChangedP', 'CursorMovedI' }, {
    group = group, buffer = bufnr,
    callback = function()
      on_change(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave' }, {
    group = group, buffer = bufnr,
    callback = function()
      M.dismiss(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd({ 'BufUnload' }, {
    group = group, buffer = bufnr,
    callback = function()
      M.detach(bufnr)
    end,
  })
  if vim.api.nvim_get_mode().mode:match('^i') and vim.api.nvim_get_current_buf() == bufnr then
    on_change(bufnr, true)
  end
end

---@param bufnr integer
function M.detach(bufnr)
  local st = states[bufnr]
  if not st then
    return
  end
  M.dismiss(bufnr)
  pcall(vim.api.nvim_del_augroup_by_id, st.augroup)
  states[bufnr] = nil
end

---@param bufnr integer
---@return boolean
function M.attached(bufnr)
  return states[bufnr] ~= nil
end

---@param bufnr integer
---@return string? text the ghost text on screen
function M.ghost_text(bufnr)
  local st = states[bufnr]
  return st and st.shown or nil
end

---@param bufnr integer
---@return qwen.Suggestion?
function M.current(bufnr)
  local st = states[bufnr]
  return st and st.shown and st.items[st.index] or nil
end

---@param bufnr integer
---@return boolean
function M.accept(bufnr)
  local s = M.current(bufnr)
  if not s then
    return false
  end
  local st = states[bufnr]
  cancel(bufnr)
  clear(bufnr)
  st.items = {}
  shared.insert_all(s)
  shared.report_accept(s)
  return true
end

---@param bufnr integer
---@param kind "word"|"line"
---@return boolean
function M.accept_part(bufnr, kind)
  local s = M.current(bufnr)
  if not s then
    return false
  end
  local piece, full = shared.accept_part(s, kind)
  if full then
    states[bufnr].items = {}
    clear(bufnr)
  end
  return piece ~= nil
end

---@param bufnr integer
function M.dismiss(bufnr)
  local st = states[bufnr]
  if not st then
    return
  end
  cancel(bufnr)
  clear(bufnr)
  st.items = {}
end

---@param bufnr integer
---@param delta integer
function M.cycle(bufnr, delta)
  local st = states[bufnr]
  if not st then
    return
  end
  if #st.items <= 1 then
    M.request(bufnr, 1)
    return
  end
  st.index = (st.index - 1 + delta) % #st.items + 1
  render(bufnr)
end

---@param bufnr integer
function M.suggest(bufnr)
  if states[bufnr] then
    M.request(bufnr, 1)
  end
end

---@param bufnr integer
---@return boolean
function M.busy(bufnr)
  local st = states[bufnr]
  return st ~= nil and (st.request_id ~= nil or st.timer ~= nil or st.pending ~= nil)
end

return M
