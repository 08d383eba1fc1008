//! `report.*`: an anonymous adverse-event report, its follow-ups by the
//! reporter, its triage and the feedback shown through the receipt
//! (`schemas/report.*.v<n>.json`). `report.filed` and `report.triaged` are
//! at version 2 (DESIGN.md "Grades", v2: harm `not_applicable` for grade IV,
//! `treatment_needed` with `mild`, triage re-assesses harm); their version-1
//! structs stay, and their `From` is the upcaster.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::vocab::{AgeBand, Category, Grade, Harm, ReporterRole};

/// `report.filed`: an anonymous, non-punitive adverse-event report
/// (非惩罚性报告); free text is PII-scrubbed before append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filed {
    /// Department (科室) code where the event occurred.
    pub department: String,
    /// When the event occurred.
    pub occurred_at: DateTime<FixedOffset>,
    /// Grade, as filed (must agree with `harm`).
    pub grade: Grade,
    /// Event category.
    pub category: Category,
    /// AHRQ harm: physical or psychological, after any intervention;
    /// `not_applicable` for grade IV; `unknown` leaves the grade provisional
    /// until triage.
    pub harm: Harm,
    /// With harm `mild` only: whether it needed additional treatment,
    /// monitoring or a longer stay (grade II) or not (grade III).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treatment_needed: Option<bool>,
    /// Where it happened (ward, bed area, room).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// What happened; PII-scrubbed.
    pub description: String,
    /// What was done at once; PII-scrubbed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immediate_actions: Option<String>,
    /// The reporter's profession, never an identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_role: Option<ReporterRole>,
    /// The patient's age band.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_age_band: Option<AgeBand>,
    /// SHA-256 of the receipt given to the reporter (64 lower-case hex
    /// digits); the receipt itself is never stored.
    pub receipt_hash: String,
}

/// `report.followed_up`: text added by the anonymous reporter through the
/// receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowedUp {
    /// Added details; PII-scrubbed.
    pub text: String,
}

impl Filed {
    /// Whether the grade is provisional: harm not known yet, and (the
    /// caller knows) not triaged since.
    pub fn provisional(&self) -> bool {
        self.harm == Harm::Unknown
    }
}

/// `report.filed` version 1, as the stream holds it from before the v2
/// grade–harm rule: IV went with harm `none` (or `unknown`), and `mild` did
/// not say whether it needed treatment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiledV1 {
    /// Department (科室) code where the event occurred.
    pub department: String,
    /// When the event occurred.
    pub occurred_at: DateTime<FixedOffset>,
    /// Grade, as filed.
    pub grade: Grade,
    /// Event category.
    pub category: Category,
    /// AHRQ harm (version 1's agreement).
    pub harm: Harm,
    /// Where it happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// What happened; PII-scrubbed.
    pub description: String,
    /// What was done at once; PII-scrubbed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immediate_actions: Option<String>,
    /// The reporter's profession.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_role: Option<ReporterRole>,
    /// The patient's age band.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_age_band: Option<AgeBand>,
    /// SHA-256 of the receipt.
    pub receipt_hash: String,
}

/// The upcaster: version 1's grade already says what version 2 asks. A
/// grade IV event did not reach the patient, so its harm is
/// `not_applicable` whatever v1 required; `mild` needed treatment exactly
/// when it was graded II (v1 allowed mild with II and III only).
impl From<FiledV1> for Filed {
    fn from(v1: FiledV1) -> Filed {
        let (harm, treatment_needed) = upcast_harm(v1.grade, v1.harm);
        Filed {
            department: v1.department,
            occurred_at: v1.occurred_at,
            grade: v1.grade,
            category: v1.category,
            harm,
            treatment_needed,
            location: v1.location,
            description: v1.description,
            immediate_actions: v1.immediate_actions,
            reporter_role: v1.reporter_role,
            patient_age_band: v1.patient_age_band,
            receipt_hash: v1.receipt_hash,
        }
    }
}

fn upcast_harm(grade: Grade, harm: Harm) -> (Harm, Option<bool>) {
    match (grade, harm) {
        (Grade::IV, _) => (Harm::NotApplicable, None),
        (_, Harm::Mild) => (Harm::Mild, Some(grade == Grade::II)),
        (_, harm) => (harm, None),
    }
}

/// `report.triaged`: grade, category and harm verified by the safety
/// officer, held to the same agreement as a filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triaged {
    /// Verified grade; replaces the filed grade for queues and figures.
    pub grade: Grade,
    /// Verified category.
    pub category: Category,
    /// Re-assessed harm; replaces the filed harm. Always written since
    /// version 2; `None` only when read from version 1, where triage did
    /// not assess harm and the filed harm stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harm: Option<Harm>,
    /// With harm `mild` only: whether it needed treatment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treatment_needed: Option<bool>,
    /// The report this one duplicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<Uuid>,
    /// Triage note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `report.triaged` version 1: grade and category, no harm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriagedV1 {
    /// Verified grade.
    pub grade: Grade,
    /// Verified category.
    pub category: Category,
    /// The report this one duplicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<Uuid>,
    /// Triage note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The upcaster: a version-1 triage left harm as filed, except that a
/// triage to grade IV says the event did not reach the patient.
impl From<TriagedV1> for Triaged {
    fn from(v1: TriagedV1) -> Triaged {
        Triaged {
            grade: v1.grade,
            category: v1.category,
            harm: (v1.grade == Grade::IV).then_some(Harm::NotApplicable),
            treatment_needed: None,
            duplicate_of: v1.duplicate_of,
            note: v1.note,
        }
    }
}

/// `report.feedback_posted`: what was learned or changed, shown to the
/// reporter through the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackPosted {
    /// Feedback text.
    pub text: String,
}
