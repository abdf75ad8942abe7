-- Test helpers: a child Neovim driven over RPC, the fake model endpoint, temp workspaces.
local uv = vim.uv or vim.loop

local M = {}

M.root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
M.repo = vim.fn.fnamemodify(M.root, ':h:h')
M.engine = os.getenv('QWEN_NVIM_ENGINE') or 'builtin'
M.server_cmd = os.getenv('QWEN_LSP_CMD') or 'qwen-lsp'
M.python = os.getenv('QWEN_TEST_PYTHON') or 'python3'
M.timeout = tonumber(os.getenv('QWEN_TEST_TIMEOUT') or '') or 10000

--- Raise a skip: the runner reports it as skipped, not passed.
---@param reason string
function M.skip(reason)
  error({ skip = reason }, 0)
end

--- Raise an expected failure: a known problem outside the client (named in reason). The
--- runner reports it as XFAIL, neither passed nor failed.
---@param reason string
function M.xfail(reason)
  error({ xfail = reason }, 0)
end

---@param cond any
---@param msg string
function M.ok(cond, msg)
  if not cond then
    error(msg, 2)
  end
end

---@param got any
---@param want any
---@param what? string
function M.eq(got, want, what)
  if not vim.deep_equal(got, want) then
    error(('%s: expected %s, got %s'):format(what or 'value', vim.inspect(want), vim.inspect(got)), 2)
  end
end

--- Wait until fn() returns a truthy value; fail with msg (and what the last call returned).
---@param fn fun(): any
---@param msg string
---@param timeout? integer
---@return any
function M.wait(fn, msg, timeout)
  local last, err
  local ok = vim.wait(timeout or M.timeout, function()
    local good, v = pcall(fn)
    if not good then
      err = v
      return false
    end
    if v == vim.NIL then
      v = nil
    end
    last = v
    return v and true or false
  end, 20)
  if not ok then
    error(('timed out: %s (last: %s%s)'):format(msg, vim.inspect(last), err and (', error: ' .. tostring(err)) or ''), 2)
  end
  return last
end

-- HTTP to the fake endpoint ------------------------------------------------------

