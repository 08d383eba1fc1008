//! Lantern's root-cause analyses (根本原因分析): safety officers analyse
//! serious events from the reports, and Lantern keeps the whole case file as
//! events, with a projection that shows every case, its causes, its actions
//! and what is overdue.
//!
//! The aggregate, pure:
//! - [`vocab`]: fishbone categories, action strengths, `YYYY-MM-DD` dates;
//! - [`event`]: the `rca.*` events as typed data, apart from their stored form;
//! - [`case`]: the case file folded from its events, and what is overdue;
//! - [`decide`]: commands and the rules that accept or refuse them;
//! - [`error`]: the one error type and its HTTP answer.
//!
//! Around it:
//! - [`projector`]: the `rca` read model (case files, lists, the queue of
//!   serious reports without an analysis);
//! - [`figures`]: the meeting pack's figures of a hospital-month;
//! - [`queries`]: reads of the read model, [`Cases::figures`] among them;
//! - [`service`]: the command path (read, decide, append expecting the
//!   case's last sequence, decide again once on a conflict);
//! - [`views`], [`api`]: what the API answers, and the endpoints.

pub mod api;
pub mod case;
pub mod decide;
pub mod error;
pub mod event;
pub mod figures;
pub mod projector;
pub mod queries;
pub mod service;
pub mod views;
pub mod vocab;

pub use api::router;
pub use error::RcaError;
pub use figures::RcaFigures;
pub use projector::RcaProjector;
pub use queries::Cases;
pub use service::Rca;
