//! Server-side sessions for the staff pages, shared by every replica.
//!
//! Sign-in takes a bearer token once, resolves it through the same
//! [`Auth::principal`] the API uses, and opens a session in a JetStream
//! key-value bucket beside the stream ([`BUCKET`]), so that any replica of
//! `lantern serve` serves any signed-in request and a sign-out anywhere ends
//! the session everywhere at once (each request reads the bucket; nothing is
//! cached). The browser gets a random 256-bit session id in an `HttpOnly;
//! SameSite=Strict; Path=/staff` cookie; the bucket's key is that id's
//! SHA-256, so the bucket never holds a usable cookie value.
//!
//! A session keeps no token and no principal: the token's SHA-256 (as the
//! stream knows it), or for the admin token, which is configuration, a
//! keyed hash of it under the server secret; and its CSRF token. Every
//! request resolves the principal anew through [`Auth`], so revoking a
//! token ends its sessions, and changing the admin token ends the admin's.
//! Sessions expire after [`IDLE`] without a request: the bucket drops an
//! entry that long after its last write, and a request re-writes it (a
//! compare-and-set, so it cannot undo a sign-out) at most every
//! [`TOUCH_EVERY`].

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum_extra::extract::cookie::CookieJar;
use lantern_api::ApiError;
use lantern_api::auth::{Auth, Principal};
use lantern_api::secrets::{ServerSecret, sha256_hex};
use lantern_ledger::kv::Bucket;
use lantern_ledger::{Ledger, LedgerError};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::Web;
use crate::error::WebError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "lantern_session";

/// How long an idle session lives.
pub const IDLE: Duration = Duration::from_secs(8 * 3600);

/// How often a session in use is written again to push its expiry on: a
/// write per request would be a replicated write per page view.
pub const TOUCH_EVERY: Duration = Duration::from_secs(5 * 60);

/// The key-value bucket of the sessions.
pub const BUCKET: &str = "LANTERN_SESSIONS";

/// The purpose of the admin token's keyed hash ([`ServerSecret::mark`]).
const ADMIN_MARK: &str = "admin-session";

/// Who a session is, without the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Credential {
    /// SHA-256 of an issued token, as `org.token_issued` records it.
    TokenHash(String),
    /// The admin token's keyed hash under the server secret: a weak admin
    /// token cannot be guessed back from the bucket.
    Admin(String),
}

/// A session as the bucket holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    credential: Credential,
    csrf: String,
    /// When it was last written (Unix seconds).
    touched: i64,
}

/// What a request does with a session last written at `touched`.
#[derive(Debug, PartialEq, Eq)]
enum Age {
    /// Over [`IDLE`]: gone, even if the bucket has not dropped it yet.
    Expired,
    /// Over [`TOUCH_EVERY`]: write it again.
    Stale,
    Fresh,
}

