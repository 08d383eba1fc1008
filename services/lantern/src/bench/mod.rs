//! `lantern bench`: Lantern's speed against its physical anchors, in one run.
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
//!   and region over 12 months, at each history size;
//! - **F** footprint: peak RSS of `lantern serve` with the history
//!   projected, sled bytes per projector, stream bytes per event.
//!
//! Every phase starts its own nats-server (JetStream, file storage in a
//! temp dir, `sync_interval: always`). Nothing fails because a machine is
//! slow: the figures are printed and written to `results.json`.

mod child;
mod cpu;
mod load;
mod workload;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use lantern_ledger::{Ledger, SchemaRegistry, StreamSettings};
use lantern_testkit::NatsServer;
use serde_json::{Value, json};

use child::{ADMIN, Fsyncs, Serve, disk_bytes};
use load::Tokens;
use workload::Org;

/// Settings of a bench run.
#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
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
}

type BoxError = Box<dyn std::error::Error>;

fn settings() -> StreamSettings {
    StreamSettings::default()
}

async fn open_ledger(url: &str) -> Result<(async_nats::Client, Ledger), BoxError> {
    let client = lantern_ledger::connect(url).await?;
    let ledger = Ledger::open(
        client.clone(),
        &settings(),
        Arc::new(SchemaRegistry::embedded()?),
    )
    .await?;
    Ok((client, ledger))
}

/// A label for a number of events: `100k`, `1m`, `500`.
fn label(n: usize) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}m", n / 1_000_000)
    } else if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

fn note(text: impl AsRef<str>) {
    eprintln!("bench: {}", text.as_ref());
}

