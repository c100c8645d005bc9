//! The language a notebook's code is in, from its metadata as jupytext and Jupyter record
//! it: `jupytext.main_language`, else the kernelspec's `language`, else
//! `language_info.name`, else MyST's `jupytext.default_lexer` (the lexer of its
//! ```` ```{code-cell} LEXER ```` blocks); Python when none says otherwise. Only Python
//! cells are analysed as Python (syntax errors, `jc.*` calls).

use serde_json::Value;

use super::Notebook;

/// The notebook's language, as written in its metadata (`python` when none is).
pub fn notebook_language(notebook: &Notebook) -> String {
    let metadata = &notebook.metadata;
    let text = |value: Option<&Value>| {
        value
            .and_then(Value::as_str)
            .filter(|text| !text.trim().is_empty())
            .map(str::to_string)
    };
    let jupytext = metadata.get("jupytext");
    text(jupytext.and_then(|jupytext| jupytext.get("main_language")))
        .or_else(|| text(metadata.get("kernelspec").and_then(|k| k.get("language"))))
        .or_else(|| text(metadata.get("language_info").and_then(|l| l.get("name"))))
        .or_else(|| text(jupytext.and_then(|jupytext| jupytext.get("default_lexer"))))
        .unwrap_or_else(|| "python".into())
}

/// Whether a language name (or a Pygments lexer such as `ipython3`) is Python.
pub fn is_python_language(language: &str) -> bool {
    let lower = language.trim().to_lowercase();
    lower.starts_with("python") || lower.starts_with("ipython") || lower == "py" || lower == "pypy"
}

/// Whether the notebook's code cells are Python, so that Python analysis applies.
pub fn is_python_notebook(notebook: &Notebook) -> bool {
    is_python_language(&notebook_language(notebook))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::format::NotebookFormat;

    fn with_metadata(metadata: Value) -> Notebook {
        let mut notebook = Notebook::empty(NotebookFormat::Myst);
        if let Value::Object(map) = metadata {
            notebook.metadata = map;
        }
        notebook
    }

    #[test]
    fn kernel_language_decides() {
        let r = with_metadata(json!({"kernelspec": {"name": "ir", "language": "R"}}));
        assert_eq!(notebook_language(&r), "R");
        assert!(!is_python_notebook(&r));
        let python =
            with_metadata(json!({"kernelspec": {"name": "python3", "language": "python"}}));
        assert!(is_python_notebook(&python));
    }

    #[test]
    fn main_language_wins_and_lexers_count() {
        let julia = with_metadata(json!({"jupytext": {"main_language": "julia"},
            "kernelspec": {"language": "python"}}));
        assert!(!is_python_notebook(&julia));
        let lexer = with_metadata(json!({"jupytext": {"default_lexer": "ipython3"}}));
        assert!(is_python_notebook(&lexer));
        assert!(is_python_notebook(&with_metadata(json!({}))));
    }
}
