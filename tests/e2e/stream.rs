//! The stream's configuration is changed by `lantern stream apply` and by
//! nothing else (DESIGN "Deployment tiers", issue 27 item 2): `serve`
//! refuses a stream that differs, naming the difference, and exits;
//! `rebuild` and `export` only read; `stream show` changes nothing.

use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream};
use lantern_ledger::StreamSettings;

use crate::support::{ADMIN, Lantern, NatsServer, lantern_bin};

/// A `lantern` command on `nats`, with a data dir and free ports of its own
/// and no stream setting but those the test adds.
fn lantern(nats: &NatsServer, data: &Path) -> Command {
    let mut c = Command::new(lantern_bin());
    c.envs(nats.env())
        .env("LANTERN_DATA_DIR", data.join("var"))
        .env(
            "LANTERN_HTTP_ADDR",
            format!("127.0.0.1:{}", lantern_testkit::free_port()),
        )
        .env(
            "LANTERN_OPS_ADDR",
            format!("127.0.0.1:{}", lantern_testkit::free_port()),
        )
        .env("LANTERN_ADMIN_TOKEN", ADMIN)
        .env_remove("LANTERN_STREAM_REPLICAS")
        .env("RUST_LOG", "warn");
    c
}

/// Runs `c` to its end, killing it after 60 s (a `serve` that did not
/// refuse would run forever): its exit status, stdout and stderr.
fn finish(mut c: Command, data: &Path) -> (ExitStatus, String, String) {
    let (out, err) = (data.join("stdout"), data.join("stderr"));
    let mut child = c
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("spawn lantern");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "lantern {:?} still running after 60 s:\n{}",
                c.get_args().collect::<Vec<_>>(),
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        status,
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(&err).unwrap(),
    )
}

/// `lantern <args>` (with `env`) run to its end; it must succeed.
fn ok(nats: &NatsServer, data: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut c = lantern(nats, data);
    c.envs(env.iter().copied()).args(args);
    let (status, out, err) = finish(c, data);
    assert!(
        status.success(),
        "lantern {args:?} failed ({status}):\n{err}"
    );
    out
}

/// `lantern <args>` (with `env`) run to its end; it must fail. Its stderr.
fn refused(nats: &NatsServer, data: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut c = lantern(nats, data);
    c.envs(env.iter().copied()).args(args);
    let (status, out, err) = finish(c, data);
    assert!(
        !status.success(),
        "lantern {args:?} succeeded:\n{out}\n{err}"
    );
    err
}

async fn stream_config(nats: &NatsServer) -> stream::Config {
    let js = jetstream::new(nats.client().await);
    let mut s = js.get_stream("LANTERN").await.unwrap();
    s.info().await.unwrap().config.clone()
}

