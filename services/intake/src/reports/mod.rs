//! Reports (不良事件报告): filed anonymously through the form, triaged and
//! answered by the hospital's safety officer, followed up by the reporter
//! through a receipt.
//!
//! - [`rules`]: what a filing, a triage and a feedback must satisfy, and the
//!   event each records (pure);
//! - [`record`]: a report as the read model keeps it, and its [`Status`];
//! - [`projector`]: the `reports` read model, folded from the stream;
//! - [`queries`]: [`Reports`], the facade other contexts read through;
//! - [`api`], [`receipts`]: the staff's and the reporter's endpoints.

pub mod api;
pub mod projector;
pub mod queries;
pub mod receipts;
pub mod record;
pub mod rules;

pub use projector::{ReportsProjector, read_report};
pub use queries::{ReportPage, Reports};
pub use record::{Feedback, FollowUp, Listing, Report, ReportRecord, Status, Triage};
