---@brief Ghost text: picks the engine (built-in on 0.12+, extmarks before), attaches it to
---buffers the server serves, and owns the insert-mode keymaps.

local config = require('qwen.config')
local lsp = require('qwen.lsp')

local M = {}

---@class qwen.Engine
---@field attach fun(bufnr: integer, client: vim.lsp.Client)
---@field detach fun(bufnr: integer)
---@field attached fun(bufnr: integer): boolean
---@field ghost_text fun(bufnr: integer): string?
---@field accept fun(bufnr: integer): boolean
---@field accept_part fun(bufnr: integer, kind: "word"|"line"): boolean
---@field dismiss fun(bufnr: integer)
---@field cycle fun(bufnr: integer, delta: integer)
---@field suggest fun(bufnr: integer)
---@field busy fun(bufnr: integer): boolean

--- Keys we did not map because the user already maps them: lhs -> action.
---@type table<string, string>
M.skipped_keys = {}

---@return "builtin"|"extmark"
function M.engine_name()
  local c = config.current.completion
  local builtin = require('qwen.completion.builtin').available()
  -- The built-in always asks while typing; manual-only mode needs the extmark engine.
  if c.engine == 'extmark' or not builtin or not c.auto_trigger then
    return 'extmark'
  end
  return 'builtin'
end

---@return qwen.Engine
function M.engine()
  return require('qwen.completion.' .. M.engine_name())
end

---@return boolean
function M.is_enabled()
  return config.current.completion.enabled
end

---@param bufnr integer
---@return boolean
local function wanted(bufnr)
  return config.current.completion.enabled and vim.api.nvim_buf_is_valid(bufnr)
    and vim.bo[bufnr].buftype == '' and config.filetype_enabled(vim.bo[bufnr].filetype)
end

---@param client vim.lsp.Client
---@param bufnr integer
function M.on_attach(client, bufnr)
  if not client.server_capabilities.inlineCompletionProvider then
    return
  end
  if wanted(bufnr) then
    M.engine().attach(bufnr, client)
  end
end

--- Re-attach every served buffer after an option or engine change.
function M.refresh()
  for _, name in ipairs({ 'extmark', 'builtin' }) do
    local ok, engine = pcall(require, 'qwen.completion.' .. name)
    if ok and (name == 'extmark' or engine.available()) then
      for _, buf in ipairs(vim.api.nvim_list_bufs()) do
        if engine.attached(buf) and (name ~= M.engine_name() or not wanted(buf)) then
          engine.detach(buf)
        end
      end
    end
  end
  for _, client in ipairs(vim.lsp.get_clients({ name = lsp.name })) do
    for buf in pairs(client.attached_buffers or {}) do
      M.on_attach(client, buf)
    end
  end
end

--- Turn ghost text on or off everywhere (`:QwenToggle`).
---@param on? boolean nil flips
function M.toggle(on)
  if on == nil then
    on = not config.current.completion.enabled
  end
  config.current.completion.enabled = on
  M.refresh()
  vim.cmd('redrawstatus')
end

