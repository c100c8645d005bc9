//! Before a miss runs: make the kernel hold, for every name the cell reads, the value its
//! current producer made (DESIGN contract 3). A name the kernel already holds from that
//! producer's key (it ran, was replayed or restored in this kernel) is left alone; else it
//! is restored from the producer's snapshot; a name without a usable snapshot
//! (unpicklable, too large, from a cell that may define anything, a failed unpickle) is
//! recovered by replaying its producer, after that producer's own inputs, recursively:
//! only the upstream slice that is missing. A replay's outputs are discarded and the
//! cache is never written for it.
//!
//! After a cell runs, the names it defines are snapshotted (`snapshot_names`) and the
//! kernel's [`Holdings`](super::state::Holdings) updated.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::pin::Pin;

use crate::cache::manifest::{ManifestStatus, SnapshotRecord};
use crate::kernel::ExecutionStatus;
use crate::run::execute::{Runner, captured, failure};
use crate::run::plan::PlannedCell;
use crate::run::report::{CellError, RestoredName};
use crate::run::state;

/// What was done to a cell's inputs before it ran.
#[derive(Debug, Default)]
pub(super) struct Prepared {
    pub restored: Vec<RestoredName>,
    pub replayed: Vec<String>,
}

/// The start of the helper's reason for a name its cell left undefined.
const UNDEFINED_REASON: &str = "not defined";

/// A name a cell reads that the kernel does not hold from its current producer.
struct Need {
    name: String,
    /// (ordinal, key), nearest first; the first is the current producer.
    producers: Vec<(usize, String)>,
}

impl Need {
    fn current_key(&self) -> &str {
        self.producers.first().map_or("", |(_, key)| key.as_str())
    }
}

enum Action {
    Restore(SnapshotRecord, usize),
    Replay(usize),
    Nothing,
}

type Step<'s> = Pin<Box<dyn Future<Output = Result<(), CellError>> + Send + 's>>;

