//! A 3-node JetStream cluster from the shipped `deploy/nats/cluster-*.conf`
//! (the test kit's `NatsCluster`) under `lantern serve` with
//! `LANTERN_STREAM_REPLICAS=3` and `NATS_URL` listing the three nodes, as
//! the configs' comments tell an operator (DESIGN "Deployment tiers", issue
//! 27): the stream's leader SIGKILLed twice under load loses nothing and
//! doubles nothing, and Lantern starts and serves with the first node of
//! its list down.
//!
//! The load test is heavy (a minute or two here): `make test-cluster` runs
//! it (`--include-ignored`), and CI after `make test`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use lantern_testkit::NatsCluster;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ADMIN, lantern_bin};

/// Every wait of these tests: failover costs seconds of 503s (TECH-NOTES),
/// a busy machine more.
const WITHIN: Duration = Duration::from_secs(60);

/// `lantern serve` on the cluster, with its own data dir and ports.
struct Serve {
    base: String,
    port: u16,
    ops_port: u16,
    data: tempfile::TempDir,
    log: PathBuf,
    child: Option<Child>,
    http: reqwest::Client,
    /// `NATS_URL` (the three nodes, first to last), user and password.
    nats: [(&'static str, String); 3],
}

impl Serve {
    fn new(cluster: &NatsCluster) -> Serve {
        let data = tempfile::Builder::new()
            .prefix("lantern-cluster-e2e-")
            .tempdir()
            .unwrap();
        let port = lantern_testkit::free_port();
        Serve {
            base: format!("http://127.0.0.1:{port}"),
            port,
            ops_port: lantern_testkit::free_port(),
            log: data.path().join("lantern.log"),
            data,
            child: None,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            nats: cluster.env(),
        }
    }

    /// A `lantern` command on the cluster, asking for three replicas;
    /// without per-client limits, as every request here comes from
    /// 127.0.0.1.
    fn command(&self) -> Command {
        let mut c = Command::new(lantern_bin());
        c.envs(self.nats.iter().map(|(k, v)| (k, v)))
            .env("LANTERN_STREAM_REPLICAS", "3")
            .env("LANTERN_RATE_LIMITS", "off")
            .env("LANTERN_DATA_DIR", self.data.path().join("var"))
            .env("LANTERN_HTTP_ADDR", format!("127.0.0.1:{}", self.port))
            .env("LANTERN_OPS_ADDR", format!("127.0.0.1:{}", self.ops_port))
            .env("LANTERN_ADMIN_TOKEN", ADMIN)
            .env("RUST_LOG", "info");
        c
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Starts `lantern serve` and waits until `/readyz` is 200.
    async fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = self
            .command()
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn lantern serve");
        self.child = Some(child);
        let deadline = Instant::now() + WITHIN;
        loop {
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!(
                    "lantern serve with {:?} exited with {status}:\n{}",
                    self.nats[0],
                    self.log_text()
                );
            }
            if let Ok(r) = self.http.get(format!("{}/readyz", self.base)).send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "lantern serve not ready in {WITHIN:?}:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops it gracefully (SIGTERM) and waits.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let mut r = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    /// Registers H1 with an ICU; returns its safety officer's token.
    async fn hospital_and_officer(&self) -> String {
        let (s, b) = self
            .post(
                "/api/v1/admin/hospitals",
                Some(ADMIN),
                &json!({"code": "H1", "name": "H1 医院", "region": "R1", "level": "tertiary"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = self
            .post(
                "/api/v1/admin/hospitals/H1/departments",
                Some(ADMIN),
                &json!({"code": "ICU", "name": "ICU 科"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = self
            .post(
                "/api/v1/admin/tokens",
                Some(ADMIN),
                &json!({"role": "safety_officer", "hospital": "H1"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        b["token"].as_str().unwrap().to_owned()
    }

    /// H1's report count in the rates, once the read model has applied
    /// `after` (`?after=`; a 503 while it has not is asked again).
    async fn reports_in_rates(&self, officer: &str, after: u64) -> u64 {
        let deadline = Instant::now() + WITHIN;
        loop {
            let r = self
                .http
                .get(format!(
                    "{}/api/v1/rates?from=2020-01&to=2029-12&by=hospital&hospital=H1&after={after}",
                    self.base
                ))
                .bearer_auth(officer)
                .send()
                .await;
            if let Ok(r) = r {
                let status = r.status();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                match status.as_u16() {
                    200 => return body["rows"][0]["reports"].as_u64().unwrap(),
                    503 => {}
                    other => panic!("rates answered {other}: {body}"),
                }
            }
            assert!(
                Instant::now() < deadline,
                "the rates never applied seq {after} within {WITHIN:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn report(i: u64) -> Value {
    let (grade, harm) = [
        ("II", "moderate"),
        ("III", "none"),
        ("IV", "not_applicable"),
    ][(i % 3) as usize];
    json!({"hospital": "H1", "department": "ICU", "occurred_at": "2026-01-05T08:00:00+08:00",
           "grade": grade, "category": "medication", "harm": harm, "description": format!("cluster report {i}")})
}

/// What the clients met on their way to a 201.
#[derive(Default)]
struct Seen {
    acknowledged: AtomicU64,
    unavailable: AtomicU64,
    in_flight: AtomicU64,
    no_answer: AtomicU64,
}

/// Files `report(i)` under one Idempotency-Key until it is acknowledged,
/// as a reporter's form does: again on 503 (problem+json with
/// Retry-After), on 409 with Retry-After (its own earlier try, timed out
/// here, still in flight there) and on no answer at all. Anything else
/// fails the test. Returns the report id and its stream sequence.
async fn file_until_acknowledged(
    http: &reqwest::Client,
    base: &str,
    i: u64,
    seen: &Seen,
) -> (String, u64) {
    let key = format!("cluster-{i}");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        assert!(
            Instant::now() < deadline,
            "report {i} not acknowledged in 300 s"
        );
        match http
            .post(format!("{base}/api/v1/reports"))
            .header("Idempotency-Key", &key)
            .json(&report(i))
            .send()
            .await
        {
            Ok(r) if r.status() == StatusCode::CREATED => {
                let body: Value = r.json().await.unwrap();
                seen.acknowledged.fetch_add(1, Ordering::Relaxed);
                return (
                    body["report_id"].as_str().unwrap().to_owned(),
                    body["seq"].as_u64().unwrap(),
                );
            }
            Ok(r) => {
                let status = r.status().as_u16();
                let retry_after = r.headers().contains_key("retry-after");
                let problem = r
                    .headers()
                    .get("content-type")
                    .is_some_and(|v| v == "application/problem+json");
                let body = r.text().await.unwrap_or_default();
                match status {
                    503 if retry_after && problem => &seen.unavailable,
                    409 if retry_after && problem => &seen.in_flight,
                    _ => panic!(
                        "report {i}: {status} (Retry-After: {retry_after}) while the cluster fails over: {body}"
                    ),
                }
                .fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(_) => {
                seen.no_answer.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// The node leading `LANTERN` once it is not `gone`; panics after [`WITHIN`].
async fn leader_other_than(cluster: &NatsCluster, gone: Option<usize>) -> usize {
    let deadline = Instant::now() + WITHIN;
    loop {
        if let Some(leader) = cluster.stream_leader("LANTERN").await
            && Some(leader) != gone
        {
            return leader;
        }
        assert!(
            Instant::now() < deadline,
            "LANTERN has no leader but {gone:?} after {WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until every stream of Lantern's account (the event stream, the
/// sessions bucket, …) has a leader other than node `gone`.
async fn settled_without(cluster: &NatsCluster, gone: usize) {
    let client = cluster.client().await;
    let deadline = Instant::now() + WITHIN;
    let mut waiting = Vec::new();
    loop {
        if let Ok(answer) = client.request("$JS.API.STREAM.NAMES", "{}".into()).await {
            let names: Value = serde_json::from_slice(&answer.payload).unwrap_or_default();
            waiting.clear();
            for name in names["streams"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                match cluster.stream_leader(name).await {
                    Some(leader) if leader != gone => {}
                    _ => waiting.push(name.to_owned()),
                }
            }
            if waiting.is_empty() && names["streams"].as_array().is_some_and(|s| !s.is_empty()) {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "streams without a leader but node {gone} after {WITHIN:?}: {waiting:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until `more` reports beyond `from` are acknowledged: the load
/// goes on (through a failover).
async fn acknowledged_beyond(seen: &Seen, from: u64, more: u64, what: &str) -> u64 {
    let deadline = Instant::now() + WITHIN;
    loop {
        let now = seen.acknowledged.load(Ordering::Relaxed);
        if now >= from + more {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {} reports acknowledged in {WITHIN:?}, waited for {more}",
            now - from
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The stream: its replicas, and the report id of every `report.filed`.
async fn stream_reports(cluster: &NatsCluster) -> (usize, Vec<String>) {
    let js = jetstream::new(cluster.client().await);
    let mut stream = js.get_stream("LANTERN").await.unwrap();
    let info = stream.info().await.unwrap().clone();
    let mut filed = Vec::new();
    for seq in info.state.first_sequence..=info.state.last_sequence {
        let m = stream.get_raw_message(seq).await.unwrap();
        let e: Value = serde_json::from_slice(&m.payload).unwrap_or_default();
        if e["type"] == "report.filed" {
            filed.push(e["aggregate"].as_str().unwrap().to_owned());
        }
    }
    (info.config.num_replicas, filed)
}

#[tokio::test]
#[ignore = "heavy (a minute or two): make test-cluster"]
async fn the_stream_leader_killed_twice_under_load_loses_nothing_and_doubles_nothing() {
    let mut cluster = NatsCluster::start();
    let mut serve = Serve::new(&cluster);
    // No stream yet: serve creates it with three replicas.
    serve.start().await;
    let officer = serve.hospital_and_officer().await;
    let (replicas, _) = stream_reports(&cluster).await;
    assert_eq!(replicas, 3, "LANTERN is R3 on the cluster");

    const CLIENTS: u64 = 16;
    let seen = Arc::new(Seen::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (base, seen, stop) = (serve.base.clone(), seen.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let mut acknowledged = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                acknowledged
                    .push(file_until_acknowledged(&http, &base, c * 1_000_000 + n, &seen).await);
                n += 1;
            }
            acknowledged
        }));
    }

    // Twice: under load, the stream's leader is killed; another node takes
    // over and the load goes on on two nodes; the killed one comes back on
    // its store and catches up before the next kill.
    let mut progress = acknowledged_beyond(&seen, 0, 500, "before the first kill").await;
    let mut killed = Vec::new();
    for round in 1..=2 {
        let leader = leader_other_than(&cluster, None).await;
        cluster.kill(leader);
        killed.push(cluster.name(leader).to_owned());
        let next = leader_other_than(&cluster, Some(leader)).await;
        eprintln!(
            "round {round}: killed {} at {progress} acknowledged; {} leads",
            cluster.name(leader),
            cluster.name(next)
        );
        progress = acknowledged_beyond(
            &seen,
            progress,
            300,
            &format!("round {round}, leader killed"),
        )
        .await;
        cluster.restart(leader);
        progress =
            acknowledged_beyond(&seen, progress, 300, &format!("round {round}, restarted")).await;
    }
    stop.store(true, Ordering::Relaxed);

    let mut acknowledged = Vec::new();
    for c in clients {
        acknowledged.extend(c.await.unwrap());
    }
    let count = acknowledged.len() as u64;
    eprintln!(
        "{count} acknowledged; on the way {} × 503, {} × 409 in flight, {} × no answer; killed {killed:?}",
        seen.unavailable.load(Ordering::Relaxed),
        seen.in_flight.load(Ordering::Relaxed),
        seen.no_answer.load(Ordering::Relaxed),
    );
    let ids: BTreeSet<String> = acknowledged.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids.len() as u64, count, "one report per key");

    // Every acknowledged report is in the stream exactly once, and no
    // other report is.
    let (replicas, stored) = stream_reports(&cluster).await;
    assert_eq!(replicas, 3);
    let mut counts: BTreeMap<&String, u32> = BTreeMap::new();
    for id in &stored {
        *counts.entry(id).or_default() += 1;
    }
    let doubled: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "stored more than once: {doubled:?}");
    let stored: BTreeSet<String> = stored.into_iter().collect();
    let lost: Vec<_> = ids.difference(&stored).collect();
    let extra: Vec<_> = stored.difference(&ids).collect();
    assert!(
        lost.is_empty() && extra.is_empty(),
        "{} acknowledged but not stored: {lost:?}\n{} stored but not acknowledged: {extra:?}",
        lost.len(),
        extra.len()
    );

    // The rates count each acknowledged report once.
    let last = acknowledged.iter().map(|(_, seq)| *seq).max().unwrap();
    assert_eq!(serve.reports_in_rates(&officer, last).await, count);
    serve.stop();
}

#[tokio::test]
async fn a_nats_url_list_whose_first_node_is_down_still_serves() {
    let mut cluster = NatsCluster::start();
    let mut serve = Serve::new(&cluster);
    serve.start().await;
    let officer = serve.hospital_and_officer().await;
    serve.stop();

    // The first node of NATS_URL is down when Lantern starts (and the
    // others have taken over what it led).
    assert!(
        serve.nats[0]
            .1
            .starts_with(&format!("{},", cluster.node_url(0)))
    );
    cluster.kill(0);
    settled_without(&cluster, 0).await;
    serve.start().await;
    let seen = Seen::default();
    let (id, seq) = file_until_acknowledged(&serve.http, &serve.base, 1, &seen).await;
    assert_eq!(serve.reports_in_rates(&officer, seq).await, 1);
    let (replicas, stored) = stream_reports(&cluster).await;
    assert_eq!((replicas, stored), (3, vec![id]));
    serve.stop();
}
