-- jellycell.nvim: Neovim (>= 0.11) client setup for jellycell-lsp, the language server
-- for plain-text notebooks (jupytext py:percent `.py` and MyST `.md`).
--
--   require('jellycell').setup({ cmd = { '/path/to/jellycell-lsp' } })
--
-- Any key of `vim.lsp.Config` may be given; it is merged over `lsp/jellycell.lua`.
-- The server only reports on files that are notebooks (`# %%` markers, files under
-- `[paths] notebooks`, MyST `{code-cell}` blocks), so attaching to every Python and
-- Markdown buffer is harmless.
local M = {}

M.name = 'jellycell'

--- Neovim 0.11 has no `workspace/codeLens/refresh` handler and does not advertise
--- `refreshSupport`; add both so code lenses (cache status, Run) stay current.
local function codelens_refresh_handler(_, _, ctx)
  for _, buf in ipairs(vim.lsp.get_buffers_by_client_id(ctx.client_id)) do
    if vim.api.nvim_buf_is_loaded(buf) then
      vim.lsp.codelens.refresh({ bufnr = buf })
    end
  end
  return vim.NIL
end

--- Runs a jellycell command for the current buffer at the cursor's line (the server maps
--- the line to its cell).
---@param command string
local function run_at_cursor(command)
  local buf = vim.api.nvim_get_current_buf()
  local client = vim.lsp.get_clients({ bufnr = buf, name = M.name })[1]
  if not client then
    vim.notify('jellycell-lsp is not attached to this buffer', vim.log.levels.WARN)
    return
  end
  local line = vim.api.nvim_win_get_cursor(0)[1] - 1
  client:exec_cmd({
    title = command,
    command = command,
    arguments = { { uri = vim.uri_from_bufnr(buf), line = line } },
  }, { bufnr = buf })
end

M.run_at_cursor = run_at_cursor

---@param opts? vim.lsp.Config
function M.setup(opts)
  opts = opts or {}
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.general = capabilities.general or {}
  capabilities.general.positionEncodings = { 'utf-8', 'utf-16' }
  capabilities.workspace = capabilities.workspace or {}
  capabilities.workspace.codeLens = { refreshSupport = true }
  local config = vim.tbl_deep_extend('force', {
    capabilities = capabilities,
    handlers = { ['workspace/codeLens/refresh'] = codelens_refresh_handler },
  }, opts)
  vim.lsp.config(M.name, config)
  vim.lsp.enable(M.name)
  vim.api.nvim_create_user_command('JellycellPreview', function()
    run_at_cursor('jellycell.openPreview')
  end, { desc = 'Open the jellycell preview of this notebook at the cursor' })
end

return M
