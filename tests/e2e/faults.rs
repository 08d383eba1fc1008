//! Faults: the broker killed under load, Lantern itself killed (SIGKILL) over
//! and over under load. What was acknowledged is exactly what is stored and
//! projected, and every read model ends equal to a rebuild.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::support::Lantern;
use serde_json::{Value, json};

fn report(i: u64) -> Value {
    let (grade, harm) = [
        ("II", "moderate"),
        ("III", "none"),
        ("IV", "not_applicable"),
    ][(i % 3) as usize];
    json!({"hospital": "H1", "department": "ICU", "occurred_at": "2026-01-05T08:00:00+08:00",
           "grade": grade, "category": "medication", "harm": harm, "description": format!("report {i}")})
}

/// Files `report(i)` with one Idempotency-Key, retrying (as the form does)
/// until it gets a 201 or the deadline passes. Returns the report id.
async fn file_until_acknowledged(
    base: &str,
    i: u64,
    deadline: Instant,
    unavailable: &AtomicU64,
) -> String {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let key = format!("fault-{i}");
    loop {
        assert!(Instant::now() < deadline, "report {i} never acknowledged");
        match http
            .post(format!("{base}/api/v1/reports"))
            .header("Idempotency-Key", &key)
            .json(&report(i))
            .send()
            .await
        {
            Ok(r) if r.status() == 201 => {
                let body: Value = r.json().await.unwrap();
                return body["report_id"].as_str().unwrap().to_owned();
            }
            Ok(r) => {
                let status = r.status().as_u16();
                assert_eq!(
                    status, 503,
                    "only 503 while the store is away, got {status}"
                );
                assert_eq!(r.headers()["content-type"], "application/problem+json");
                assert!(r.headers().contains_key("retry-after"));
                unavailable.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            // The process itself is down (restarting): try again shortly.
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The report ids of every `report.filed` event in the stream.
async fn filed_in_stream(l: &Lantern) -> Vec<String> {
    l.stream_payloads()
        .await
        .iter()
        .filter_map(|p| serde_json::from_slice::<Value>(p).ok())
        .filter(|e| e["type"] == "report.filed")
        .map(|e| e["aggregate"].as_str().unwrap().to_owned())
        .collect()
}

async fn wait_caught_up(l: &Lantern) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (s, r) = l.get("/readyz", None).await;
        if s == 200
            && r["projectors"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["lag"] == 0)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "projectors did not catch up: {r}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn reports_counted(l: &Lantern, so: &str) -> u64 {
    let month = "2020-01";
    let (_, r) = l
        .get(
            &format!("/api/v1/rates?from={month}&to=2029-12&by=hospital&hospital=H1"),
            Some(so),
        )
        .await;
    r["rows"][0]["reports"].as_u64().unwrap()
}

fn assert_rebuild_equals_live(l: &Lantern) {
    for projector in l.run(&["projectors"]).lines() {
        let fresh = l.data.path().join(format!("rebuilt-{projector}"));
        l.run(&["rebuild", projector, "--into", fresh.to_str().unwrap()]);
        let live = l.run(&["export", projector]);
        let rebuilt = l.run(&["export", projector, "--from", fresh.to_str().unwrap()]);
        assert_eq!(live, rebuilt, "{projector}: live differs from a rebuild");
    }
}

#[tokio::test]
async fn a_broker_killed_under_load_loses_nothing_and_doubles_nothing() {
    // A load test: far more anonymous filings a minute than one client may make.
    let mut l = Lantern::start_with(&[("LANTERN_RATE_LIMITS", "off")]).await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let so = l.officer("H1").await;
    const CLIENTS: u64 = 8;
    const PER_CLIENT: u64 = 250;
    let acked = Arc::new(AtomicU64::new(0));
    let unavailable = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (base, acked, unavailable) = (l.base.clone(), acked.clone(), unavailable.clone());
        clients.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..PER_CLIENT {
                ids.push(
                    file_until_acknowledged(&base, c * PER_CLIENT + n, deadline, &unavailable)
                        .await,
                );
                acked.fetch_add(1, Ordering::Relaxed);
            }
            ids
        }));
    }
    // Kill the broker once a quarter of the reports are in.
    while acked.load(Ordering::Relaxed) < CLIENTS * PER_CLIENT / 4 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    l.nats.kill();
    // While it is down: a clear 503, and not ready. A 503 is "not
    // acknowledged", not "not stored": a write the client library had
    // already buffered may reach the broker once it is back, so the probe
    // carries a key like every client, and its retry below is counted.
    const PROBE: u64 = 999_999;
    let (s, p) = l
        .post_key("/api/v1/reports", None, "fault-999999", &report(PROBE))
        .await;
    assert_eq!(s, 503, "{p}");
    assert_eq!(p["status"], 503);
    let (s, r) = l.get("/readyz", None).await;
    assert_eq!(s, 503, "{r}");
    assert_eq!(r["ready"], false);
    // Keep it down until the clients meet the outage too: a client whose
    // request was in flight at the kill waits for its acknowledgement (and
    // may get it after the restart), so a short outage can pass them by.
    let down = Instant::now();
    while unavailable.load(Ordering::Relaxed) == 0 && down.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    l.nats.restart();

    let mut acknowledged = Vec::new();
    for c in clients {
        acknowledged.extend(c.await.unwrap());
    }
    acknowledged.push(file_until_acknowledged(&l.base, PROBE, deadline, &unavailable).await);
    wait_caught_up(&l).await;
    assert!(
        unavailable.load(Ordering::Relaxed) > 0,
        "the outage was seen by clients"
    );

    // Every acknowledged report is in the stream exactly once, and nothing else is.
    let distinct: BTreeSet<_> = acknowledged.iter().cloned().collect();
    assert_eq!(
        distinct.len() as u64,
        CLIENTS * PER_CLIENT + 1,
        "one report per key"
    );
    let stored = filed_in_stream(&l).await;
    let mut counts: BTreeMap<&String, u32> = BTreeMap::new();
    for id in &stored {
        *counts.entry(id).or_default() += 1;
    }
    if counts.values().any(|n| *n > 1) {
        // Say where, so a double can be traced to the client or the server.
        let doubled: Vec<&String> = counts
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(id, _)| *id)
            .collect();
        panic!(
            "a report was stored twice: {}",
            l.describe_in_stream(&doubled).await
        );
    }
    let stored: BTreeSet<String> = stored.into_iter().collect();
    if stored != distinct {
        let extra: Vec<&String> = stored.difference(&distinct).collect();
        let lost: Vec<&String> = distinct.difference(&stored).collect();
        panic!(
            "stored != acknowledged: {} stored but not acknowledged:{}\n{} acknowledged but not stored: {lost:?}",
            extra.len(),
            l.describe_in_stream(&extra).await,
            lost.len(),
        );
    }
    assert_eq!(
        reports_counted(&l, &so).await,
        CLIENTS * PER_CLIENT + 1,
        "rates == hand count of the 201s"
    );
    l.stop();
    assert_rebuild_equals_live(&l);
}

