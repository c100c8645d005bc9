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

/// A name restored from a snapshot before a cell ran, and the cell that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoredName {
    pub name: String,
    /// The producing cell's name (`name=`, else `<stem>:<ordinal>`).
    pub from_cell: String,
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
    /// The names restored from snapshots before it ran (state restore, `docs/cache.md`).
    pub restored: Vec<RestoredName>,
    /// The cells re-executed (outputs discarded, cache untouched) before it ran, to
    /// recover values that have no snapshot, in the order they ran.
    pub replayed: Vec<String>,
    /// The kernel's execution time at full precision (zero when not executed in this run).
    #[serde(skip)]
    pub kernel_time: std::time::Duration,
    /// The kernel's execution counter for the cell (`In[N]` in tracebacks), when executed.
    #[serde(skip)]
    pub execution_count: Option<u32>,
}

impl CellReport {
    /// What state restore did before the cell ran, in a few words (`restored df from
    /// make; replayed stream`), or `None` when it did nothing.
    pub fn state_summary(&self) -> Option<String> {
        let mut parts = Vec::new();
        let mut sources: Vec<(&str, Vec<&str>)> = Vec::new();
        for restored in &self.restored {
            match sources
                .iter_mut()
                .find(|(cell, _)| *cell == restored.from_cell)
            {
                Some((_, names)) => names.push(&restored.name),
                None => sources.push((&restored.from_cell, vec![&restored.name])),
            }
        }
        if !sources.is_empty() {
            let from: Vec<String> = sources
                .iter()
                .map(|(cell, names)| format!("{} from {cell}", names.join(", ")))
                .collect();
            parts.push(format!("restored {}", from.join(", ")));
        }
        if !self.replayed.is_empty() {
            parts.push(format!("replayed {}", self.replayed.join(", ")));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
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
    /// How long starting the kernel took (0 when none was started by this run).
    pub kernel_start_ms: u64,
    /// The cells' time, kernel start not included.
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
