//! The projector runtime against a real nats-server.

// A test panics on a broken expectation by design: it may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use lantern_ledger::{
    AggregateKind, Expect, Ledger, NewEvent, Recorded, SchemaRegistry, StreamSettings,
};
use lantern_projection::{ProjectionError, Projector, Runner, Tx, export, open_or_reset, rebuild};
use lantern_testkit::NatsServer;
use serde_json::json;
use uuid::Uuid;

/// Sums discharges per department and counts events: order-sensitive enough
/// (a "last figure" key) that a skipped or doubled event shows.
struct Sums;

impl Projector for Sums {
    fn name(&self) -> &'static str {
        "sums"
    }
    fn apply(&self, tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError> {
        let data = &event.envelope.data.to_value();
        let dept = data["department"].as_str().unwrap_or("?");
        let key = format!("sum/{dept}");
        let sum: u64 = tx.get_json(key.as_bytes())?.unwrap_or(0);
        tx.put_json(key, &(sum + data["discharges"].as_u64().unwrap_or(0)))?;
        let n: u64 = tx.get_json(b"count")?.unwrap_or(0);
        tx.put_json(b"count".to_vec(), &(n + 1))?;
        tx.put_json(b"last".to_vec(), &event.seq)?;
        Ok(())
    }
}

async fn ledger(server: &NatsServer) -> Ledger {
    let client = lantern_ledger::connect(
        &lantern_ledger::NatsConfig::new(server.url()).with_user(server.user(), server.password()),
    )
    .await
    .unwrap();
    Ledger::open(
        client,
        &StreamSettings::default(),
        Arc::new(SchemaRegistry::embedded().unwrap()),
    )
    .await
    .unwrap()
}

async fn append(ledger: &Ledger, i: u64) {
    ledger
        .append(
            NewEvent {
                event_type: "census.recorded",
                version: 1,
                aggregate: Uuid::now_v7(),
                hospital: "H1".into(),
                data: json!({"department": format!("D{}", i % 7), "month": "2026-01", "discharges": i}),
            },
            Expect::Any,
            None,
        )
        .await
        .unwrap();
}

/// `projector`'s live database at `path`, run until it has applied `n`.
async fn run_live(
    ledger: &Ledger,
    projector: impl Projector,
    path: &std::path::Path,
    n: u64,
) -> sled::Db {
    let db = open_or_reset(&projector, path).unwrap();
    let (runner, handle) = Runner::new(ledger.clone(), Arc::new(projector), db.clone()).unwrap();
    let task = tokio::spawn(runner.run(std::future::pending()));
    assert!(
        handle.wait_for(n, Duration::from_secs(30)).await,
        "caught up"
    );
    task.abort();
    let _ = task.await;
    db
}

