---@brief Server state for the statusline and `:QwenStatus`: `qwen/status`
---notifications, `$/progress` (through |LspProgress|) and `qwen/stats`.

local lsp = require('qwen.lsp')

local M = {}

---@class qwen.Status
---@field state "stopped"|"idle"|"indexing"|"requesting"|"error"
---@field message? string
---@field endpoint? string
---@field model? string
---@field provider? string
---@field last_error? string
---@field progress? {title?: string, message?: string, percentage?: integer, done: boolean}

---@type qwen.Status
M.current = { state = 'stopped' }

---@param v any
---@return string?
local function nonempty(v)
  return type(v) == 'string' and v ~= '' and v or nil
end

local listeners = {} ---@type fun(s: qwen.Status)[]

--- Call fn whenever the status changes.
---@param fn fun(s: qwen.Status)
function M.on_change(fn)
  table.insert(listeners, fn)
end

local function changed()
  for _, fn in ipairs(listeners) do
    pcall(fn, M.current)
  end
  vim.cmd('redrawstatus')
end

---@param params {state: string, message?: string, endpoint?: string, model?: string}
function M.update(params)
  local s = M.current
  s.state = params.state or s.state
  s.message = nonempty(params.message)
  s.endpoint = nonempty(params.endpoint) or s.endpoint
  s.provider = nonempty(params.provider) or s.provider
  s.model = nonempty(params.model) or s.model
  if params.state == 'error' and params.message then
    s.last_error = params.message
  end
  changed()
end

lsp.handlers['qwen/status'] = function(_, params)
  if type(params) == 'table' then
    M.update(params)
  end
  return vim.NIL
end

local augroup = vim.api.nvim_create_augroup('qwen.status', { clear = true })
vim.api.nvim_create_autocmd('LspProgress', {
  group = augroup,
  callback = function(args)
    local data = args.data or {}
    local client = data.client_id and vim.lsp.get_client_by_id(data.client_id)
    if not client or client.name ~= lsp.name then
      return
    end
    local value = vim.tbl_get(data, 'params', 'value') or {}
    local p = M.current.progress or { done = false }
    if value.kind == 'begin' then
      p = { title = value.title, message = value.message, percentage = value.percentage, done = false }
    elseif value.kind == 'report' then
      p.message = value.message or p.message
      p.percentage = value.percentage or p.percentage
    elseif value.kind == 'end' then
      p.message = value.message or p.message
      p.percentage = 100
      p.done = true
    end
    M.current.progress = p
    changed()
  end,
})

vim.api.nvim_create_autocmd({ 'LspAttach', 'LspDetach' }, {
  group = augroup,
  callback = function(args)
    local client = vim.lsp.get_client_by_id(args.data.client_id)
    if not client or client.name ~= lsp.name then
      return
    end
    if args.event == 'LspAttach' and M.current.state == 'stopped' then
      M.current.state = 'idle'
      changed()
    elseif args.event == 'LspDetach' then
      -- Detaching the last buffer means the client is going away.
      vim.schedule(function()
        if not lsp.get_client() then
          M.current.state = 'stopped'
          M.current.progress = nil
          changed()
        end
      end)
    end
  end,
})

--- A short string for the statusline, e.g. `Qwen idle`, `Qwen indexing 40%`, `Qwen error`.
--- Empty when the server is not running.
---@return string
function M.statusline()
  if not lsp.get_client() then
    return ''
  end
  local s = M.current
  local enabled = require('qwen.completion').is_enabled()
  local label = 'Qwen' .. (enabled and '' or ' (off)')
  if s.state == 'error' then
    return label .. ' error'
  end
  -- A proposed next edit is worth a glance even while the index builds: it stays in view.
  local ne = package.loaded['qwen.next_edit'] and require('qwen.next_edit').status_text() or ''
  ne = ne ~= '' and (' · ' .. ne) or ''
  local p = s.progress
  if p and not p.done then
    return ('%s indexing%s%s'):format(label, p.percentage and (' ' .. p.percentage .. '%') or '', ne)
  end
  if s.state == 'stopped' then
    return label .. ' idle' .. ne
  end
  return label .. ' ' .. s.state .. ne
end

--- Ask the server for its counters.
---@param cb fun(err?: lsp.ResponseError, stats?: table)
function M.stats(cb)
  local client = lsp.get_client()
  if not client then
    cb({ code = -1, message = 'qwen-lsp is not running' })
    return
  end
  lsp.request(client, 'qwen/stats', {}, function(err, result)
    cb(err, result)
  end)
end

