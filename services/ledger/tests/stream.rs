//! The stream's configuration against a real nats-server: a process never
//! changes an existing stream as a side effect; only `apply` does.

// A test panics on a broken expectation by design: it may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use lantern_ledger::stream::{Applied, Difference, apply, config, inspect};
use lantern_ledger::{Ledger, LedgerError, STREAM, SchemaRegistry, StreamSettings};
use lantern_testkit::NatsServer;

fn schemas() -> Arc<SchemaRegistry> {
    Arc::new(SchemaRegistry::embedded().unwrap())
}

fn three_replicas() -> StreamSettings {
    StreamSettings {
        replicas: 3,
        ..StreamSettings::default()
    }
}

/// The configuration Lantern asks for, changed by `edit`: a stream somebody
/// made by hand, or an older release.
fn lantern_but(edit: impl FnOnce(&mut stream::Config)) -> stream::Config {
    let mut c = config(&StreamSettings::default());
    edit(&mut c);
    c
}

async fn stream_config(server: &NatsServer) -> stream::Config {
    let js = jetstream::new(server.client().await);
    let mut s = js.get_stream(STREAM).await.unwrap();
    s.info().await.unwrap().config.clone()
}

/// Starts a server with the stream created as `wanted`.
async fn server_with(wanted: stream::Config) -> NatsServer {
    let server = NatsServer::start();
    let js = jetstream::new(server.client().await);
    js.create_stream(wanted).await.unwrap();
    server
}