fn age(touched: i64, now: i64) -> Age {
    let idle = now.saturating_sub(touched);
    // IDLE and TOUCH_EVERY are hours and minutes: they fit an i64.
    if idle >= IDLE.as_secs() as i64 {
        Age::Expired
    } else if idle >= TOUCH_EVERY.as_secs() as i64 {
        Age::Stale
    } else {
        Age::Fresh
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The session store.
#[derive(Clone)]
pub struct Sessions {
    bucket: Bucket,
    secret: ServerSecret,
    /// The configured admin token's keyed hash.
    admin: String,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("bucket", &self.bucket)
            .finish()
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    data_encoding::HEXLOWER.encode(&bytes)
}

fn unavailable(e: LedgerError) -> WebError {
    WebError::Api(e.into())
}

impl Sessions {
    /// The sessions of the stream's replicas: opens (or creates) the bucket.
    /// `admin_token` is the configured one; sessions opened with another
    /// admin token end.
    pub async fn open(
        ledger: &Ledger,
        secret: ServerSecret,
        admin_token: &str,
    ) -> Result<Sessions, LedgerError> {
        let bucket = ledger
            .bucket(
                BUCKET,
                "Lantern: staff sessions of every replica (expire when idle)",
                IDLE,
            )
            .await?;
        Ok(Sessions {
            bucket,
            admin: secret.mark(ADMIN_MARK, admin_token),
            secret,
        })
    }

    /// Resolves `token` and opens a session; returns the session id.
    pub async fn sign_in(&self, auth: &Auth, token: &str) -> Result<String, WebError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(WebError::BadToken);
        }
        let principal = match auth.principal(token).await {
            Ok(p) => p,
            Err(ApiError::Unauthorized) => return Err(WebError::BadToken),
            Err(e) => return Err(e.into()),
        };
        let credential = match principal {
            Principal::Admin => Credential::Admin(self.secret.mark(ADMIN_MARK, token)),
            _ => Credential::TokenHash(sha256_hex(token.as_bytes())),
        };
        let id = random_hex();
        let stored = Stored {
            credential,
            csrf: random_hex(),
            touched: now(),
        };
        self.bucket
            .put(&sha256_hex(id.as_bytes()), encode(&stored)?)
            .await
            .map_err(unavailable)?;
        Ok(id)
    }

    /// Ends a session on every replica.
    pub async fn sign_out(&self, id: &str) -> Result<(), WebError> {
        self.bucket
            .purge(&sha256_hex(id.as_bytes()))
            .await
            .map_err(unavailable)
    }

    /// The live session behind a cookie value, touched when due.
    async fn live(&self, id: &str) -> Result<Option<Stored>, WebError> {
        let key = sha256_hex(id.as_bytes());
        let Some(entry) = self.bucket.get(&key).await.map_err(unavailable)? else {
            return Ok(None);
        };
        // Not ours to read (an older layout): as good as none.
        let Ok(mut stored) = serde_json::from_slice::<Stored>(&entry.value) else {
            return Ok(None);
        };
        match age(stored.touched, now()) {
            Age::Expired => Ok(None),
            Age::Fresh => Ok(Some(stored)),
            Age::Stale => {
                stored.touched = now();
                let touched = self
                    .bucket
                    .update(&key, encode(&stored)?, entry.revision)
                    .await
                    .map_err(unavailable)?;
                if touched.is_some() {
                    return Ok(Some(stored));
                }
                // Another replica wrote first: a touch (the session lives)
                // or a sign-out (it does not).
                Ok(self
                    .bucket
                    .get(&key)
                    .await
                    .map_err(unavailable)?
                    .and_then(|e| serde_json::from_slice(&e.value).ok()))
            }
        }
    }

    /// Who the session is now: `None` when its token was revoked or the
    /// admin token changed since it was opened.
    async fn principal(&self, auth: &Auth, stored: &Stored) -> Result<Option<Principal>, WebError> {
        match &stored.credential {
            Credential::Admin(mark) => {
                let same: bool = mark.as_bytes().ct_eq(self.admin.as_bytes()).into();
                Ok(same.then_some(Principal::Admin))
            }
            Credential::TokenHash(hash) => match auth.principal_of_hash(hash).await {
                Ok(p) => Ok(Some(p)),
                Err(ApiError::Unauthorized) => Ok(None),
                Err(e) => Err(e.into()),
            },
        }
    }
}

fn encode(stored: &Stored) -> Result<bytes::Bytes, WebError> {
    serde_json::to_vec(stored)
        .map(Into::into)
        .map_err(|e| WebError::Api(ApiError::internal(e)))
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

impl FromRequestParts<Web> for Staff {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let id = cookie(&parts.headers, SESSION_COOKIE).ok_or(WebError::SignInFirst)?;
        let session = web.sessions.live(&id).await?.ok_or(WebError::SignInFirst)?;
        let Some(principal) = web.sessions.principal(&web.intake.auth, &session).await? else {
            web.sessions.sign_out(&id).await?;
            return Err(WebError::SignInFirst);
        };
        Ok(Staff {
            principal,
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
    fn a_session_is_touched_after_a_few_minutes_and_gone_after_the_idle_time() {
        let t = 1_800_000_000;
        assert_eq!(age(t, t), Age::Fresh);
        assert_eq!(age(t, t + 299), Age::Fresh);
        assert_eq!(age(t, t + 300), Age::Stale);
        assert_eq!(age(t, t + 8 * 3600 - 1), Age::Stale);
        assert_eq!(age(t, t + 8 * 3600), Age::Expired);
        // A replica whose clock is behind the one that wrote it.
        assert_eq!(age(t, t - 60), Age::Fresh);
    }

    /// What the bucket holds: a hash or a keyed hash, the CSRF token and a
    /// time — never the token, nor who the principal is.
    #[test]
    fn the_bucket_holds_no_token_and_no_principal() {
        let secret = ServerSecret::from_bytes([3; 32]);
        let token = "lt_the-token";
        for credential in [
            Credential::TokenHash(sha256_hex(token.as_bytes())),
            Credential::Admin(secret.mark(ADMIN_MARK, token)),
        ] {
            let stored = Stored {
                credential,
                csrf: "c".into(),
                touched: 1,
            };
            let text = String::from_utf8(encode(&stored).unwrap().to_vec()).unwrap();
            assert!(!text.contains(token), "{text}");
            assert_eq!(serde_json::from_str::<Stored>(&text).unwrap(), stored);
        }
        let admin = Stored {
            credential: Credential::Admin(secret.mark(ADMIN_MARK, token)),
            csrf: "c".into(),
            touched: 1,
        };
        let text = String::from_utf8(encode(&admin).unwrap().to_vec()).unwrap();
        assert!(
            !text.contains(&sha256_hex(token.as_bytes())),
            "the admin token is keyed, not a plain hash: {text}"
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
