//! What a run measured, as `results.json` holds it, and the table printed
//! from it.
//!
//! The field names are the JSON keys that docs/performance.md, the e2e test
//! and earlier results files use: renaming a field renames a key, so don't.
//! Keys that only some runs have are `Option`s skipped when absent (the
//! history phases under `--no-history`); an `Option` written as `null` is a
//! figure the machine could not give (perf or procfs missing).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Figures by name (projector, history size label, process …).
pub type ByName<T> = BTreeMap<String, T>;

/// A whole run.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Results {
    /// A: events/s of raw JetStream publishes.
    pub raw_publish_per_s: f64,
    pub raw_publish_p50_ms: f64,
    pub raw_publish_p99_ms: f64,
    /// p99 of single raw publishes, one at a time.
    pub raw_publish_light_p99_ms: f64,
    pub raw_publish_cpu: Cpu,
    /// nats-server fsync + fdatasync calls per event; `null` without perf.
    pub raw_publish_fsyncs_per_event: Option<f64>,

    // B with group commit (the default configuration) carries the plain
    // `intake_` keys, B with single appends `intake_single_`.
    pub intake_per_s: f64,
    pub intake_p50_ms: f64,
    pub intake_p99_ms: f64,
    pub intake_light_p50_ms: f64,
    pub intake_light_p99_ms: f64,
    pub intake_errors: u64,
    pub intake_fsyncs_per_event: Option<f64>,
    pub intake_cpu: Cpu,
    pub intake_peak_rss_mb: Option<f64>,
    /// B/A.
    pub intake_vs_raw_publish: f64,
    pub intake_single_per_s: f64,
    pub intake_single_p50_ms: f64,
    pub intake_single_p99_ms: f64,
    pub intake_single_light_p50_ms: f64,
    pub intake_single_light_p99_ms: f64,
    pub intake_single_errors: u64,
    pub intake_single_fsyncs_per_event: Option<f64>,
    pub intake_single_cpu: Cpu,
    pub intake_single_peak_rss_mb: Option<f64>,
    pub intake_single_vs_raw_publish: f64,
    /// HTTP clients of B.
    pub intake_concurrency: usize,

    /// C, D, E, F; absent under `--no-history`.
    #[serde(flatten)]
    pub history: Option<History>,
    /// G: a region's hub sourcing its hospitals' streams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federation: Option<Federation>,

    pub machine: Machine,
    pub workload: Workload,
    /// Wall time of the whole run.
    pub elapsed_s: f64,
}

/// CPU used over a phase (A, each B), per event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Cpu {
    /// Milliseconds of CPU per event, per process and `total`.
    pub cpu_ms_per_event: ByName<f64>,
    /// Events/s the measured processes could sustain on all the cores.
    pub cpu_bound_ceiling_per_s: Option<f64>,
    /// The same without the bench's own clients (in production, phones).
    pub cpu_bound_ceiling_without_bench_per_s: Option<f64>,
    /// Busy and stolen shares of all cores' time, 0–1.
    pub machine_busy: Option<f64>,
    pub machine_steal: Option<f64>,
    pub wall_s: f64,
}

/// C, D, E and F, over a history loaded raw.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct History {
    /// E: p50 and p99 of a rates query, by grain, then history size label.
    pub query_p50_ms: ByName<ByName<f64>>,
    pub query_p99_ms: ByName<ByName<f64>>,
    /// The largest p99 of any grain at 1 M events (at the largest history
    /// when there is no 1 M), and that history's size.
    pub query_p99_ms_1m_max: f64,
    pub query_p99_ms_1m_max_events: usize,
    /// Months a query spans.
    pub query_months: usize,
    /// Events/s of a `lantern serve` catching up, by history size label
    /// (every size but the largest, which is rebuilt).
    pub catch_up_per_s: ByName<f64>,
    /// Events/s of the raw history load, by history size label.
    pub history_load_per_s: ByName<f64>,
    #[serde(flatten)]
    pub rebuilds: Rebuilds,
    #[serde(flatten)]
    pub footprint: Footprint,
}

/// G: a region's hub catching up with its hospitals after an outage, each
/// hospital's stream on its own leaf nats-server in its own JetStream
/// domain, the hub's stream sourcing them all.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Federation {
    /// Hospitals (leaf nodes) feeding the hub.
    pub hospitals: usize,
    /// Seconds of the outage simulated, and events/s each hospital filed
    /// during it.
    pub outage_s: usize,
    pub per_hospital_per_s: usize,
    /// Events the hospitals held when the hub came back.
    pub events: u64,
    /// Seconds until the hub's stream held every one.
    pub catch_up_s: f64,
    /// Events/s the hub stored them at.
    pub sourcing_per_s: f64,
    /// C on the hub: an ordered consumer over what it stored.
    pub hub_raw_read_per_s: f64,
    /// The target's ratio: sourcing ÷ the hub's raw read.
    pub sourcing_vs_raw_read: f64,
}