impl Runner<'_> {
    /// The names snapshotted after `cell` runs: those it defines, and those a cell of the
    /// plan reads from it (a cell that may define anything has no list of its own).
    pub(super) fn snapshot_names(&self, cell: &PlannedCell) -> Vec<String> {
        let mut names: Vec<String> = cell.defines.clone();
        for reader in &self.plan.cells {
            for (name, producer) in &reader.reads {
                if *producer == cell.ordinal && !names.contains(name) {
                    names.push(name.clone());
                }
            }
        }
        names
    }

    /// Restores or replays what `cell` reads and the kernel does not hold.
    pub(super) async fn prepare_inputs(
        &mut self,
        cell: &PlannedCell,
        prepared: &mut Prepared,
    ) -> Result<(), CellError> {
        self.ensure_inputs(cell.ordinal, prepared, 0).await
    }

    fn planned(&self, ordinal: usize) -> Option<&PlannedCell> {
        self.plan.cells.iter().find(|cell| cell.ordinal == ordinal)
    }

    /// The reads of the cell at `ordinal` that the kernel does not hold from their current
    /// producer. A name may have several producers (a cell above that binds it on some
    /// paths only leaves the value from further up in place); the nearest one with a key
    /// is current. Producers without a key (setup cells, which every kernel runs) are
    /// always held.
    fn missing(&self, ordinal: usize) -> Vec<Need> {
        let Some(cell) = self.planned(ordinal) else {
            return Vec::new();
        };
        let mut needs: Vec<Need> = Vec::new();
        for (name, producer) in &cell.reads {
            let Some((key, _)) = self.planned(*producer).and_then(|cell| cell.key.as_ref()) else {
                continue;
            };
            match needs.iter_mut().find(|need| &need.name == name) {
                Some(need) => need.producers.push((*producer, key.clone())),
                None => needs.push(Need {
                    name: name.clone(),
                    producers: vec![(*producer, key.clone())],
                }),
            }
        }
        for need in &mut needs {
            need.producers
                .sort_by_key(|(ordinal, _)| std::cmp::Reverse(*ordinal));
        }
        needs.retain(|need| !self.kernel.holdings.holds(&need.name, need.current_key()));
        needs
    }

    /// How to bring `need` back: the nearest producer's snapshot; past producers whose
    /// run left the name undefined (it binds it on some paths only) to the next one up;
    /// else a replay of the producer without a usable snapshot.
    fn action(&self, need: &Need, unrestorable: &HashSet<String>) -> Action {
        for (producer, key) in &need.producers {
            let Some(manifest) = self
                .store
                .manifest(key)
                .filter(|manifest| manifest.status == ManifestStatus::Ok)
            else {
                return Action::Replay(*producer);
            };
            if let Some(snapshot) = manifest.snapshot(&need.name)
                && !unrestorable.contains(&need.name)
            {
                return Action::Restore(snapshot.clone(), *producer);
            }
            let undefined = manifest.unsnapshotted.iter().any(|record| {
                record.name == need.name && record.reason.starts_with(UNDEFINED_REASON)
            });
            if !undefined {
                return Action::Replay(*producer);
            }
        }
        need.producers
            .first()
            .map_or(Action::Nothing, |(producer, _)| Action::Replay(*producer))
    }

    fn ensure_inputs<'s>(
        &'s mut self,
        ordinal: usize,
        prepared: &'s mut Prepared,
        depth: usize,
    ) -> Step<'s> {
        Box::pin(async move {
            let reads = self.planned(ordinal).map_or(0, |cell| cell.reads.len());
            let mut unrestorable: HashSet<String> = HashSet::new();
            // Each round restores or replays something; a replay may overwrite a name held
            // from a later producer, which the next round restores again.
            for _ in 0..2 * reads + 2 {
                if self.cancel.is_cancelled() {
                    return Err(cancelled());
                }
                let missing = self.missing(ordinal);
                if missing.is_empty() {
                    return Ok(());
                }
                let mut restorable: Vec<(SnapshotRecord, usize, String)> = Vec::new();
                let mut replays: BTreeMap<usize, Vec<(String, String)>> = BTreeMap::new();
                for need in &missing {
                    let current = need.current_key().to_string();
                    match self.action(need, &unrestorable) {
                        Action::Restore(snapshot, producer) => {
                            restorable.push((snapshot, producer, current));
                        }
                        Action::Replay(producer) => {
                            replays
                                .entry(producer)
                                .or_default()
                                .push((need.name.clone(), current));
                        }
                        Action::Nothing => {}
                    }
                }
                if !replays.is_empty() {
                    for (producer, credited) in replays {
                        self.replay(producer, prepared, depth + 1).await?;
                        // What the replay left is what the current producer would have.
                        for (name, key) in credited {
                            self.kernel.holdings.record(&name, &key);
                        }
                    }
                    continue;
                }
                let records: Vec<&SnapshotRecord> =
                    restorable.iter().map(|(record, _, _)| record).collect();
                let outcomes =
                    state::restore(self.kernel.kernel(), self.store.blobs(), &records).await;
                for ((record, producer, key), outcome) in restorable.iter().zip(outcomes) {
                    match outcome {
                        None => {
                            self.kernel.holdings.record(&record.name, key);
                            let from_cell = self
                                .planned(*producer)
                                .map(|cell| cell.name.clone())
                                .unwrap_or_default();
                            prepared.restored.push(RestoredName {
                                name: record.name.clone(),
                                from_cell,
                            });
                        }
                        Some(_) => {
                            unrestorable.insert(record.name.clone());
                        }
                    }
                }
            }
            let names: Vec<String> = self
                .missing(ordinal)
                .into_iter()
                .map(|need| need.name)
                .collect();
            Err(CellError {
                ename: "RestoreError".into(),
                evalue: format!(
                    "could not bring back {} from the cells that define them; run the \
                     notebook with --force",
                    names.join(", ")
                ),
                traceback: Vec::new(),
            })
        })
    }

    /// Re-executes the producer at `ordinal` (after its own inputs) with its outputs
    /// discarded and its cache untouched.
    fn replay<'s>(
        &'s mut self,
        ordinal: usize,
        prepared: &'s mut Prepared,
        depth: usize,
    ) -> Step<'s> {
        Box::pin(async move {
            let plan = self.plan;
            let Some(producer) = plan.cells.iter().find(|cell| cell.ordinal == ordinal) else {
                return Ok(());
            };
            if depth > plan.cells.len() {
                return Err(CellError {
                    ename: "ReplayError".into(),
                    evalue: "the cells to replay depend on each other in a cycle".into(),
                    traceback: Vec::new(),
                });
            }
            self.ensure_inputs(ordinal, prepared, depth).await?;
            let code = self.code_with_context(producer);
            let result = self
                .kernel
                .kernel()
                .execute_hidden(code, Some(producer.timeout))
                .await;
            if self.cancel.is_cancelled() {
                return Err(cancelled());
            }
            if result.status != ExecutionStatus::Ok {
                let outputs = captured(&result.outputs);
                let cause = failure(&result, &outputs)
                    .map(|error| format!("{}: {}", error.ename, error.evalue))
                    .unwrap_or_default();
                return Err(CellError {
                    ename: "ReplayError".into(),
                    evalue: format!(
                        "replaying cell {} ({}) to recover its values failed: {cause}",
                        producer.ordinal, producer.name
                    ),
                    traceback: Vec::new(),
                });
            }
            if let Some((key, _)) = &producer.key {
                for name in self.snapshot_names(producer) {
                    self.kernel.holdings.record(&name, key);
                }
            }
            if !prepared.replayed.contains(&producer.name) {
                prepared.replayed.push(producer.name.clone());
            }
            Ok(())
        })
    }
}

fn cancelled() -> CellError {
    CellError {
        ename: "Cancelled".into(),
        evalue: "the run was stopped while the cell's inputs were restored".into(),
        traceback: Vec::new(),
    }
}
