//! Key-value buckets beside the stream, against a real nats-server with the
//! shipped accounts and permissions: what staff sessions rely on.

// A test panics on a broken expectation by design: it may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use lantern_ledger::{Ledger, SchemaRegistry, StreamSettings};
use lantern_testkit::NatsServer;

async fn ledger(nats: &NatsServer) -> Ledger {
    Ledger::open(
        nats.client().await,
        &StreamSettings::default(),
        Arc::new(SchemaRegistry::embedded().unwrap()),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_purge_ends_an_entry_for_every_handle_and_a_stale_update_cannot_bring_it_back() {
    let nats = NatsServer::start();
    let (a, b) = (ledger(&nats).await, ledger(&nats).await);
    let one = a
        .bucket("T_SESSIONS", "test", Duration::from_secs(3600))
        .await
        .unwrap();
    // A second process opening the same bucket at once comes to the same one.
    let two = b
        .bucket("T_SESSIONS", "test", Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(one.get("k").await.unwrap().is_none());
    let first = one.put("k", "v1".into()).await.unwrap();
    let seen = two.get("k").await.unwrap().unwrap();
    assert_eq!(
        (seen.value.as_ref(), seen.revision),
        (b"v1".as_ref(), first)
    );

    let touched = two.update("k", "v2".into(), first).await.unwrap().unwrap();
    assert!(touched > first);
    assert!(
        one.update("k", "v3".into(), first).await.unwrap().is_none(),
        "an update from an old revision is refused"
    );
    assert_eq!(one.get("k").await.unwrap().unwrap().value.as_ref(), b"v2");

    one.purge("k").await.unwrap();
    assert!(two.get("k").await.unwrap().is_none());
    assert!(
        two.update("k", "v4".into(), touched)
            .await
            .unwrap()
            .is_none(),
        "a touch read before the purge does not undo it"
    );
    assert!(one.get("k").await.unwrap().is_none());
}

#[tokio::test]
async fn entries_expire_after_max_age_and_the_bucket_keeps_one_value_per_key() {
    let nats = NatsServer::start();
    let l = ledger(&nats).await;
    let bucket = l
        .bucket("T_SHORT", "test", Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        bucket.settings().await.unwrap(),
        (1, Duration::from_secs(1))
    );
    bucket.put("k", "v".into()).await.unwrap();
    bucket.put("k", "w".into()).await.unwrap();
    assert_eq!(bucket.get("k").await.unwrap().unwrap().value.as_ref(), b"w");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(bucket.get("k").await.unwrap().is_none(), "expired");
    // Opened again with another expiry (a new release), the bucket follows.
    let reopened = l
        .bucket("T_SHORT", "test", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        reopened.settings().await.unwrap(),
        (1, Duration::from_secs(60))
    );
}