--- A value from the server as text: nothing of `vim.NIL`, tables spelled out.
---@param v any
---@return string
local function readable(v)
  if v == nil or v == vim.NIL then
    return 'n/a'
  end
  if type(v) ~= 'table' then
    return tostring(v)
  end
  if v.p50 ~= nil or v.count ~= nil then
    if (v.count or 0) == 0 or v.p50 == vim.NIL then
      return 'no samples yet'
    end
    return ('p50 %s ms, p95 %s ms (%s samples)'):format(readable(v.p50), readable(v.p95), readable(v.count))
  end
  if vim.islist(v) then
    return table.concat(vim.tbl_map(readable, v), ', ')
  end
  local keys = vim.tbl_keys(v)
  table.sort(keys)
  if #keys == 0 then
    return 'none'
  end
  local parts = {}
  for _, k in ipairs(keys) do
    parts[#parts + 1] = ('%s %s'):format(k, readable(v[k]))
  end
  return table.concat(parts, ', ')
end

--- Counter names as words.
local counter_words = {
  requests = 'requests', modelRequests = 'model requests', cacheHits = 'cache hits',
  typedThroughInFlight = 'typed through', cancelled = 'cancelled', errors = 'errors', empty = 'empty',
  shown = 'shown', accepted = 'accepted', partiallyAccepted = 'partly accepted',
  skippedBackoff = 'skipped (backoff)', prefetches = 'prefetches',
}

--- Lines describing the server, for `:QwenStatus`.
---@param stats? table
---@param stats_err? lsp.ResponseError
---@return string[]
function M.report_lines(stats, stats_err)
  local lines = {}
  local client = lsp.get_client()
  local s = M.current
  local settings = require('qwen.config').current.settings
  local function add(k, v)
    table.insert(lines, ('%-12s %s'):format(k, v))
  end
  if not client then
    add('server', 'not running (open a file, or see :checkhealth qwen)')
  else
    local info = client.server_info or {}
    add('server', ('%s %s (client %d)'):format(nonempty(info.name) or 'qwen-lsp', nonempty(info.version) or '', client.id))
    add('command', table.concat(client.config.cmd or {}, ' '))
    add('root', client.root_dir or client.config.root_dir or '(single file)')
  end
  add('state', s.state .. (nonempty(s.message) and (': ' .. s.message) or ''))
  local first = stats and type(stats.endpoints) == 'table' and stats.endpoints[1] or {}
  local endpoint = nonempty(stats and stats.serving) or nonempty(s.endpoint) or nonempty(first.baseUrl)
    or nonempty(vim.tbl_get(settings, 'endpoint', 'baseUrl'))
  local provider = nonempty(s.provider) or nonempty(first.provider)
  add('endpoint', endpoint and (endpoint .. (provider and (' (' .. provider .. ')') or '')) or '(server default)')
  add('model', nonempty(s.model) or nonempty(first.model) or nonempty(vim.tbl_get(settings, 'completion', 'model'))
    or '(server default)')
  local p = s.progress
  if p then
    add('indexing', p.done and 'done' or ((p.percentage and (p.percentage .. '% ') or '') .. (p.message or p.title or '')))
  end
  add('completion', require('qwen.completion').describe())
  local ok, next_edit = pcall(require, 'qwen.next_edit')
  if ok then
    add('next edit', next_edit.describe())
  end
  add('last error', nonempty(s.last_error) or 'none')
  if stats then
    table.insert(lines, 'stats:')
    local counters = {}
    for key, word in pairs(counter_words) do
      if type(stats[key]) == 'number' then
        counters[#counters + 1] = ('%s %d'):format(word, stats[key])
      end
    end
    table.sort(counters)
    if #counters > 0 then
      add('  counters', table.concat(counters, ', '))
    end
    add('  latency', readable(stats.modelLatencyMs))
    add('  overhead', readable(stats.overheadMs))
    if type(stats.ruleHits) == 'table' and next(stats.ruleHits) then
      add('  rule hits', readable(stats.ruleHits))
    end
    for i, ep in ipairs(type(stats.endpoints) == 'table' and stats.endpoints or {}) do
      add(('  endpoint %d'):format(i), ('%s %s, model %s%s'):format(readable(ep.provider), readable(ep.baseUrl),
        readable(ep.model), nonempty(ep.lastError) and (', last error: ' .. ep.lastError) or ''))
    end
    if type(stats.process) == 'table' then
      add('  process', ('%s MB, %s tasks'):format(readable(stats.process.rssMb), readable(stats.process.tasks)))
    end
    local skip = { serving = true, endpoints = true, process = true, modelLatencyMs = true, overheadMs = true,
      ruleHits = true }
    local rest = {}
    for k in pairs(stats) do
      if not skip[k] and not counter_words[k] then
        rest[#rest + 1] = k
      end
    end
    table.sort(rest)
    for _, k in ipairs(rest) do
      add('  ' .. k, readable(stats[k]))
    end
  elseif stats_err then
    add('stats', 'unavailable: ' .. (nonempty(stats_err.message) or readable(stats_err)))
  end
  return lines
end

--- `:QwenStatus`: show the report in a floating window (or echo it with no UI).
function M.show()
  M.stats(function(err, stats)
    local lines = M.report_lines(stats, err)
    M.last_report = lines
    if #vim.api.nvim_list_uis() == 0 then
      print(table.concat(lines, '\n'))
      return
    end
    local buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    vim.bo[buf].modifiable = false
    vim.bo[buf].bufhidden = 'wipe'
    local width = 20
    for _, l in ipairs(lines) do
      width = math.max(width, vim.fn.strdisplaywidth(l))
    end
    width = math.min(width + 2, vim.o.columns - 4)
    local height = math.min(#lines, vim.o.lines - 4)
    local win = vim.api.nvim_open_win(buf, true, {
      relative = 'editor', style = 'minimal', border = 'rounded', title = ' Qwen ',
      width = width, height = height,
      row = math.floor((vim.o.lines - height) / 2), col = math.floor((vim.o.columns - width) / 2),
    })
    for _, k in ipairs({ 'q', '<Esc>' }) do
      vim.keymap.set('n', k, function()
        pcall(vim.api.nvim_win_close, win, true)
      end, { buffer = buf, nowait = true })
    end
  end)
end

return M
