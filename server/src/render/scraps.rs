//! Scrapbook values (`format::scraps`) of a cached output bundle, for the hover and the
//! preview: read from their blobs and shown as `name = value` instead of raw JSON.

use std::collections::BTreeMap;

use serde_json::Map;

use crate::cache::blobs::{BlobRef, BlobStore};
use crate::format::scraps::{Scrap, is_scrap_mime, scraps_in_bundle};

/// The scraps of a cached bundle; empty when it has none (or their blobs cannot be read).
pub fn cached_scraps(data: &BTreeMap<String, BlobRef>, blobs: &BlobStore) -> Vec<Scrap> {
    let bundle: Map<String, serde_json::Value> = data
        .iter()
        .filter(|(mime, _)| is_scrap_mime(mime))
        .filter_map(|(mime, reference)| Some((mime.clone(), blobs.get_mime(reference).ok()?)))
        .collect();
    if bundle.is_empty() {
        return Vec::new();
    }
    scraps_in_bundle(&bundle)
}