/// C and D at the largest history.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Rebuilds {
    /// C: events/s of an ordered consumer over the stream.
    pub raw_read_per_s: f64,
    /// Events in the stream rebuilt.
    pub rebuild_events: u64,
    /// D: events/s per projector.
    pub rebuild_per_s: ByName<f64>,
    /// D/C per projector, and the smallest.
    pub rebuild_vs_raw_read: ByName<f64>,
    pub rebuild_vs_raw_read_min: f64,
    /// Disk a rebuilt read model takes, per projector.
    pub rebuild_sled_bytes: ByName<u64>,
}

/// F: `lantern serve` with the largest history projected and queried.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Footprint {
    pub peak_rss_mb: Option<f64>,
    pub rss_mb: Option<f64>,
    /// Disk per projector's read model.
    pub sled_bytes: ByName<u64>,
    pub stream_events: u64,
    pub stream_bytes: u64,
    pub stream_bytes_per_event: f64,
}

/// Where the run ran.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Machine {
    pub cores: usize,
    /// Model name from /proc/cpuinfo.
    pub cpu: String,
    pub nats_server_version: String,
    pub sync_interval: String,
    pub storage: String,
}

/// The knobs of the run and the event mix.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Workload {
    pub events: usize,
    pub concurrency: usize,
    pub hospitals: usize,
    pub departments: usize,
    pub months: usize,
    pub regions: usize,
    pub history: Vec<usize>,
    pub seed: u64,
    pub mix: String,
}

/// `x` rounded to `digits` decimals: the figures are noisy well above
/// the last digits kept.
pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// A figure as `results.json` writes it (`1.0`, `null`), so the table and
/// the file read alike.
fn json<T: Serialize>(x: &T) -> String {
    serde_json::to_string(x).unwrap_or_default()
}

/// A rate with thousands separators; `–` where there is none.
fn num(x: impl Into<Option<f64>>) -> String {
    match x.into() {
        Some(x) if x >= 1000.0 => group(x.round() as u64),
        Some(x) => format!("{x}"),
        None => "–".to_owned(),
    }
}

type Row = (String, String, String, String);

