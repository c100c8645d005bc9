//! The content-addressed cache: key derivation (`key`, `normalize`), output blobs
//! (`blobs`), per-cell manifests (`manifest`), the derived sled index (`index`), the store
//! that ties them to a project (`store`) and computed cell status (`status`).
//!
//! Knows nothing of kernels or runs: the runner turns kernel outputs into manifests.
//! The layout, key bytes, schema and statuses are documented in `docs/cache.md`.

pub mod blobs;
pub mod damage;
pub mod index;
pub mod key;
pub mod manifest;
pub mod normalize;
pub mod status;
pub mod store;

pub use key::{Injection, KeyContext, KeyInputs};
pub use manifest::{
    ArtifactRecord, InputRecord, LoadRecord, Manifest, ManifestStatus, OutputRecord,
};
pub use status::{
    CellState, CellStatus, cell_outputs, cell_states_and_manifests,
    cell_states_and_manifests_where, cell_statuses, output_sizes, outputs_by_current_key,
    shown_manifest, what_changed,
};
pub use store::Store;
