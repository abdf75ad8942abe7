---@brief Starting the server and talking to it, across Neovim 0.10, 0.11 and 0.12.
---Everything version-dependent about `vim.lsp` lives here.

local config = require('qwen.config')

local M = {}

M.name = 'qwen'

local has_011 = vim.fn.has('nvim-0.11') == 1

---@type table<string, lsp.Handler>
M.handlers = {}

---@type fun(client: vim.lsp.Client, bufnr: integer)[]
M.on_attach_hooks = {}

--- Server commands the client handles itself (see qwen.actions).
---@type table<string, fun(command: lsp.Command, ctx: table)>
M.commands = {}

--- Return the running qwen client for a buffer (or any qwen client when bufnr is nil).
---@param bufnr? integer
---@return vim.lsp.Client?
function M.get_client(bufnr)
  local clients = vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
  return clients[1]
end

--- Send a request; works with the 0.10 (dot) and 0.11+ (method) client APIs.
---@param client vim.lsp.Client
---@param method string
---@param params table?
---@param handler? lsp.Handler
---@param bufnr? integer
---@return boolean ok
---@return integer? request_id
function M.request(client, method, params, handler, bufnr)
  handler = handler or function() end
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

---@param client vim.lsp.Client
---@param method string
---@param params table?
---@return boolean
function M.notify(client, method, params)
  if has_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

---@param client vim.lsp.Client
---@param id integer
function M.cancel(client, id)
  if has_011 then
    client:cancel_request(id)
  else
    client.cancel_request(id)
  end
end

--- Cancel the client's pending requests of one method for one buffer.
---@param client vim.lsp.Client
---@param method string
---@param bufnr? integer
---@return integer count cancelled
function M.cancel_pending(client, method, bufnr)
  local n = 0
  for id, req in pairs(client.requests or {}) do
    if req.type == 'pending' and req.method == method and (bufnr == nil or req.bufnr == bufnr) then
      M.cancel(client, id)
      n = n + 1
    end
  end
  return n
end

--- Whether the server advertised a capability (dotted path into server_capabilities).
---@param client vim.lsp.Client
---@param path string
---@return boolean
function M.supports(client, path)
  local caps = client.server_capabilities or {}
  return vim.tbl_get(caps, unpack(vim.split(path, '.', { plain = true }))) ~= nil
end

--- An empty Lua table encodes as a JSON list (`[]`); the server wants objects.
---@param t table
---@return table
local function object(t)
  return next(t) == nil and vim.empty_dict() or t
end

--- The server settings: `settings` with the `next_edit` options merged in as `nextEdit`,
--- each section (and the whole) an object even when empty.
---@return table
function M.server_settings()
  local c = config.current
  local s = vim.deepcopy(c.settings)
  local ne = type(s.nextEdit) == 'table' and s.nextEdit or {}
  for lua_name, wire_name in pairs(config.next_edit_server_keys) do
    if c.next_edit[lua_name] ~= nil then
      ne[wire_name] = c.next_edit[lua_name]
    end
  end
  if next(ne) ~= nil then
    s.nextEdit = ne
  end
  for k, v in pairs(s) do
    if type(v) == 'table' then
      s[k] = object(v)
    end
  end
  return object(s)
end

--- Settings as the server expects them: `{ qwen = settings }`.
---@return table
local function settings_table()
  return { qwen = M.server_settings() }
end

---@param client vim.lsp.Client
---@param bufnr integer
local function on_attach(client, bufnr)
  for _, hook in ipairs(M.on_attach_hooks) do
    local ok, err = pcall(hook, client, bufnr)
    if not ok then
      vim.notify('qwen: ' .. tostring(err), vim.log.levels.ERROR)
    end
  end
end

--- Neovim's client capabilities, plus what it supports without saying so: it applies
--- `documentChanges` (and advertises create/rename/delete resource operations, which only
--- exist inside them), which the server needs to create a test file.
---@return table
local function capabilities()
  return vim.tbl_deep_extend('force', vim.lsp.protocol.make_client_capabilities(), {
    workspace = { workspaceEdit = { documentChanges = true } },
  })
end

--- The client config shared by every Neovim version.
---@return table
local function client_config()
  local c = config.current
  return {
    name = M.name,
    cmd = c.cmd,
    -- A cmd like { 'python', '-m', 'lsp_server' } must not import modules from the working
    -- directory (the project): a file there named like a dependency would run.
    cmd_env = vim.tbl_extend('force', c.cmd_env or {}, { PYTHONSAFEPATH = '1' }),
    root_markers = c.root_markers,
    filetypes = c.filetypes,
    capabilities = capabilities(),
    init_options = M.server_settings(),
    settings = settings_table(),
    handlers = M.handlers,
    commands = M.commands,
    on_attach = on_attach,
    -- The server streams deltas; do not let a slow UI hold them back.
    flags = { allow_incremental_sync = true, debounce_text_changes = 0 },
  }
