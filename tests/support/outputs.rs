//! Cached outputs written straight through the cache API (no kernel), for preview and
//! render tests: a manifest for a cell's *current* key with the given output records,
//! and a small real PNG.

use std::collections::BTreeMap;
use std::path::Path;

use jellycell_lsp::analysis::workspace::{NotebookFile, Workspace};
use jellycell_lsp::cache::manifest::{MANIFEST_SCHEMA_VERSION, utc_now};
use jellycell_lsp::cache::{
    CellState, Manifest, ManifestStatus, OutputRecord, Store, cell_statuses,
};
use jellycell_lsp::project::Project;
use serde_json::{Map, Value};

/// One output to cache: `("stream", "stdout", text)`-like constructors below.
pub enum Output {
    Stream(&'static str, String),
    Display(Vec<(&'static str, Value)>),
    Error(String, String, Vec<String>),
}

/// Writes a manifest with `outputs` for the code cell at `ordinal` of `notebook`
/// (project-relative), keyed by its current key. Returns the key.
pub fn cache_outputs(root: &Path, notebook: &str, ordinal: usize, outputs: Vec<Output>) -> String {
    let project = Project::discover(root);
    let store = Store::open(&project);
    let (workspace, _) = Workspace::load(project, &[]);
    let file = workspace
        .files
        .iter()
        .position(|file| file.relative == notebook)
        .expect("notebook in the workspace");
    cache_outputs_in(&workspace, file, &store, ordinal, outputs)
}

/// [`cache_outputs`] with a loaded workspace and store.
pub fn cache_outputs_in(
    workspace: &Workspace,
    file: usize,
    store: &Store,
    ordinal: usize,
    outputs: Vec<Output>,
) -> String {
    let state = cell_statuses(workspace, file, store)
        .into_iter()
        .find(|state| state.ordinal == ordinal)
        .expect("a code cell at that ordinal");
    cache_outputs_for(&workspace.files[file], &state, store, outputs)
}

/// [`cache_outputs`] for a cell whose status (and key) is already computed.
pub fn cache_outputs_for(
    notebook: &NotebookFile,
    state: &CellState,
    store: &Store,
    outputs: Vec<Output>,
) -> String {
    let ordinal = state.ordinal;
    let key = state.key.clone().expect("a keyed cell");
    let mut records = Vec::new();
    let mut failed = false;
    for output in outputs {
        records.push(match output {
            Output::Stream(name, text) => OutputRecord::Stream {
                name: name.to_string(),
                blob: store.blobs().put(text.as_bytes()).expect("blob"),
            },
            Output::Display(bundle) => {
                let mut data = BTreeMap::new();
                for (mime, value) in bundle {
                    data.insert(
                        mime.to_string(),
                        store.blobs().put_mime(mime, &value).expect("blob"),
                    );
                }
                OutputRecord::DisplayData {
                    data,
                    metadata: Map::new(),
                }
            }
            Output::Error(ename, evalue, traceback) => {
                failed = true;
                OutputRecord::Error {
                    ename,
                    evalue,
                    traceback,
                }
            }
        });
    }
    let manifest = Manifest {
        schema_version: MANIFEST_SCHEMA_VERSION,
        cache_key: key.clone(),
        notebook: notebook.relative.clone(),
        cell: ordinal,
        cell_id: format!("{}:{ordinal}", notebook.stem()),
        cell_name: None,
        name: state.name.clone(),
        kind: "step".into(),
        kernel: "python3".into(),
        key_version: "1".into(),
        source_hash: String::new(),
        dep_keys: Vec::new(),
        setup_hashes: Vec::new(),
        env_hash: String::new(),
        params_hash: None,
        executed_at: utc_now(),
        duration_ms: 42,
        status: if failed {
            ManifestStatus::Error
        } else {
            ManifestStatus::Ok
        },
        outputs: records,
        artifacts: Vec::new(),
        blob_sizes: Default::default(),
        snapshots: Vec::new(),
        unsnapshotted: Vec::new(),
        inputs: Vec::new(),
        loads: Vec::new(),
    };
    store.put_manifest(&manifest).expect("manifest");
    key
}

/// A real `width`×`height` RGB PNG (a gradient), base64 as a kernel sends it.
pub fn png_base64(width: u32, height: u32) -> String {
    jellycell_lsp::cache::blobs::base64_encode(&png(width, height))
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0);
        for x in 0..width {
            raw.extend([
                (40 + 180 * x / width.max(1)) as u8,
                (90 + 120 * y / height.max(1)) as u8,
                200,
            ]);
        }
    }
    // zlib with stored (uncompressed) blocks.
    let mut zlib = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (index, chunk) in chunks.iter().enumerate() {
        zlib.push(u8::from(index + 1 == chunks.len()));
        let length = chunk.len() as u16;
        zlib.extend(length.to_le_bytes());
        zlib.extend((!length).to_le_bytes());
        zlib.extend(*chunk);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in &raw {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend(((b << 16) | a).to_be_bytes());

    let mut png = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend((data.len() as u32).to_be_bytes());
    let mut crc_input = kind.to_vec();
    crc_input.extend(data);
    png.extend(kind);
    png.extend(data);
    png.extend(crc32(&crc_input).to_be_bytes());
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `Value::String` shorthand.
pub fn text(value: &str) -> Value {
    Value::String(value.to_string())
}
