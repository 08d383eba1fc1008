//! Traces leave the process over OTLP/HTTP when an endpoint is configured:
//! a real receiver on a free port gets `POST /v1/traces` batches, and the
//! server neither panics nor logs an export failure.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::json;

use crate::support::Lantern;

/// What the receiver got: path, content type, body size.
type Received = Arc<Mutex<Vec<(String, String, usize)>>>;

async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let seen = got.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            async move {
                let ct = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                seen.lock()
                    .unwrap()
                    .push((uri.path().to_owned(), ct, body.len()));
                // An empty ExportTraceServiceResponse.
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

#[tokio::test]
async fn spans_are_exported_to_a_real_otlp_http_receiver() {
    let (url, got) = receiver().await;
    let l = Lantern::start_with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", url.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ])
    .await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let (s, _) = l
        .post(
            "/api/v1/reports",
            None,
            &json!({"hospital": "H1", "department": "ICU",
                    "occurred_at": "2026-01-05T08:00:00+08:00", "grade": "IV",
                    "category": "diet", "harm": "not_applicable", "description": "送错饮食"}),
        )
        .await;
    assert_eq!(s, 201);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let traces = got
            .lock()
            .unwrap()
            .iter()
            .filter(|(path, ct, len)| {
                path == "/v1/traces" && ct == "application/x-protobuf" && *len > 0
            })
            .count();
        if traces > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no trace batch reached the receiver: {:?}\n{}",
            got.lock().unwrap(),
            l.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (s, _) = l.get("/healthz", None).await;
    assert_eq!(s, 200, "the server is still up");
    let log = l.log_text();
    assert!(!log.contains("no reactor"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}
