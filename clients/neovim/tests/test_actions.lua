-- Code actions through :QwenRefactor / :QwenExplain, with the diff preview.
local h = require('helpers')

local T = {}

local SRC = 'def add(a, b):\n    return a+b\n'

---@return qwen.test.Child, string
local function start()
  local dir = h.workspace({ ['main.py'] = SRC, ['pyproject.toml'] = '' })
  local child = h.child(dir)
  child:setup()
  child:edit(dir .. '/main.py')
  child:spy()
  if not child:lua('return require("qwen.lsp").get_client(0).server_capabilities.codeActionProvider') then
    h.skip('server does not offer code actions yet')
  end
  -- Answer the preview's question automatically, remembering it.
  child:lua([[
    _G.asked = {}
    vim.ui.select = function(items, opts, cb)
      table.insert(_G.asked, opts.prompt)
      vim.schedule(function() cb(_G.choice or 'Apply') end)
    end
  ]])
  return child, dir
end

---@param child qwen.test.Child
---@param name string
---@param instruction? string
---@return string? error
local function run(child, name, line1, line2, instruction)
  child:lua([[
    _G.done = nil
    require('qwen.actions').run(..., { line1 = select(2, ...), line2 = select(3, ...), instruction = select(4, ...),
      on_done = function(err) _G.done = { err = err or false } end })
  ]], name, line1, line2, instruction)
  local done = child:wait('return _G.done', name .. ' action finished', 30000)
  if done.err and done.err:find('offers no') then
    h.skip('server has no ' .. name .. ' action: ' .. done.err)
  end
  return done.err or nil
end

function T.refactor_previews_then_applies_the_edit()
  local rewritten = 'def add(a: int, b: int) -> int:\n    return a + b\n'
  h.script({}, { text = rewritten })
  local child = start()
  local err = run(child, 'refactor', 1, 2, 'add type hints')
  h.eq(err, nil, 'refactor error')
  child:wait('return vim.api.nvim_buf_get_lines(0, 0, 1, false)[1] == "def add(a: int, b: int) -> int:"',
    'the edit applied to the buffer')
  h.eq(child:lines()[2], '    return a + b', 'second line rewritten')
  local preview = child:lua('return require("qwen.actions").last_preview')
  h.ok(preview and preview:find('+def add(a: int, b: int) -> int:', 1, true), 'diff preview shown: ' .. tostring(preview))
  h.ok(preview:find('-def add(a, b):', 1, true), 'preview has the old line')
  h.eq(#child:lua('return _G.asked'), 1, 'asked once before applying')
  -- The instruction reached the server.
  local bodies = vim.inspect(h.generations())
  h.ok(bodies:find('add type hints', 1, true), 'instruction sent to the model')
end

function T.code_action_menu_refactor_asks_for_the_instruction()
  h.script({}, { text = 'def add(a: int, b: int) -> int:\n    return a + b\n' })
  local child = start()
  child:lua([[
    vim.ui.input = function(opts, cb) _G.input_prompt = opts.prompt vim.schedule(function() cb('add type hints') end) end
    vim.lsp.buf.code_action({
      apply = true,
      range = { start = { 1, 0 }, ['end'] = { 2, 0 } },
      filter = function(a) return a.title:find('Refactor', 1, true) ~= nil end,
    })
  ]])
  child:wait('return vim.api.nvim_buf_get_lines(0, 0, 1, false)[1] == "def add(a: int, b: int) -> int:"',
    'the refactor applied through the code-action menu', 30000)
  h.eq(child:lua('return _G.input_prompt'), 'Refactor: ', 'the client asked for the instruction')
  h.ok(vim.inspect(h.generations()):find('add type hints', 1, true), 'instruction sent to the model')
end

function T.declined_refactor_changes_nothing()
  h.script({}, { text = 'def add(a: int, b: int) -> int:\n    return a + b\n' })
  local child = start()
  child:lua('_G.choice = "Discard"')
  run(child, 'refactor', 1, 2, 'add type hints')
  child:wait('return #_G.asked == 1', 'preview shown')
  vim.wait(300)
  h.eq(child:lines(), vim.split(SRC, '\n'), 'buffer unchanged')
end

function T.docstring_resolves_an_edit_and_applies_it()
  local documented = 'def add(a, b):\n    """Return the sum of a and b."""\n    return a+b\n'
  h.script({}, { text = documented })
  local child = start()
  child:cmd('call cursor(2, 5)')
  local err = run(child, 'docstring')
  h.eq(err, nil, 'docstring error')
  child:wait('return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == [[    """Return the sum of a and b."""]]',
    'docstring inserted')
  h.eq(child:lines()[3], '    return a+b', 'code kept')
  local preview = child:lua('return require("qwen.actions").last_preview')
  h.ok(preview:find('+    """Return the sum of a and b."""', 1, true), 'preview: ' .. preview)
end

function T.tests_action_writes_a_test_file()
  local test_code = 'from main import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n'
  h.script({}, { text = test_code })
  local child, dir = start()
  local err = run(child, 'tests', 1, 2)
  h.eq(err, nil, 'tests action error')
  local preview = child:wait('return require("qwen.actions").last_preview', 'preview of the new test file')
  h.ok(preview:find('def test_add', 1, true), 'preview shows the tests:\n' .. preview)
  -- The edit lands in a buffer for the new file (saved or not, that is the user's call).
  local found = child:wait([[
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      local name = vim.api.nvim_buf_get_name(b)
      if name:match('test') and name:match('%.py$') and vim.api.nvim_buf_is_loaded(b) then
        local text = table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\n')
        if text:find('def test_add', 1, true) then return name end
      end
    end
  ]], 'a buffer for the test file with the generated tests')
  h.ok(vim.startswith(found, dir), 'test file inside the project: ' .. found)
end

function T.explain_streams_into_the_chat_buffer()
  local answer = 'This function adds a and b.'
  h.script({}, { text = answer })
  local child = start()
  local err = run(child, 'explain', 1, 2)
  h.eq(err, nil, 'explain error')
  child:wait([[local b = vim.fn.bufnr('qwen://chat') return b ~= -1 and
    table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\n'):find(]] .. vim.inspect(answer) .. [[, 1, true)]],
    'the explanation in the chat buffer', 20000)
end

return T
