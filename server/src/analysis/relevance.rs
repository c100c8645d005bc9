//! Which other notebooks of a project can change what the graph says about some of its
//! notebooks (the ones a one-notebook `--check` reports on, the one `export` writes), so
//! that only those are read to facts depth and the rest are never parsed.
//!
//! Another notebook matters only through a name, a stem or a path: it names a cell with
//! a name the notebooks depend on, has the stem of an auto name they depend on
//! (`prep:3`), or writes (literal `jc.save`/`jc.figure`/`jc.table`) a path they
//! `jc.load`. What it depends on matters too once it matters, so the search repeats from
//! every notebook found until nothing new is found: the notebooks found hold every cell
//! the reported ones reach, every candidate of every name those cells write, and every
//! producer of every path they load; a graph over them alone (in project order) gives
//! the reported notebooks the issues and edges the whole project's graph gives them.
//! (`unknown-dep`'s "did you mean" lists every name of the project: see
//! [`Relevance::needs_every_name`].)
//!
//! Notebooks not read yet are judged by their text, over-approximating: a notebook whose
//! text does not contain a searched name or the last segment of a searched path cannot
//! define or write it, unless the text could spell it without its characters in a row
//! (an escape such as `\x41` or `\u0041`, or implicitly concatenated string literals:
//! such texts always count when anything is searched). A name or path with characters the
//! search does not trust (quotes, backslashes, spaces) makes every notebook count.

use std::collections::HashSet;
use std::path::Path;
use std::sync::LazyLock;

use regex::bytes::Regex;

use crate::analysis::graph::{GraphIssue, NotebookFacts, ProjectGraph, split_auto_name};

/// A notebook the search may take in: known by its facts, or by its text only.
pub enum Candidate<'a> {
    Facts(&'a NotebookFacts),
    Text { path: &'a Path, text: &'a str },
}

/// The names, stems and paths the notebooks found so far depend on.
#[derive(Debug, Default)]
pub struct Relevance {
    names: HashSet<String>,
    stems: HashSet<String>,
    loads: HashSet<String>,
    /// Texts to look for that candidates' texts have not been searched for yet.
    unsearched: Vec<String>,
    /// Something is searched for that a text search cannot rule out: every notebook counts.
    everything: bool,
}

impl Relevance {
    /// Adds what one notebook depends on.
    pub fn add(&mut self, facts: &NotebookFacts) {
        for cell in &facts.cells {
            for dep in &cell.deps {
                if let Some((stem, _)) = split_auto_name(&dep.name) {
                    self.stems.insert(stem.to_string());
                }
                if self.names.insert(dep.name.clone()) {
                    self.search_for(dep.name.clone());
                }
            }
            for load in &cell.loads {
                if self.loads.insert(load.path.clone()) {
                    let last = load.path.rsplit('/').next().unwrap_or_default();
                    self.search_for(last.to_string());
                }
            }
        }
    }

    fn search_for(&mut self, text: String) {
        if text.is_empty() || !text.chars().all(trusted) {
            self.everything = true;
        } else {
            self.unsearched.push(text);
        }
    }

    fn searches_anything(&self) -> bool {
        !self.names.is_empty() || !self.loads.is_empty()
    }

    /// Whether a notebook with these facts matters (exact).
    fn facts_matter(&self, facts: &NotebookFacts) -> bool {
        self.stems.contains(facts.stem())
            || facts.cells.iter().any(|cell| {
                cell.explicit_name
                    .as_ref()
                    .is_some_and(|(name, _)| self.names.contains(name))
                    || cell
                        .produces
                        .iter()
                        .any(|produced| self.loads.contains(&produced.path))
            })
    }

