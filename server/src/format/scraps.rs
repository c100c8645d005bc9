//! Scrapbook values in nbformat outputs: scrapbook's `glue(name, data)` publishes a
//! `display_data` whose bundle has `application/scrapbook.scrap.<encoder>+json` →
//! `{name, data, encoder, version}`; papermill's older `record(name, value)` published
//! `application/papermill.record/<mime>` → `{name: value}`. Both are read as named values.

use serde_json::{Map, Value};

const SCRAP_PREFIX: &str = "application/scrapbook.scrap.";
const SCRAP_SUFFIX: &str = "+json";
const RECORD_PREFIX: &str = "application/papermill.record/";
/// The most characters a value shows in [`Scrap::display`].
const SHOWN_CHARS: usize = 80;

/// One named value.
#[derive(Debug, Clone, PartialEq)]
pub struct Scrap {
    pub name: String,
    /// `json`, `text`, `pandas`, `display`, … (`record` for papermill's legacy form).
    pub encoder: String,
    /// As glued: JSON for `json`/`text`, base64 parquet for `pandas`, a MIME bundle for
    /// `display`.
    pub data: Value,
}

impl Scrap {
    /// The value in a few words: JSON for `json` (`0.93`, `[1, 2]`), quoted text for
    /// `text`, the plain-text form of a `display` bundle, a note for binary encoders;
    /// cut at 80 characters.
    pub fn value_text(&self) -> String {
        let text = match (self.encoder.as_str(), &self.data) {
            ("display", Value::Object(bundle)) => bundle
                .get("text/plain")
                .map(joined)
                .unwrap_or_else(|| format!("<display: {}>", mime_list(bundle))),
            ("pandas", Value::String(encoded)) => {
                format!(
                    "<pandas DataFrame, {} bytes of parquet>",
                    encoded.len() / 4 * 3
                )
            }
            (_, value) => compact_json(value),
        };
        shortened(&text)
    }

    /// `name = value`.
    pub fn display(&self) -> String {
        format!("{} = {}", self.name, self.value_text())
    }
}

/// The scraps one output's MIME bundle carries, in bundle order.
pub fn scraps_in_bundle(bundle: &Map<String, Value>) -> Vec<Scrap> {
    let mut scraps = Vec::new();
    for (mime, payload) in bundle {
        if let Some(encoder) = scrap_encoder(mime) {
            let Some(name) = payload.get("name").and_then(Value::as_str) else {
                continue;
            };
            scraps.push(Scrap {
                name: name.to_string(),
                encoder: payload
                    .get("encoder")
                    .and_then(Value::as_str)
                    .unwrap_or(encoder)
                    .to_string(),
                data: payload.get("data").cloned().unwrap_or(Value::Null),
            });
        } else if mime.starts_with(RECORD_PREFIX)
            && let Value::Object(values) = payload
        {
            scraps.extend(values.iter().map(|(name, value)| Scrap {
                name: name.clone(),
                encoder: "record".to_string(),
                data: value.clone(),
            }));
        }
    }
    scraps
}

/// The scraps of a cell's nbformat outputs, in output order.
pub fn scraps_in_outputs(outputs: &[Value]) -> Vec<Scrap> {
    outputs
        .iter()
        .filter_map(|output| output.get("data").and_then(Value::as_object))
        .flat_map(scraps_in_bundle)
        .collect()
}

/// Whether `mime` is a scrap's (or a legacy record's) MIME type.
pub fn is_scrap_mime(mime: &str) -> bool {
    scrap_encoder(mime).is_some() || mime.starts_with(RECORD_PREFIX)
}

fn scrap_encoder(mime: &str) -> Option<&str> {
    mime.strip_prefix(SCRAP_PREFIX)?.strip_suffix(SCRAP_SUFFIX)
}

fn joined(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        other => compact_json(other),
    }
}

fn compact_json(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn mime_list(bundle: &Map<String, Value>) -> String {
    bundle.keys().cloned().collect::<Vec<_>>().join(", ")
}

fn shortened(text: &str) -> String {
    let single_line = text.trim_end().replace('\n', " ⏎ ");
    match single_line.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &single_line[..cut]),
        None => single_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bundle(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn glued_json_and_text_scraps_are_named_values() {
        let outputs = vec![
            json!({"output_type": "display_data", "data": {
                "application/scrapbook.scrap.json+json":
                    {"name": "accuracy", "data": 0.93, "encoder": "json", "version": 1}},
                "metadata": {"scrapbook": {"name": "accuracy", "data": true, "display": false}}}),
            json!({"output_type": "stream", "name": "stdout", "text": "x"}),
            json!({"output_type": "display_data", "data": {
                "application/scrapbook.scrap.text+json":
                    {"name": "label", "data": "cats", "encoder": "text", "version": 1}}}),
        ];
        let shown: Vec<String> = scraps_in_outputs(&outputs)
            .iter()
            .map(Scrap::display)
            .collect();
        assert_eq!(shown, vec!["accuracy = 0.93", "label = \"cats\""]);
    }

    #[test]
    fn display_pandas_and_legacy_record_scraps_are_summarised() {
        let scraps = scraps_in_bundle(&bundle(json!({
            "application/scrapbook.scrap.display+json":
                {"name": "fig", "data": {"text/plain": "<Figure>", "image/png": "iVBO"}, "encoder": "display"},
            "application/scrapbook.scrap.pandas+json":
                {"name": "df", "data": "AAAA", "encoder": "pandas"},
            "application/papermill.record/json": {"old": [1, 2]},
        })));
        let shown: Vec<String> = scraps.iter().map(Scrap::display).collect();
        assert_eq!(
            shown,
            vec![
                "fig = <Figure>",
                "df = <pandas DataFrame, 3 bytes of parquet>",
                "old = [1,2]"
            ]
        );
    }

    #[test]
    fn a_scrap_without_a_name_is_not_one_and_long_values_are_cut() {
        assert!(
            scraps_in_bundle(&bundle(json!({
                "application/scrapbook.scrap.json+json": {"data": 1}
            })))
            .is_empty()
        );
        let long = Scrap {
            name: "s".into(),
            encoder: "text".into(),
            data: json!("x".repeat(200)),
        };
        assert!(long.value_text().ends_with('…'));
        assert_eq!(long.value_text().chars().count(), SHOWN_CHARS + 1);
        assert!(is_scrap_mime("application/scrapbook.scrap.json+json"));
        assert!(!is_scrap_mime("application/json"));
    }
}
