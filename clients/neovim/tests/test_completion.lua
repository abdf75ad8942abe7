-- Ghost text against the real server and the fake endpoint, on the engine under test.
local h = require('helpers')

local T = {}

local SRC = 'def add(a, b):\n    \n'

--- A child editing main.py with the cursor in insert mode at the end of line 2.
---@param reply? table first scripted reply of the endpoint
---@param extra? table setup options
---@return qwen.test.Child
local function start(reply, extra)
  if reply then
    h.reset_endpoint(reply)
  end
  local dir = h.workspace({ ['main.py'] = SRC, ['pyproject.toml'] = '[project]\nname = "demo"\n' })
  local child = h.child(dir)
  child:setup(extra)
  child:edit(dir .. '/main.py')
  child:spy()
  return child
end

---@param child qwen.test.Child
---@return string
local function ghost(child)
  return child:wait('return require("qwen.completion").ghost_text()', 'ghost text to appear')
end

---@param child qwen.test.Child
local function insert_at_line2(child)
  child:cmd('call cursor(2, 5)')
  child:input('A')
  h.wait(function() return child:mode() == 'i' end, 'insert mode')
end

function T.engine_is_the_one_under_test()
  local child = start()
  h.eq(child:lua('return require("qwen.completion").engine_name()'), h.engine, 'engine')
end

