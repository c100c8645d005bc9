//! A Zed extension that runs `jellycell-lsp` for Python and Markdown files. Zed starts
//! language servers only through extensions; this one finds the binary on the worktree's
//! PATH (or `lsp.jellycell-lsp.binary.path` in settings) and passes the
//! `lsp.jellycell-lsp.initialization_options` settings through.

use zed_extension_api::{self as zed, settings::LspSettings, LanguageServerId, Result};

const SERVER: &str = "jellycell-lsp";

struct Jellycell;

impl zed::Extension for Jellycell {
    fn new() -> Self {
        Jellycell
    }

    fn language_server_command(
        &mut self,
        _id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<zed::Command> {
        let binary = LspSettings::for_worktree(SERVER, worktree)
            .ok()
            .and_then(|settings| settings.binary);
        let command = binary
            .as_ref()
            .and_then(|binary| binary.path.clone())
            .or_else(|| worktree.which(SERVER))
            .ok_or_else(|| {
                format!(
                    "{SERVER} is not on PATH: install it with `cargo install --locked --path .` \
                     in a jellycell-lsp checkout, or set lsp.{SERVER}.binary.path"
                )
            })?;
        let args = binary
            .and_then(|binary| binary.arguments)
            .unwrap_or_default();
        Ok(zed::Command {
            command,
            args,
            env: worktree.shell_env(),
        })
    }

    fn language_server_initialization_options(
        &mut self,
        _id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<Option<zed::serde_json::Value>> {
        Ok(LspSettings::for_worktree(SERVER, worktree)
            .ok()
            .and_then(|settings| settings.initialization_options))
    }
}

zed::register_extension!(Jellycell);
