---@brief `:QwenChat`: a markdown buffer that sends `qwen/chat` requests and streams the
---`qwen/chatDelta` notifications into it. Follow-ups keep the session (the server keeps
---the history); `<C-c>` or `:QwenChatStop` cancels with `$/cancelRequest`.

local config = require('qwen.config')
local lsp = require('qwen.lsp')
local text = require('qwen.completion.text')

local M = {}

local BUF_NAME = 'qwen://chat'
local YOU, QWEN = '## You', '## Qwen'
local ns = vim.api.nvim_create_namespace('qwen.chat')

---@class qwen.ChatTurn
---@field session_id string
---@field request_id? integer|string
---@field client_id? integer
---@field answer string Streamed answer so far (the final text once done).
---@field reasoning string Streamed reasoning, shown quoted above the answer.
---@field mark integer Extmark where this turn's answer starts.
---@field done boolean
---@field error? string
---@field deltas integer Number of deltas received.
---@field code? integer Error code when the request failed.

---@class qwen.ChatSession
---@field id string
---@field source_buf? integer The buffer the chat is about.
---@field context table Context sent with each message.
---@field turns qwen.ChatTurn[]
---@field pending_range? lsp.Range Selection for the next message typed in the buffer.

---@type qwen.ChatSession?
M.session = nil
---@type table<string, qwen.ChatSession>
M.sessions = {}

local counter = 0

---@return integer
local function chat_buf()
  local buf = vim.fn.bufnr(BUF_NAME)
  if buf ~= -1 and vim.api.nvim_buf_is_valid(buf) then
    return buf
  end
  buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(buf, BUF_NAME)
  vim.bo[buf].buftype = 'nofile'
  vim.bo[buf].bufhidden = 'hide'
  vim.bo[buf].swapfile = false
  vim.bo[buf].filetype = 'markdown'
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, {
    '# Qwen chat', '',
    '<!-- Write below "## You"; <CR> (normal) or <C-s> sends, <C-c> stops, ga applies a code block. -->',
    '', YOU, '' })
  local function map(modes, lhs, fn, desc)
    vim.keymap.set(modes, lhs, fn, { buffer = buf, desc = 'qwen: ' .. desc })
  end
  map('n', '<CR>', function() M.send_from_buffer() end, 'send chat message')
  map({ 'n', 'i' }, '<C-s>', function()
    vim.cmd('stopinsert')
    M.send_from_buffer()
  end, 'send chat message')
  map({ 'n', 'i' }, '<C-c>', function() M.stop() end, 'stop chat answer')
  map('n', 'q', function() pcall(vim.cmd, 'close') end, 'close chat')
  map('n', 'ga', function() M.apply_code_block() end, 'apply the code block to the file')
  return buf
end

---@param n number
---@param total integer
---@return integer
--- Return the chat buffer's lines and the line number of its last "## You" header (or nil).
local function last_you(buf)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  for i = #lines, 1, -1 do
    if lines[i] == YOU then
      return lines, i
    end
  end
  return lines, nil
end

--- Write a message under the last "## You" header (replacing a half-typed draft there).
local function put_message(buf, msg)
  local _, you = last_you(buf)
  if you then
    vim.api.nvim_buf_set_lines(buf, you, -1, false, msg)
  else
    vim.api.nvim_buf_set_lines(buf, -1, -1, false, vim.list_extend({ '', YOU }, msg))
  end
end

local function size(n, total)
  return math.max(10, n < 1 and math.floor(total * n) or math.floor(n))
end

--- Show the chat buffer (opening a window per `chat.layout` if needed) and focus it.
---@return integer buf
---@return integer win
function M.open()
  local buf = chat_buf()
  local win = vim.fn.bufwinid(buf)
  if win ~= -1 then
    vim.api.nvim_set_current_win(win)
    return buf, win
  end
  local c = config.current.chat
  if c.layout == 'float' then
    local w, h = size(c.width, vim.o.columns), size(c.height, vim.o.lines)
    win = vim.api.nvim_open_win(buf, true, {
      relative = 'editor', border = 'rounded', title = ' Qwen chat ', width = w, height = h,
      row = math.floor((vim.o.lines - h) / 2), col = math.floor((vim.o.columns - w) / 2),
    })
  elseif c.layout == 'tab' then
    vim.cmd('tabnew')
    win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(win, buf)
  else
    local vertical = c.layout == 'vsplit'
    local n = vertical and size(c.width, vim.o.columns) or size(c.height, vim.o.lines)
    vim.cmd(('botright %d%s'):format(n, vertical and 'vsplit' or 'split'))
    win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(win, buf)
  end
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  return buf, win
end

