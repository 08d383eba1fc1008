//! The ledger against a real nats-server.

use std::sync::Arc;

use futures::StreamExt;
use lantern_ledger::{
    AggregateKind, Expect, Ledger, LedgerError, NewEvent, SchemaRegistry, StreamSettings,
};
use lantern_testkit::NatsServer;
use serde_json::json;
use uuid::Uuid;

async fn ledger(server: &NatsServer) -> Ledger {
    let client = lantern_ledger::connect(&server.url()).await.unwrap();
    let schemas = Arc::new(SchemaRegistry::embedded().unwrap());
    Ledger::open(client, &StreamSettings::default(), schemas)
        .await
        .unwrap()
}

fn census(aggregate: Uuid, discharges: u64) -> NewEvent {
    NewEvent {
        event_type: "census.recorded",
        version: 1,
        aggregate,
        hospital: "H1".into(),
        data: json!({"department": "ICU", "month": "2026-01", "discharges": discharges}),
    }
}

#[tokio::test]
async fn append_read_dedup_and_concurrency() {
    let server = NatsServer::start();
    let ledger = ledger(&server).await;
    let agg = Uuid::now_v7();

    // First event of a new aggregate.
    let a = ledger
        .append(census(agg, 10), Expect::New, None)
        .await
        .unwrap();
    assert_eq!(a.seq, 1);
    assert!(!a.duplicate);

    // Expect::New again on the same aggregate is a conflict.
    let err = ledger
        .append(census(agg, 11), Expect::New, None)
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::Conflict { .. }), "{err:?}");

    // A step built on the right version succeeds, on a stale one it fails.
    let b = ledger
        .append(census(agg, 12), Expect::LastAt(1), None)
        .await
        .unwrap();
    assert_eq!(b.seq, 2);
    let err = ledger
        .append(census(agg, 13), Expect::LastAt(1), None)
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::Conflict { .. }), "{err:?}");

    // The same msg id twice stores once and returns the first event.
    let other = Uuid::now_v7();
    let first = ledger
        .append(census(other, 1), Expect::Any, Some("key-1"))
        .await
        .unwrap();
    let again = ledger
        .append(census(other, 99), Expect::Any, Some("key-1"))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.seq, first.seq);
    assert_eq!(again.envelope, first.envelope);

    // The same msg id with an expected sequence (the 2.12+ version trap).
    let third = Uuid::now_v7();
    let x = ledger
        .append(census(third, 1), Expect::New, Some("key-2"))
        .await
        .unwrap();
    let y = ledger
        .append(census(third, 1), Expect::New, Some("key-2"))
        .await
        .unwrap();
    assert!(y.duplicate);
    assert_eq!(x.seq, y.seq);

    assert_eq!(ledger.message_count().await.unwrap(), 4);
    assert_eq!(ledger.last_sequence().await.unwrap(), 4);

    // Reading back from any sequence, in order, with the msg ids.
    let mut events = ledger.read_from(2).await.unwrap();
    let mut seqs = vec![];
    for _ in 0..3 {
        let r = events.next().await.unwrap().unwrap();
        seqs.push(r.seq);
        if r.seq == 3 {
            assert_eq!(r.idempotency_key_hash(), Some("key-1"));
            assert_eq!(r.envelope.data["discharges"], 1);
        }
        if r.seq == 2 {
            assert_eq!(r.idempotency_key_hash(), None);
        }
    }
    assert_eq!(seqs, [2, 3, 4]);
    let last = ledger
        .last_of("H1", AggregateKind::Census, agg)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last.seq, 2);
}

