//! The report form and receipt page, served from assets embedded in the
//! binary. The pages call the JSON API; they set no cookies and load
//! nothing from elsewhere (the CSP forbids it).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use include_dir::{Dir, include_dir};
use lantern_api::path::ValidPath;

use lantern_api::error::ApiError;

static ASSETS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/assets");

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn serve(name: &str) -> Response {
    let Some(file) = ASSETS.get_file(name) else {
        return ApiError::NotFound(format!("no asset {name}")).into_response();
    };
    let mut response = (StatusCode::OK, file.contents()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    // frame-ancestors says it to browsers that read CSP; this header to
    // those that do not.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The report form (zh-CN, with English).
#[utoipa::path(get, path = "/", tag = "pages", responses((status = 200, content_type = "text/html", description = "The report form")))]
pub async fn index() -> Response {
    serve("index.html")
}

/// The receipt page: status, feedback, follow-ups.
#[utoipa::path(get, path = "/receipt", tag = "pages", responses((status = 200, content_type = "text/html", description = "The receipt page")))]
pub async fn receipt_page() -> Response {
    serve("receipt.html")
}

/// A static asset of the pages.
#[utoipa::path(get, path = "/assets/{file}", tag = "pages",
    params(("file" = String, Path, description = "Asset file name")),
    responses((status = 200, description = "The asset"), (status = 404, description = "No such asset", content_type = "application/problem+json")))]
pub async fn asset(ValidPath(file): ValidPath<String>) -> Response {
    if file.contains('/') || file.ends_with(".html") {
        return ApiError::NotFound(format!("no asset {file}")).into_response();
    }
    serve(&file)
}

#[cfg(test)]
mod tests {
    #[test]
    fn pages_are_embedded() {
        for name in ["index.html", "receipt.html"] {
            assert!(super::ASSETS.get_file(name).is_some(), "{name} missing");
        }
    }
}
