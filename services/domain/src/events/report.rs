//! `report.*`: an anonymous adverse-event report, its follow-ups by the
//! reporter, its triage and the feedback shown through the receipt
//! (`schemas/report.*.v1.json`).

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
    /// AHRQ harm.
    pub harm: Harm,
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

/// `report.triaged`: grade and category verified by the safety officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triaged {
    /// Verified grade; replaces the filed grade for queues and figures.
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

/// `report.feedback_posted`: what was learned or changed, shown to the
/// reporter through the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackPosted {
    /// Feedback text.
    pub text: String,
}
