//! `followup.*`: a QC centre's action addressed to a hospital of its region
//! — guidance (指导意见), a rectification notice (整改通知) or a follow-up
//! item of its dispatch meeting (督办事项) — the hospital's answers, and
//! how the QC centre carries or closes it (`schemas/followup.*.v1.json`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Month;

/// What a QC action asks of a hospital.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// 指导意见: advice.
    Guidance,
    /// 整改通知: a notice to rectify, with a due date.
    Rectification,
    /// 督办事项: an item the dispatch meeting follows up until closed.
    FollowUp,
}

/// How a QC centre closes an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// What was asked was done.
    Resolved,
    /// Closed without it being done (the note says why).
    Unresolved,
}

/// `followup.opened`: the QC centre of `region` addresses the hospital of
/// the envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opened {
    /// Guidance, rectification notice or follow-up item.
    pub kind: ActionKind,
    /// The QC centre's region.
    pub region: String,
    /// What it is about, in a line; PII-scrubbed.
    pub title: String,
    /// What the hospital is asked to do; PII-scrubbed.
    pub text: String,
    /// When the answer is due.
    pub due: NaiveDate,
    /// The dispatch meeting it was opened at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<Month>,
}

/// `followup.answered`: the hospital says what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answered {
    /// What was done; PII-scrubbed.
    pub text: String,
}

/// `followup.carried`: kept on the agenda of a later meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Carried {
    /// The meeting it goes to.
    pub to_meeting: Month,
    /// A new due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
}

/// `followup.closed`: the QC centre closes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closed {
    /// Whether what was asked was done.
    pub outcome: Outcome,
    /// Why, in a few words; PII-scrubbed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
