---@brief Options for qwen.nvim: defaults, validation and merging.
---The plugin forwards `settings` to the server untouched (camelCase, section `qwen`);
---everything else shapes the editor side only.

---@class qwen.ServerSettings
---Passed as initializationOptions and answered for `workspace/configuration` section `qwen`.
---@field endpoint? {baseUrl?: string, provider?: "openai"|"dashscope"|"ollama"|"llamacpp", apiKey?: string}
---@field completion? {enabled?: boolean, model?: string, maxLines?: integer, maxTokens?: integer, singleLineOnly?: boolean, temperature?: number}
---@field chat? {model?: string}

---@class qwen.Keymaps
---Insert-mode keys for ghost text. `false` disables one. A key the user already maps in
---insert mode is left alone (see `:checkhealth qwen`).
---@field accept string|false Accept the whole suggestion (falls back to the key itself when none is shown).
---@field accept_word string|false Accept the next word.
---@field accept_line string|false Accept the rest of the line.
---@field dismiss string|false Hide the suggestion.
---@field next string|false Show the next candidate.
---@field prev string|false Show the previous candidate.
---@field suggest string|false Ask for a suggestion now (useful with `auto_trigger = false`).

---@class qwen.CompletionOptions
---@field enabled boolean Show ghost text at all (`:QwenToggle` flips it).
---@field auto_trigger boolean Ask while typing; when false only `keymaps.suggest` asks.
---@field filetypes table<string, boolean> Per-filetype switch; `["*"]` is the default for the rest.
---@field debounce_ms integer Extra quiet time before asking (extmark engine; default 0: the server debounces, the built-in engine has its own 200 ms).
---@field engine "auto"|"builtin"|"extmark" `auto`: built-in `vim.lsp.inline_completion` on 0.12+, extmarks before.
---@field keymaps qwen.Keymaps

---@class qwen.ChatOptions
---@field layout "vsplit"|"split"|"float"|"tab" Where `:QwenChat` opens.
---@field width number Columns for vsplit/float (<1 means a fraction of the editor).
---@field height number Lines for split/float (<1 means a fraction of the editor).
---@field include_repo_context boolean Ask the server to add repository context to chat turns.

---@class qwen.ActionsOptions
---@field preview boolean Show edits from the server as a diff and ask before applying them.

---@class qwen.NextEditKeymaps
---`false` disables one.
---@field accept string|false Normal and insert mode: jump to the proposed edit, or accept it when the cursor is there.
---@field dismiss string|false Normal mode: hide the proposed edit.

---@class qwen.NextEditOptions
---Next-edit suggestions (`textDocument/copilotInlineEdit`). The server-side fields are
---forwarded as `qwen.nextEdit` (camelCase); unset ones keep the server's defaults.
---@field enabled? boolean Server: ask the model at all (default: on when a model is set).
---@field model? string Server: the next-edit model.
---@field format? "sweep"|"zeta"|"instinct"|"chat" Server: its prompt format (default: guessed from the model name).
---@field endpoint? string|table Server: a base URL of a configured endpoint, or an endpoint of its own.
---@field max_tokens? integer Server: tokens the model may write.
---@field region_lines? integer Server: lines around the cursor the model may rewrite.
---@field debounce_ms? integer Server: quiet time before it calls the model (the client does not wait on top).
---@field auto_trigger boolean Ask after each change and cursor move; false: only `:QwenNextEdit`.
---@field keymaps qwen.NextEditKeymaps

---@class qwen.Config
---@field cmd string[] Command that starts the server.
---@field cmd_env? table<string, string> Extra environment for the server.
---@field root_markers string[] Files or folders that mark a project root.
---@field filetypes? string[] Filetypes the server attaches to; nil means every filetype.
---@field settings qwen.ServerSettings Server settings (camelCase), see `:h qwen-settings`.
---@field completion qwen.CompletionOptions
---@field chat qwen.ChatOptions
---@field actions qwen.ActionsOptions
---@field next_edit qwen.NextEditOptions

---@class qwen.UserConfig : qwen.Config, {}
---All fields optional; see |qwen.Config|.

local M = {}

