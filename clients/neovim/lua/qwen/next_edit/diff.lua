---@brief Pure parts of next-edit suggestions: what an edit changes (hunks), where its
---extmarks go, and which action a key means. No editor state: testable anywhere.

local M = {}

M.hl = {
  add = 'QwenNextEditAdd',
  delete = 'QwenNextEditDelete',
  strike = 'QwenNextEditStrike',
  change = 'QwenNextEditChange',
  sign = 'QwenNextEditSign',
  hint = 'QwenNextEditHint',
}

---@class qwen.NextEditHunk
---@field kind "inline"|"lines" `inline`: a change inside one line; `lines`: whole lines go and/or come.
---@field row integer 0-based buffer row of the first old line it touches (for `lines` with no old line: the row the new lines go before).
---@field old_count integer old lines replaced (`lines`), 1 for `inline`.
---@field col_start? integer `inline`: byte column where the deleted text starts.
---@field col_end? integer `inline`: byte column where it ends (exclusive).
---@field deleted? string `inline`: the text that goes.
---@field inserted? string `inline`: the text that comes.
---@field new_lines? string[] `lines`: the lines that come.
---@field after {row: integer, col: integer} Where the cursor goes once the edit is applied.

---@param b integer?
---@return boolean
local function continuation(b)
  return b ~= nil and b >= 0x80 and b < 0xC0
end

---@param s string
---@param i integer 1-based byte index
---@return boolean
local function word_byte(s, i)
  local c = s:sub(i, i)
  return c ~= '' and (c:match('[%w_]') ~= nil or c:byte() >= 0x80)
end

