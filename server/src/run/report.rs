//! The run report: one entry per code cell in source order, serialised as the
//! `run --json` object (`schema_version` 1; shape in `docs/cache.md` and the CLI docs).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellOutcome {
    /// A hit: not executed.
    Cached,
    /// Executed without error.
    Ok,
    /// Executed and failed (an exception, a timeout or a dead kernel).
    Error,
    /// Not executed: a note cell, a cell after the error that stopped the run, or a setup
    /// cell in a run that needed no kernel.
    Skipped,
    /// A setup cell that ran without error.
    Setup,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellError {
    pub ename: String,
    pub evalue: String,
    pub traceback: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellReport {
    /// The ordinal.
    pub cell: usize,
    pub name: String,
    pub kind: String,
    pub status: CellOutcome,
    pub cache_key: Option<String>,
    /// Execution time; for a hit, the time recorded when it ran.
    pub duration_ms: u64,
    pub error: Option<CellError>,
    /// The kernel's execution time at full precision (zero when not executed in this run).
    #[serde(skip)]
    pub kernel_time: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Ok,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub schema_version: u32,
    pub notebook: String,
    pub status: RunStatus,
    pub kernel_started: bool,
    /// Which Python ran the kernel and why (`null` when no kernel ran).
    pub environment: Option<crate::kernel::Environment>,
    pub total_duration_ms: u64,
    pub cells: Vec<CellReport>,
}

impl RunReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// How many cells ended with `outcome`.
    pub fn count(&self, outcome: CellOutcome) -> usize {
        self.cells
            .iter()
            .filter(|cell| cell.status == outcome)
            .count()
    }
}
