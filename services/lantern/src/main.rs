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

/// Turns transparent huge pages off for this process, whatever it runs.
/// mimalloc asks for them on its arenas (`MADV_HUGEPAGE`); sled frees and
/// reallocates tree nodes all the time, mimalloc returns emptied pages to
/// the kernel, and every fault back in then zeroed 2 MiB: a third of a
/// reports rebuild's samples (`clear_page_erms`), rebuilds 10–40 % faster
/// without them. A server holding 1 M events of read models was also
/// ≈ 70 MB smaller (194 → 127 MB at start), and nothing measured was slower.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and sets a flag of
        // this process only. A failure (a kernel before 3.15) leaves the
        // default, which is only slower: nothing to report.
        let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}

fn main() -> std::process::ExitCode {
    no_huge_pages();
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
