//! Query strings and the values they carry: months, `?after=<seq>`.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

use crate::error::{ApiError, FieldError};
use lantern_projection::Handle;

/// A query string decoded into `T`; an error names the parameter (422).
pub struct ValidQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize(de)
            .map(ValidQuery)
            .map_err(|e| {
                let name = e.path().to_string();
                let message = e.into_inner().to_string();
                let name = if name == "." {
                    message
                        .split('`')
                        .nth(1)
                        .map(str::to_owned)
                        .unwrap_or_default()
                } else {
                    name
                };
                ApiError::Invalid(vec![FieldError::new(format!("/{name}"), message)])
            })
    }
}

impl<S: Send + Sync, T: DeserializeOwned> OptionalFromRequestParts<S> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        <ValidQuery<T> as FromRequestParts<S>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// How long a read waits for `?after=<seq>`.
pub const AFTER_WAIT: Duration = Duration::from_secs(5);

/// Read-your-writes: waits until `handle` has applied `after`, else 503.
pub async fn wait_after(handle: &Handle, after: Option<u64>) -> Result<(), ApiError> {
    match after {
        Some(seq) if !handle.wait_for(seq, AFTER_WAIT).await => Err(ApiError::NotCaughtUp(seq)),
        _ => Ok(()),
    }
}

/// `?after=<seq>` alone.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct After {
    /// Wait (up to 5 s) until the read model has applied this stream sequence.
    pub after: Option<u64>,
}
