-- Next-edit suggestions, the pure parts, run in the test process itself: what an edit
-- changes, where its extmarks go, position conversion and what Tab does.
local h = require('helpers')
package.path = h.root .. '/lua/?.lua;' .. h.root .. '/lua/?/init.lua;' .. package.path
local diff = require('qwen.next_edit.diff')
local text = require('qwen.completion.text')

local T = {}

function T.trim_widens_a_rename_to_the_whole_word()
  local old, new = 'def total(cnt):', 'def total(count):'
  local p, s = diff.trim(old, new)
  h.eq(old:sub(p + 1, #old - s), 'cnt', 'deleted')
  h.eq(new:sub(p + 1, #new - s), 'count', 'inserted')
end

function T.trim_keeps_a_pure_insertion_narrow()
  local old, new = 'f(a)', 'f(a, b)'
  local p, s = diff.trim(old, new)
  h.eq({ old:sub(p + 1, #old - s), new:sub(p + 1, #new - s) }, { '', ', b' }, 'only the insertion')
end

function T.trim_never_splits_a_character()
  -- 'é' (c3 a9) and 'è' (c3 a8) share their first byte.
  local old, new = 'x = "é"', 'x = "è"'
  local p, s = diff.trim(old, new)
  h.eq(old:sub(p + 1, #old - s), 'é', 'deleted is a whole character')
  h.eq(new:sub(p + 1, #new - s), 'è', 'inserted is a whole character')
end

function T.hunks_of_a_parameter_rename()
  local old = { 'def area(w, h):', '    return w * h', '' }
  local new = { 'def area(width, h):', '    return width * h', '' }
  local hunks = diff.hunks(old, new, 10)
  h.eq(#hunks, 2, 'one hunk per changed line')
  h.eq({ hunks[1].kind, hunks[1].row, hunks[1].col_start, hunks[1].col_end, hunks[1].deleted, hunks[1].inserted },
    { 'inline', 10, 9, 10, 'w', 'width' }, 'first hunk')
  h.eq({ hunks[2].row, hunks[2].col_start, hunks[2].deleted, hunks[2].inserted }, { 11, 11, 'w', 'width' }, 'second')
  h.eq(diff.target(hunks), { row = 10, col = 9 }, 'Tab jumps to the first change')
  h.eq(hunks[2].after, { row = 11, col = 16 }, 'cursor after accepting: end of the last change')
  h.eq({ diff.span(hunks) }, { 10, 11 }, 'rows the edit spans')
end

function T.hunks_of_added_and_removed_lines()
  local hunks = diff.hunks({ 'a', 'b', 'c' }, { 'a', 'x', 'y', 'b', 'c' }, 0)
  h.eq(#hunks, 1, 'one hunk')
  h.eq({ hunks[1].kind, hunks[1].row, hunks[1].old_count, hunks[1].new_lines }, { 'lines', 1, 0, { 'x', 'y' } },
    'two lines inserted before row 1')
  h.eq(hunks[1].after, { row = 2, col = 1 }, 'cursor at the end of the last new line')
  hunks = diff.hunks({ 'a', 'b', 'c', 'd' }, { 'a', 'd' }, 5)
  h.eq({ hunks[1].kind, hunks[1].row, hunks[1].old_count, hunks[1].new_lines }, { 'lines', 6, 2, {} },
    'rows 6 and 7 removed')
end

function T.apply_builds_the_new_lines_of_a_range()
  h.eq(diff.apply({ 'def f(cnt):', '    return cnt' }, 6, 14, 'count):\n    return count'),
    { 'def f(count):', '    return count' })
end

function T.placements_strike_deleted_text_and_show_inserted_text()
  local hunks = diff.hunks({ 'def area(w, h):' }, { 'def area(width, h):' }, 3)
  local marks = diff.placements(hunks, function() return 15 end, '>')
  local by = {}
  for _, m in ipairs(marks) do
    if m.opts.hl_group then
      by[m.opts.hl_group] = { m.row, m.col, m.opts.end_row, m.opts.end_col }
    elseif m.opts.virt_text then
      by.virt = { m.row, m.col, m.opts.virt_text, m.opts.virt_text_pos }
    elseif m.opts.sign_text then
      by.sign = { m.row, m.opts.sign_text, m.opts.sign_hl_group }
    end
  end
  h.eq(by.QwenNextEditDelete, { 3, 9, 3, 10 }, 'deleted "w" highlighted')
  h.eq(by.QwenNextEditStrike, { 3, 9, 3, 10 }, 'and struck through')
  h.eq(by.virt, { 3, 10, { { 'width', 'QwenNextEditAdd' } }, 'inline' }, 'inserted text after it')
  h.eq(by.sign, { 3, '>', 'QwenNextEditSign' }, 'a sign on the line')
end

function T.placements_of_new_lines_are_virtual_lines()
  local hunks = diff.hunks({ 'a', 'b' }, { 'a', 'x', 'b' }, 0)
  local marks = diff.placements(hunks, function() return 1 end, nil)
  h.eq(#marks, 1, 'one mark')
  h.eq({ marks[1].row, marks[1].opts.virt_lines }, { 0, { { { 'x', 'QwenNextEditAdd' } } } }, 'below row 0')
  hunks = diff.hunks({ 'a', 'b' }, { 'x', 'a', 'b' }, 0)
  marks = diff.placements(hunks, function() return 1 end, nil)
  h.eq({ marks[1].row, marks[1].opts.virt_lines_above }, { 0, true }, 'above the first row')
end

function T.positions_utf16_round_trip()
  local line = 'x = "😀é" + y'
  for _, enc in ipairs({ 'utf-8', 'utf-16', 'utf-32' }) do
    for _, col in ipairs({ 0, 5, 9, 11, #line }) do
      h.eq(text.byte_col(line, text.character(line, col, enc), enc), col, ('%s byte %d'):format(enc, col))
    end
  end
  h.eq(text.character(line, 11, 'utf-16'), 8, 'emoji counts two UTF-16 units')
end

function T.tab_routing()
  local r = diff.route
  h.eq(r({ mode = 'n', ghost = false, edit = false, at_edit = false }), 'fallback', 'nothing proposed: Tab is Tab')
  h.eq(r({ mode = 'n', ghost = false, edit = true, at_edit = false }), 'jump', 'away from the edit: jump')
  h.eq(r({ mode = 'n', ghost = false, edit = true, at_edit = true }), 'accept', 'at the edit: accept')
  h.eq(r({ mode = 'i', ghost = true, edit = true, at_edit = true }), 'completion', 'ghost text at the cursor wins')
  h.eq(r({ mode = 'i', ghost = false, edit = true, at_edit = false }), 'jump', 'insert mode jumps too')
  h.eq(r({ mode = 'n', ghost = true, edit = true, at_edit = false }), 'jump', 'ghost text only matters in insert mode')
end

function T.hint_names_the_line_and_key()
  h.eq(diff.hint(83, '<Tab>'), 'next edit: line 84, Tab to jump')
  h.eq(diff.hint(0, '<M-n>'), 'next edit: line 1, M-n to jump')
end

return T
