---@brief What both ghost-text engines share: the suggestion shape, reporting acceptance
---to the server, and inserting part of a suggestion.

local lsp = require('qwen.lsp')
local text = require('qwen.completion.text')

local M = {}

---@class qwen.Pos
---@field row integer 0-based
---@field col integer 0-based byte column

---@class qwen.Suggestion
---@field bufnr integer
---@field client_id integer
---@field text string The item's insertText.
---@field start qwen.Pos Start of the range it replaces (byte based).
---@field finish qwen.Pos End of that range.
---@field command? lsp.Command The acceptance command (`qwen.didAccept`).
---@field suffix? string Text after the cursor that the range replaces (same line).

--- The completion id the server put in the acceptance command.
---@param s qwen.Suggestion
---@return string?
function M.completion_id(s)
  local arg = s.command and s.command.arguments and s.command.arguments[1]
  return type(arg) == 'table' and arg.id or nil
end

--- Buffer text between two positions.
---@param bufnr integer
---@param a qwen.Pos
---@param b qwen.Pos
---@return string?
function M.text_between(bufnr, a, b)
  if b.row < a.row or (b.row == a.row and b.col < a.col) then
    return nil
  end
  local ok, lines = pcall(vim.api.nvim_buf_get_text, bufnr, a.row, a.col, b.row, b.col, {})
  return ok and table.concat(lines, '\n') or nil
end

--- The cursor of the window showing bufnr, 0-based.
---@param bufnr integer
---@return qwen.Pos?
function M.cursor(bufnr)
  local win = vim.api.nvim_get_current_win()
  if vim.api.nvim_win_get_buf(win) ~= bufnr then
    win = vim.fn.bufwinid(bufnr)
    if win == -1 then
      return nil
    end
  end
  local c = vim.api.nvim_win_get_cursor(win)
  return { row = c[1] - 1, col = c[2] }
end

--- What is still to be inserted of s at the cursor, nil when the user typed past or away.
---@param s qwen.Suggestion
---@return string?
function M.remainder(s)
  local cur = M.cursor(s.bufnr)
  if not cur then
    return nil
  end
  local typed = M.text_between(s.bufnr, s.start, cur)
  if not typed then
    return nil
  end
  return text.remainder(s.text, typed)
end

--- Tell the server the whole suggestion was accepted (runs its command).
---@param s qwen.Suggestion
function M.report_accept(s)
  local client = vim.lsp.get_client_by_id(s.client_id)
  if client and s.command then
    lsp.exec_command(client, s.command, s.bufnr)
  end
end

--- Insert text at the cursor and put the cursor after it.
---@param bufnr integer
---@param piece string
function M.insert_at_cursor(bufnr, piece)
  local cur = assert(M.cursor(bufnr))
  local lines = vim.split(piece, '\n', { plain = true })
  vim.api.nvim_buf_set_text(bufnr, cur.row, cur.col, cur.row, cur.col, lines)
  local row = cur.row + #lines - 1
  local col = (#lines == 1 and cur.col or 0) + #lines[#lines]
  local win = vim.fn.bufwinid(bufnr)
  vim.api.nvim_win_set_cursor(win, { row + 1, col })
end

--- The text a suggestion replaces after the cursor it was made for (same line only).
---@param bufnr integer
---@param cur qwen.Pos
---@param finish qwen.Pos
---@return string
function M.suffix(bufnr, cur, finish)
  if finish.row ~= cur.row or finish.col <= cur.col then
    return ''
  end
  return M.text_between(bufnr, cur, finish) or ''
end

--- Insert what remains of s at the cursor, replacing the text its range covered after the
--- cursor (still there if the user typed through the suggestion), and move past it.
---@param s qwen.Suggestion
function M.insert_all(s)
  local cur = M.cursor(s.bufnr)
  local rest = M.remainder(s)
  if not cur or not rest then
    return
  end
  local line = vim.api.nvim_buf_get_lines(s.bufnr, cur.row, cur.row + 1, false)[1] or ''
  local del = 0
  local suffix = s.suffix or ''
  if suffix ~= '' and line:sub(cur.col + 1, cur.col + #suffix) == suffix then
    del = #suffix
  end
  local lines = vim.split(rest, '\n', { plain = true })
  vim.api.nvim_buf_set_text(s.bufnr, cur.row, cur.col, cur.row, cur.col + del, lines)
  local row = cur.row + #lines - 1
  local col = (#lines == 1 and cur.col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(vim.fn.bufwinid(s.bufnr), { row + 1, col })
end

--- Accept the next word or line of s. The last piece counts as a full acceptance.
---@param s qwen.Suggestion
---@param kind "word"|"line"
---@return string? piece inserted, nil when nothing could be accepted
---@return boolean? full whether that completed the suggestion
function M.accept_part(s, kind)
  local rest = M.remainder(s)
  if not rest or rest == '' then
    return nil
  end
  local piece = kind == 'word' and text.next_word(rest) or text.next_line(rest)
  if piece == rest then
    M.insert_all(s)
    M.report_accept(s)
    return piece, true
  end
  M.insert_at_cursor(s.bufnr, piece)
  local id = M.completion_id(s)
  local client = vim.lsp.get_client_by_id(s.client_id)
  if client and id then
    local typed = s.text:sub(1, #s.text - #rest)
    lsp.notify(client, 'qwen/didPartiallyAccept', {
      id = id,
      acceptedLength = text.utf16_len(typed .. piece),
      kind = kind,
    })
  end
  return piece, false
end

return M
