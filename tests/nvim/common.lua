-- What the headless Neovim scripts share: output helpers, and editors/nvim set up with the
-- server under test (JELLYCELL_NVIM_PLUGIN, JELLYCELL_LSP_BIN). Loaded with dofile.
local M = {}

function M.say(fmt, ...) io.stdout:write(string.format(fmt, ...) .. '\n') end

function M.die(msg)
  io.stderr:write('FAIL: ' .. msg .. '\n')
  os.exit(1)
end

vim.opt.runtimepath:prepend(assert(os.getenv('JELLYCELL_NVIM_PLUGIN')))
require('jellycell').setup({ cmd = { assert(os.getenv('JELLYCELL_LSP_BIN')) } })

return M
