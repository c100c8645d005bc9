//! Cache keys (DESIGN contract 3): the byte layout of one key, the environment hash, and
//! the keys of every cell of a workspace in dependency order, across notebooks.
//!
//! A key is blake3 over length-prefixed fields (see `docs/cache.md`, which pins test
//! vectors that the tests below check): the format version, the normalised source, the
//! sorted dependency keys, the hashes of the setup cells above, the environment hash, the
//! kernel name, and the injected parameters. Names, ordinals, titles and timeouts are not
//! in the key, so moving or renaming a cell keeps its cache.

use std::collections::{HashMap, HashSet};

use crate::analysis::graph::CellRef;
use crate::analysis::workspace::Workspace;
use crate::cache::normalize::normalize_source;
use crate::format::CellType;
use crate::format::tags::CellKind;

/// The first field of every key; bumped whenever the layout changes.
pub const KEY_VERSION: &str = "jellycell-lsp-cache-v1";

/// The unit separator jellycell's hashes use between fields of the environment hash.
const SEP: u8 = 0x1f;

/// Everything that went into one key (stored in the manifest beside the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInputs {
    /// The normalised source, as it will be executed.
    pub source: String,
    /// The keys of the cell's dependencies, sorted and without duplicates.
    pub dep_keys: Vec<String>,
    /// blake3 of the normalised source of every setup cell above, in order.
    pub setup_hashes: Vec<String>,
    pub env_hash: String,
    pub kernel: String,
    /// The injected parameters cell's source when it applies to this cell.
    pub params: Option<String>,
}

impl KeyInputs {
    /// The key: blake3 over the length-prefixed fields, as lowercase hex.
    pub fn key(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        field(&mut hasher, KEY_VERSION.as_bytes());
        field(&mut hasher, self.source.as_bytes());
        list(&mut hasher, &self.dep_keys);
        list(&mut hasher, &self.setup_hashes);
        field(&mut hasher, self.env_hash.as_bytes());
        field(&mut hasher, self.kernel.as_bytes());
        field(
            &mut hasher,
            self.params.as_deref().unwrap_or_default().as_bytes(),
        );
        hasher.finalize().to_hex().to_string()
    }

    /// blake3 of the normalised source.
    pub fn source_hash(&self) -> String {
        hash_hex(self.source.as_bytes())
    }

    /// blake3 of the parameters text, when parameters apply.
    pub fn params_hash(&self) -> Option<String> {
        self.params.as_deref().map(|text| hash_hex(text.as_bytes()))
    }
}

fn field(hasher: &mut blake3::Hasher, bytes: &[u8]) {
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

fn list(hasher: &mut blake3::Hasher, items: &[String]) {
    hasher.update(&(items.len() as u64).to_le_bytes());
    for item in items {
        field(hasher, item.as_bytes());
    }
}

/// blake3 of `bytes` as lowercase hex.
pub fn hash_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// The environment hash (jellycell §4.2 with blake3): `uv.lock`, else `poetry.lock` at the
/// project root (name, 0x1F, bytes), else the sorted unique PEP-723 dependency strings,
/// each followed by 0x1F.
pub fn env_hash(lockfile: Option<(&str, &[u8])>, dependencies: &[String]) -> String {
    let mut hasher = blake3::Hasher::new();
    match lockfile {
        Some((name, bytes)) => {
            hasher.update(name.as_bytes());
            hasher.update(&[SEP]);
            hasher.update(bytes);
        }
        None => {
            let mut sorted: Vec<&String> = dependencies.iter().collect();
            sorted.sort();
            sorted.dedup();
            for dependency in sorted {
                hasher.update(dependency.as_bytes());
                hasher.update(&[SEP]);
            }
        }
    }
    hasher.finalize().to_hex().to_string()
}

/// Parameters injected into one notebook: the source of the injected cell and the
/// ordinal of the cell it follows (`None`: injected at the top, as papermill does when no
/// cell is tagged `parameters`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    pub notebook: usize,
    pub after: Option<usize>,
    pub source: String,
}

impl Injection {
    /// Whether the parameters apply to (are in the key of) the cell at `ordinal`.
    pub fn applies_to(&self, cell: CellRef) -> bool {
        cell.notebook == self.notebook && self.after.is_none_or(|after| cell.ordinal > after)
    }
}

/// The ordinal of the first cell tagged `parameters` in notebook `file`.
pub fn parameters_cell(workspace: &Workspace, file: usize) -> Option<usize> {
    workspace
        .files
        .get(file)?
        .notebook
        .cells
        .iter()
        .position(|cell| cell.cell_type == CellType::Code && cell.tags().contains(&"parameters"))
}

