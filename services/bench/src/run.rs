//! The phases of a run, A to F (see the crate docs), and the results they
//! add up to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lantern_ledger::local::NatsServer;
use lantern_ledger::{Ledger, SchemaRegistry, StreamSettings};

use crate::BenchArgs;
use crate::child::{self, ADMIN, Fsyncs, Serve, disk_bytes};
use crate::cpu;
use crate::load::{self, Tokens};
use crate::results::{
    ByName, Federation, Footprint, History, Machine, Rebuilds, Results, Workload, round,
};
use crate::workload::{self, Org};

type BoxError = Box<dyn std::error::Error>;

fn settings() -> StreamSettings {
    StreamSettings::default()
}

/// A ledger on `nats`, and its client: the raw publish of A goes through
/// the same connection, with Lantern's credentials.
async fn open_ledger(nats: &NatsServer) -> Result<(async_nats::Client, Ledger), BoxError> {
    let config =
        lantern_ledger::NatsConfig::new(nats.url()).with_user(nats.user(), nats.password());
    let client = lantern_ledger::connect(&config).await?;
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

/// What the phases drive: the `lantern` binary measured, through one HTTP
/// client pool.
struct Driver {
    lantern: PathBuf,
    http: reqwest::Client,
}

impl Driver {
    async fn serve(&self, nats: &NatsServer, dir: &Path) -> Result<Serve, String> {
        Serve::start(&self.http, &self.lantern, nats, dir).await
    }
}

fn note(text: impl AsRef<str>) {
    eprintln!("bench: {}", text.as_ref());
}

/// Runs the bench against the binary `lantern`, prints the table and
/// writes the results to `args.out`.
pub async fn run(args: BenchArgs, lantern: PathBuf) -> Result<(), BoxError> {
    let started = Instant::now();
    let org = Org::new(args.hospitals, args.departments, args.months);
    let driver = Driver {
        lantern,
        http: load::http_client(args.concurrency),
    };

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
    let nats = NatsServer::start()?;
    let (client, ledger_a) = open_ledger(&nats).await?;
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
    let scratch_dir = scratch.path();
    let group = intake_phase(
        &driver,
        &org,
        items.clone(),
        light_items.clone(),
        args.concurrency,
        &scratch_dir.join("intake-group"),
        None,
    )
    .await?;
    let single = intake_phase(
        &driver,
        &org,
        items.clone(),
        light_items.clone(),
        args.concurrency,
        &scratch_dir.join("intake-single"),
        Some("1"),
    )
    .await?;
    drop(items);
    drop(raw);

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ms = |x: f64| round(x, 2);
    let per_event =
        |n: Option<u64>, events: u64| n.map(|n| round(n as f64 / events.max(1) as f64, 3));
    let vs_a = |b: &load::Run| round(b.per_s() / a.per_s().max(1e-9), 3);
    let history = if args.no_history {
        None
    } else {
        history(&args, &driver, &org, next).await?
    };
    let federation = if args.federation_hospitals == 0 {
        None
    } else {
        Some(federation(&args, next).await?)
    };
    let results = Results {
        raw_publish_per_s: round(a.per_s(), 0),
        raw_publish_p50_ms: ms(a.quantile(0.5)),
        raw_publish_p99_ms: ms(a.quantile(0.99)),
        raw_publish_light_p99_ms: ms(a_light.quantile(0.99)),
        raw_publish_cpu: a_cpu.figures(a.events, cores),
        raw_publish_fsyncs_per_event: per_event(a_fsyncs, a.events),
        intake_per_s: round(group.run.per_s(), 0),
        intake_p50_ms: ms(group.run.quantile(0.5)),
        intake_p99_ms: ms(group.run.quantile(0.99)),
        intake_light_p50_ms: ms(group.light.quantile(0.5)),
        intake_light_p99_ms: ms(group.light.quantile(0.99)),
        intake_errors: group.run.errors + group.light.errors,
        intake_fsyncs_per_event: per_event(group.fsyncs, group.run.events),
        intake_cpu: group.cpu.figures(group.run.events, cores),
        intake_peak_rss_mb: group.peak_rss_mb.map(|m| round(m, 1)),
        intake_vs_raw_publish: vs_a(&group.run),
        intake_single_per_s: round(single.run.per_s(), 0),
        intake_single_p50_ms: ms(single.run.quantile(0.5)),
        intake_single_p99_ms: ms(single.run.quantile(0.99)),
        intake_single_light_p50_ms: ms(single.light.quantile(0.5)),
        intake_single_light_p99_ms: ms(single.light.quantile(0.99)),
        intake_single_errors: single.run.errors + single.light.errors,
        intake_single_fsyncs_per_event: per_event(single.fsyncs, single.run.events),
        intake_single_cpu: single.cpu.figures(single.run.events, cores),
        intake_single_peak_rss_mb: single.peak_rss_mb.map(|m| round(m, 1)),
        intake_single_vs_raw_publish: vs_a(&single.run),
        intake_concurrency: args.concurrency,
        history,
        federation,
        machine: Machine {
            cores,
            cpu: cpu_model(),
            nats_server_version: version,
            sync_interval: lantern_ledger::local::SYNC_INTERVAL.to_owned(),
            storage: "file".to_owned(),
        },
        workload: Workload {
            events: args.events,
            concurrency: args.concurrency,
            hospitals: org.hospitals,
            departments: org.departments,
            months: org.months,
            regions: org.regions(),
            history: args.history.clone(),
            seed: args.seed,
            mix: "items: 50% report (200–1,500 Chinese characters), 20% census, 30% critical-value loop (detected, notified, acknowledged 70%, handled 90%)".to_owned(),
        },
        elapsed_s: round(started.elapsed().as_secs_f64(), 1),
    };

    crate::results::print_table(&results);
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&results)? + "\n")?;
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
    driver: &Driver,
    org: &Org,
    items: Arc<Vec<workload::Item>>,
    light: Arc<Vec<workload::Item>>,
    concurrency: usize,
    dir: &Path,
    group_commit: Option<&str>,
) -> Result<IntakePhase, BoxError> {
    let http = &driver.http;
    let name = if group_commit.is_some() {
        "single appends"
    } else {
        "group commit"
    };
    let nats = NatsServer::start()?;
    let env: Vec<(&str, &str)> = group_commit
        .map(|g| ("LANTERN_GROUP_COMMIT", g))
        .into_iter()
        .collect();
    let mut serve = Serve::start_with(http, &driver.lantern, &nats, dir, &env).await?;
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

/// C, D, E, F over a history loaded raw (as an import would); `None`
/// without history sizes.
async fn history(
    args: &BenchArgs,
    driver: &Driver,
    org: &Org,
    mut next: u64,
) -> Result<Option<History>, BoxError> {
    let mut sizes = args.history.clone();
    sizes.sort_unstable();
    sizes.dedup();
    let Some(&largest) = sizes.last() else {
        return Ok(None);
    };
    let http = &driver.http;
    let projectors = child::projectors(&driver.lantern).await?;
    let nats = NatsServer::start()?;
    let (client, ledger) = open_ledger(&nats).await?;
    let data = tempfile::Builder::new()
        .prefix("lantern-bench-")
        .tempdir()?;
    let serve_dir = data.path().join("serve");
    let mut serve = driver.serve(&nats, &serve_dir).await?;
    let tokens: Tokens = load::setup_org(http, &serve.base, ADMIN, org).await?;
    serve.caught_up(http, 0).await?;
    serve.stop();

    let mut query_p50 = ByName::<ByName<f64>>::new();
    let mut query_p99 = ByName::<ByName<f64>>::new();
    let mut catch_up = ByName::<f64>::new();
    let mut load_rate = ByName::<f64>::new();
    let mut rebuilt = None;
    let mut footprint_at_largest = None;
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

        if let Some(keep) = args.keep_history.as_deref().filter(|_| size == largest) {
            copy_tree(&nats.store_dir(), keep)?;
            note(format!("history kept in {}", keep.display()));
        }
        let mut serve = if size == largest {
            // The rebuilds write straight into the read models `serve`
            // opens, so it starts caught up (a catch-up of the whole history
            // would cost as much again).
            rebuilt = Some(
                rebuilds(
                    &ledger,
                    &driver.lantern,
                    &projectors,
                    &nats,
                    stored,
                    &serve_dir,
                )
                .await?,
            );
            let serve = driver.serve(&nats, &serve_dir).await?;
            serve.caught_up(http, stored).await?;
            serve
        } else {
            // Catch up a `lantern serve` with the new history.
            let t = Instant::now();
            let serve = driver.serve(&nats, &serve_dir).await?;
            let last = serve.caught_up(http, stored).await?;
            let secs = t.elapsed().as_secs_f64();
            catch_up.insert(label(size), round((stored - before) as f64 / secs, 0));
            note(format!("serve caught up with {last} events in {secs:.1} s"));
            serve
        };
        for by in [
            "department",
            "hospital",
            "region",
            "region_pack",
            "annual_report",
        ] {
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
            footprint_at_largest = Some(footprint(&serve, &ledger, &projectors).await?);
        }
        serve.stop();
    }
    // The rates queries' worst p99 (the pack and the report have their
    // own target, 50 ms, and are read from query_p99_ms by name).
    let max_at = |size: usize| {
        query_p99
            .iter()
            .filter(|(what, _)| ["department", "hospital", "region"].contains(&what.as_str()))
            .map(|(_, m)| m)
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
    let query_p99_ms_1m_max = max_at(at);
    drop(ledger);
    drop(client);
    drop(nats);
    // The largest size is one of `sizes`: both were measured in its round.
    let (Some(rebuilds), Some(footprint)) = (rebuilt, footprint_at_largest) else {
        return Err("the largest history was not measured".into());
    };
    Ok(Some(History {
        query_p50_ms: query_p50,
        query_p99_ms: query_p99,
        query_p99_ms_1m_max,
        query_p99_ms_1m_max_events: at,
        query_months: 12,
        catch_up_per_s: catch_up,
        history_load_per_s: load_rate,
        rebuilds,
        footprint,
    }))
}

/// C and D: the raw read and every projector's rebuild over the stream.
async fn rebuilds(
    ledger: &Ledger,
    lantern: &Path,
    projectors: &[String],
    nats: &NatsServer,
    last: u64,
    dir: &Path,
) -> Result<Rebuilds, BoxError> {
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
    for name in projectors {
        let path = dir.join(format!("{name}.sled"));
        // In a process of its own, as an operator runs it, timed from
        // spawn to exit: the figure is the command's, not a function's in a
        // process that has just loaded the history and read it twice.
        let t = Instant::now();
        child::rebuild(lantern, nats, name, &path).await?;
        let per_s = last as f64 / t.elapsed().as_secs_f64();
        note(format!(
            "D rebuild {name}: {per_s:.0} events/s (D/C {:.2})",
            per_s / c.per_s()
        ));
        rebuild.insert(name.clone(), round(per_s, 0));
        ratio.insert(name.clone(), round(per_s / c.per_s().max(1e-9), 3));
        sizes.insert(name.clone(), disk_bytes(&path));
    }
    let rebuild_vs_raw_read_min = ratio.values().copied().fold(f64::INFINITY, f64::min);
    Ok(Rebuilds {
        raw_read_per_s: round(c.per_s(), 0),
        rebuild_events: last,
        rebuild_per_s: rebuild,
        rebuild_vs_raw_read: ratio,
        rebuild_vs_raw_read_min,
        rebuild_sled_bytes: sizes,
    })
}

/// G: a region's hub coming back from an outage during which each of
/// `args.federation_hospitals` hospitals filed `args.federation_rate`
/// events/s on its own leaf nats-server; timed from the hub's stream
/// gaining its sources (what a link does) to its holding every event, and
/// set against a raw read of the hub's stream (C on the hub).
async fn federation(args: &BenchArgs, next: u64) -> Result<Federation, BoxError> {
    let n = args.federation_hospitals;
    let org = Org::new(n, args.departments, args.months);
    let wanted = n * args.federation_rate * args.federation_outage_s;
    let hub = NatsServer::start_hub("r01")?;
    let mut by_hospital: BTreeMap<String, Vec<load::Msg>> = BTreeMap::new();
    let (items, _) = workload::items(&org, args.seed, next, wanted);
    for e in items.iter().flat_map(|i| i.raw(&org)) {
        by_hospital
            .entry(e.hospital.clone())
            .or_default()
            .push(load::seal(&e, false));
    }
    drop(items);
    let t = Instant::now();
    let mut leaves = Vec::new();
    let mut sources = Vec::new();
    let mut events = 0u64;
    for (hospital, msgs) in by_hospital {
        let domain = hospital.to_lowercase();
        let leaf = NatsServer::start_leaf(&domain, &hub)?;
        let (client, ledger) = open_ledger(&leaf).await?;
        events += msgs.len() as u64;
        load::load_batches(&client, msgs, 500, 8).await?;
        drop(ledger);
        sources.push(lantern_ledger::federation::hospital_source(
            &hospital, &domain,
        ));
        leaves.push(leaf);
    }
    note(format!(
        "G: {events} events filed at {n} hospitals in {:.1} s",
        t.elapsed().as_secs_f64()
    ));
    let (_hub_client, hub_ledger) = open_ledger(&hub).await?;
    let t = Instant::now();
    hub_ledger.add_sources(&sources).await?;
    // Generous: sourcing over leaf connections is slow to start, never a
    // failure of the bench unless nothing moves for minutes.
    let mut last = 0;
    let mut moved = Instant::now();
    while last < events {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = hub_ledger.last_sequence().await?;
        if now > last {
            last = now;
            moved = Instant::now();
        } else if moved.elapsed() > Duration::from_secs(300) {
            return Err(format!("G: the hub stopped at {last} of {events} events").into());
        }
    }
    let catch_up_s = t.elapsed().as_secs_f64();
    let sourcing_per_s = events as f64 / catch_up_s;
    let stream = hub_ledger
        .jetstream()
        .get_stream(lantern_ledger::STREAM)
        .await?;
    load::raw_read(&stream, events).await?;
    let c = load::raw_read(&stream, events).await?;
    note(format!(
        "G hub sourcing: {sourcing_per_s:.0} events/s ({events} events in {catch_up_s:.1} s), hub raw read {:.0} events/s",
        c.per_s()
    ));
    drop(leaves);
    Ok(Federation {
        hospitals: n,
        outage_s: args.federation_outage_s,
        per_hospital_per_s: args.federation_rate,
        events,
        catch_up_s: round(catch_up_s, 1),
        sourcing_per_s: round(sourcing_per_s, 0),
        hub_raw_read_per_s: round(c.per_s(), 0),
        sourcing_vs_raw_read: round(sourcing_per_s / c.per_s().max(1e-9), 3),
    })
}

/// Copies the directory tree `from` into `to` (created), file by file.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// F: peak RSS of the serving process, disk per projector, stream bytes.
async fn footprint(
    serve: &Serve,
    ledger: &Ledger,
    projectors: &[String],
) -> Result<Footprint, BoxError> {
    let sled_bytes = projectors
        .iter()
        .map(|name| {
            let path = serve.data_dir.join(format!("{name}.sled"));
            (name.clone(), disk_bytes(&path))
        })
        .collect();
    let info = ledger
        .jetstream()
        .get_stream(lantern_ledger::STREAM)
        .await?
        .info()
        .await?
        .state
        .clone();
    Ok(Footprint {
        peak_rss_mb: serve.peak_rss_mb().map(|m| round(m, 1)),
        rss_mb: serve.rss_mb().map(|m| round(m, 1)),
        sled_bytes,
        stream_events: info.messages,
        stream_bytes: info.bytes,
        stream_bytes_per_event: round(info.bytes as f64 / info.messages.max(1) as f64, 0),
    })
}

/// The CPU's model name, for the record of where a run ran.
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
