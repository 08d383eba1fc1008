//! The organisation read model: regions, hospitals, departments, staff
//! tokens, targets, reference values, the hospitals linked to a hub and the
//! idempotency index — every one a projection of the stream, rebuilt like
//! any other.
//!
//! - [`records`]: what is known of a hospital, a token, a target's or a
//!   reference value's set, an idempotency key;
//! - [`projector`]: `org.*` events (and every event's key) into the model;
//! - [`queries`]: [`Directory`], the facade other crates read through;
//! - [`error`]: the one error type, [`DirectoryError`].

pub mod error;
pub mod projector;
pub mod queries;
pub mod records;

pub use error::DirectoryError;
pub use projector::DirectoryProjector;
pub use queries::{Directory, IDEMPOTENCY_WINDOW};
pub use records::{
    HospitalRecord, IdempotencyRecord, KEY_SEPARATOR, LinkRecord, ReferenceRecord, RegionRecord,
    TargetRecord, TokenRecord, split_key,
};
