//! `org.*`: hospitals, departments, staff tokens and critical-value limits
//! (`schemas/org.*.v1.json`).

use serde::{Deserialize, Serialize};

use crate::critical::Limits;
use crate::vocab::{Level, Role};

/// `org.hospital_registered`: a hospital registered by the administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HospitalRegistered {
    /// Hospital code; equals the envelope's hospital.
    pub code: String,
    /// Hospital name.
    pub name: String,
    /// Region code (the QC centre's scope).
    pub region: String,
    /// Secondary 二级 or tertiary 三级.
    pub level: Level,
    /// IANA time-zone name its months and dates are counted in, e.g.
    /// `Asia/Shanghai` (always written: the intake fills in the default).
    pub timezone: String,
}

/// `org.department_registered`: a department (科室) of the envelope's
/// hospital.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentRegistered {
    /// Department code, unique within the hospital.
    pub code: String,
    /// Department name.
    pub name: String,
}

/// `org.token_issued`: a bearer token, stored only as its hash, bound to a
/// role and a scope: `hospital` for safety_officer, lis and his; `region`
/// for qc_centre (the schema requires exactly that one; `admin` is
/// configured, never issued, and the schema refuses it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenIssued {
    /// SHA-256 of the token (64 lower-case hex digits).
    pub token_hash: String,
    /// The role the token is bound to.
    pub role: Role,
    /// Hospital scope (safety_officer, lis, his).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hospital: Option<String>,
    /// Region scope (qc_centre).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// `org.token_revoked`: a token refused from then on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRevoked {
    /// SHA-256 of the revoked token.
    pub token_hash: String,
}

/// `org.limits_set`: a hospital's critical-value limits, for values detected
/// after the event (earlier ones keep the limits in force when detected).
/// Its data is [`Limits`]' two fields, nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "LimitsData", into = "LimitsData")]
pub struct LimitsSet {
    /// The limits set.
    pub limits: Limits,
}

impl From<Limits> for LimitsSet {
    fn from(limits: Limits) -> Self {
        LimitsSet { limits }
    }
}

/// The stored form of [`LimitsSet`]: [`Limits`]' fields, closed like the
/// schema (`Limits` itself ignores unknown fields).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsData {
    notification_limit_minutes: u32,
    handling_limit_minutes: u32,
}

impl From<LimitsData> for LimitsSet {
    fn from(data: LimitsData) -> Self {
        LimitsSet {
            limits: Limits {
                notification_limit_minutes: data.notification_limit_minutes,
                handling_limit_minutes: data.handling_limit_minutes,
            },
        }
    }
}

impl From<LimitsSet> for LimitsData {
    fn from(set: LimitsSet) -> Self {
        LimitsData {
            notification_limit_minutes: set.limits.notification_limit_minutes,
            handling_limit_minutes: set.limits.handling_limit_minutes,
        }
    }
}
