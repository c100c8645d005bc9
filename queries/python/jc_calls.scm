; Calls that may be jellycell API calls, for jellycell-lsp's static analysis.
;
; The analysis decides in Rust whether the receiver (`@call.receiver`) is the jellycell
; module under some name (`jc`, `jellycell`, `jellycell.api`, an `import ... as` alias)
; Bare names imported from `jellycell.api` are in `jc_bare_calls.scm`, which runs only
; when such an import is in scope (it matches every call of a plain name).

; jc.load("..."), J.save(df, "..."), jellycell.api.deps("...")
(call
  function: (attribute
    object: [(identifier) (attribute)] @call.receiver
    attribute: (identifier) @call.function) @call.callee
  arguments: (_) @call.arguments
  (#any-of? @call.function "deps" "load" "save" "figure" "table" "path")) @call
