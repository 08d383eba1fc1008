//! `rca.*`: a root-cause analysis (根本原因分析) from opening through its
//! timeline, fishbone factors, root causes and actions to closing
//! (`schemas/rca.*.v1.json`), with the analysis's closed vocabularies.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The fishbone (Ishikawa) category of a causal factor: 人机料法环测 plus
/// management.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Fishbone {
    /// 人: the people involved, their training, fatigue, communication.
    People,
    /// 机: equipment and devices.
    Equipment,
    /// 料: materials, drugs included.
    Materials,
    /// 法: methods, procedures, protocols.
    Methods,
    /// 环: the environment (layout, lighting, noise, workload peaks).
    Environment,
    /// 测: measurement, monitoring, checking.
    Measurement,
    /// 管理: management, staffing, supervision, culture.
    Management,
}

/// The strength of an action by the RCA² action hierarchy.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// Architectural or forcing-function changes that do not rely on memory
    /// or vigilance.
    Stronger,
    /// Checklists, redundancy, software enhancements, simplification.
    Intermediate,
    /// Training, new policies, warnings, double checks.
    Weaker,
}

impl Strength {
    /// Stronger and intermediate actions count towards the meeting pack's
    /// share.
    pub fn is_stronger_or_intermediate(self) -> bool {
        matches!(self, Strength::Stronger | Strength::Intermediate)
    }
}

/// `rca.opened`: the analysis of one or more reports of one hospital.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opened {
    /// The reports analysed (ids of report aggregates of the same hospital).
    pub report_ids: Vec<Uuid>,
    /// Short title.
    pub title: String,
    /// Roles of the team (never names); repeats allowed.
    pub team_roles: Vec<String>,
    /// Date by which the case should be closed, in the hospital's time zone
    /// (always written: the intake fills in the default).
    pub due: NaiveDate,
}

/// `rca.timeline_added`: one entry of the case's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineAdded {
    /// When it happened.
    pub at: DateTime<FixedOffset>,
    /// What happened.
    pub text: String,
}

/// `rca.factor_added`: a causal factor on the fishbone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactorAdded {
    /// Its number within the case, from 1.
    pub factor: u32,
    /// Fishbone category.
    pub category: Fishbone,
    /// The causal statement.
    pub statement: String,
    /// The why-chain (5 Whys) it came from, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whys: Option<Vec<String>>,
}

/// `rca.root_cause_confirmed`: factors confirmed as root causes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootCauseConfirmed {
    /// Numbers of the confirmed factors.
    pub factors: Vec<u32>,
}

/// `rca.action_planned`: an improvement action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionPlanned {
    /// Its number within the case, from 1.
    pub action: u32,
    /// What will be done.
    pub what: String,
    /// Role responsible (never a name).
    pub owner_role: String,
    /// Date by which it should be completed.
    pub due: NaiveDate,
    /// RCA² strength.
    pub strength: Strength,
    /// How its effect will be measured.
    pub measure: String,
}

/// `rca.action_completed`: a planned action done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionCompleted {
    /// The action's number.
    pub action: u32,
    /// When it was completed.
    pub completed_at: DateTime<FixedOffset>,
    /// Evidence of completion.
    pub evidence: String,
    /// Measured effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
}

/// `rca.closed`: the case closed with its lessons learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closed {
    /// Lessons learned (the reporter reads them through the receipt).
    pub lessons: String,
    /// Why there is no root cause or no action (excuses both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_no_action: Option<String>,
}
