//! The cache serves nothing damaged (#14), through the real binary: deleted, truncated and
//! corrupted blobs and a manifest copied over another key are misses that re-run (a real
//! ipykernel) with one warning naming the file; a damaged manifest re-runs with one
//! warning; `cache verify` reports and `--fix` removes; a manifest whose blob name is a
//! path never makes export, the preview or the hover embed another file.

mod support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use support::lsp::{LspClient, position_of};
use support::outputs::{Output, cache_outputs, text};
use support::preview::PreviewProcess;
use support::project::{TestProject, key_of, statuses};

const TWO_CELLS: &str = "# %% tags=[\"jc.step\", \"name=first\"]\nprint(\"first output\")\n\n\
# %% tags=[\"jc.step\", \"name=second\"]\nprint(\"second output\")\n";

const STORE: &str = ".jellycell/cache/jellycell-lsp";

fn blob_files(project: &TestProject) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(prefixes) = std::fs::read_dir(project.path(&format!("{STORE}/blobs"))) else {
        return files;
    };
    for prefix in prefixes.flatten() {
        for blob in std::fs::read_dir(prefix.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            files.push(blob.path());
        }
    }
    files.sort();
    files
}

fn manifest_path(project: &TestProject, key: &str) -> PathBuf {
    project.path(&format!("{STORE}/manifests/{key}.json"))
}

/// `run --json`: exit code, report and stderr.
fn run(project: &TestProject) -> (i32, Value, String) {
    let output = project.output(&["run", "notebooks/two.py", "--json"]);
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "no JSON ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (
        output.status.code().unwrap_or(-1),
        report,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.contains("warning: cache:"))
        .collect()
}

#[test]
fn deleted_truncated_and_corrupted_blobs_are_misses_that_run_again_with_a_warning() {
    let project = TestProject::new(&[("notebooks/two.py", TWO_CELLS)]);
    let (code, first, _) = run(&project);
    assert_eq!(code, 0, "{first}");
    let (_, cached, stderr) = run(&project);
    assert_eq!(statuses(&cached), ["cached", "cached"]);
    assert!(warnings(&stderr).is_empty(), "{stderr}");

    for damage in ["delete", "truncate", "same size"] {
        for blob in blob_files(&project) {
            match damage {
                "delete" => std::fs::remove_file(&blob).expect("delete"),
                "truncate" => std::fs::write(&blob, b"fi").expect("truncate"),
                _ => {
                    let mut bytes = std::fs::read(&blob).expect("read");
                    bytes[0] ^= 0x20;
                    std::fs::write(&blob, bytes).expect("corrupt");
                }
            }
        }
        let (code, report, stderr) = run(&project);
        assert_eq!(code, 0, "{damage}: {report}");
        assert_eq!(statuses(&report), ["ok", "ok"], "{damage}: {report}");
        let said = warnings(&stderr);
        assert_eq!(said.len(), 2, "{damage}: one warning per cell: {stderr}");
        assert!(said.iter().all(|line| line.contains("/blobs/")), "{stderr}");
        assert_eq!(
            project.stdout_of(&key_of(&report, "first")),
            "first output\n",
            "{damage}: the re-run repaired the blob"
        );
        let (_, again, _) = run(&project);
        assert_eq!(statuses(&again), ["cached", "cached"], "{damage}");
    }
}

#[test]
fn a_manifest_copied_over_another_key_is_not_served_and_a_damaged_one_is_said_once() {
    let project = TestProject::new(&[("notebooks/two.py", TWO_CELLS)]);
    let (_, first, _) = run(&project);
    let (first_key, second_key) = (key_of(&first, "first"), key_of(&first, "second"));
    std::fs::copy(
        manifest_path(&project, &second_key),
        manifest_path(&project, &first_key),
    )
    .expect("copy");
    let (code, report, stderr) = run(&project);
    assert_eq!(code, 0, "{report}");
    assert_eq!(statuses(&report), ["ok", "cached"], "{report}");
    let said = warnings(&stderr);
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(said[0].contains(&format!("{first_key}.json")), "{stderr}");
    assert!(said[0].contains("records the key"), "{stderr}");
    assert_eq!(project.stdout_of(&first_key), "first output\n");

    std::fs::write(
        manifest_path(&project, &second_key),
        "{\"schema_version\": 1,",
    )
    .expect("damage");
    let (code, report, stderr) = run(&project);
    assert_eq!(code, 0, "{report}");
    assert_eq!(statuses(&report), ["cached", "ok"], "{report}");
    let said = warnings(&stderr);
    assert_eq!(
        said.len(),
        1,
        "one warning for the damaged manifest: {stderr}"
    );
    assert!(said[0].contains(&format!("{second_key}.json")), "{stderr}");
}

