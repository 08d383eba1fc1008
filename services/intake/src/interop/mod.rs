//! Data in and out in the formats other systems read (issue 28):
//! - [`fhir`]: FHIR R4 at `/fhir/r4` — the reports as `AdverseEvent`s
//!   (as the UK's LFPSE exchanges them), a `CapabilityStatement`, errors as
//!   `OperationOutcome`;
//! - [`hl7`]: HL7 v2 over MLLP — critical results and discharges in.

pub mod fhir;
pub mod hl7;
