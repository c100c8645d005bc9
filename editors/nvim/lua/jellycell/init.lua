-- jellycell.nvim: Neovim (>= 0.11) client for jellycell-lsp, the language server for
-- plain-text notebooks (jupytext py:percent `.py` and MyST `.md`).
--
--   require('jellycell').setup({ cmd = { '/path/to/jellycell-lsp' } })
--
-- Any key of `vim.lsp.Config` may be given; it is merged over `lsp/jellycell.lua`.
-- The server only reports on files that are notebooks (`# %%` markers, files under
-- `[paths] notebooks`, MyST `{code-cell}` blocks), so attaching to every Python and
-- Markdown buffer is harmless.
--
-- What this module adds to the plain config (`install()`, also run by `lsp/jellycell.lua`,
-- so `vim.lsp.enable('jellycell')` alone gets it too):
--   * user commands that run the server's commands (DESIGN contract 6) on the cell under
--     the cursor: :JellycellRun, :JellycellRunWithDeps, :JellycellRunAbove, :JellycellRunAll,
--     :JellycellInterrupt, :JellycellRestart, :JellycellPreview;
--   * code lenses fetched on attach and refreshed on BufEnter, InsertLeave, BufWritePost,
--     and whenever the server asks (`workspace/codeLens/refresh`: Neovim 0.11 has no
--     handler for it and does not advertise `refreshSupport`);
--   * the server's `$/progress` (a cell running, a run's steps) echoed in the command line;
--   * each cell's cached outputs as virtual lines under it (`jellycell.outputs`), redrawn
--     when a run finishes or the cache changes: :JellycellOutputs, :JellycellOutputsCell;
--   * `:JellycellPreview` echoes the preview's URL (a remote session has no browser);
--   * with `setup({ completion = { autotrigger = true } })`, completion as you type
--     (`vim.lsp.completion.enable`), e.g. in a `tags=[...]` list.
local M = {}

local outputs = require('jellycell.outputs')
M.outputs = outputs
M.completion = { autotrigger = false }

M.name = 'jellycell'

--- `:Command` → server command id, and whether the command applies to the cell under the
--- cursor (it gets `{uri, line}`) or to the whole notebook (`{uri}`).
M.commands = {
  { 'JellycellRun', 'jellycell.runCell', true, 'Run the cell under the cursor' },
  { 'JellycellRunWithDeps', 'jellycell.runWithDeps', true, 'Run the cell under the cursor and the cells it depends on that are not cached' },
  { 'JellycellRunAbove', 'jellycell.runAbove', true, 'Run every cell above the cursor' },
  { 'JellycellRunAll', 'jellycell.runAll', false, 'Run every cell of the notebook' },
  { 'JellycellInterrupt', 'jellycell.interrupt', false, "Interrupt the notebook's kernel" },
  { 'JellycellRestart', 'jellycell.restart', false, "Restart the notebook's kernel" },
  { 'JellycellPreview', 'jellycell.openPreview', true, 'Open the preview of this notebook at the cursor' },
}

local function jellycell_client(buf)
  return vim.lsp.get_clients({ bufnr = buf, name = M.name })[1]
end

local function refresh_lenses(buf)
  if vim.api.nvim_buf_is_loaded(buf) and jellycell_client(buf) then
    vim.lsp.codelens.refresh({ bufnr = buf })
  end
end

