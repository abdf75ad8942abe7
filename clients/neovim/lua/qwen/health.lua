---@brief `:checkhealth qwen`: Neovim version, the server executable, the endpoint (through
---`qwen-lsp doctor --json`) and the plugin's own state, each failure with what to do.

local M = {}

local health = vim.health

--- Environment for `qwen-lsp doctor` so it checks the endpoint the plugin configures.
---@param settings qwen.ServerSettings
---@return table<string, string>
function M.doctor_env(settings)
  local env = {}
  local e = settings.endpoint or {}
  local map = {
    QWEN_LSP_BASE_URL = e.baseUrl,
    QWEN_LSP_PROVIDER = e.provider,
    QWEN_LSP_API_KEY = e.apiKey,
    QWEN_LSP_COMPLETION_MODEL = vim.tbl_get(settings, 'completion', 'model'),
    QWEN_LSP_CHAT_MODEL = vim.tbl_get(settings, 'chat', 'model'),
  }
  for k, v in pairs(map) do
    if type(v) == 'string' and v ~= '' then
      env[k] = v
    end
  end
  return env
end

--- The server's environment, as lsp.lua starts it: python must not import from the cwd.
---@param c table
---@return table<string, string>
local function safe_env(c)
  return vim.tbl_extend('force', c.cmd_env or {}, { PYTHONSAFEPATH = '1' })
end

---@param cmd string[]
---@param env? table<string, string>
---@param timeout integer ms
---@return {code: integer, stdout: string, stderr: string}?
---@return string? error
local function run(cmd, env, timeout)
  local ok, obj = pcall(vim.system, cmd, { text = true, env = env, timeout = timeout })
  if not ok then
    return nil, tostring(obj)
  end
  local res = obj:wait()
  return { code = res.code, stdout = res.stdout or '', stderr = res.stderr or '' }
end

function M.check()
  local config = require('qwen.config')
  local c = config.current

  health.start('qwen: Neovim')
  local v = vim.version()
  local vs = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.10') == 0 then
    health.error('Neovim ' .. vs .. ' is too old', { 'Install Neovim 0.10 or newer.' })
  elseif vim.lsp.inline_completion then
    health.ok(('Neovim %s: ghost text through the built-in vim.lsp.inline_completion'):format(vs))
  else
    health.ok(('Neovim %s: ghost text drawn with extmarks (0.12 has a built-in)'):format(vs))
  end
  if not package.loaded['qwen'] or not require('qwen').did_setup then
    health.warn('require("qwen").setup() has not been called', { 'Call require("qwen").setup({...}) in your config.' })
  end

  health.start('qwen: server')
  local exe = c.cmd[1]
  local server_ok = false
  if vim.fn.executable(exe) == 0 then
    health.error(('`%s` is not executable or not on PATH'):format(exe), {
      'Install the server: pip install qwen-lsp (or pipx install qwen-lsp).',
      'Or point the plugin at it: require("qwen").setup({ cmd = { "/path/to/qwen-lsp" } }).',
    })
  else
    local res, err = run(vim.list_extend(vim.deepcopy(c.cmd), { '--version' }), safe_env(c), 10000)
    if not res or res.code ~= 0 then
      health.error(('`%s --version` failed: %s'):format(exe, err or vim.trim(res.stderr)), {
        'Reinstall the server, or check cmd in setup().',
      })
    else
      server_ok = true
      health.ok(('%s (%s)'):format(vim.trim(res.stdout), vim.fn.exepath(exe)))
    end
  end

  health.start('qwen: endpoint')
  if server_ok then
    local env = vim.tbl_extend('force', safe_env(c), M.doctor_env(c.settings))
    local res, err = run(vim.list_extend(vim.deepcopy(c.cmd), { 'doctor', '--json' }), env, 30000)
    local report = res and res.stdout ~= '' and select(2, pcall(vim.json.decode, res.stdout)) or nil
    if type(report) ~= 'table' or type(report.checks) ~= 'table' then
      health.error(('`%s doctor --json` gave no report: %s'):format(exe,
        err or (res and vim.trim(res.stderr ~= '' and res.stderr or res.stdout)) or '?'), {
        'Run `qwen-lsp doctor` in a terminal to see what is wrong.',
      })
    else
      -- One line per check the doctor ran; its verdict adds nothing a line does not say.
      for _, chk in ipairs(report.checks) do
        local msg = ('%s: %s'):format(chk.name or '?', chk.detail or '')
        if chk.ok then
          health.ok(msg)
        else
          health.error(msg, (type(chk.fix) == 'string' and chk.fix ~= '') and { chk.fix } or nil)
        end
      end
      if #report.checks == 0 then
        health.error('the endpoint check failed', { 'Run `qwen-lsp doctor` in a terminal.' })
      end
    end
  else
    health.warn('skipped: the server could not run')
  end

  health.start('qwen: plugin')
  local lsp = require('qwen.lsp')
  local client = lsp.get_client()
  if client then
    health.ok(('server running (client %d, root %s)'):format(client.id, client.root_dir or '(single file)'))
  else
    health.info('server not running yet: it starts when you open a file it serves')
  end
  local completion = require('qwen.completion')
  health.info('ghost text: ' .. completion.describe())
  for lhs, name in pairs(completion.skipped_keys) do
    health.warn(('%s is already mapped in insert mode, so qwen did not map it (%s)'):format(lhs, name), {
      ('Pick another key: setup({ completion = { keymaps = { %s = "<M-l>" } } })'):format(name),
      'Or call require("qwen").accept() etc. from your own mapping.',
    })
  end
  M.check_next_edit(client)
  local st = require('qwen.status').current
  if st.last_error then
    health.warn('last server error: ' .. st.last_error)
  end
