//! `death.*`: a death recorded for review (死亡病例讨论), its reviews, its
//! autopsy report and its closing (`schemas/death.*.v1.json`), with the
//! reviews' closed vocabularies.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::vocab::AgeBand;

/// Who held a review.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReviewLevel {
    /// 科室.
    Department,
    /// 医院.
    Hospital,
    /// 质控中心.
    QcCentre,
}

/// Whether the death could have been prevented.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Preventability {
    /// 不可避免.
    Unavoidable,
    /// 可能可避免.
    PossiblyAvoidable,
    /// 可避免.
    Avoidable,
}

/// The phase of care a defect was found in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// 诊断.
    Diagnosis,
    /// 治疗.
    Treatment,
    /// 抢救.
    Rescue,
    /// 护理.
    Nursing,
    /// 沟通.
    Communication,
    /// 制度/系统.
    System,
}

/// A defect found by a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Defect {
    /// Phase of care.
    pub phase: Phase,
    /// What the defect was.
    pub text: String,
}

/// `death.recorded`: a death case recorded for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    /// Department code where the patient died.
    pub department: String,
    /// Admission time.
    pub admitted_at: DateTime<FixedOffset>,
    /// Time of death.
    pub died_at: DateTime<FixedOffset>,
    /// The patient's age band.
    pub age_band: AgeBand,
    /// Principal diagnosis, ICD-10 code (e.g. `I21.0`).
    pub diagnosis_icd10: String,
    /// A death of the low-risk group (低风险组死亡).
    pub low_risk: bool,
    /// An autopsy (尸检) is planned or agreed.
    pub autopsy: bool,
}

/// `death.recorded` version 1: the same fields, with only the ten-year age
/// bands; it reads as version 2 unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordedV1(pub Recorded);

impl From<RecordedV1> for Recorded {
    fn from(v1: RecordedV1) -> Recorded {
        v1.0
    }
}

/// `death.reported`: a death the hospital information system reported (an
/// HL7 `ADT^A03` whose disposition is death), for the safety officer to
/// complete as the death's record (`death.recorded` on the same aggregate:
/// the low-risk group, the diagnosis, the autopsy). What the message did
/// not say is left out; nothing of the patient but the age band is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reported {
    /// Department code where the patient died (PV1-3).
    pub department: String,
    /// Time of death (the discharge time).
    pub died_at: DateTime<FixedOffset>,
    /// Admission time, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admitted_at: Option<DateTime<FixedOffset>>,
    /// The age band at death, if the birth date was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_band: Option<AgeBand>,
    /// The principal diagnosis (ICD-10), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis_icd10: Option<String>,
}

/// `death.review_held`: a death-case review; where a death has several, the
/// latest preventability stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewHeld {
    /// When the review was held.
    pub held_at: DateTime<FixedOffset>,
    /// Department, hospital or QC-centre review.
    pub level: ReviewLevel,
    /// Roles of the attendees (never names); repeats allowed.
    pub attendee_roles: Vec<String>,
    /// Preventability.
    pub preventability: Preventability,
    /// Defects found, by phase; may be empty.
    pub defects: Vec<Defect>,
    /// The linked root-cause analysis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rca_id: Option<Uuid>,
}

/// `death.autopsy_reported`: the autopsy report received; an autopsied death
/// is reviewed again within 7 days of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutopsyReported {
    /// When the autopsy report was issued.
    pub reported_at: DateTime<FixedOffset>,
    /// Summary of the findings.
    pub findings: String,
}

/// `death.review_closed`: the case closed once every review rule is met.
/// Carries no data (`{}`): the closing time is the envelope's `recorded_at`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewClosed {}
