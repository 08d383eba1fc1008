//! The one HTTP error type, and its mapping to problem+json (RFC 9457).
//! Every service's handlers return [`ApiError`]; nothing else writes an
//! error response.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lantern_directory::DirectoryError;

use lantern_ledger::LedgerError;

use crate::scrub::RefusedCharacter;
use lantern_projection::ProjectionError;
use serde::Serialize;
use utoipa::ToSchema;

/// One bad field, located by a JSON Pointer into the request body (or
/// `/query/<name>` for a query parameter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON Pointer to the field.
    pub pointer: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// A problem details document (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type.
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for this request.
    pub detail: String,
    /// For validation failures: each bad field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Why an append was refused or failed: what a caller may match on (an
/// optimistic-concurrency retry looks for [`AppendError::Conflict`]); its
/// HTTP answer is decided below, once.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The aggregate moved on since the caller read it.
    #[error("the aggregate changed since it was read")]
    Conflict(#[source] LedgerError),
    /// The Idempotency-Key was used before for a different request.
    #[error("the Idempotency-Key was already used for a different request")]
    KeyReused,
    /// A free-text field holds a control or bidirectional-override
    /// character (DESIGN "Anonymity rules"): refused, nothing appended.
    #[error("a free-text field holds a refused character")]
    Refused(RefusedCharacter),
    /// The event store refused or failed otherwise.
    #[error("event store")]
    Ledger(#[source] LedgerError),
    /// On a region's hub: the event belongs to a hospital linked to it,
    /// whose own Lantern keeps its records (DESIGN "Deployment tiers").
    #[error(
        "{hospital} keeps its records at its own Lantern (JetStream domain {domain}, \
         linked to this hub): file this there; this hub only reads what {hospital} records"
    )]
    LinkedHospital {
        /// The hospital's code.
        hospital: String,
        /// Its JetStream domain: where its Lantern is.
        domain: String,
    },
    /// On a hospital's own Lantern: the registration of another hospital.
    #[error(
        "this Lantern is hospital {own}'s (LANTERN_TIER=hospital): {hospital} is registered at its own Lantern"
    )]
    OtherHospital {
        /// The hospital this Lantern belongs to.
        own: String,
        /// The hospital named.
        hospital: String,
    },
    /// What a region's QC centre addresses to a hospital, asked of a
    /// Lantern that is not that region's hub: only the hub writes it, and
    /// it reaches the hospital's Lantern through the link.
    #[error(
        "what region {region}'s QC centre addresses to hospital {hospital} is written at \
         that region's hub (JetStream domain {hub_domain}) and reaches the hospital from there; \
         this Lantern is {here}"
    )]
    AddressedElsewhere {
        /// The region that addresses it.
        region: String,
        /// The hospital addressed.
        hospital: String,
        /// The region's hub's JetStream domain.
        hub_domain: String,
        /// This Lantern's tier, as said at start (`hospital H0001 …`).
        here: String,
    },
    /// The directory could not tell whether a hospital is linked.
    #[error("directory")]
    Directory(#[source] DirectoryError),
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body or query is well-formed but some fields are wrong (422).
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    /// The body is not JSON, or not UTF-8 (400).
    #[error("the body is not valid JSON: {0}")]
    Malformed(String),
    /// The body is not `application/json` (415).
    #[error("the body must be application/json")]
    UnsupportedMediaType,
    /// The body is larger than the limit (413).
    #[error("the body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// No token, or a token we do not know or that was revoked (401).
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// The token is valid but not for this (403).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing here (404).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what was recorded before (409).
    #[error("{0}")]
    Conflict(String),
    /// A request with this Idempotency-Key is still in flight (409,
    /// Retry-After).
    #[error("a request with this Idempotency-Key is still being processed; retry shortly")]
    KeyInFlight,
    /// `?after=<seq>` was not reached in time (503, Retry-After).
    #[error("the read model has not caught up with sequence {0} yet")]
    NotCaughtUp(u64),
    /// The event store is unreachable (503, Retry-After).
    #[error("the event store is unavailable; retry shortly")]
    Unavailable(String),
    /// Too many requests from this client; retry after this many seconds
    /// (429, Retry-After).
    #[error("too many requests from this address; retry in {0} s")]
    TooManyRequests(u64),
    /// No route here takes this method (405).
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    /// The request target is longer than the server reads (414).
    #[error("the URI is longer than {0} bytes")]
    UriTooLong(usize),
    /// The body did not arrive in time (408).
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// A defect or storage failure (500). The cause is logged with its
    /// sources, never returned.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

/// The cause of an internal error, kept with its own sources.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl ApiError {
    /// A 500 caused by `cause` (a message or an error).
    pub fn internal(cause: impl Into<BoxError>) -> ApiError {
        ApiError::Internal(cause.into())
    }

    /// A single-field validation error.
    pub fn field(pointer: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid(vec![FieldError::new(pointer, message)])
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) | ApiError::KeyInFlight => StatusCode::CONFLICT,
            ApiError::NotCaughtUp(_) | ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) => "invalid-fields",
            ApiError::Malformed(_) => "malformed-json",
            ApiError::UnsupportedMediaType => "unsupported-media-type",
            ApiError::PayloadTooLarge(_) => "payload-too-large",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::Conflict(_) => "conflict",
            ApiError::KeyInFlight => "idempotency-key-in-flight",
            ApiError::NotCaughtUp(_) => "not-caught-up",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::TooManyRequests(_) => "too-many-requests",
            ApiError::MethodNotAllowed => "method-not-allowed",
            ApiError::UriTooLong(_) => "uri-too-long",
            ApiError::RequestTimeout => "request-timeout",
            ApiError::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) => "Invalid fields",
            ApiError::Malformed(_) => "Malformed JSON",
            ApiError::UnsupportedMediaType => "Unsupported media type",
            ApiError::PayloadTooLarge(_) => "Payload too large",
            ApiError::Unauthorized => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound(_) => "Not found",
            ApiError::Conflict(_) => "Conflict",
            ApiError::KeyInFlight => "Idempotency-Key in flight",
            ApiError::NotCaughtUp(_) => "Not caught up",
            ApiError::Unavailable(_) => "Service unavailable",
            ApiError::TooManyRequests(_) => "Too many requests",
            ApiError::MethodNotAllowed => "Method not allowed",
            ApiError::UriTooLong(_) => "URI too long",
            ApiError::RequestTimeout => "Request timeout",
            ApiError::Internal(_) => "Internal error",
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let errors = match self {
            ApiError::Invalid(errors) => errors.clone(),
            _ => Vec::new(),
        };
        let detail = match self {
            ApiError::Invalid(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.pointer, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        Problem {
            type_: format!("/problems/{}", self.slug()),
            title: self.title().to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) => {
                // The whole chain: a storage error says little without its cause.
                let mut detail = cause.to_string();
                let mut source = cause.source();
                while let Some(s) = source {
                    detail.push_str(": ");
                    detail.push_str(&s.to_string());
                    source = s.source();
                }
                tracing::error!(%detail, "internal error")
            }
            ApiError::Unavailable(detail) => tracing::warn!(%detail, "event store unavailable"),
            _ => {}
        }
        let problem = self.problem();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            ApiError::TooManyRequests(secs) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
            }
            ApiError::NotCaughtUp(_) | ApiError::KeyInFlight => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            }
            ApiError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> ApiError {
        match e {
            LedgerError::Unavailable(m) => ApiError::Unavailable(m),
            LedgerError::RequestReused { .. } => ApiError::field(
                "/headers/Idempotency-Key",
                "was already used for a different request",
            ),
            LedgerError::Conflict { .. } => ApiError::Conflict(
                "this record changed since you read it; reload and try again".into(),
            ),
            LedgerError::Schema { violations, .. } => ApiError::Invalid(
                violations
                    .into_iter()
                    .map(|v| FieldError::new(v.pointer, v.message))
                    .collect(),
            ),
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

impl From<ProjectionError> for ApiError {
    fn from(e: ProjectionError) -> ApiError {
        ApiError::Internal(Box::new(e))
    }
}

impl From<AppendError> for ApiError {
    fn from(e: AppendError) -> ApiError {
        match e {
            AppendError::Conflict(e) | AppendError::Ledger(e) => e.into(),
            AppendError::KeyReused => ApiError::field(
                "/headers/Idempotency-Key",
                "was already used for a different request",
            ),
            linked @ (AppendError::LinkedHospital { .. }
            | AppendError::AddressedElsewhere { .. }) => ApiError::Conflict(linked.to_string()),
            other @ AppendError::OtherHospital { .. } => {
                ApiError::field("/code", other.to_string())
            }
            AppendError::Directory(e) => e.into(),
            AppendError::Refused(r) => ApiError::field(
                r.pointer,
                format!(
                    "holds a control or bidirectional-override character (U+{:04X}) at character {}",
                    u32::from(r.character),
                    r.index
                ),
            ),
        }
    }
}

impl From<DirectoryError> for ApiError {
    fn from(e: DirectoryError) -> ApiError {
        match e {
            DirectoryError::NotCaughtUp(seq) => ApiError::NotCaughtUp(seq),
            DirectoryError::Ledger(e) => e.into(),
            DirectoryError::Projection(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_each_field() {
        let p = ApiError::Invalid(vec![
            FieldError::new("/harm", "does not agree with grade I"),
            FieldError::new("/department", "unknown department"),
        ])
        .problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.errors.len(), 2);
        assert!(p.detail.contains("/harm"));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["type"], "/problems/invalid-fields");
        assert_eq!(json["errors"][0]["pointer"], "/harm");
    }

    #[tokio::test]
    async fn responses_are_problem_json_with_retry_after() {
        let r = ApiError::Unavailable("down".into()).into_response();
        assert_eq!(r.status(), 503);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        let r = ApiError::Unauthorized.into_response();
        assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
}
