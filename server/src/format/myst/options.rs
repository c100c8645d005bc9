//! A directive's options and a `+++` break's metadata, read as jupytext reads them.
//!
//! Options come first in a ```` ```{code-cell} ```` or ```` ```{raw-cell} ```` body, either as
//! `:key: value` lines (each made a YAML line by dropping the colon) or as a YAML block between
//! a `---` line and the next line that starts with `---`. A break's metadata is the JSON after
//! the pluses: `+++ {"key": "value"}`.

use serde_json::{Map, Value};

use super::lines::{is_blank, is_python_space};
use crate::format::yaml;

/// One content line of a fence: `text` starts at byte `offset` of the notebook text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContentLine {
    pub offset: usize,
    /// Where the line's content ends in the notebook text.
    pub end: usize,
    pub text: String,
}

/// The options read from a fence body, and the lines left for the cell source.
#[derive(Debug, Default)]
pub(crate) struct DirectiveOptions {
    pub metadata: Map<String, Value>,
    /// Why the options could not be read, when they could not.
    pub error: Option<String>,
    /// How many content lines the options took.
    pub option_lines: usize,
    pub body: Vec<ContentLine>,
}

/// jupytext's `parse_directive_options` followed by `read_fenced_cell`'s removal of one
/// blank line between the options and the code.
pub(crate) fn parse_directive_options(content: &[ContentLine]) -> DirectiveOptions {
    let mut result = DirectiveOptions::default();
    let first_non_space = content
        .iter()
        .flat_map(|line| line.text.chars().chain(std::iter::once('\n')))
        .find(|c| !is_python_space(*c));
    let yaml_text;
    if content
        .first()
        .is_some_and(|line| line.text.starts_with("---"))
    {
        let rest = &content[1..];
        match rest.iter().position(|line| line.text.starts_with("---")) {
            Some(close) => {
                yaml_text = rest[..close]
                    .iter()
                    .map(|line| format!("{}\n", line.text))
                    .collect();
                result.option_lines = close + 2;
                let closing = &rest[close];
                let dashes = closing
                    .text
                    .bytes()
                    .take_while(|&byte| byte == b'-')
                    .count();
                let tail = &closing.text[dashes..];
                // jupytext drops one character after the dashes, meant to be the newline.
                let mut chars = tail.chars();
                if chars.next().is_some() {
                    let kept = chars.as_str();
                    if !kept.is_empty() || close + 1 < rest.len() {
                        let offset = closing.offset + closing.text.len() - kept.len();
                        result.body.push(ContentLine {
                            offset,
                            end: closing.end,
                            text: kept.to_string(),
                        });
                    }
                }
                result.body.extend(rest[close + 1..].iter().cloned());
            }
            None => {
                yaml_text = rest
                    .iter()
                    .map(|line| line.text.as_str())
                    .collect::<Vec<_>>()
                    .join("\n");
                result.option_lines = content.len();
            }
        }
        read_yaml(&dedent(&yaml_text), &mut result);
    } else if first_non_space == Some(':') {
        let count = content
            .iter()
            .take_while(|line| {
                line.text
                    .trim_start_matches(is_python_space)
                    .starts_with(':')
            })
            .count();
        yaml_text = content[..count]
            .iter()
            .map(|line| &line.text.trim_start_matches(is_python_space)[1..])
            .collect::<Vec<_>>()
            .join("\n");
        result.option_lines = count;
        result.body = content[count..].to_vec();
        read_yaml(&yaml_text, &mut result);
    } else {
        result.body = content.to_vec();
        return drop_first_blank(result);
    }
    // Both option forms re-join the remaining lines with "\n" and split them again, which
    // loses one trailing empty line.
    if result.body.last().is_some_and(|line| line.text.is_empty()) {
        result.body.pop();
    }
    drop_first_blank(result)
}

fn drop_first_blank(mut result: DirectiveOptions) -> DirectiveOptions {
    if result.body.first().is_some_and(|line| is_blank(&line.text)) {
        result.body.remove(0);
    }
    result
}

fn read_yaml(text: &str, result: &mut DirectiveOptions) {
    match yaml::parse(text) {
        Ok(Value::Object(map)) => result.metadata = map,
        Ok(value) if is_falsy(&value) => {}
        Ok(value) => {
            result.error = Some(format!(
                "the options are a YAML {}, not a mapping",
                kind_name(&value)
            ))
        }
        Err(error) => result.error = Some(error),
    }
}

/// Python truthiness: jupytext reads `yaml.safe_load(...) or {}`.
fn is_falsy(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(flag) => !flag,
        Value::Number(number) => number.as_f64() == Some(0.0),
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
    }
}

pub(crate) fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "mapping",
    }
}

