-- Headless Neovim (>= 0.11) end to end through editors/nvim: diagnostics arrive, a code
-- lens appears, :JellycellRun executes the cell under the cursor in a real kernel through
-- the server, the lens turns cached, :JellycellRunAll runs the rest, and the hover shows
-- the printed output.
-- Run by tests/lsp_neovim.rs:
--   JELLYCELL_NVIM_PLUGIN=editors/nvim JELLYCELL_LSP_BIN=target/debug/jellycell-lsp \
--     nvim --headless --clean -l tests/nvim/run_and_hover.lua NOTEBOOK MODE
-- MODE `run` does all of the above; MODE `cached` (the cache filled beforehand by the CLI)
-- skips the lenses and the run and checks the hover. Prints what it sees ("lens ...",
-- "progress ...", "hover ..."), exits 0, or prints FAIL: ... on stderr and exits 1.
local file = assert(arg[1], 'usage: nvim --headless --clean -l run_and_hover.lua FILE MODE')
local mode = arg[2] or 'run'
local common = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'common.lua'))
local say, die = common.say, common.die

local progress = {}
vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(event)
    local value = event.data.params.value or {}
    table.insert(progress, value.kind)
    say('progress %s %s %s', value.kind, value.title or '', value.message or '')
  end,
})
local refreshes = 0
local plugin_refresh = require('jellycell').on_codelens_refresh
require('jellycell').on_codelens_refresh = function(...)
  refreshes = refreshes + 1
  return plugin_refresh(...)
end

vim.cmd.edit(file)
local buf = vim.api.nvim_get_current_buf()
local client
if not vim.wait(20000, function()
  client = vim.lsp.get_clients({ bufnr = buf, name = 'jellycell' })[1]
  return client ~= nil and client.initialized
end, 20) then
  die('jellycell-lsp did not attach')
end
local refresh_support = vim.tbl_get(client.capabilities, 'workspace', 'codeLens', 'refreshSupport')
say('attached refreshSupport=%s workDoneProgress=%s hoverImages=%s', tostring(refresh_support),
  tostring(vim.tbl_get(client.capabilities, 'window', 'workDoneProgress')),
  tostring(vim.tbl_get(client.config, 'init_options', 'hoverImages')))

if not vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 20) then
  die('no diagnostics')
end
for _, d in ipairs(vim.diagnostic.get(buf)) do
  say('diagnostic %s %d:%d', d.code, d.lnum, d.col)
end

--- The titles of the lenses on 0-based `line`, joined.
local function lenses_on(line)
  local titles = {}
  for _, lens in ipairs(vim.lsp.codelens.get(buf)) do
    if lens.range.start.line == line and lens.command then
      table.insert(titles, lens.command.title)
    end
  end
  return table.concat(titles, ' | ')
end

if mode == 'run' then
  -- The plugin fetched the lenses on attach; no request from here.
  if not vim.wait(20000, function() return lenses_on(0) ~= '' end, 20) then
    die('no code lens on the first cell')
  end
  say('lens before %s', lenses_on(0))

  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  vim.cmd('JellycellRun')
  -- The server asks for a refresh after the cell; the plugin's handler fetches again.
  if not vim.wait(60000, function() return lenses_on(0):find('cached', 1, true) ~= nil end, 50) then
    die('the lens never said cached: ' .. lenses_on(0) .. ', refreshes=' .. refreshes)
  end
  say('lens after %s', lenses_on(0))

  -- A notebook-wide command (`{uri}` only): the other cell runs too.
  vim.cmd('JellycellRunAll')
  if not vim.wait(60000, function() return lenses_on(3):find('cached', 1, true) ~= nil end, 50) then
    die(':JellycellRunAll did not run the second cell: ' .. lenses_on(3))
  end
  say('run all lens %s', lenses_on(3))
  say('refreshes %d', refreshes)
  say('progress kinds %s', table.concat(progress, ','))
end

local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
params.position = { line = 1, character = 2 }
local responses = vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, 10000) or {}
local value
for _, response in pairs(responses) do
  if response.result and response.result.contents then
    value = response.result.contents.value
  end
end
if not value then die('no hover') end
for line in vim.gsplit(value, '\n', { plain = true }) do
  say('hover %s', line)
end

client:stop()
vim.wait(2000, function() return client:is_stopped() end, 20)
os.exit(0)
