//! The OpenAPI document: valid, and covering every route the server has.

use crate::support::{ADMIN, Lantern};
use serde_json::Value;

/// Every route the server serves (method, path template).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/"),
    ("get", "/receipt"),
    ("get", "/assets/{file}"),
    ("get", "/api/v1/hospitals"),
    ("post", "/api/v1/admin/hospitals"),
    ("post", "/api/v1/admin/regions"),
    ("post", "/api/v1/admin/links"),
    ("post", "/api/v1/admin/hospitals/{code}/departments"),
    ("post", "/api/v1/admin/tokens"),
    ("delete", "/api/v1/admin/tokens/{prefix}"),
    ("post", "/api/v1/reports"),
    ("get", "/api/v1/reports"),
    ("get", "/api/v1/reports/{id}"),
    ("post", "/api/v1/reports/{id}/triage"),
    ("post", "/api/v1/reports/{id}/feedback"),
    ("get", "/api/v1/receipts/{receipt}"),
    ("post", "/api/v1/receipts/{receipt}/follow-ups"),
    ("post", "/api/v1/census"),
    ("put", "/api/v1/admin/hospitals/{code}/limits"),
    ("post", "/api/v1/critical-values"),
    ("get", "/api/v1/critical-values"),
    ("get", "/api/v1/critical-values/{id}"),
    ("post", "/api/v1/critical-values/{id}/notified"),
    ("post", "/api/v1/critical-values/{id}/acknowledged"),
    ("post", "/api/v1/critical-values/{id}/handled"),
    ("put", "/api/v1/hospitals/{code}/critical-catalogue/{item}"),
    ("get", "/api/v1/hospitals/{code}/critical-catalogue"),
    ("get", "/api/v1/rates"),
    ("post", "/api/v1/targets"),
    ("get", "/api/v1/targets"),
    ("post", "/api/v1/references"),
    ("get", "/api/v1/references"),
    ("post", "/api/v1/deaths"),
    ("get", "/api/v1/deaths"),
    ("get", "/api/v1/deaths/{id}"),
    ("get", "/api/v1/deaths/reported"),
    ("post", "/api/v1/deaths/{id}/reviews"),
    ("post", "/api/v1/deaths/{id}/autopsy"),
    ("post", "/api/v1/deaths/{id}/close"),
    ("get", "/api/v1/meetings/{month}"),
    ("get", "/api/v1/cases"),
    ("get", "/api/v1/public/figures"),
    ("get", "/api/v1/quality-reports/{period}"),
    ("post", "/api/v1/follow-ups"),
    ("get", "/api/v1/follow-ups"),
    ("get", "/api/v1/follow-ups/{id}"),
    ("post", "/api/v1/follow-ups/{id}/answers"),
    ("post", "/api/v1/follow-ups/{id}/carry"),
    ("post", "/api/v1/follow-ups/{id}/close"),
    ("post", "/api/v1/rca"),
    ("get", "/api/v1/rca"),
    ("get", "/api/v1/rca/required"),
    ("get", "/api/v1/rca/figures"),
    ("get", "/api/v1/rca/{id}"),
    ("post", "/api/v1/rca/{id}/timeline"),
    ("post", "/api/v1/rca/{id}/factors"),
    ("post", "/api/v1/rca/{id}/root-causes"),
    ("post", "/api/v1/rca/{id}/actions"),
    ("post", "/api/v1/rca/{id}/actions/{n}/complete"),
    ("post", "/api/v1/rca/{id}/close"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/api/v1/openapi.json"),
];

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "$ref" {
                    if let Some(s) = v.as_str() {
                        out.push(s);
                    }
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn openapi_is_valid_and_covers_every_route() {
    let l = Lantern::start().await;
    let (s, doc) = l.get("/api/v1/openapi.json", None).await;
    assert_eq!(s, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<(String, String)> = vec![];
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                assert!(
                    op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                    "{method} {path} documents no responses"
                );
                documented.push((method.clone(), path.clone()));
            }
        }
    }
    let mut expected: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    documented.sort();
    expected.sort();
    assert_eq!(documented, expected, "the document and the routes differ");

    // A report as shown is the stored record and its description.
    let report = doc["components"]["schemas"]["Report"].to_string();
    for field in ["description", "ReportRecord"] {
        assert!(
            report.contains(field),
            "Report schema lacks {field}: {report}"
        );
    }
    let record = doc["components"]["schemas"]["ReportRecord"].to_string();
    assert!(record.contains("filed_on"), "{record}");
    assert!(
        !record.contains("filed_seq") && !report.contains("filed_seq"),
        "{record}"
    );

    // Every $ref resolves inside the document.
    let mut all = vec![];
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("remote $ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
    }
    // POST bodies are described.
    for (m, p) in ROUTES.iter().filter(|(m, _)| *m == "post" || *m == "put") {
        assert!(
            doc["paths"][p][m]["requestBody"].is_object(),
            "{m} {p} has no request body"
        );
    }

    // And every documented route exists on the server: none answers 404/405
    // for its method (404 from a handler is a problem+json, not a missing route).
    for (method, path) in ROUTES {
        let concrete = path
            .replace("{file}", "app.js")
            .replace("{code}", "H1")
            .replace("{prefix}", "0123456789ab")
            .replace("{id}", "01900000-0000-7000-8000-000000000000")
            .replace("{receipt}", "AAAAAAAAAAAAAAAAAAAAAAAAAA")
            .replace("{n}", "1");
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = l.request(m, &concrete, Some(ADMIN)).send().await.unwrap();
        assert_ne!(r.status(), 405, "{method} {path}");
        if r.status() == 404 {
            let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
            assert_eq!(
                ct, "application/problem+json",
                "{method} {path} is not routed"
            );
        }
    }
}