end

--- Next edits: whether a model is configured and, when the server runs, what it answered.
---@param client? vim.lsp.Client
function M.check_next_edit(client)
  health.start('qwen: next edits')
  local ne_cfg = require('qwen.config').current.next_edit
  local next_edit = require('qwen.next_edit')
  if ne_cfg.enabled == false then
    health.info('off (next_edit.enabled = false)')
    return
  end
  local model, where = next_edit.model()
  if next_edit.enabled() then
    health.ok(('next-edit model: %s (from %s)'):format(model or '(the server default)', where or 'next_edit.enabled'))
  else
    health.info('no next-edit model set, so next edits are off; set one with '
      .. 'setup({ next_edit = { model = "..." } }) (see :h qwen-next-edit)')
    return
  end
  if not client then
    health.info('the server is not running: whether the model answers is known once it has been asked')
    return
  end
  local done, stats, err = false, nil, nil
  require('qwen.lsp').request(client, 'qwen/stats', {}, function(e, result)
    done, stats, err = true, result, e
  end)
  vim.wait(5000, function() return done end, 20)
  local s = type(stats) == 'table' and stats.nextEdit or nil
  if err or type(s) ~= 'table' then
    health.warn('the server gave no next-edit counters (qwen/stats): ' .. (err and err.message or 'none'), {
      'Update qwen-lsp: next edits need a server that answers textDocument/copilotInlineEdit.',
    })
    return
  end
  local asked, errors = tonumber(s.modelRequests) or 0, tonumber(s.errors) or 0
  local summary = ('%d model requests, %d errors, %d suggested, %d shown, %d accepted'):format(asked, errors,
    tonumber(s.suggested) or 0, tonumber(s.shown) or 0, tonumber(s.accepted) or 0)
  if asked == 0 then
    health.info('the model has not been asked yet this session (' .. summary .. '); :QwenNextEdit asks now')
  elseif errors >= asked then
    health.error('the next-edit model has not answered: ' .. summary, {
      'See :QwenStatus (last error) and `qwen-lsp doctor`; check next_edit.endpoint and next_edit.model.',
    })
  elseif errors > 0 then
    health.warn('the next-edit model answered, with failures: ' .. summary)
  else
    health.ok('the next-edit model answers: ' .. summary)
  end
end

return M