/// Computes keys of a workspace's cells on demand, memoised.
pub struct KeyContext<'w> {
    workspace: &'w Workspace,
    injection: Option<Injection>,
    memo: HashMap<CellRef, Option<KeyInputs>>,
    keys: HashMap<CellRef, Option<String>>,
    env_hashes: HashMap<usize, String>,
    lockfile: Option<Option<(String, Vec<u8>)>>,
    /// Per notebook: (ordinal, source hash) of its setup cells, in order, hashed once.
    setup_cells: HashMap<usize, Vec<(usize, String)>>,
    /// The cells of the graph's cycles, gathered on first need.
    cyclic: Option<HashSet<CellRef>>,
}

impl<'w> KeyContext<'w> {
    pub fn new(workspace: &'w Workspace, injection: Option<Injection>) -> KeyContext<'w> {
        KeyContext {
            workspace,
            injection,
            memo: HashMap::new(),
            keys: HashMap::new(),
            env_hashes: HashMap::new(),
            lockfile: None,
            setup_cells: HashMap::new(),
            cyclic: None,
        }
    }

    /// The key of `cell`, or `None` for cells without one (setup, note, markdown, raw).
    pub fn key(&mut self, cell: CellRef) -> Option<String> {
        if let Some(known) = self.keys.get(&cell) {
            return known.clone();
        }
        let key = self.inputs(cell).map(|inputs| inputs.key());
        self.keys.insert(cell, key.clone());
        key
    }

    /// The key inputs of `cell`, or `None` for cells without a key.
    pub fn inputs(&mut self, cell: CellRef) -> Option<KeyInputs> {
        if let Some(known) = self.memo.get(&cell) {
            return known.clone();
        }
        // Dependencies first, with an explicit stack: a chain of deps as long as the
        // project must not overflow the call stack. Edges that close a cycle are left
        // out, so what remains is acyclic and every dep is memoised before its dependent.
        let mut stack = vec![(cell, false)];
        while let Some((current, deps_done)) = stack.pop() {
            if self.memo.contains_key(&current) {
                continue;
            }
            if deps_done {
                let computed = self.compute(current);
                self.memo.insert(current, computed);
                continue;
            }
            stack.push((current, true));
            for target in self.acyclic_dependencies(current) {
                if !self.memo.contains_key(&target) {
                    stack.push((target, false));
                }
            }
        }
        self.memo.get(&cell).cloned().flatten()
    }

    /// The targets of `cell`'s dependencies, without those that can reach back to it
    /// (a dep in a cycle is left out, whichever cell the computation started from).
    fn acyclic_dependencies(&mut self, cell: CellRef) -> Vec<CellRef> {
        let graph = &self.workspace.graph;
        let edges = graph.dependencies(cell);
        if edges.is_empty() {
            return Vec::new();
        }
        let in_cycle = self
            .cyclic
            .get_or_insert_with(|| graph.cyclic_cells().collect())
            .contains(&cell);
        edges
            .iter()
            .map(|edge| edge.target)
            .filter(|&target| !(in_cycle && (target == cell || self.reaches(target, cell))))
            .collect()
    }

    /// The kernel name of notebook `file`: its PEP-723 override, else `[run] kernel`.
    pub fn kernel(&self, file: usize) -> String {
        let project = &self.workspace.project;
        let notebook = self.workspace.files.get(file).map(|file| &file.notebook);
        if let Some(block) = notebook.and_then(|notebook| notebook.pep723.as_ref()) {
            return project.with_overrides(&block.overrides).config.run.kernel;
        }
        // A notebook in another language (an R notebook's `ir`) names its own kernel;
        // `[run] kernel` is the project's Python kernel.
        let own_kernel = notebook
            .filter(|notebook| !crate::format::language::is_python_notebook(notebook))
            .and_then(|notebook| notebook.metadata.get("kernelspec"))
            .and_then(|kernelspec| kernelspec.get("name"))
            .and_then(serde_json::Value::as_str)
            .filter(|name| !name.is_empty());
        match own_kernel {
            Some(name) => name.to_string(),
            None => project.config.run.kernel.clone(),
        }
    }

    fn compute(&mut self, cell: CellRef) -> Option<KeyInputs> {
        let workspace = self.workspace;
        let file = workspace.files.get(cell.notebook)?;
        let code = file.notebook.cells.get(cell.ordinal)?;
        if code.cell_type != CellType::Code
            || matches!(code.spec.kind, CellKind::Setup | CellKind::Note)
        {
            return None;
        }
        let mut dep_keys: Vec<String> = self
            .acyclic_dependencies(cell)
            .into_iter()
            .filter_map(|target| self.key(target))
            .collect();
        dep_keys.sort();
        dep_keys.dedup();
        let setup_cells = self.setup_cells.entry(cell.notebook).or_insert_with(|| {
            file.notebook
                .cells
                .iter()
                .enumerate()
                .filter(|(_, above)| {
                    above.cell_type == CellType::Code && above.spec.kind == CellKind::Setup
                })
                .map(|(ordinal, setup)| {
                    (
                        ordinal,
                        hash_hex(normalize_source(&setup.source).as_bytes()),
                    )
                })
                .collect()
        });
        let above = setup_cells.partition_point(|(ordinal, _)| *ordinal < cell.ordinal);
        let setup_hashes = setup_cells[..above]
            .iter()
            .map(|(_, hash)| hash.clone())
            .collect();
        let params = self
            .injection
            .as_ref()
            .filter(|injection| injection.applies_to(cell))
            .map(|injection| normalize_source(&injection.source));
        Some(KeyInputs {
            source: normalize_source(&code.source),
            dep_keys,
            setup_hashes,
            env_hash: self.env_hash(cell.notebook),
            kernel: self.kernel(cell.notebook),
            params,
        })
    }

    fn reaches(&self, from: CellRef, to: CellRef) -> bool {
        let graph = &self.workspace.graph;
        let mut seen = HashSet::new();
        let mut stack = vec![from];
        while let Some(current) = stack.pop() {
            if current == to {
                return true;
            }
            if seen.insert(current) {
                stack.extend(graph.dependencies(current).iter().map(|edge| edge.target));
            }
        }
        false
    }

    fn env_hash(&mut self, file: usize) -> String {
        if let Some(hash) = self.env_hashes.get(&file) {
            return hash.clone();
        }
        if self.lockfile.is_none() {
            let root = &self.workspace.project.root;
            let found = ["uv.lock", "poetry.lock"].into_iter().find_map(|name| {
                std::fs::read(root.join(name))
                    .ok()
                    .map(|bytes| (name.to_string(), bytes))
            });
            self.lockfile = Some(found);
        }
        let lockfile = self
            .lockfile
            .as_ref()
            .and_then(|found| found.as_ref())
            .map(|(name, bytes)| (name.as_str(), bytes.as_slice()));
        let dependencies = self
            .workspace
            .files
            .get(file)
            .and_then(|file| file.notebook.pep723.as_ref())
            .map(|block| block.dependencies.clone())
            .unwrap_or_default();
        let hash = env_hash(lockfile, &dependencies);
        self.env_hashes.insert(file, hash.clone());
        hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(source: &str) -> KeyInputs {
        KeyInputs {
            source: normalize_source(source),
            dep_keys: Vec::new(),
            setup_hashes: Vec::new(),
            env_hash: env_hash(None, &[]),
            kernel: "python3".into(),
            params: None,
        }
    }

    /// The vectors published in docs/cache.md; the doc must list each of them.
    #[test]
    fn test_vectors_match_docs_cache_md() {
        let doc = include_str!("../../../docs/cache.md");
        let empty_env = env_hash(None, &[]);
        let numpy_env = env_hash(None, &["pandas".into(), "numpy".into(), "numpy".into()]);
        let uv_env = env_hash(Some(("uv.lock", b"version = 1\n")), &["ignored".into()]);
        let mut with_deps = inputs("summary = df.describe()\n");
        with_deps.dep_keys = vec!["a".repeat(64), "b".repeat(64)];
        with_deps.setup_hashes = vec![hash_hex(b"N = 5\n")];
        let mut with_params = inputs("print(alpha)");
        with_params.params = Some("# Parameters\nalpha = 0.5\n".into());
        let vectors = [
            ("env_hash([])", empty_env.clone()),
            ("env_hash([\"pandas\",\"numpy\",\"numpy\"])", numpy_env),
            ("env_hash(uv.lock)", uv_env),
            ("key(\"\")", inputs("").key()),
            ("key(\"x = 1\")", inputs("x = 1").key()),
            ("key(deps+setup)", with_deps.key()),
            ("key(params)", with_params.key()),
        ];

        for (name, value) in &vectors {
            assert!(
                doc.contains(value.as_str()),
                "docs/cache.md lacks the vector {name} = {value}"
            );
        }
        assert_eq!(
            empty_env,
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    fn workspace(files: &[(&str, &str)]) -> Workspace {
        use crate::analysis::workspace::NotebookInput;
        let root = std::path::PathBuf::from("/nonexistent-jellycell-project");
        let project = crate::project::Project::without_config(&root);
        let inputs = files
            .iter()
            .map(|(path, text)| NotebookInput {
                path: root.join(path),
                text: text.to_string(),
            })
            .collect();
        Workspace::build(project, inputs)
    }

    fn cell(notebook: usize, ordinal: usize) -> CellRef {
        CellRef { notebook, ordinal }
    }

    #[test]
    fn a_cross_notebook_cycle_gives_the_same_keys_from_either_side() {
        let files = [
            (
                "notebooks/a.py",
                "# %%\nx = jc.load(\"artifacts/b.json\")\njc.save(x, \"artifacts/a.json\")\n",
            ),
            (
                "notebooks/b.py",
                "# %%\ny = jc.load(\"artifacts/a.json\")\njc.save(y, \"artifacts/b.json\")\n",
            ),
        ];
        let workspace = workspace(&files);
        assert_eq!(
            workspace.graph.dependencies(cell(0, 0))[0].target,
            cell(1, 0)
        );
        assert_eq!(
            workspace.graph.dependencies(cell(1, 0))[0].target,
            cell(0, 0)
        );
        let mut from_a = KeyContext::new(&workspace, None);
        let a_first = (from_a.key(cell(0, 0)), from_a.key(cell(1, 0)));
        let mut from_b = KeyContext::new(&workspace, None);
        let b_first = (from_b.key(cell(0, 0)), from_b.key(cell(1, 0)));
        let b_second = from_b.key(cell(1, 0));
        assert!(a_first.0.is_some() && a_first.1.is_some());
        assert_eq!(a_first, b_first);
        assert_eq!(a_first.1, b_second);
    }

    #[test]
    fn a_chain_of_deps_as_long_as_the_notebook_does_not_overflow_the_stack() {
        let mut text = String::from("# %% tags=[\"name=c0\"]\nx = 0\n\n");
        for index in 1..20_000 {
            text.push_str(&format!(
                "# %% tags=[\"name=c{index}\", \"deps=c{}\"]\nx = {index}\n\n",
                index - 1
            ));
        }
        let workspace = workspace(&[("notebooks/chain.py", &text)]);
        let mut keys = KeyContext::new(&workspace, None);
        let last = keys.inputs(cell(0, 19_999));
        assert_eq!(last.map(|inputs| inputs.dep_keys.len()), Some(1));
        let mut fresh = KeyContext::new(&workspace, None);
        assert_eq!(fresh.key(cell(0, 19_998)), keys.key(cell(0, 19_998)));
    }

    #[test]
    fn deps_setup_cells_and_parameters_reach_the_right_keys() {
        let text = "# %% tags=[\"name=a\"]\na = 1\n\n# %% tags=[\"jc.setup\"]\nN = 1\n\n\
                    # %% tags=[\"name=b\", \"deps=a\", \"parameters\"]\nb = a\n\n# %% tags=[\"name=c\"]\nc = 1\n";
        let before = workspace(&[("notebooks/n.py", text)]);
        let after = workspace(&[("notebooks/n.py", &text.replace("a = 1", "a = 2"))]);
        let setup = workspace(&[("notebooks/n.py", &text.replace("N = 1", "N = 2"))]);
        let keys = |workspace: &Workspace, injection: Option<Injection>| {
            let mut context = KeyContext::new(workspace, injection);
            [0, 1, 2, 3].map(|ordinal| context.key(cell(0, ordinal)))
        };
        let base = keys(&before, None);
        assert_eq!(base[1], None, "setup cells have no key");
        let edited = keys(&after, None);
        assert!(edited[0] != base[0] && edited[2] != base[2] && edited[3] == base[3]);
        let edited = keys(&setup, None);
        assert!(edited[0] == base[0] && edited[2] != base[2] && edited[3] != base[3]);
        let injection = Injection {
            notebook: 0,
            after: parameters_cell(&before, 0),
            source: "# Parameters\nb = 2\n".into(),
        };
        assert_eq!(injection.after, Some(2));
        let with = keys(&before, Some(injection));
        assert!(with[0] == base[0] && with[2] == base[2] && with[3] != base[3]);
    }

    #[test]
    fn whitespace_edits_keep_the_key_and_every_input_changes_it() {
        let base = inputs("x = 1\n");
        assert_eq!(base.key(), inputs("\n\nx = 1   \r\n\n").key());
        let mut other = base.clone();
        other.kernel = "python3-other".into();
        assert_ne!(base.key(), other.key());
        let mut other = base.clone();
        other.params = Some("a = 1\n".into());
        assert_ne!(base.key(), other.key());
        let mut other = base.clone();
        other.setup_hashes = vec![hash_hex(b"")];
        assert_ne!(base.key(), other.key());
        // Length prefixes keep fields apart: moving bytes between fields changes the key.
        let mut a = base.clone();
        a.env_hash = "ab".into();
        a.kernel = "c".into();
        let mut b = base.clone();
        b.env_hash = "a".into();
        b.kernel = "bc".into();
        assert_ne!(a.key(), b.key());
    }
}