--- One HTTP/1.1 request with a JSON body; returns the decoded JSON answer.
---@param method string
---@param path string
---@param body? table
---@return any
function M.http(method, path, body)
  local port = assert(M.endpoint_port, 'fake endpoint not running')
  local tcp = uv.new_tcp()
  local chunks, done, failure = {}, false, nil
  local payload = body and vim.json.encode(body) or ''
  tcp:connect('127.0.0.1', port, function(e)
    if e then
      failure, done = e, true
      return
    end
    tcp:write(('%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s')
      :format(method, path, #payload, payload))
    tcp:read_start(function(e2, data)
      if e2 then
        failure = e2
      end
      if data then
        chunks[#chunks + 1] = data
      else
        tcp:close()
        done = true
      end
    end)
  end)
  vim.wait(5000, function() return done end, 5)
  if not done then
    pcall(tcp.close, tcp)
    error('fake endpoint: no answer to ' .. method .. ' ' .. path)
  end
  if failure then
    error('fake endpoint: ' .. tostring(failure))
  end
  local raw = table.concat(chunks)
  local body_text = raw:match('\r\n\r\n(.*)$') or ''
  return body_text ~= '' and vim.json.decode(body_text) or nil
end

--- Script the next replies (and optionally the default) of the fake endpoint.
---@param replies table[]
---@param default? table
function M.script(replies, default)
  M.http('POST', '/_control/replies', { replies = replies, default = default })
end

---@return {requests: table[], disconnects: integer, completed: integer}
function M.recorded()
  return M.http('GET', '/_control/requests')
end

--- Generation requests (POST) the endpoint has seen.
---@return table[]
function M.generations()
  local out = {}
  for _, r in ipairs(M.recorded().requests) do
    if r.method == 'POST' then
      out[#out + 1] = r
    end
  end
  return out
end

function M.reset_endpoint(default)
  M.http('POST', '/_control/reset')
  if default then
    M.script({}, default)
  end
end

--- Start the fake endpoint (once per run).
---@param default_text string
function M.start_endpoint(default_text)
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  local port_file = dir .. '/port'
  local script = os.getenv('QWEN_FAKE_ENDPOINT') or (M.repo .. '/tests/fake_endpoint.py')
  M.endpoint_job = vim.fn.jobstart({ M.python, script, '--port-file', port_file, '--text', default_text }, {
    on_stderr = function(_, data)
      for _, l in ipairs(data) do
        if l ~= '' then
          io.stderr:write('[fake endpoint] ' .. l .. '\n')
        end
      end
    end,
  })
  M.wait(function() return vim.fn.filereadable(port_file) == 1 end, 'fake endpoint port file', 15000)
  M.endpoint_port = tonumber(vim.fn.readfile(port_file)[1])
  M.endpoint_url = ('http://127.0.0.1:%d/v1'):format(M.endpoint_port)
end

function M.stop_endpoint()
  if M.endpoint_job then
    vim.fn.jobstop(M.endpoint_job)
    M.endpoint_job = nil
  end
end

-- Workspaces ---------------------------------------------------------------------

--- A temp project: files is { [relative path] = content }.
---@param files table<string, string>
---@return string dir
function M.workspace(files)
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  for path, content in pairs(files) do
    local full = dir .. '/' .. path
    vim.fn.mkdir(vim.fn.fnamemodify(full, ':h'), 'p')
    vim.fn.writefile(vim.split(content, '\n', { plain = true }), full)
  end
  return dir
end

-- The child Neovim ----------------------------------------------------------------

---@class qwen.test.Child
---@field chan integer
---@field dir string
local Child = {}
Child.__index = Child

--- Start a child Neovim in dir with the plugin on its runtimepath (setup not called).
---@param dir string
---@return qwen.test.Child
function M.child(dir)
  local home = vim.fn.tempname()
  vim.fn.mkdir(home, 'p')
  local env = {
    XDG_CONFIG_HOME = home .. '/config', XDG_DATA_HOME = home .. '/data',
    XDG_STATE_HOME = home .. '/state', XDG_CACHE_HOME = home .. '/cache',
    NVIM_LOG_FILE = home .. '/nvim.log',
  }
  local chan = vim.fn.jobstart({ vim.v.progpath, '--embed', '--headless', '--clean', '-n', '-u', M.root .. '/tests/minimal_init.lua' }, {
    rpc = true, cwd = dir, env = env,
  })
  assert(chan > 0, 'could not start child nvim')
  local self = setmetatable({ chan = chan, dir = dir, home = home }, Child)
  M.children[#M.children + 1] = self
  self:lua('return 1')
  return self
end

M.children = {}

--- Run Lua in the child: code is a chunk body; `...` are the args. Returns its result.
---@param code string
---@return any
function Child:lua(code, ...)
  local v = vim.rpcrequest(self.chan, 'nvim_exec_lua', code, { ... })
  if v == vim.NIL then
    return nil
  end
  return v
end

--- Feed keys as typed (see nvim_input).
---@param keys string
function Child:input(keys)
  vim.rpcrequest(self.chan, 'nvim_input', keys)
end

---@param cmd string
function Child:cmd(cmd)
  vim.rpcrequest(self.chan, 'nvim_command', cmd)
end

--- Wait until the child evaluates code (Lua chunk returning a value) to something truthy.
---@param code string
---@param msg string
---@param timeout? integer
---@return any
function Child:wait(code, msg, timeout)
  return M.wait(function()
    return self:lua(code)
  end, msg, timeout)
end

---@return string[]
function Child:lines()
  return self:lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)')
end

---@return string
function Child:mode()
  return self:lua('return vim.api.nvim_get_mode().mode')
end

--- Call setup() pointing at the fake endpoint with the engine under test; extra opts merge in.
---@param extra? table
function Child:setup(extra)
  local opts = vim.tbl_deep_extend('force', {
    cmd = vim.split(M.server_cmd, ' ', { trimempty = true }),
    completion = { engine = M.engine },
    settings = {
      endpoint = { baseUrl = M.endpoint_url, provider = 'openai', apiKey = 'test-key' },
      completion = { model = 'qwen-test' },
      chat = { model = 'qwen-test' },
    },
  }, extra or {})
  self:lua('require("qwen").setup(...)', opts)
end

--- Options for a set-up as the README writes it, `setup({})`, but with the server pointed at
--- the fake endpoint through its environment (so `settings` stays empty) and the engine
--- under test.
---@return table
function M.default_opts()
  return {
    cmd = vim.split(M.server_cmd, ' ', { trimempty = true }),
    cmd_env = {
      QWEN_LSP_BASE_URL = M.endpoint_url, QWEN_LSP_PROVIDER = 'openai', QWEN_LSP_API_KEY = 'test-key',
      QWEN_LSP_COMPLETION_MODEL = 'qwen-test', QWEN_LSP_CHAT_MODEL = 'qwen-test',
    },
    completion = { engine = M.engine },
  }
end

--- Spy on what the qwen client sends: requests and notifications, in order.
function Child:spy()
  self:lua([[
    _G.sent = {}
    local client = require('qwen.lsp').get_client()
    assert(client, 'no qwen client')
    local req, notify = client.request, client.notify
    client.request = function(c, method, params, ...)
      table.insert(_G.sent, { kind = 'request', method = method, params = params })
      return req(c, method, params, ...)
    end
    client.notify = function(c, method, params, ...)
      table.insert(_G.sent, { kind = 'notify', method = method, params = params })
      return notify(c, method, params, ...)
    end
  ]])
end

---@param method string
---@return table[]
function Child:sent(method)
  return self:lua([[
    local out = {}
    for _, m in ipairs(_G.sent or {}) do
      if m.method == ... then out[#out + 1] = m.params end
    end
    return out
  ]], method)
end

--- Wait until the client has sent method at least once; return the params sent.
---@param method string
---@return table[]
function Child:wait_sent(method)
  return M.wait(function()
    local sent = self:sent(method)
    return #sent > 0 and sent or nil
  end, method .. ' sent')
end

--- Run `:checkhealth qwen` and return its report.
---@return string
function Child:checkhealth()
  self:cmd('checkhealth qwen')
  return self:wait([[
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.bo[b].filetype == 'checkhealth' then
        local text = table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\n')
        if text:find('qwen: plugin', 1, true) then return text end
      end
    end
  ]], 'the :checkhealth qwen report', 40000)
end

--- Open a file of the workspace and wait for the server to attach.
---@param path string
function Child:edit(path)
  self:cmd('edit ' .. vim.fn.fnameescape(path))
  self:wait('return require("qwen.lsp").get_client(0) ~= nil and require("qwen.lsp").get_client(0).initialized',
    'qwen-lsp attached to ' .. path, 20000)
end

--- Lines of the child's :messages and the tail of its LSP log, for failure reports.
---@return string
function Child:diagnostics()
  local ok, out = pcall(self.lua, self, [[
    local msgs = vim.api.nvim_exec2('messages', { output = true }).output
    local log = vim.lsp.get_log_path()
    local tail = ''
    if vim.fn.filereadable(log) == 1 then
      local lines = vim.fn.readfile(log)
      tail = table.concat(vim.list_slice(lines, math.max(1, #lines - 15)), '\n')
    end
    return 'messages:\n' .. msgs .. '\nlsp.log (tail):\n' .. tail
  ]])
  return ok and out or ('(child unreachable: ' .. tostring(out) .. ')')
end

function Child:stop()
  pcall(vim.rpcrequest, self.chan, 'nvim_exec_lua', [[
    for _, c in ipairs(vim.lsp.get_clients()) do c:stop(true) end
  ]], {})
  pcall(vim.fn.jobstop, self.chan)
end

function M.stop_children()
  for _, c in ipairs(M.children) do
    c:stop()
  end
  M.children = {}
end

return M
