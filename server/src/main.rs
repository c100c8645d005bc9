//! The `jellycell-lsp` binary: the CLI front (clap) over the library.

fn main() {
    std::process::exit(jellycell_lsp::cli::main());
}