--- The changed middle of two versions of a line: common prefix and suffix taken off (on
--- character boundaries); a replacement is widened to whole words, so a rename reads as
--- `cnt` -> `count`, not `n` -> `oun`.
---@param old string
---@param new string
---@return integer prefix bytes kept at the start
---@return integer suffix bytes kept at the end
function M.trim(old, new)
  local max = math.min(#old, #new)
  local p = 0
  while p < max and old:byte(p + 1) == new:byte(p + 1) do
    p = p + 1
  end
  while p > 0 and (continuation(old:byte(p + 1)) or continuation(new:byte(p + 1))) do
    p = p - 1
  end
  local s = 0
  while s < max - p and old:byte(#old - s) == new:byte(#new - s) do
    s = s + 1
  end
  while s > 0 and continuation(old:byte(#old - s + 1)) do
    s = s - 1
  end
  -- A change that starts or ends inside a word takes the whole word (the same bytes in
  -- both lines), so `w` -> `width` reads as a replaced name, not as `idth` typed after it.
  local function mid_has_word(i_old, i_new)
    return (i_old > p and i_old <= #old - s and word_byte(old, i_old))
      or (i_new > p and i_new <= #new - s and word_byte(new, i_new))
  end
  if mid_has_word(p + 1, p + 1) then
    while p > 0 and word_byte(old, p) do
      p = p - 1
    end
  end
  if mid_has_word(#old - s, #new - s) then
    while s > 0 and word_byte(old, #old - s + 1) do
      s = s - 1
    end
  end
  return p, s
end

---@param a string[]
---@param b string[]
---@return integer[][] hunks {start_a, count_a, start_b, count_b}, 1-based like vim.diff
local function line_hunks(a, b)
  local diff = (vim.text and vim.text.diff) or vim.diff
  local ta = table.concat(a, '\n') .. '\n'
  local tb = table.concat(b, '\n') .. '\n'
  return diff(ta, tb, { result_type = 'indices', algorithm = 'histogram' }) --[[@as integer[][] ]]
end

--- What an edit changes, as hunks in buffer rows.
---@param old_lines string[] the buffer lines the edit's range touches (whole lines)
---@param new_lines string[] the same lines after the edit
---@param base integer 0-based buffer row of old_lines[1]
---@return qwen.NextEditHunk[]
function M.hunks(old_lines, new_lines, base)
  local out = {}
  for _, h in ipairs(line_hunks(old_lines, new_lines)) do
    local sa, ca, sb, cb = h[1], h[2], h[3], h[4]
    if ca == cb then
      -- Lines changed in place: one inline hunk per line.
      for i = 0, ca - 1 do
        local old, new = old_lines[sa + i], new_lines[sb + i]
        if old ~= new then
          local p, s = M.trim(old, new)
          local inserted = new:sub(p + 1, #new - s)
          table.insert(out, {
            kind = 'inline', row = base + sa - 1 + i, old_count = 1,
            col_start = p, col_end = #old - s,
            deleted = old:sub(p + 1, #old - s), inserted = inserted,
            after = { row = base + sb - 1 + i, col = p + #inserted },
          })
        end
      end
    else
      local added = vim.list_slice(new_lines, sb, sb + cb - 1)
      -- With no old line, vim.diff's start is the line the new ones follow.
      local row = ca > 0 and base + sa - 1 or base + sa
      -- The cursor goes to the end of the last new line, or (lines only removed) to the line
      -- that followed them (the caller clamps it to the buffer).
      local after = cb > 0 and { row = base + sb + cb - 2, col = #added[#added] } or { row = base + sb, col = 0 }
      table.insert(out, { kind = 'lines', row = row, old_count = ca, new_lines = added, after = after })
    end
  end
  return out
end

--- The old and new whole lines of an edit of one range.
---@param lines string[] buffer lines start_row..end_row
---@param start_col integer byte column of the range start in lines[1]
---@param end_col integer byte column of the range end in lines[#lines]
---@param text string the replacement
---@return string[] new_lines
function M.apply(lines, start_col, end_col, text)
  local prefix = lines[1]:sub(1, start_col)
  local suffix = lines[#lines]:sub(end_col + 1)
  return vim.split(prefix .. text .. suffix, '\n', { plain = true })
end

---@class qwen.NextEditPlacement
---@field row integer
---@field col integer
---@field opts table nvim_buf_set_extmark options

--- Extmarks that draw hunks: deleted text highlighted and struck through, inserted text as
--- inline virtual text or virtual lines, a sign on every line it touches.
---@param hunks qwen.NextEditHunk[]
---@param line_len fun(row: integer): integer byte length of a buffer row
---@param sign? string sign text (1-2 cells)
---@return qwen.NextEditPlacement[]
function M.placements(hunks, line_len, sign)
  local out = {}
  local signed = {}
  local function add(row, col, opts)
    out[#out + 1] = { row = row, col = col, opts = opts }
  end
  local function mark_sign(row)
    if sign and not signed[row] then
      signed[row] = true
      add(row, 0, { sign_text = sign, sign_hl_group = M.hl.sign, priority = 250 })
    end
  end
  for _, h in ipairs(hunks) do
    if h.kind == 'inline' then
      if h.col_end > h.col_start then
        add(h.row, h.col_start, { end_row = h.row, end_col = h.col_end, hl_group = M.hl.delete, priority = 250 })
        add(h.row, h.col_start, { end_row = h.row, end_col = h.col_end, hl_group = M.hl.strike, priority = 251 })
      end
      if h.inserted ~= '' then
        add(h.row, h.col_end, { virt_text = { { h.inserted, M.hl.add } }, virt_text_pos = 'inline', priority = 250 })
      end
      mark_sign(h.row)
    else
      for r = h.row, h.row + h.old_count - 1 do
        add(r, 0, { end_row = r, end_col = line_len(r), hl_group = M.hl.strike, line_hl_group = M.hl.delete,
          priority = 250 })
        mark_sign(r)
      end
      if #h.new_lines > 0 then
        local virt = {}
        for _, l in ipairs(h.new_lines) do
          virt[#virt + 1] = { { l == '' and ' ' or l, M.hl.add } }
        end
        if h.old_count > 0 then
          add(h.row + h.old_count - 1, 0, { virt_lines = virt, priority = 250 })
        elseif h.row > 0 then
          add(h.row - 1, 0, { virt_lines = virt, priority = 250 })
          mark_sign(h.row - 1)
        else
          add(0, 0, { virt_lines = virt, virt_lines_above = true, priority = 250 })
          mark_sign(0)
        end
      end
    end
  end
  return out
end

--- Where Tab jumps to: the start of the first change.
---@param hunks qwen.NextEditHunk[]
---@return {row: integer, col: integer}?
function M.target(hunks)
  local h = hunks[1]
  if not h then
    return nil
  end
  if h.kind == 'inline' then
    return { row = h.row, col = h.col_start }
  end
  return { row = h.old_count > 0 and h.row or math.max(h.row - 1, 0), col = 0 }
end

--- Rows (0-based, inclusive) the edit spans in the buffer as it is.
---@param hunks qwen.NextEditHunk[]
---@return integer first
---@return integer last
function M.span(hunks)
  local first, last = math.huge, -1
  for _, h in ipairs(hunks) do
    local top = (h.kind == 'lines' and h.old_count == 0) and math.max(h.row - 1, 0) or h.row
    first = math.min(first, top)
    last = math.max(last, top + math.max(h.old_count, 1) - 1)
  end
  return first, last
end

--- What a next-edit key does.
---@param s {mode: "n"|"i", ghost: boolean, edit: boolean, at_edit: boolean}
---@return "completion"|"fallback"|"jump"|"accept"
function M.route(s)
  if s.mode == 'i' and s.ghost then
    return 'completion' -- an inline completion at the cursor wins
  end
  if not s.edit then
    return 'fallback'
  end
  return s.at_edit and 'accept' or 'jump'
end

--- The off-screen hint, e.g. `next edit: line 84, Tab to jump`.
---@param row integer 0-based
---@param key string e.g. `<Tab>`
---@return string
function M.hint(row, key)
  return ('next edit: line %d, %s to jump'):format(row + 1, (key:gsub('^<(.*)>$', '%1')))
end

return M
