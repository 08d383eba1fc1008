//! FHIR R4 (4.0.1) at `/fhir/r4`, in `application/fhir+json`.
//!
//! - [`resources`]: the few resources Lantern speaks, as typed data;
//! - [`adverse_event`]: a report as an `AdverseEvent`, for an audience
//!   (pure; the anonymity rules hold: the patient is a contained
//!   `Patient` with the age band only, the recorded date is the day);
//! - [`observation`]: a critical result posted as an `Observation`, read
//!   into the intake's critical-value detection (pure);
//! - [`api`]: `metadata`, `AdverseEvent` search and read in the caller's
//!   scope, `Observation` create; every error an `OperationOutcome`.

pub mod adverse_event;
pub mod api;
pub mod observation;
pub mod resources;

/// FHIR's JSON media type.
pub const FHIR_JSON: &str = "application/fhir+json";

/// The FHIR version served.
pub const FHIR_VERSION: &str = "4.0.1";
