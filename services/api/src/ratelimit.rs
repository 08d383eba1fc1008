//! Per-client rate limits (DESIGN "Security"): anonymous writes, anonymous
//! reads, and failed bearer tokens or staff sign-ins, each counted per
//! client address per minute, in memory; over a limit, 429 problem+json
//! with `Retry-After`.
//!
//! The address is used for the limit only: the limiters are keyed by a
//! hash of it under a key drawn at start-up, so neither the maps nor a
//! memory dump hold an address, and nothing here logs one.
//!
//! "Anonymous" means without valid credentials: no bearer token that
//! resolves (an unknown one is a failure, and the request then counts as
//! anonymous too, so a made-up token cannot lift the anonymous limits) and
//! no staff session cookie on a `/staff` page (the cookie's path; the
//! staff web checks the session itself).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::Auth;
use crate::error::ApiError;

/// Requests per client per minute; `0` turns that limit off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Anonymous writes (any method but GET, HEAD and OPTIONS).
    pub anonymous_writes: u32,
    /// Anonymous reads (GET, HEAD, OPTIONS).
    pub anonymous_reads: u32,
    /// Failed bearer tokens and failed staff sign-ins together.
    pub auth_failures: u32,
    /// Proxies whose `X-Forwarded-For` is believed: for a connection from
    /// one of them, the client is the last address in that header.
    pub trusted_proxies: Vec<IpAddr>,
    /// The staff session cookie's name (the staff web's).
    pub session_cookie: &'static str,
}

impl Default for RateLimitSettings {
    /// DESIGN's defaults: 30 anonymous writes, 120 anonymous reads, 10
    /// failed sign-ins or bearer tokens per client per minute.
    fn default() -> RateLimitSettings {
        RateLimitSettings {
            anonymous_writes: 30,
            anonymous_reads: 120,
            auth_failures: 10,
            trusted_proxies: Vec::new(),
            session_cookie: "lantern_session",
        }
    }
}

/// Paths never limited: load balancers' and orchestrators' probes.
const EXEMPT: [&str; 2] = ["/healthz", "/readyz"];

/// How many requests pass between sweeps of clients idle for a minute.
const SWEEP_EVERY: u64 = 4096;

/// A client, as the limiters know it: a keyed hash of its address.
type ClientKey = u64;

type Limiter = DefaultKeyedRateLimiter<ClientKey>;

/// The limits of one running server; cheap to clone.
#[derive(Clone)]
pub struct RateLimits {
    inner: Arc<Inner>,
}

struct Inner {
    writes: Option<Limiter>,
    reads: Option<Limiter>,
    failures: Option<Limiter>,
    /// Clients over the failure limit, until when: a failure is known only
    /// once a token was tried, so the refusal of the next try is kept here.
    blocked: Mutex<HashMap<ClientKey, Instant>>,
    trusted: Vec<IpAddr>,
    session_cookie: &'static str,
    auth: Auth,
    hasher: std::hash::RandomState,
    seen: AtomicU64,
}

fn limiter(per_minute: u32) -> Option<Limiter> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

/// Whole seconds to wait, at least one (Retry-After has no fractions).
fn retry_after(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl RateLimits {
    /// Limits with `settings`; bearer tokens are checked against `auth`.
    pub fn new(settings: RateLimitSettings, auth: Auth) -> RateLimits {
        RateLimits {
            inner: Arc::new(Inner {
                writes: limiter(settings.anonymous_writes),
                reads: limiter(settings.anonymous_reads),
                failures: limiter(settings.auth_failures),
                blocked: Mutex::new(HashMap::new()),
                trusted: settings.trusted_proxies,
                session_cookie: settings.session_cookie,
                auth,
                hasher: std::hash::RandomState::new(),
                seen: AtomicU64::new(0),
            }),
        }
    }

    /// The client of a request: the peer, or — when the peer is a trusted
    /// proxy — the last hop that proxy added to `X-Forwarded-For`.
    fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> ClientKey {
        let ip = match peer {
            Some(p) if self.inner.trusted.contains(&canonical(p)) => {
                forwarded_last_hop(headers).unwrap_or(p)
            }
            Some(p) => p,
            // No peer (a request not from the serve loop): one shared key,
            // so that a missing address limits more, never less.
            None => IpAddr::from([0, 0, 0, 0]),
        };
        self.inner.hasher.hash_one(subnet(canonical(ip)))
    }

    fn blocked(&self, client: ClientKey) -> Result<(), ApiError> {
        let mut blocked = lock(&self.inner.blocked);
        match blocked.get(&client) {
            Some(until) => {
                let now = Instant::now();
                if *until > now {
                    Err(ApiError::TooManyRequests(retry_after(*until - now)))
                } else {
                    blocked.remove(&client);
                    Ok(())
                }
            }
            None => Ok(()),
        }
    }

    fn fail(&self, client: ClientKey) -> Result<(), ApiError> {
        let Some(failures) = &self.inner.failures else {
            return Ok(());
        };
        failures.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(failures.clock().now());
            let mut blocked = lock(&self.inner.blocked);
            let now = Instant::now();
            blocked.retain(|_, until| *until > now);
            blocked.insert(client, now + wait);
            ApiError::TooManyRequests(retry_after(wait))
        })
    }

    fn take(limiter: Option<&Limiter>, client: ClientKey) -> Result<(), ApiError> {
        match limiter {
            Some(l) => l.check_key(&client).map_err(|not_until| {
                ApiError::TooManyRequests(retry_after(not_until.wait_time_from(l.clock().now())))
            }),
            None => Ok(()),
        }
    }

    /// Forgets clients idle long enough that their limits are full again.
    fn sweep(&self) {
        if self
            .inner
            .seen
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SWEEP_EVERY)
        {
            for l in [&self.inner.writes, &self.inner.reads, &self.inner.failures]
                .into_iter()
                .flatten()
            {
                l.retain_recent();
            }
            let now = Instant::now();
            lock(&self.inner.blocked).retain(|_, until| *until > now);
        }
    }

    fn has_session(&self, request: &Request) -> bool {
        request.uri().path().starts_with("/staff")
            && request
                .headers()
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .filter_map(|pair| pair.split_once('='))
                .any(|(name, value)| {
                    name.trim() == self.inner.session_cookie && !value.trim().is_empty()
                })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every write under this lock is one insert, remove or retain: a
    // panic elsewhere cannot leave it half done.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An IPv4 address mapped into IPv6 is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// An IPv6 client is its /64: one host is given a whole /64 and can use
/// any address in it.
fn subnet(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0])
        }
        v4 => v4,
    }
}

