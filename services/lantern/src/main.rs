//! `lantern`: run any of Lantern's services alone, or all of them in one
//! process on one port (`lantern serve`), and maintain the read models.

mod bench;
mod cli;
mod ops;
mod serve;
mod telemetry;

use clap::Parser;

/// mimalloc: a rebuild spent a quarter of its CPU in glibc malloc, whose
/// per-thread arenas also fragmented the RSS of `lantern serve`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lantern: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let _telemetry = telemetry::init()?;
        cli.run().await
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lantern: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
