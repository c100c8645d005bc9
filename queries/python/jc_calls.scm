; Calls that may be jellycell API calls, for jellycell-lsp's static analysis.
;
; The analysis decides in Rust whether the receiver (`@call.receiver`) is the jellycell
; module under some name (`jc`, `jellycell`, `jellycell.api`, an `import ... as` alias)
; and whether a bare name (`@call.name`) was imported from `jellycell.api`.

; jc.load("..."), J.save(df, "..."), jellycell.api.deps("...")
(call
  function: (attribute
    object: [(identifier) (attribute)] @call.receiver
    attribute: (identifier) @call.function) @call.callee
  arguments: (_) @call.arguments
  (#any-of? @call.function "deps" "load" "save" "figure" "table" "path")) @call

; load("...") after `from jellycell.api import load`
(call
  function: (identifier) @call.name @call.callee
  arguments: (_) @call.arguments) @call
