//! Crash safety: `jellycell-lsp run --force` is killed with SIGKILL at random moments while
//! it executes cells and writes their results (two runs at a time, on random variants of
//! a notebook with large outputs). Afterwards every manifest parses, every blob it names
//! exists, and clean runs of every variant report each cell cached or ok with exactly the
//! outputs that variant's cell prints.

// The seed is printed so a failing kill pattern can be replayed.
#![allow(clippy::print_stderr)]

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::project::{TestProject, key_of};

const CELLS: usize = 12;
const VARIANTS: usize = 3;
const KILLS: usize = 50;

/// Cell `i` of variant `v` prints `c<i>-v<v>` and ~100 KB, and displays a ~40 KB image.
fn notebook(variant: usize) -> String {
    let mut text = String::new();
    for cell in 0..CELLS {
        text.push_str(&format!(
            "# %% tags=[\"name=c{cell}\"]\nimport base64\nprint(\"c{cell}-v{variant}\")\n\
             print(\"{cell}\" * 100000)\n\
             display({{\"image/png\": base64.b64encode(bytes([{cell}, {variant}]) * 20000).decode(), \
             \"text/plain\": \"img\"}}, raw=True)\n\n"
        ));
    }
    text
}

fn expected_stdout(cell: usize, variant: usize) -> String {
    format!("c{cell}-v{variant}\n{}\n", cell.to_string().repeat(100_000))
}

/// xorshift64: enough randomness to spread the kills, reproducible from the printed seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Kills (by pid) every process carrying our marker in its environment: the kernels of
/// killed runs, which ipykernel would otherwise only notice about a second later.
fn kill_marked(marker: &str) {
    let needle = format!("JELLYCELL_CRASH_TEST={marker}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        let marked = environ
            .split(|byte| *byte == 0)
            .any(|variable| variable == needle.as_bytes());
        if marked && pid != std::process::id() {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        }
    }
}

fn check_store(root: &Path) -> usize {
    let store = root.join(".jellycell/cache/jellycell-lsp");
    let mut count = 0;
    let Ok(entries) = std::fs::read_dir(store.join("manifests")) else {
        return 0;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("manifest readable");
        let manifest: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{name} does not parse: {error}\n{text}"));
        assert_eq!(manifest["schema_version"], 1);
        let mut blobs = Vec::new();
        for output in manifest["outputs"].as_array().into_iter().flatten() {
            if let Some(blob) = output["blob"].as_str() {
                blobs.push(blob.to_string());
            }
            for reference in output["data"]
                .as_object()
                .into_iter()
                .flat_map(|data| data.values())
            {
                if let Some(blob) = reference["blob"].as_str() {
                    blobs.push(blob.to_string());
                }
            }
        }
        for blob in blobs {
            let path = store.join("blobs").join(&blob[..2]).join(&blob);
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|error| panic!("{name} names missing blob {blob}: {error}"));
            assert_eq!(
                blake3::hash(&bytes).to_hex().as_str(),
                blob,
                "blob {blob} is corrupt"
            );
        }
        count += 1;
    }
    count
}

#[test]
fn runs_killed_while_writing_leave_a_consistent_cache() {
    let project = TestProject::new(&[("notebooks/crash.py", &notebook(0))]);
    let marker = format!(
        "{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    );
    let seed = std::env::var("JELLYCELL_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|time| time.as_nanos() as u64)
                .unwrap_or(1)
        })
        | 1;
    eprintln!("crash test seed {seed} (replay with JELLYCELL_CRASH_SEED={seed})");
    let mut random = Random(seed);

    // One complete run tells how long a run takes on this machine.
    let started = Instant::now();
    let (code, _) = project.run("notebooks/crash.py", &[]);
    assert_eq!(code, 0);
    let full = started.elapsed();

    // Variant files, written once; each run copies one into place first.
    for variant in 0..VARIANTS {
        project.write(&format!("variants/{variant}.py"), &notebook(variant));
    }
    let mut killed_after_writes = 0;
    let mut kills = 0;
    while kills < KILLS {
        let mut children = Vec::new();
        for slot in 0..2 {
            let variant = (random.next() % VARIANTS as u64) as usize;
            let notebook = format!("variants/{variant}.py");
            let mut command = project.command(&["run", &notebook, "--force", "--json"]);
            command
                .env("JELLYCELL_CRASH_TEST", &marker)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let child = command.spawn().expect("run starts");
            // Between a third of a run (kernel starting) and its end (writing results).
            let span = full.as_millis().max(300) as u64;
            let delay = span / 3 + random.next() % (span * 2 / 3) + slot * 37;
            children.push((child, Duration::from_millis(delay)));
        }
        let spawned = Instant::now();
        let before = check_store(project.root());
        for (mut child, delay) in children {
            let elapsed = spawned.elapsed();
            if delay > elapsed {
                std::thread::sleep(delay - elapsed);
            }
            let _ = child.kill();
            let _ = child.wait();
            kills += 1;
        }
        kill_marked(&marker);
        if check_store(project.root()) > before || before > 0 {
            killed_after_writes += 1;
        }
    }
    eprintln!("{kills} runs killed; {killed_after_writes} rounds after results were written");
    let manifests = check_store(project.root());
    assert!(manifests > 0, "no run got far enough to write anything");

    // Clean runs of every variant: each cell cached or ok, with its own outputs.
    for variant in 0..VARIANTS {
        let notebook = format!("variants/{variant}.py");
        let (code, report) = project.run(&notebook, &[]);
        assert_eq!(code, 0, "{report}");
        for cell in 0..CELLS {
            let name = format!("c{cell}");
            let entry = report["cells"]
                .as_array()
                .and_then(|cells| cells.iter().find(|entry| entry["name"] == name.as_str()))
                .expect("cell in report");
            assert!(
                entry["status"] == "cached" || entry["status"] == "ok",
                "{entry}"
            );
            let key = key_of(&report, &name);
            assert_eq!(
                project.stdout_of(&key),
                expected_stdout(cell, variant),
                "{name} of variant {variant} ({}) has outputs it did not produce",
                entry["status"]
            );
        }
    }
    check_store(project.root());
}
