---@brief Pure text helpers for suggestions: position conversion, the part the user has
---already typed, and the next word or line of what remains. No editor state.

local M = {}

--- Byte offset (0-based) of an LSP character offset in a line.
---@param line string
---@param character integer
---@param encoding? "utf-8"|"utf-16"|"utf-32"
---@return integer
function M.byte_col(line, character, encoding)
  if encoding == 'utf-8' then
    return math.min(character, #line)
  end
  local units, i = 0, 1
  while i <= #line and units < character do
    local b = line:byte(i)
    local len = b < 0x80 and 1 or b < 0xE0 and 2 or b < 0xF0 and 3 or 4
    units = units + ((encoding ~= 'utf-32' and len == 4) and 2 or 1)
    i = i + len
  end
  return i - 1
end

--- Length of a string in UTF-16 code units (what LSP and VS Code count as characters).
---@param s string
---@return integer
function M.utf16_len(s)
  local n, i = 0, 1
  while i <= #s do
    local b = s:byte(i)
    local len = b < 0x80 and 1 or b < 0xE0 and 2 or b < 0xF0 and 3 or 4
    n = n + (len == 4 and 2 or 1)
    i = i + len
  end
  return n
end

--- LSP character offset of a byte offset (0-based) in a line: the inverse of byte_col.
---@param line string
---@param col integer byte offset
---@param encoding? "utf-8"|"utf-16"|"utf-32"
---@return integer
function M.character(line, col, encoding)
  local before = line:sub(1, col)
  if encoding == 'utf-8' then
    return #before
  elseif encoding == 'utf-32' then
    return vim.fn.strchars(before)
  end
  return M.utf16_len(before)
end

--- What remains of a suggestion once `typed` (the buffer text from the start of its range
--- to the cursor) is taken off, or nil when the user typed something else.
---@param text string
---@param typed string
---@return string?
function M.remainder(text, typed)
  if #typed > #text or text:sub(1, #typed) ~= typed then
    return nil
  end
  return text:sub(#typed + 1)
end

--- The next word of a remainder: leading blanks, then a run of word characters or a run
--- of punctuation. A remainder that starts a new line yields the line break and the next
--- line's indentation.
---@param rest string
---@return string
function M.next_word(rest)
  if rest == '' then
    return ''
  end
  local nl = rest:match('^\r?\n[ \t]*')
  if nl then
    return nl
  end
  local piece = rest:match('^[ \t]*[%w_\128-\255]+') or rest:match('^[ \t]*[^%w_%s\128-\255]+')
    or rest:match('^[ \t]+')
  return piece or rest:sub(1, 1)
end

--- The rest of the current line of a remainder; when the remainder starts with a line
--- break, the break and the whole next line.
---@param rest string
---@return string
function M.next_line(rest)
  if rest == '' then
    return ''
  end
  local line = rest:match('^[^\n]+')
  if line then
    return (line:gsub('\r$', ''))
  end
  return rest:match('^\r?\n[^\n]*') or rest
end

return M