--- Handler for the server's `workspace/codeLens/refresh` request: fetch the lenses of every
--- buffer the client is attached to again.
function M.on_codelens_refresh(_, _, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if client then
    for buf in pairs(client.attached_buffers) do
      refresh_lenses(buf)
      outputs.refresh(buf)
    end
  end
  return vim.NIL
end

--- Sends `command` for the current buffer: with `at_cursor`, `{uri, line}` of the cursor
--- (the server maps the 0-based line to its cell), else `{uri}`.
---@param command string
---@param at_cursor boolean
---@param on_result? fun(err: lsp.ResponseError?, result: any)
function M.execute(command, at_cursor, on_result)
  local buf = vim.api.nvim_get_current_buf()
  local client = jellycell_client(buf)
  if not client then
    vim.notify('jellycell-lsp is not attached to this buffer', vim.log.levels.WARN)
    return
  end
  local argument = { uri = vim.uri_from_bufnr(buf) }
  if at_cursor then
    argument.line = vim.api.nvim_win_get_cursor(0)[1] - 1
  end
  client:exec_cmd({ title = command, command = command, arguments = { argument } }, { bufnr = buf }, on_result)
end

--- Echoes where the preview is (`{url}` of `jellycell.openPreview`), so that it can be
--- opened by hand when no browser could be.
function M.on_preview(err, result)
  if err then
    vim.notify('jellycell: ' .. (err.message or 'the preview did not start'), vim.log.levels.ERROR)
  elseif type(result) == 'table' and result.url then
    vim.api.nvim_echo({ { 'jellycell preview: ' .. result.url } }, true, {})
  end
end

--- Kept for configurations written against the first version of this module.
function M.run_at_cursor(command)
  M.execute(command, true)
end

local function progress_text(params)
  local value = params.value or {}
  -- The server's titles start with `jellycell:` already.
  local parts = { value.title, value.message }
  local text = table.concat(vim.tbl_filter(function(part) return part and part ~= '' end, parts), ': ')
  if value.percentage then
    text = string.format('%s (%d%%)', text, value.percentage)
  end
  if value.kind == 'end' then
    text = text ~= '' and (text .. ' — done') or 'done'
  end
  return text
end

local installed = false

--- Creates the user commands and autocommands (once; later calls do nothing).
function M.install()
  if installed then
    return
  end
  installed = true
  for _, entry in ipairs(M.commands) do
    local name, command, at_cursor, desc = entry[1], entry[2], entry[3], entry[4]
    vim.api.nvim_create_user_command(name, function()
      M.execute(command, at_cursor, command == 'jellycell.openPreview' and M.on_preview or nil)
    end, { desc = desc })
  end
  vim.api.nvim_create_user_command('JellycellOutputs', function() outputs.toggle() end,
    { desc = 'Show or hide the cached outputs under every cell' })
  vim.api.nvim_create_user_command('JellycellOutputsCell', function() outputs.toggle_cell() end,
    { desc = 'Show or hide the cached outputs of the cell under the cursor' })
  local group = vim.api.nvim_create_augroup('jellycell', { clear = true })
  vim.api.nvim_create_autocmd('LspAttach', {
    group = group,
    callback = function(event)
      local client = vim.lsp.get_client_by_id(event.data.client_id)
      if not client or client.name ~= M.name then
        return
      end
      local buf = event.buf
      vim.api.nvim_clear_autocmds({ group = group, buffer = buf })
      vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'BufWritePost' }, {
        group = group,
        buffer = buf,
        callback = function() refresh_lenses(buf) end,
      })
      refresh_lenses(buf)
      outputs.attach(buf, group)
      if M.completion.autotrigger and vim.lsp.completion then
        vim.lsp.completion.enable(true, client.id, buf, { autotrigger = true })
      end
    end,
  })
  vim.api.nvim_create_autocmd('LspProgress', {
    group = group,
    callback = function(event)
      local client = vim.lsp.get_client_by_id(event.data.client_id)
      if not client or client.name ~= M.name or M.quiet_progress then
        return
      end
      vim.api.nvim_echo({ { progress_text(event.data.params) } }, false, {})
    end,
  })
end

--- Client capabilities the server uses beyond Neovim's defaults (merged over them).
M.capabilities = {
  general = { positionEncodings = { 'utf-8', 'utf-16' } },
  workspace = { codeLens = { refreshSupport = true } },
  window = { workDoneProgress = true },
}

M.handlers = {
  ['workspace/codeLens/refresh'] = function(...) return M.on_codelens_refresh(...) end,
}

---@param opts? vim.lsp.Config
function M.setup(opts)
  opts = vim.deepcopy(opts or {})
  -- The plugin's own options, not the server config's.
  outputs.options = vim.tbl_extend('force', outputs.options, opts.outputs or {})
  M.completion = vim.tbl_extend('force', M.completion, opts.completion or {})
  opts.outputs, opts.completion = nil, nil
  M.install()
  local config = vim.tbl_deep_extend('force', {
    capabilities = M.capabilities,
    handlers = M.handlers,
  }, opts or {})
  vim.lsp.config(M.name, config)
  vim.lsp.enable(M.name)
end

return M
