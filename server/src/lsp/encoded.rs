//! The requests whose answers grow with the notebook (`codeLens`, `inlayHint`,
//! `documentSymbol`, `foldingRange`), answered with their JSON written straight from the
//! typed results. tower-lsp first turns every handler's result into a `serde_json::Value`
//! tree (a map and a string per key of every object) and then writes that: at 100,000
//! cells building and freeing the tree of 400,000 lenses was most of the request's time.
//!
//! `Ordered` (`mod.rs`) hands these requests here once the server is initialized and
//! until it is shut down; before and after, tower-lsp's router answers them with its
//! errors. Bad params get -32602, as from tower-lsp. The work (the feature and the
//! writing of its answer) runs on a blocking thread, like every handler's. tower-lsp's
//! `$/cancelRequest` does not reach these requests; the spec lets a server answer a
//! cancelled request, and each of these is answered in well under a second.

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Id, Response};
use tower_lsp_server::ls_types::{
    CodeLensParams, DocumentSymbolParams, DocumentSymbolResponse, FoldingRangeParams,
    InlayHintParams, Uri,
};

use super::state::Snapshot;
use super::transport::Outgoing;
use super::{Core, code_lens, folding, inlay_hints, json_write, run_blocking, symbols};

const CODE_LENS: &str = "textDocument/codeLens";
const INLAY_HINT: &str = "textDocument/inlayHint";
const DOCUMENT_SYMBOL: &str = "textDocument/documentSymbol";
const FOLDING_RANGE: &str = "textDocument/foldingRange";

/// Whether [`answer`] answers `method`.
pub fn handles(method: &str) -> bool {
    matches!(
        method,
        CODE_LENS | INLAY_HINT | DOCUMENT_SYMBOL | FOLDING_RANGE
    )
}

/// The encoded response to request `id` of one of the methods [`handles`].
pub fn answer(
    core: Arc<Core>,
    method: &str,
    id: Id,
    params: Option<Value>,
) -> BoxFuture<'static, Option<Outgoing>> {
    let answer = match method {
        CODE_LENS => with_params(params, |params: CodeLensParams| {
            on_snapshot(
                core,
                id.clone(),
                params.text_document.uri,
                |core, snapshot, id| {
                    let lenses = code_lens::code_lenses(core, snapshot);
                    encode_with(id, |out| match lenses {
                        Some(lenses) => lenses.write_json(out),
                        None => serde_json::to_writer(out, &Value::Null),
                    })
                },
            )
        }),
        INLAY_HINT => with_params(params, |params: InlayHintParams| {
            let range = params.range;
            on_snapshot(
                core,
                id.clone(),
                params.text_document.uri,
                move |core, snapshot, id| {
                    encode(id, &inlay_hints::inlay_hints(core, snapshot, range))
                },
            )
        }),
        DOCUMENT_SYMBOL => with_params(params, |params: DocumentSymbolParams| {
            on_snapshot(
                core,
                id.clone(),
                params.text_document.uri,
                |_, snapshot, id| {
                    let symbols = symbols::document_symbols(snapshot);
                    encode_with(id, |out| match &symbols {
                        Some(DocumentSymbolResponse::Nested(symbols)) => {
                            json_write::symbols(out, symbols)
                        }
                        other => serde_json::to_writer(out, other),
                    })
                },
            )
        }),
        FOLDING_RANGE => with_params(params, |params: FoldingRangeParams| {
            on_snapshot(
                core,
                id.clone(),
                params.text_document.uri,
                |_, snapshot, id| encode(id, &folding::folding_ranges(snapshot)),
            )
        }),
        _ => Err(Error::method_not_found()),
    };
    match answer {
        Ok(future) => future,
        Err(error) => {
            let response = Outgoing::Message(Response::from_error(id, error));
            async { Some(response) }.boxed()
        }
    }
}

/// `then` with the decoded params, or the invalid-params error tower-lsp would answer.
fn with_params<P: DeserializeOwned>(
    params: Option<Value>,
    then: impl FnOnce(P) -> BoxFuture<'static, Option<Outgoing>>,
) -> Result<BoxFuture<'static, Option<Outgoing>>, Error> {
    match serde_json::from_value::<P>(params.unwrap_or(Value::Null)) {
        Ok(params) => Ok(then(params)),
        Err(error) => Err(Error::invalid_params(error.to_string())),
    }
}

/// Runs `feature` (which encodes the whole response) on the current snapshot of `uri` on
/// a blocking thread; a buffer that is not open gets a `null` result.
fn on_snapshot<F>(
    core: Arc<Core>,
    id: Id,
    uri: Uri,
    feature: F,
) -> BoxFuture<'static, Option<Outgoing>>
where
    F: FnOnce(&Core, &Snapshot, &Id) -> Outgoing + Send + 'static,
{
    async move {
        let worker = core.clone();
        let request = id.clone();
        let answer = run_blocking(move || match worker.state.snapshot(&uri) {
            Some(snapshot) => feature(&worker, &snapshot, &request),
            None => encode(&request, &Value::Null),
        })
        .await;
        tokio::task::spawn_blocking(move || core.state.collect_garbage());
        Some(answer.unwrap_or_else(|error| Outgoing::Message(Response::from_error(id, error))))
    }
    .boxed()
}

/// A JSON-RPC response whose result is `result`.
fn encode<T: Serialize>(id: &Id, result: &T) -> Outgoing {
    encode_with(id, |out| serde_json::to_writer(out, result))
}

/// A JSON-RPC response whose result `write_result` writes.
fn encode_with(
    id: &Id,
    write_result: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>,
) -> Outgoing {
    let mut body = br#"{"jsonrpc":"2.0","id":"#.to_vec();
    let written = serde_json::to_writer(&mut body, id).and_then(|()| {
        body.extend_from_slice(br#","result":"#);
        write_result(&mut body)
    });
    match written {
        Ok(()) => {
            body.push(b'}');
            Outgoing::Encoded(body)
        }
        Err(error) => {
            let mut failed = Error::internal_error();
            failed.message = format!("jellycell-lsp cannot encode its answer: {error}").into();
            Outgoing::Message(Response::from_error(id.clone(), failed))
        }
    }
}