/// A stream `ORIGIN` to source from.
async fn origin(js: &jetstream::Context) -> stream::Source {
    js.create_stream(stream::Config {
        name: "ORIGIN".into(),
        subjects: vec!["origin.>".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    stream::Source {
        name: "ORIGIN".into(),
        ..Default::default()
    }
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("lantern-e2e-stream-")
        .tempdir()
        .unwrap()
}

#[tokio::test]
async fn serve_refuses_a_stream_with_other_subjects_and_a_source_naming_both() {
    let nats = NatsServer::start();
    let data = tempdir();
    let js = jetstream::new(nats.client().await);
    let source = origin(&js).await;
    js.create_stream(stream::Config {
        subjects: vec!["lantern.H0001.>".into()],
        sources: Some(vec![source]),
        ..lantern_ledger::stream::config(&StreamSettings::default())
    })
    .await
    .unwrap();
    let before = stream_config(&nats).await;

    let err = refused(&nats, data.path(), &[], &["serve"]);
    for part in [
        "stream LANTERN differs from the configuration",
        "captures lantern.H0001.>, the configuration asks for lantern.>",
        "sources ORIGIN, the configuration asks for none",
        "run `lantern stream apply` to change it",
    ] {
        assert!(err.contains(part), "{part:?} not in:\n{err}");
    }
    assert_eq!(stream_config(&nats).await, before);
}

#[tokio::test]
async fn three_replicas_on_one_server_are_refused_at_start_and_the_stream_stays_at_one() {
    let nats = NatsServer::start();
    let data = tempdir();
    let out = ok(&nats, data.path(), &[], &["stream", "apply"]);
    assert!(out.starts_with("created stream LANTERN:"), "{out}");
    assert_eq!(stream_config(&nats).await.num_replicas, 1);

    let three = [("LANTERN_STREAM_REPLICAS", "3")];
    let err = refused(&nats, data.path(), &three, &["serve"]);
    assert!(
        err.contains(
            "stream LANTERN has 1 replica, the configuration asks for 3; \
             run `lantern stream apply` to change it"
        ),
        "{err}"
    );
    assert_eq!(stream_config(&nats).await.num_replicas, 1);
    // Asked explicitly, the server refuses: it has no peers to hold them.
    let err = refused(&nats, data.path(), &three, &["stream", "apply"]);
    assert!(err.contains("update stream LANTERN"), "{err}");
    assert_eq!(stream_config(&nats).await.num_replicas, 1);
}

#[tokio::test]
async fn rebuild_and_export_leave_a_differing_stream_as_it_is() {
    let mut l = Lantern::with_hospitals(&["H1"]).await;
    l.stop();
    // The incident: a hub's stream with a source, and a rebuild run without
    // the cluster's LANTERN_STREAM_REPLICAS.
    let js = jetstream::new(l.nats.client().await);
    let source = origin(&js).await;
    let mut config = stream_config(&l.nats).await;
    config.sources = Some(vec![source]);
    js.update_stream(&config).await.unwrap();
    let before = stream_config(&l.nats).await;
    assert_eq!(before.sources.as_ref().unwrap().len(), 1);

    let three = [("LANTERN_STREAM_REPLICAS", "3")];
    let fresh = l.data.path().join("fresh-rates");
    let fresh = fresh.to_str().unwrap();
    let out = ok(
        &l.nats,
        l.data.path(),
        &three,
        &["rebuild", "rates", "--into", fresh],
    );
    assert!(out.starts_with("rebuilt rates into"), "{out}");
    assert_eq!(stream_config(&l.nats).await, before);
    let exported = ok(
        &l.nats,
        l.data.path(),
        &three,
        &["export", "rates", "--from", fresh],
    );
    assert!(!exported.is_empty());
    ok(&l.nats, l.data.path(), &three, &["stream", "show"]);
    assert_eq!(stream_config(&l.nats).await, before);

    // Where there is no stream, a rebuild says so and makes none.
    let empty = NatsServer::start();
    let data = tempdir();
    let err = refused(&empty, data.path(), &[], &["rebuild", "rates"]);
    assert!(err.contains("stream LANTERN does not exist"), "{err}");
    let js = jetstream::new(empty.client().await);
    assert!(
        js.get_stream("LANTERN").await.is_err(),
        "rebuild made a stream"
    );
}

#[tokio::test]
async fn stream_apply_changes_what_differs_and_show_then_reports_no_difference() {
    let nats = NatsServer::start();
    let data = tempdir();
    let js = jetstream::new(nats.client().await);
    js.create_stream(stream::Config {
        subjects: vec!["lantern.>".into(), "extra.>".into()],
        deny_purge: false,
        description: Some("made by hand".into()),
        ..lantern_ledger::stream::config(&StreamSettings::default())
    })
    .await
    .unwrap();
    js.publish("lantern.H1.census.x", "kept".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let before = stream_config(&nats).await;

    let shown = ok(&nats, data.path(), &[], &["stream", "show"]);
    for part in [
        "stream LANTERN (1 message)",
        "- captures extra.>, lantern.>, the configuration asks for lantern.> (refused at start)",
        "- allows purging, the configuration denies it (refused at start)",
        "(harmless)",
    ] {
        assert!(shown.contains(part), "{part:?} not in:\n{shown}");
    }
    assert_eq!(
        stream_config(&nats).await,
        before,
        "show changed the stream"
    );

    let applied = ok(&nats, data.path(), &[], &["stream", "apply"]);
    assert!(
        applied.starts_with("changed stream LANTERN to the configuration; before, it:"),
        "{applied}"
    );
    assert!(
        applied.contains("- captures extra.>, lantern.>"),
        "{applied}"
    );
    let after = stream_config(&nats).await;
    assert_eq!(after.subjects, ["lantern.>"]);
    assert!(after.deny_purge);

    let shown = ok(&nats, data.path(), &[], &["stream", "show"]);
    assert!(shown.contains("stream LANTERN (1 message)"), "{shown}");
    assert!(
        shown.contains("differences from the configuration: none"),
        "{shown}"
    );
    let again = ok(&nats, data.path(), &[], &["stream", "apply"]);
    assert!(again.contains("nothing changed"), "{again}");
}
