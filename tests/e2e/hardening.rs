//! HTTP hardening (tracker issue 24): rate limits, timeouts and the
//! connection bound, problem+json for every error, the OpenAPI document's
//! parameters, caching and framing headers, charsets — each against a real
//! `lantern serve` — and schemathesis over the whole API.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::{ADMIN, Lantern, clock};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn port_of(l: &Lantern) -> u16 {
    l.base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("base ends in a port")
}

/// A body the report endpoint refuses (422) without appending: an
/// anonymous write that costs the server little.
fn refused_report() -> Value {
    json!({"hospital": "H1"})
}

async fn assert_429(r: reqwest::Response) {
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json",
        "429 is problem+json"
    );
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 429);
}

/// Sends `send` until the first 429; returns how many were answered before it.
async fn until_429<F, Fut>(most: usize, mut send: F) -> usize
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>>,
{
    for n in 0..most {
        let r = send().await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_429(r).await;
            return n;
        }
    }
    panic!("no 429 in {most} requests");
}

#[tokio::test]
async fn anonymous_reads_and_writes_are_limited_per_client_at_the_defaults() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    // 120 reads a minute; a few more may pass as the bucket refills while
    // they are sent (one every half second).
    let reads = until_429(200, || {
        l.request(Method::GET, "/api/v1/hospitals", None)
            // Not a trusted proxy's: this header changes nothing.
            .header("X-Forwarded-For", format!("10.0.0.{}", rand_octet()))
            .send()
    })
    .await;
    assert!((120..140).contains(&reads), "{reads} reads before the 429");
    // Staff with a valid token are not anonymous; probes are never limited.
    let (s, _) = l.get("/api/v1/hospitals", Some(ADMIN)).await;
    assert_eq!(s, 200);
    let (s, _) = l.get("/healthz", None).await;
    assert_eq!(s, 200);

    // 30 writes a minute, counted apart from the reads.
    let writes = until_429(60, || {
        l.request(Method::POST, "/api/v1/reports", None)
            .json(&refused_report())
            .send()
    })
    .await;
    assert!((30..40).contains(&writes), "{writes} writes before the 429");
    // A made-up token does not make a request anonymous-exempt: it is a
    // failed token, and the request is still an anonymous write.
    let r = l
        .request(Method::POST, "/api/v1/reports", Some("made-up"))
        .json(&refused_report())
        .send()
        .await
        .unwrap();
    assert_429(r).await;
}

fn rand_octet() -> u8 {
    (uuid::Uuid::new_v4().as_bytes()[0] % 250) + 1
}

#[tokio::test]
async fn failed_bearer_tokens_are_limited_then_every_token_waits() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let so = l.officer("H1").await;
    let failures = until_429(30, || {
        l.request(
            Method::GET,
            "/api/v1/reports?hospital=H1",
            Some("not-a-token"),
        )
        .send()
    })
    .await;
    assert!(
        (10..13).contains(&failures),
        "{failures} failures before the 429"
    );
    // Over the limit, the next token is not even tried: a guess that would
    // be right learns nothing either.
    let r = l
        .request(Method::GET, "/api/v1/reports?hospital=H1", Some(&so))
        .send()
        .await
        .unwrap();
    assert_429(r).await;
}

#[tokio::test]
async fn failed_staff_sign_ins_are_limited() {
    let l = Lantern::start().await;
    let failures = until_429(30, || {
        l.request(Method::POST, "/staff/sign-in", None)
            .form(&[("token", "wrong")])
            .send()
    })
    .await;
    assert!(
        (10..13).contains(&failures),
        "{failures} failed sign-ins before the 429"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let l = Lantern::start_with(&[
        ("LANTERN_TRUSTED_PROXY", "127.0.0.1"),
        ("LANTERN_RATE_LIMIT_ANON_READS", "3"),
    ])
    .await;
    let from = |client: &'static str| {
        l.request(Method::GET, "/api/v1/hospitals", None)
            .header("X-Forwarded-For", format!("203.0.113.9, {client}"))
            .send()
    };
    let n = until_429(10, || from("198.51.100.1")).await;
    assert!((3..5).contains(&n), "{n}");
    // Another client behind the same proxy is not held back; the earlier
    // hop (which a client can write) is not who it is.
    let r = from("198.51.100.2").await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn rate_limits_off_means_off() {
    let l = Lantern::start_with(&[("LANTERN_RATE_LIMITS", "off")]).await;
    for _ in 0..150 {
        let (s, _) = l.get("/api/v1/hospitals", None).await;
        assert_eq!(s, 200);
    }
}

/// Reads until the server closes the connection; panics after `bound`.
fn read_until_closed(stream: &mut TcpStream, bound: Duration) -> Vec<u8> {
    stream.set_read_timeout(Some(bound)).unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return got,
            Err(e) => panic!(
                "not closed after {:?} ({e}); got {:?}",
                started.elapsed(),
                String::from_utf8_lossy(&got)
            ),
        }
        assert!(started.elapsed() < bound, "still open after {bound:?}");
    }
}