/// The last address in `X-Forwarded-For` (over all its lines): the one the
/// trusted proxy itself appended; anything before it the client could
/// have written.
fn forwarded_last_hop(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()?
        .to_str()
        .ok()?
        .rsplit(',')
        .next()?
        .trim();
    last.parse().ok().or_else(|| {
        // `[v6]:port` or `v4:port`, as some proxies write it.
        last.parse::<SocketAddr>().ok().map(|s| s.ip())
    })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Counts failed staff sign-ins against the client's failure limit. The
/// rate-limit middleware puts one in every request's extensions; the
/// staff web's sign-in takes it.
#[derive(Clone)]
pub struct AuthFailures {
    limits: RateLimits,
    client: ClientKey,
}

impl AuthFailures {
    /// 429 while the client is over the failure limit: check before trying
    /// a token, so that a client over it learns nothing from a try.
    pub fn check(&self) -> Result<(), ApiError> {
        self.limits.blocked(self.client)
    }

    /// Records a failed try; 429 once it is one too many.
    pub fn failed(&self) -> Result<(), ApiError> {
        self.limits.fail(self.client)
    }
}

/// The middleware: applies the limits, then the request.
pub async fn limit(State(limits): State<RateLimits>, mut req: Request, next: Next) -> Response {
    if EXEMPT.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    limits.sweep();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = limits.client(peer, req.headers());
    req.extensions_mut().insert(AuthFailures {
        limits: limits.clone(),
        client,
    });
    if let Some(token) = bearer(req.headers()) {
        if let Err(e) = limits.blocked(client) {
            return e.into_response();
        }
        match limits.inner.auth.principal(token).await {
            Ok(_) => return next.run(req).await,
            Err(ApiError::Unauthorized) => {
                if let Err(e) = limits.fail(client) {
                    return e.into_response();
                }
            }
            // The directory cannot say (catching up, unavailable): the
            // handler asks it again and answers.
            Err(_) => return next.run(req).await,
        }
    } else if limits.has_session(&req) {
        return next.run(req).await;
    }
    let read = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let limiter = if read {
        limits.inner.reads.as_ref()
    } else {
        limits.inner.writes.as_ref()
    };
    if let Err(e) = RateLimits::take(limiter, client) {
        return e.into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn forwarded_for_takes_the_last_hop() {
        let mut h = HeaderMap::new();
        assert_eq!(forwarded_last_hop(&h), None);
        h.append(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 2.2.2.2"),
        );
        assert_eq!(forwarded_last_hop(&h), Some(IpAddr::from([2, 2, 2, 2])));
        h.append(
            "x-forwarded-for",
            HeaderValue::from_static("[2001:db8::1]:443"),
        );
        assert_eq!(forwarded_last_hop(&h), "2001:db8::1".parse().ok());
        let mut bad = HeaderMap::new();
        bad.append("x-forwarded-for", HeaderValue::from_static("unknown"));
        assert_eq!(forwarded_last_hop(&bad), None);
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_a_mapped_v4_is_v4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(subnet(a), subnet(b));
        assert_ne!(subnet(a), subnet(c));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(canonical(mapped), IpAddr::from([10, 0, 0, 1]));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after(Duration::from_millis(1)), 1);
        assert_eq!(retry_after(Duration::from_secs(6)), 6);
        assert_eq!(retry_after(Duration::from_millis(6001)), 7);
    }

    #[test]
    fn bearer_needs_the_scheme_and_a_token() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer  "));
        assert_eq!(bearer(&h), None);
    }
}
