-- qwen.nvim user commands. Nothing starts until require("qwen").setup() is called.
if vim.g.loaded_qwen then
  return
end
vim.g.loaded_qwen = true

local function ready()
  if not require('qwen').did_setup then
    vim.notify('qwen: call require("qwen").setup() first', vim.log.levels.WARN)
    return false
  end
  return true
end

local command = vim.api.nvim_create_user_command

command('QwenChat', function(args)
  if ready() then
    require('qwen.chat').command(args)
  end
end, { nargs = '*', range = true, bang = true, desc = 'Qwen: chat (about the selection, with a range; ! starts anew)' })

command('QwenApply', function()
  if ready() then
    require('qwen.chat').apply_code_block()
  end
end, { desc = 'Qwen: apply the chat code block at the cursor to the file' })

command('QwenChatStop', function()
  require('qwen.chat').stop()
end, { desc = 'Qwen: stop the streaming answer' })

local function action(name, with_args)
  return function(args)
    if not ready() then
      return
    end
    require('qwen.actions').run(name, {
      line1 = args.range > 0 and args.line1 or nil,
      line2 = args.range > 0 and args.line2 or nil,
      instruction = with_args and args.args ~= '' and args.args or nil,
    })
  end
end

command('QwenExplain', action('explain'), { range = true, desc = 'Qwen: explain the selection or the code at the cursor' })
command('QwenRefactor', action('refactor', true), { range = true, nargs = '*', desc = 'Qwen: refactor the selection {instruction}' })
command('QwenDocstring', action('docstring'), { range = true, desc = 'Qwen: document the function at the cursor' })
command('QwenTests', action('tests'), { range = true, desc = 'Qwen: generate unit tests for the code at the cursor' })

command('QwenStatus', function()
  require('qwen.status').show()
end, { desc = 'Qwen: server, endpoint, model, indexing and stats' })

command('QwenToggle', function(args)
  local on = nil
  if args.args == 'on' then
    on = true
  elseif args.args == 'off' then
    on = false
  end
  require('qwen.completion').toggle(on)
  vim.notify('qwen: ghost text ' .. (require('qwen.config').current.completion.enabled and 'on' or 'off'))
end, { nargs = '?', complete = function() return { 'on', 'off' } end, desc = 'Qwen: toggle ghost text' })

command('QwenNextEdit', function()
  if ready() then
    require('qwen.next_edit').command()
  end
end, { desc = 'Qwen: ask for a next edit now' })