/// Runs the bench and prints the table.
pub async fn run(args: BenchArgs) -> Result<(), BoxError> {
    let started = Instant::now();
    let org = Org::new(args.hospitals, args.departments, args.months);
    let mut results = BTreeMap::<String, Value>::new();
    let http = load::http_client(args.concurrency);

    // The workload of A and B.
    let (items, next) = workload::items(&org, args.seed, 0, args.events);
    let raw: Vec<_> = items.iter().flat_map(|i| i.raw(&org)).collect();
    let (light_items, next) = light_reports(&org, args.seed, next, args.light);
    note(format!(
        "workload: {} events in {} items over {} hospitals × {} departments × {} months",
        raw.len(),
        items.len(),
        org.hospitals,
        org.departments,
        org.months
    ));

    // A: raw publish.
    let nats = NatsServer::start();
    let (client, ledger_a) = open_ledger(&nats.url()).await?;
    let version = client.server_info().version;
    let js = async_nats::jetstream::new(client.clone());
    let msgs: Vec<_> = raw.iter().map(|e| load::seal(e, true)).collect();
    let scratch = tempfile::Builder::new()
        .prefix("lantern-bench-")
        .tempdir()?;
    let counter = nats
        .pid()
        .and_then(|pid| Fsyncs::start(pid, &scratch.path().join("fsyncs-a.txt")));
    let meter = cpu::Meter::start(&[
        ("nats_server", nats.pid()),
        ("bench", Some(std::process::id())),
    ]);
    let a = load::raw_publish(&js, Arc::new(msgs), args.concurrency).await;
    let a_cpu = meter.stop();
    let a_fsyncs = counter.and_then(Fsyncs::stop);
    let light_msgs: Vec<_> = light_items
        .iter()
        .flat_map(|i| i.raw(&org))
        .map(|e| load::seal(&e, true))
        .collect();
    let a_light = load::raw_publish(&js, Arc::new(light_msgs), 1).await;
    note(format!(
        "A raw publish: {:.0} events/s, p99 {:.1} ms, {} fsyncs ({} errors)",
        a.per_s(),
        a.quantile(0.99),
        a_fsyncs.map_or("?".to_owned(), |n| n.to_string()),
        a.errors
    ));
    drop(js);
    drop(ledger_a);
    drop(client);
    drop(nats);

    // B: the intake, a child `lantern serve` on its own server, with group
    // commit (the default) and with every append on its own.
    let items = Arc::new(items);
    let light_items = Arc::new(light_items);
    let mut phases = BTreeMap::new();
    for (name, group_commit) in [("group", None), ("single", Some("1"))] {
        let phase = intake_phase(
            &http,
            &org,
            items.clone(),
            light_items.clone(),
            args.concurrency,
            &scratch.path().join(format!("intake-{name}")),
            group_commit,
        )
        .await?;
        phases.insert(name, phase);
    }
    drop(items);
    drop(raw);

    let a_per_s = a.per_s().max(1e-9);
    results.insert("raw_publish_per_s".into(), json!(round(a.per_s(), 0)));
    results.insert(
        "raw_publish_p50_ms".into(),
        json!(round(a.quantile(0.5), 2)),
    );
    results.insert(
        "raw_publish_p99_ms".into(),
        json!(round(a.quantile(0.99), 2)),
    );
    results.insert(
        "raw_publish_light_p99_ms".into(),
        json!(round(a_light.quantile(0.99), 2)),
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    results.insert("raw_publish_cpu".into(), a_cpu.to_json(a.events, cores));
    results.insert(
        "raw_publish_fsyncs_per_event".into(),
        json!(a_fsyncs.map(|n| round(n as f64 / a.events.max(1) as f64, 3))),
    );
    for (name, p) in &phases {
        // The default configuration (group commit) carries the plain keys.
        let key = |k: &str| match *name {
            "group" => format!("intake_{k}"),
            _ => format!("intake_{name}_{k}"),
        };
        results.insert(key("per_s"), json!(round(p.run.per_s(), 0)));
        results.insert(key("p50_ms"), json!(round(p.run.quantile(0.5), 2)));
        results.insert(key("p99_ms"), json!(round(p.run.quantile(0.99), 2)));
        results.insert(key("light_p50_ms"), json!(round(p.light.quantile(0.5), 2)));
        results.insert(key("light_p99_ms"), json!(round(p.light.quantile(0.99), 2)));
        results.insert(key("errors"), json!(p.run.errors + p.light.errors));
        results.insert(
            key("fsyncs_per_event"),
            json!(
                p.fsyncs
                    .map(|n| round(n as f64 / p.run.events.max(1) as f64, 3))
            ),
        );
        results.insert(key("cpu"), p.cpu.to_json(p.run.events, cores));
        results.insert(
            key("peak_rss_mb"),
            json!(p.peak_rss_mb.map(|m| round(m, 1))),
        );
        let vs = match *name {
            "group" => "intake_vs_raw_publish".to_owned(),
            _ => format!("intake_{name}_vs_raw_publish"),
        };
        results.insert(vs, json!(round(p.run.per_s() / a_per_s, 3)));
    }
    results.insert("intake_concurrency".into(), json!(args.concurrency));

    if !args.no_history {
        history(&args, &org, next, &http, &mut results).await?;
    }
    results.insert(
        "machine".into(),
        json!({
            "cores": cores,
            "cpu": cpu_model(),
            "nats_server_version": version,
            "sync_interval": lantern_testkit::SYNC_INTERVAL,
            "storage": "file",
        }),
    );
    results.insert(
        "workload".into(),
        json!({
            "events": args.events,
            "concurrency": args.concurrency,
            "hospitals": org.hospitals,
            "departments": org.departments,
            "months": org.months,
            "regions": org.regions(),
            "history": args.history,
            "seed": args.seed,
            "mix": "items: 50% report (200–1,500 Chinese characters), 20% census, 30% critical-value loop (detected, notified, acknowledged 70%, handled 90%)",
        }),
    );
    results.insert(
        "elapsed_s".into(),
        json!(round(started.elapsed().as_secs_f64(), 1)),
    );

    let json = Value::Object(results.into_iter().collect());
    print_table(&json);
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&json)? + "\n")?;
    println!("results: {}", args.out.display());
    Ok(())
}

/// What one intake configuration did.
struct IntakePhase {
    run: load::Run,
    light: load::Run,
    fsyncs: Option<u64>,
    cpu: cpu::Usage,
    peak_rss_mb: Option<f64>,
}

