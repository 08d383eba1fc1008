//! `lantern`: run any of Lantern's services alone, or all of them in one
//! process on one port (`lantern serve`), and maintain the read models.

mod cli;
mod config;
mod ops;
mod patience;
mod serve;
mod shared_secret;
mod stream;
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

/// mimalloc's `mi_option_purge_delay`: its place in `mi_option_e` of the
/// mimalloc (v3) libmimalloc-sys builds, which names only older options.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps the memory this process frees instead of giving it back to the
/// kernel a second later (mimalloc's default): sled frees and reallocates
/// tree nodes all the time, and every page given back and used again was
/// faulted in and zeroed anew — a reports rebuild's system time fell by a
/// quarter and its wall time ≈ 6 % (docs/performance.md, session 8). For
/// rebuilds only: a server keeps its RSS down by giving memory back.
fn keep_freed_memory() {
    // SAFETY: sets a process-wide option value; mimalloc reads options with
    // relaxed atomics, any value is valid, and -1 means "never purge".
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

fn main() -> std::process::ExitCode {
    no_huge_pages();
    let cli = cli::Cli::parse();
    if cli.is_rebuild() {
        keep_freed_memory();
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The option index is mimalloc's purge delay: its default, 1,000 ms
    /// in mimalloc v3, unless the environment sets it.
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reads an option.
        let delay = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(delay, 1000);
    }
}
