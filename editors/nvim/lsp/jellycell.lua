-- The jellycell-lsp server config, in the shape Neovim 0.11's `vim.lsp.config` and
-- nvim-lspconfig's `lsp/` directory use. With this folder on 'runtimepath',
-- `vim.lsp.enable('jellycell')` is all a user needs; `require('jellycell').setup()`
-- does that plus the client-side handlers below.
---@type vim.lsp.Config
return {
  cmd = { 'jellycell-lsp' },
  filetypes = { 'python', 'markdown' },
  root_markers = { 'jellycell.toml', '.git' },
  -- The server advertises UTF-8 positions when the client offers them.
  capabilities = {
    general = { positionEncodings = { 'utf-8', 'utf-16' } },
  },
}