/// B: a fresh server and `lantern serve` (group commit as configured), the
/// organisation registered, then the items at `concurrency` and the light
/// reports one at a time.
async fn intake_phase(
    http: &reqwest::Client,
    org: &Org,
    items: Arc<Vec<workload::Item>>,
    light: Arc<Vec<workload::Item>>,
    concurrency: usize,
    dir: &std::path::Path,
    group_commit: Option<&str>,
) -> Result<IntakePhase, BoxError> {
    let name = if group_commit.is_some() {
        "single appends"
    } else {
        "group commit"
    };
    let nats = NatsServer::start();
    let env: Vec<(&str, &str)> = group_commit
        .map(|g| ("LANTERN_GROUP_COMMIT", g))
        .into_iter()
        .collect();
    let mut serve = Serve::start_with(http, &nats.url(), dir, &env).await?;
    let tokens = load::setup_org(http, &serve.base, ADMIN, org).await?;
    serve.caught_up(http, 0).await?;
    let counter = nats
        .pid()
        .and_then(|pid| Fsyncs::start(pid, &dir.with_extension("fsyncs")));
    let meter = cpu::Meter::start(&[
        ("serve", serve.pid()),
        ("nats_server", nats.pid()),
        ("bench", Some(std::process::id())),
    ]);
    let run = load::intake(http, &serve.base, &tokens, items, concurrency).await;
    let cpu = meter.stop();
    let fsyncs = counter.and_then(Fsyncs::stop);
    // Light load: the projectors have caught up, nothing else is running.
    serve.caught_up(http, 0).await?;
    let light = load::intake(http, &serve.base, &tokens, light, 1).await;
    note(format!(
        "B intake ({name}): {:.0} events/s, p99 {:.1} ms, light p99 {:.1} ms, {} fsyncs ({} errors{})",
        run.per_s(),
        run.quantile(0.99),
        light.quantile(0.99),
        fsyncs.map_or("?".to_owned(), |n| n.to_string()),
        run.errors + light.errors,
        run.error_samples
            .iter()
            .chain(&light.error_samples)
            .next()
            .map(|e| format!(", e.g. {e}"))
            .unwrap_or_default()
    ));
    let peak_rss_mb = serve.peak_rss_mb();
    serve.stop();
    Ok(IntakePhase {
        run,
        light,
        fsyncs,
        cpu,
        peak_rss_mb,
    })
}

/// Report-only items for the light-load latency (one client, one at a time).
fn light_reports(org: &Org, seed: u64, mut next: u64, n: usize) -> (Vec<workload::Item>, u64) {
    let mut out = Vec::new();
    while out.len() < n {
        let item = workload::item(org, seed, next);
        next += 1;
        if matches!(item, workload::Item::Report(_)) {
            out.push(item);
        }
    }
    (out, next)
}

