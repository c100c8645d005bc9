-- Headless Neovim (>= 0.11) through editors/nvim: after :JellycellRunAll runs the notebook
-- in a real kernel, each cell's cached outputs appear as virtual lines under its last
-- line (text cut to `max_lines`, the error's last traceback line, an image placeholder
-- with its preview link), and the failing cell's `cell-error` diagnostic appears without
-- an edit; :JellycellOutputs hides and shows them all, :JellycellOutputsCell
-- the cell under the cursor; an edited cell's outputs are marked stale.
-- Run by tests/lsp_neovim.rs:
--   JELLYCELL_NVIM_PLUGIN=editors/nvim JELLYCELL_LSP_BIN=target/debug/jellycell-lsp \
--     nvim --headless --clean -l tests/nvim/inline_outputs.lua NOTEBOOK
-- Prints what the extmarks hold ("extmark ROW HIGHLIGHT|TEXT", "count N"), exits 0, or
-- prints FAIL: ... on stderr and exits 1.
local file = assert(arg[1], 'usage: nvim --headless --clean -l inline_outputs.lua FILE')
local common = dofile(vim.fs.joinpath(vim.fs.dirname(arg[0]), 'common.lua'))
local say, die = common.say, common.die
local outputs = require('jellycell').outputs
outputs.options.max_lines = 5

vim.cmd.edit(file)
local buf = vim.api.nvim_get_current_buf()
local client
if not vim.wait(20000, function()
  client = vim.lsp.get_clients({ bufnr = buf, name = 'jellycell' })[1]
  return client ~= nil and client.initialized
end, 20) then
  die('jellycell-lsp did not attach')
end

local function marks()
  return vim.api.nvim_buf_get_extmarks(buf, outputs.namespace, 0, -1, { details = true })
end
local function wait_count(count, what)
  if not vim.wait(60000, function() return #marks() == count end, 50) then
    die(string.format('%s: %d extmarks, not %d', what, #marks(), count))
  end
  say('count %d', count)
end

-- Nothing is cached yet: fetched on attach, nothing to draw.
local drawn = false
vim.api.nvim_create_autocmd('User', { pattern = 'JellycellOutputs', callback = function() drawn = true end })
if not vim.wait(20000, function() return drawn end, 20) then die('no outputs fetched on attach') end
say('count %d', #marks())

vim.cmd('JellycellRunAll')
-- Redrawn as each cell finishes (the server's lens refresh); all three in the end.
wait_count(3, 'after the run')
for _, mark in ipairs(marks()) do
  for _, line in ipairs(mark[4].virt_lines) do
    local chunk = line[2]
    say('extmark %d %s|%s', mark[2], chunk[2], chunk[1])
  end
end

-- The failing cell's `cell-error` arrives with no edit (Neovim 0.11 pulls diagnostics but
-- cannot be asked to pull again: the server pushes to it).
if not vim.wait(20000, function()
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == 'cell-error' then return true end
  end
  return false
end, 50) then
  die('no cell-error diagnostic after the run')
end
for _, d in ipairs(vim.diagnostic.get(buf)) do
  say('diagnostic %s %d: %s', d.code, d.lnum, d.message)
end

vim.cmd('JellycellOutputs')
wait_count(0, ':JellycellOutputs hides')
vim.cmd('JellycellOutputs')
wait_count(3, ':JellycellOutputs shows')
vim.api.nvim_win_set_cursor(0, { 6, 0 })
vim.cmd('JellycellOutputsCell')
wait_count(2, ':JellycellOutputsCell hides the cell')
vim.cmd('JellycellOutputsCell')
wait_count(3, ':JellycellOutputsCell shows the cell')

-- An edit: the first cell's outputs stay, marked stale.
vim.api.nvim_buf_set_lines(buf, 1, 2, false, { 'for i in range(13):' })
outputs.refresh(buf)
if not vim.wait(20000, function()
  for _, mark in ipairs(marks()) do
    if mark[2] == 2 and mark[4].virt_lines[1][2][2] == 'JellycellOutputStale' then return true end
  end
  return false
end, 50) then
  die('the edited cell was not marked stale')
end
say('stale %s', marks()[1][4].virt_lines[1][2][1])

client:stop()
vim.wait(2000, function() return client:is_stopped() end, 20)
os.exit(0)
