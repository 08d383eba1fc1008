//! The OpenAPI document: valid, and covering every route the server has.

use lantern_e2e::{ADMIN, Lantern};
use serde_json::Value;

/// Every route the server serves (method, path template).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/"),
    ("get", "/receipt"),
    ("get", "/assets/{file}"),
    ("get", "/api/v1/hospitals"),
    ("post", "/api/v1/admin/hospitals"),
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
    ("get", "/api/v1/rates"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
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
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
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
    let mut expected: Vec<(String, String)> =
        ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    documented.sort();
    expected.sort();
    assert_eq!(documented, expected, "the document and the routes differ");

    // Every $ref resolves inside the document.
    let mut all = vec![];
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("remote $ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
    }
    // POST bodies are described.
    for (m, p) in ROUTES.iter().filter(|(m, _)| *m == "post") {
        assert!(doc["paths"][p][m]["requestBody"].is_object(), "{m} {p} has no request body");
    }

    // And every documented route exists on the server: none answers 404/405
    // for its method (404 from a handler is a problem+json, not a missing route).
    for (method, path) in ROUTES {
        let concrete = path
            .replace("{file}", "app.js")
            .replace("{code}", "H1")
            .replace("{prefix}", "0123456789ab")
            .replace("{id}", "01900000-0000-7000-8000-000000000000")
            .replace("{receipt}", "AAAAAAAAAAAAAAAAAAAAAAAAAA");
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = l.request(m, &concrete, Some(ADMIN)).send().await.unwrap();
        assert_ne!(r.status(), 405, "{method} {path}");
        if r.status() == 404 {
            let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
            assert_eq!(ct, "application/problem+json", "{method} {path} is not routed");
        }
    }
}
