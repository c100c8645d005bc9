-- The jellycell-lsp server config, in the shape Neovim 0.11's `vim.lsp.config` and
-- nvim-lspconfig's `lsp/` directory use. With this folder on 'runtimepath',
-- `vim.lsp.enable('jellycell')` is all a user needs: loading this file also installs the
-- plugin's commands and autocommands (`require('jellycell').install()`).
local jellycell = require('jellycell')
jellycell.install()

---@type vim.lsp.Config
return {
  cmd = { 'jellycell-lsp' },
  filetypes = { 'python', 'markdown' },
  root_markers = { 'jellycell.toml', '.git' },
  -- UTF-8 positions when offered; code-lens refresh and progress, which the server uses
  -- only when the client says it supports them.
  capabilities = jellycell.capabilities,
  handlers = jellycell.handlers,
  -- Hover floats show a `data:` image URI as a screenful of base64: link images instead.
  init_options = { hoverImages = false, hoverLinks = "plain" },
}