/// Prints the results as one table.
pub fn print_table(r: &Results) {
    let mut rows: Vec<Row> = Vec::new();
    let mut row = |a: &str, b: String, c: String, d: &str| {
        rows.push((a.to_owned(), b, c, d.to_owned()));
    };
    row(
        "A raw publish (events/s)",
        num(r.raw_publish_per_s),
        format!(
            "p50 {} / p99 {} ms",
            json(&r.raw_publish_p50_ms),
            json(&r.raw_publish_p99_ms)
        ),
        "anchor",
    );
    row(
        "B intake, group commit (events/s)",
        num(r.intake_per_s),
        format!("B/A {}", json(&r.intake_vs_raw_publish)),
        "B/A ≥ 0.8; B ≥ 5 × A",
    );
    row(
        "B intake, single appends (events/s)",
        num(r.intake_single_per_s),
        format!("B/A {}", json(&r.intake_single_vs_raw_publish)),
        "B/A ≥ 0.8",
    );
    row(
        "  B latency under load, group",
        format!("p50 {} ms", json(&r.intake_p50_ms)),
        format!("p99 {} ms", json(&r.intake_p99_ms)),
        "",
    );
    row(
        "  B latency under load, single",
        format!("p50 {} ms", json(&r.intake_single_p50_ms)),
        format!("p99 {} ms", json(&r.intake_single_p99_ms)),
        "",
    );
    row(
        "  one report, light load, group",
        format!("p99 {} ms", json(&r.intake_light_p99_ms)),
        format!("single p99 {} ms", json(&r.intake_single_light_p99_ms)),
        "no worse with batching",
    );
    row(
        "  one raw publish, light load",
        format!("p99 {} ms", json(&r.raw_publish_light_p99_ms)),
        String::new(),
        "",
    );
    row(
        "  server fsyncs per event",
        format!("group {}", json(&r.intake_fsyncs_per_event)),
        format!(
            "single {} / raw {}",
            json(&r.intake_single_fsyncs_per_event),
            json(&r.raw_publish_fsyncs_per_event)
        ),
        "",
    );
    for (label, c) in [
        ("  CPU ms per event, raw", &r.raw_publish_cpu),
        ("  CPU ms per event, group", &r.intake_cpu),
        ("  CPU ms per event, single", &r.intake_single_cpu),
    ] {
        row(
            label,
            c.cpu_ms_per_event
                .iter()
                .map(|(name, v)| format!("{name} {}", json(v)))
                .collect::<Vec<_>>()
                .join(" / "),
            format!(
                "ceiling {} /s ({} without bench)",
                num(c.cpu_bound_ceiling_per_s),
                num(c.cpu_bound_ceiling_without_bench_per_s)
            ),
            &format!(
                "machine busy {}, steal {}",
                json(&c.machine_busy),
                json(&c.machine_steal)
            ),
        );
    }
    if let Some(h) = &r.history {
        let (d, f) = (&h.rebuilds, &h.footprint);
        row(
            "C raw read (events/s)",
            num(d.raw_read_per_s),
            format!("over {} events", d.rebuild_events),
            "anchor",
        );
        for (name, v) in &d.rebuild_per_s {
            row(
                &format!("D rebuild {name} (events/s)"),
                num(*v),
                format!("D/C {}", json(&d.rebuild_vs_raw_read.get(name))),
                "D/C ≥ 0.5",
            );
        }
        for (size, v) in &h.catch_up_per_s {
            row(
                &format!("  serve catch-up @{size} (events/s)"),
                num(*v),
                "all projectors at once".into(),
                "",
            );
        }
        for (by, sizes) in &h.query_p99_ms {
            for (size, p99) in sizes {
                let p50 = h.query_p50_ms.get(by).and_then(|m| m.get(size));
                // The pack and the annual report are documents: 50 ms.
                let (name, target) = match by.as_str() {
                    "region_pack" => ("E region pack".to_owned(), "p99 < 50 ms @1m"),
                    "annual_report" => ("E annual report".to_owned(), "p99 < 50 ms @1m"),
                    _ => (format!("E rates by {by}"), "p99 < 10 ms @1m"),
                };
                row(
                    &format!("{name} @{size}"),
                    format!("p50 {} ms", json(&p50)),
                    format!("p99 {} ms", json(p99)),
                    target,
                );
            }
        }
        row(
            "F peak RSS of serve (MB)",
            num(f.peak_rss_mb),
            format!("with {} events projected", f.stream_events),
            "< 150 MB @1m",
        );
        for (name, v) in &f.sled_bytes {
            row(
                &format!("F sled {name} (MB)"),
                format!("{:.1}", *v as f64 / 1048576.0),
                String::new(),
                "",
            );
        }
        row(
            "F stream bytes per event",
            num(f.stream_bytes_per_event),
            String::new(),
            "",
        );
    }
    if let Some(g) = &r.federation {
        row(
            "G hub sourcing after an outage (events/s)",
            num(g.sourcing_per_s),
            format!(
                "G/C {} ({} events of {} hospitals, {} s)",
                json(&g.sourcing_vs_raw_read),
                group(g.events),
                g.hospitals,
                json(&g.catch_up_s)
            ),
            "≥ 0.5 × C",
        );
        row(
            "G hub raw read (events/s)",
            num(g.hub_raw_read_per_s),
            String::new(),
            "",
        );
    }
    let w = |f: fn(&Row) -> &String| rows.iter().map(|r| f(r).chars().count()).max().unwrap_or(0);
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
    let m = &r.machine;
    println!(
        "\nmachine: {} cores ({}), nats-server {}, sync_interval {}; {} s",
        m.cores,
        m.cpu,
        m.nats_server_version,
        m.sync_interval,
        json(&r.elapsed_s)
    );
}

