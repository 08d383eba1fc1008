//! What every response carries whatever answered it (DESIGN "Security",
//! "HTTP API"): `Cache-Control: no-store` on the API's answers (receipts,
//! reports, case files, trails and critical values must not sit in a
//! shared or browser cache), a CSP and `X-Frame-Options: DENY` on every
//! HTML page, and problem+json for what no handler answers: an unknown
//! route, a wrong method, a URI longer than the server reads.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The longest request target (path and query) read: 8 KiB.
pub const URI_LIMIT: usize = 8 * 1024;

/// The policy of an HTML page that sets none of its own: nothing but its
/// own stylesheet and images, no script, never framed.
pub const DEFAULT_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                               form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// API paths whose answers may be cached: they carry nothing of a report
/// or a case (the API's own description, published figures).
const CACHEABLE: [&str; 2] = ["/api/v1/openapi.json", "/api/v1/public/"];

fn cacheable(path: &str) -> bool {
    CACHEABLE
        .iter()
        .any(|p| path == *p || (p.ends_with('/') && path.starts_with(p)))
}

/// The middleware: refuses an over-long URI, then adds the headers above to
/// whatever the request was answered with.
pub async fn secure(req: Request, next: Next) -> Response {
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > URI_LIMIT {
        return ApiError::UriTooLong(URI_LIMIT).into_response();
    }
    let path = req.uri().path();
    let api = (path.starts_with("/api/") || path.starts_with("/fhir/")) && !cacheable(path);
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if is_html(headers) {
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(DEFAULT_CSP));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers
            .entry(header::X_CONTENT_TYPE_OPTIONS)
            .or_insert(HeaderValue::from_static("nosniff"));
    }
    response
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"))
}

/// A self-contained HTML page (its styles inline, no script) with a CSP
/// that allows exactly its own `<style>` elements, by hash, and nothing
/// else; never framed.
pub fn html_page(document: String) -> Response {
    let csp = format!(
        "default-src 'none'; style-src {}; img-src 'self' data:; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
        style_hashes(&document)
    );
    let mut r = document.into_response();
    let headers = r.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// `'sha256-…'` of every `<style>` element's text, or `'none'`.
fn style_hashes(page: &str) -> String {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find("<style>") {
        let body = &rest[start + "<style>".len()..];
        let Some(end) = body.find("</style>") else {
            break;
        };
        let digest = Sha256::digest(&body.as_bytes()[..end]);
        out.push(format!(
            "'sha256-{}'",
            data_encoding::BASE64.encode(&digest)
        ));
        rest = &body[end..];
    }
    if out.is_empty() {
        "'none'".to_owned()
    } else {
        out.join(" ")
    }
}

/// The router's fallback: nothing is routed here (404 problem+json).
pub async fn not_found() -> ApiError {
    ApiError::NotFound("nothing here".into())
}

/// The method routers' fallback: the path exists, the method does not
/// (405 problem+json; axum adds `Allow`).
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    fn app() -> Router {
        Router::new()
            .route(
                "/api/v1/receipts/{r}",
                get(|| async { axum::Json(serde_json::json!({"ok": true})) }),
            )
            .route(
                "/api/v1/openapi.json",
                get(|| async { axum::Json(serde_json::json!({})) }),
            )
            .route("/page", get(|| async { axum::response::Html("<p>hi</p>") }))
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(axum::middleware::from_fn(secure))
    }

    async fn call(method: &str, uri: &str) -> Response {
        app()
            .oneshot(
                Request::builder()
                    .method(method)
                    .uri(uri)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap()
    }

    fn ct(r: &Response) -> &str {
        r.headers()[header::CONTENT_TYPE].to_str().unwrap()
    }

    #[tokio::test]
    async fn api_answers_are_not_stored_but_the_description_may_be() {
        let r = call("GET", "/api/v1/receipts/x").await;
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        let r = call("GET", "/api/v1/openapi.json").await;
        assert!(r.headers().get(header::CACHE_CONTROL).is_none());
    }

    #[tokio::test]
    async fn html_pages_get_a_csp_and_are_never_framed() {
        let r = call("GET", "/page").await;
        assert_eq!(r.headers()[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(r.headers()[header::CONTENT_SECURITY_POLICY], DEFAULT_CSP);
    }

    #[tokio::test]
    async fn unrouted_wrong_method_and_long_uri_are_problem_json() {
        let r = call("GET", "/nowhere").await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(ct(&r), "application/problem+json");
        let r = call("DELETE", "/api/v1/receipts/x").await;
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(ct(&r), "application/problem+json");
        assert_eq!(r.headers()[header::ALLOW], "GET,HEAD");
        let long = format!("/api/v1/receipts/{}", "a".repeat(URI_LIMIT));
        let r = call("GET", &long).await;
        assert_eq!(r.status(), StatusCode::URI_TOO_LONG);
        assert_eq!(ct(&r), "application/problem+json");
    }

    #[test]
    fn the_page_csp_allows_exactly_its_styles() {
        let r = html_page("<html><style>p{}</style><style>b{}</style></html>".into());
        let csp = r.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        let hash = |s: &str| data_encoding::BASE64.encode(&Sha256::digest(s.as_bytes()));
        assert!(csp.contains(&format!(
            "'sha256-{}' 'sha256-{}'",
            hash("p{}"),
            hash("b{}")
        )));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(r.headers()[header::X_FRAME_OPTIONS], "DENY");
        let none = html_page("<p>x</p>".into());
        assert!(
            none.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("style-src 'none'")
        );
    }
}
