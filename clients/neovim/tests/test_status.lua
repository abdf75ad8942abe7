-- Status: qwen/status notifications, statusline, :QwenStatus with qwen/stats, :checkhealth.
local h = require('helpers')

local T = {}

---@param extra? table
---@return qwen.test.Child
local function start(extra)
  local dir = h.workspace({ ['main.py'] = 'x = 1\n', ['pyproject.toml'] = '' })
  local child = h.child(dir)
  child:setup(extra)
  child:edit(dir .. '/main.py')
  return child
end

function T.statusline_and_status_report()
  local child = start()
  local line = child:wait([[local s = require('qwen').statusline() return s ~= '' and s]], 'statusline')
  h.ok(line:match('^Qwen'), 'statusline: ' .. line)
  child:cmd('QwenStatus')
  local report = child:wait([[return require('qwen.status').last_report]], ':QwenStatus report')
  local text = table.concat(report, '\n')
  h.ok(text:find('endpoint', 1, true) and text:find('127.0.0.1', 1, true), 'endpoint in report:\n' .. text)
  h.ok(text:find('stats:', 1, true), 'qwen/stats in report:\n' .. text)
  h.ok(text:find('engine ' .. h.engine, 1, true), 'engine in report:\n' .. text)
end

function T.status_report_is_readable()
  -- Settings empty (as with setup({})): the model must come from the server.
  local dir = h.workspace({ ['main.py'] = 'x = 1\n', ['pyproject.toml'] = '' })
  local child = h.child(dir)
  child:lua('require("qwen").setup(...)', h.default_opts())
  child:edit(dir .. '/main.py')
  child:cmd('QwenStatus')
  local report = child:wait([[return require('qwen.status').last_report]], ':QwenStatus report')
  local text = table.concat(report, '\n')
  h.ok(vim.tbl_contains(report, ('%-12s %s'):format('model', 'qwen-test')), 'the model the server uses:\n' .. text)
  h.ok(vim.tbl_contains(report, ('%-12s %s (openai)'):format('endpoint', h.endpoint_url)), 'the endpoint:\n' .. text)
  h.ok(text:find('state', 1, true) and text:find('last error   none', 1, true), 'state and last error:\n' .. text)
  h.ok(not text:find('vim.NIL', 1, true), 'no vim.NIL:\n' .. text)
  h.ok(not text:find('[{}]'), 'no raw Lua tables:\n' .. text)
end

function T.server_status_notification_reaches_the_statusline()
  local dir = h.workspace({ ['main.py'] = 'x = 1\n', ['pyproject.toml'] = '' })
  local child = h.child(dir)
  -- Record what the statusline shows at each status change.
  child:lua([[
    _G.lines = {}
    require('qwen.status').on_change(function() table.insert(_G.lines, require('qwen').statusline()) end)
  ]])
  child:setup()
  child:edit(dir .. '/main.py')
  -- A failing endpoint must surface as an error.
  h.script({}, { status = 500 })
  child:cmd('call cursor(1, 6)')
  child:input('A')
  local ok = pcall(child.wait, child, [[return require('qwen.status').current.last_error]],
    'qwen/status error after the endpoint failed', 8000)
  if not ok then
    error('no qwen/status {state="error"} notification after HTTP 500 from the endpoint; status: '
      .. vim.inspect(child:lua([[return require('qwen.status').current]])))
  end
  local shown = child:lua('return _G.lines')
  h.ok(vim.tbl_contains(shown, 'Qwen error'), 'statusline showed the error: ' .. vim.inspect(shown))
  h.ok(child:lua([[return require('qwen.status').current.last_error]]):find('500', 1, true), 'last error kept')
end

function T.progress_shows_in_the_statusline()
  local child = start()
  -- The server indexes the test workspace too: let its own indexing finish first, so that
  -- only the synthetic events below drive the statusline.
  child:wait('return require("qwen.status").current.message == "index ready"', 'server indexing over', 15000)
  -- Exactly what Neovim emits for a $/progress notification of our client.
  local line = child:lua([[
    local id = require('qwen.lsp').get_client().id
    vim.api.nvim_exec_autocmds('LspProgress', { pattern = 'begin', data = { client_id = id,
      params = { token = 't', value = { kind = 'begin', title = 'Indexing', percentage = 40 } } } })
    return require('qwen').statusline()
  ]])
  h.eq(line, 'Qwen indexing 40%', 'statusline while indexing')
  line = child:lua([[
    local id = require('qwen.lsp').get_client().id
    vim.api.nvim_exec_autocmds('LspProgress', { pattern = 'end', data = { client_id = id,
      params = { token = 't', value = { kind = 'end' } } } })
    return require('qwen').statusline()
  ]])
  h.ok(not line:find('indexing', 1, true), 'indexing over: ' .. line)
end

function T.server_indexing_progress_arrives()
  local dir = h.workspace({ ['main.py'] = 'x = 1\n', ['util.py'] = 'def f():\n    return 1\n', ['pyproject.toml'] = '' })
  local child = h.child(dir)
  child:lua([[
    _G.progress = {}
    vim.api.nvim_create_autocmd('LspProgress', { callback = function(a) table.insert(_G.progress, a.data) end })
  ]])
  child:setup()
  child:edit(dir .. '/main.py')
  local ok = pcall(child.wait, child, 'return #_G.progress > 0', 'progress', 8000)
  if not ok then
    h.skip('the server sent no $/progress for indexing (not wired yet)')
  end
  child:wait([[local p = require('qwen.status').current.progress return p and p.done]], 'indexing finished', 30000)
end

function T.checkhealth_reports_ok()
  local child = start()
  local text = child:checkhealth()
  h.ok(text:find('qwen: server', 1, true), text)
  h.ok(not text:find('ERROR', 1, true), 'no errors expected:\n' .. text)
  h.ok(text:find('OK', 1, true), 'OK lines:\n' .. text)
  h.ok(text:find('server running', 1, true), text)
  local _, reachable = text:gsub('reachable', '')
  h.eq(reachable, 1, '"reachable" listed once:\n' .. text)
end

function T.checkhealth_reports_a_broken_endpoint()
  -- A port nothing listens on.
  local tcp = vim.uv.new_tcp()
  tcp:bind('127.0.0.1', 0)
  local port = tcp:getsockname().port
  tcp:close()
  local child = start({ settings = { endpoint = { baseUrl = ('http://127.0.0.1:%d/v1'):format(port) } } })
  local text = child:checkhealth()
  h.ok(text:find('ERROR', 1, true), 'an error for the endpoint:\n' .. text)
  h.ok(text:find(tostring(port), 1, true) or text:lower():find('connect', 1, true),
    'the error names the endpoint or the connection:\n' .. text)
end

return T