    /// Which of `candidates` matter to the notebooks whose facts are `seeds`. `read` is
    /// given the indices of text candidates found to matter (a batch per round) and
    /// returns their facts, in that order (what it read is the caller's to keep).
    pub fn search(
        seeds: &[&NotebookFacts],
        candidates: &[Candidate],
        mut read: impl FnMut(&[usize]) -> Vec<NotebookFacts>,
    ) -> Vec<bool> {
        let mut relevance = Relevance::default();
        for seed in seeds {
            relevance.add(seed);
        }
        let mut found = vec![false; candidates.len()];
        // Judged once per text, the first time anything is searched for.
        let mut spellable: Vec<Option<bool>> = vec![None; candidates.len()];
        loop {
            let mut facts_found: Vec<usize> = Vec::new();
            let mut texts_found: Vec<usize> = Vec::new();
            if relevance.searches_anything() {
                let fresh = std::mem::take(&mut relevance.unsearched);
                let matcher = literal_matcher(&fresh);
                for (index, candidate) in candidates.iter().enumerate() {
                    if found[index] {
                        continue;
                    }
                    let matters = match candidate {
                        Candidate::Facts(facts) => relevance.facts_matter(facts),
                        Candidate::Text { path, text } => {
                            let stem = path.file_stem().and_then(|stem| stem.to_str());
                            relevance.everything
                                || stem.is_some_and(|stem| relevance.stems.contains(stem))
                                || *spellable[index]
                                    .get_or_insert_with(|| spells_indirectly(text.as_bytes()))
                                || matcher
                                    .as_ref()
                                    .is_some_and(|matcher| matcher.is_match(text.as_bytes()))
                        }
                    };
                    if matters {
                        found[index] = true;
                        match candidate {
                            Candidate::Facts(_) => facts_found.push(index),
                            Candidate::Text { .. } => texts_found.push(index),
                        }
                    }
                }
            }
            if facts_found.is_empty() && texts_found.is_empty() {
                return found;
            }
            for index in facts_found {
                if let Some(Candidate::Facts(facts)) = candidates.get(index) {
                    relevance.add(facts);
                }
            }
            if !texts_found.is_empty() {
                for facts in read(&texts_found) {
                    relevance.add(&facts);
                }
            }
        }
    }

    /// Whether the graph of the notebooks found must also know every other notebook's
    /// names: a reported notebook has an unknown dependency, whose message suggests the
    /// closest name of the whole project.
    pub fn needs_every_name(graph: &ProjectGraph, reported: &[usize]) -> bool {
        reported.iter().any(|&index| {
            graph
                .issues_of(index)
                .iter()
                .any(|issue| matches!(issue, GraphIssue::UnknownDep { cell, .. } if cell.notebook == index))
        })
    }
}

/// Characters a text search finds only where they are written as themselves (no quote,
/// backslash or whitespace, which escapes and line folding could write otherwise).
fn trusted(character: char) -> bool {
    character.is_ascii_alphanumeric()
        || matches!(character, '_' | '.' | '-' | '/' | ':' | '+' | '@' | '~')
        || (!character.is_ascii() && !character.is_whitespace())
}

/// One search for any of `texts`, literally.
fn literal_matcher(texts: &[String]) -> Option<Regex> {
    if texts.is_empty() {
        return None;
    }
    let pattern: Vec<String> = texts.iter().map(|text| regex::escape(text)).collect();
    Regex::new(&pattern.join("|")).ok()
}

