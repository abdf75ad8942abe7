---@brief qwen.nvim: Qwen coder models in Neovim through the qwen-lsp language server.
---`require("qwen").setup(opts)` starts the server for matching buffers; calling it again
---applies new options to the running server. See `:h qwen`.

local M = {}

M.did_setup = false

local warned_unknown = {} ---@type table<string, boolean>

--- Configure and start the plugin. Safe to call more than once.
---@param opts? qwen.UserConfig
function M.setup(opts)
  local config = require('qwen.config')
  local resolved, unknown, problems = config.resolve(opts)
  if #problems > 0 then
    vim.notify('qwen.setup: invalid option' .. (#problems > 1 and 's' or '') .. ' (see :h qwen-options):\n'
      .. table.concat(problems, '\n'), vim.log.levels.ERROR)
  end
  local new = {}
  for _, k in ipairs(unknown) do
    if not warned_unknown[k] then
      warned_unknown[k] = true
      table.insert(new, k)
    end
  end
  if #new > 0 then
    vim.notify('qwen.setup: unknown option(s) ignored: ' .. table.concat(new, ', ')
      .. ' (see :h qwen-options)', vim.log.levels.WARN)
  end
  local old_cmd = config.current.cmd
  config.current = resolved

  -- Modules register their LSP handlers when loaded; load them before the client starts.
  require('qwen.status')
  require('qwen.chat')
  require('qwen.actions')
  local next_edit = require('qwen.next_edit')
  local completion = require('qwen.completion')
  local lsp = require('qwen.lsp')

  lsp.enable()
  if M.did_setup and not vim.deep_equal(old_cmd, resolved.cmd) then
    lsp.restart()
  end
  completion.set_keymaps()
  completion.refresh()
  next_edit.setup()
  M.did_setup = true
end

--- Statusline component: `Qwen idle`, `Qwen indexing 40%`, `Qwen error`, or '' when stopped.
---@return string
function M.statusline()
  return require('qwen.status').statusline()
end

--- Turn ghost text on/off (nil flips).
---@param on? boolean
function M.toggle(on)
  require('qwen.completion').toggle(on)
end

-- Ghost-text actions for your own mappings; each returns whether it did something.
function M.accept() return require('qwen.completion').accept() end
function M.accept_word() return require('qwen.completion').accept_word() end
function M.accept_line() return require('qwen.completion').accept_line() end
function M.dismiss() return require('qwen.completion').dismiss() end
function M.next() return require('qwen.completion').next() end
function M.prev() return require('qwen.completion').prev() end
function M.suggest() return require('qwen.completion').suggest() end
function M.visible() return require('qwen.completion').visible() end

-- Next edits, for your own mappings: jump to the proposed edit, accept it (each returns
-- whether it did something), dismiss it, ask for one now.
function M.next_edit_jump() return require('qwen.next_edit').jump() end
function M.next_edit_accept() return require('qwen.next_edit').accept() end
function M.next_edit_dismiss() return require('qwen.next_edit').dismiss() end
function M.next_edit_request() require('qwen.next_edit').command() end
function M.next_edit_visible() return require('qwen.next_edit').visible() end

return M
