//! The modules a notebook imports at module level, by top-level name with the span of
//! each, and the distributions its PEP-723 block asks for: what the environment hints ask
//! the kernel's Python about. Only imports at the start of a line of a code cell count
//! (`import a.b as c, d`, `from a.b import x`); imports inside a block (`try:`, `if`,
//! `def`) are often guarded, so they are left to run time. Relative imports and
//! `__future__` are skipped.

use crate::analysis::workspace::NotebookFile;
use crate::format::tags::CellKind;
use crate::format::{CellType, PlacedCell};
use crate::text::Span;

/// One module-level import of a top-level module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleImport {
    /// The top-level module (`pandas` for `import pandas.io`).
    pub module: String,
    /// The module's dotted name in the file.
    pub span: Span,
}

/// The first import of each top-level module in `file`'s code cells, in file order.
pub fn module_imports(file: &NotebookFile) -> Vec<ModuleImport> {
    let mut found: Vec<ModuleImport> = Vec::new();
    for cell in &file.notebook.cells {
        let body_start = cell.spans.body.start;
        for (module, start, end) in body_imports(cell, &file.text) {
            if !found.iter().any(|known| known.module == module) {
                found.push(ModuleImport {
                    module,
                    span: Span::new(body_start + start, body_start + end),
                });
            }
        }
    }
    found
}

/// `(top-level module, start, end)` of each module-level import in `cell`'s body (`text`
/// is the file's), in order, offsets from the body's start; none for a cell that is not
/// code, or is a note.
pub fn body_imports(cell: PlacedCell<'_>, text: &str) -> Vec<(String, usize, usize)> {
    if cell.cell_type != CellType::Code || cell.spec.kind == CellKind::Note {
        return Vec::new();
    }
    let body = cell.spans.body;
    let Some(text) = text.get(body.start..body.end) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        // Only these lines can import (module level: no indent); most lines are not.
        if line.starts_with("import ") || line.starts_with("from ") {
            found.extend(
                imports_on_line(line)
                    .into_iter()
                    .map(|(module, start, end)| (module, offset + start, offset + end)),
            );
        }
        offset += line.len();
    }
    found
}

/// `(top-level module, start, end)` of each module an import line names; none for a
/// line that is not a module-level import.
fn imports_on_line(line: &str) -> Vec<(String, usize, usize)> {
    let code = line.split('#').next().unwrap_or_default().trim_end();
    let mut found = Vec::new();
    if let Some(rest) = code.strip_prefix("import ") {
        let mut at = "import ".len();
        for part in rest.split(',') {
            let lead = part.len() - part.trim_start().len();
            let name: String = dotted_prefix(part.trim_start());
            if let Some(top) = top_level(&name) {
                found.push((top, at + lead, at + lead + name.len()));
            }
            at += part.len() + 1;
        }
    } else if let Some(rest) = code.strip_prefix("from ") {
        let lead = rest.len() - rest.trim_start().len();
        let name = dotted_prefix(rest.trim_start());
        let after = rest.trim_start()[name.len()..].trim_start();
        if after.starts_with("import")
            && let Some(top) = top_level(&name)
            && top != "__future__"
        {
            let start = "from ".len() + lead;
            found.push((top, start, start + name.len()));
        }
    }
    found
}

fn dotted_prefix(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
        .collect()
}

/// The first segment of a dotted name; `None` for a relative or empty one.
fn top_level(name: &str) -> Option<String> {
    let top = name.split('.').next().unwrap_or_default();
    let valid = top
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    valid.then(|| top.to_string())
}

/// The distribution a PEP-723 dependency names (`pandas` for `pandas[excel]>=2`), `None`
/// for one with an environment marker (it may not apply here) or no name.
pub fn distribution_name(requirement: &str) -> Option<String> {
    if requirement.contains(';') {
        return None;
    }
    let name: String = requirement
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules(line: &str) -> Vec<String> {
        imports_on_line(line)
            .into_iter()
            .map(|(module, start, end)| {
                assert!(
                    line[start..end].starts_with(&module),
                    "{line}: {start}..{end}"
                );
                module
            })
            .collect()
    }

    #[test]
    fn module_level_imports_by_top_level_name() {
        assert_eq!(modules("import pandas as pd\n"), ["pandas"]);
        assert_eq!(
            modules("import os.path, numpy as np  # both\n"),
            ["os", "numpy"]
        );
        assert_eq!(
            modules("from sklearn.linear_model import Ridge\n"),
            ["sklearn"]
        );
        assert_eq!(modules("from toolz import (curry,\n"), ["toolz"]);
    }

    #[test]
    fn guarded_relative_and_future_imports_are_left_out() {
        assert!(modules("    import optional_thing\n").is_empty());
        assert!(modules("from . import sibling\n").is_empty());
        assert!(modules("from .pkg import x\n").is_empty());
        assert!(modules("from __future__ import annotations\n").is_empty());
        assert!(modules("# import commented\n").is_empty());
        assert!(modules("imports = 3\n").is_empty());
        assert!(modules("from_here = 1\n").is_empty());
    }

    #[test]
    fn distribution_names_of_requirements() {
        assert_eq!(
            distribution_name("pandas[excel]>=2").as_deref(),
            Some("pandas")
        );
        assert_eq!(
            distribution_name(" scikit-learn ==1.5").as_deref(),
            Some("scikit-learn")
        );
        assert_eq!(
            distribution_name("pkg @ https://x/y.whl").as_deref(),
            Some("pkg")
        );
        assert_eq!(distribution_name("tomli; python_version < '3.11'"), None);
    }
}