---@type qwen.Config
M.defaults = {
  cmd = { 'qwen-lsp' },
  cmd_env = nil,
  root_markers = {
    '.git', '.hg', 'pyproject.toml', 'setup.py', 'package.json', 'go.mod', 'Cargo.toml',
    'pom.xml', 'build.gradle', 'CMakeLists.txt', 'Makefile', '.qwenignore',
  },
  filetypes = nil,
  settings = {},
  completion = {
    enabled = true,
    auto_trigger = true,
    filetypes = { ['*'] = true, help = false, gitcommit = false, gitrebase = false, ['qwen-chat'] = false },
    debounce_ms = 0,
    engine = 'auto',
    keymaps = {
      accept = '<Tab>',
      accept_word = '<M-Right>',
      accept_line = '<M-C-Right>',
      dismiss = '<C-]>',
      next = '<M-]>',
      prev = '<M-[>',
      suggest = '<M-\\>',
    },
  },
  chat = { layout = 'vsplit', width = 0.4, height = 0.4, include_repo_context = true },
  actions = { preview = true },
  next_edit = {
    auto_trigger = true,
    keymaps = {
      accept = '<Tab>',
      dismiss = '<Esc>',
    },
  },
}

--- `next_edit` options the server reads, Lua name -> `qwen.nextEdit` name. Unset ones are
--- not sent, so the server's defaults (and its environment) apply.
M.next_edit_server_keys = {
  enabled = 'enabled',
  model = 'model',
  format = 'format',
  endpoint = 'endpoint',
  max_tokens = 'maxTokens',
  region_lines = 'regionLines',
  debounce_ms = 'debounceMs',
}

--- Validators: each returns whether v is good and what is expected, in words.
---@alias qwen.Validator fun(v: any): boolean, string

---@param t string
---@return qwen.Validator
local function is(t)
  local words = ({ boolean = 'true or false', table = 'a table', number = 'a number', string = 'a string' })[t] or t
  return function(v)
    return type(v) == t, words
  end
end

---@param values string[]
---@return qwen.Validator
local function one_of(values)
  return function(v)
    return vim.tbl_contains(values, v), 'one of ' .. table.concat(vim.tbl_map(function(x)
      return ('%q'):format(x)
    end, values), ', ')
  end
end

local function list_of_strings(v)
  if type(v) ~= 'table' then
    return false, 'a list of strings'
  end
  for _, s in ipairs(v) do
    if type(s) ~= 'string' then
      return false, 'a list of strings'
    end
  end
  return true, 'a list of strings'
end

local function key(v)
  return v == false or (type(v) == 'string' and v ~= ''), 'a key such as "<Tab>", or false'
end

local function non_negative(v)
  return type(v) == 'number' and v >= 0, 'a number >= 0'
end

local function positive_int(v)
  return type(v) == 'number' and v >= 1 and math.floor(v) == v, 'a whole number >= 1'
end

local function optional(validator)
  return function(v)
    local ok, words = validator(v)
    return v == nil or ok, words .. ' (or nil)'
  end
end

--- Every checked option: dotted path and validator, parents before children.
---@type {[1]: string, [2]: qwen.Validator}[]
local checks = {
  { 'cmd', list_of_strings },
  { 'cmd_env', optional(is('table')) },
  { 'root_markers', list_of_strings },
  { 'filetypes', optional(list_of_strings) },
  { 'settings', is('table') },
  { 'completion', is('table') },
  { 'completion.enabled', is('boolean') },
  { 'completion.auto_trigger', is('boolean') },
  { 'completion.filetypes', is('table') },
  { 'completion.debounce_ms', non_negative },
  { 'completion.engine', one_of({ 'auto', 'builtin', 'extmark' }) },
  { 'completion.keymaps', is('table') },
  { 'chat', is('table') },
  { 'chat.layout', one_of({ 'vsplit', 'split', 'float', 'tab' }) },
  { 'chat.width', is('number') },
  { 'chat.height', is('number') },
  { 'chat.include_repo_context', is('boolean') },
  { 'actions', is('table') },
  { 'actions.preview', is('boolean') },
  { 'next_edit', is('table') },
  { 'next_edit.enabled', optional(is('boolean')) },
  { 'next_edit.model', optional(is('string')) },
  { 'next_edit.format', optional(one_of({ 'sweep', 'zeta', 'instinct', 'chat' })) },
  { 'next_edit.endpoint', function(v)
    return v == nil or type(v) == 'string' or type(v) == 'table', 'a base URL or an endpoint table (or nil)'
  end },
  { 'next_edit.max_tokens', optional(positive_int) },
  { 'next_edit.region_lines', optional(positive_int) },
  { 'next_edit.debounce_ms', optional(non_negative) },
  { 'next_edit.auto_trigger', is('boolean') },
  { 'next_edit.keymaps', is('table') },
}
for name, _ in pairs(M.defaults.completion.keymaps) do
  table.insert(checks, { 'completion.keymaps.' .. name, key })
