//! The directory's one error type; the HTTP kernel maps it to problem+json.

use lantern_ledger::LedgerError;
use lantern_projection::ProjectionError;

/// Why a directory lookup failed.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// A key was missing and the directory did not reach the stream's last
    /// sequence within its bound: "unknown" would be a guess.
    #[error("the directory has not yet applied stream sequence {0}")]
    NotCaughtUp(u64),
    /// The read model failed.
    #[error("directory read model")]
    Projection(#[from] ProjectionError),
    /// The stream could not be asked for its last sequence.
    #[error("event stream")]
    Ledger(#[from] LedgerError),
}
