//! The runner: plan a notebook's cells against the cache (`plan`), execute the misses in
//! one kernel (`execute`), detect artifacts (`artifacts`), inject papermill-style
//! parameters (`params`), restore the state a miss reads from cells that did not run in
//! this kernel (`restore`, with the kernel helper in `state`) and report (`report`);
//! `remote_files` moves `jc.load` inputs and artifacts to and from a remote kernel's
//! server; `order` puts several notebooks in dependency order; `papermill` writes the executed
//! notebook of a parameterised run; `environment_hints` finds the environment a run would
//! use without running, and what it lacks of a notebook's imports.
//!
//! Prints nothing: progress goes through [`RunEvent`] callbacks and the result is a
//! [`RunReport`]; `cli/run.rs` does the printing.

pub mod artifacts;
pub mod environment_hints;
pub mod execute;
pub mod order;
pub mod papermill;
pub mod params;
pub mod plan;
mod remote_files;
pub mod report;
mod restore;
pub mod state;
pub mod traceback;

pub use execute::{Cancel, RunEvent, RunKernel, RunOptions, execute_plan, execute_plan_on};
pub use params::Parameters;
pub use plan::{Plan, PlannedCell, plan_run};
pub use report::{CellError, CellOutcome, CellReport, RestoredName, RunReport, RunStatus};
