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
---@field debounce_ms integer Quiet time before asking (extmark engine; the built-in has its own).
---@field engine "auto"|"builtin"|"extmark" `auto`: built-in `vim.lsp.inline_completion` on 0.12+, extmarks before.
---@field keymaps qwen.Keymaps

---@class qwen.ChatOptions
---@field layout "vsplit"|"split"|"float"|"tab" Where `:QwenChat` opens.
---@field width number Columns for vsplit/float (<1 means a fraction of the editor).
---@field height number Lines for split/float (<1 means a fraction of the editor).
---@field include_repo_context boolean Ask the server to add repository context to chat turns.

---@class qwen.ActionsOptions
---@field preview boolean Show edits from the server as a diff and ask before applying them.

---@class qwen.Config
---@field cmd string[] Command that starts the server.
---@field cmd_env? table<string, string> Extra environment for the server.
---@field root_markers string[] Files or folders that mark a project root.
---@field filetypes? string[] Filetypes the server attaches to; nil means every filetype.
---@field settings qwen.ServerSettings Server settings (camelCase), see `:h qwen-settings`.
---@field completion qwen.CompletionOptions
---@field chat qwen.ChatOptions
---@field actions qwen.ActionsOptions

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
    debounce_ms = 150,
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
}

---@param name string
---@param value any
---@param validator string|string[]|fun(v: any): boolean, string?
---@param optional? boolean
---@param message? string
local function check(name, value, validator, optional, message)
  if vim.fn.has('nvim-0.11') == 1 then
    vim.validate(name, value, validator, optional, message)
  else
    vim.validate({ [name] = { value, validator, message or optional } })
  end
end

local function one_of(values)
  return function(v)
    return vim.tbl_contains(values, v), 'one of ' .. table.concat(values, ', ')
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
  return true
end

local function key(v)
  return v == false or type(v) == 'string', 'a key (string) or false'
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
    if path == 'settings' or path == 'completion.filetypes' or path == 'cmd_env' then
      goto continue
    end
    if known == nil and not (prefix == '' and (k == 'filetypes' or k == 'cmd_env')) then
      table.insert(out, path)
    elseif type(known) == 'table' and type(v) == 'table' and not vim.islist(known) then
      unknown_keys(v, known, path, out)
    end
    ::continue::
  end
end

--- Merge user options over the defaults and validate them.
--- Raises an error naming the bad option and what it expects.
---@param user? qwen.UserConfig
---@return qwen.Config config
---@return string[] unknown option names
function M.resolve(user)
  local ok, err = pcall(check, 'opts', user, 'table', true)
  if not ok then
    error('qwen.setup: ' .. err, 0)
  end
  user = user or {}
  ---@type qwen.Config
  local c = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), user)
  -- Lists replace, they do not merge index by index.
  for _, k in ipairs({ 'cmd', 'root_markers', 'filetypes' }) do
    if user[k] ~= nil then
      c[k] = user[k]
    end
  end
  if type(c.cmd) == 'string' then
    c.cmd = { c.cmd }
  end

  ok, err = pcall(function()
    check('cmd', c.cmd, list_of_strings)
    check('cmd_env', c.cmd_env, 'table', true)
    check('root_markers', c.root_markers, list_of_strings)
    check('filetypes', c.filetypes, list_of_strings, true)
    check('settings', c.settings, 'table')
    check('completion', c.completion, 'table')
    check('completion.enabled', c.completion.enabled, 'boolean')
    check('completion.auto_trigger', c.completion.auto_trigger, 'boolean')
    check('completion.filetypes', c.completion.filetypes, 'table')
    check('completion.debounce_ms', c.completion.debounce_ms, function(v)
      return type(v) == 'number' and v >= 0, 'a number >= 0'
    end)
    check('completion.engine', c.completion.engine, one_of({ 'auto', 'builtin', 'extmark' }))
    check('completion.keymaps', c.completion.keymaps, 'table')
    for name, _ in pairs(M.defaults.completion.keymaps) do
      check('completion.keymaps.' .. name, c.completion.keymaps[name], key)
    end
    check('chat', c.chat, 'table')
    check('chat.layout', c.chat.layout, one_of({ 'vsplit', 'split', 'float', 'tab' }))
    check('chat.width', c.chat.width, 'number')
    check('chat.height', c.chat.height, 'number')
    check('chat.include_repo_context', c.chat.include_repo_context, 'boolean')
    check('actions', c.actions, 'table')
    check('actions.preview', c.actions.preview, 'boolean')
  end)
  if not ok then
    error('qwen.setup: invalid option ' .. tostring(err), 0)
  end
  if #c.cmd == 0 then
    error('qwen.setup: invalid option cmd: expected a command, e.g. { "qwen-lsp" }', 0)
  end
  local unknown = {}
  unknown_keys(user, M.defaults, '', unknown)
  table.sort(unknown)
  return c, unknown
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
