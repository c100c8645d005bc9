//! `undefined-name` and `use-before-define`: pyflakes' F821 across the cells of a notebook
//! in order. A name a cell reads (`analysis::dataflow`) must be bound by the cell before
//! it, by a cell above, by a `jc.setup` cell (they run first), or be a builtin, an
//! IPython name or `jc` (the runner's prelude binds it). Read only in a function body, it
//! may be defined anywhere in the notebook (it is read when the function is called). A cell
//! with `from m import *`, `%run`, `exec(...)`, `globals()`... may define anything: it and
//! every cell below it are not checked. Notes never run and are not checked; a cell that
//! does not parse is left to `python-syntax-error`. Notebooks of another kernel language
//! (the kernelspec or language_info says so) are not checked.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use crate::analysis::dataflow::CellFlow;
use crate::analysis::workspace::NotebookFile;
use crate::format::CellType;
use crate::format::tags::{self, CellKind};
use crate::lint::Finding;
use crate::text::Span;

/// Names the runner's prelude defines in every kernel.
pub(super) const PRELUDE_NAMES: &[&str] = &["jc"];

/// The findings of one notebook (they depend on it alone). Linear in the notebook: each
/// name's definers are looked up in an index, never by scanning the cells around.
pub fn findings(file: &NotebookFile) -> Vec<Finding> {
    if !is_python(file) {
        return Vec::new();
    }
    let cells: Vec<(usize, Cow<'_, CellFlow>, bool)> = file
        .notebook
        .cells
        .iter()
        .enumerate()
        .filter(|(_, cell)| cell.cell_type == CellType::Code && cell.spec.kind != CellKind::Note)
        .map(|(ordinal, _)| {
            let parses = file
                .analyses
                .get(ordinal)
                .and_then(Option::as_ref)
                .is_none_or(|analysis| analysis.syntax_errors.is_empty());
            (ordinal, file.cell_flow(ordinal), parses)
        })
        .collect();
    let setup_defines: HashSet<&str, NameHasher> = cells
        .iter()
        .filter(|(ordinal, _, _)| file.notebook.cells[*ordinal].spec.kind == CellKind::Setup)
        .flat_map(|(_, flow, _)| flow.defines.iter().map(String::as_str))
        .collect();
    // For each name, the positions (in `cells`, ascending) of the cells that define it.
    // Run on every edit over the whole notebook: one entry per name, no allocation for a
    // name one cell defines, a hash that is cheap on short identifiers.
    let defined: usize = cells.iter().map(|(_, flow, _)| flow.defines.len()).sum();
    let mut definers: HashMap<&str, Definers, NameHasher> =
        HashMap::with_capacity_and_hasher(defined, NameHasher::default());
    for (position, (_, flow, _)) in cells.iter().enumerate() {
        for name in &flow.defines {
            definers
                .entry(name.as_str())
                .and_modify(|definers| definers.later.push(position))
                .or_insert(Definers {
                    first: position,
                    later: Vec::new(),
                });
        }
    }
    let defined_above = |name: &str, position: usize| {
        definers
            .get(name)
            .is_some_and(|definers| definers.first < position)
    };
    let defined_below = |name: &str, position: usize| {
        let definers = definers.get(name)?;
        if definers.first > position {
            return Some(cells[definers.first].0);
        }
        let after = definers.later.partition_point(|&at| at <= position);
        definers.later.get(after).map(|&at| cells[at].0)
    };
    let mut findings = Vec::new();
    for (position, (ordinal, flow, parses)) in cells.iter().enumerate() {
        // This cell may define anything: it and every cell below it are not checked.
        if flow.defines_everything {
            break;
        }
        if !parses {
            continue;
        }
        let cell = file.notebook.cells.at(*ordinal);
        for (name, span) in &flow.read_spans {
            if PRELUDE_NAMES.contains(&name.as_str())
                || setup_defines.contains(name.as_str())
                || defined_above(name, position)
            {
                continue;
            }
            let here = sorted_contains(&flow.defines, name);
            let below = defined_below(name, position);
            if deferred_read_is_defined(flow, name, here, below) {
                continue;
            }
            let span = Some(cell.text_span(&file.text, *span));
            findings.push(finding(file, name, span, here, below));
        }
    }
    findings
}

/// Whether a read of `name` that no cell above defines is still no finding: read only in a
/// function body of `flow`'s cell, it runs when the function is called, after the cell
/// itself (`here`) or a cell below (`below`) defined it.
pub(super) fn deferred_read_is_defined(
    flow: &CellFlow,
    name: &str,
    here: bool,
    below: Option<usize>,
) -> bool {
    (here || below.is_some()) && sorted_contains(&flow.deferred_reads, name)
}

/// Whether the sorted `names` hold `name`.
pub(super) fn sorted_contains(names: &[String], name: &str) -> bool {
    names
        .binary_search_by(|held| held.as_str().cmp(name))
        .is_ok()
}

/// The finding for a read of `name` at `span` that no cell above (nor a setup cell, nor
/// the prelude) defines: `here` when the reading cell defines it too, `below` the ordinal
/// of the first cell below that does.
pub(super) fn finding(
    file: &NotebookFile,
    name: &str,
    span: Option<Span>,
    here: bool,
    below: Option<usize>,
) -> Finding {
    match (here, below) {
        (true, _) => Finding::new(
            "use-before-define",
            span,
            format!("`{name}` is read before this cell defines it, and no cell above defines it"),
        ),
        (false, Some(below)) => {
            let definer = file
                .notebook
                .cells
                .get(below)
                .map_or_else(String::new, |cell| {
                    tags::cell_name(&cell.spec, file.stem(), below)
                });
            Finding::new(
                "use-before-define",
                span,
                format!(
                    "`{name}` is defined only below, by cell '{definer}': run in order, this cell fails with NameError; move the definition up"
                ),
            )
        }
        (false, None) => Finding::new(
            "undefined-name",
            span,
            format!(
                "undefined name `{name}`: no cell of this notebook defines it, and it is not a builtin or an import"
            ),
        ),
    }
}

/// The cells (positions in the checked cells, ascending) that define one name.
struct Definers {
    first: usize,
    later: Vec<usize>,
}

/// FxHash (rustc's): names are short identifiers from the user's own notebook, hashed
/// tens of thousands of times per edit of a big one, where SipHash's DoS resistance buys
/// nothing.
pub(super) type NameHasher = std::hash::BuildHasherDefault<FxHasher>;

#[derive(Default)]
pub(super) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Whether the notebook's kernel language is Python (or not stated).
pub(super) fn is_python(file: &NotebookFile) -> bool {
    let metadata = &file.notebook.metadata;
    let language = metadata
        .get("kernelspec")
        .and_then(|spec| spec.get("language"))
        .or_else(|| {
            metadata
                .get("language_info")
                .and_then(|info| info.get("name"))
        })
        .and_then(|language| language.as_str());
    language.is_none_or(|language| language.eq_ignore_ascii_case("python"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::workspace::{NotebookInput, Workspace};

    fn rules_fired(text: &str) -> Vec<(String, String)> {
        let root = std::path::PathBuf::from("/nonexistent-jellycell-project");
        let project = crate::project::Project::without_config(&root);
        let workspace = Workspace::build(
            project,
            vec![NotebookInput {
                path: root.join("notebooks/n.py"),
                text: text.to_string(),
            }],
        );
        findings(&workspace.files[0])
            .into_iter()
            .map(|finding| (finding.rule.to_string(), finding.message))
            .collect()
    }

    #[test]
    fn real_code_raises_nothing() {
        let text = r#"# %%
%matplotlib inline
import os, sys
from pathlib import Path
files = !ls
here = __file__ if "__file__" in globals() else os.getcwd()

# %%
from dataclasses import dataclass
@dataclass
class Point:
    x: int
    y: int = 0
    def norm(self) -> float:
        return (self.x ** 2 + self.y ** 2) ** 0.5

def outer(scale: float = 1.0):
    def inner(v):
        return v * scale
    return inner

counter = 0
def bump():
    global counter
    counter += 1

# %%
try:
    value = int("x")
except ValueError as e:
    print(f"{e!r:>10} {value if False else 0}")
double = lambda v: v * 2
squares = [n * n for n in range(3) if (m := n) >= 0]
match Point(1, 2):
    case Point(x=0, y=yy):
        print(yy)
    case [first, *rest]:
        print(first, rest)
    case _:
        pass
display(get_ipython(), jc, _, In, Out, sys.argv, Path("."), m)
print(outer()(2), double(3), squares, counter, bump())
"#;
        assert_eq!(rules_fired(text), Vec::<(String, String)>::new());
    }

    #[test]
    fn a_name_read_before_any_cell_defines_it_is_reported_with_its_definer() {
        let text = "# %%\nprint(total)\n\n# %% tags=[\"name=sum_up\"]\ntotal = 1\n\n# %%\nprint(missing)\n\n# %%\nprint(late)\nlate = 1\n";
        let fired = rules_fired(text);
        assert_eq!(fired.len(), 3, "{fired:?}");
        assert_eq!(fired[0].0, "use-before-define");
        assert!(fired[0].1.contains("'sum_up'"), "{}", fired[0].1);
        assert_eq!(fired[1].0, "undefined-name");
        assert!(fired[1].1.contains("`missing`"));
        assert_eq!(fired[2].0, "use-before-define");
    }

    #[test]
    fn setup_cells_star_imports_and_function_bodies_are_understood() {
        let text = "# %%\ndef show():\n    return later\n\n# %% tags=[\"jc.setup\"]\nSETTING = 1\n\n# %%\nprint(SETTING)\nlater = 2\n\n# %%\nfrom pylab import *\n\n# %%\nprint(anything)\n";
        assert_eq!(rules_fired(text), Vec::<(String, String)>::new());
    }

    #[test]
    fn other_kernel_languages_are_not_checked() {
        let text = "# ---\n# jupyter:\n#   kernelspec:\n#     language: R\n#     name: ir\n# ---\n\n# %%\nlibrary(ggplot2)\n";
        assert_eq!(rules_fired(text), Vec::<(String, String)>::new());
    }
}