---@param bufnr? integer
---@return string? text of the ghost text on screen
function M.ghost_text(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  return M.engine().ghost_text(bufnr)
end

---@param bufnr? integer
---@return boolean
function M.visible(bufnr)
  local t = M.ghost_text(bufnr)
  return t ~= nil and t ~= ''
end

---@param bufnr? integer
---@return boolean accepted
function M.accept(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  return M.engine().accept(bufnr)
end

---@param bufnr? integer
---@return boolean
function M.accept_word(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  return M.engine().accept_part(bufnr, 'word')
end

---@param bufnr? integer
---@return boolean
function M.accept_line(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  return M.engine().accept_part(bufnr, 'line')
end

---@param bufnr? integer
function M.dismiss(bufnr)
  M.engine().dismiss(bufnr or vim.api.nvim_get_current_buf())
end

---@param bufnr? integer
function M.next(bufnr)
  M.engine().cycle(bufnr or vim.api.nvim_get_current_buf(), 1)
end

---@param bufnr? integer
function M.prev(bufnr)
  M.engine().cycle(bufnr or vim.api.nvim_get_current_buf(), -1)
end

---@param bufnr? integer
function M.suggest(bufnr)
  M.engine().suggest(bufnr or vim.api.nvim_get_current_buf())
end

---@param bufnr? integer
---@return boolean whether a request is in flight or about to be sent
function M.busy(bufnr)
  return M.engine().busy(bufnr or vim.api.nvim_get_current_buf())
end

--- One line for `:QwenStatus`.
---@return string
function M.describe()
  local c = config.current.completion
  return ('%s, engine %s, auto trigger %s'):format(c.enabled and 'on' or 'off', M.engine_name(),
    c.auto_trigger and 'on' or 'off')
end

--- Whether a mapping is one of Neovim's own defaults (e.g. <Tab> for snippet jumps).
---@param m table maparg() dict
---@return boolean
local function is_default(m)
  if m.callback then
    local src = debug.getinfo(m.callback, 'S').source or ''
    return src:find('vim/_defaults.lua', 1, true) ~= nil
  end
  return (m.desc or ''):match('%-default$') ~= nil
end

--- Whether the user (not us, not Neovim's defaults) maps lhs in a mode (default insert).
---@param lhs string
---@param bufnr? integer
---@param mode? string
---@return boolean
local function user_mapped(lhs, bufnr, mode)
  mode = mode or 'i'
  local function theirs(m)
    return not (m.desc and m.desc:match('^qwen: ')) and not is_default(m)
  end
  if bufnr then
    for _, m in ipairs(vim.api.nvim_buf_get_keymap(bufnr, mode)) do
      if vim.keycode(m.lhs) == vim.keycode(lhs) and theirs(m) then
        return true
      end
    end
  end
  local m = vim.fn.maparg(lhs, mode, false, true)
  return type(m) == 'table' and not vim.tbl_isempty(m) and m.buffer == 0 and theirs(m)
end
M.user_mapped = user_mapped

--- What else an insert-mode key of ours may do when no ghost text is shown, before it
--- types itself: lhs -> fn returning keys to feed (nil: not handled). Next edits use it
--- for Tab.
---@type table<string, fun(): string?>
M.fallback_hooks = {}

--- What the key did before we mapped it: Neovim's default mapping, else the key itself.
---@param lhs string
---@return fun(): string
local originals = {} ---@type table<string, table> lhs -> Neovim default mapping we replaced

local function fallback_for(lhs)
  local m = originals[lhs] or vim.fn.maparg(lhs, 'i', false, true)
  if type(m) == 'table' and not vim.tbl_isempty(m) and is_default(m) then
    originals[lhs] = m
  end
  if type(m) == 'table' and m.callback and m.expr == 1 and is_default(m) then
    local cb = m.callback
    return function()
      return vim.keycode(cb() or '')
    end
  end
  return function()
    return vim.keycode(lhs)
  end
end

---@type table<string, {fn: fun(): boolean|nil, desc: string, passthrough?: boolean}>
local actions = {
  accept = { fn = function() return M.accept() end, desc = 'accept suggestion', passthrough = true },
  accept_word = { fn = function() return M.accept_word() end, desc = 'accept next word of suggestion', passthrough = true },
  accept_line = { fn = function() return M.accept_line() end, desc = 'accept next line of suggestion', passthrough = true },
  dismiss = { fn = function() M.dismiss() end, desc = 'dismiss suggestion', passthrough = true },
  next = { fn = function() M.next() end, desc = 'next suggestion' },
  prev = { fn = function() M.prev() end, desc = 'previous suggestion' },
  suggest = { fn = function() M.suggest() end, desc = 'ask for a suggestion' },
}

local mapped = {} ---@type table<string, string> lhs -> action we mapped

--- The insert-mode keys this module maps: lhs -> action name.
---@return table<string, string>
function M.mapped_keys()
  return mapped
end

--- Map the configured insert-mode keys, leaving keys the user maps alone. When no
--- suggestion is shown, accept/dismiss keys type themselves.
function M.set_keymaps()
  for lhs, _ in pairs(mapped) do
    pcall(vim.keymap.del, 'i', lhs)
    if originals[lhs] then
      pcall(vim.fn.mapset, 'i', false, originals[lhs])
    end
  end
  mapped = {}
  M.skipped_keys = {}
  for name, lhs in pairs(config.current.completion.keymaps) do
    local a = actions[name]
    if lhs and a then
      if user_mapped(lhs) then
        M.skipped_keys[lhs] = name
      else
        local fallback = fallback_for(lhs)
        vim.keymap.set('i', lhs, function()
          if a.passthrough then
            if not M.visible() then
              local hook = M.fallback_hooks[lhs]
              local keys = hook and hook()
              return keys or fallback()
            end
            -- Buffer edits are not allowed while evaluating an <expr> mapping.
            vim.schedule(a.fn)
            return ''
          end
          vim.schedule(a.fn)
          return ''
        end, { expr = true, replace_keycodes = false, desc = 'qwen: ' .. a.desc })
        mapped[lhs] = name
      end
    end
  end
end

--- Buffers where a user maps a key in insert mode win over our global mapping; record it.
---@param bufnr integer
function M.check_buffer_keymaps(bufnr)
  for lhs, name in pairs(mapped) do
    if user_mapped(lhs, bufnr) then
      M.skipped_keys[lhs] = name
    end
  end
end

vim.api.nvim_set_hl(0, 'QwenSuggestion', { link = 'Comment', default = true })
vim.api.nvim_set_hl(0, 'QwenSuggestionInfo', { link = 'NonText', default = true })

table.insert(lsp.on_attach_hooks, function(client, bufnr)
  M.on_attach(client, bufnr)
  M.check_buffer_keymaps(bufnr)
end)

return M
