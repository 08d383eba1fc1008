//! Lantern's rates: per-department reporting rates against the target of
//! 2.5 voluntary reports per 100 discharges, breakdowns by grade and
//! category, and critical-value figures, for a hospital's safety officer
//! and, small cells suppressed, for its QC centre.
//!
//! - [`projector`]: counters per hospital, month and department, kept so a
//!   query reads O(months × departments), never O(events);
//! - [`figures`]: the formulas — rounding, rates, small-cell suppression;
//! - [`api`]: `GET /api/v1/rates`.

pub mod api;
pub mod figures;
pub mod projector;

pub use api::{Rates, router};
pub use projector::RatesProjector;