fn dump(db: &sled::Db) -> String {
    let mut out = Vec::new();
    export(db, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn killed_at_random_points_ends_identical_to_a_rebuild() {
    let server = NatsServer::start();
    let ledger = ledger(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    const N: u64 = 600;

    let writer = {
        let ledger = ledger.clone();
        tokio::spawn(async move {
            for i in 1..=N {
                append(&ledger, i).await;
            }
        })
    };

    // Start and abort the runner over and over while events arrive; an abort
    // drops the task at whatever await point it is at, mid-batch included.
    let mut seed: u64 = 0x5eed;
    for _ in 0..25 {
        let db = open_or_reset(&Sums, &live).unwrap();
        let (runner, _handle) = Runner::new(ledger.clone(), Arc::new(Sums), db).unwrap();
        let task = tokio::spawn(runner.run(std::future::pending()));
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        tokio::time::sleep(Duration::from_millis(5 + (seed >> 33) % 40)).await;
        task.abort();
        let _ = task.await;
    }
    writer.await.unwrap();

    let db = run_live(&ledger, Sums, &live, N).await;

    let fresh = dir.path().join("fresh");
    let last = rebuild(ledger.clone(), Arc::new(Sums), &fresh)
        .await
        .unwrap();
    assert_eq!(last, N);
    let rebuilt = sled::open(&fresh).unwrap();
    assert_eq!(dump(&db), dump(&rebuilt));

    let count: u64 = serde_json::from_slice(&db.get(b"count").unwrap().unwrap()).unwrap();
    assert_eq!(count, N, "every event exactly once");
    let total: u64 = (0..7)
        .map(|d| {
            db.get(format!("sum/D{d}"))
                .unwrap()
                .map(|v| serde_json::from_slice::<u64>(&v).unwrap())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(total, N * (N + 1) / 2);
}

#[tokio::test]
async fn wait_for_reports_position_and_times_out() {
    let server = NatsServer::start();
    let ledger = ledger(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let db = open_or_reset(&Sums, &dir.path().join("db")).unwrap();
    let (runner, handle) = Runner::new(ledger.clone(), Arc::new(Sums), db).unwrap();
    let task = tokio::spawn(runner.run(std::future::pending()));
    append(&ledger, 1).await;
    append(&ledger, 2).await;
    assert!(handle.wait_for(2, Duration::from_secs(10)).await);
    assert_eq!(handle.applied(), 2);
    assert!(
        !handle.wait_for(3, Duration::from_millis(200)).await,
        "nothing at 3 yet"
    );
    task.abort();
}

#[tokio::test]
async fn a_database_that_will_not_open_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    std::fs::create_dir_all(&path).unwrap();
    // Garbage where sled expects its config and snapshot files.
    std::fs::write(path.join("conf"), b"\xff\xfe not a sled config").unwrap();
    std::fs::write(path.join("db"), vec![0xAB; 4096]).unwrap();
    let db = open_or_reset(&Sums, &path).unwrap();
    assert_eq!(lantern_projection::checkpoint(&db).unwrap(), 0);
}

#[tokio::test]
async fn a_database_held_by_another_handle_is_never_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let db = open_or_reset(&Sums, &path).unwrap();
    db.insert(b"k", b"v").unwrap();
    db.flush().unwrap();
    // While it is held, opening it again waits and then fails; it does not reset it.
    assert!(open_or_reset(&Sums, &path).is_err());
    assert_eq!(db.get(b"k").unwrap().unwrap().as_ref(), b"v");
    drop(db);
    let again = open_or_reset(&Sums, &path).unwrap();
    assert_eq!(
        again.get(b"k").unwrap().unwrap().as_ref(),
        b"v",
        "kept, not rebuilt"
    );
}

/// `Sums` in a later layout.
struct SumsV2;

impl Projector for SumsV2 {
    fn name(&self) -> &'static str {
        "sums"
    }
    fn apply(&self, tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError> {
        Sums.apply(tx, event)
    }
    fn version(&self) -> u32 {
        2
    }
}

#[tokio::test]
async fn a_database_of_another_layout_is_rebuilt_one_of_the_same_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let db = open_or_reset(&Sums, &path).unwrap();
    assert_eq!(lantern_projection::version(&db).unwrap(), Some(1));
    db.insert(b"k", b"v").unwrap();
    db.flush().unwrap();
    drop(db);

    let same = open_or_reset(&Sums, &path).unwrap();
    assert_eq!(same.get(b"k").unwrap().unwrap().as_ref(), b"v", "kept");
    drop(same);

    let newer = open_or_reset(&SumsV2, &path).unwrap();
    assert_eq!(newer.get(b"k").unwrap(), None, "dropped, to be rebuilt");
    assert_eq!(lantern_projection::version(&newer).unwrap(), Some(2));
    assert_eq!(lantern_projection::checkpoint(&newer).unwrap(), 0);
}

#[tokio::test]
async fn a_database_from_before_versions_counts_as_version_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let old = sled::open(&path).unwrap();
    old.insert(b"k", b"v").unwrap();
    old.flush().unwrap();
    drop(old);
    let db = open_or_reset(&Sums, &path).unwrap();
    assert_eq!(db.get(b"k").unwrap().unwrap().as_ref(), b"v");
    assert_eq!(lantern_projection::version(&db).unwrap(), Some(1));
}

/// Counts the events it is given by type: a projector of some kinds
/// (a name, the kinds).
struct OfKinds(&'static str, &'static [AggregateKind]);

impl Projector for OfKinds {
    fn name(&self) -> &'static str {
        self.0
    }
    fn kinds(&self) -> &'static [AggregateKind] {
        self.1
    }
    fn apply(&self, tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError> {
        let key = format!("seen/{}", event.envelope.event_type);
        let n: u64 = tx.get_json(key.as_bytes())?.unwrap_or(0);
        tx.put_json(key, &(n + 1))?;
        tx.put_json(b"last".to_vec(), &event.seq)?;
        Ok(())
    }
}

/// Rebuilds `projector` into `path`, checks that it ended at `last`, and
/// opens the result.
async fn rebuilt_to(
    ledger: &Ledger,
    projector: OfKinds,
    path: &std::path::Path,
    last: u64,
) -> sled::Db {
    let upto = rebuild(ledger.clone(), Arc::new(projector), path)
        .await
        .unwrap();
    assert_eq!(upto, last, "a rebuild ends at the stream's last sequence");
    sled::open(path).unwrap()
}

const CENSUS_ONLY: OfKinds = OfKinds("census_only", &[AggregateKind::Census]);

async fn append_department(ledger: &Ledger, i: u64) {
    ledger
        .append(
            NewEvent {
                event_type: "org.department_registered",
                version: 1,
                aggregate: Uuid::now_v7(),
                hospital: "H1".into(),
                data: json!({"code": format!("D{i}"), "name": format!("Department {i}")}),
            },
            Expect::Any,
            None,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_rebuild_reads_only_its_kinds_and_ends_where_the_stream_does() {
    let server = NatsServer::start();
    let ledger = ledger(&server).await;
    for i in 1..=30 {
        if i % 3 == 0 {
            append(&ledger, i).await;
        } else {
            append_department(&ledger, i).await;
        }
    }
    // A census envelope on an org subject (no append writes one): not an
    // event, to a filtered read or a full one.
    let stray = json!({
        "id": Uuid::now_v7(), "type": "census.recorded", "version": 1,
        "aggregate": Uuid::now_v7(), "hospital": "H1",
        "recorded_at": "2026-01-31T00:00:00Z",
        "data": {"department": "D1", "month": "2026-01", "discharges": 5}
    });
    let subject = format!("lantern.H1.org.{}", Uuid::now_v7());
    ledger
        .jetstream()
        .publish(subject, serde_json::to_vec(&stray).unwrap().into())
        .await
        .unwrap()
        .await
        .unwrap();
    // The stream ends with events of another kind.
    for i in 31..=35 {
        append_department(&ledger, i).await;
    }
    let last = ledger.last_sequence().await.unwrap();
    assert_eq!(last, 36);
    assert_eq!(
        ledger
            .last_sequence_of(&[AggregateKind::Census])
            .await
            .unwrap(),
        30
    );

    // Live: every event moves the checkpoint, the projector sees census.
    let dir = tempfile::tempdir().unwrap();
    let db = open_or_reset(&CENSUS_ONLY, &dir.path().join("live")).unwrap();
    let (runner, handle) = Runner::new(ledger.clone(), Arc::new(CENSUS_ONLY), db.clone()).unwrap();
    let task = tokio::spawn(runner.run(std::future::pending()));
    assert!(handle.wait_for(last, Duration::from_secs(30)).await);
    task.abort();
    let _ = task.await;
    let seen: u64 =
        serde_json::from_slice(&db.get(b"seen/census.recorded").unwrap().unwrap()).unwrap();
    assert_eq!(seen, 10, "the census figures, not the stray envelope");
    assert_eq!(
        db.scan_prefix(b"seen/").count(),
        1,
        "no event of another kind reached the projector"
    );

    // A rebuild reads census subjects alone, yet ends at the stream's end
    // with the same bytes.
    let rebuilt = rebuilt_to(&ledger, CENSUS_ONLY, &dir.path().join("fresh"), last).await;
    assert_eq!(dump(&db), dump(&rebuilt));
    drop(rebuilt);

    // A projector none of whose events is in the stream still ends there.
    let deaths_only = OfKinds("deaths_only", &[AggregateKind::Death]);
    let db = rebuilt_to(&ledger, deaths_only, &dir.path().join("none"), last).await;
    assert_eq!(lantern_projection::checkpoint(&db).unwrap(), last);
    assert_eq!(db.scan_prefix(b"seen/").count(), 0);
}

/// [`Sums`], and an 8 MiB value under one of two keys per event: a
/// rebuild's batches close at 128 MiB written, so these events fill a
/// batch in 16 events. And a scattered key per event (held back by a
/// rebuild), which reads the one of the event before.
struct Padded;

fn scattered_key(seq: u64) -> Vec<u8> {
    // Out of the order of the events.
    format!("h/{:016x}", seq.wrapping_mul(0x9e37_79b9_7f4a_7c15)).into_bytes()
}

impl Projector for Padded {
    fn name(&self) -> &'static str {
        "padded"
    }
    fn apply(&self, tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError> {
        Sums.apply(tx, event)?;
        let pad = format!("pad/{}", event.seq % 2);
        let earlier = tx.get(pad.as_bytes())?.map_or(0, |v| v[0]);
        let mut value = vec![earlier.wrapping_add(1); 8 << 20];
        value[1..9].copy_from_slice(&event.seq.to_be_bytes());
        tx.put(pad.into_bytes(), value);
        let before: u64 = tx.get_json(&scattered_key(event.seq - 1))?.unwrap_or(0);
        let chain = serde_json::to_vec(&(before + event.seq)).unwrap();
        tx.put_scattered(scattered_key(event.seq), chain);
        Ok(())
    }
}

#[tokio::test]
async fn a_rebuild_in_many_batches_equals_the_live_model() {
    let server = NatsServer::start();
    let ledger = ledger(&server).await;
    const N: u64 = 48;
    for i in 1..=N {
        append(&ledger, i).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = run_live(&ledger, Padded, &dir.path().join("live"), N).await;

    // Each batch of the rebuild reads the sums and pads of the one before,
    // which may still be on its way into the database.
    let fresh = dir.path().join("fresh");
    assert_eq!(rebuild(ledger, Arc::new(Padded), &fresh).await.unwrap(), N);
    let rebuilt = sled::open(&fresh).unwrap();
    assert_eq!(dump(&db), dump(&rebuilt));
    let count: u64 = serde_json::from_slice(&rebuilt.get(b"count").unwrap().unwrap()).unwrap();
    assert_eq!(count, N, "every event exactly once");
    let pad = rebuilt.get(b"pad/0").unwrap().unwrap();
    assert_eq!((pad[0], &pad[1..9]), (24, &N.to_be_bytes()[..]));
    let chain: u64 =
        serde_json::from_slice(&rebuilt.get(scattered_key(N)).unwrap().unwrap()).unwrap();
    assert_eq!(
        chain,
        N * (N + 1) / 2,
        "each held write read the one before"
    );
    assert!(
        !rebuilt
            .contains_key(lantern_projection::INCOMPLETE_KEY)
            .unwrap()
    );
}

#[test]
fn a_database_a_rebuild_left_unfinished_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sums");
    let db = open_or_reset(&Sums, &path).unwrap();
    db.insert(b"count", b"3").unwrap();
    db.insert(lantern_projection::INCOMPLETE_KEY, b"").unwrap();
    drop(db);
    let db = open_or_reset(&Sums, &path).unwrap();
    assert_eq!(db.get(b"count").unwrap(), None);
    assert_eq!(lantern_projection::checkpoint(&db).unwrap(), 0);
    db.insert(b"count", b"3").unwrap();
    drop(db);
    let db = open_or_reset(&Sums, &path).unwrap();
    assert!(
        db.get(b"count").unwrap().is_some(),
        "a finished one is kept"
    );
}

/// Publishes a census envelope straight to the stream, past the append and
/// its validation (as whoever holds NATS credentials could).
async fn publish_census_past_the_append(ledger: &Ledger, data: serde_json::Value) -> u64 {
    let aggregate = Uuid::new_v4();
    let envelope = json!({
        "id": Uuid::now_v7(), "type": "census.recorded", "version": 1,
        "aggregate": aggregate, "hospital": "H1",
        "recorded_at": "2026-01-31T00:00:00Z", "data": data
    });
    let subject = lantern_ledger::subject("H1", AggregateKind::Census, aggregate).unwrap();
    ledger
        .jetstream()
        .publish(subject, serde_json::to_vec(&envelope).unwrap().into())
        .await
        .unwrap()
        .await
        .unwrap()
        .sequence
}

#[tokio::test]
async fn an_event_its_schema_refuses_is_skipped_and_counted_live_and_in_a_rebuild() {
    let server = NatsServer::start();
    let ledger = ledger(&server).await;
    append(&ledger, 1).await;
    // Past the append: a count its schema refuses, an unknown field, and a
    // valid one (trusted that far: the credentials are the boundary).
    publish_census_past_the_append(
        &ledger,
        json!({"department": "D1", "month": "2026-01", "discharges": -5}),
    )
    .await;
    publish_census_past_the_append(
        &ledger,
        json!({"department": "D1", "month": "2026-01", "discharges": 1, "role": "admin"}),
    )
    .await;
    publish_census_past_the_append(
        &ledger,
        json!({"department": "D2", "month": "2026-01", "discharges": 7}),
    )
    .await;
    append(&ledger, 2).await;
    let last = ledger.last_sequence().await.unwrap();
    assert_eq!(last, 5);

    let dir = tempfile::tempdir().unwrap();
    let db = open_or_reset(&Sums, &dir.path().join("live")).unwrap();
    let (runner, handle) = Runner::new(ledger.clone(), Arc::new(Sums), db.clone()).unwrap();
    let task = tokio::spawn(runner.run(std::future::pending()));
    assert!(handle.wait_for(last, Duration::from_secs(30)).await);
    task.abort();
    let _ = task.await;
    assert_eq!(handle.rejected(), 2, "the two events their schema refuses");
    let count: u64 = serde_json::from_slice(&db.get(b"count").unwrap().unwrap()).unwrap();
    assert_eq!(count, 3, "the appended two and the valid one");
    let d1: u64 = serde_json::from_slice(&db.get(b"sum/D1").unwrap().unwrap()).unwrap();
    assert_eq!(d1, 1, "only the appended figure of D1");

    // A rebuild skips them the same way: byte for byte the live model.
    let fresh = dir.path().join("fresh");
    rebuild(ledger.clone(), Arc::new(Sums), &fresh)
        .await
        .unwrap();
    let rebuilt = sled::open(&fresh).unwrap();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    export(&db, &mut a).unwrap();
    export(&rebuilt, &mut b).unwrap();
    assert_eq!(a, b);
}
