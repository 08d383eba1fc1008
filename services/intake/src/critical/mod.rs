//! Critical values (危急值): the closed loop from detection to handling.
//!
//! Shaped like every context: the events are the domain's typed
//! `critical_value.*` payloads ([`CriticalValueEvent`]); [`decide`] is pure,
//! `(state, command) → events`, and [`apply`] folds an event into the loop;
//! both are tested given/when/then without infrastructure.
//!
//! - [`rules`]: commands, [`decide`], [`apply`], the loop's state;
//! - [`projector`]: [`CriticalValuesProjector`], each loop and the open ones;
//! - [`queries`]: [`CriticalValues`], the worklist's items;
//! - [`api`]: the endpoints for lab systems, the HIS and safety officers;
//! - [`catalogue`]: the hospital's catalogue of critical items, set and read.

pub mod api;
pub mod catalogue;
pub mod projector;
pub mod queries;
pub mod rules;

pub use projector::CriticalValuesProjector;
pub use queries::{CriticalValues, OpenItem, Stage, open_item};
pub use rules::*;

#[cfg(test)]
mod tests;
