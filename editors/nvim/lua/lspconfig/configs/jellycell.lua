-- jellycell-lsp for nvim-lspconfig's `require('lspconfig').jellycell.setup({})` (the
-- framework before Neovim 0.11's `vim.lsp.config`; lspconfig looks servers up as
-- `lspconfig.configs.<name>`, which this file provides when this folder is on
-- 'runtimepath'). On Neovim >= 0.11 prefer `vim.lsp.enable('jellycell')`.
local jellycell = require('jellycell')
jellycell.install()

return {
  default_config = {
    cmd = { 'jellycell-lsp' },
    filetypes = { 'python', 'markdown' },
    root_dir = function(fname)
      return vim.fs.root(fname, { 'jellycell.toml', '.git' })
    end,
    capabilities = vim.tbl_deep_extend('force', vim.lsp.protocol.make_client_capabilities(), jellycell.capabilities),
    handlers = jellycell.handlers,
    init_options = { hoverImages = false, hoverLinks = "plain" },
  },
  docs = {
    description = [[
https://github.com/jellycell-lsp/jellycell-lsp

Language server for jellycell notebooks (jupytext py:percent `.py` and MyST `.md`): lint,
completion, cache-status code lenses, running cells in a Jupyter kernel, hovers with the
cells' cached outputs, preview. Put `editors/nvim` of the repository on 'runtimepath'.
]],
  },
}