#[tokio::test]
async fn lantern_killed_twenty_times_under_load_ends_equal_to_a_rebuild() {
    // A load test: far more anonymous filings a minute than one client may make.
    let mut l = Lantern::start_with(&[("LANTERN_RATE_LIMITS", "off")]).await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let so = l.officer("H1").await;
    let stop = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(300);
    let unavailable = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for c in 0..4u64 {
        let (base, stop, unavailable) = (l.base.clone(), stop.clone(), unavailable.clone());
        clients.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            let mut n = 0;
            while stop.load(Ordering::Relaxed) == 0 {
                ids.push(
                    file_until_acknowledged(&base, c * 1_000_000 + n, deadline, &unavailable).await,
                );
                n += 1;
            }
            ids
        }));
    }
    // SIGKILL at seeded random moments, 20 times, while reports keep coming.
    let mut seed: u64 = 0x1a17_e4a5;
    for _ in 0..20 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        tokio::time::sleep(Duration::from_millis(50 + (seed >> 33) % 400)).await;
        l.kill();
        l.restart().await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(1, Ordering::Relaxed);
    let mut acknowledged = BTreeSet::new();
    for c in clients {
        acknowledged.extend(c.await.unwrap());
    }
    wait_caught_up(&l).await;
    assert!(
        acknowledged.len() > 20,
        "load kept flowing: {}",
        acknowledged.len()
    );

    let stored = filed_in_stream(&l).await;
    let distinct: BTreeSet<_> = stored.iter().cloned().collect();
    assert_eq!(stored.len(), distinct.len(), "no report stored twice");
    // A request in flight at a kill may have been stored without its 201
    // reaching the client; its retry then got the same report back. So every
    // acknowledged report is stored, and the stream holds no other.
    assert_eq!(distinct, acknowledged, "stored == acknowledged");
    assert_eq!(reports_counted(&l, &so).await, acknowledged.len() as u64);
    l.stop();
    assert_rebuild_equals_live(&l);
}

/// A report's description is read from the stream when it is shown: with the
/// broker down that read is a clear 503 (not a report without its text), and
/// once the broker is back the report reads whole again.
#[tokio::test]
async fn a_report_shown_while_the_broker_is_down_is_a_clear_503() {
    let mut l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let so = l.officer("H1").await;
    let (s, filed) = l.post("/api/v1/reports", None, &report(7)).await;
    assert_eq!(s, 201, "{filed}");
    let id = filed["report_id"].as_str().unwrap().to_owned();
    wait_caught_up(&l).await;
    let path = format!("/api/v1/reports/{id}");
    let (s, shown) = l.get(&path, Some(&so)).await;
    assert_eq!(s, 200, "{shown}");
    assert_eq!(shown["description"], "report 7");

    l.nats.kill();
    let (s, p) = l.get(&path, Some(&so)).await;
    assert_eq!(s, 503, "{p}");
    assert_eq!(p["status"], 503);
    assert!(p["detail"].is_string(), "{p}");
    l.nats.restart();

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, shown) = l.get(&path, Some(&so)).await;
        if s == 200 {
            assert_eq!(shown["description"], "report 7");
            break;
        }
        assert_eq!(s, 503, "only unavailable while reconnecting: {shown}");
        assert!(Instant::now() < deadline, "the report did not read again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