end
for name, _ in pairs(M.defaults.next_edit.keymaps) do
  table.insert(checks, { 'next_edit.keymaps.' .. name, key })
end

---@param t table
---@param path string
---@return any
local function get(t, path)
  return vim.tbl_get(t, unpack(vim.split(path, '.', { plain = true })))
end

---@param t table
---@param path string
---@param value any
local function set(t, path, value)
  local parts = vim.split(path, '.', { plain = true })
  for i = 1, #parts - 1 do
    t = t[parts[i]]
  end
  t[parts[#parts]] = value
end

---@param v any
---@return string
local function show(v)
  if type(v) == 'string' then
    return ('%q'):format(v)
  end
  return (vim.inspect(v):gsub('%s+', ' '))
end

--- Report option names the defaults do not know (typos), once per setup().
---@param user table
---@param defaults table
---@param prefix string
---@param out string[]
local function unknown_keys(user, defaults, prefix, out)
  for k, v in pairs(user) do
    local path = prefix == '' and tostring(k) or (prefix .. '.' .. tostring(k))
    local known = defaults[k]
    -- settings and per-filetype tables are open-ended.
    if path == 'settings' or path == 'completion.filetypes' or path == 'cmd_env' or path == 'next_edit.endpoint' then
      goto continue
    end
    local optional_field = (prefix == '' and (k == 'filetypes' or k == 'cmd_env'))
      or (prefix == 'next_edit' and M.next_edit_server_keys[k] ~= nil)
    if known == nil and not optional_field then
      table.insert(out, path)
    elseif type(known) == 'table' and type(v) == 'table' and not vim.islist(known) then
      unknown_keys(v, known, path, out)
    end
    ::continue::
  end
end

--- Merge user options over the defaults and validate them. Never raises: a bad value is
--- replaced by its default and described in a message naming the option, what it expects
--- and the default used.
---@param user? qwen.UserConfig
---@return qwen.Config config
---@return string[] unknown option names
---@return string[] problems one line per bad option
function M.resolve(user)
  local problems = {}
  if user ~= nil and type(user) ~= 'table' then
    table.insert(problems, ('setup(opts): expected a table, got %s; using the defaults'):format(show(user)))
    user = nil
  end
  user = user or {}
  local defaults = vim.deepcopy(M.defaults)
  -- Merge only where both sides are tables, so a bad type cannot break the merge.
  local ok, merged = pcall(vim.tbl_deep_extend, 'force', defaults, user)
  ---@type qwen.Config
  local c = ok and merged or vim.deepcopy(M.defaults)
  -- Lists replace, they do not merge index by index.
  for _, k in ipairs({ 'cmd', 'root_markers', 'filetypes' }) do
    if user[k] ~= nil then
      c[k] = user[k]
    end
  end
  if type(c.cmd) == 'string' then
    c.cmd = { c.cmd }
  end
  for _, chk in ipairs(checks) do
    local path, validator = chk[1], chk[2]
    local value = get(c, path)
    local good, expected = validator(value)
    if not good then
      local default = get(M.defaults, path)
      table.insert(problems, ('%s: expected %s, got %s; using the default (%s)'):format(path, expected, show(value),
        show(default)))
      set(c, path, vim.deepcopy(default))
    end
  end
  if #c.cmd == 0 then
    table.insert(problems, ('cmd: expected a command such as { "qwen-lsp" }, got {}; using the default (%s)')
      :format(show(M.defaults.cmd)))
    c.cmd = vim.deepcopy(M.defaults.cmd)
  end
  local unknown = {}
  unknown_keys(user, M.defaults, '', unknown)
  table.sort(unknown)
  return c, unknown, problems
end

---@type qwen.Config
M.current = vim.deepcopy(M.defaults)

--- Whether ghost text is wanted for a filetype.
---@param ft string
---@return boolean
function M.filetype_enabled(ft)
  local fts = M.current.completion.filetypes
  local v = fts[ft]
  if v == nil then
    v = fts['*']
  end
  return v ~= false
end

return M
