-- Checks the Neovim set-up of docs/editors.md. Run by tests/nvim_docs_setup.rs after `-u`
-- has sourced the init.lua it wrote from the page's Lua blocks, as written:
--   DOCS_NOTEBOOK=FILE [DOCS_LAZY_SPEC=SPEC DOCS_PLUGIN_DIR=DIR] \
--     nvim --headless -u INIT -c 'luafile tests/nvim/docs_setup.lua'
-- (`-c`, not `-l`: the keys typed for completion are read by Neovim's main loop, which a
-- `-l` script never returns to.)
-- With SPEC (a file holding the page's lazy.nvim spec) and DIR (where
-- lazy.nvim would have cloned the repository), the spec is first applied the way
-- lazy.nvim loads a plugin at start-up (lazy.nvim itself is only on GitHub, which CI does
-- not reach): PLUGIN_DIR goes on 'runtimepath' (lazy's add_to_rtp), its plugin/ scripts
-- are sourced (lazy's packadd; the repository's root has none), then the spec's
-- config(plugin, opts) runs with plugin.dir = PLUGIN_DIR.
-- Prints "attached", "virtual_text CODE: MESSAGE" for a diagnostic drawn at the end of its
-- line, and "completion LABELS" for a completion menu that opened as the test typed, with
-- no completion key; exits 0, or prints FAIL: ... on stderr and exits 1.
local file = assert(os.getenv('DOCS_NOTEBOOK'), 'DOCS_NOTEBOOK is not set')
local spec_file, plugin_dir = os.getenv('DOCS_LAZY_SPEC'), os.getenv('DOCS_PLUGIN_DIR')

local function say(fmt, ...) io.stdout:write(string.format(fmt, ...) .. '\n') end
local function die(msg)
  io.stderr:write('FAIL: ' .. msg .. '\n')
  os.exit(1)
end

if spec_file then
  local spec = dofile(spec_file)
  local plugin = vim.deepcopy(spec)
  plugin.dir = plugin_dir
  plugin.name = vim.fs.basename(plugin_dir)
  vim.opt.rtp:append(plugin.dir)
  for _, script in ipairs(vim.fn.globpath(plugin.dir, 'plugin/**/*.{vim,lua}', false, true)) do
    vim.cmd.source(script)
  end
  local opts = type(spec.opts) == 'function' and spec.opts(plugin, {}) or spec.opts or {}
  if type(spec.config) == 'function' then
    spec.config(plugin, opts)
  end
  say('lazy spec applied: %s', plugin.name)
end

vim.cmd.edit(file)
local buf = vim.api.nvim_get_current_buf()

local client
if not vim.wait(30000, function()
  client = vim.lsp.get_clients({ bufnr = buf, name = 'jellycell' })[1]
  return client ~= nil and client.initialized
end, 20) then
  die('jellycell-lsp did not attach')
end
say('attached %s', client.name)

-- Diagnostics as virtual text: the extmarks Neovim draws them with, in any namespace.
local shown
if not vim.wait(30000, function()
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(buf, -1, 0, -1, { details = true })) do
    local details = mark[4] or {}
    for _, chunk in ipairs(details.virt_text or {}) do
      for _, d in ipairs(vim.diagnostic.get(buf)) do
        if d.lnum == mark[2] and chunk[1]:find(d.message, 1, true) then
          shown = d
          return true
        end
      end
    end
  end
  return false
end, 20) then
  die('no diagnostic shown as virtual text; diagnostics: ' .. vim.inspect(vim.diagnostic.get(buf)))
end
say('virtual_text %s: %s', shown.code, shown.message)

-- Type a new cell header up to `deps=` (a trigger character), as keys: the menu must open
-- by itself, with the cell names.
vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(buf), 0 })
vim.api.nvim_feedkeys(vim.keycode('o# %% tags=["jc.step", "deps='), 'n', false)
local deadline = vim.uv.now() + 30000
local timer = assert(vim.uv.new_timer())
timer:start(20, 20, vim.schedule_wrap(function()
  local items = vim.fn.complete_info({ 'items' }).items or {}
  if #items == 0 then
    if vim.uv.now() > deadline then
      die('no completion opened while typing; mode ' .. vim.api.nvim_get_mode().mode)
    end
    return
  end
  timer:stop()
  local labels = {}
  for _, item in ipairs(items) do
    labels[#labels + 1] = item.word
  end
  say('completion %s', table.concat(labels, ' '))
  client:stop()
  vim.wait(2000, function() return client:is_stopped() end, 20)
  os.exit(0)
end))
