//! `census.recorded`: a department-month's denominators
//! (`schemas/census.recorded.v1.json`).

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
