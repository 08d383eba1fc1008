//! Two replicas of `lantern serve` on one nats-server, each with its own
//! data dir and port, as behind a load balancer (DESIGN "Deployment tiers",
//! issue 27 items 3 and 4): one server secret, so receipts and retries work
//! at either; staff sessions in the stream's engine, so a sign-in at one
//! works at the other and a sign-out at either ends it at both; a replica
//! with another secret refused before it appends anything; the same
//! Idempotency-Key at both at once answered once, never with a 500.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::support::{ADMIN, Lantern};

/// Both replicas run without per-client limits: every request of these
/// tests comes from 127.0.0.1.
const ENV: &[(&str, &str)] = &[("LANTERN_RATE_LIMITS", "off")];

/// The first replica's secret file (its default place).
fn secret_of(l: &Lantern) -> PathBuf {
    l.data.path().join("var/secret.key")
}

/// Another `lantern serve` on `first`'s nats-server and configuration,
/// with its own data dir and ports.
struct Replica {
    base: String,
    child: Option<Child>,
    log: PathBuf,
    /// Kept until the replica is dropped.
    _data: tempfile::TempDir,
    http: reqwest::Client,
}

impl Replica {
    /// A data dir holding `secret` (the operator's copy of the first
    /// replica's file) when given.
    fn data_dir(secret: Option<&Path>) -> tempfile::TempDir {
        let data = tempfile::Builder::new()
            .prefix("lantern-replica-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(data.path().join("var")).unwrap();
        if let Some(secret) = secret {
            std::fs::copy(secret, data.path().join("var/secret.key")).unwrap();
        }
        data
    }

    fn spawn(first: &Lantern, data: &Path) -> (Child, PathBuf, String) {
        let port = lantern_testkit::free_port();
        let log = data.join("lantern.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = first
            .command()
            .env("LANTERN_DATA_DIR", data.join("var"))
            .env("LANTERN_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env(
                "LANTERN_OPS_ADDR",
                format!("127.0.0.1:{}", lantern_testkit::free_port()),
            )
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("spawn lantern serve");
        (child, log, format!("http://127.0.0.1:{port}"))
    }

    /// Starts with a copy of `first`'s secret and waits until ready.
    async fn start(first: &Lantern) -> Replica {
        let data = Replica::data_dir(Some(&secret_of(first)));
        let (child, log, base) = Replica::spawn(first, data.path());
        let mut r = Replica {
            base,
            child: Some(child),
            log,
            _data: data,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(c) = r.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!("replica exited with {status}:\n{}", r.log_text());
            }
            if let Ok(resp) = r.http.get(format!("{}/readyz", r.base)).send().await
                && resp.status() == StatusCode::OK
            {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "replica not ready in 60 s:\n{}",
                r.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An HTTP client of one replica, in the way a reporter's retry or a
/// browser behind a load balancer reaches it: redirects not followed.
#[derive(Clone)]
struct At {
    base: String,
    http: reqwest::Client,
}

impl At {
    fn first(l: &Lantern) -> At {
        At {
            base: l.base.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    fn replica(r: &Replica) -> At {
        At {
            base: r.base.clone(),
            http: r.http.clone(),
        }
    }

    /// Status, `Retry-After` and the body (JSON, or the text as a string).
    async fn send(&self, r: reqwest::RequestBuilder) -> (StatusCode, Option<String>, Value) {
        let r = r.send().await.unwrap();
        let status = r.status();
        let retry = r
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = r.text().await.unwrap();
        (
            status,
            retry,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post_key(
        &self,
        path: &str,
        key: &str,
        body: &Value,
    ) -> (StatusCode, Option<String>, Value) {
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header("Idempotency-Key", key)
                .json(body),
        )
        .await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, _, b) = self
            .send(self.http.get(format!("{}{path}", self.base)))
            .await;
        (s, b)
    }

    /// A staff page with a session cookie: status, page, redirect.
    async fn page(&self, path: &str, cookie: &str) -> (StatusCode, String, Option<String>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap();
        let loc = r
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        (r.status(), r.text().await.unwrap(), loc)
    }

    /// A staff form post with a session cookie: status and redirect.
    async fn form(
        &self,
        path: &str,
        cookie: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, Option<String>) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let loc = r
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        (r.status(), loc)
    }

    /// Signs in with `token`; the session cookie (`name=value`).
    async fn sign_in(&self, token: &str) -> String {
        let r = self
            .http
            .post(format!("{}/staff/sign-in", self.base))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let set = r.headers()[SET_COOKIE].to_str().unwrap();
        set.split(';').next().unwrap().to_owned()
    }
}

fn report(description: &str) -> Value {
    json!({"hospital": "H1", "department": "ICU", "occurred_at": "2026-01-05T08:00:00+08:00",
           "grade": "IV", "category": "diet", "harm": "not_applicable", "description": description})
}

const CSRF_FIELD: &str = "name=\"csrf\" value=\"";

fn csrf_of(page: &str) -> String {
    let at = page.find(CSRF_FIELD).expect("a form with a CSRF token") + CSRF_FIELD.len();
    page[at..].split('"').next().unwrap().to_owned()
}

/// Asks `at` for `path` with `cookie` until it redirects to the sign-in
/// page, for at most `within`; panics if it never does.
async fn signed_out_within(at: &At, path: &str, cookie: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let (s, page, loc) = at.page(path, cookie).await;
        if s == StatusCode::SEE_OTHER && loc.as_deref() == Some("/staff/sign-in") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} at {} still served after {within:?}: {s} {page:.200}",
            at.base
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_report_filed_at_one_replica_is_followed_up_at_the_other_and_a_retry_there_gets_its_receipt()
 {
    let l = Lantern::start_with(ENV).await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let replica = Replica::start(&l).await;
    let (one, two) = (At::first(&l), At::replica(&replica));

    let body = report("送错饮食 / wrong diet");
    let (s, _, filed) = one.post_key("/api/v1/reports", "lb-retry-1", &body).await;
    assert_eq!(s, 201, "{filed}");
    let receipt = filed["receipt"].as_str().unwrap();
    let seq = filed["seq"].as_u64().unwrap();

    // The reporter's retry went to the other replica: the first answer,
    // the same receipt, nothing appended.
    let before = l.stream_count().await;
    let (s, _, again) = two.post_key("/api/v1/reports", "lb-retry-1", &body).await;
    assert_eq!((s.as_u16(), &again), (201, &filed));
    assert_eq!(l.stream_count().await, before, "a retry appends nothing");

    // The receipt reads and follows up at the other replica.
    let (s, view) = two
        .get(&format!("/api/v1/receipts/{receipt}?after={seq}"))
        .await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["report_id"], filed["report_id"]);
    let (s, _, added) = two
        .post_key(
            &format!("/api/v1/receipts/{receipt}/follow-ups"),
            "lb-follow-up-1",
            &json!({"text": "补充：发药前已发现 / found before the round"}),
        )
        .await;
    assert_eq!(s, 201, "{added}");
    // …and the first replica sees the follow-up on the same receipt.
    let (s, view) = one
        .get(&format!(
            "/api/v1/receipts/{receipt}?after={}",
            added["seq"].as_u64().unwrap()
        ))
        .await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["follow_ups"].as_array().unwrap().len(), 1, "{view}");

    // One fingerprint in the stream, recorded by the first replica only.
    let fingerprints = l
        .stream_payloads()
        .await
        .iter()
        .filter(|p| String::from_utf8_lossy(p).contains("org.secret_fingerprint"))
        .count();
    assert_eq!(fingerprints, 1);
    drop(replica);
}

#[tokio::test]
async fn a_staff_session_opened_at_one_replica_works_at_the_other_and_a_sign_out_there_ends_it_everywhere()
 {
    let l = Lantern::start_with(ENV).await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let officer = l.officer("H1").await;
    let replica = Replica::start(&l).await;
    let (one, two) = (At::first(&l), At::replica(&replica));

    let cookie = one.sign_in(&officer).await;
    let (s, page_one, _) = one.page("/staff/reports", &cookie).await;
    assert_eq!(s, 200, "{page_one:.300}");
    let (s, page_two, _) = two.page("/staff/reports", &cookie).await;
    assert_eq!(
        s, 200,
        "the session is served at the other replica: {page_two:.300}"
    );
    let csrf = csrf_of(&page_two);
    assert_eq!(csrf, csrf_of(&page_one), "one session, one CSRF token");

    // A sign-out at the other replica needs the token, then ends the
    // session at both.
    let (s, _) = two
        .form("/staff/sign-out", &cookie, &[("csrf", "wrong")])
        .await;
    assert_eq!(s, 403);
    let (s, loc) = two
        .form("/staff/sign-out", &cookie, &[("csrf", &csrf)])
        .await;
    assert_eq!(
        (s, loc.as_deref()),
        (StatusCode::SEE_OTHER, Some("/staff/sign-in"))
    );
    signed_out_within(&one, "/staff/reports", &cookie, Duration::from_secs(1)).await;
    signed_out_within(&two, "/staff/reports", &cookie, Duration::from_secs(1)).await;

    // The admin's session crosses replicas the same way.
    let admin = two.sign_in(ADMIN).await;
    let (s, _, loc) = one.page("/staff", &admin).await;
    assert!(
        s == StatusCode::SEE_OTHER && loc.as_deref() != Some("/staff/sign-in"),
        "{s} {loc:?}"
    );

    // A token revoked at one replica ends its session at the other.
    let cookie = two.sign_in(&officer).await;
    let (s, _, _) = one.page("/staff/reports", &cookie).await;
    assert_eq!(s, 200);
    let hash = lantern_api::secrets::sha256_hex(officer.as_bytes());
    let r = l
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/tokens/{}", &hash[..16]),
            Some(ADMIN),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    signed_out_within(&two, "/staff/reports", &cookie, Duration::from_secs(5)).await;
    signed_out_within(&one, "/staff/reports", &cookie, Duration::from_secs(1)).await;
    drop(replica);
}

/// Runs `lantern serve` as a replica on `data` to its end (it must refuse
/// to start): its exit status and what it printed.
fn refused(first: &Lantern, data: &Path) -> (std::process::ExitStatus, String) {
    let (mut child, log, _) = Replica::spawn(first, data);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "a replica with another secret still runs after 60 s:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, std::fs::read_to_string(&log).unwrap())
}

#[tokio::test]
async fn a_replica_with_another_secret_or_none_refuses_to_start_and_appends_nothing() {
    let l = Lantern::start_with(ENV).await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let before = l.stream_count().await;

    // Another secret: the replica made its own (the mistake of issue 27).
    let other = Replica::data_dir(None);
    std::fs::write(other.path().join("var/secret.key"), "ab".repeat(32)).unwrap();
    let (status, log) = refused(&l, other.path());
    assert!(!status.success(), "{status}");
    for named in [
        "is not the one this stream's replicas share",
        "org.secret_fingerprint",
        "Copy the secret file of the first replica",
    ] {
        assert!(log.contains(named), "{named:?} not in:\n{log}");
    }
    assert!(
        !log.contains(&"ab".repeat(32)),
        "the secret is never printed"
    );
    assert_eq!(
        std::fs::read_to_string(other.path().join("var/secret.key")).unwrap(),
        "ab".repeat(32),
        "its file is left as it was"
    );

    // No secret at all: refused, and no secret of its own made.
    let none = Replica::data_dir(None);
    let (status, log) = refused(&l, none.path());
    assert!(!status.success(), "{status}");
    assert!(
        log.contains("there is no server secret") && log.contains("copy the secret file"),
        "{log}"
    );
    assert!(!none.path().join("var/secret.key").exists());

    assert_eq!(
        l.stream_count().await,
        before,
        "a refused replica appends nothing"
    );
    // The first replica goes on serving.
    let (s, _) = At::first(&l).get("/readyz").await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn the_same_key_at_both_replicas_at_once_is_answered_once_and_never_with_a_500() {
    let l = Lantern::start_with(ENV).await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let replica = Replica::start(&l).await;
    let ats = [At::first(&l), At::replica(&replica)];
    let before = l.stream_count().await;
    const ROUNDS: usize = 25;
    for round in 0..ROUNDS {
        let key = format!("both-at-once-{round}");
        let body = report(&format!("同时重试 {round} / retried at once"));
        // Two clients at each replica, all at once.
        let mut tasks = Vec::new();
        for i in 0..4 {
            let (at, key, body) = (ats[i % 2].clone(), key.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                (i % 2, at.post_key("/api/v1/reports", &key, &body).await)
            }));
        }
        let mut created = Vec::new();
        for t in tasks {
            let (at, (status, retry_after, body)) = t.await.unwrap();
            match status.as_u16() {
                201 => created.push(body),
                409 => assert!(
                    retry_after.is_some(),
                    "round {round}, replica {at}: 409 without Retry-After: {body}"
                ),
                other => panic!("round {round}, replica {at}: {other}: {body}"),
            }
        }
        // A client answered 409 retries and gets the first answer.
        let (status, _, retried) = ats[round % 2]
            .post_key("/api/v1/reports", &key, &body)
            .await;
        assert_eq!(status, 201, "round {round}: the retry: {retried}");
        created.push(retried);
        assert!(
            created.windows(2).all(|w| w[0] == w[1]),
            "round {round}: answers differ: {created:?}"
        );
    }
    assert_eq!(
        l.stream_count().await,
        before + ROUNDS as u64,
        "one report per key"
    );
    drop(replica);
}