/// Whether `text` could spell a trusted character without writing it: an escape that
/// decodes to one (Python's `\x` `\u` `\U` `\N{}` and octal, JSON's and YAML's `\/`, YAML's
/// `\_` `\L` `\P` `\N`, a backslash line continuation), or two string literals side by side
/// (`"artifacts/a" ".json"`, also across lines, comments and a `r`/`u` prefix) with
/// trusted characters at the seam.
fn spells_indirectly(text: &[u8]) -> bool {
    static PATTERN: LazyLock<Option<Regex>> = LazyLock::new(|| {
        let trusted = r"[A-Za-z0-9_.\-/:+@~\x80-\xFF]";
        let seam = r#"["'](?:[ \t\r\n\\]|#[^\n]*)*[rRuU]{0,2}["']"#;
        Regex::new(&format!(
            r"(?-u)\\[xuUN0-7/_LP\r\n]|{trusted}{seam}{trusted}"
        ))
        .ok()
    });
    // Without the pattern (it always compiles) every text counts: never wrong, only slow.
    PATTERN
        .as_ref()
        .is_none_or(|pattern| pattern.is_match(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::graph::{CellFacts, DepOrigin, DepRef, PathRef};

    fn notebook(path: &str, name: Option<&str>, deps: &[&str], loads: &[&str]) -> NotebookFacts {
        NotebookFacts::new(
            path.into(),
            vec![CellFacts {
                ordinal: 0,
                kind: None,
                explicit_name: name.map(|name| (name.to_string(), None)),
                deps: deps
                    .iter()
                    .map(|name| DepRef {
                        name: name.to_string(),
                        span: None,
                        origin: DepOrigin::Tag,
                    })
                    .collect(),
                loads: loads
                    .iter()
                    .map(|path| PathRef {
                        path: path.to_string(),
                        span: None,
                    })
                    .collect(),
                produces: Vec::new(),
            }],
        )
    }

    fn found(seed: &NotebookFacts, texts: &[(&str, &str)]) -> Vec<bool> {
        let candidates: Vec<Candidate> = texts
            .iter()
            .map(|(path, text)| Candidate::Text {
                path: Path::new(path),
                text,
            })
            .collect();
        Relevance::search(&[seed], &candidates, |indices| {
            indices
                .iter()
                .map(|&index| notebook(texts[index].0, None, &[], &[]))
                .collect()
        })
    }

    #[test]
    fn a_notebook_without_deps_or_loads_needs_no_other() {
        let seed = notebook("notebooks/a.py", Some("x"), &[], &[]);
        assert_eq!(found(&seed, &[("b.py", "jc.load('x')\\x41")]), [false]);
    }

    #[test]
    fn names_paths_and_stems_are_found_in_texts() {
        let seed = notebook("a.py", None, &["clean", "prep:3"], &["artifacts/t.json"]);
        let texts = [
            ("b.py", "# %% tags=[\"name=clean\"]\n"),
            ("c.py", "jc.save(x, './artifacts//t.json')\n"),
            ("prep.py", "x = 1\n"),
            (
                "d.py",
                "# %% tags=[\"name=other\"]\nprint('artifacts/u.json')\n",
            ),
        ];
        assert_eq!(found(&seed, &texts), [true, true, true, false]);
    }

    #[test]
    fn texts_that_could_spell_a_name_indirectly_count() {
        let seed = notebook("a.py", None, &["clean"], &[]);
        let texts = [
            ("b.py", "# %% tags=[\"name=cl\\u0065an\"]\n"),
            ("c.py", "jc.save(x, 'artifacts/cl' 'ean')\n"),
            ("d.py", "jc.save(x, ('artifacts/cl'  # why\n  r'ean'))\n"),
            ("e.py", "jc.save(x, 'artifacts/cl''ean')\n"),
            (
                "f.py",
                "def f():\n    \"\"\"Doc.\"\"\"\n    return ''\nprint('a\\n', \"b\")\n",
            ),
        ];
        assert_eq!(found(&seed, &texts), [true, true, true, true, false]);
    }

    #[test]
    fn an_untrusted_name_makes_every_notebook_count() {
        let seed = notebook("a.py", None, &["my cell"], &[]);
        assert_eq!(found(&seed, &[("b.py", "x = 1\n")]), [true]);
    }

    #[test]
    fn the_search_follows_what_found_notebooks_depend_on() {
        let seed = notebook("a.py", None, &["b1"], &[]);
        let b = notebook("b.py", Some("b1"), &["c1"], &[]);
        let c = notebook("c.py", Some("c1"), &[], &[]);
        let d = notebook("d.py", Some("d1"), &[], &[]);
        let candidates = [
            Candidate::Facts(&b),
            Candidate::Facts(&c),
            Candidate::Facts(&d),
        ];
        let found = Relevance::search(&[&seed], &candidates, |_| Vec::new());
        assert_eq!(found, [true, true, false]);
    }
}