#[tokio::test]
async fn invalid_data_appends_nothing() {
    let server = NatsServer::start();
    let ledger = ledger(&server).await;
    let mut bad = census(Uuid::now_v7(), 1);
    bad.data = json!({"department": "ICU", "month": "2026-13", "discharges": -1});
    let err = ledger.append(bad, Expect::Any, None).await.unwrap_err();
    let LedgerError::Schema { violations, .. } = err else {
        panic!("{err:?}")
    };
    let pointers: Vec<_> = violations.iter().map(|v| v.pointer.as_str()).collect();
    assert!(
        pointers.contains(&"/month") && pointers.contains(&"/discharges"),
        "{pointers:?}"
    );
    assert_eq!(ledger.message_count().await.unwrap(), 0);
}

#[tokio::test]
async fn stream_refuses_delete_and_purge() {
    let server = NatsServer::start();
    let ledger = ledger(&server).await;
    ledger
        .append(census(Uuid::now_v7(), 1), Expect::Any, None)
        .await
        .unwrap();
    let stream = ledger.jetstream().get_stream("LANTERN").await.unwrap();
    assert!(
        stream.delete_message(1).await.is_err(),
        "delete must be refused"
    );
    assert!(stream.purge().await.is_err(), "purge must be refused");
    assert_eq!(ledger.message_count().await.unwrap(), 1);

    // Re-opening keeps the settings (and re-asserts them).
    let again = ledger_again(&server).await;
    assert_eq!(again.message_count().await.unwrap(), 1);
}

async fn ledger_again(server: &NatsServer) -> Ledger {
    ledger(server).await
}

#[tokio::test]
async fn survives_a_broker_kill() {
    let mut server = NatsServer::start();
    let ledger = ledger(&server).await;
    let a = ledger
        .append(census(Uuid::now_v7(), 1), Expect::Any, None)
        .await
        .unwrap();
    server.kill();
    let err = ledger
        .append(census(Uuid::now_v7(), 2), Expect::Any, None)
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    server.restart();
    // The client reconnects by itself; the acknowledged event survived.
    let mut tries = 0;
    let b = loop {
        match ledger
            .append(census(Uuid::now_v7(), 3), Expect::Any, None)
            .await
        {
            Ok(b) => break b,
            Err(e) if e.is_transient() && tries < 50 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    };
    assert!(b.seq > a.seq);
    assert_eq!(
        ledger.get(a.seq).await.unwrap().envelope.data["discharges"],
        1
    );
}

#[tokio::test]
async fn batches_are_atomic_and_retry_safe() {
    let server = NatsServer::start();
    let ledger = ledger(&server).await;
    let agg = Uuid::now_v7();
    let step = |discharges: i64| census(agg, discharges as u64);

    let stored = ledger
        .append_batch(
            vec![step(1), step(2), step(3)],
            Expect::New,
            Some("batch-key"),
        )
        .await
        .unwrap();
    assert_eq!(stored.iter().map(|a| a.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(ledger.message_count().await.unwrap(), 3);

    // The same batch again (a client retry) stores nothing and returns the first.
    let again = ledger
        .append_batch(
            vec![step(1), step(2), step(3)],
            Expect::New,
            Some("batch-key"),
        )
        .await
        .unwrap();
    assert!(again.iter().all(|a| a.duplicate));
    assert_eq!(again.iter().map(|a| a.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(ledger.message_count().await.unwrap(), 3);

    // A batch whose later event is invalid stores nothing.
    let other = Uuid::now_v7();
    let mut bad = census(other, 1);
    bad.data["month"] = json!("2026-13");
    let err = ledger
        .append_batch(vec![census(other, 1), bad], Expect::New, None)
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::Schema { .. }), "{err:?}");
    // A batch built on a stale view stores nothing.
    let err = ledger
        .append_batch(vec![step(4), step(5)], Expect::LastAt(1), None)
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::Conflict { .. }), "{err:?}");
    assert_eq!(ledger.message_count().await.unwrap(), 3);
    // On the right view it goes through.
    let ok = ledger
        .append_batch(vec![step(4), step(5)], Expect::LastAt(3), None)
        .await
        .unwrap();
    assert_eq!(ok.last().unwrap().seq, 5);
}