/// `textwrap.dedent`: removes the common leading whitespace; whitespace-only lines become
/// empty.
pub(crate) fn dedent(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let margin = lines
        .iter()
        .filter(|line| !line.trim_matches([' ', '\t']).is_empty())
        .map(|line| &line[..line.len() - line.trim_start_matches([' ', '\t']).len()])
        .reduce(|common, indent| {
            let shared = common
                .bytes()
                .zip(indent.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            &common[..shared]
        })
        .unwrap_or("");
    lines
        .iter()
        .map(|line| {
            if line.trim_matches([' ', '\t']).is_empty() {
                ""
            } else {
                line.strip_prefix(margin).unwrap_or(line)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The metadata of a `+++` break: nothing, or a JSON object.
pub(crate) fn parse_break_metadata(content: &str) -> Result<Map<String, Value>, String> {
    let content = content.trim_matches(is_python_space);
    if content.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(content) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!("it is a JSON {}, not an object", kind_name(&other))),
        Err(error) => Err(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lines(text: &str) -> Vec<ContentLine> {
        let mut offset = 0;
        text.split('\n')
            .map(|line| {
                let content = ContentLine {
                    offset,
                    end: offset + line.len(),
                    text: line.to_string(),
                };
                offset += line.len() + 1;
                content
            })
            .collect()
    }

    fn body(options: &DirectiveOptions) -> Vec<&str> {
        options.body.iter().map(|line| line.text.as_str()).collect()
    }

    #[test]
    fn colon_options_become_metadata() {
        let options = parse_directive_options(&lines(":tags: [hide-input]\n:other: 1\nx = 1"));
        assert_eq!(
            Value::Object(options.metadata.clone()),
            json!({"tags": ["hide-input"], "other": 1})
        );
        assert_eq!(body(&options), ["x = 1"]);
        assert_eq!(options.option_lines, 2);
    }

    #[test]
    fn indented_colon_options_are_accepted() {
        let options = parse_directive_options(&lines("  :tags: [a]\nx"));
        assert_eq!(options.metadata.get("tags"), Some(&json!(["a"])));
    }

    #[test]
    fn yaml_block_options_become_metadata() {
        let options = parse_directive_options(&lines("---\nmeta:\n  a: 1\n---\n\nx = 1"));
        assert_eq!(
            Value::Object(options.metadata.clone()),
            json!({"meta": {"a": 1}})
        );
        assert_eq!(body(&options), ["x = 1"]);
    }

    #[test]
    fn unclosed_yaml_block_takes_everything() {
        let options = parse_directive_options(&lines("---\na: 1"));
        assert_eq!(options.metadata.get("a"), Some(&json!(1)));
        assert!(options.body.is_empty());
    }

    #[test]
    fn one_character_after_the_closing_dashes_is_dropped() {
        let options = parse_directive_options(&lines("---\na: 1\n---xyz\nbody"));
        assert_eq!(body(&options), ["yz", "body"]);
        assert_eq!(options.body[0].offset, "---\na: 1\n---x".len());
    }

    #[test]
    fn only_one_blank_line_after_options_is_dropped() {
        let options = parse_directive_options(&lines(":a: 1\n\n\nx"));
        assert_eq!(body(&options), ["", "x"]);
    }

    #[test]
    fn options_lose_one_trailing_empty_line() {
        assert_eq!(
            body(&parse_directive_options(&lines(":a: 1\nx\n\n"))),
            ["x", ""]
        );
        assert_eq!(
            body(&parse_directive_options(&lines("---\na: 1\n---\nx\n"))),
            ["x"]
        );
        assert_eq!(body(&parse_directive_options(&lines("x\n"))), ["x", ""]);
    }

    #[test]
    fn invalid_options_are_reported() {
        let options = parse_directive_options(&lines(":tags: [a\nx"));
        assert!(options.error.is_some());
        assert_eq!(body(&options), ["x"]);
        let options = parse_directive_options(&lines("---\n- a\n---\nx"));
        assert!(
            options
                .error
                .as_deref()
                .is_some_and(|error| error.contains("not a mapping"))
        );
    }

    #[test]
    fn falsy_yaml_means_no_options() {
        let options = parse_directive_options(&lines("---\n[]\n---\nx"));
        assert!(options.error.is_none() && options.metadata.is_empty());
    }

    #[test]
    fn dedent_removes_the_common_margin() {
        assert_eq!(dedent("  a: 1\n    b: 2\n \n"), "a: 1\n  b: 2\n\n");
    }

    #[test]
    fn break_metadata_is_a_json_object() {
        assert_eq!(parse_break_metadata(""), Ok(Map::new()));
        assert_eq!(
            parse_break_metadata(r#"{"a": 1}"#).map(Value::Object),
            Ok(json!({"a": 1}))
        );
        assert!(parse_break_metadata("[1]").is_err());
        assert!(parse_break_metadata("{bad").is_err());
    }
}