#[tokio::test]
async fn trace_context_flows_into_the_event_and_metrics_count() {
    let l = Lantern::start().await;
    let seq = l.hospital("H1", "R1", &["ICU"]).await;
    let officer = l.officer("H1").await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    // Staff: the caller's trace continues into the stored event.
    let r = l
        .request(reqwest::Method::POST, "/api/v1/census", Some(&officer))
        .header("traceparent", &traceparent)
        .json(&serde_json::json!({"hospital": "H1", "department": "ICU",
            "month": "2026-01", "discharges": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let payloads = l.stream_payloads().await;
    let event: Value = serde_json::from_slice(payloads.last().unwrap()).unwrap();
    let trace = event["trace"]
        .as_str()
        .expect("the envelope carries the traceparent");
    assert!(trace.starts_with(&format!("00-{trace_id}-")), "{trace}");
    assert_eq!(event["type"], "census.recorded");
    // Anonymous: a fresh root trace; the client's trace id is stored nowhere.
    let r = l
        .request(reqwest::Method::POST, "/api/v1/reports", None)
        .header("traceparent", &traceparent)
        .json(&serde_json::json!({"hospital": "H1", "department": "ICU",
            "occurred_at": "2026-01-05T08:00:00+08:00", "grade": "IV", "category": "diet",
            "harm": "not_applicable", "description": "送错饮食，发药前发现"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let payloads = l.stream_payloads().await;
    let raw = String::from_utf8_lossy(payloads.last().unwrap()).into_owned();
    let event: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(event["type"], "report.filed");
    assert!(
        !raw.contains(trace_id),
        "an anonymous client's trace id was stored: {raw}"
    );
    assert!(seq > 0);

    // A refused request counts as a validation failure of its route.
    let (s, _) = l
        .post(
            "/api/v1/reports",
            None,
            &serde_json::json!({"hospital": "H1"}),
        )
        .await;
    assert_eq!(s, 422);
    // /metrics times every filing: never on the public address.
    let (s, problem) = l.get("/metrics", None).await;
    assert_eq!(s, 404, "{problem}");
    let text = l.ops_metrics().await;
    assert!(
        text.contains(r#"lantern_appends_total{event_type="report.filed"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"lantern_validation_failures_total{route="POST /api/v1/reports"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"lantern_projector_position{projector="rates"}"#),
        "{text}"
    );
    // Group commit is on by default; every append it carried is counted,
    // alone or in a batch.
    let group = |counted: &str| -> u64 {
        let prefix = format!(r#"lantern_group_commit{{counted="{counted}"}} "#);
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no {prefix}in {text}"))
            .parse()
            .unwrap()
    };
    assert!(
        group("alone_events") + group("batched_events") >= 1,
        "{text}"
    );
    assert!(group("batches") <= group("batched_events"), "{text}");
    assert_eq!(group("refused_batches"), 0, "{text}");
    assert!(
        text.contains(r#"lantern_projector_lag{projector="directory"}"#),
        "{text}"
    );
}

#[tokio::test]
async fn malformed_requests_get_problem_json_and_append_nothing() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let before = l.stream_count().await;
    let post = |body: Vec<u8>, content_type: &str| {
        l.request(reqwest::Method::POST, "/api/v1/reports", None)
            .header("content-type", content_type.to_owned())
            .body(body)
    };
    let cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        (
            "broken JSON",
            post(b"{\"hospital\": ".to_vec(), "application/json"),
            400,
        ),
        (
            "invalid UTF-8",
            post(b"{\"hospital\": \"\xff\"}".to_vec(), "application/json"),
            400,
        ),
        // Past serde_json's nesting limit: not JSON we read at all.
        (
            "deeply nested",
            post("[".repeat(100_000).into_bytes(), "application/json"),
            400,
        ),
        (
            "1 MiB + 1 byte",
            post(vec![b' '; 1024 * 1024 + 1], "application/json"),
            413,
        ),
        (
            "form instead of JSON",
            post(b"hospital=H1".to_vec(), "application/x-www-form-urlencoded"),
            415,
        ),
        (
            "no content type",
            l.request(reqwest::Method::POST, "/api/v1/reports", None)
                .body("{}"),
            415,
        ),
    ];
    for (what, request, status) in cases {
        let r = request.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{what}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{what}"
        );
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["status"], status, "{what}");
        assert!(
            p["title"].is_string() && p["detail"].is_string() && p["type"].is_string(),
            "{what}: {p}"
        );
    }
    let r = l
        .request(reqwest::Method::POST, "/api/v1/reports", None)
        .header("Idempotency-Key", "has spaces in it")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(l.stream_count().await, before, "nothing appended");
}
