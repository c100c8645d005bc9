-- jellycell.outputs: each code cell's cached outputs as virtual lines under the cell, the
-- way molten draws them, but from jellycell-lsp's cache (no kernel needed, kept across
-- sessions): the first lines of its text output, the last line of an error's traceback
-- in red, an image as a placeholder with its preview link.
--
-- Data comes from the server's `jellycell/cellOutputs` request (docs/lsp.md), one per
-- code cell; the lines are redrawn when the server asks for a lens refresh (after each
-- cell of a run, and when another process changes the cache), on attach, and after edits
-- (a cell edited since its run shows its old outputs marked stale).
--
--   require('jellycell').setup({ outputs = { enabled = true, max_lines = 10 } })
--   :JellycellOutputs        toggle the outputs of every buffer
--   :JellycellOutputsCell    toggle the outputs of the cell under the cursor
local M = {}

M.namespace = vim.api.nvim_create_namespace('jellycell_outputs')

--- Options (overridden by `setup({ outputs = {...} })`).
M.options = {
  enabled = true,
  -- Lines of text output shown per cell; the rest is counted.
  max_lines = 10,
  -- How long after the last edit the outputs are fetched again (ms).
  debounce_ms = 300,
  -- Cells this many lines above and below the windows' visible lines are fetched too; the
  -- rest are fetched when scrolled to (a long notebook costs what is on screen).
  margin_lines = 100,
}

--- Per buffer: `hidden[ordinal] = true` for the cells toggled off, the last answers, and
--- a generation number that drops answers to superseded refreshes.
local buffers = {}

local function state_of(buf)
  buffers[buf] = buffers[buf] or { hidden = {}, answers = {}, generation = 0 }
  return buffers[buf]
end

vim.api.nvim_set_hl(0, 'JellycellOutput', { default = true, link = 'Comment' })
vim.api.nvim_set_hl(0, 'JellycellOutputError', { default = true, link = 'DiagnosticError' })
vim.api.nvim_set_hl(0, 'JellycellOutputImage', { default = true, link = 'DiagnosticInfo' })
vim.api.nvim_set_hl(0, 'JellycellOutputStale', { default = true, link = 'DiagnosticWarn' })

local function client_of(buf)
  return vim.lsp.get_clients({ bufnr = buf, name = 'jellycell' })[1]
end

--- The 0-based lines of the buffer's cell headers (py:percent `# %%`, MyST
--- ```` ```{code-cell} ````), with line 0 for text before the first marker.
function M.cell_header_lines(buf)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local headers = { 0 }
  for index, line in ipairs(lines) do
    if index > 1 and (line:match('^#%s*%%%%') or line:match('^```%s*{code%-cell}') or line:match('^~~~%s*{code%-cell}')) then
      table.insert(headers, index - 1)
    end
  end
  return headers
end

--- The headers of the cells that overlap the lines the windows on `buf` show (with
--- `margin_lines` around); all of them when no window shows it.
function M.visible_headers(buf, headers)
  local first, last
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    local top = vim.fn.line('w0', win) - 1
    local bottom = vim.fn.line('w$', win) - 1
    first = math.min(first or top, top)
    last = math.max(last or bottom, bottom)
  end
  if not first then
    return headers
  end
  first, last = first - M.options.margin_lines, last + M.options.margin_lines
  local wanted = {}
  for index, line in ipairs(headers) do
    local next_line = headers[index + 1]
    -- The cell runs from its header to the line before the next one.
    if line <= last and (next_line == nil or next_line - 1 >= first) then
      table.insert(wanted, line)
    end
  end
  return wanted
end

local function split_lines(text)
  local lines = vim.split(text or '', '\n', { plain = true })
  while #lines > 0 and lines[#lines]:match('^%s*$') do
    table.remove(lines)
  end
  return lines
end

local function bytes_text(bytes)
  if not bytes then
    return ''
  elseif bytes < 1024 then
    return string.format('%d B', bytes)
  elseif bytes < 1048576 then
    return string.format('%.1f KiB', bytes / 1024)
  end
  return string.format('%.1f MiB', bytes / 1048576)
end

--- The `{text, highlight}` rows of one output.
local function output_rows(output, answer)
  local rows = {}
  if output.type == 'stream' then
    for _, line in ipairs(split_lines(output.text)) do
      table.insert(rows, { line, output.name == 'stderr' and 'JellycellOutputError' or 'JellycellOutput' })
    end
  elseif output.type == 'error' then
    local last
    for _, frame in ipairs(output.traceback or {}) do
      for _, line in ipairs(split_lines(frame)) do
        if not line:match('^%s*$') then
          last = line
        end
      end
    end
    last = last or (output.ename .. ': ' .. (output.evalue or ''))
    table.insert(rows, { vim.trim(last), 'JellycellOutputError' })
  else
    local data = output.data or {}
    local image
    for mime, value in pairs(data) do
      if mime:match('^image/') then
        image = { mime = mime, value = value }
      end
    end
    if image then
      local link = image.value.url or answer.previewUrl or ':JellycellPreview'
      table.insert(rows, {
        string.format('🖼 %s %s  %s', image.mime, bytes_text(image.value.bytes), link),
        'JellycellOutputImage',
      })
    elseif data['text/plain'] then
      for _, line in ipairs(split_lines(data['text/plain'].text)) do
        table.insert(rows, { line, 'JellycellOutput' })
      end
    else
      local mime = next(data)
      if mime then
        table.insert(rows, {
          string.format('%s output  %s', mime, answer.previewUrl or ':JellycellPreview'),
          'JellycellOutputImage',
        })
      end
    end
  end
  return rows
end

