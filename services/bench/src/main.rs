//! `lantern-bench`: Lantern's speed against its physical anchors, in one run.
//!
//! Each figure is set beside what the hardware and NATS themselves do in the
//! same run, because the machines are shared and noisy:
//!
//! - **A** raw publish: async-nats JetStream publishes of the workload's
//!   envelopes, `concurrency` publishers each awaiting every PublishAck;
//! - **B** intake: the same events through the HTTP API of a child
//!   `lantern serve`, `concurrency` clients; B/A;
//! - **C** raw read: an ordered consumer over the whole history stream;
//! - **D** rebuild: each projector's rebuild over that stream, as a child
//!   `lantern rebuild`; D/C;
//! - **E** query: p50/p99 of `GET /api/v1/rates` by department, hospital
//!   and region over 12 months, of a region's dispatch pack
//!   (`/api/v1/meetings/{month}?region=`) and of its annual report
//!   (`/api/v1/quality-reports/{year}?region=`), at each history size;
//! - **F** footprint: peak RSS of `lantern serve` with the history
//!   projected, sled bytes per projector, stream bytes per event.
//!
//! Every phase starts its own nats-server (JetStream, file storage in a
//! temp dir, `sync_interval: always`). Nothing fails because a machine is
//! slow: the figures are printed and written to `results.json`.
//!
//! A binary of its own so that the production `lantern` links none of the
//! load generators (reqwest, procfs, the test kit); it drives the real
//! `lantern` executable as a child, so its figures are the product's.

mod child;
mod cpu;
mod load;
mod results;
mod run;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// The bench's own clients (its publishers in A, its HTTP clients in B) are
/// measured too; they ran under mimalloc while the bench was a command of
/// `lantern`, and still do so that their CPU figures stay comparable.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Measure Lantern's speed against raw JetStream on this machine (starts its
/// own nats-servers and `lantern serve`); prints a table and writes JSON.
#[derive(Parser, Clone, Debug)]
#[command(version, about)]
pub struct BenchArgs {
    /// The `lantern` binary to measure; by default the `lantern` beside this
    /// executable (where Cargo builds both).
    #[arg(long, env = "LANTERN_BIN")]
    pub lantern: Option<PathBuf>,
    /// Events published raw (A) and through the intake (B).
    #[arg(long, default_value_t = 20_000)]
    pub events: usize,
    /// History sizes (events) at which queries are measured, comma-separated;
    /// rebuilds (C, D) and the footprint (F) are measured at the largest.
    #[arg(long, value_delimiter = ',', default_value = "100000,1000000")]
    pub history: Vec<usize>,
    /// Concurrent publishers (A) and HTTP clients (B).
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
    /// Sequential requests for the light-load latency of one report (the
    /// p99 of 200 was the second-slowest request, and moved by ± 0.5 ms
    /// between runs).
    #[arg(long, default_value_t = 1000)]
    pub light: usize,
    /// Queries per grain and history size (E).
    #[arg(long, default_value_t = 200)]
    pub queries: usize,
    /// Hospitals (20 per region).
    #[arg(long, default_value_t = 200)]
    pub hospitals: usize,
    /// Departments per hospital.
    #[arg(long, default_value_t = 20)]
    pub departments: usize,
    /// Months of history.
    #[arg(long, default_value_t = 24)]
    pub months: usize,
    /// Seed of the event mix.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Where the JSON results go.
    #[arg(long, default_value = "target/bench/results.json")]
    pub out: PathBuf,
    /// Skip the history phases (C, D, E, F).
    #[arg(long)]
    pub no_history: bool,
    /// G: hospitals on leaf nodes feeding a region's hub (0 skips G).
    #[arg(long, default_value_t = 20)]
    pub federation_hospitals: usize,
    /// G: seconds of the hub's outage while the hospitals file.
    #[arg(long, default_value_t = 600)]
    pub federation_outage_s: usize,
    /// G: events/s each hospital files during the outage.
    #[arg(long, default_value_t = 50)]
    pub federation_rate: usize,
    /// Copy the largest history's JetStream store into this directory once
    /// loaded, to profile a rebuild or a query by hand against it
    /// (`nats-server -js -sd <dir>`, then `lantern rebuild …`).
    #[arg(long)]
    pub keep_history: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = BenchArgs::parse();
    let lantern = match child::lantern_binary(args.lantern.as_deref()) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("lantern-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lantern-bench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run::run(args, lantern)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lantern-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
