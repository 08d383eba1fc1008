//! The Idempotency-Key as the IETF draft has it: a retry gets the first
//! response; the same key with another request is a 422 that appends
//! nothing (and never hands out the first reporter's receipt); the same key
//! at once is a 201 or a 409 with Retry-After, never a 500 or a second event.

use serde_json::{Value, json};

use crate::support::Lantern;

fn report(hospital: &str, description: &str) -> Value {
    json!({"hospital": hospital, "department": "ICU", "occurred_at": "2026-01-05T08:00:00+08:00",
           "grade": "IV", "category": "diet", "harm": "not_applicable", "description": description})
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_refused_and_reveals_nothing() {
    let l = Lantern::with_hospitals(&["H1", "H2"]).await;
    let (s, first) = l
        .post_key(
            "/api/v1/reports",
            None,
            "shared-key",
            &report("H1", "送错饮食"),
        )
        .await;
    assert_eq!(s, 201, "{first}");
    let before = l.stream_count().await;
    for other in [report("H1", "另一件事"), report("H2", "送错饮食")] {
        let (s, p) = l
            .post_key("/api/v1/reports", None, "shared-key", &other)
            .await;
        assert_eq!(s, 422, "{p}");
        assert_eq!(p["errors"][0]["pointer"], "/headers/Idempotency-Key", "{p}");
        assert!(
            !p.to_string().contains(first["receipt"].as_str().unwrap()),
            "the first reporter's receipt leaked: {p}"
        );
    }
    assert_eq!(l.stream_count().await, before, "a refused reuse appended");
    // The true retry still gets the first answer.
    let (s, again) = l
        .post_key(
            "/api/v1/reports",
            None,
            "shared-key",
            &report("H1", "送错饮食"),
        )
        .await;
    assert_eq!((s.as_u16(), &again), (201, &first));
}

#[tokio::test]
async fn the_same_key_at_once_is_answered_once_and_never_with_a_500() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let before = l.stream_count().await;
    let body = report("H1", "同时重试 / retried at once");
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let request = l
            .request(reqwest::Method::POST, "/api/v1/reports", None)
            .header("Idempotency-Key", "at-once")
            .json(&body);
        tasks.push(tokio::spawn(async move {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            let retry_after = r.headers().get("retry-after").cloned();
            let content_type = r.headers().get("content-type").cloned();
            let body: Value = r.json().await.unwrap();
            (status, retry_after, content_type, body)
        }));
    }
    let mut created = Vec::new();
    for t in tasks {
        let (status, retry_after, content_type, body) = t.await.unwrap();
        match status {
            201 => created.push(body),
            409 => {
                assert!(retry_after.is_some(), "409 without Retry-After: {body}");
                assert_eq!(content_type.unwrap(), "application/problem+json");
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(!created.is_empty());
    assert!(created.windows(2).all(|w| w[0] == w[1]), "{created:?}");
    assert_eq!(l.stream_count().await, before + 1, "one report, once");
}

/// The reuse is refused at once, not only once the directory has seen the
/// first request: ten keys, each reused for another report right after its
/// first 201 (the message id holds the key alone, so the server's dedup
/// catches it; the fingerprint beside it tells the reuse from a retry).
#[tokio::test]
async fn a_key_reused_at_once_after_its_first_answer_is_refused_every_time() {
    let l = Lantern::with_hospitals(&["H1", "H2"]).await;
    for round in 0..10 {
        let key = format!("reused-at-once-{round}");
        let (s, first) = l
            .post_key("/api/v1/reports", None, &key, &report("H1", "送错饮食"))
            .await;
        assert_eq!(s, 201, "{first}");
        let before = l.stream_count().await;
        let (s, p) = l
            .post_key("/api/v1/reports", None, &key, &report("H2", "另一件事"))
            .await;
        assert_eq!(s, 422, "round {round}: {p}");
        assert_eq!(p["errors"][0]["pointer"], "/headers/Idempotency-Key", "{p}");
        assert_eq!(
            l.stream_count().await,
            before,
            "round {round}: a reuse appended"
        );
    }
}
