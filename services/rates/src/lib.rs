//! Lantern's rates: per-department reporting rates against the target of
//! 2.5 voluntary reports per 100 discharges, breakdowns by grade and
//! category, and critical-value figures, for a hospital's safety officer
//! and, small cells suppressed, for its QC centre.
//!
//! - [`projector`]: counters per hospital, month and department, kept so a
//!   query reads O(months × departments), never O(events);
//! - [`api`]: `GET /api/v1/rates` and [`Rates`], the query facade other
//!   contexts read through. The formulas live in `lantern_domain::figures`.

pub mod api;
pub mod projector;

pub use api::{Rates, router};
pub use projector::{Cell, CriticalValueCounts, RatesProjector};
