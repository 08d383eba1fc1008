//! Lantern's mortality service: every death traced from its recording
//! through each review (死亡病例讨论) to its causes, and the pack a hospital
//! or QC centre takes into its monthly dispatch meeting (每月工作调度会).
//!
//! - [`death`]: the death folded from its events and the rules it is held
//!   to (first review, autopsy review, low-risk hospital review), pure;
//! - [`projector`]: the read model of trails by hospital and month;
//! - [`pack`]: the monthly dispatch pack's parts, from the read models;
//! - [`meeting`], [`html`]: the pack endpoint, JSON or a printable page;
//! - [`api`]: the deaths endpoints.

pub mod api;
pub mod death;
pub mod html;
pub mod meeting;
pub mod pack;
pub mod projector;

pub use api::{Mortality, router};
pub use projector::MortalityProjector;
