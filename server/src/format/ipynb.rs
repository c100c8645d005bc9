//! PLACEHOLDER (owned by the lead): nbformat v4.5 reader and writer.

use crate::format::{Notebook, NotebookFormat};

pub fn read_ipynb(_text: &str) -> Notebook {
    Notebook::empty(NotebookFormat::Ipynb)
}

pub fn write_ipynb(_notebook: &Notebook) -> String {
    String::new()
}
