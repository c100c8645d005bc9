; Imports that bind a name to the jellycell module, its API, or one of its functions,
; for jellycell-lsp's static analysis. `@import.module` is the module imported from.

; import jellycell.api as J / import jellycell as J
(import_statement
  name: (aliased_import
    name: (dotted_name) @import.module
    alias: (identifier) @import.alias)
  (#match? @import.module "^jellycell(\\s*\\.\\s*api)?$"))

; from jellycell import api as J / from jellycell.api import save as s
(import_from_statement
  module_name: (dotted_name) @import.module
  name: (aliased_import
    name: (dotted_name) @import.name
    alias: (identifier) @import.alias)
  (#match? @import.module "^jellycell(\\s*\\.\\s*api)?$"))

; from jellycell import api / from jellycell.api import load
(import_from_statement
  module_name: (dotted_name) @import.module
  name: (dotted_name) @import.name
  (#match? @import.module "^jellycell(\\s*\\.\\s*api)?$"))

; from jellycell.api import *
(import_from_statement
  module_name: (dotted_name) @import.module
  (wildcard_import) @import.star
  (#match? @import.module "^jellycell(\\s*\\.\\s*api)?$"))