/// `1234567` as `1,234,567`.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu() -> Cpu {
        Cpu {
            cpu_ms_per_event: BTreeMap::from([("total".to_owned(), 0.5)]),
            cpu_bound_ceiling_per_s: Some(4000.0),
            cpu_bound_ceiling_without_bench_per_s: None,
            machine_busy: Some(0.9),
            machine_steal: Some(0.0),
            wall_s: 1.5,
        }
    }

    fn results(history: Option<History>) -> Results {
        Results {
            raw_publish_per_s: 4271.0,
            raw_publish_p50_ms: 1.0,
            raw_publish_p99_ms: 2.5,
            raw_publish_light_p99_ms: 0.9,
            raw_publish_cpu: cpu(),
            raw_publish_fsyncs_per_event: None,
            intake_per_s: 3777.0,
            intake_p50_ms: 1.1,
            intake_p99_ms: 9.0,
            intake_light_p50_ms: 1.3,
            intake_light_p99_ms: 2.6,
            intake_errors: 0,
            intake_fsyncs_per_event: Some(0.061),
            intake_cpu: cpu(),
            intake_peak_rss_mb: Some(80.0),
            intake_vs_raw_publish: 0.884,
            intake_single_per_s: 2221.0,
            intake_single_p50_ms: 1.2,
            intake_single_p99_ms: 10.0,
            intake_single_light_p50_ms: 1.3,
            intake_single_light_p99_ms: 2.5,
            intake_single_errors: 0,
            intake_single_fsyncs_per_event: None,
            intake_single_cpu: cpu(),
            intake_single_peak_rss_mb: None,
            intake_single_vs_raw_publish: 0.52,
            intake_concurrency: 256,
            history,
            federation: Some(Federation {
                hospitals: 20,
                outage_s: 600,
                per_hospital_per_s: 50,
                events: 600_000,
                catch_up_s: 20.0,
                sourcing_per_s: 30_000.0,
                hub_raw_read_per_s: 150_000.0,
                sourcing_vs_raw_read: 0.2,
            }),
            machine: Machine {
                cores: 2,
                cpu: "x".into(),
                nats_server_version: "2.12.0".into(),
                sync_interval: "always".into(),
                storage: "file".into(),
            },
            workload: Workload {
                events: 20000,
                concurrency: 256,
                hospitals: 200,
                departments: 20,
                months: 24,
                regions: 10,
                history: vec![100_000],
                seed: 7,
                mix: "m".into(),
            },
            elapsed_s: 130.3,
        }
    }

    fn history() -> History {
        let by_size = BTreeMap::from([("100k".to_owned(), 3.5)]);
        History {
            query_p50_ms: BTreeMap::from([("region".to_owned(), by_size.clone())]),
            query_p99_ms: BTreeMap::from([("region".to_owned(), by_size)]),
            query_p99_ms_1m_max: 3.5,
            query_p99_ms_1m_max_events: 100_000,
            query_months: 12,
            catch_up_per_s: BTreeMap::new(),
            history_load_per_s: BTreeMap::from([("100k".to_owned(), 9000.0)]),
            rebuilds: Rebuilds {
                raw_read_per_s: 159822.0,
                rebuild_events: 100_000,
                rebuild_per_s: BTreeMap::from([("rates".to_owned(), 94063.0)]),
                rebuild_vs_raw_read: BTreeMap::from([("rates".to_owned(), 0.589)]),
                rebuild_vs_raw_read_min: 0.589,
                rebuild_sled_bytes: BTreeMap::from([("rates".to_owned(), 4096)]),
            },
            footprint: Footprint {
                peak_rss_mb: Some(115.7),
                rss_mb: None,
                sled_bytes: BTreeMap::from([("rates".to_owned(), 8192)]),
                stream_events: 100_000,
                stream_bytes: 144_800_000,
                stream_bytes_per_event: 1448.0,
            },
        }
    }

    /// The history's keys sit at the top level, as they always have, and a
    /// file reads back into the same figures.
    #[test]
    fn results_keep_their_flat_keys_and_read_back() {
        let r = results(Some(history()));
        let v = serde_json::to_value(&r).unwrap();
        for key in [
            "raw_publish_per_s",
            "intake_vs_raw_publish",
            "intake_single_vs_raw_publish",
            "raw_read_per_s",
            "rebuild_vs_raw_read_min",
            "query_p99_ms_1m_max",
            "peak_rss_mb",
            "sled_bytes",
            "stream_bytes_per_event",
        ] {
            assert!(v.get(key).is_some(), "{key} missing: {v:#}");
        }
        assert_eq!(v["intake_errors"], 0);
        assert_eq!(v["raw_publish_fsyncs_per_event"], serde_json::Value::Null);
        assert_eq!(v["query_p99_ms"]["region"]["100k"], 3.5);
        assert_eq!(v["intake_cpu"]["cpu_ms_per_event"]["total"], 0.5);
        let text = serde_json::to_string_pretty(&r).unwrap();
        assert_eq!(serde_json::from_str::<Results>(&text).unwrap(), r);
    }

    /// Under `--no-history` the history's keys are absent, not `null`.
    #[test]
    fn a_run_without_history_has_none_of_its_keys() {
        let r = results(None);
        let v = serde_json::to_value(&r).unwrap();
        assert!(v.get("raw_read_per_s").is_none() && v.get("query_p99_ms").is_none());
        assert_eq!(serde_json::from_value::<Results>(v).unwrap(), r);
    }

    #[test]
    fn figures_print_as_the_file_has_them() {
        assert_eq!(json(&1.0f64), "1.0");
        assert_eq!(json(&None::<f64>), "null");
        assert_eq!(num(1234567.4), "1,234,567");
        assert_eq!(num(999.5), "999.5");
        assert_eq!(num(None), "–");
        assert_eq!(round(0.12345, 3), 0.123);
    }
}
