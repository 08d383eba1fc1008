//! The test kit's cluster: three nodes from the shipped configs form one
//! JetStream cluster that holds a stream on all three, tells its leader,
//! elects another when the leader is SIGKILLed, and takes the node back.

// A test panics on a broken expectation by design: it may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream};
use lantern_testkit::NatsCluster;

/// The node leading `KIT`, once it is not `gone`; panics after a minute.
async fn leader_other_than(cluster: &NatsCluster, gone: Option<usize>) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(leader) = cluster.stream_leader("KIT").await
            && Some(leader) != gone
        {
            return leader;
        }
        assert!(
            Instant::now() < deadline,
            "no leader of KIT but {gone:?} within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_cluster_keeps_a_replicated_stream_through_the_loss_of_its_leader() {
    let mut cluster = NatsCluster::start();
    let urls = cluster.urls();
    assert_eq!(cluster.url(), urls.join(","));
    assert_eq!(urls.len(), 3);
    let js = jetstream::new(cluster.client().await);
    let mut kit = js
        .create_stream(stream::Config {
            name: "KIT".into(),
            subjects: vec!["lantern.kit.>".into()],
            num_replicas: 3,
            ..Default::default()
        })
        .await
        .unwrap();
    let info = kit.info().await.unwrap();
    assert_eq!(info.config.num_replicas, 3);
    let group = info.cluster.as_ref().unwrap();
    assert_eq!(
        group.replicas.len(),
        2,
        "a leader and two followers: {group:?}"
    );
    js.publish("lantern.kit.1", "before".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let first = leader_other_than(&cluster, None).await;
    assert_eq!(group.leader.as_deref(), Some(cluster.name(first)));

    cluster.kill(first);
    assert!(!cluster.is_running(first) && cluster.pid(first).is_none());
    leader_other_than(&cluster, Some(first)).await;
    // The two left are a majority: a write is acknowledged without the
    // killed node, which then comes back on its store and catches up.
    let js = jetstream::new(cluster.client().await);
    js.publish("lantern.kit.2", "without the first leader".into())
        .await
        .unwrap()
        .await
        .unwrap();
    cluster.restart(first);
    assert!(cluster.is_running(first));
    let mut kit = js.get_stream("KIT").await.unwrap();
    let info = kit.info().await.unwrap();
    assert_eq!(info.state.messages, 2);
    let group = info.cluster.as_ref().unwrap();
    assert!(
        group
            .replicas
            .iter()
            .any(|peer| peer.name == cluster.name(first) && !peer.offline),
        "the restarted node is a replica again: {group:?}"
    );
}