fn verify(project: &TestProject, fix: bool) -> (i32, Value) {
    let mut args = vec!["cache", "verify", "--json"];
    if fix {
        args.push("--fix");
    }
    let output = project.output(&args);
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "no JSON ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), report)
}

#[test]
fn cache_verify_reports_every_damaged_file_and_fix_removes_them() {
    let notebook =
        "# %% tags=[\"name=a\"]\na\n\n# %% tags=[\"name=b\"]\nb\n\n# %% tags=[\"name=c\"]\nc\n";
    let project = TestProject::new(&[("notebooks/n.py", notebook)]);
    let keys: Vec<String> = (0..3)
        .map(|ordinal| {
            cache_outputs(
                project.root(),
                "notebooks/n.py",
                ordinal,
                vec![Output::Stream("stdout", format!("output {ordinal}\n"))],
            )
        })
        .collect();
    let (code, report) = verify(&project, false);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["damaged"], json!([]));

    // a: its blob corrupted; b: its manifest cut short; c: a manifest naming a path.
    let manifest_a: Value = serde_json::from_str(
        &std::fs::read_to_string(manifest_path(&project, &keys[0])).expect("read"),
    )
    .expect("json");
    let blob_a = manifest_a["outputs"][0]["blob"]
        .as_str()
        .expect("blob")
        .to_string();
    let blob_a_path = project.path(&format!("{STORE}/blobs/{}/{blob_a}", &blob_a[..2]));
    std::fs::write(&blob_a_path, "output X\n").expect("corrupt");
    std::fs::write(manifest_path(&project, &keys[1]), "{").expect("cut");
    let mut manifest_c: Value = serde_json::from_str(
        &std::fs::read_to_string(manifest_path(&project, &keys[2])).expect("read"),
    )
    .expect("json");
    manifest_c["outputs"][0]["blob"] = json!("../../../../../../../etc/passwd");
    std::fs::write(manifest_path(&project, &keys[2]), manifest_c.to_string()).expect("write");

    let (code, report) = verify(&project, false);
    assert_eq!(code, 1, "{report}");
    let damaged: Vec<String> = report["damaged"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| entry["path"].as_str().unwrap_or_default().to_string())
        .collect();
    let expected = [
        blob_a_path.display().to_string(),
        manifest_path(&project, &keys[0]).display().to_string(),
        manifest_path(&project, &keys[1]).display().to_string(),
        manifest_path(&project, &keys[2]).display().to_string(),
    ];
    for path in &expected {
        assert!(
            damaged.iter().any(|found| found.ends_with(
                Path::new(path)
                    .strip_prefix(project.root())
                    .unwrap_or(Path::new(path))
                    .to_str()
                    .unwrap_or_default()
            )),
            "{path} not reported: {report}"
        );
    }
    assert_eq!(damaged.len(), 4, "{report}");

    let (code, report) = verify(&project, true);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["removed"], 4, "{report}");
    assert!(!blob_a_path.exists());
    let (code, report) = verify(&project, false);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["damaged"], json!([]));
    assert!(
        Path::new("/etc/passwd").exists(),
        "verify never touches what a name points at"
    );
}

/// A notebook whose cached stream output names `blob`, plus a secret file beside it.
fn project_with_blob_name(blob: &str) -> (TestProject, String) {
    let notebook = "# %% [markdown]\n# [click me](javascript:alert(document.domain))\n\n\
# %% tags=[\"jc.step\", \"name=leak\"]\nprint(1)\n";
    let project = TestProject::new(&[
        ("notebooks/leak.py", notebook),
        ("secret.txt", "TOPSECRET-CONTENT\n"),
    ]);
    let key = cache_outputs(
        project.root(),
        "notebooks/leak.py",
        1,
        vec![Output::Display(vec![("text/plain", text("harmless"))])],
    );
    let path = manifest_path(&project, &key);
    let mut manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let blob = blob.replace("SECRET", &project.path("secret.txt").display().to_string());
    manifest["outputs"] = json!([
        {"type": "stream", "name": "stdout", "blob": blob},
        {"type": "display_data", "data": {"text/plain": {"blob": blob, "as": "text"}}, "metadata": {}},
    ]);
    manifest["blob_sizes"] = json!({});
    std::fs::write(&path, manifest.to_string()).expect("write");
    (project, key)
}

