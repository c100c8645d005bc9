//! The `jellycell-lsp` binary: the CLI front (clap) over the library.

#[cfg(all(feature = "jemalloc", target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let code = jellycell_lsp::cli::main();
    // Kernels still running (a server whose client went away without `shutdown`) and
    // their connection files go with us.
    jellycell_lsp::kernel::clean_up_now();
    std::process::exit(jellycell_lsp::kernel::exit_code_after_signal().unwrap_or(code));
}