/// C, D, E, F over a history loaded raw (as an import would).
async fn history(
    args: &BenchArgs,
    org: &Org,
    mut next: u64,
    http: &reqwest::Client,
    results: &mut BTreeMap<String, Value>,
) -> Result<(), BoxError> {
    let mut sizes = args.history.clone();
    sizes.sort_unstable();
    sizes.dedup();
    let Some(&largest) = sizes.last() else {
        return Ok(());
    };
    let nats = NatsServer::start();
    let (client, ledger) = open_ledger(&nats.url()).await?;
    let data = tempfile::Builder::new()
        .prefix("lantern-bench-")
        .tempdir()?;
    let serve_dir = data.path().join("serve");
    let mut serve = Serve::start(http, &nats.url(), &serve_dir).await?;
    let tokens: Tokens = load::setup_org(http, &serve.base, ADMIN, org).await?;
    serve.caught_up(http, 0).await?;
    serve.stop();

    let mut query_p50 = BTreeMap::<String, BTreeMap<String, f64>>::new();
    let mut query_p99 = BTreeMap::<String, BTreeMap<String, f64>>::new();
    let mut catch_up = BTreeMap::<String, f64>::new();
    let mut load_rate = BTreeMap::<String, f64>::new();
    let to = org.month_label(org.months - 1);
    let from = org.month_label(org.months.saturating_sub(12));
    for &size in &sizes {
        // Load up to `size` events, in chunks that fit in memory.
        let t = Instant::now();
        let before = ledger.last_sequence().await?;
        let mut stored = before;
        while (stored as usize) < size {
            let want = (size - stored as usize).min(20_000);
            let (items, after) = workload::items(org, args.seed, next, want);
            next = after;
            let msgs: Vec<_> = items
                .iter()
                .flat_map(|i| i.raw(org))
                .map(|e| load::seal(&e, false))
                .collect();
            stored += msgs.len() as u64;
            load::load_batches(&client, msgs, 500, 8).await?;
        }
        let stored = ledger.last_sequence().await?;
        load_rate.insert(
            label(size),
            round((stored - before) as f64 / t.elapsed().as_secs_f64(), 0),
        );
        note(format!(
            "history: {stored} events stored in {:.1} s",
            t.elapsed().as_secs_f64()
        ));

        let mut serve = if size == largest {
            // The rebuilds write straight into the read models `serve`
            // opens, so it starts caught up (a catch-up of the whole history
            // would cost as much again).
            rebuilds(&ledger, &nats.url(), stored, &serve_dir, results).await?;
            let serve = Serve::start(http, &nats.url(), &serve_dir).await?;
            serve.caught_up(http, stored).await?;
            serve
        } else {
            // Catch up a `lantern serve` with the new history.
            let t = Instant::now();
            let serve = Serve::start(http, &nats.url(), &serve_dir).await?;
            let last = serve.caught_up(http, stored).await?;
            let secs = t.elapsed().as_secs_f64();
            catch_up.insert(label(size), round((stored - before) as f64 / secs, 0));
            note(format!("serve caught up with {last} events in {secs:.1} s"));
            serve
        };
        for by in ["department", "hospital", "region"] {
            let q = load::queries(http, &serve.base, &tokens, by, &from, &to, args.queries).await?;
            note(format!(
                "E {by} @{}: p50 {:.2} ms, p99 {:.2} ms",
                label(size),
                q.quantile(0.5),
                q.quantile(0.99)
            ));
            query_p50
                .entry(by.to_owned())
                .or_default()
                .insert(label(size), round(q.quantile(0.5), 2));
            query_p99
                .entry(by.to_owned())
                .or_default()
                .insert(label(size), round(q.quantile(0.99), 2));
        }
        if size == largest {
            footprint(&serve, &ledger, results).await?;
        }
        serve.stop();
    }
    let max_at = |size: usize| {
        query_p99
            .values()
            .filter_map(|m| m.get(&label(size)))
            .copied()
            .fold(0.0, f64::max)
    };
    // The largest p99 at 1 M events; without a 1 M history, at the largest run.
    let at = sizes
        .iter()
        .copied()
        .find(|s| *s >= 1_000_000)
        .unwrap_or(largest);
    results.insert("query_p50_ms".into(), json!(query_p50));
    results.insert("query_p99_ms".into(), json!(query_p99));
    results.insert("query_p99_ms_1m_max".into(), json!(max_at(at)));
    results.insert("query_p99_ms_1m_max_events".into(), json!(at));
    results.insert("query_months".into(), json!(12));
    results.insert("catch_up_per_s".into(), json!(catch_up));
    results.insert("history_load_per_s".into(), json!(load_rate));
    drop(ledger);
    drop(client);
    drop(nats);
    Ok(())
}

/// C and D: the raw read and every projector's rebuild over the stream.
async fn rebuilds(
    ledger: &Ledger,
    nats_url: &str,
    last: u64,
    dir: &std::path::Path,
    results: &mut BTreeMap<String, Value>,
) -> Result<(), BoxError> {
    let stream = ledger
        .jetstream()
        .get_stream(lantern_ledger::STREAM)
        .await?;
    // Warm the page cache, as a rebuild after a running system finds it.
    load::raw_read(&stream, last).await?;
    let c = load::raw_read(&stream, last).await?;
    note(format!(
        "C raw read: {:.0} events/s over {} events",
        c.per_s(),
        c.events
    ));
    let mut rebuild = BTreeMap::new();
    let mut ratio = BTreeMap::new();
    let mut sizes = BTreeMap::new();
    for p in crate::cli::projectors() {
        let name = p.name();
        let path = dir.join(format!("{name}.sled"));
        // In a process of its own, as an operator runs it, timed from
        // spawn to exit: the figure is the command's, not a function's in a
        // process that has just loaded the history and read it twice.
        let t = Instant::now();
        child::rebuild(nats_url, name, &path).await?;
        let per_s = last as f64 / t.elapsed().as_secs_f64();
        note(format!(
            "D rebuild {name}: {per_s:.0} events/s (D/C {:.2})",
            per_s / c.per_s()
        ));
        rebuild.insert(name, round(per_s, 0));
        ratio.insert(name, round(per_s / c.per_s().max(1e-9), 3));
        sizes.insert(name, disk_bytes(&path));
    }
    let min = ratio.values().copied().fold(f64::INFINITY, f64::min);
    results.insert("raw_read_per_s".into(), json!(round(c.per_s(), 0)));
    results.insert("rebuild_events".into(), json!(last));
    results.insert("rebuild_per_s".into(), json!(rebuild));
    results.insert("rebuild_vs_raw_read".into(), json!(ratio));
    results.insert("rebuild_vs_raw_read_min".into(), json!(min));
    results.insert("rebuild_sled_bytes".into(), json!(sizes));
    Ok(())
}