function T.ghost_text_appears()
  local child = start({ text = 'return a + b' })
  insert_at_line2(child)
  local text = ghost(child)
  h.ok(text:find('return a + b', 1, true), 'ghost text shows the model text, got ' .. vim.inspect(text))
  -- Nothing is inserted until accepted.
  h.eq(child:lines()[2], '    ', 'line 2 before accepting')
  if h.engine == 'extmark' then
    local marks = child:lua([[return #vim.api.nvim_buf_get_extmarks(0, require('qwen.completion.extmark').ns, 0, -1, {})]])
    h.eq(marks, 1, 'extmarks drawn by the fallback')
  end
end

function T.accept_inserts_and_reports()
  local child = start({ text = 'return a + b' })
  insert_at_line2(child)
  ghost(child)
  child:input('<Tab>')
  child:wait('return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == "    return a + b"', 'accepted text in line 2')
  local cmds = h.wait(function()
    local sent = child:sent('workspace/executeCommand')
    return #sent > 0 and sent or nil
  end, 'workspace/executeCommand qwen.didAccept')
  h.eq(cmds[1].command, 'qwen.didAccept', 'acceptance command')
  h.ok(type(cmds[1].arguments[1].id) == 'string', 'acceptance carries the completion id')
  h.eq(child:lua('return vim.api.nvim_win_get_cursor(0)'), { 2, 16 }, 'cursor after the accepted text')
end

function T.tab_without_suggestion_types_a_tab()
  local child = start({ text = '' })
  child:cmd('call cursor(1, 1)')
  child:input('O')
  child:input('<Tab>x')
  -- The python ftplugin expands tabs: either form proves the key was typed, not eaten.
  child:wait('local l = vim.api.nvim_buf_get_lines(0, 0, 1, false)[1] return l == "\\tx" or l == "    x"',
    'the <Tab> key typed as usual')
end

function T.accept_word_inserts_one_word_and_reports()
  local child = start({ text = 'return a + b' })
  -- Should the server ask the model again after the partial acceptance, it gets the rest.
  h.script({ { text = 'return a + b' } }, { text = ' a + b' })
  insert_at_line2(child)
  ghost(child)
  child:input('<M-Right>')
  child:wait('return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == "    return"', 'one word accepted')
  local partial = h.wait(function()
    local sent = child:sent('qwen/didPartiallyAccept')
    return #sent > 0 and sent or nil
  end, 'qwen/didPartiallyAccept sent')
  h.eq(partial[1].kind, 'word', 'kind')
  h.eq(partial[1].acceptedLength, 6, 'acceptedLength ("return")')
  h.ok(type(partial[1].id) == 'string', 'partial acceptance carries the completion id')
  -- Second word.
  child:wait('local t = require("qwen.completion").ghost_text() return t and t:find("a + b", 1, true)',
    'rest of the suggestion still shown')
  child:input('<M-Right>')
  child:wait('return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == "    return a"', 'second word accepted')
end

function T.accept_line_takes_the_current_line_only()
  local child = start({ text = 'total = a + b\n    return total' })
  h.script({ { text = 'total = a + b\n    return total' }, { text = '\n    return total' } },
    { text = '\n    return total' })
  insert_at_line2(child)
  local text = ghost(child)
  h.ok(text:find('return total', 1, true), 'two-line ghost text, got ' .. vim.inspect(text))
  child:input('<M-C-Right>')
  child:wait('return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == "    total = a + b"', 'first line accepted')
  h.eq(child:lines()[3], '', 'nothing accepted past the line')
  local partial = h.wait(function()
    local sent = child:sent('qwen/didPartiallyAccept')
    return #sent > 0 and sent or nil
  end, 'qwen/didPartiallyAccept sent')
  h.eq(partial[1].kind, 'line', 'kind')
  h.eq(partial[1].acceptedLength, #'total = a + b', 'acceptedLength')
  -- The rest stays offered: the extmark engine keeps it locally; the built-in cannot, it asks
  -- the server again, which must answer with the rest of the suggestion it showed.
  local ok = pcall(child.wait, child,
    'local t = require("qwen.completion").ghost_text() return t and t:find("return total", 1, true)',
    'rest of the suggestion still shown')
  if not ok and h.engine == 'builtin' then
    h.xfail('server: after accepting "total = a + b" of "total = a + b\\n    return total", '
      .. 'textDocument/inlineCompletion at the end of that line returns null (typed-through cache '
      .. 'hit cut to one line by the multi-line heuristic), so the built-in shows nothing more')
  end
  h.ok(ok, 'rest of the suggestion still shown')
  child:input('<Tab>')
  child:wait('return vim.api.nvim_buf_get_lines(0, 2, 3, false)[1] == "    return total"', 'rest accepted')
end

function T.dismiss_hides_without_inserting()
  local child = start({ text = 'return a + b' })
  insert_at_line2(child)
  ghost(child)
  child:input('<C-]>')
  child:wait('return not require("qwen.completion").visible()', 'ghost text hidden')
  h.eq(child:lines()[2], '    ', 'buffer unchanged')
  h.eq(child:mode(), 'i', 'still in insert mode')
end

function T.typing_through_keeps_the_suggestion()
  local child = start({ text = 'return a + b' })
  insert_at_line2(child)
  ghost(child)
  child:input('ret')
  child:wait('local t = require("qwen.completion").ghost_text() return t == "urn a + b"',
    'ghost text shrinks as the user types it')
end

function T.keystroke_cancels_the_request_in_flight()
  local child = start({ text = 'return a + b', delay = 4 })
  h.script({}, { text = 'return a + b', delay = 4 })
  insert_at_line2(child)
  h.wait(function() return #h.generations() >= 1 end, 'the endpoint got a generation request')
  child:input('x')
  h.wait(function() return h.recorded().disconnects >= 1 end,
    'the endpoint stream closed early (request cancelled)', 8000)
  h.eq(child:lua('return require("qwen.completion").visible()'), false, 'no stale ghost text')
end

function T.client_adds_no_wait_before_asking()
  if h.engine ~= 'extmark' then
    h.skip("Neovim's built-in engine waits 200 ms itself; only the extmark engine's wait is ours")
  end
  h.reset_endpoint({ text = 'return a + b' })
  local dir = h.workspace({ ['main.py'] = SRC, ['pyproject.toml'] = '' })
  local child = h.child(dir)
  -- Record every timer the plugin starts while asking: the server debounces, the client must not.
  child:lua([[
    _G.waits = {}
    local defer = vim.defer_fn
    vim.defer_fn = function(fn, ms)
      local src = debug.getinfo(2, 'S').source
      if src:find('qwen', 1, true) then table.insert(_G.waits, { src = src, ms = ms }) end
      return defer(fn, ms)
    end
    require('qwen').setup(...)
  ]], h.default_opts())
  child:edit(dir .. '/main.py')
  child:spy()
  insert_at_line2(child)
  ghost(child)
  h.ok(#child:sent('textDocument/inlineCompletion') >= 1, 'asked the server')
  h.eq(child:lua('return _G.waits'), {}, 'timers the client waited on before asking')
end

function T.no_ghost_text_when_toggled_off()
  local child = start({ text = 'return a + b' })
  child:cmd('QwenToggle off')
  insert_at_line2(child)
  vim.wait(600)
  h.eq(child:lua('return require("qwen.completion").visible()'), false, 'no ghost text while off')
  h.eq(#h.generations(), 0, 'no model requests while off')
  child:cmd('stopinsert')
  child:cmd('QwenToggle on')
  insert_at_line2(child)
  ghost(child)
end

function T.manual_trigger_when_auto_trigger_is_off()
  local child = start({ text = 'return a + b' }, { completion = { auto_trigger = false } })
  h.eq(child:lua('return require("qwen.completion").engine_name()'), 'extmark',
    'manual mode uses the extmark engine (the built-in always asks while typing)')
  insert_at_line2(child)
  vim.wait(600)
  h.eq(#h.generations(), 0, 'no model request while typing')
  child:input('<M-\\>')
  local text = ghost(child)
  h.ok(text:find('return a + b', 1, true), 'ghost text after asking: ' .. vim.inspect(text))
end

function T.filetype_switch_disables_ghost_text()
  local child = start({ text = 'return a + b' }, { completion = { filetypes = { python = false } } })
  insert_at_line2(child)
  vim.wait(600)
  h.eq(child:lua('return require("qwen.completion").visible()'), false, 'no ghost text for python')
end

return T
