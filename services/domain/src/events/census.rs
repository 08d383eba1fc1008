//! `census.*`: a department-month's denominators
//! (`schemas/census.recorded.v1.json`) and the discharges counted one by
//! one from the hospital information system
//! (`schemas/census.discharge_counted.v1.json`).

use serde::{Deserialize, Serialize};

use crate::Month;

/// `census.recorded`: the denominators of one department for one month; a
/// later event for the same department-month replaces the earlier figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    /// Department code.
    pub department: String,
    /// The month, in the hospital's time zone.
    pub month: Month,
    /// Discharges (出院人次).
    pub discharges: u64,
    /// Inpatient days (住院床日).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inpatient_days: Option<u64>,
    /// Tests resulted (denominator of the lab figures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests_resulted: Option<u64>,
}

/// `census.discharge_counted`: one inpatient discharge of a department in a
/// month (an HL7 `ADT^A03`). A department-month's discharges are the latest
/// [`Recorded`] figure where one exists, else the number of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DischargeCounted {
    /// Department code.
    pub department: String,
    /// The month of the discharge, in the hospital's time zone.
    pub month: Month,
}
