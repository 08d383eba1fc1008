//! Lantern's projector runtime.
//!
//! A projector turns the event stream into a read model kept in its own sled
//! database. It implements one trait, [`Projector`]; the runtime does the
//! rest:
//!
//! - [`tx`]: a write buffer over the database: a projector's reads see its
//!   own pending writes, and nothing reaches disk until the runtime commits;
//! - [`runner`]: consume from the projector's own checkpoint + 1, apply in
//!   order, commit state and checkpoint in one atomic sled batch (visible at
//!   once, on disk within sled's flush interval: a crash keeps a consistent
//!   prefix), and only then tell waiters; re-delivered events (at or below
//!   the checkpoint) are skipped, so nothing is counted twice; a rebuild
//!   applies each batch to sled while it builds the next, and holds writes
//!   under scattered keys back to write them in key order at its end;
//! - [`store`]: opening a database (rebuilding it when it will not open or
//!   was written in another layout version, or a rebuild left it
//!   unfinished), rebuilding from sequence 1, and
//!   exporting it byte for byte.

pub mod runner;
pub mod store;
pub mod tx;

pub use runner::{Handle, Runner, apply_once, run_until_caught_up};
pub use store::{export, open_or_reset, rebuild, runner_in, version};
pub use tx::{FreshRun, Sealed, Stored, Tx, from_json, from_postcard, to_json, to_postcard};

use lantern_ledger::{AggregateKind, Recorded};

/// The key under which a database keeps the last applied stream sequence.
/// Projectors must not write keys that start with a zero byte.
pub const CHECKPOINT_KEY: &[u8] = b"\x00checkpoint";

/// The key under which a database keeps its projector's [`Projector::version`].
pub const VERSION_KEY: &[u8] = b"\x00version";

/// Present while a run over a fresh database (a rebuild) is under way
/// ([`FreshRun`]): a database left with it is incomplete, and is rebuilt
/// when opened.
pub const INCOMPLETE_KEY: &[u8] = b"\x00incomplete";

/// sled's page cache for a read model unless its projector asks otherwise;
/// the default of sled (1 GiB) would dwarf the memory of a small hospital VM.
pub const DEFAULT_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// A read model built from the stream.
///
/// `apply` must be deterministic (the same events give the same bytes, so a
/// rebuild equals the live database) and total: an event it does not
/// understand is ignored, never an error. Errors are for storage failures.
pub trait Projector: Send + Sync + 'static {
    /// Stable name: the database directory, the CLI argument, the metrics label.
    fn name(&self) -> &'static str;

    /// Applies one event to the state behind `tx`.
    fn apply(&self, tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError>;

    /// The layout of the stored read model. Raise it whenever what `apply`
    /// writes changes shape: a database written by another version is
    /// dropped and rebuilt from the stream when it is opened.
    fn version(&self) -> u32 {
        1
    }

    /// The kinds of aggregates whose events `apply` reads. A rebuild asks
    /// the server for these alone; events of other kinds never reach
    /// `apply`, live or in a rebuild, so both build the same model.
    fn kinds(&self) -> &'static [AggregateKind] {
        &AggregateKind::ALL
    }

    /// sled's page cache for this read model while serving. Models read by
    /// key need little; models scanned by queries want their scanned range
    /// to stay cached.
    fn cache_bytes(&self) -> u64 {
        DEFAULT_CACHE_BYTES
    }
}

/// What can stop a projector.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The database failed.
    #[error("storage: {0}")]
    Storage(#[from] sled::Error),
    /// A stored value could not be (de)serialised: the database is not ours.
    #[error("stored value under {key}: {message}")]
    Corrupt {
        /// The key, hex-encoded.
        key: String,
        /// Why it could not be read.
        message: String,
    },
    /// The stream could not be read.
    #[error("stream: {0}")]
    Ledger(#[from] lantern_ledger::LedgerError),
    /// A filesystem operation on the database directory failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// Applies `events` in order to a fresh temporary database and commits them:
/// the "given these events" of a projector's given/when/then tests.
pub fn given(projector: &dyn Projector, events: &[Recorded]) -> Result<sled::Db, ProjectionError> {
    let db = sled::Config::new().temporary(true).open()?;
    let mut tx = Tx::new(&db);
    let mut position = 0;
    for event in events {
        // Events given without a sequence (0) are numbered as a stream would.
        let seq = if event.seq == 0 {
            position + 1
        } else {
            event.seq
        };
        let numbered = Recorded {
            seq,
            ..event.clone()
        };
        apply_once(projector, &mut tx, &mut position, &numbered)?;
    }
    db.apply_batch(tx.into_batch(position))?;
    Ok(db)
}

/// Reads the checkpoint of a database (0 when it has applied nothing).
pub fn checkpoint(db: &sled::Db) -> Result<u64, ProjectionError> {
    Ok(db
        .get(CHECKPOINT_KEY)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0))
}
