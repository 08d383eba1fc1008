//! The intake's HTTP endpoints, one module per concern, and the error
//! responses they document.

pub mod admin;
pub mod census;
pub mod critical_values;
pub mod form;
pub mod receipts;
pub mod references;
pub mod reports;
pub mod targets;