---@param buf integer
local function scroll_to_end(buf)
  local win = vim.fn.bufwinid(buf)
  if win ~= -1 then
    pcall(vim.api.nvim_win_set_cursor, win, { vim.api.nvim_buf_line_count(buf), 0 })
  end
end

--- Redraw one turn's answer: from its mark to the end of the buffer.
---@param turn qwen.ChatTurn
local function render(turn)
  local buf = chat_buf()
  local pos = vim.api.nvim_buf_get_extmark_by_id(buf, ns, turn.mark, {})
  if not pos[1] then
    return
  end
  local lines = {}
  if turn.reasoning ~= '' then
    for _, l in ipairs(vim.split(turn.reasoning, '\n', { plain = true })) do
      lines[#lines + 1] = '> ' .. l
    end
    lines[#lines + 1] = ''
  end
  vim.list_extend(lines, vim.split(turn.answer, '\n', { plain = true }))
  if turn.error then
    lines[#lines + 1] = ''
    lines[#lines + 1] = '_' .. turn.error .. '_'
  end
  if turn.done then
    vim.list_extend(lines, { '', YOU, '' })
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, pos[1], -1, false, lines)
  vim.bo[buf].modifiable = turn.done
  scroll_to_end(buf)
end

local pending_render = {} ---@type table<qwen.ChatTurn, boolean>

--- Batch redraws: many deltas can arrive between two event-loop turns.
---@param turn qwen.ChatTurn
local function schedule_render(turn)
  if pending_render[turn] then
    return
  end
  pending_render[turn] = true
  vim.schedule(function()
    pending_render[turn] = nil
    render(turn)
  end)
end

---@param session qwen.ChatSession
---@return qwen.ChatTurn?
local function active_turn(session)
  local t = session.turns[#session.turns]
  return t and not t.done and t or nil
end

--- Start a turn at the end of the chat buffer (the user's text is already there).
---@param session qwen.ChatSession
---@return qwen.ChatTurn
local function new_turn(session)
  local buf = chat_buf()
  local last = vim.api.nvim_buf_get_lines(buf, -2, -1, false)[1]
  local tail = last == '' and { QWEN, '' } or { '', QWEN, '' }
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, -1, -1, false, tail)
  local row = vim.api.nvim_buf_line_count(buf) - 1
  local turn = {
    session_id = session.id, answer = '', reasoning = '', done = false, deltas = 0,
    -- Left gravity: redrawing replaces the lines from here on, the mark must stay put.
    mark = vim.api.nvim_buf_set_extmark(buf, ns, row, 0, { right_gravity = false }),
  }
  table.insert(session.turns, turn)
  vim.bo[buf].modifiable = false
  return turn
end

---@param session_id string
---@return qwen.ChatSession
local function get_session(session_id)
  local s = M.sessions[session_id]
  if not s then
    s = { id = session_id, context = {}, turns = {} }
    M.sessions[session_id] = s
  end
  return s
end

lsp.handlers['qwen/chatDelta'] = function(_, params)
  if type(params) ~= 'table' or type(params.sessionId) ~= 'string' then
    return vim.NIL
  end
  local session = get_session(params.sessionId)
  local turn = active_turn(session)
  local rid = params.requestId ~= nil and tostring(params.requestId) or nil
  if rid then
    for _, t in ipairs(session.turns) do
      if t.request_id ~= nil and tostring(t.request_id) == rid then
        if t.done then
          return vim.NIL -- a late delta of a stopped or finished answer
        end
        turn = t
      end
    end
  end
  if not turn then
    -- The server started this answer (an Explain action, say): give it a turn.
    M.open()
    M.session = session
    turn = new_turn(session)
  end
  local delta = type(params.delta) == 'string' and params.delta or ''
  if params.kind == 'reasoning' then
    turn.reasoning = turn.reasoning .. delta
  else
    turn.answer = turn.answer .. delta
  end
  turn.deltas = turn.deltas + 1
  schedule_render(turn)
  return vim.NIL
end

--- The LSP range of lines [line1, line2] (1-based, inclusive) of a buffer.
---@param buf integer
---@param line1 integer
---@param line2 integer
---@return lsp.Range
function M.line_range(buf, line1, line2)
  local last = vim.api.nvim_buf_get_lines(buf, line2 - 1, line2, false)[1] or ''
  return { start = { line = line1 - 1, character = 0 }, ['end'] = { line = line2 - 1, character = text.utf16_len(last) } }
end

--- Record the end of a turn (its final answer, or why it has none) and draw it.
---@param turn qwen.ChatTurn
---@param err? lsp.ResponseError
---@param result? {text?: string}
local function settle(turn, err, result)
  if turn.done then
    return
  end
  if err then
    if err.code == -32601 then
      turn.error = 'The server does not support chat yet (qwen/chat: method not found).'
    elseif err.code == -32800 then
      turn.error = 'Stopped.'
    else
      turn.error = 'Error: ' .. (err.message or vim.inspect(err))
    end
    turn.code = err.code
  elseif type(result) == 'table' and type(result.text) == 'string' then
    -- The final text is authoritative; deltas may have been dropped or trimmed.
    turn.answer = result.text
  end
  turn.done = true
  pending_render[turn] = nil
  render(turn)
end

---@class qwen.ChatSendOpts
---@field buf? integer Source buffer (default: the chat's, else the current one).
---@field range? lsp.Range Selection to talk about.
---@field new? boolean Start a new session.

--- Send a message in the current session (creating one as needed) and stream the answer.
---@param message string
---@param opts? qwen.ChatSendOpts
---@return qwen.ChatTurn?
function M.send(message, opts)
  opts = opts or {}
  local src = opts.buf
  if not src then
    local cur = vim.api.nvim_get_current_buf()
    src = (cur ~= vim.fn.bufnr(BUF_NAME)) and cur or (M.session and M.session.source_buf)
  end
  local client = lsp.get_client(src) or lsp.get_client()
  if not client then
    vim.notify('qwen: the server is not running; open a file it serves (see :checkhealth qwen)', vim.log.levels.WARN)
    return nil
  end
  if not M.session or opts.new then
    counter = counter + 1
    local id = ('nvim-%d-%d-%d'):format(vim.fn.getpid(), os.time(), counter)
    M.session = get_session(id)
  end
  local session = M.session
  if active_turn(session) then
    vim.notify('qwen: an answer is still streaming; :QwenChatStop first', vim.log.levels.WARN)
    return nil
  end
  session.source_buf = src or session.source_buf
  local context = { includeRepoContext = config.current.chat.include_repo_context }
  if session.source_buf and vim.api.nvim_buf_is_valid(session.source_buf) and vim.api.nvim_buf_get_name(session.source_buf) ~= '' then
    context.uri = vim.uri_from_bufnr(session.source_buf)
  end
  context.range = opts.range
  session.context = context

  local buf = M.open()
  if not opts._typed then
    vim.bo[buf].modifiable = true
    put_message(buf, vim.split(message, '\n', { plain = true }))
  end
  local turn = new_turn(session)
  turn.client_id = client.id
  local ok, rid = lsp.request(client, 'qwen/chat', {
    sessionId = session.id, message = message, context = context,
  }, function(err, result)
    settle(turn, err, result)
  end, session.source_buf)
  if not ok then
    turn.done = true
    turn.error = 'Error: could not send the request.'
    render(turn)
    return turn
  end
  turn.request_id = rid
  return turn
end

--- Start a turn for an answer the server streams on behalf of a command (Explain): the
--- label goes under "## You", the deltas of the current session fill the answer.
---@param label string
---@param src integer source buffer
---@param client vim.lsp.Client
---@return qwen.ChatTurn
function M.begin_external(label, src, client)
  if not M.session then
    counter = counter + 1
    M.session = get_session(('nvim-%d-%d-%d'):format(vim.fn.getpid(), os.time(), counter))
  end
  local session = M.session
  session.source_buf = src
  local buf = M.open()
  local name = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(src), ':.')
  vim.bo[buf].modifiable = true
  put_message(buf, { ('_%s (%s)_'):format(label, name) })
  local turn = new_turn(session)
  turn.client_id = client.id
  return turn
end

--- Finish a turn begun with begin_external, from the command's response.
---@param turn qwen.ChatTurn
---@param err? lsp.ResponseError
---@param result? {text?: string}
function M.finish_external(turn, err, result)
  settle(turn, err, result)
end

--- The fenced code block around a chat-buffer row, or the last one above it.
---@param lines string[]
---@param row integer 1-based
---@return string?
function M.code_block_at(lines, row)
  local blocks, open = {}, nil
  for i, l in ipairs(lines) do
    if l:match('^%s*```') then
      if open then
        table.insert(blocks, { open, i })
        open = nil
      else
        open = i
      end
    end
  end
  local pick
  for _, b in ipairs(blocks) do
    if b[1] <= row then
      pick = b
    end
  end
  if not pick or pick[2] - pick[1] < 2 then
    return nil
  end
  return table.concat(vim.list_slice(lines, pick[1] + 1, pick[2] - 1), '\n') .. '\n'
end

--- `:QwenApply` (`ga` in the chat buffer): apply the code block at the cursor to the file the
--- chat is about, through the server (`qwen/applyCodeBlock`), with the diff preview.
---@param on_done? fun(result: table)
function M.apply_code_block(on_done)
  on_done = on_done or function(r)
    if not r.applied then
      vim.notify('qwen: not applied: ' .. (r.reason or 'declined'), vim.log.levels.WARN)
    end
  end
  local buf = chat_buf()
  local win = vim.fn.bufwinid(buf)
  local row = win ~= -1 and vim.api.nvim_win_get_cursor(win)[1] or vim.api.nvim_buf_line_count(buf)
  local code = M.code_block_at(vim.api.nvim_buf_get_lines(buf, 0, -1, false), row)
  local session = M.session
  local src = session and session.source_buf
  if not code then
    on_done({ applied = false, reason = 'no code block at the cursor' })
    return
  end
  if not src or not vim.api.nvim_buf_is_valid(src) then
    on_done({ applied = false, reason = 'this chat is not about a file' })
    return
  end
  local client = lsp.get_client(src)
  if not client then
    on_done({ applied = false, reason = 'the server is not attached to ' .. vim.api.nvim_buf_get_name(src) })
    return
  end
  lsp.request(client, 'qwen/applyCodeBlock', {
    uri = vim.uri_from_bufnr(src), range = session.context and session.context.range, code = code,
  }, function(err, result)
    if err then
      on_done({ applied = false, reason = err.message, code = err.code })
    else
      on_done(type(result) == 'table' and result or { applied = false })
    end
  end, src)
end

--- Send what the user wrote under the last "## You" header.
function M.send_from_buffer()
  local buf = chat_buf()
  local lines, you = last_you(buf)
  if not you then
    return
  end
  local message = vim.trim(table.concat(lines, '\n', you + 1))
  if message == '' then
    vim.notify('qwen: write a message under "' .. YOU .. '" first', vim.log.levels.INFO)
    return
  end
  local range = M.session and M.session.pending_range
  if M.session then
    M.session.pending_range = nil
  end
  M.send(message, { _typed = true, range = range })
end

--- Stop the answer being streamed.
function M.stop()
  local session = M.session
  local turn = session and active_turn(session)
  if not turn then
    return
  end
  local client = turn.client_id and vim.lsp.get_client_by_id(turn.client_id)
  if client and turn.request_id then
    lsp.cancel(client, turn.request_id)
  end
  turn.done = true
  turn.error = 'Stopped.'
  render(turn)
end

--- `:QwenChat [message]`, with a range for the selection.
---@param args {args: string, range: integer, line1: integer, line2: integer, bang?: boolean}
function M.command(args)
  if args.bang then
    M.session = nil
  end
  local src = vim.api.nvim_get_current_buf()
  local range = nil
  if args.range > 0 and src ~= vim.fn.bufnr(BUF_NAME) then
    range = M.line_range(src, args.line1, args.line2)
  end
  if args.args == '' then
    if range then
      M.session = nil -- a new selection starts a new conversation
    end
    if not M.session then
      counter = counter + 1
      M.session = get_session(('nvim-%d-%d-%d'):format(vim.fn.getpid(), os.time(), counter))
    end
    M.session.source_buf = src ~= vim.fn.bufnr(BUF_NAME) and src or M.session.source_buf
    M.session.pending_range = range
    local buf = M.open()
    vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(buf), 0 })
    vim.cmd('startinsert!')
    return
  end
  M.send(args.args, { buf = src ~= vim.fn.bufnr(BUF_NAME) and src or nil, range = range })
end

return M
