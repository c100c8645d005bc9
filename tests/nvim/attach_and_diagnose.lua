-- Headless Neovim (>= 0.11) check that editors/nvim attaches jellycell-lsp and shows its
-- diagnostics. Run by tests/lsp_neovim.rs:
--   JELLYCELL_NVIM_PLUGIN=editors/nvim JELLYCELL_LSP_BIN=target/debug/jellycell-lsp \
--     nvim --headless --clean -l tests/nvim/attach_and_diagnose.lua NOTEBOOK
-- Prints one line per diagnostic ("diagnostic CODE LINE:COL") and exits 0, or prints
-- FAIL: ... on stderr and exits 1.
local file = assert(arg[1], 'usage: nvim --headless --clean -l attach_and_diagnose.lua FILE')
local common = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'common.lua'))
local say, die = common.say, common.die

vim.cmd.edit(file)
local buf = vim.api.nvim_get_current_buf()
say('filetype=%s', vim.bo[buf].filetype)

local client
if not vim.wait(20000, function()
  client = vim.lsp.get_clients({ bufnr = buf, name = 'jellycell' })[1]
  return client ~= nil and client.initialized
end, 20) then
  die('jellycell-lsp did not attach')
end
say('attached %s offset_encoding=%s root=%s', client.name, client.offset_encoding, client.root_dir)

if not vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 20) then
  die('no diagnostics')
end
for _, d in ipairs(vim.diagnostic.get(buf)) do
  say('diagnostic %s %d:%d %s', d.code, d.lnum, d.col, d.source)
end

local symbols = client:request_sync('textDocument/documentSymbol',
  { textDocument = { uri = vim.uri_from_bufnr(buf) } }, 5000, buf)
if not symbols or symbols.err then die('documentSymbol failed') end
say('symbols %d', #(symbols.result or {}))

-- :JellycellPreview asks the server, which asks Neovim to open the page (vim.ui.open).
local opened
vim.ui.open = function(url)
  opened = url
  return nil, 'not opening a browser in a test'
end
vim.api.nvim_win_set_cursor(0, { 5, 0 })
vim.cmd('JellycellPreview')
if not vim.wait(10000, function() return opened ~= nil end, 20) then
  die(':JellycellPreview opened nothing')
end
say('preview %s', opened)

client:stop()
vim.wait(2000, function() return client:is_stopped() end, 20)
os.exit(0)
