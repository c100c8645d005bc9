" tests/editor_vim_ale.rs: Vim 9 + Debian's vim-ale against jellycell-lsp, headless.
" ALE never answers server->client requests (window/workDoneProgress/create,
" workspace/codeLens/refresh): the server must work anyway.
" usage: LSP_OUT=out.txt LSP_EXE=/path/jellycell-lsp LSP_FILE=nb.py RUN_LINE=N \
"        vim -N -u NONE -i NONE -n -es -S ale_smoke.vim
set nocompatible
set encoding=utf-8
set runtimepath^=/usr/share/vim-ale
filetype plugin on
let g:ale_linters = {'python': ['jellycell']}
let g:ale_lint_delay = 0
let g:ale_echo_cursor = 0
let g:ale_set_signs = 0
runtime plugin/ale.vim
function! Say(msg) abort
  call writefile([a:msg], $LSP_OUT, 'a')
endfunction
function! Wait(ms, cond) abort
  let l:n = 0
  while l:n < a:ms && !eval(a:cond)
    sleep 20m
    let l:n += 20
  endwhile
  return eval(a:cond)
endfunction
" What a user's vimrc would hold (docs/editors.md).
call ale#linter#Define('python', {
\ 'name': 'jellycell', 'lsp': 'stdio',
\ 'executable': $LSP_EXE, 'command': '%e',
\ 'project_root': {buffer -> fnamemodify(ale#path#FindNearestFile(buffer, 'jellycell.toml'), ':h')},
\})
let g:resp = {}
function! OnResp(key, response) abort
  let g:resp[a:key] = a:response
endfunction
function! Request(key, message, ms) abort
  if has_key(g:resp, a:key)
    call remove(g:resp, a:key)
  endif
  call ale#lsp_linter#SendRequest(s:buf, 'jellycell', a:message, function('OnResp', [a:key]))
  return Wait(a:ms, 'has_key(g:resp, "' . a:key . '")')
endfunction
function! Lenses() abort
  if !Request('lens', [0, 'textDocument/codeLens', {'textDocument': {'uri': s:uri}}], 10000)
    return []
  endif
  let l:lenses = get(g:resp.lens, 'result', v:null)
  return type(l:lenses) == v:t_list ? l:lenses : []
endfunction
function! Titles(lenses) abort
  return map(filter(copy(a:lenses), 'has_key(v:val, "command")'), 'v:val.range.start.line . ":" . v:val.command.title')
endfunction

execute 'edit ' . fnameescape($LSP_FILE)
let s:buf = bufnr('')
let s:uri = ale#util#ToURI(expand('%:p'))
ALELint
if !Wait(30000, '!empty(get(get(g:, "ale_buffer_info", {}), s:buf, {"loclist": []}).loclist)')
  call Say('FAIL: no diagnostics') | cquit 1
endif
for s:d in g:ale_buffer_info[s:buf].loclist
  call Say(printf('diagnostic L%d %s: %s', s:d.lnum, get(s:d, 'code', ''), s:d.text))
endfor
call Say('lenses before: ' . json_encode(Titles(Lenses())))

let s:command = [0, 'workspace/executeCommand', {'command': 'jellycell.runCell', 'arguments': [{'uri': s:uri, 'line': str2nr($RUN_LINE)}]}]
if Request('exec', s:command, 30000)
  call Say('runCell answered: ' . json_encode(get(g:resp.exec, 'result', get(g:resp.exec, 'error', v:null))))
else
  call Say('runCell: no answer')
endif
" ALE asks for nothing by itself; poll the lenses until the run has finished.
let s:deadline = has_key(get(g:resp, 'exec', {}), 'error') ? 0 : 180000
let s:titles = []
while s:deadline > 0
  let s:titles = Titles(Lenses())
  if !empty(filter(copy(s:titles), 'v:val =~# "cached"'))
    break
  endif
  sleep 500m
  let s:deadline -= 500
endwhile
call Say('lenses after: ' . json_encode(s:titles))
" ALE's own hover message (1-based line and column), on the line that ran.
if Request('hover', ale#lsp#message#Hover(s:buf, str2nr($RUN_LINE) + 1, 1), 10000)
  let s:hover = get(g:resp.hover, 'result', v:null)
  call Say('hover: ' . json_encode(type(s:hover) == v:t_dict ? s:hover.contents : v:null))
endif
call Say('OK')
qall!
