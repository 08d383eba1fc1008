//! The responses every endpoint shares: 201 bodies and the documented
//! problem+json answers of commands and queries.

use axum::Json;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

use crate::error::Problem;

/// The errors a command (POST) can answer with.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum CommandErrors {
    /// The body is not JSON.
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(Problem),
    /// Missing or unknown bearer token.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The token's role or scope does not allow this.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// The thing addressed does not exist.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// Conflicts with what was recorded before.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// The body is larger than 1 MiB.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not application/json.
    #[response(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Problem),
    /// Invalid fields, each named by a JSON Pointer.
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
    /// The event store is unavailable; retry after Retry-After.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// The errors a query (GET) can answer with.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum QueryErrors {
    /// Missing or unknown bearer token.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The token's role or scope does not allow this.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// The thing addressed does not exist.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// Invalid query parameters.
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
    /// `?after=` not reached within 5 s, or the store is unavailable.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// A 201 with a JSON body.
pub fn created<T: Serialize>(body: T) -> (StatusCode, Json<T>) {
    (StatusCode::CREATED, Json(body))
}

/// The answer to a command that creates nothing addressable: the event's
/// stream sequence, for `?after=` on later reads.
#[derive(Debug, Serialize, ToSchema)]
pub struct Appended {
    /// Stream sequence of the stored event.
    pub seq: u64,
}
