//! Lantern's HTTP kernel: what every context's endpoints share.
//!
//! - [`error`]: [`ApiError`], the one error type, mapped to problem+json
//!   (RFC 9457) in exactly one place;
//! - [`json`], [`query`]: request decoding whose every error names the field;
//! - [`checks`]: times and free text every command checks the same way;
//! - [`auth`]: bearer tokens, roles and scopes ([`auth::Principal`]);
//! - [`secrets`]: the server secret, receipts, token hashes;
//! - [`scrub`]: removing personal data from free text before append;
//! - [`idempotency`]: the Idempotency-Key — fingerprints, keys in flight;
//! - [`command`]: the command path — idempotency, scrubbing, append ([`Kernel`]);
//! - [`responses`]: 201 bodies and the documented problem answers;
//! - [`metrics`]: the counters of appends, refusals and scrubbing;
//! - [`path`]: path segments whose every error names the segment;
//! - [`headers`]: no-store, CSP and framing headers, problem+json fallbacks;
//! - [`ratelimit`]: per-client limits on anonymous and failed requests;
//! - [`tier`]: the deployment tier (standalone, hospital, region).

pub mod auth;
pub mod checks;
pub mod command;
pub mod error;
pub mod headers;
pub mod idempotency;
pub mod json;
pub mod metrics;
pub mod path;
pub mod query;
pub mod ratelimit;
pub mod responses;
pub mod scrub;
pub mod secrets;
pub mod tier;

pub use command::{Committed, Kernel};
pub use error::{ApiError, AppendError, FieldError, Problem};
pub use idempotency::IdempotencyKey;
