-- Test runner: nvim --headless --clean -l tests/run.lua [pattern[,pattern...]]
-- Runs every tests/test_*.lua (a table of name -> function), each test against a fresh
-- child Neovim, and exits non-zero if any failed. Environment:
--   QWEN_NVIM_ENGINE   builtin | extmark   (ghost-text engine under test; default builtin)
--   QWEN_LSP_CMD       the server command (default qwen-lsp)
--   QWEN_TEST_PYTHON   python for tests/fake_endpoint.py (default python3)
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
package.path = root .. '/tests/?.lua;' .. package.path
local h = require('helpers')

-- print() may go to stderr under `nvim -l`; the report belongs on stdout.
local function print(...)
  io.stdout:write(table.concat(vim.tbl_map(tostring, { ... }), ' ') .. '\n')
  io.stdout:flush()
end

local pattern = arg and arg[1] or os.getenv('QWEN_TEST_FILTER')
local files = vim.fn.glob(root .. '/tests/test_*.lua', false, true)
table.sort(files)

local v = vim.version()
print(('# nvim %d.%d.%d, engine %s, server %s'):format(v.major, v.minor, v.patch, h.engine, h.server_cmd))
h.start_endpoint('pass')

local passed, failed, skipped, xfailed = 0, 0, 0, 0
local failures = {}
for _, file in ipairs(files) do
  local mod = dofile(file)
  local names = {}
  for name in pairs(mod) do
    if type(mod[name]) == 'function' and name:sub(1, 1) ~= '_' then
      names[#names + 1] = name
    end
  end
  table.sort(names)
  local short = vim.fn.fnamemodify(file, ':t:r')
  for _, name in ipairs(names) do
    local full = short .. '.' .. name
    local wanted = not pattern
    for _, p in ipairs(pattern and vim.split(pattern, ',', { trimempty = true }) or {}) do
      wanted = wanted or full:find(p, 1, true) ~= nil
    end
    if wanted then
      h.reset_endpoint({ text = 'pass' })
      local t0 = vim.uv.hrtime()
      local ok, err = xpcall(mod[name], function(e)
        if type(e) == 'table' then
          return e
        end
        return debug.traceback(tostring(e), 2)
      end)
      local ms = math.floor((vim.uv.hrtime() - t0) / 1e6)
      if ok then
        passed = passed + 1
        print(('ok      %s (%d ms)'):format(full, ms))
      elseif type(err) == 'table' and err.skip then
        skipped = skipped + 1
        print(('SKIP    %s: %s'):format(full, err.skip))
      elseif type(err) == 'table' and err.xfail then
        xfailed = xfailed + 1
        print(('XFAIL   %s: %s'):format(full, err.xfail))
      else
        failed = failed + 1
        local diag = ''
        for _, c in ipairs(h.children) do
          diag = diag .. c:diagnostics() .. '\n'
        end
        print(('FAIL    %s (%d ms)\n%s\n%s'):format(full, ms, tostring(err):gsub('^', '    '), diag))
        failures[#failures + 1] = full
      end
      h.stop_children()
    end
  end
end
h.stop_endpoint()

print(('# %d passed, %d failed, %d skipped, %d xfailed (engine %s)'):format(passed, failed, skipped,
  xfailed, h.engine))
if failed > 0 then
  print('# failed: ' .. table.concat(failures, ', '))
end
io.stdout:flush()
os.exit(failed > 0 and 1 or 0)
