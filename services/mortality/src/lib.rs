//! Lantern's mortality service: every death traced from its recording
//! through each review (死亡病例讨论) to its causes. The monthly pack that
//! reads these trails lives in `lantern-meeting`.
//!
//! - [`death`]: the death folded from its events and the rules it is held
//!   to (first review, autopsy review, low-risk hospital review), pure;
//! - [`projector`]: the read model of trails by hospital and month;
//! - [`api`]: the deaths endpoints.

pub mod api;
pub mod death;
pub mod projector;

pub use api::{Mortality, router};
pub use projector::MortalityProjector;
