-- Next-edit suggestions in a real buffer: drawing, Tab (jump, then accept), undo, Escape,
-- and what is sent to the server.
local h = require('helpers')

local T = {}

local SRC = table.concat({
  'def area(w, h):',
  '    """Area of a rectangle."""',
  '    return w * h',
  '',
}, '\n')

--- A child editing shapes.py with the server attached and the spy on.
---@param extra? table setup options
---@param src? string
---@return qwen.test.Child
local function start(extra, src)
  local dir = h.workspace({ ['shapes.py'] = src or SRC, ['pyproject.toml'] = '' })
  local child = h.child(dir)
  child:setup(vim.tbl_deep_extend('force', { completion = { enabled = false } }, extra or {}))
  child:edit(dir .. '/shapes.py')
  child:spy()
  return child
end

--- Show an edit as the server would send it (utf-16 positions, the buffer's version).
---@param child qwen.test.Child
---@param range table
---@param new_text string
---@param version_offset? integer
local function propose(child, range, new_text, version_offset)
  return child:lua([[
    local range, new_text, off = ...
    local ne = require('qwen.next_edit')
    local buf = vim.api.nvim_get_current_buf()
    local client = require('qwen.lsp').get_client(buf)
    local item = {
      range = range, text = new_text,
      textDocument = { uri = vim.uri_from_bufnr(buf), version = vim.lsp.util.buf_versions[buf] + off },
      command = { title = 'Accept next edit', command = 'qwen.didAcceptEdit', arguments = { { id = 'e1' } } },
    }
    local edit = ne.to_edit(buf, client, item)
    if edit then ne.show(buf, edit) end
    return edit ~= nil
  ]], range, new_text, version_offset or 0)
end

local RENAME = { start = { line = 0, character = 0 }, ['end'] = { line = 2, character = 16 } }
local RENAMED = 'def area(width, h):\n    """Area of a rectangle."""\n    return width * h'

--- The extmarks of the next-edit namespace, simplified.
---@param child qwen.test.Child
---@return table[]
local function marks(child)
  return child:lua([[
    local ns = require('qwen.next_edit').ns
    local out = {}
    for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
      local d = m[4]
      out[#out + 1] = { row = m[2], col = m[3], end_col = d.end_col, hl = d.hl_group,
        virt = d.virt_text and d.virt_text[1][1], sign = d.sign_text and vim.trim(d.sign_text) }
    end
    return out
  ]])
end

---@param list table[]
---@param pred fun(m: table): boolean
---@return table[]
local function where(list, pred)
  return vim.tbl_filter(pred, list)
end

function T.edit_is_drawn_where_it_changes_the_text()
  local child = start()
  h.ok(propose(child, RENAME, RENAMED), 'edit accepted for drawing')
  local m = marks(child)
  local del = where(m, function(x) return x.hl == 'QwenNextEditDelete' end)
  h.eq(vim.tbl_map(function(x) return { x.row, x.col, x.end_col } end, del), { { 0, 9, 10 }, { 2, 11, 12 } },
    'each "w" highlighted as deleted')
  h.eq(#where(m, function(x) return x.hl == 'QwenNextEditStrike' end), 2, 'and struck through')
  local add = where(m, function(x) return x.virt ~= nil end)
  h.eq(vim.tbl_map(function(x) return { x.row, x.col, x.virt } end, add), { { 0, 10, 'width' }, { 2, 12, 'width' } },
    '"width" shown after each')
  h.eq(vim.tbl_map(function(x) return x.row end, where(m, function(x) return x.sign ~= nil end)), { 0, 2 },
    'signs on the changed lines')
  h.eq(child:lines()[1], 'def area(w, h):', 'nothing applied yet')
  local shown = child:sent('textDocument/didShowInlineEdit')
  h.eq(#shown, 1, 'didShowInlineEdit sent once')
  h.eq(shown[1].item.command.arguments[1].id, 'e1', 'with the edit as received')
  h.eq(child:lua([[return vim.api.nvim_get_hl(0, { name = 'QwenNextEditAdd' }).link]]), 'DiffAdd', 'colours follow the diff theme')
end

function T.tab_jumps_then_accepts_as_one_undo_step()
  local child = start()
  child:cmd('normal! 4G')
  propose(child, RENAME, RENAMED)
  child:input('<Tab>')
  child:wait('return vim.api.nvim_win_get_cursor(0)[1] == 1', 'Tab jumped to the edit')
  h.eq(child:lua('return vim.api.nvim_win_get_cursor(0)'), { 1, 9 }, 'at the first change')
  h.eq(child:lines()[1], 'def area(w, h):', 'jumping changes nothing')
  child:input('<Tab>')
  child:wait('return vim.api.nvim_buf_get_lines(0, 0, 1, false)[1] == "def area(width, h):"', 'Tab accepted')
  h.eq(child:lines(), { 'def area(width, h):', '    """Area of a rectangle."""', '    return width * h', '' },
    'exactly the proposed text')
  h.eq(#marks(child), 0, 'nothing drawn after accepting')
  local cmds = child:wait_sent('workspace/executeCommand')
  h.eq(cmds[1].command, 'qwen.didAcceptEdit', 'command run so the server counts it')
  child:input('u')
  child:wait('return vim.api.nvim_buf_get_lines(0, 0, -1, false)[3] == "    return w * h"', 'u undid it')
  h.eq(table.concat(child:lines(), '\n'), SRC, 'one u restores the exact text')
end

function T.tab_in_insert_mode_jumps_then_accepts()
  -- Ghost text on, none shown: insert-mode Tab reaches the next edit through the same key.
  local child = start({ completion = { enabled = true } })
  h.reset_endpoint({ text = '' })
  child:cmd('normal! 4G')
  child:input('i')
  h.wait(function() return child:mode() == 'i' end, 'insert mode')
  propose(child, RENAME, RENAMED)
  child:input('<Tab>')
  child:wait('return vim.api.nvim_win_get_cursor(0)[1] == 1', 'Tab jumped to the edit')
  h.eq(child:mode(), 'i', 'still in insert mode')
  child:input('<Tab>')
  child:wait('return vim.api.nvim_buf_get_lines(0, 2, 3, false)[1] == "    return width * h"', 'Tab accepted')
  h.eq(child:lines()[1], 'def area(width, h):', 'the whole edit')
end

function T.escape_dismisses_and_reports()
  local child = start()
  propose(child, RENAME, RENAMED)
  child:input('<Esc>')
  child:wait('return not require("qwen.next_edit").visible()', 'Escape dismissed it')
  h.eq(#marks(child), 0, 'nothing drawn')
  local rejected = child:wait_sent('qwen/didRejectInlineEdit')
  h.eq(rejected[1].reason, 'dismissed', 'reason')
  h.eq(child:lines()[1], 'def area(w, h):', 'text unchanged')
end

function T.typing_drops_the_edit()
  local child = start()
  propose(child, RENAME, RENAMED)
  child:input('Ax<Esc>')
  child:wait('return not require("qwen.next_edit").visible()', 'a change drops the edit')
  local rejected = child:wait_sent('qwen/didRejectInlineEdit')
  h.eq(rejected[1].reason, 'typed', 'reason')
end

function T.edit_for_another_version_is_dropped()
  local child = start()
  h.eq(propose(child, RENAME, RENAMED, -1), false, 'an edit made for an older text')
  h.eq(#marks(child), 0, 'nothing drawn')
end

function T.tab_keeps_its_meaning_without_an_edit()
  local child = start()
  -- Normal-mode Tab is <C-i>: forward in the jumplist.
  child:cmd('normal! gg')
  child:input('G')
  child:input('<C-o>')
  child:wait('return vim.api.nvim_win_get_cursor(0)[1] == 1', 'back at line 1')
  child:input('<Tab>')
  child:wait('return vim.api.nvim_win_get_cursor(0)[1] == 4', 'Tab went forward in the jumplist')
  -- Escape in normal mode still does nothing harmful.
  child:input('<Esc>')
  h.eq(child:mode(), 'n', 'still in normal mode')
end

function T.offscreen_edit_gets_a_hint()
  local lines = {}
  for i = 1, 120 do
    lines[i] = ('x%d = %d'):format(i, i)
  end
  local child = start(nil, table.concat(lines, '\n') .. '\n')
  child:lua('vim.o.lines = 20')
  child:cmd('normal! gg')
  propose(child, { start = { line = 99, character = 0 }, ['end'] = { line = 99, character = 9 } }, 'x100 = 101')
  local hint = child:wait([[
    local ns = require('qwen.next_edit').hint_ns
    local m = vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })[1]
    return m and { m[2], m[4].virt_text[1][1] }
  ]], 'the off-screen hint')
  h.eq(hint, { 0, 'next edit: line 100, Tab to jump' }, 'hint at the cursor line')
  child:input('<Tab>')
  child:wait('return vim.api.nvim_win_get_cursor(0)[1] == 100', 'Tab jumped to line 100')
  child:wait([[return #vim.api.nvim_buf_get_extmarks(0, require('qwen.next_edit').hint_ns, 0, -1, {}) == 0]],
    'no hint once the edit is on screen')
end

function T.statusline_shows_the_edit()
  local child = start()
  propose(child, RENAME, RENAMED)
  local line = child:lua('return require("qwen").statusline()')
  h.ok(line:find('next edit L1', 1, true), 'statusline: ' .. line)
  -- While the index builds, the proposed edit stays in view beside the progress.
  line = child:lua([[
    require('qwen.status').current.progress = { done = false, percentage = 40 }
    return require('qwen').statusline()
  ]])
  h.ok(line:find('indexing 40%', 1, true) and line:find('next edit L1', 1, true),
    'statusline while indexing: ' .. line)
end

function T.ghost_text_wins_over_the_edit_in_insert_mode()
  local child = start({ completion = { enabled = true } }, 'def add(a, b):\n    \n\nx = add(1, 2)\n')
  h.reset_endpoint({ text = 'return a + b' })
  propose(child, { start = { line = 3, character = 0 }, ['end'] = { line = 3, character = 13 } }, 'y = add(1, 2)')
  child:cmd('call cursor(2, 5)')
  child:input('A')
  child:wait('return require("qwen.completion").visible()', 'ghost text shown')
  child:input('<Tab>')
  child:wait('return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == "    return a + b"', 'Tab took the ghost text')
  h.eq(child:lines()[4], 'x = add(1, 2)', 'the next edit was not applied')
end

-- Against the real server and the fake endpoint ------------------------------------------

local GEO = table.concat({
  'def area(width, height):',
  '    return width * height',
  '',
  '',
  'def describe(w, h):',
  "    return f'{w} x {h} = {area(w, h)}'",
  '',
}, '\n')

--- The answer of a chat-format next-edit model rewriting the region as new_region.
---@param new_region string
---@return table reply for the fake endpoint
local function chat_answer(new_region)
  return { text = 'Here is the region:\n```python\n' .. new_region .. '```\n' }
end

--- A child with next edits on (chat format, no server wait) and ghost text off, so every
--- model request the endpoint sees is a next-edit one.
---@param files table<string, string>
---@param path string
---@param extra? table setup options
---@return qwen.test.Child, string
local function start_with_server(files, path, extra)
  h.reset_endpoint({ text = '' }) -- nothing to propose until the test says so
  local dir = h.workspace(files)
  local child = h.child(dir)
  child:setup(vim.tbl_deep_extend('force', {
    completion = { enabled = false },
    next_edit = { model = 'qwen-next', format = 'chat', debounce_ms = 0 },
  }, extra or {}))
  child:edit(dir .. '/' .. path)
  child:spy()
  return child, dir
end

function T.server_proposes_the_rest_of_a_rename()
  local child = start_with_server({ ['geo.py'] = GEO, ['pyproject.toml'] = '' }, 'geo.py')
  local final = GEO:gsub('width, height', 'w, h'):gsub('width %* height', 'w * h')
  h.script({}, chat_answer(final))
  -- The user renames the parameters: one change on line 1.
  child:cmd('1s/width, height/w, h/')
  child:wait('return require("qwen.next_edit").visible()', 'the proposed edit is drawn', 20000)
  local m = marks(child)
  local del = where(m, function(x) return x.hl == 'QwenNextEditDelete' end)
  h.eq(vim.tbl_map(function(x) return { x.row, x.col, x.end_col } end, del), { { 1, 11, 25 } },
    '"width * height" on line 2 marked as deleted')
  h.eq(vim.tbl_map(function(x) return { x.row, x.col, x.virt } end, where(m, function(x) return x.virt ~= nil end)),
    { { 1, 25, 'w * h' } }, '"w * h" shown after it')
  local req = child:sent('textDocument/copilotInlineEdit')
  h.eq(req[#req].textDocument.version, child:lua('return vim.lsp.util.buf_versions[vim.api.nvim_get_current_buf()]'), 'asked with the version')
  child:wait_sent('textDocument/didShowInlineEdit')
  -- Tab jumps, then accepts.
  h.eq(child:lua('return vim.api.nvim_win_get_cursor(0)[1]'), 1, 'cursor on the renamed line')
  child:input('<Tab>')
  child:wait('return vim.api.nvim_win_get_cursor(0)[1] == 2', 'Tab jumped to line 2')
  h.eq(child:lines()[2], '    return width * height', 'jumping changes nothing')
  child:input('<Tab>')
  child:wait('return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == "    return w * h"', 'Tab accepted')
  h.eq(table.concat(child:lines(), '\n'), final, 'the buffer holds exactly the expected text')
  local cmds = child:wait_sent('workspace/executeCommand')
  h.eq(cmds[1].command, 'qwen.didAcceptEdit', 'acceptance reported')
  local stats = child:lua([[
    local done, out = false, nil
    require('qwen.status').stats(function(_, s) out, done = s, true end)
    vim.wait(5000, function() return done end)
    return out and out.nextEdit
  ]])
  h.eq({ stats.shown >= 1, stats.accepted }, { true, 1 }, 'the server counted it: ' .. vim.inspect(stats))
  -- One u restores the text before the acceptance.
  h.script({}, { text = '' })
  child:input('u')
  child:wait('return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] == "    return width * height"', 'u undid it')
  h.eq(table.concat(child:lines(), '\n'), (GEO:gsub('width, height', 'w, h')), 'exactly the text before')
end

function T.server_edit_is_dismissed_with_escape()
  local child = start_with_server({ ['geo.py'] = GEO, ['pyproject.toml'] = '' }, 'geo.py')
  local final = GEO:gsub('width, height', 'w, h'):gsub('width %* height', 'w * h')
  h.script({}, chat_answer(final))
  child:cmd('1s/width, height/w, h/')
  child:wait('return require("qwen.next_edit").visible()', 'the proposed edit is drawn', 20000)
  child:input('<Esc>')
  child:wait('return not require("qwen.next_edit").visible()', 'Escape dismissed it')
  h.eq(#marks(child), 0, 'nothing drawn')
  h.eq(child:wait_sent('qwen/didRejectInlineEdit')[1].reason, 'dismissed', 'dismissal reported')
  h.eq(child:lines()[2], '    return width * height', 'text unchanged')
  -- Moving around afterwards does not bring it back: nothing is asked until the text changes.
  local asked = #child:sent('textDocument/copilotInlineEdit')
  child:input('jk')
  vim.wait(100)
  h.eq(#child:sent('textDocument/copilotInlineEdit'), asked, 'no new request for the same text')
end

function T.on_demand_only_with_auto_trigger_off()
  local child = start_with_server({ ['geo.py'] = GEO, ['pyproject.toml'] = '' }, 'geo.py',
    { next_edit = { auto_trigger = false } })
  h.script({}, chat_answer((GEO:gsub('width, height', 'w, h'):gsub('width %* height', 'w * h'))))
  child:cmd('1s/width, height/w, h/')
  child:input('j')
  vim.wait(100)
  h.eq(#child:sent('textDocument/copilotInlineEdit'), 0, 'no request while auto_trigger is off')
  child:cmd('QwenNextEdit')
  child:wait('return require("qwen.next_edit").visible()', ':QwenNextEdit got the edit', 20000)
  h.eq(child:sent('textDocument/copilotInlineEdit')[1].context.triggerKind, 1, 'asked as invoked')
end

function T.nothing_is_sent_for_a_secret_file()
  local child = start_with_server({ ['.env'] = 'API_TOKEN=abc\nDEBUG=1\n', ['app.py'] = 'x = 1\n',
    ['pyproject.toml'] = '' }, 'app.py')
  h.script({}, chat_answer('API_TOKEN=abc\nDEBUG=0\n'))
  child:cmd('edit .env')
  child:lua('vim.bo.filetype = vim.bo.filetype ~= "" and vim.bo.filetype or "sh"')
  child:wait('return require("qwen.lsp").get_client(0) ~= nil', 'the server attached to .env', 20000)
  local before = #h.generations()
  child:cmd('2s/1/2/')
  -- The client asks (the server decides what may leave the machine) and gets nothing back.
  child:wait([[for _, m in ipairs(_G.sent) do
      if m.method == 'textDocument/copilotInlineEdit' and m.params.textDocument.uri:match('%.env$') then return true end
    end]], 'a next-edit request for .env')
  child:wait([[return require('qwen.next_edit').refused(0) ~= nil]], 'its answer: refused')
  h.eq(#h.generations(), before, 'no model request for .env')
  h.eq(child:lua('return require("qwen.next_edit").visible()'), false, 'nothing proposed')
  -- Refused once: later changes, pauses and cursor moves ask no more.
  child:cmd('2s/2/3/')
  child:cmd('normal! gg')
  child:cmd('normal! j$')
  child:input('ADEBUG_LEVEL=1<Esc>')
  vim.wait(300)
  -- On demand it still asks, and says why there is nothing.
  child:lua([[_G.notified = {}
    vim.notify = function(msg) table.insert(_G.notified, msg) end]])
  child:cmd('QwenNextEdit')
  child:wait('return #_G.notified > 0', 'the on-demand answer')
  h.eq(child:lua('return _G.notified'), { 'qwen: no next edits in this file: secret or ignored file: its text is never sent' },
    'the reason, once')
  local kinds = {}
  for _, m in ipairs(child:lua('return _G.sent')) do
    if m.method == 'textDocument/copilotInlineEdit' and m.params.textDocument.uri:match('%.env$') then
      kinds[#kinds + 1] = m.params.context.triggerKind
    end
  end
  h.eq(kinds, { 2, 1 }, 'one automatic request, then only the one asked for')
  h.eq(#h.generations(), before, 'still no model request for .env')
end

function T.checkhealth_reports_the_next_edit_model()
  local child = start_with_server({ ['geo.py'] = GEO, ['pyproject.toml'] = '' }, 'geo.py')
  h.script({}, chat_answer((GEO:gsub('width, height', 'w, h'):gsub('width %* height', 'w * h'))))
  child:cmd('1s/width, height/w, h/')
  child:wait('return require("qwen.next_edit").visible()', 'the proposed edit is drawn', 20000)
  local text = child:checkhealth()
  h.ok(text:find('next-edit model: qwen-next (from next_edit.model)', 1, true), 'model named:\n' .. text)
  h.ok(text:find('the next-edit model answers: 1 model requests, 0 errors', 1, true), 'answering:\n' .. text)
  child = start()
  text = child:checkhealth()
  h.ok(text:find('no next-edit model set', 1, true), 'none configured:\n' .. text)
end

function T.next_edit_options_reach_the_server()
  local child = start({ next_edit = { model = 'sweep-next-edit', max_tokens = 256, debounce_ms = 40 } })
  local settings = child:lua('return require("qwen.lsp").server_settings()')
  h.eq(settings.nextEdit, { model = 'sweep-next-edit', maxTokens = 256, debounceMs = 40 }, 'camelCase on the wire')
end

return T
