//! Papermill-style parameters: `-p NAME VALUE` (repeatable) and `--params-file FILE` (YAML
//! or JSON), turned into the source of a cell injected after the cell tagged `parameters`
//! (at the top when there is none), as papermill does.
//!
//! The injected source is canonical (names sorted, values as Python literals), so the
//! same parameters always give the same text; that text is part of the keys of the cells
//! after the injection point (`docs/cache.md`).

use serde_json::Value;

use crate::analysis::workspace::Workspace;
use crate::cache::key::{Injection, parameters_cell};

/// Parameters by name; later values replace earlier ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parameters {
    values: Vec<(String, Value)>,
}

impl Parameters {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The names set, in the order they were first given.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|(name, _)| name.as_str())
    }

    /// Every (name, value).
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.values
            .iter()
            .map(|(name, value)| (name.as_str(), value))
    }

    /// Sets `name` to `value`, replacing an earlier value.
    pub fn set(&mut self, name: &str, value: Value) -> Result<(), String> {
        if !is_identifier(name) {
            return Err(format!(
                "parameter name {name:?} is not a Python identifier (letters, digits and _, not starting with a digit)"
            ));
        }
        self.values.retain(|(known, _)| known != name);
        self.values.push((name.to_string(), value));
        Ok(())
    }

    /// `-p NAME VALUE`: the value's type is inferred as papermill does (`True`/`False`,
    /// `None`, integers, floats, else a string).
    pub fn set_inferred(&mut self, name: &str, raw: &str) -> Result<(), String> {
        self.set(name, infer(raw))
    }

    /// Adds every top-level key of a YAML or JSON mapping (JSON is read as YAML).
    pub fn read_file_text(&mut self, text: &str) -> Result<(), String> {
        let value: Value =
            serde_yaml_ng::from_str(text).map_err(|error| format!("not YAML or JSON: {error}"))?;
        let Value::Object(map) = value else {
            return Err("expected a mapping of parameter names to values".into());
        };
        for (name, value) in map {
            self.set(&name, value)?;
        }
        Ok(())
    }

    /// The injected cell's source, or `None` with no parameters.
    pub fn injected_source(&self) -> Option<String> {
        if self.values.is_empty() {
            return None;
        }
        let mut sorted: Vec<&(String, Value)> = self.values.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut source = String::from("# Parameters\n");
        for (name, value) in sorted {
            source.push_str(&format!("{name} = {}\n", python_literal(value)));
        }
        Some(source)
    }

    /// Where and what to inject into notebook `file` (after its `parameters` cell, else
    /// at the top), or `None` with no parameters.
    pub fn injection(&self, workspace: &Workspace, file: usize) -> Option<Injection> {
        self.injected_source().map(|source| Injection {
            notebook: file,
            after: parameters_cell(workspace, file),
            source,
        })
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first == '_' || first.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

fn infer(raw: &str) -> Value {
    match raw {
        "True" => Value::Bool(true),
        "False" => Value::Bool(false),
        "None" => Value::Null,
        _ => {
            if let Ok(integer) = raw.parse::<i64>() {
                Value::from(integer)
            } else if let Some(float) = raw
                .parse::<f64>()
                .ok()
                .filter(|float| float.is_finite())
                .and_then(serde_json::Number::from_f64)
            {
                Value::Number(float)
            } else {
                Value::String(raw.to_string())
            }
        }
    }
}

/// A JSON value as a Python literal.
fn python_literal(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(number) => number.to_string(),
        // A JSON string literal is a valid Python string literal with the same value.
        Value::String(text) => Value::String(text.clone()).to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(python_literal)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(key, value)| format!(
                    "{}: {}",
                    Value::String(key.clone()),
                    python_literal(value)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_inferred_and_written_as_python_sorted_by_name() {
        let mut parameters = Parameters::default();
        parameters.set_inferred("b", "3").unwrap();
        parameters.set_inferred("a", "hello \"x\"").unwrap();
        parameters.set_inferred("c", "True").unwrap();
        parameters.set_inferred("d", "0.5").unwrap();
        parameters.set_inferred("e", "None").unwrap();
        parameters.set_inferred("b", "4").unwrap();
        assert_eq!(
            parameters.injected_source().unwrap(),
            "# Parameters\na = \"hello \\\"x\\\"\"\nb = 4\nc = True\nd = 0.5\ne = None\n"
        );
    }

    #[test]
    fn files_give_nested_values() {
        let mut parameters = Parameters::default();
        parameters
            .read_file_text("alpha: [1, true, null]\nbeta: {k: v}\n")
            .unwrap();
        assert_eq!(
            parameters.injected_source().unwrap(),
            "# Parameters\nalpha = [1, True, None]\nbeta = {\"k\": \"v\"}\n"
        );
        assert!(parameters.read_file_text("[1, 2]").is_err());
        assert!(parameters.set_inferred("1x", "1").is_err());
    }
}
