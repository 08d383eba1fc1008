//! The one error type of root-cause analyses, and how it answers over HTTP.

use lantern_api::{ApiError, AppendError, FieldError};
use lantern_ledger::LedgerError;
use lantern_projection::ProjectionError;

/// Everything a root-cause analysis step can be refused for, or fail with.
#[derive(Debug, thiserror::Error)]
pub enum RcaError {
    /// Fields of the request are wrong (422), each named by a JSON Pointer.
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldError>),
    /// No such analysis (404).
    #[error("no such root-cause analysis")]
    NotFound,
    /// The analysis exists already (409).
    #[error("this root-cause analysis was already opened")]
    AlreadyOpened,
    /// The case is closed; nothing may be added (409).
    #[error("the case is closed; nothing can be added to it")]
    Closed,
    /// Completing an action the case does not have (409).
    #[error("the case has no action {0}")]
    UnknownAction(u32),
    /// Completing an action twice (409).
    #[error("action {0} is already completed")]
    AlreadyCompleted(u32),
    /// Closing without what a close needs (409).
    #[error("the case cannot close yet: {0}; give reason_no_action to close without")]
    NotReadyToClose(String),
    /// The case moved on while this step was decided, and the step does not
    /// commute with what was added (409).
    #[error("the case changed while this step was being recorded; reload it and try again")]
    Stale,
    /// The read model has not reached a sequence in time (503).
    #[error("the read model has not caught up with sequence {0} yet")]
    NotCaughtUp(u64),
    /// The event store failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The read model failed.
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    /// An append was refused or failed (a conflict is matched by the
    /// command path's retry).
    #[error("append")]
    Append(#[from] AppendError),
    /// A failure of the kernel's helpers (directory, reports, idempotency),
    /// already in HTTP terms.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl RcaError {
    /// A single-field validation error.
    pub fn field(pointer: impl Into<String>, message: impl Into<String>) -> RcaError {
        RcaError::Invalid(vec![FieldError::new(pointer, message)])
    }
}

impl From<RcaError> for ApiError {
    fn from(e: RcaError) -> ApiError {
        match e {
            RcaError::Invalid(errors) => ApiError::Invalid(errors),
            RcaError::NotFound => ApiError::NotFound(e.to_string()),
            RcaError::AlreadyOpened
            | RcaError::Closed
            | RcaError::UnknownAction(_)
            | RcaError::AlreadyCompleted(_)
            | RcaError::NotReadyToClose(_)
            | RcaError::Stale => ApiError::Conflict(e.to_string()),
            RcaError::NotCaughtUp(seq) => ApiError::NotCaughtUp(seq),
            RcaError::Ledger(e) => e.into(),
            RcaError::Projection(e) => e.into(),
            RcaError::Append(e) => e.into(),
            RcaError::Api(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let status = |e: RcaError| ApiError::from(e).status().as_u16();
        assert_eq!(status(RcaError::field("/factors/0", "unknown")), 422);
        assert_eq!(status(RcaError::NotFound), 404);
        assert_eq!(status(RcaError::Closed), 409);
        assert_eq!(status(RcaError::UnknownAction(3)), 409);
        assert_eq!(status(RcaError::AlreadyCompleted(1)), 409);
        assert_eq!(status(RcaError::NotReadyToClose("x".into())), 409);
        assert_eq!(status(RcaError::Stale), 409);
        assert_eq!(status(RcaError::NotCaughtUp(7)), 503);
        assert_eq!(
            status(RcaError::Ledger(LedgerError::Unavailable("down".into()))),
            503
        );
        assert_eq!(status(RcaError::Api(ApiError::Unauthorized)), 401);
    }
}
