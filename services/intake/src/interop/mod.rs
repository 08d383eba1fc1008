//! Data in and out in the formats other systems read (issue 28):
//! - [`fhir`]: FHIR R4 at `/fhir/r4` — the reports as `AdverseEvent`s
//!   (as the UK's LFPSE exchanges them), a `CapabilityStatement`, errors as
//!   `OperationOutcome`.

pub mod fhir;
