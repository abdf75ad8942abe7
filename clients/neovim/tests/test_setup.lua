-- setup(): validation, idempotence, keymaps, server start; and the pure text helpers.
local h = require('helpers')

local T = {}

local function ws()
  return h.workspace({ ['main.py'] = 'x = 1\n', ['.git/HEAD'] = 'ref: refs/heads/main\n' })
end

--- Record what the child shows through vim.notify (which also carries the server's
--- window/showMessage) from now on, as { msg, level } pairs in _G.notes.
---@param child qwen.test.Child
local function capture_notes(child)
  child:lua([[
    _G.notes = {}
    vim.notify = function(msg, level) table.insert(_G.notes, { msg = msg, level = level or vim.log.levels.INFO }) end
  ]])
end

function T.bad_option_gives_one_clear_message_and_keeps_the_default()
  local child = h.child(ws())
  capture_notes(child)
  -- Not inside pcall: setup() must not raise (that showed users a Lua stack trace).
  child:lua([[require('qwen').setup({ completion = { auto_trigger = 'yes', debounce_ms = 'fast', engine = 'magic' },
    chat = 'wide', next_edit = { format = 'xml', keymaps = { accept = 3 } } })]])
  local notes = child:lua('return _G.notes')
  h.eq(#notes, 1, 'one message for all bad options: ' .. vim.inspect(notes))
  local msg = notes[1].msg
  h.eq(notes[1].level, vim.log.levels.ERROR, 'shown as an error')
  for _, want in ipairs({ 'completion.auto_trigger: expected true or false, got "yes"; using the default (true)',
    'completion.debounce_ms: expected a number >= 0', 'completion.engine: expected one of "auto", "builtin", "extmark"',
    'chat: expected a table', 'next_edit.format: expected one of "sweep", "zeta", "instinct", "chat" (or nil), got "xml"',
    'next_edit.keymaps.accept: expected a key such as "<Tab>", or false, got 3; using the default ("<Tab>")' }) do
    h.ok(msg:find(want, 1, true), ('message says %q:\n%s'):format(want, msg))
  end
  h.ok(not msg:find('traceback', 1, true) and not msg:find('config.lua', 1, true), 'no Lua internals:\n' .. msg)
  h.eq(child:lua([[return require('qwen.config').current.completion.auto_trigger]]), true, 'default kept')
  h.eq(child:lua([[return require('qwen.config').current.completion.engine]]), 'auto', 'default kept')
  h.eq(child:lua([[return require('qwen.config').current.chat.layout]]), 'vsplit', 'defaults of a bad section kept')
  h.ok(child:lua([[return require('qwen').did_setup]]), 'setup went on with the defaults')
end

function T.default_setup_starts_without_warnings()
  local dir = ws()
  local child = h.child(dir)
  capture_notes(child)
  child:lua([[
    _G.statuses = {}
    require('qwen.status').on_change(function(s) table.insert(_G.statuses, s.message or '') end)
    require('qwen').setup(...)
  ]], h.default_opts())
  child:edit(dir .. '/main.py')
  -- The server reports its settings problems while starting; indexing the workspace comes
  -- after, and a request answered after that has every earlier message behind it.
  child:wait('return vim.tbl_contains(_G.statuses, "index ready")', 'the server indexed the workspace', 20000)
  child:lua([[
    local done = false
    require('qwen.lsp').request(require('qwen.lsp').get_client(), 'qwen/stats', {}, function() done = true end)
    vim.wait(5000, function() return done end)
  ]])
  local notes = child:lua('return _G.notes')
  local bad = vim.tbl_filter(function(n) return n.level >= vim.log.levels.WARN end, notes)
  h.eq(bad, {}, 'warnings or errors shown at start-up')
  local messages = child:lua([[return vim.api.nvim_exec2('messages', { output = true }).output]])
  h.ok(not messages:find('qwen', 1, true) and not messages:find('E%d+:'), 'nothing in :messages:\n' .. messages)
end

function T.missing_server_is_said_once()
  local dir = h.workspace({ ['main.py'] = 'x = 1\n', ['util.py'] = 'y = 2\n', ['.git/HEAD'] = 'ref: x\n' })
  local child = h.child(dir)
  capture_notes(child)
  child:lua([[require('qwen').setup({ cmd = { 'qwen-lsp-not-installed-here' } })]])
  h.eq(child:lua('return _G.notes'), {}, 'nothing said before a buffer it would serve opens')
  child:cmd('edit ' .. dir .. '/main.py')
  local notes = child:wait('return #_G.notes > 0 and _G.notes', 'a message about the missing server')
  h.eq(#notes, 1, 'one message')
  h.ok(notes[1].msg:find('qwen-lsp-not-installed-here', 1, true) and notes[1].msg:find('PATH', 1, true),
    'names the command and PATH: ' .. notes[1].msg)
  child:cmd('edit ' .. dir .. '/util.py')
  vim.wait(200)
  h.eq(#child:lua('return _G.notes'), 1, 'said once, not per buffer')
end

function T.unknown_option_warns_once()
  local child = h.child(ws())
  capture_notes(child)
  child:lua([[
    require('qwen').setup({ completion = { debouce_ms = 5 } })
    require('qwen').setup({ completion = { debouce_ms = 5 } })
  ]])
  local notes = child:lua('return _G.notes')
  h.eq(#notes, 1, 'one warning')
  h.ok(notes[1].msg:find('completion.debouce_ms', 1, true), notes[1].msg)
end

function T.setup_twice_keeps_one_server_and_applies_settings()
  local dir = ws()
  local child = h.child(dir)
  child:setup()
  child:edit(dir .. '/main.py')
  child:setup({ settings = { completion = { maxLines = 3 } } })
  child:setup({ settings = { completion = { maxLines = 3 } } })
  vim.wait(300)
  h.eq(child:lua('return #vim.lsp.get_clients({ name = "qwen" })'), 1, 'one client')
  h.eq(child:lua('return vim.lsp.get_clients({ name = "qwen" })[1].settings.qwen.completion.maxLines'), 3,
    'new settings on the running client')
  h.eq(child:lua('return vim.lsp.get_clients({ name = "qwen" })[1].root_dir'), dir, 'root found by .git')
  local maps = child:lua([[
    local n = 0
    for _, m in ipairs(vim.api.nvim_get_keymap('i')) do
      if m.desc and m.desc:match('^qwen: ') then n = n + 1 end
    end
    return n
  ]])
  h.eq(maps, 7, 'each key mapped once')
end

function T.new_cmd_restarts_the_server()
  local dir = ws()
  local child = h.child(dir)
  child:setup()
  child:edit(dir .. '/main.py')
  local first = child:lua('return require("qwen.lsp").get_client(0).id')
  child:setup({ cmd = { h.python, '-m', 'lsp_server' } })
  child:wait(([[local c = require('qwen.lsp').get_client(0)
    return c and c.id ~= %d and c.initialized and c.config.cmd[1] == %q]]):format(first, h.python),
    'a new server started with the new command', 20000)
  h.eq(child:lua('return #vim.lsp.get_clients({ name = "qwen" })'), 1, 'one client')
end

function T.server_never_imports_from_the_project()
  -- Neovim runs the server in its own cwd, the project: a file there named like one of the
  -- server's modules must not be imported (and run) by `python -m lsp_server`.
  local dir = h.workspace({
    ['main.py'] = 'x = 1\n',
    ['.git/HEAD'] = 'ref: refs/heads/main\n',
    ['pygls.py'] = "open('IMPORTED', 'w').close()\nraise SystemExit(9)\n",
  })
  local child = h.child(dir)
  child:setup({ cmd = { h.python, '-m', 'lsp_server' } })
  child:edit(dir .. '/main.py')
  child:wait([[local c = require('qwen.lsp').get_client(0)
    return c ~= nil and c.initialized]], 'the server started', 20000)
  h.eq(vim.fn.filereadable(dir .. '/IMPORTED'), 0, 'pygls.py from the project was not imported')
end

function T.user_keymap_is_not_clobbered()
  local child = h.child(ws())
  child:lua([[vim.keymap.set('i', '<Tab>', '<C-n>', { desc = 'mine' })]])
  child:setup()
  h.eq(child:lua([[return vim.fn.maparg('<Tab>', 'i', false, true).desc]]), 'mine', 'user <Tab> kept')
  h.eq(child:lua([[return require('qwen.completion').skipped_keys['<Tab>'] ]]), 'accept', 'skip recorded')
  h.eq(child:lua([[return vim.fn.maparg('<M-Right>', 'i', false, true).desc]]), 'qwen: accept next word of suggestion',
    'other keys mapped')
end

function T.keymap_false_maps_nothing()
  local child = h.child(ws())
  child:setup({ completion = { keymaps = { accept = false } } })
  local desc = child:lua([[return vim.fn.maparg('<Tab>', 'i', false, true).desc or '']])
  h.ok(not desc:match('^qwen'), 'no qwen <Tab> mapping, got ' .. desc)
end

function T.tab_keeps_neovim_default_behaviour()
  local child = h.child(ws())
  child:setup()
  child:setup()
  h.ok(child:lua([[return vim.fn.maparg('<Tab>', 'i', false, true).desc]]):match('^qwen'), 'qwen maps <Tab>')
  child:lua([[require('qwen').setup({ completion = { keymaps = { accept = false } } })]])
  h.ok(child:lua([[return vim.fn.maparg('<Tab>', 'i', false, true).desc]]):match('snippet'), 'default <Tab> restored')
end

function T.commands_exist()
  local child = h.child(ws())
  local cmds = child:lua([[return vim.tbl_keys(vim.api.nvim_get_commands({}))]])
  for _, c in ipairs({ 'QwenChat', 'QwenApply', 'QwenChatStop', 'QwenExplain', 'QwenRefactor', 'QwenDocstring', 'QwenTests', 'QwenStatus', 'QwenToggle', 'QwenNextEdit' }) do
    h.ok(vim.tbl_contains(cmds, c), c .. ' defined')
  end
end

-- Pure helpers, run in the test process itself.
package.path = h.root .. '/lua/?.lua;' .. h.root .. '/lua/?/init.lua;' .. package.path

function T.text_next_word_and_line()
  local text = require('qwen.completion.text')
  h.eq(text.next_word('return a + b'), 'return')
  h.eq(text.next_word(' a + b'), ' a')
  h.eq(text.next_word(' + b'), ' +')
  h.eq(text.next_word('\n    return x'), '\n    ')
  h.eq(text.next_word('(x)'), '(')
  h.eq(text.next_word('héllo wörld'), 'héllo')
  h.eq(text.next_line('total = 1\n    return total'), 'total = 1')
  h.eq(text.next_line('\n    return total'), '\n    return total')
  h.eq(text.remainder('return a', 'ret'), 'urn a')
  h.eq(text.remainder('return a', 'x'), nil)
end

function T.text_positions_utf16()
  local text = require('qwen.completion.text')
  h.eq(text.utf16_len('héllo'), 5)
  h.eq(text.utf16_len('a😀b'), 4)
  h.eq(text.byte_col('a😀b', 3, 'utf-16'), 5)
  h.eq(text.byte_col('héllo', 2, 'utf-16'), 3)
  h.eq(text.byte_col('héllo', 2, 'utf-8'), 2)
  h.eq(text.byte_col('a😀b', 2, 'utf-32'), 5)
end

return T
