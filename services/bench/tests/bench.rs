//! `lantern-bench` end to end at a tiny size against the `lantern` binary:
//! every phase runs and the JSON has every key other tools read, with sane
//! values. No timing is asserted: a benchmark prints figures, it does not
//! fail because a machine is slow. Needs a nats-server (`NATS_SERVER_BIN`,
//! as `make test` sets it).

// A test panics on a broken expectation by design: it may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::Value;

/// The `lantern` binary beside this package's `lantern-bench`: Cargo builds
/// both into one target directory, but a test can only ask for its own
/// package's binaries, so `lantern` must have been built (`make test` builds
/// every binary of the workspace before it runs any test).
fn lantern_bin() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_lantern-bench")).with_file_name("lantern");
    assert!(
        path.is_file(),
        "no lantern binary at {}: build it first (`cargo build -p lantern`, \
         or `cargo test --workspace --all-targets` as `make test` runs)",
        path.display()
    );
    path
}

#[test]
fn bench_runs_end_to_end_and_writes_every_key() {
    let lantern = lantern_bin();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.json");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_lantern-bench"))
        .arg("--lantern")
        .arg(&lantern)
        .args([
            "--events",
            "500",
            "--history",
            "600,1200",
            "--concurrency",
            "16",
            "--light",
            "10",
            "--queries",
            "5",
            "--hospitals",
            "21",
            "--departments",
            "3",
            "--federation-hospitals",
            "3",
            "--federation-outage-s",
            "2",
            "--federation-rate",
            "50",
            "--out",
        ])
        .arg(&out)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run lantern-bench");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "lantern-bench failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("| figure"), "no table printed:\n{stdout}");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let positive = |key: &str| {
        let v = r[key].as_f64().unwrap_or(0.0);
        assert!(v > 0.0, "{key} = {} in {r:#}", r[key]);
    };
    for key in [
        "raw_publish_per_s",
        "intake_per_s",
        "intake_vs_raw_publish",
        "intake_single_per_s",
        "intake_single_vs_raw_publish",
        "raw_read_per_s",
        "rebuild_vs_raw_read_min",
        "query_p99_ms_1m_max",
        "peak_rss_mb",
        "stream_bytes_per_event",
    ] {
        positive(key);
    }
    assert_eq!(r["intake_errors"], 0, "{r:#}");
    assert_eq!(r["intake_single_errors"], 0, "{r:#}");
    let projectors = r["rebuild_per_s"].as_object().unwrap();
    for name in [
        "directory",
        "reports",
        "critical_values",
        "rates",
        "rca",
        "mortality",
    ] {
        assert!(projectors[name].as_f64().unwrap() > 0.0, "{name}: {r:#}");
        assert!(
            r["sled_bytes"][name].as_f64().unwrap() > 0.0,
            "{name}: {r:#}"
        );
    }
    for by in ["department", "hospital", "region"] {
        for size in ["600", "1200"] {
            assert!(
                r["query_p99_ms"][by][size].as_f64().unwrap() > 0.0,
                "{by} @{size}: {r:#}"
            );
        }
    }
    // The CPU each event cost, per process, in A and in both B phases.
    for (phase, processes) in [
        ("raw_publish_cpu", &["nats_server", "bench"][..]),
        ("intake_cpu", &["serve", "nats_server", "bench"][..]),
        ("intake_single_cpu", &["serve", "nats_server", "bench"][..]),
    ] {
        let c = &r[phase];
        for p in processes {
            assert!(
                c["cpu_ms_per_event"][p]
                    .as_f64()
                    .is_some_and(|ms| ms >= 0.0),
                "{phase}.{p}: {c:#}"
            );
        }
        assert!(
            c["cpu_ms_per_event"]["total"].as_f64().unwrap() > 0.0,
            "{c:#}"
        );
        assert!(
            c["cpu_bound_ceiling_per_s"].as_f64().unwrap() > 0.0,
            "{c:#}"
        );
        let busy = c["machine_busy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&busy), "{phase}: {c:#}");
    }
    // G: three hospitals on leaf nodes, every event they held at the hub.
    let g = &r["federation"];
    assert_eq!(g["hospitals"], 3, "{g:#}");
    assert!(g["events"].as_u64().unwrap() >= 300, "{g:#}");
    for key in [
        "sourcing_per_s",
        "hub_raw_read_per_s",
        "sourcing_vs_raw_read",
    ] {
        assert!(g[key].as_f64().unwrap() > 0.0, "{key}: {g:#}");
    }
    let m = &r["machine"];
    assert!(m["cores"].as_u64().unwrap() >= 1);
    assert!(!m["nats_server_version"].as_str().unwrap().is_empty());
    assert_eq!(m["sync_interval"], "always");
}

/// Without a `lantern` to drive, the bench stops at once and says how to
/// get one, before it starts any server.
#[test]
fn a_missing_lantern_binary_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("lantern");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_lantern-bench"))
        .arg("--lantern")
        .arg(&missing)
        .env_remove("LANTERN_BIN")
        .output()
        .expect("run lantern-bench");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        stderr.contains("no lantern binary at") && stderr.contains("--lantern"),
        "{stderr}"
    );
}
