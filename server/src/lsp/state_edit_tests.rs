//! An edit in a project of several notebooks, through [`State`] as the server drives it
//! (real files in a temporary project): the notebooks the edit does not touch keep their
//! analysed files, facts and resolutions by identity, and the workspace equals one built
//! afresh from the same texts; a change other notebooks can see re-resolves them.

use std::path::Path;
use std::sync::Arc;

use tower_lsp_server::ls_types::Uri;

use crate::analysis::workspace::Workspace;
use crate::lint::{Finding, LintSettings, check_file};
use crate::lsp::state::State;

fn cell(name: &str, deps: &[&str], body: &str) -> String {
    let deps: String = deps.iter().map(|dep| format!(", \"deps={dep}\"")).collect();
    format!("# %% tags=[\"jc.step\", \"name={name}\"{deps}]\n{body}\n")
}

fn edited(body: &str) -> String {
    [
        cell("a1", &[], "x = 1\n"),
        cell("a2", &["a1"], body),
        cell("a3", &["a2"], "print(undefined_a)\n"),
    ]
    .concat()
}

/// A project of `others` notebooks beside `notebooks/a.py`; the last one depends on `a2`.
fn project(root: &Path, others: usize) {
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"t\"\n").expect("config");
    let notebooks = root.join("notebooks");
    std::fs::create_dir_all(&notebooks).expect("folder");
    std::fs::write(notebooks.join("a.py"), edited("y = x + 1\n")).expect("a");
    for k in 0..others {
        let deps: &[&str] = if k + 1 == others { &["a2"] } else { &[] };
        let text = cell(&format!("o{k}"), deps, &format!("z{k} = {k}\n"));
        std::fs::write(notebooks.join(format!("o{k:02}.py")), text).expect("other");
    }
}

fn uri(path: &Path) -> Uri {
    Uri::from_file_path(path).expect("file uri")
}

fn edit_builds(state: &State) -> usize {
    state.edit_builds.load(std::sync::atomic::Ordering::Relaxed)
}

fn workspace(state: &State, uri: &Uri) -> Arc<Workspace> {
    let snapshot = state.snapshot(uri).expect("snapshot");
    assert!(snapshot.current, "the snapshot is of the buffer's version");
    snapshot.workspace.expect("a notebook")
}

/// Every notebook's findings in `workspace`, by path.
fn findings(workspace: &Workspace) -> Vec<(String, Vec<Finding>)> {
    let settings = LintSettings::from_config(&workspace.project.config.lint);
    (0..workspace.files.len())
        .map(|index| {
            (
                workspace.files[index].relative.clone(),
                check_file(workspace, index, &settings),
            )
        })
        .collect()
}

/// The workspace a fresh server builds with `text` open at `path`.
fn fresh(path: &Path, text: &str) -> Arc<Workspace> {
    let state = State::default();
    let uri = uri(path);
    state.open(uri.clone(), text, 1);
    workspace(&state, &uri)
}

fn assert_same_as_fresh(workspace: &Workspace, path: &Path, text: &str) {
    let fresh = fresh(path, text);
    let texts = |workspace: &Workspace| -> Vec<(String, String)> {
        let files = workspace.files.iter();
        files
            .map(|file| (file.relative.clone(), file.text.clone()))
            .collect()
    };
    assert_eq!(texts(workspace), texts(&fresh));
    assert_eq!(workspace.graph.notebooks, fresh.graph.notebooks);
    assert_eq!(workspace.graph.issues(), fresh.graph.issues());
    assert_eq!(findings(workspace), findings(&fresh));
}

