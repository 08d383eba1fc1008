//! Path segments: `/api/v1/critical-values/{id}` decoded into a typed value
//! whose every error is a problem+json naming the segment — axum's own
//! `Path` answers `400 text/plain` and echoes what was sent.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, RawPathParams};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The path parameters decoded into `T` (one value, or a tuple in the
/// order of the route's parameters).
///
/// A segment that does not decode (not a UUID, not UTF-8 once
/// percent-decoded) is a 422 whose pointer names the parameter, e.g.
/// `/id`; what was sent is not repeated back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ValidPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ValidPath(value)),
            Err(rejection) => {
                // The names of the route's parameters, to say which one
                // failed when axum's error does not.
                let keys: Vec<String> = RawPathParams::from_request_parts(parts, state)
                    .await
                    .map(|raw| raw.iter().map(|(k, _)| k.to_owned()).collect())
                    .unwrap_or_default();
                Err(refused::<T>(rejection, &keys))
            }
        }
    }
}

/// The error for a path that did not decode.
fn refused<T>(rejection: PathRejection, keys: &[String]) -> ApiError {
    let PathRejection::FailedToDeserializePathParams(e) = rejection else {
        // No parameters at all: the route and its handler disagree.
        return ApiError::internal(rejection.body_text());
    };
    let only = || keys.first().filter(|_| keys.len() == 1).cloned();
    let (key, expected) = match e.into_kind() {
        ErrorKind::ParseErrorAtKey {
            key, expected_type, ..
        } => (Some(key), Some(expected_type)),
        ErrorKind::ParseErrorAtIndex {
            index,
            expected_type,
            ..
        } => (keys.get(index).cloned(), Some(expected_type)),
        ErrorKind::ParseError { expected_type, .. } => (only(), Some(expected_type)),
        ErrorKind::InvalidUtf8InPathParam { key } => {
            return ApiError::field(format!("/{key}"), "is not UTF-8 once percent-decoded");
        }
        ErrorKind::DeserializeError { key, .. } => (Some(key), None),
        ErrorKind::Message(_) => (only(), None),
        other => return ApiError::internal(other.to_string()),
    };
    let expected = expected.unwrap_or_else(|| short_type_name::<T>());
    let message = match expected {
        "Uuid" => "is not a UUID".to_owned(),
        "String" | "str" => "is not valid here".to_owned(),
        other => format!("is not a valid {other}"),
    };
    ApiError::field(format!("/{}", key.unwrap_or_default()), message)
}

/// `uuid::Uuid` → `Uuid`.
fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use axum::response::IntoResponse;
    use axum::routing::get;
    use tower::ServiceExt;
    use uuid::Uuid;

    async fn one(ValidPath(id): ValidPath<Uuid>) -> String {
        id.to_string()
    }

    async fn two(ValidPath((id, n)): ValidPath<(Uuid, u32)>) -> String {
        format!("{id}/{n}")
    }

    async fn call(uri: &str) -> (StatusCode, String, serde_json::Value) {
        let app = Router::new()
            .route("/things/{id}", get(one))
            .route("/things/{id}/parts/{n}", get(two));
        let r = app
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap()
            .into_response();
        let status = r.status();
        let ct = r
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        (
            status,
            ct,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    #[tokio::test]
    async fn a_bad_segment_is_problem_json_naming_it_without_echoing_it() {
        let (status, ct, body) = call("/things/not-a-uuid").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(ct, "application/problem+json");
        assert_eq!(body["errors"][0]["pointer"], "/id");
        assert_eq!(body["errors"][0]["message"], "is not a UUID");
        assert!(!body.to_string().contains("not-a-uuid"), "{body}");

        let id = Uuid::new_v4();
        let (status, _, body) = call(&format!("/things/{id}/parts/x")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["pointer"], "/n", "{body}");
        let (status, _, body) = call("/things/%FF").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["pointer"], "/id", "{body}");
    }

    #[tokio::test]
    async fn a_good_segment_decodes() {
        let id = Uuid::new_v4();
        let (status, _, _) = call(&format!("/things/{id}/parts/3")).await;
        assert_eq!(status, StatusCode::OK);
    }
}
