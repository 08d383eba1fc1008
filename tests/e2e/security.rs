//! NATS is not open, and projectors trust no event blindly (DESIGN
//! "Security"): a process without Lantern's credentials can neither read
//! nor publish the stream; an event published past the append (as an
//! insider with the credentials could) that its schema forbids grants
//! nothing; and `NATS_URL` is a list of seeds of which any may be down.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{ADMIN, Lantern};
use async_nats::jetstream;
use lantern_ledger::{AggregateKind, SYSTEM_SCOPE, subject};
use serde_json::{Value, json};
use uuid::Uuid;

fn report() -> Value {
    json!({"hospital": "H1", "department": "ICU", "occurred_at": "2026-01-05T08:00:00+08:00",
           "grade": "III", "category": "medication", "harm": "mild", "treatment_needed": false,
           "description": "a narrative nobody outside Lantern may read"})
}

#[tokio::test]
async fn nats_refuses_a_process_without_lantern_s_credentials() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let (s, b) = l.post("/api/v1/reports", None, &report()).await;
    assert_eq!(s, 201, "{b}");

    // No credentials: refused at connect, so nothing can be read or published.
    let e = async_nats::connect(l.nats.url())
        .await
        .expect_err("an anonymous client must be refused");
    assert_eq!(
        e.kind(),
        async_nats::ConnectErrorKind::AuthorizationViolation,
        "{e}"
    );
    // The right user with a wrong password: refused the same way.
    let e = async_nats::ConnectOptions::with_user_and_password(
        l.nats.user().to_owned(),
        "pWrongPassword".to_owned(),
    )
    .connect(l.nats.url())
    .await
    .expect_err("a wrong password must be refused");
    assert_eq!(
        e.kind(),
        async_nats::ConnectErrorKind::AuthorizationViolation,
        "{e}"
    );

    // Lantern's user reads the stream (the refusals above are about the
    // credentials, not the server) — and may use nothing but Lantern's
    // subjects: a publish elsewhere is a permissions violation.
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::with_user_and_password(
        l.nats.user().to_owned(),
        l.nats.password().to_owned(),
    )
    .event_callback(move |event| {
        let tx = events_tx.clone();
        async move {
            let _ = tx.send(event.to_string());
        }
    })
    .connect(l.nats.url())
    .await
    .unwrap();
    let js = jetstream::new(client.clone());
    let mut stream = js.get_stream("LANTERN").await.unwrap();
    assert!(stream.info().await.unwrap().state.messages >= 1);
    client
        .publish("elsewhere.anything", "x".into())
        .await
        .unwrap();
    client.flush().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Some(e)) if e.to_lowercase().contains("permissions violation") => break,
            Ok(Some(_)) => {}
            _ => panic!("no permissions violation for a publish outside lantern.>"),
        }
    }
}

/// The subject and payload of an `org.token_issued` that no append wrote:
/// a token with `token_hash`, the rest of its data from `data`.
fn forged_token(token_hash: &str, mut data: Value, hospital: &str) -> (String, Vec<u8>) {
    data["token_hash"] = json!(token_hash);
    let aggregate = Uuid::new_v4();
    let envelope = json!({
        "id": Uuid::now_v7(), "type": "org.token_issued", "version": 1,
        "aggregate": aggregate, "hospital": hospital,
        "recorded_at": chrono::Utc::now().to_rfc3339(),
        "data": data,
    });
    (
        subject(hospital, AggregateKind::Org, aggregate).unwrap(),
        serde_json::to_vec(&envelope).unwrap(),
    )
}

/// `text` without ANSI colour sequences.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ … letter
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Publishes straight to the stream with Lantern's credentials, past the
/// append and its validation; returns the stream sequence.
async fn publish_past_the_append(l: &Lantern, subject: String, payload: Vec<u8>) -> u64 {
    let js = jetstream::new(l.nats.client().await);
    js.publish(subject, payload.into())
        .await
        .unwrap()
        .await
        .unwrap()
        .sequence
}

/// `lantern_events_rejected_total` of a projector, as /metrics shows it.
async fn rejected(l: &Lantern, projector: &str) -> u64 {
    let prefix = format!("lantern_events_rejected_total{{projector=\"{projector}\"}} ");
    l.ops_metrics()
        .await
        .lines()
        .find_map(|line| line.strip_prefix(&prefix)?.trim().parse().ok())
        .unwrap_or(0)
}