#[tokio::test]
async fn a_client_that_stalls_in_its_headers_or_body_is_cut_off() {
    let l = Lantern::start_with(&[
        ("LANTERN_HEADER_TIMEOUT_SECS", "1"),
        ("LANTERN_BODY_TIMEOUT_SECS", "1"),
    ])
    .await;
    let port = port_of(&l);
    tokio::task::spawn_blocking(move || {
        // Half a header, then nothing.
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        read_until_closed(&mut s, Duration::from_secs(20));

        // A whole header and a tenth of the body it announces.
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(
            b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"hospit",
        )
        .unwrap();
        let answer = String::from_utf8_lossy(&read_until_closed(&mut s, Duration::from_secs(20)))
            .into_owned();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("application/problem+json"), "{answer}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn connections_beyond_the_bound_wait_to_be_accepted() {
    let l = Lantern::start_with(&[
        ("LANTERN_MAX_CONNECTIONS", "2"),
        ("LANTERN_HEADER_TIMEOUT_SECS", "2"),
    ])
    .await;
    let port = port_of(&l);
    tokio::task::spawn_blocking(move || {
        // Two idle connections take both places.
        let _a = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _b = TcpStream::connect(("127.0.0.1", port)).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        // Not answered while they hold them …
        c.set_read_timeout(Some(Duration::from_millis(800)))
            .unwrap();
        let mut buf = [0u8; 64];
        match c.read(&mut buf) {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            other => panic!("answered beyond the bound: {other:?}"),
        }
        // … and answered once the header timeout has let them go.
        let answer = String::from_utf8_lossy(&read_until_closed(&mut c, Duration::from_secs(20)))
            .into_owned();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    })
    .await
    .unwrap();
}

async fn problem(r: reqwest::Response, status: u16) -> Value {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    body
}

#[tokio::test]
async fn every_error_is_problem_json() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let lis = l.token(json!({"role": "lis", "hospital": "H1"})).await;
    // An unparsable path segment: named, not echoed.
    let r = l
        .request(
            Method::GET,
            "/api/v1/critical-values/not-a-uuid",
            Some(&lis),
        )
        .send()
        .await
        .unwrap();
    let body = problem(r, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/id", "{body}");
    assert!(!body.to_string().contains("not-a-uuid"), "{body}");
    // A command's segment likewise, before anything else is looked at.
    let r = l
        .request(Method::POST, "/api/v1/deaths/42/close", Some(&lis))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(r, 422).await;
    // An unknown route.
    let r = l
        .request(Method::GET, "/api/v1/nothing", None)
        .send()
        .await
        .unwrap();
    problem(r, 404).await;
    // A wrong method, with Allow.
    let r = l
        .request(Method::DELETE, "/api/v1/reports", None)
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("allow"));
    problem(r, 405).await;
    // A URI over 8 KiB.
    let long = format!("/api/v1/hospitals?x={}", "a".repeat(9 * 1024));
    let r = l.request(Method::GET, &long, None).send().await.unwrap();
    problem(r, 414).await;
}

#[tokio::test]
async fn the_openapi_document_puts_each_parameter_where_it_is() {
    let l = Lantern::start().await;
    let (s, doc) = l.get("/api/v1/openapi.json", None).await;
    assert_eq!(s, 200);
    let mut queries = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let template = format!("{{{name}}}");
                match p["in"].as_str().unwrap() {
                    "path" => assert!(
                        path.contains(&template),
                        "{method} {path}: path parameter {name} is not in the path"
                    ),
                    "query" => {
                        queries += 1;
                        assert!(!path.contains(&template), "{method} {path}: {name}");
                    }
                    "header" => {}
                    other => panic!("{method} {path}: {name} in {other}"),
                }
            }
        }
    }
    // `after`, `hospital`, `from`, `month` … are all query parameters.
    assert!(queries > 20, "only {queries} query parameters");
}

#[tokio::test]
async fn setting_limits_checks_the_role_before_the_body() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let so = l.officer("H1").await;
    let r = l
        .request(Method::PUT, "/api/v1/admin/hospitals/H1/limits", Some(&so))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    problem(r, 403).await;
}