end

local augroup = vim.api.nvim_create_augroup('qwen.lsp', { clear = true })

---@param bufnr integer
---@return boolean
local function wanted(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= '' then
    return false
  end
  local fts = config.current.filetypes
  local ft = vim.bo[bufnr].filetype
  if ft == '' then
    return false
  end
  return fts == nil or vim.tbl_contains(fts, ft)
end

local missing_told = nil ---@type string? the command we last said is missing

--- Say once, when a buffer the server would serve opens, that the command cannot run:
--- Neovim itself only logs it.
---@param bufnr integer
local function check_executable(bufnr)
  local exe = config.current.cmd[1]
  if missing_told == exe or not wanted(bufnr) then
    return
  end
  if exe and vim.fn.executable(exe) == 0 then
    missing_told = exe
    vim.notify(('qwen: `%s` is not executable or not on PATH, so the server cannot start. Install it '
      .. '(see :h qwen-requirements) or set `cmd` in setup(); :checkhealth qwen has details.'):format(exe),
      vim.log.levels.ERROR)
  end
end

--- Start (0.10) the client for one buffer.
---@param bufnr integer
local function start_010(bufnr)
  if not wanted(bufnr) then
    return
  end
  local c = client_config()
  local fname = vim.api.nvim_buf_get_name(bufnr)
  local found = vim.fs.find(c.root_markers, { path = vim.fs.dirname(fname), upward = true })[1]
  c.root_dir = found and vim.fs.dirname(found) or vim.fs.dirname(fname)
  c.root_markers = nil
  c.filetypes = nil
  vim.lsp.start(c, { bufnr = bufnr })
end

local enabled = false

vim.api.nvim_create_autocmd('FileType', {
  group = vim.api.nvim_create_augroup('qwen.lsp.cmd', { clear = true }),
  callback = function(args)
    if enabled then
      check_executable(args.buf)
    end
  end,
})

--- Register (or refresh) the server config and start it for matching buffers.
--- Safe to call again: running clients get the new settings.
function M.enable()
  if has_011 then
    vim.lsp.config(M.name, client_config())
    if not enabled then
      vim.lsp.enable(M.name)
    end
  elseif not enabled then
    vim.api.nvim_create_autocmd('FileType', {
      group = augroup,
      callback = function(args)
        start_010(args.buf)
      end,
    })
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(buf) then
        start_010(buf)
      end
    end
  end
  enabled = true
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) then
      check_executable(buf)
    end
  end
  for _, client in ipairs(vim.lsp.get_clients({ name = M.name })) do
    client.settings = settings_table()
    M.notify(client, 'workspace/didChangeConfiguration', { settings = settings_table() })
  end
end

--- Stop the running servers and start them again for the buffers they served (after the
--- command changed, say).
function M.restart()
  local clients = vim.lsp.get_clients({ name = M.name })
  if #clients == 0 then
    return
  end
  local bufs = {}
  for _, client in ipairs(clients) do
    for buf in pairs(client.attached_buffers or {}) do
      bufs[#bufs + 1] = buf
    end
    if has_011 then client:stop() else client.stop() end
  end
  vim.wait(3000, function()
    return #vim.lsp.get_clients({ name = M.name }) == 0
  end, 20)
  for _, buf in ipairs(bufs) do
    if vim.api.nvim_buf_is_loaded(buf) then
      if has_011 then
        vim.api.nvim_exec_autocmds('FileType', { group = 'nvim.lsp.enable', buffer = buf, modeline = false })
      else
        start_010(buf)
      end
    end
  end
end

--- Stop the server and forget the config.
function M.disable()
  if has_011 then
    vim.lsp.enable(M.name, false)
  else
    vim.api.nvim_clear_autocmds({ group = augroup })
    for _, client in ipairs(vim.lsp.get_clients({ name = M.name })) do
      client.stop()
    end
  end
  enabled = false
end

--- Execute a server command (workspace/executeCommand).
---@param client vim.lsp.Client
---@param command lsp.Command
---@param bufnr? integer
---@param handler? lsp.Handler
---@return boolean ok
---@return integer? request_id
function M.exec_command(client, command, bufnr, handler)
  return M.request(client, 'workspace/executeCommand', {
    command = command.command,
    arguments = command.arguments,
  }, handler, bufnr)
end

return M
