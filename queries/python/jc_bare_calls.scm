; Calls of a bare name that may be an API function imported from `jellycell.api`, for
; jellycell-lsp's static analysis; the analysis runs it only when such an import (or
; `from jellycell.api import *`) is in scope and checks the name in Rust.

; load("...") after `from jellycell.api import load`
(call
  function: (identifier) @call.name @call.callee
  arguments: (_) @call.arguments) @call
