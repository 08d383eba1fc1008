//! The `Idempotency-Key` header, as the IETF draft "The Idempotency-Key HTTP
//! Header Field" has it: a retry (same key, same request) gets the first
//! response and appends nothing; the same key with a different request is a
//! 422; the same key while its first request is still in flight is a 409
//! with `Retry-After` — never a 500.
//!
//! [`guard`] is a middleware over every route: for a request that carries a
//! key it fingerprints the request (method, path, body, under the server
//! secret) and refuses a second one with the same key while the first runs.
//! [`IdempotencyKey`] hands handlers the key and that fingerprint; the
//! command path stores both with the event ([`IdempotencyKey::scoped`]) and
//! compares them on a retry (`Kernel::replayed`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use lantern_directory::KEY_SEPARATOR;

use crate::error::ApiError;
use crate::json::BODY_LIMIT;
use crate::secrets::{ServerSecret, sha256_hex};

/// The header.
pub const HEADER: &str = "idempotency-key";

/// The fingerprint of the request a key came with (a request extension).
#[derive(Debug, Clone)]
struct Fingerprint(String);

/// What the middleware needs: the secret fingerprints are keyed with, and
/// the keys whose first request is still running in this process.
#[derive(Clone)]
pub struct Idempotency {
    secret: ServerSecret,
    in_flight: Arc<Mutex<HashSet<String>>>,
}

impl Idempotency {
    /// The middleware's state.
    pub fn new(secret: ServerSecret) -> Idempotency {
        Idempotency {
            secret,
            in_flight: Arc::default(),
        }
    }
}

/// Removes a key from the in-flight set when its request ends, however it
/// ends (answered, failed, or dropped by a client that went away).
struct InFlight {
    set: Arc<Mutex<HashSet<String>>>,
    key: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

/// Middleware: fingerprints a request that carries an Idempotency-Key and
/// answers 409 (`Retry-After: 1`) while another with the same key, caller
/// and route is in flight. Requests without a key pass untouched.
pub async fn guard(State(idem): State<Idempotency>, req: Request, next: Next) -> Response {
    let Some(key) = req.headers().get(HEADER).map(|v| v.as_bytes().to_vec()) else {
        return next.run(req).await;
    };
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return ApiError::PayloadTooLarge(BODY_LIMIT).into_response();
    };
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let caller = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    // Who, where and which key: never stored, only held while it runs.
    let flight = sha256_hex(
        &[
            method.as_bytes(),
            b"\0",
            path.as_bytes(),
            b"\0",
            &caller,
            b"\0",
            &key,
        ]
        .concat(),
    );
    let taken = !idem
        .in_flight
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(flight.clone());
    if taken {
        return ApiError::KeyInFlight.into_response();
    }
    let _in_flight = InFlight {
        set: idem.in_flight.clone(),
        key: flight,
    };
    parts.extensions.insert(Fingerprint(
        idem.secret.request_fingerprint(&method, &bytes),
    ));
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The `Idempotency-Key` header, if any (1–255 visible ASCII characters),
/// with the fingerprint of the request it came with.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(Option<(String, String)>);

impl IdempotencyKey {
    /// A key that came another way than the header, with no request to
    /// fingerprint: an HL7 message's control id, whose repeat is the same
    /// message whatever it holds (a retry of any request under it gets the
    /// first answer).
    pub fn of(key: impl Into<String>) -> IdempotencyKey {
        IdempotencyKey(Some((key.into(), String::new())))
    }

    /// The id the key is known by in the stream: its hash, scoped to who
    /// sent it and where (equal keys from different clients never meet),
    /// then the request's fingerprint, so that a retry is told from another
    /// request under the same key.
    pub fn scoped(&self, scope: &str, route: &str) -> Option<String> {
        self.0.as_ref().map(|(k, fingerprint)| {
            let hash = sha256_hex(format!("lantern-idempotency\0{scope}\0{route}\0{k}").as_bytes());
            if fingerprint.is_empty() {
                hash
            } else {
                format!("{hash}{KEY_SEPARATOR}{fingerprint}")
            }
        })
    }
}

pub use lantern_directory::split_key as split;

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(HEADER) else {
            return Ok(IdempotencyKey(None));
        };
        let key = value
            .to_str()
            .ok()
            .map(|s| s.trim().trim_matches('"'))
            .filter(|s| !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                ApiError::field(
                    "/headers/Idempotency-Key",
                    "must be 1–255 visible ASCII characters",
                )
            })?;
        let fingerprint = parts
            .extensions
            .get::<Fingerprint>()
            .map(|f| f.0.clone())
            .unwrap_or_default();
        Ok(IdempotencyKey(Some((key.to_owned(), fingerprint))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str, fingerprint: &str) -> IdempotencyKey {
        IdempotencyKey(Some((k.into(), fingerprint.into())))
    }

    #[test]
    fn a_retry_and_another_request_under_one_key_share_the_hash_not_the_fingerprint() {
        let first = key("k1", "aa").scoped("anonymous", "POST /r").unwrap();
        let retry = key("k1", "aa").scoped("anonymous", "POST /r").unwrap();
        let other = key("k1", "bb").scoped("anonymous", "POST /r").unwrap();
        assert_eq!(first, retry);
        assert_ne!(first, other);
        assert_eq!(split(&first).0, split(&other).0);
        assert_eq!(split(&first).1, Some("aa"));
        let elsewhere = key("k1", "aa").scoped("H1", "POST /r").unwrap();
        assert_ne!(split(&first).0, split(&elsewhere).0);
    }

    #[test]
    fn a_key_without_a_fingerprint_is_its_hash_alone() {
        let scoped = key("k1", "").scoped("s", "r").unwrap();
        assert_eq!(split(&scoped), (scoped.as_str(), None));
        assert!(IdempotencyKey::default().scoped("s", "r").is_none());
    }

    #[test]
    fn fingerprints_differ_by_method_and_body_and_by_secret() {
        let s = ServerSecret::from_bytes([7; 32]);
        let f = s.request_fingerprint("POST", b"{}");
        assert_eq!(f, s.request_fingerprint("POST", b"{}"));
        assert_ne!(f, s.request_fingerprint("PUT", b"{}"));
        assert_ne!(f, s.request_fingerprint("POST", b"{ }"));
        assert_ne!(
            f,
            ServerSecret::from_bytes([8; 32]).request_fingerprint("POST", b"{}")
        );
    }
}
