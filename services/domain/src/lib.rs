//! Lantern's domain, pure: no HTTP, no storage, no NATS. Every crate above
//! it shares these meanings.
//!
//! - [`vocab`]: the closed vocabularies of DESIGN.md (grades, harms,
//!   categories, roles, age bands, levels) as enums;
//! - [`month`]: `YYYY-MM`, the grain of every figure;
//! - [`zone`]: a hospital's time zone, where its days and months are counted;
//! - [`ids`]: aggregate ids — deterministic for natural keys, random for the rest;
//! - [`critical`]: critical-value sources, settings, limits and timeliness;
//! - [`figures`]: the formulas of DESIGN.md "Figures" and their rounding;
//! - [`targets`]: indicators' targets by scope and year, which applies and
//!   whether a figure meets it;
//! - [`suppression`]: small-cell suppression of the published figures, and
//!   the audit that no suppressed cell can be narrowed below k values;
//! - [`events`]: the typed `data` of every event type, one struct per
//!   `schemas/<type>.v1.json`, and per aggregate kind an enum that writes
//!   and reads it.

pub mod critical;
pub mod events;
pub mod figures;
pub mod ids;
pub mod month;
pub mod suppression;
pub mod targets;
pub mod vocab;
pub mod zone;

pub use month::Month;
pub use zone::HospitalZone;
