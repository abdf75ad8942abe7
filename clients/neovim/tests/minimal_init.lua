-- Init for the child Neovim the tests drive: only this plugin, nothing from the user.
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
vim.opt.runtimepath:prepend(root)
vim.opt.swapfile = false
vim.opt.shadafile = 'NONE'
vim.opt.more = false
vim.cmd('filetype plugin on')
vim.cmd('filetype indent off')
vim.opt.autoindent = false
vim.opt.expandtab = false
vim.cmd('runtime plugin/qwen.lua')