async fn wait_applied(l: &Lantern, seq: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, r) = l.get("/readyz", None).await;
        if r["projectors"]
            .as_array()
            .is_some_and(|ps| ps.iter().all(|p| p["applied"].as_u64() >= Some(seq)))
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "projectors did not reach {seq}: {r}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_forged_admin_token_grants_nothing() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let rates = "/api/v1/rates?from=2020-01&to=2029-12&by=hospital&hospital=H1";

    // The control: a forged token of a role the schema allows does work.
    // Whoever holds Lantern's NATS credentials is trusted that far — which is
    // why NATS is not open — so the forging below is the real thing.
    let officer = "forged-officer-token-0123456789";
    let (subj, payload) = forged_token(
        &lantern_api::secrets::sha256_hex(officer.as_bytes()),
        json!({"role": "safety_officer", "hospital": "H1"}),
        "H1",
    );
    let seq = publish_past_the_append(&l, subj, payload).await;
    wait_applied(&l, seq).await;
    let (s, b) = l.get(rates, Some(officer)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(rejected(&l, "directory").await, 0);

    // A role the schema forbids: admin is configured, never issued.
    let admin = "forged-admin-token-0123456789abcdef";
    let admin_hash = lantern_api::secrets::sha256_hex(admin.as_bytes());
    let (subj, payload) = forged_token(&admin_hash, json!({"role": "admin"}), SYSTEM_SCOPE);
    let seq = publish_past_the_append(&l, subj, payload).await;
    wait_applied(&l, seq).await;
    let before = l.stream_count().await;
    let (s, b) = l
        .post(
            "/api/v1/admin/hospitals",
            Some(admin),
            &json!({"code": "H9", "name": "H9 医院", "region": "R1", "level": "tertiary"}),
        )
        .await;
    assert_eq!(s, 401, "the forged admin token must grant nothing: {b}");
    assert_eq!(l.stream_count().await, before, "nothing appended");
    let (s, _) = l.get(rates, Some(admin)).await;
    assert_eq!(s, 401);
    // The real admin token still works.
    let (s, b) = l
        .get(
            "/api/v1/rates?from=2020-01&to=2029-12&by=hospital",
            Some(ADMIN),
        )
        .await;
    assert_ne!(s, 401, "{b}");

    // Skipped, counted, and logged by its sequence — never its content.
    assert_eq!(rejected(&l, "directory").await, 1);
    let log = plain(&l.log_text());
    let lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("event rejected"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|line| line.contains(&format!("seq={seq}")) && line.contains("directory")),
        "no rejection logged for seq {seq}:\n{log}"
    );
    for line in &lines {
        assert!(!line.contains(&admin_hash), "content logged: {line}");
        assert!(!line.contains("admin"), "content logged: {line}");
    }

    // A rebuild skips it the same way: equal to the live model.
    let mut l = l;
    l.stop();
    let fresh = l.data.path().join("rebuilt-directory");
    l.run(&["rebuild", "directory", "--into", fresh.to_str().unwrap()]);
    assert_eq!(
        l.run(&["export", "directory"]),
        l.run(&["export", "directory", "--from", fresh.to_str().unwrap()])
    );
}

#[tokio::test]
async fn a_list_of_seeds_whose_first_is_down_still_serves() {
    let mut l = Lantern::with_hospitals(&["H1"]).await;
    l.stop();
    // Nothing listens on this port: the first seed is down.
    let dead = lantern_testkit::free_port();
    let seeds = format!("nats://127.0.0.1:{dead},{}", l.nats.url());
    let log = l.data.path().join("seeds.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut child = l
        .command()
        .env("NATS_URL", &seeds)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "lantern serve with NATS_URL={seeds} exited with {status}:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        // Refused until it listens.
        if let Ok(r) = reqwest::get(format!("{}/readyz", l.base)).await
            && r.status() == 200
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not ready with NATS_URL={seeds}:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (s, b) = l.post("/api/v1/reports", None, &report()).await;
    assert_eq!(s, 201, "{b}");
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn lantern_with_a_wrong_nats_password_stops_and_says_which_settings() {
    let mut l = Lantern::with_hospitals(&["H1"]).await;
    l.stop();
    let started = Instant::now();
    let out = tokio::task::spawn_blocking({
        let mut c = l.command();
        c.env("NATS_PASSWORD", "pWrongPassword").arg("serve");
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    // At once, not after a request timed out.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let (log, err) = (
        plain(&String::from_utf8_lossy(&out.stdout)),
        plain(&String::from_utf8_lossy(&out.stderr)),
    );
    assert!(err.contains("refused the credentials"), "{err}");
    assert!(
        log.contains("refused Lantern's credentials") && log.contains("NATS_PASSWORD"),
        "{log}"
    );
    assert!(
        !log.contains("pWrongPassword") && !err.contains("pWrongPassword"),
        "the password was shown"
    );
}