#[test]
fn an_edit_keeps_untouched_notebooks_by_identity_and_equals_a_fresh_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("root");
    project(&root, 12);
    let path = root.join("notebooks/a.py");
    let uri = uri(&path);
    let state = State::default();
    state.open(uri.clone(), &edited("y = x + 1\n"), 1);
    let before = workspace(&state, &uri);
    let edited_index = before.file_index(&path).expect("a.py");

    for (version, body) in [(2, "y = x + 2\n"), (3, "y = x + 23\nw = y\n")] {
        let text = edited(body);
        assert!(state.change(&uri, version, [(None, text.clone())]));
        let after = workspace(&state, &uri);
        assert_eq!(
            edit_builds(&state),
            version as usize - 1,
            "built by the edit's path"
        );
        assert_eq!(after.files.len(), before.files.len());
        for index in (0..after.files.len()).filter(|index| *index != edited_index) {
            assert!(Arc::ptr_eq(&after.files[index], &before.files[index]));
            assert!(Arc::ptr_eq(
                &after.graph.notebooks[index],
                &before.graph.notebooks[index]
            ));
            let (old, new) = (
                before.graph.resolution_token(index).expect("resolved"),
                after.graph.resolution_token(index).expect("resolved"),
            );
            assert!(old.same_as(&new), "notebook {index} was resolved again");
        }
        let (old, new) = (&before.files[edited_index], &after.files[edited_index]);
        assert!(!Arc::ptr_eq(old, new));
        // The first cell's analysis is shared; the edited one is new.
        let analysis = |file: &crate::analysis::workspace::NotebookFile, at: usize| {
            file.analyses[at].clone().expect("a code cell")
        };
        assert!(Arc::ptr_eq(&analysis(old, 0), &analysis(new, 0)));
        assert_same_as_fresh(&after, &path, &text);
    }
}

#[test]
fn a_change_other_notebooks_see_re_resolves_them_and_equals_a_fresh_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("root");
    project(&root, 3);
    let path = root.join("notebooks/a.py");
    let uri = uri(&path);
    let state = State::default();
    state.open(uri.clone(), &edited("y = x + 1\n"), 1);
    let before = workspace(&state, &uri);
    let dependent = before
        .file_index(&root.join("notebooks/o02.py"))
        .expect("o02.py");
    let unknown_dep = |workspace: &Workspace| {
        let settings = LintSettings::from_config(&workspace.project.config.lint);
        check_file(workspace, dependent, &settings)
            .iter()
            .any(|finding| finding.message.contains("a2"))
    };
    assert!(!unknown_dep(&before), "o02 finds a2 before the rename");

    let renamed = edited("y = x + 1\n").replace("name=a2", "name=a2b");
    assert!(state.change(&uri, 2, [(None, renamed.clone())]));
    let after = workspace(&state, &uri);
    assert_eq!(edit_builds(&state), 1, "built by the edit's path");
    let (old, new) = (
        before.graph.resolution_token(dependent).expect("resolved"),
        after.graph.resolution_token(dependent).expect("resolved"),
    );
    assert!(
        !old.same_as(&new),
        "the dependent notebook is resolved again"
    );
    assert!(
        unknown_dep(&after),
        "o02's dep on a2 is unknown after the rename"
    );
    assert_same_as_fresh(&after, &path, &renamed);
}

#[test]
fn a_buffer_that_stops_being_a_notebook_is_built_in_full() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("root");
    project(&root, 2);
    // Outside the notebooks folder a `.py` is a notebook only while it has markers.
    let path = root.join("scratch.py");
    let notebook = cell("s1", &["a1"], "s = 1\n");
    std::fs::write(&path, &notebook).expect("scratch");
    let uri = uri(&path);
    let state = State::default();
    state.open(uri.clone(), &notebook, 1);
    let before = workspace(&state, &uri);
    assert!(before.file_index(&path).is_some());

    assert!(state.change(&uri, 2, [(None, "s = 1\n".to_string())]));
    let snapshot = state.snapshot(&uri).expect("snapshot");
    assert!(snapshot.workspace.is_none(), "a plain .py has no workspace");

    assert!(state.change(&uri, 3, [(None, notebook.clone())]));
    let again = workspace(&state, &uri);
    assert_eq!(edit_builds(&state), 0, "a change of shape is built in full");
    assert_eq!(again.files.len(), before.files.len());
    assert_same_as_fresh(&again, &path, &notebook);
}