--- The virtual lines of one cell's answer (`nil` when there is nothing to show).
function M.virtual_lines(answer, max_lines)
  if type(answer) ~= 'table' or not answer.outputs or #answer.outputs == 0 then
    return nil
  end
  local rows = {}
  if answer.stale then
    table.insert(rows, { '● stale: outputs of an earlier version of the cell', 'JellycellOutputStale' })
  end
  local text_rows, hidden = 0, 0
  for _, output in ipairs(answer.outputs) do
    for _, row in ipairs(output_rows(output, answer)) do
      -- Errors and images are always shown; text counts against the limit.
      if row[2] == 'JellycellOutput' and text_rows >= max_lines then
        hidden = hidden + 1
      else
        if row[2] == 'JellycellOutput' then
          text_rows = text_rows + 1
        end
        table.insert(rows, row)
      end
    end
  end
  if hidden > 0 then
    table.insert(rows, { string.format('… %d more line%s', hidden, hidden == 1 and '' or 's'), 'JellycellOutput' })
  end
  local lines = {}
  for _, row in ipairs(rows) do
    table.insert(lines, { { '│ ', 'JellycellOutput' }, { row[1], row[2] } })
  end
  return lines
end

--- Draws the answers of `buf` (all of them, at once: no flicker between cells).
local function draw(buf)
  if not vim.api.nvim_buf_is_valid(buf) then
    return
  end
  local state = state_of(buf)
  vim.api.nvim_buf_clear_namespace(buf, M.namespace, 0, -1)
  if not M.options.enabled then
    return
  end
  local count = vim.api.nvim_buf_line_count(buf)
  for ordinal, answer in pairs(state.answers) do
    local lines = not state.hidden[ordinal] and M.virtual_lines(answer, M.options.max_lines)
    if lines and type(answer.line) == 'number' and answer.line < count then
      vim.api.nvim_buf_set_extmark(buf, M.namespace, answer.line, 0, {
        virt_lines = lines,
        -- Stays under the cell's last line when text is added above it.
        right_gravity = false,
      })
    end
  end
end

--- Fetches every code cell's outputs of `buf` and redraws them.
function M.refresh(buf)
  buf = (buf == nil or buf == 0) and vim.api.nvim_get_current_buf() or buf
  if not vim.api.nvim_buf_is_loaded(buf) then
    return
  end
  local client = client_of(buf)
  local state = state_of(buf)
  if not client or not M.options.enabled then
    draw(buf)
    return
  end
  state.generation = state.generation + 1
  local generation = state.generation
  local uri = vim.uri_from_bufnr(buf)
  local headers = M.visible_headers(buf, M.cell_header_lines(buf))
  local answers, waiting = {}, #headers
  if waiting == 0 then
    state.answers = answers
    draw(buf)
    vim.api.nvim_exec_autocmds('User', { pattern = 'JellycellOutputs', data = { buf = buf } })
    return
  end
  for _, line in ipairs(headers) do
    client:request('jellycell/cellOutputs', { uri = uri, line = line, maxImageBytes = 0 }, function(err, result)
      if state.generation ~= generation then
        return
      end
      if not err and type(result) == 'table' and result.cell then
        answers[result.cell] = result
      end
      waiting = waiting - 1
      if waiting == 0 then
        state.answers = answers
        draw(buf)
        vim.api.nvim_exec_autocmds('User', { pattern = 'JellycellOutputs', data = { buf = buf } })
      end
    end, buf)
  end
end

--- Refreshes every buffer the jellycell client is attached to.
function M.refresh_all()
  for _, client in ipairs(vim.lsp.get_clients({ name = 'jellycell' })) do
    for buf in pairs(client.attached_buffers) do
      M.refresh(buf)
    end
  end
end

--- Shows or hides the outputs of every buffer.
function M.toggle()
  M.options.enabled = not M.options.enabled
  for buf in pairs(buffers) do
    if vim.api.nvim_buf_is_valid(buf) then
      if M.options.enabled then
        M.refresh(buf)
      else
        draw(buf)
      end
    end
  end
end

--- Shows or hides the outputs of the cell under the cursor.
function M.toggle_cell()
  local buf = vim.api.nvim_get_current_buf()
  local client = client_of(buf)
  if not client then
    vim.notify('jellycell-lsp is not attached to this buffer', vim.log.levels.WARN)
    return
  end
  local line = vim.api.nvim_win_get_cursor(0)[1] - 1
  client:request('jellycell/cellOutputs', { uri = vim.uri_from_bufnr(buf), line = line, maxImageBytes = 0 }, function(err, result)
    if err or type(result) ~= 'table' or not result.cell then
      return
    end
    local state = state_of(buf)
    state.hidden[result.cell] = not state.hidden[result.cell] or nil
    draw(buf)
  end, buf)
end

--- Called once per attached buffer.
function M.attach(buf, group)
  local timer
  vim.api.nvim_create_autocmd({ 'TextChanged', 'InsertLeave' }, {
    group = group,
    buffer = buf,
    callback = function()
      if timer then
        timer:stop()
      end
      timer = vim.defer_fn(function() M.refresh(buf) end, M.options.debounce_ms)
    end,
  })
  vim.api.nvim_create_autocmd('WinScrolled', {
    group = group,
    buffer = buf,
    callback = function()
      if timer then
        timer:stop()
      end
      timer = vim.defer_fn(function() M.refresh(buf) end, M.options.debounce_ms)
    end,
  })
  vim.api.nvim_create_autocmd('BufWipeout', {
    group = group,
    buffer = buf,
    callback = function() buffers[buf] = nil end,
  })
  M.refresh(buf)
end

return M
