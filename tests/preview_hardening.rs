//! The preview's request checks over raw TCP on 127.0.0.1 against the real binary (#14):
//! two `Host` headers and absolute-form targets are refused with 400 whatever the names,
//! while a plain request is served; an artifacts folder that a symlink takes out of the
//! project is not served; a markdown `javascript:` link never becomes a live `href`.

mod support;

use support::preview::PreviewProcess;

const NOTEBOOK: &str = "# %% [markdown]\n# [click me](javascript:alert(document.domain)) and \
[fine](https://example.org)\n\n# %% tags=[\"jc.step\"]\nx = 1\n";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("jellycell.toml"),
        "[project]\nname = \"p\"\n",
    )
    .expect("toml");
    std::fs::create_dir_all(dir.path().join("notebooks")).expect("mkdir");
    std::fs::write(dir.path().join("notebooks/page.py"), NOTEBOOK).expect("notebook");
    dir
}

#[test]
fn two_host_headers_and_absolute_form_targets_are_refused() {
    let dir = project();
    let preview = PreviewProcess::start(dir.path());
    let own = preview.address.to_string();
    let (status, reply) = preview.get("/api/state.json");
    assert_eq!(status, 200, "{reply}");

    for head in [
        format!("GET /api/state.json HTTP/1.1\r\nHost: {own}\r\nHost: evil.example\r\n"),
        format!("GET /api/state.json HTTP/1.1\r\nHost: evil.example\r\nHost: {own}\r\n"),
        format!("GET /api/state.json HTTP/1.1\r\nHost: {own}\r\nHost: {own}\r\n"),
        format!("GET http://evil.example/api/state.json HTTP/1.1\r\nHost: {own}\r\n"),
        format!("GET http://{own}/api/state.json HTTP/1.1\r\nHost: {own}\r\n"),
        format!("GET //evil.example/api/state.json HTTP/1.1\r\nHost: {own}\r\n"),
    ] {
        let (status, reply) = preview.raw(&head);
        assert!(
            status == 400 || status == 421 || status == 404,
            "{head:?} answered {status}: {reply}"
        );
        assert!(!reply.contains("schema_version"), "{head:?}: {reply}");
    }
}

#[test]
fn an_artifacts_folder_that_links_out_of_the_project_is_not_served() {
    let dir = project();
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("passwd"), "root:x:0:0").expect("write");
    std::os::unix::fs::symlink(outside.path(), dir.path().join("artifacts")).expect("symlink");
    let preview = PreviewProcess::start(dir.path());
    let (status, reply) = preview.get("/artifacts/passwd");
    assert_eq!(status, 403, "{reply}");
    assert!(!reply.contains("root:x:0"), "{reply}");
}

#[test]
fn markdown_script_links_are_not_live_in_the_preview() {
    let dir = project();
    let preview = PreviewProcess::start(dir.path());
    let (status, page) = preview.get("/nb/notebooks/page.py");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("click me"), "{page}");
    assert!(!page.contains("javascript:"), "{page}");
    assert!(page.contains("href=\"https://example.org\""), "{page}");
}