#[tokio::test]
async fn answers_with_reports_are_not_cached_and_pages_are_not_framed() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let so = l.officer("H1").await;
    let r = l
        .request(Method::POST, "/api/v1/reports", None)
        .json(&json!({"hospital": "H1", "department": "ICU",
            "occurred_at": clock::rfc3339_in(-3600), "grade": "III", "category": "fall",
            "harm": "none", "description": "夜间跌倒"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let filed: Value = r.json().await.unwrap();
    let receipt = filed["receipt"].as_str().unwrap();
    let r = l
        .request(Method::GET, &format!("/api/v1/receipts/{receipt}"), None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let r = l
        .request(Method::GET, "/api/v1/reports?hospital=H1", Some(&so))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let r = l
        .request(Method::GET, "/api/v1/openapi.json", None)
        .send()
        .await
        .unwrap();
    assert_ne!(
        r.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );

    let month = clock::current_month();
    for (path, token, accept) in [
        ("/".to_owned(), None, "text/html"),
        ("/receipt".to_owned(), None, "text/html"),
        ("/staff/sign-in".to_owned(), None, "text/html"),
        (
            format!("/api/v1/meetings/{month}?hospital=H1"),
            Some(so.as_str()),
            "text/html",
        ),
    ] {
        let r = l
            .request(Method::GET, &path, token)
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert!(
            h["content-type"].to_str().unwrap().starts_with("text/html"),
            "{path}"
        );
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
    }
    // The printable pack's inline stylesheet is allowed by its hash.
    let r = l
        .request(
            Method::GET,
            &format!("/api/v1/meetings/{month}?hospital=H1"),
            Some(&so),
        )
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("style-src 'sha256-")
    );
}

#[tokio::test]
async fn json_in_another_charset_is_refused() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let before = l.stream_count().await;
    let body = json!({"hospital": "H1", "department": "ICU",
        "occurred_at": clock::rfc3339_in(-3600), "grade": "III", "category": "fall",
        "harm": "none", "description": "跌倒"});
    let r = l
        .request(Method::POST, "/api/v1/reports", None)
        .header("content-type", "application/json; charset=iso-8859-1")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    problem(r, 415).await;
    assert_eq!(l.stream_count().await, before, "nothing appended");
    let r = l
        .request(Method::POST, "/api/v1/reports", None)
        .header("content-type", "application/json; charset=UTF-8")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

/// schemathesis (installed by `make test` through scripts/schemathesis.sh)
/// over /api/v1/openapi.json, as a safety officer of a registered
/// hospital, with limits off: no 5xx but the documented 503, every status,
/// content type and body as documented. Skipped, saying so, where the
/// venv is missing.
#[tokio::test]
async fn schemathesis_finds_nothing() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cli = root.join(".tools/schemathesis/bin/schemathesis");
    if !cli.exists() {
        eprintln!(
            "schemathesis_finds_nothing: skipped: no {} (scripts/schemathesis.sh path installs it; make test runs it)",
            cli.display()
        );
        return;
    }
    let l = Lantern::start_with(&[("LANTERN_RATE_LIMITS", "off")]).await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let so = l.officer("H1").await;
    // CPython 3.11.7's ast module now and then raises "AST constructor
    // recursion depth mismatch" inside hypothesis under load: a crash of
    // the tool, not a finding about Lantern. Such a run is tried once more;
    // anything else (a finding included) fails at once.
    let mut attempts = 0;
    let (out, text) = loop {
        attempts += 1;
        let run = tokio::process::Command::new(&cli)
            .arg("--config-file")
            .arg(root.join("tests/schemathesis.toml"))
            .arg("run")
            .arg(format!("{}/api/v1/openapi.json", l.base))
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
                "--phases",
                "examples,fuzzing",
                "--max-examples",
                "25",
                "--workers",
                "2",
                "--seed",
                "20261207",
                "--no-color",
            ])
            .arg("-H")
            .arg(format!("Authorization: Bearer {so}"))
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(600), run)
            .await
            .expect("schemathesis within 10 minutes")
            .expect("run schemathesis");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let tool_crash =
            !out.status.success() && text.contains("AST constructor recursion depth mismatch");
        if tool_crash && attempts < 2 {
            eprintln!("schemathesis crashed inside Python (not a finding); once more:\n{text}");
            continue;
        }
        break (out, text);
    };
    assert!(out.status.success(), "schemathesis found failures:\n{text}");
}
