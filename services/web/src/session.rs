//! Server-side sessions for the staff pages.
//!
//! Sign-in takes a bearer token once, resolves it through the same
//! [`Auth::principal`] the API uses, and keeps only the token's hash in a
//! session held in memory; the browser gets a random 256-bit session id in
//! an `HttpOnly; SameSite=Strict; Path=/staff` cookie. Every request
//! re-checks the token hash against the directory, so revoking a token ends
//! its sessions. A restart signs everyone out (docs/decisions.md).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum_extra::extract::cookie::CookieJar;
use lantern_api::auth::{Auth, Principal};
use lantern_api::secrets::sha256_hex;
use lantern_directory::Directory;
use lantern_domain::vocab::Role;
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::Web;
use crate::error::WebError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "lantern_session";

/// How long an idle session lives.
pub const IDLE: Duration = Duration::from_secs(8 * 3600);

/// One signed-in member of staff.
#[derive(Clone)]
struct Session {
    principal: Principal,
    /// The token's hash, re-checked on every request (None: the admin
    /// token, which lives in configuration, not in the directory).
    token_hash: Option<String>,
    csrf: String,
    last_seen: Instant,
}

/// The session store: in memory, keyed by the hash of the session id (so
/// the map never holds a usable cookie value).
#[derive(Clone, Default)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<String, Session>>>,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    data_encoding::HEXLOWER.encode(&bytes)
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock leaves a map that is still
        // consistent (every write is a single insert or remove).
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Resolves `token` and opens a session; returns the session id.
    pub async fn sign_in(&self, auth: &Auth, token: &str) -> Result<String, WebError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(WebError::BadToken);
        }
        let principal = auth
            .principal(token)
            .await
            .map_err(|_| WebError::BadToken)?;
        let token_hash = (principal.role() != Role::Admin).then(|| sha256_hex(token.as_bytes()));
        let id = random_hex();
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, s| now.duration_since(s.last_seen) < IDLE);
        map.insert(
            sha256_hex(id.as_bytes()),
            Session {
                principal,
                token_hash,
                csrf: random_hex(),
                last_seen: now,
            },
        );
        Ok(id)
    }

    /// Ends a session.
    pub fn sign_out(&self, id: &str) {
        self.lock().remove(&sha256_hex(id.as_bytes()));
    }

    /// The live session behind a cookie value, touched.
    fn touch(&self, id: &str) -> Option<Session> {
        let key = sha256_hex(id.as_bytes());
        let mut map = self.lock();
        let now = Instant::now();
        match map.get_mut(&key) {
            Some(s) if now.duration_since(s.last_seen) < IDLE => {
                s.last_seen = now;
                Some(s.clone())
            }
            Some(_) => {
                map.remove(&key);
                None
            }
            None => None,
        }
    }
}

/// A cookie's value from the request headers (every `Cookie` header).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_owned())
}

/// The `Set-Cookie` value for a new session. `Secure` is added by the TLS
/// terminating proxy's configuration, not here (docs/decisions.md): the
/// embedded server speaks plain HTTP on a laptop.
pub fn session_cookie(id: &str) -> String {
    format!(
        "{SESSION_COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/staff; Max-Age={}",
        IDLE.as_secs()
    )
}

/// The `Set-Cookie` value that deletes the session cookie.
pub fn cleared_cookie() -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/staff; Max-Age=0")
}

/// A signed-in member of staff, for a handler: who they are and the
/// session's CSRF token. Without a live session the request is refused
/// (GET pages redirect to sign-in).
#[derive(Clone)]
pub struct Staff {
    /// Who: role and scope, exactly as the API resolves them.
    pub principal: Principal,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    /// The session id (for sign-out).
    pub session_id: String,
}

impl Staff {
    /// 403 unless `submitted` is this session's CSRF token (constant time).
    pub fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        let ok: bool = submitted.as_bytes().ct_eq(self.csrf.as_bytes()).into();
        if ok && !submitted.is_empty() {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

async fn still_valid(directory: &Directory, hash: Option<&str>) -> bool {
    match hash {
        None => true,
        Some(h) => matches!(directory.token(h).await, Ok(Some(r)) if !r.revoked),
    }
}

impl FromRequestParts<Web> for Staff {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let id = cookie(&parts.headers, SESSION_COOKIE).ok_or(WebError::SignInFirst)?;
        let session = web.sessions.touch(&id).ok_or(WebError::SignInFirst)?;
        if !still_valid(&web.intake.directory, session.token_hash.as_deref()).await {
            web.sessions.sign_out(&id);
            return Err(WebError::SignInFirst);
        }
        Ok(Staff {
            principal: session.principal,
            csrf: session.csrf,
            session_id: id,
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::header;

    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; lantern_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn session_ids_are_256_bit_and_cookies_strict() {
        assert_eq!(random_hex().len(), 64);
        assert_ne!(random_hex(), random_hex());
        let c = session_cookie("x");
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/staff")
        );
    }

    #[test]
    fn csrf_must_match() {
        let staff = Staff {
            principal: Principal::SafetyOfficer {
                hospital: "H1".into(),
            },
            csrf: "abc".into(),
            session_id: "s".into(),
        };
        assert!(staff.check_csrf("abc").is_ok());
        assert!(staff.check_csrf("abd").is_err());
        assert!(staff.check_csrf("").is_err());
    }
}
