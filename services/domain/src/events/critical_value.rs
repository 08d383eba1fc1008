//! `critical_value.*`: a critical value (危急值) from detection through
//! notification and acknowledgement to handling
//! (`schemas/critical_value.*.v1.json`).

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::critical::{Setting, Source};

/// `critical_value.detected`: found by the lab, imaging, ECG or pathology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detected {
    /// The patient's department code.
    pub department: String,
    /// Where it was detected.
    pub source: Source,
    /// Test or finding, e.g. serum potassium.
    pub item: String,
    /// Result as reported, e.g. `6.9` or `present`.
    pub value: String,
    /// Unit, e.g. mmol/L.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// When the value was detected or verified.
    pub detected_at: DateTime<FixedOffset>,
    /// Inpatient 住院, outpatient 门诊 or emergency 急诊.
    pub patient_setting: Setting,
    /// Specimen identifier: repeat results of the same item on the same
    /// specimen count once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specimen_id: Option<String>,
}

/// `critical_value.notified`: the value reached the clinical unit (通报).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Notified {
    /// When the clinical unit received it.
    pub notified_at: DateTime<FixedOffset>,
    /// How, e.g. phone, HIS message (free text).
    pub channel: String,
    /// Role of the person who received it, e.g. nurse (free text).
    pub notified_role: String,
}

/// `critical_value.acknowledged`: the responsible clinician acknowledged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledged {
    /// When it was acknowledged.
    pub acknowledged_at: DateTime<FixedOffset>,
}

/// `critical_value.handled`: the clinician acted on it (处置).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Handled {
    /// When it was handled.
    pub handled_at: DateTime<FixedOffset>,
    /// What was done.
    pub disposition: String,
}