/// F: peak RSS of the serving process, disk per projector, stream bytes.
async fn footprint(
    serve: &Serve,
    ledger: &Ledger,
    results: &mut BTreeMap<String, Value>,
) -> Result<(), BoxError> {
    let mut sled = BTreeMap::new();
    for p in crate::cli::projectors() {
        sled.insert(
            p.name(),
            disk_bytes(&serve.data_dir.join(format!("{}.sled", p.name()))),
        );
    }
    let info = ledger
        .jetstream()
        .get_stream(lantern_ledger::STREAM)
        .await?
        .info()
        .await?
        .state
        .clone();
    results.insert(
        "peak_rss_mb".into(),
        json!(serve.peak_rss_mb().map(|m| round(m, 1))),
    );
    results.insert("rss_mb".into(), json!(serve.rss_mb().map(|m| round(m, 1))));
    results.insert("sled_bytes".into(), json!(sled));
    results.insert("stream_events".into(), json!(info.messages));
    results.insert("stream_bytes".into(), json!(info.bytes));
    results.insert(
        "stream_bytes_per_event".into(),
        json!(round(info.bytes as f64 / info.messages.max(1) as f64, 0)),
    );
    Ok(())
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_default()
}

/// Prints the results as one table.
fn print_table(r: &Value) {
    let num = |v: &Value| -> String {
        match v.as_f64() {
            Some(x) if x >= 1000.0 => group(x.round() as u64),
            Some(x) => format!("{x}"),
            None => "–".to_owned(),
        }
    };
    let mut rows: Vec<(String, String, String, String)> = Vec::new();
    let mut row = |a: &str, b: String, c: String, d: &str| {
        rows.push((a.to_owned(), b, c, d.to_owned()));
    };
    row(
        "A raw publish (events/s)",
        num(&r["raw_publish_per_s"]),
        format!(
            "p50 {} / p99 {} ms",
            r["raw_publish_p50_ms"], r["raw_publish_p99_ms"]
        ),
        "anchor",
    );
    row(
        "B intake, group commit (events/s)",
        num(&r["intake_per_s"]),
        format!("B/A {}", r["intake_vs_raw_publish"]),
        "B/A ≥ 0.8; B ≥ 5 × A",
    );
    row(
        "B intake, single appends (events/s)",
        num(&r["intake_single_per_s"]),
        format!("B/A {}", r["intake_single_vs_raw_publish"]),
        "B/A ≥ 0.8",
    );
    row(
        "  B latency under load, group",
        format!("p50 {} ms", r["intake_p50_ms"]),
        format!("p99 {} ms", r["intake_p99_ms"]),
        "",
    );
    row(
        "  B latency under load, single",
        format!("p50 {} ms", r["intake_single_p50_ms"]),
        format!("p99 {} ms", r["intake_single_p99_ms"]),
        "",
    );
    row(
        "  one report, light load, group",
        format!("p99 {} ms", r["intake_light_p99_ms"]),
        format!("single p99 {} ms", r["intake_single_light_p99_ms"]),
        "no worse with batching",
    );
    row(
        "  one raw publish, light load",
        format!("p99 {} ms", r["raw_publish_light_p99_ms"]),
        String::new(),
        "",
    );
    row(
        "  server fsyncs per event",
        format!("group {}", r["intake_fsyncs_per_event"]),
        format!(
            "single {} / raw {}",
            r["intake_single_fsyncs_per_event"], r["raw_publish_fsyncs_per_event"]
        ),
        "",
    );
    for (label, key) in [
        ("  CPU ms per event, raw", "raw_publish_cpu"),
        ("  CPU ms per event, group", "intake_cpu"),
        ("  CPU ms per event, single", "intake_single_cpu"),
    ] {
        let c = &r[key];
        let Some(ms) = c["cpu_ms_per_event"].as_object() else {
            continue;
        };
        row(
            label,
            ms.iter()
                .map(|(name, v)| format!("{name} {v}"))
                .collect::<Vec<_>>()
                .join(" / "),
            format!(
                "ceiling {} /s ({} without bench)",
                num(&c["cpu_bound_ceiling_per_s"]),
                num(&c["cpu_bound_ceiling_without_bench_per_s"])
            ),
            &format!(
                "machine busy {}, steal {}",
                c["machine_busy"], c["machine_steal"]
            ),
        );
    }
    if r.get("raw_read_per_s").is_some() {
        row(
            "C raw read (events/s)",
            num(&r["raw_read_per_s"]),
            format!("over {} events", r["rebuild_events"]),
            "anchor",
        );
        if let Some(m) = r["rebuild_per_s"].as_object() {
            for (name, v) in m {
                row(
                    &format!("D rebuild {name} (events/s)"),
                    num(v),
                    format!("D/C {}", r["rebuild_vs_raw_read"][name]),
                    "D/C ≥ 0.5",
                );
            }
        }
        if let Some(m) = r["catch_up_per_s"].as_object() {
            for (size, v) in m {
                row(
                    &format!("  serve catch-up @{size} (events/s)"),
                    num(v),
                    "all projectors at once".into(),
                    "",
                );
            }
        }
        if let Some(m) = r["query_p99_ms"].as_object() {
            for (by, sizes) in m {
                if let Some(sizes) = sizes.as_object() {
                    for (size, p99) in sizes {
                        row(
                            &format!("E rates by {by} @{size}"),
                            format!("p50 {} ms", r["query_p50_ms"][by][size]),
                            format!("p99 {p99} ms"),
                            "p99 < 10 ms @1m",
                        );
                    }
                }
            }
        }
        row(
            "F peak RSS of serve (MB)",
            num(&r["peak_rss_mb"]),
            format!("with {} events projected", r["stream_events"]),
            "< 150 MB @1m",
        );
        if let Some(m) = r["sled_bytes"].as_object() {
            for (name, v) in m {
                row(
                    &format!("F sled {name} (MB)"),
                    format!("{:.1}", v.as_f64().unwrap_or(0.0) / 1048576.0),
                    String::new(),
                    "",
                );
            }
        }
        row(
            "F stream bytes per event",
            num(&r["stream_bytes_per_event"]),
            String::new(),
            "",
        );
    }
    let w = |f: fn(&(String, String, String, String)) -> &String| {
        rows.iter().map(|r| f(r).chars().count()).max().unwrap_or(0)
    };
    let (w0, w1, w2) = (w(|r| &r.0), w(|r| &r.1), w(|r| &r.2));
    let pad = |s: &str, n: usize| format!("{s}{}", " ".repeat(n.saturating_sub(s.chars().count())));
    println!();
    println!(
        "| {} | {} | {} | target |",
        pad("figure", w0),
        pad("value", w1),
        pad("vs anchor", w2)
    );
    println!(
        "|{}|{}|{}|---|",
        "-".repeat(w0 + 2),
        "-".repeat(w1 + 2),
        "-".repeat(w2 + 2)
    );
    for (a, b, c, d) in &rows {
        println!("| {} | {} | {} | {d} |", pad(a, w0), pad(b, w1), pad(c, w2));
    }
    let m = &r["machine"];
    println!(
        "\nmachine: {} cores ({}), nats-server {}, sync_interval {}; {} s",
        m["cores"],
        m["cpu"].as_str().unwrap_or(""),
        m["nats_server_version"].as_str().unwrap_or(""),
        m["sync_interval"].as_str().unwrap_or(""),
        r["elapsed_s"]
    );
}

fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