fn mismatch(e: LedgerError) -> Vec<Difference> {
    match e {
        LedgerError::StreamMismatch { differences, .. } => differences,
        other => panic!("expected a stream mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stream_with_other_subjects_is_refused_and_left_as_it_was() {
    let server = server_with(lantern_but(|c| c.subjects = vec!["lantern.H0001.>".into()])).await;
    let before = stream_config(&server).await;
    let e = Ledger::open(server.client().await, &StreamSettings::default(), schemas())
        .await
        .err()
        .unwrap();
    let text = e.to_string();
    assert_eq!(
        text,
        "stream LANTERN captures lantern.H0001.>, the configuration asks for lantern.>; \
         run `lantern stream apply` to change it"
    );
    assert!(matches!(&mismatch(e)[..], [Difference::Subjects { .. }]));
    assert_eq!(stream_config(&server).await, before);
}

#[tokio::test]
async fn a_stream_with_a_source_is_refused_and_keeps_it() {
    let server = NatsServer::start();
    let js = jetstream::new(server.client().await);
    js.create_stream(stream::Config {
        name: "ORIGIN".into(),
        subjects: vec!["origin.>".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    js.create_stream(lantern_but(|c| {
        c.sources = Some(vec![stream::Source {
            name: "ORIGIN".into(),
            ..Default::default()
        }]);
    }))
    .await
    .unwrap();
    let before = stream_config(&server).await;
    let e = Ledger::open(server.client().await, &StreamSettings::default(), schemas())
        .await
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .starts_with("stream LANTERN sources ORIGIN, the configuration asks for none"),
        "{e}"
    );
    let after = stream_config(&server).await;
    assert_eq!(after, before);
    assert_eq!(after.sources.unwrap()[0].name, "ORIGIN");
}

#[tokio::test]
async fn three_replicas_on_one_server_are_refused_and_the_stream_stays_at_one() {
    let server = NatsServer::start();
    Ledger::open(server.client().await, &StreamSettings::default(), schemas())
        .await
        .unwrap();
    let e = Ledger::open(server.client().await, &three_replicas(), schemas())
        .await
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .contains("has 1 replica, the configuration asks for 3"),
        "{e}"
    );
    assert_eq!(stream_config(&server).await.num_replicas, 1);
    // Even the explicit command cannot: the server has no peers to hold them.
    let e = apply(server.client().await, &three_replicas())
        .await
        .unwrap_err();
    assert!(matches!(e, LedgerError::Nats(_)), "{e:?}");
    assert_eq!(stream_config(&server).await.num_replicas, 1);
}

#[tokio::test]
async fn a_harmless_difference_starts_and_is_left_alone() {
    let server = server_with(lantern_but(|c| {
        c.allow_direct = false;
        c.description = Some("made by hand".into());
        c.duplicate_window = Duration::from_secs(600);
    }))
    .await;
    let before = stream_config(&server).await;
    Ledger::open(server.client().await, &StreamSettings::default(), schemas())
        .await
        .unwrap();
    assert_eq!(stream_config(&server).await, before);
    let seen = inspect(server.client().await, &StreamSettings::default())
        .await
        .unwrap();
    assert_eq!(seen.differences.len(), 3, "{:?}", seen.differences);
    assert!(seen.differences.iter().all(|d| !d.is_refused()));
}

#[tokio::test]
async fn reading_never_creates_or_changes_the_stream() {
    let server = NatsServer::start();
    let e = Ledger::open_existing(server.client().await, schemas())
        .await
        .err()
        .unwrap();
    assert!(matches!(e, LedgerError::StreamMissing { .. }), "{e:?}");
    assert!(e.to_string().contains("lantern stream apply"), "{e}");
    let e = inspect(server.client().await, &StreamSettings::default())
        .await
        .unwrap_err();
    assert!(matches!(e, LedgerError::StreamMissing { .. }), "{e:?}");
    let js = jetstream::new(server.client().await);
    assert!(
        js.get_stream(STREAM).await.is_err(),
        "a read created the stream"
    );

    js.create_stream(lantern_but(|c| c.subjects.push("extra.>".into())))
        .await
        .unwrap();
    let before = stream_config(&server).await;
    Ledger::open_existing(server.client().await, schemas())
        .await
        .unwrap();
    inspect(server.client().await, &three_replicas())
        .await
        .unwrap();
    assert_eq!(stream_config(&server).await, before);
}

#[tokio::test]
async fn apply_creates_a_missing_stream_then_finds_nothing_to_do() {
    let server = NatsServer::start();
    let settings = StreamSettings::default();
    assert_eq!(
        apply(server.client().await, &settings).await.unwrap(),
        Applied::Created
    );
    assert_eq!(stream_config(&server).await.subjects, ["lantern.>"]);
    assert_eq!(
        apply(server.client().await, &settings).await.unwrap(),
        Applied::Unchanged
    );
}

#[tokio::test]
async fn apply_changes_what_differs_keeps_the_messages_and_then_nothing_differs() {
    // A stream left loose by hand or an older release: an extra subject, an
    // age limit, purges and deletes allowed, no atomic batches.
    let server = server_with(lantern_but(|c| {
        c.subjects.push("extra.>".into());
        c.deny_delete = false;
        c.deny_purge = false;
        c.allow_atomic_publish = false;
        c.max_age = Duration::from_secs(30 * 86_400);
    }))
    .await;
    let js = jetstream::new(server.client().await);
    js.publish("lantern.H1.census.x", "kept".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let settings = StreamSettings::default();
    let e = Ledger::open(server.client().await, &settings, schemas())
        .await
        .err()
        .unwrap();
    assert_eq!(mismatch(e).len(), 5);

    let Applied::Changed(changed) = apply(server.client().await, &settings).await.unwrap() else {
        panic!("apply changed nothing")
    };
    assert_eq!(changed.len(), 5, "{changed:?}");
    let seen = inspect(server.client().await, &settings).await.unwrap();
    assert_eq!(seen.differences, []);
    assert_eq!(seen.messages, 1);
    assert_eq!(seen.config.subjects, ["lantern.>"]);
    assert!(seen.config.deny_delete && seen.config.deny_purge);
    assert!(seen.config.allow_atomic_publish);
    assert_eq!(seen.config.max_age, Duration::ZERO);
    Ledger::open(server.client().await, &settings, schemas())
        .await
        .unwrap();
}

#[tokio::test]
async fn apply_refuses_what_cannot_change_in_place_and_changes_nothing() {
    let server = server_with(lantern_but(|c| {
        c.storage = stream::StorageType::Memory;
        c.subjects.push("extra.>".into());
    }))
    .await;
    let before = stream_config(&server).await;
    let e = apply(server.client().await, &StreamSettings::default())
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("is stored in memory") && text.contains("must be recreated"),
        "{text}"
    );
    assert!(matches!(&mismatch(e)[..], [Difference::Storage { .. }]));
    assert_eq!(stream_config(&server).await, before);
}
