-- :QwenChat against the real server: streaming, follow-ups, cancellation.
local h = require('helpers')

local T = {}

---@return qwen.test.Child
local function start()
  local dir = h.workspace({ ['main.py'] = 'def add(a, b):\n    return a + b\n', ['pyproject.toml'] = '' })
  local child = h.child(dir)
  child:setup()
  child:edit(dir .. '/main.py')
  child:spy()
  return child
end

--- Skip (not pass) when the server has no chat yet.
---@param child qwen.test.Child
local function need_chat(child)
  local code = child:wait([[
    local s = require('qwen.chat').session
    local t = s and s.turns[#s.turns]
    return t and t.done and (t.code or 0)
  ]], 'the chat turn to finish', 20000)
  if code == -32601 then
    h.skip('server does not implement qwen/chat yet (method not found)')
  end
  return code
end

---@param child qwen.test.Child
---@return string
local function chat_text(child)
  return child:lua([[return table.concat(vim.api.nvim_buf_get_lines(vim.fn.bufnr('qwen://chat'), 0, -1, false), '\n')]])
end

function T.chat_buffer_streams_the_answer()
  local answer = 'It adds two numbers and returns the sum.'
  h.script({ { text = answer, chunk_size = 4, chunk_delay = 0.02 } }, { text = answer })
  local child = start()
  child:cmd('1,2QwenChat What does this do?')
  local code = need_chat(child)
  h.eq(code, 0, 'chat finished without error')
  local turn = child:lua([[local s = require('qwen.chat').session return s.turns[#s.turns] ]])
  h.ok(turn.deltas > 1, 'the answer arrived in several deltas, got ' .. turn.deltas)
  h.eq(turn.answer, answer, 'final answer')
  local text = chat_text(child)
  h.ok(text:find('What does this do?', 1, true), 'question shown:\n' .. text)
  h.ok(text:find(answer, 1, true), 'answer shown:\n' .. text)
  local _, count = text:gsub(vim.pesc(answer), '')
  h.eq(count, 1, 'answer shown once')
  local _, starts = text:gsub('\nIt ', '')
  h.eq(starts, 1, 'no partial renders left behind')
  h.eq(child:lua([[return vim.bo[vim.fn.bufnr('qwen://chat')].filetype]]), 'markdown', 'chat filetype')
  local sent = child:sent('qwen/chat')
  h.eq(sent[1].message, 'What does this do?', 'message sent')
  h.ok(sent[1].context.uri:match('main%.py$'), 'context uri')
  h.eq(sent[1].context.range.start.line, 0, 'context range start')
  h.eq(sent[1].context.range['end'].line, 1, 'context range end')
end

function T.follow_up_keeps_the_session()
  h.script({ { text = 'First answer.' }, { text = 'Second answer.' } }, { text = 'Second answer.' })
  local child = start()
  child:cmd('QwenChat first question')
  need_chat(child)
  -- Type the follow-up in the chat buffer and send it with <CR> in normal mode.
  child:lua([[
    local buf = vim.fn.bufnr('qwen://chat')
    vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
    vim.api.nvim_buf_set_lines(buf, -1, -1, false, { 'second question' })
  ]])
  child:input('<Esc><CR>')
  child:wait([[local s = require('qwen.chat').session return #s.turns == 2 and s.turns[2].done]], 'second answer')
  local sent = child:sent('qwen/chat')
  h.eq(#sent, 2, 'two requests')
  h.eq(sent[2].message, 'second question', 'follow-up text')
  h.eq(sent[2].sessionId, sent[1].sessionId, 'same session')
  local text = chat_text(child)
  h.ok(text:find('First answer.', 1, true) and text:find('Second answer.', 1, true), text)
end

function T.code_block_from_the_answer_applies_to_the_file()
  local answer = 'Like this:\n\n```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```\n'
  h.script({ { text = answer } }, { text = answer })
  local child = start()
  child:cmd('1,2QwenChat add type hints')
  need_chat(child)
  child:lua([[
    vim.ui.select = function(items, opts, cb) vim.schedule(function() cb('Apply') end) end
    local buf = vim.fn.bufnr('qwen://chat')
    local win = vim.fn.bufwinid(buf)
    vim.api.nvim_set_current_win(win)
    for i, l in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
      if l:find('def add(a: int', 1, true) then vim.api.nvim_win_set_cursor(win, { i, 0 }) end
    end
    _G.applied = nil
    require('qwen.chat').apply_code_block(function(r) _G.applied = r end)
  ]])
  local r = child:wait('return _G.applied', 'qwen/applyCodeBlock answered', 20000)
  if r.code == -32601 then
    h.skip('server does not implement qwen/applyCodeBlock yet')
  end
  h.ok(r.applied, 'applied: ' .. vim.inspect(r))
  local src = child:lua([[return vim.api.nvim_buf_get_lines(require('qwen.chat').session.source_buf, 0, -1, false)]])
  h.eq(src[1], 'def add(a: int, b: int) -> int:', 'source rewritten')
  h.ok(child:lua('return require("qwen.actions").last_preview') ~= nil, 'previewed first')
end

function T.stop_cancels_the_stream()
  h.script({ { text = string.rep('word ', 200), chunk_size = 5, chunk_delay = 0.05 } })
  local child = start()
  child:cmd('QwenChat tell me a long story')
  child:wait([[local s = require('qwen.chat').session local t = s.turns[#s.turns]
    return t.deltas > 0 or t.done]], 'first delta', 20000)
  if child:lua([[local s = require('qwen.chat').session return s.turns[#s.turns].code]]) == -32601 then
    h.skip('server does not implement qwen/chat yet (method not found)')
  end
  child:cmd('QwenChatStop')
  h.wait(function() return h.recorded().disconnects >= 1 end, 'the model stream closed early', 8000)
  local turn = child:lua([[local s = require('qwen.chat').session return s.turns[#s.turns] ]])
  h.ok(turn.done, 'turn finished')
  h.ok(#turn.answer < #string.rep('word ', 200), 'answer cut short')
  h.ok(chat_text(child):find('Stopped.', 1, true), 'stop shown in the buffer')
  vim.wait(300)
  h.eq(child:lua([[return #require('qwen.chat').session.turns]]), 1, 'late deltas start no new answer')
end

return T
