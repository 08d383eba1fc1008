//! The ledger's one error type.

/// A problem with one field of an event's data, located by a JSON Pointer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// JSON Pointer (RFC 6901) to the offending value, relative to `data`.
    pub pointer: String,
    /// What is wrong, in plain words.
    pub message: String,
}

/// Everything that can go wrong talking to the stream.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// NATS or JetStream did not answer in time; the caller may retry.
    #[error("event store unavailable: {0}")]
    Unavailable(String),
    /// The aggregate moved on since the caller looked at it.
    #[error("conflict on {subject}: expected last sequence {expected}")]
    Conflict {
        /// The aggregate's subject.
        subject: String,
        /// The stream sequence the caller expected to be the subject's last.
        expected: u64,
    },
    /// The Idempotency-Key of this append was used for another request,
    /// stored at `seq`: nothing was appended.
    #[error("the idempotency key was used for another request (stored at sequence {seq})")]
    RequestReused {
        /// Where the first request's event is.
        seq: u64,
    },
    /// The event's data does not match its schema.
    #[error("{event_type} v{version} does not match its schema")]
    Schema {
        /// The event type.
        event_type: String,
        /// The schema version.
        version: u32,
        /// Each violation, with a pointer into `data`.
        violations: Vec<Violation>,
    },
    /// No schema is registered for this type and version.
    #[error("no schema for {0}")]
    UnknownSchema(String),
    /// A schema file is not valid JSON Schema (a build defect).
    #[error("schema {file}: {message}")]
    BadSchema {
        /// The file in `schemas/`.
        file: String,
        /// What is wrong with it.
        message: String,
    },
    /// A subject token would be invalid (empty, or with `.`, `*`, `>`, space).
    #[error("invalid subject token {0:?}")]
    InvalidSubject(String),
    /// A stored message is not an envelope we can read.
    #[error("message {seq} cannot be decoded: {message}")]
    Decode {
        /// Its stream sequence.
        seq: u64,
        /// Why.
        message: String,
    },
    /// The stream exists but the server did not keep a setting we depend on.
    #[error("stream {stream} misconfigured: {message}")]
    Misconfigured {
        /// The stream name.
        stream: String,
        /// The setting and what was found.
        message: String,
    },
    /// The stream differs from the configuration in a way a process will not
    /// start on (or, from `lantern stream apply`, in a way the server cannot
    /// change in place): each difference named, then what to do.
    #[error("{}", crate::stream::mismatch_message(.stream, .differences))]
    StreamMismatch {
        /// The stream name.
        stream: String,
        /// Each difference, refused or not changeable.
        differences: Vec<crate::stream::Difference>,
    },
    /// A command that only reads found no stream to read, and creates none.
    #[error(
        "stream {stream} does not exist on this NATS server; `lantern serve` or `lantern stream apply` creates it"
    )]
    StreamMissing {
        /// The stream name.
        stream: String,
    },
    /// A setting cannot work: a NATS URL that does not parse, two ways of
    /// authenticating, a credentials or certificate file that is not there.
    #[error("configuration: {0}")]
    Config(String),
    /// Any other NATS or JetStream failure.
    #[error("nats: {0}")]
    Nats(String),
    /// A local nats-server (feature `local-server`) could not be found,
    /// started or reached. The cause is shown as well as kept: the bench and
    /// the test kit print only the top error.
    #[error("{what}{}", .source.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    LocalServer {
        /// What was being done, with the server's log when it has one.
        what: String,
        /// The operating system's error, when there is one.
        #[source]
        source: Option<std::io::Error>,
    },
}

impl LedgerError {
    /// Whether retrying the same call later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, LedgerError::Unavailable(_))
    }
}
