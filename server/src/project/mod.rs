//! PLACEHOLDER (owned by the tags/pep723/project/text helper): jellycell.toml discovery and typed config.