const LEAKS: [&str; 2] = ["TOPSECRET", "root:x:0"];

fn assert_no_leak(what: &str, text: &str) {
    for leak in LEAKS {
        assert!(!text.contains(leak), "{what} embedded another file: {text}");
    }
}

#[test]
fn blob_names_that_are_paths_never_embed_another_file_in_export() {
    for name in ["SECRET", "../../../../../../../etc/passwd"] {
        let (project, _) = project_with_blob_name(name);
        for to in ["ipynb", "html"] {
            let output = project.output(&["export", "--to", to, "-o", "-", "notebooks/leak.py"]);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert_no_leak(to, &String::from_utf8_lossy(&output.stdout));
            assert!(
                String::from_utf8_lossy(&output.stderr).contains("is damaged"),
                "the corrupt manifest is said: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

#[test]
fn exported_html_drops_script_urls_and_carries_the_preview_csp() {
    let (project, _) = project_with_blob_name("SECRET");
    let output = project.output(&["export", "--to", "html", "-o", "-", "notebooks/leak.py"]);
    let page = String::from_utf8_lossy(&output.stdout);
    assert!(page.contains("click me"), "{page}");
    assert!(!page.contains("javascript:"), "{page}");
    let csp = jellycell_lsp::render::page::PAGE_CSP.replace('\'', "&#39;");
    assert!(
        page.contains(&format!(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">"
        )),
        "{page}"
    );
    let meta = page.find("Content-Security-Policy").unwrap_or(usize::MAX);
    let first_style = page.find("<style").unwrap_or(0);
    assert!(
        meta < first_style,
        "the policy comes before what it governs"
    );
}

#[test]
fn the_preview_serves_a_blob_only_while_it_hashes_to_its_name() {
    let project = TestProject::new(&[("notebooks/n.py", "# %% tags=[\"name=a\"]\na\n")]);
    let key = cache_outputs(
        project.root(),
        "notebooks/n.py",
        0,
        vec![Output::Stream("stdout", "intact output\n".into())],
    );
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(manifest_path(&project, &key)).expect("read"),
    )
    .expect("json");
    let blob = manifest["outputs"][0]["blob"]
        .as_str()
        .expect("blob")
        .to_string();
    let preview = PreviewProcess::start(project.root());
    let (status, reply) = preview.get(&format!("/blob/{blob}"));
    assert_eq!(status, 200, "{reply}");
    assert!(reply.contains("intact output"), "{reply}");
    let path = project.path(&format!("{STORE}/blobs/{}/{blob}", &blob[..2]));
    std::fs::write(&path, "forged output\n").expect("forge");
    let (status, reply) = preview.get(&format!("/blob/{blob}"));
    assert_eq!(status, 404, "{reply}");
    assert!(!reply.contains("forged output"), "{reply}");
    let (status, page) = preview.get("/nb/notebooks/n.py");
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("forged output"), "{page}");
}

#[test]
fn blob_names_that_are_paths_never_embed_another_file_in_the_preview_or_the_hover() {
    let (project, _) = project_with_blob_name("SECRET");
    let preview = PreviewProcess::start(project.root());
    let (status, page) = preview.get("/nb/notebooks/leak.py");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("leak"), "{page}");
    assert_no_leak("the preview page", &page);
    assert!(!page.contains("href=\"javascript:"), "{page}");
    drop(preview);

    let text = project.read("notebooks/leak.py");
    let (mut client, _) = LspClient::start(project.root(), json!({}));
    let uri = client.open(&project.path("notebooks/leak.py"), "python", &text);
    let hover = client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position_of(&text, "print(1)", 0)}),
    );
    assert_no_leak("the hover", &hover.to_string());
}
