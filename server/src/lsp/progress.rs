//! `$/progress` for a run: begin, one report per executed cell, end.
//!
//! The token is the command's `workDoneToken` when the client sent one; otherwise, when
//! the client advertised `window.workDoneProgress`, one we create with
//! `window/workDoneProgress/create`. The run never waits on the client: messages go into
//! a channel that a detached task forwards, after the create request is answered or
//! [`CREATE_TIMEOUT`] has passed (some clients never answer server requests; clients.md).
//! A client that refuses the token gets no progress; one that supports none gets none.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tower_lsp_server::ls_types::notification::Progress;
use tower_lsp_server::ls_types::{
    NumberOrString, ProgressParams, ProgressParamsValue, ProgressToken, WorkDoneProgress,
    WorkDoneProgressBegin, WorkDoneProgressEnd, WorkDoneProgressReport,
};

use super::Core;
use crate::run::{CellOutcome, CellReport};

/// How long progress messages wait for the client to accept a token we created.
const CREATE_TIMEOUT: Duration = Duration::from_secs(1);

/// The progress of one run.
pub(crate) struct RunProgress {
    sender: Option<mpsc::UnboundedSender<WorkDoneProgress>>,
    total: usize,
    done: usize,
}

impl RunProgress {
    /// Sends `begin` with `title` (through the forwarding task; returns at once).
    pub fn begin(core: &Arc<Core>, token: Option<ProgressToken>, title: String) -> RunProgress {
        let (token, create) = match token {
            Some(token) => (token, false),
            None if core.flags().run.work_done_progress => (
                NumberOrString::String(format!("jellycell-run-{}", uuid::Uuid::new_v4())),
                true,
            ),
            None => {
                return RunProgress {
                    sender: None,
                    total: 0,
                    done: 0,
                };
            }
        };
        let (sender, mut messages) = mpsc::unbounded_channel::<WorkDoneProgress>();
        let client = core.client.clone();
        tokio::spawn(async move {
            if create {
                let answer = tokio::time::timeout(
                    CREATE_TIMEOUT,
                    client.create_work_done_progress(token.clone()),
                )
                .await;
                if let Ok(Err(_)) = answer {
                    return;
                }
            }
            while let Some(value) = messages.recv().await {
                client
                    .send_notification::<Progress>(ProgressParams {
                        token: token.clone(),
                        value: ProgressParamsValue::WorkDone(value),
                    })
                    .await;
            }
        });
        let _ = sender.send(WorkDoneProgress::Begin(WorkDoneProgressBegin {
            title,
            cancellable: Some(false),
            message: None,
            percentage: Some(0),
        }));
        RunProgress {
            sender: Some(sender),
            total: 0,
            done: 0,
        }
    }

    /// How many cells the run executes.
    pub fn set_total(&mut self, total: usize) {
        self.total = total;
    }

    /// A message that is not a cell (starting the kernel).
    pub fn message(&self, message: String) {
        self.send(WorkDoneProgress::Report(WorkDoneProgressReport {
            cancellable: Some(false),
            message: Some(message),
            percentage: Some(self.percentage()),
        }));
    }

    /// One report per executed cell: `[2/3] cell 4 (name): ok 1.2 s`.
    pub fn cell_done(&mut self, report: &CellReport) {
        self.done += 1;
        let outcome = match (&report.status, &report.error) {
            (CellOutcome::Error, Some(error)) => {
                format!("{}: {}", error.ename, first_line(&error.evalue))
            }
            (CellOutcome::Error, None) => "error".to_string(),
            (CellOutcome::Setup, _) => "setup".to_string(),
            _ => "ok".to_string(),
        };
        let mut message = format!(
            "[{}/{}] cell {} ({}): {outcome} {:.1} s",
            self.done,
            self.total.max(self.done),
            report.cell,
            report.name,
            report.kernel_time.as_secs_f64()
        );
        if let Some(state) = report.state_summary() {
            message.push_str(&format!(" ({state})"));
        }
        self.send(WorkDoneProgress::Report(WorkDoneProgressReport {
            cancellable: Some(false),
            message: Some(message),
            percentage: Some(self.percentage()),
        }));
    }

    pub fn end(self, message: String) {
        self.send(WorkDoneProgress::End(WorkDoneProgressEnd {
            message: Some(message),
        }));
    }

    fn percentage(&self) -> u32 {
        let percent = (self.done * 100).checked_div(self.total).unwrap_or(0);
        u32::try_from(percent.min(100)).unwrap_or(100)
    }

    fn send(&self, value: WorkDoneProgress) {
        if let Some(sender) = &self.sender {
            let _ = sender.send(value);
        }
    }
}

pub(crate) fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}
