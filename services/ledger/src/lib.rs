//! Lantern's event ledger.
//!
//! Every fact in Lantern is an immutable event appended to one JetStream
//! stream, `LANTERN`. This crate is the only code that talks to that stream:
//!
//! - [`connect`]: reaching NATS with the seed servers, credentials and TLS
//!   of a [`NatsConfig`];
//! - [`envelope`]: the JSON envelope every event travels in;
//! - [`subject`]: codes, aggregate kinds and the subject scheme
//!   `lantern.<hospital>.<kind>.<aggregate-id>`;
//! - [`stream`]: creating the stream with the settings the design demands,
//!   checking the server kept them, refusing an existing stream that differs
//!   (never changing it as a side effect), and `lantern stream apply`;
//! - [`schema`]: the registry of JSON Schemas that every event's `data` is
//!   validated against before it is appended;
//! - [`append`]: appending with de-duplication and per-aggregate optimistic
//!   concurrency, returning only after JetStream acknowledged;
//! - [`group`]: group commit, concurrent appends stored as one atomic batch;
//! - [`federation`]: a region's hub sourcing its linked hospitals' streams;
//! - [`read`]: reading the stream back, in order, from any sequence;
//! - [`kv`]: key-value buckets beside the stream, for what every replica
//!   shares but is no fact (staff sessions);
//! - [`trace`]: carrying the W3C trace context through message headers;
//! - `local` (feature `local-server`): a local nats-server with the
//!   configuration Lantern ships: for the bench, tests and tooling.

pub mod append;
pub mod connect;
pub mod envelope;
pub mod error;
pub mod federation;
pub mod group;
pub mod kv;
#[cfg(feature = "local-server")]
pub mod local;
pub mod read;
pub mod schema;
pub mod stream;
pub mod subject;
pub mod trace;

pub use append::{Appended, Expect, Ledger, NewEvent};
pub use connect::{NatsConfig, connect};
pub use envelope::{Data, Envelope, REQUEST_HEADER, REQUEST_SEPARATOR, Recorded, dedup_id};
pub use error::{LedgerError, Violation};
pub use group::GroupCommit;
pub use read::Read;
pub use schema::SchemaRegistry;
pub use stream::{Applied, Difference, Inspection, StreamSettings, ensure_stream};
pub use subject::{
    ADDRESSED, AggregateKind, Code, SYSTEM_SCOPE, Scope, addressed, hospital_of, subject,
};

/// The name of the one stream every event goes to.
pub const STREAM: &str = "LANTERN";

/// Whether a nats-server version string is at least 2.10.
pub fn server_version_ok(version: &str) -> bool {
    let mut parts = version
        .trim_start_matches('v')
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse::<u64>().ok());
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= (2, 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(server_version_ok("2.10.0"));
        assert!(server_version_ok("v2.15.1"));
        assert!(server_version_ok("3.0.0"));
        assert!(!server_version_ok("2.9.10"));
        assert!(!server_version_ok(""));
    }
}
