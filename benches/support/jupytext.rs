//! jupytext beside our readers in the same run: the Python the parse benches use and the
//! median time of `jupytext.reads` on a file.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `JELLYCELL_BENCH_PYTHON`, else `target/py/bin/python3`, else `python3`.
pub fn python() -> PathBuf {
    if let Some(explicit) = std::env::var_os("JELLYCELL_BENCH_PYTHON") {
        return PathBuf::from(explicit);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/py/bin/python3");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// Median seconds of `runs` calls of `jupytext.reads(text, fmt)` on `path`'s text (after
/// one untimed call), or why it could not be measured.
pub fn reads_seconds(path: &Path, fmt: &str, runs: usize) -> Result<f64, String> {
    let script = format!(
        "import sys, time\ntry:\n    import jupytext\nexcept ImportError:\n    print('NOJUPYTEXT'); sys.exit(0)\n\
         text = open(sys.argv[1], encoding='utf-8').read()\njupytext.reads(text, fmt='{fmt}')\n\
         times = []\nfor _ in range({runs}):\n    t = time.perf_counter(); jupytext.reads(text, fmt='{fmt}'); times.append(time.perf_counter() - t)\n\
         times.sort(); print(times[len(times) // 2])\n"
    );
    let python = python();
    let output = Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if stdout.contains("NOJUPYTEXT") {
        return Err(format!(
            "jupytext is not importable by {}",
            python.display()
        ));
    }
    stdout
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            format!(
                "jupytext failed: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}
