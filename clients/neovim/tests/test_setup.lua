-- setup(): validation, idempotence, keymaps, server start; and the pure text helpers.
local h = require('helpers')

local T = {}

local function ws()
  return h.workspace({ ['main.py'] = 'x = 1\n', ['.git/HEAD'] = 'ref: refs/heads/main\n' })
end

function T.bad_option_gives_a_clear_error()
  local child = h.child(ws())
  local msg = child:lua([[
    local ok, err = pcall(require('qwen').setup, { completion = { debounce_ms = 'fast' } })
    return ok and 'no error' or err
  ]])
  h.ok(msg:find('completion.debounce_ms', 1, true), 'error names the option: ' .. msg)
  h.ok(msg:find('number', 1, true), 'error says what is expected: ' .. msg)
  msg = child:lua([[
    local ok, err = pcall(require('qwen').setup, { completion = { engine = 'magic' } })
    return ok and 'no error' or err
  ]])
  h.ok(msg:find('completion.engine', 1, true) and msg:find('extmark', 1, true), msg)
end

function T.unknown_option_warns_once()
  local child = h.child(ws())
  child:lua([[
    _G.notes = {}
    vim.notify = function(m) table.insert(_G.notes, m) end
    require('qwen').setup({ completion = { debouce_ms = 5 } })
    require('qwen').setup({ completion = { debouce_ms = 5 } })
  ]])
  local notes = child:lua('return _G.notes')
  h.eq(#notes, 1, 'one warning')
  h.ok(notes[1]:find('completion.debouce_ms', 1, true), notes[1])
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
  for _, c in ipairs({ 'QwenChat', 'QwenApply', 'QwenChatStop', 'QwenExplain', 'QwenRefactor', 'QwenDocstring', 'QwenTests', 'QwenStatus', 'QwenToggle' }) do
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
