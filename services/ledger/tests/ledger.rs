//! The ledger against a real nats-server.

// A test panics on a broken expectation by design: it may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use futures::StreamExt;
use lantern_ledger::{
    AggregateKind, Expect, Ledger, LedgerError, NewEvent, SchemaRegistry, StreamSettings,
};
use lantern_testkit::NatsServer;
use serde_json::json;
use uuid::Uuid;

async fn ledger(server: &NatsServer) -> Ledger {
    let client = lantern_ledger::connect(
        &lantern_ledger::NatsConfig::new(server.url()).with_user(server.user(), server.password()),
    )
    .await
    .unwrap();
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
            assert_eq!(r.envelope.data.to_value()["discharges"], 1);
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
        ledger.get(a.seq).await.unwrap().envelope.data.to_value()["discharges"],
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

/// Group commit: concurrent appends of different aggregates are stored as
/// atomic batches, and each caller gets what a lone append would give: its
/// own sequence, a conflict for a stale expectation, the first event for a
/// retried message id.
#[tokio::test]
async fn group_commit_batches_across_aggregates_and_keeps_semantics() {
    let server = NatsServer::start();
    let ledger = ledger(&server)
        .await
        .with_group_commit(lantern_ledger::GroupCommit::default());
    let taken = Uuid::now_v7();
    let first = ledger
        .append(census(taken, 1), Expect::New, None)
        .await
        .unwrap();

    // A burst of new aggregates: every one stored once, at its own sequence.
    let aggregates: Vec<Uuid> = (0..300).map(|_| Uuid::now_v7()).collect();
    let results = futures::future::join_all(
        aggregates
            .iter()
            .map(|a| ledger.append(census(*a, 7), Expect::New, None)),
    )
    .await;
    let mut seqs = Vec::new();
    for (a, r) in aggregates.iter().zip(results) {
        let r = r.unwrap();
        assert!(!r.duplicate);
        let stored = ledger.get(r.seq).await.unwrap();
        assert_eq!(stored.envelope.id, r.envelope.id);
        assert_eq!(stored.envelope.aggregate, *a);
        seqs.push(r.seq);
    }
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 300);
    let stats = ledger.group_stats().unwrap();
    assert!(stats.batches >= 1 && stats.batched >= 2, "{stats:?}");
    assert_eq!(stats.refused, 0, "{stats:?}");

    // In a burst: one stale expectation, one retried key, one step on the
    // right version. Each gets its own answer; the rest are stored.
    let others: Vec<Uuid> = (0..50).map(|_| Uuid::now_v7()).collect();
    let mut calls = Vec::new();
    calls.push(ledger.append(census(taken, 2), Expect::New, None));
    calls.push(ledger.append(census(taken, 3), Expect::LastAt(first.seq), Some("key-1")));
    calls.push(ledger.append(census(taken, 3), Expect::LastAt(first.seq), Some("key-1")));
    for a in &others {
        calls.push(ledger.append(census(*a, 8), Expect::New, None));
    }
    let results = futures::future::join_all(calls).await;
    assert!(
        matches!(results[0], Err(LedgerError::Conflict { .. })),
        "{:?}",
        results[0]
    );
    let (a, b) = (results[1].as_ref(), results[2].as_ref());
    // The retried key: one is stored, the other is its duplicate (or, if
    // both raced past the dedup, a conflict for the stale expectation).
    let key1 = match (a, b) {
        (Ok(x), Ok(y)) => {
            assert_eq!(x.seq, y.seq);
            assert!(x.duplicate != y.duplicate);
            x.seq
        }
        (Ok(x), Err(LedgerError::Conflict { .. })) | (Err(LedgerError::Conflict { .. }), Ok(x)) => {
            assert!(!x.duplicate);
            x.seq
        }
        other => panic!("{other:?}"),
    };
    for r in &results[3..] {
        assert!(!r.as_ref().unwrap().duplicate);
    }
    let count = ledger.message_count().await.unwrap();
    assert_eq!(count, 1 + 300 + 1 + 50);

    // Under light load an append goes out at once, alone, not waiting for
    // company.
    let before = ledger.group_stats().unwrap();
    let t = std::time::Instant::now();
    let lone = ledger
        .append(census(Uuid::now_v7(), 9), Expect::New, None)
        .await
        .unwrap();
    assert!(t.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(
        ledger.get(lone.seq).await.unwrap().envelope.id,
        lone.envelope.id
    );
    let after = ledger.group_stats().unwrap();
    assert_eq!(after.alone, before.alone + 1, "{after:?}");
    assert_eq!(after.batches, before.batches, "{after:?}");

    // A retry of a stored event, alone or in a burst, is its duplicate.
    let retried = futures::future::join_all(
        (0..3).map(|_| ledger.append(census(taken, 3), Expect::LastAt(first.seq), Some("key-1"))),
    )
    .await;
    for r in retried {
        let r = r.unwrap();
        assert!(r.duplicate);
        assert_eq!(r.seq, key1);
    }
}

/// An Idempotency-Key reused for another request (the same hash, another
/// fingerprint after the separator) is refused by the server's dedup at
/// once, before any read model has seen the first: nothing is appended,
/// and the true retry still gets the first event — alone, in a group
/// commit, and in an atomic batch.
#[tokio::test]
async fn a_key_reused_for_another_request_is_refused_at_once_and_appends_nothing() {
    let server = NatsServer::start();
    for grouped in [false, true] {
        let mut ledger = ledger(&server).await;
        if grouped {
            ledger = ledger.with_group_commit(lantern_ledger::GroupCommit::default());
        }
        for round in 0..10 {
            let key = format!("hash-{grouped}-{round}");
            let (asked, other) = (format!("{key}:fp-a"), format!("{key}:fp-b"));
            let first = ledger
                .append(census(Uuid::now_v7(), 1), Expect::New, Some(&asked))
                .await
                .unwrap();
            assert!(!first.duplicate);
            let before = ledger.last_sequence().await.unwrap();
            let reused = ledger
                .append(census(Uuid::now_v7(), 2), Expect::New, Some(&other))
                .await;
            assert!(
                matches!(reused, Err(LedgerError::RequestReused { seq }) if seq == first.seq),
                "{reused:?}"
            );
            let retry = ledger
                .append(census(Uuid::now_v7(), 1), Expect::New, Some(&asked))
                .await
                .unwrap();
            assert!(retry.duplicate && retry.seq == first.seq, "{retry:?}");
            assert_eq!(ledger.last_sequence().await.unwrap(), before);
            // Read back, the event keeps the whole request id.
            let stored = ledger.get(first.seq).await.unwrap();
            assert_eq!(stored.msg_id.as_deref(), Some(asked.as_str()));
        }
    }
    // A batch whose key was used for another request is refused too.
    let ledger = ledger(&server).await;
    let aggregate = Uuid::now_v7();
    let batch = |d| vec![census(aggregate, d), census(aggregate, d + 1)];
    let first = ledger
        .append_batch(batch(1), Expect::New, Some("batch-key:fp-a"))
        .await
        .unwrap();
    let reused = ledger
        .append_batch(batch(5), Expect::New, Some("batch-key:fp-b"))
        .await;
    assert!(
        matches!(reused, Err(LedgerError::RequestReused { seq }) if seq == first[0].seq),
        "{reused:?}"
    );
    let retry = ledger
        .append_batch(batch(1), Expect::New, Some("batch-key:fp-a"))
        .await
        .unwrap();
    assert_eq!(
        retry.iter().map(|a| a.seq).collect::<Vec<_>>(),
        first.iter().map(|a| a.seq).collect::<Vec<_>>()
    );
}
