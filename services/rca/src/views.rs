//! What the API answers: the case file, list rows, the queue, the figures,
//! and how much of a case file each reader sees.
//!
//! A safety officer of the hospital sees everything. A QC centre sees the
//! analysis, not the narrative: no report descriptions, no timeline text,
//! no why-chains, no evidence of completion (docs/decisions.md).

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use lantern_domain::vocab::{Category, Grade};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::case::CaseState;
use crate::figures::RcaFigures;
use crate::projector::{CaseRecord, ReportInfo};
use crate::vocab::{Fishbone, Strength};

/// Who reads, and so how much free text they get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The hospital's safety officer: everything.
    Officer,
    /// A QC centre of the hospital's region: no narrative free text.
    QcCentre,
}

impl Audience {
    fn shows<T>(self, value: T) -> Option<T> {
        (self == Audience::Officer).then_some(value)
    }
}

/// A report analysed by the case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportView {
    /// Report id.
    pub report_id: Uuid,
    /// Grade as it stands (triaged if triaged).
    pub grade: Grade,
    /// Category as it stands.
    pub category: Category,
    /// Department code.
    pub department: String,
    /// Scrubbed description (absent for a QC centre).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A timeline entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineView {
    /// When it happened.
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<FixedOffset>,
    /// What happened (absent for a QC centre).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A causal factor.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FactorView {
    /// Its number.
    pub factor: u32,
    /// Fishbone category.
    pub category: Fishbone,
    /// Causal statement.
    pub statement: String,
    /// The why-chain (absent for a QC centre).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whys: Option<Vec<String>>,
}

/// An action.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionView {
    /// Its number.
    pub action: u32,
    /// What will be done.
    pub what: String,
    /// Role responsible.
    pub owner_role: String,
    /// Due date.
    pub due: NaiveDate,
    /// RCA² strength.
    pub strength: Strength,
    /// How its effect will be measured.
    pub measure: String,
    /// When it was completed (null while open).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<DateTime<FixedOffset>>,
    /// Evidence of completion (null while open; absent for a QC centre).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub evidence: Option<Option<String>>,
    /// Measured effect, if recorded.
    pub effect: Option<String>,
    /// Not completed by the end of its due date while the case is open.
    pub overdue: bool,
}

/// A whole case file, everything in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseFileView {
    /// The analysis id.
    pub rca_id: Uuid,
    /// Hospital code.
    pub hospital: String,
    /// Title.
    pub title: String,
    /// Open or closed.
    pub state: CaseState,
    /// Open past the end of its due date.
    pub overdue: bool,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// Due date.
    pub due: NaiveDate,
    /// Day closed (hospital time zone).
    pub closed_on: Option<NaiveDate>,
    /// Team roles.
    pub team_roles: Vec<String>,
    /// The reports analysed.
    pub reports: Vec<ReportView>,
    /// The timeline, by time (entries at the same time in the order added).
    pub timeline: Vec<TimelineView>,
    /// Factors, by number.
    pub factors: Vec<FactorView>,
    /// Confirmed root causes (factor numbers), ascending.
    pub root_causes: Vec<u32>,
    /// Actions, by number.
    pub actions: Vec<ActionView>,
    /// Lessons learned, once closed.
    pub lessons: Option<String>,
    /// Why it closed without a root cause or action, if so.
    pub reason_no_action: Option<String>,
    /// Stream sequence of the case's last event.
    pub seq: u64,
}

impl CaseFileView {
    /// The case file as `audience` sees it on `today` (hospital time zone);
    /// `reports` are the reports it analyses, as the read model has them,
    /// with their descriptions.
    pub fn build(
        record: &CaseRecord,
        reports: Vec<(ReportInfo, String)>,
        today: NaiveDate,
        audience: Audience,
    ) -> CaseFileView {
        let case = &record.case;
        let mut timeline: Vec<_> = case.timeline.iter().collect();
        // Stable: entries at the same instant keep the order they were added in.
        timeline.sort_by_key(|t| t.at);
        let mut factors: Vec<_> = case.factors.iter().collect();
        factors.sort_by_key(|f| f.factor);
        let mut actions: Vec<_> = case.actions.iter().collect();
        actions.sort_by_key(|a| a.action);
        CaseFileView {
            rca_id: record.rca_id,
            hospital: record.hospital.clone(),
            title: case.title.clone(),
            state: case.state,
            overdue: case.overdue_on(today),
            opened_at: case.opened_at,
            due: case.due,
            closed_on: case.closed_on,
            team_roles: case.team_roles.clone(),
            reports: reports
                .into_iter()
                .map(|(r, description)| ReportView {
                    report_id: r.report_id,
                    grade: r.grade,
                    category: r.category,
                    department: r.department,
                    description: audience.shows(description),
                })
                .collect(),
            timeline: timeline
                .into_iter()
                .map(|t| TimelineView {
                    at: t.at,
                    text: audience.shows(t.text.clone()),
                })
                .collect(),
            factors: factors
                .into_iter()
                .map(|f| FactorView {
                    factor: f.factor,
                    category: f.category,
                    statement: f.statement.clone(),
                    whys: audience.shows(f.whys.clone()),
                })
                .collect(),
            root_causes: case.root_causes.clone(),
            actions: actions
                .into_iter()
                .map(|a| ActionView {
                    action: a.action,
                    what: a.what.clone(),
                    owner_role: a.owner_role.clone(),
                    due: a.due,
                    strength: a.strength,
                    measure: a.measure.clone(),
                    completed_at: a.completed_at,
                    evidence: audience.shows(a.evidence.clone()),
                    effect: a.effect.clone(),
                    overdue: a.overdue_on(case, today),
                })
                .collect(),
            lessons: case.lessons.clone(),
            reason_no_action: case.reason_no_action.clone(),
            seq: record.last_seq,
        }
    }
}

/// A row of a hospital's list of cases.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseSummary {
    /// The analysis id.
    pub rca_id: Uuid,
    /// Hospital code.
    pub hospital: String,
    /// Title.
    pub title: String,
    /// Open or closed.
    pub state: CaseState,
    /// Open past the end of its due date.
    pub overdue: bool,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// Due date.
    pub due: NaiveDate,
    /// Day closed.
    pub closed_on: Option<NaiveDate>,
    /// The reports analysed.
    pub report_ids: Vec<Uuid>,
    /// Confirmed root causes.
    pub root_causes: usize,
    /// Actions planned.
    pub actions: usize,
    /// Of those, completed.
    pub actions_completed: usize,
    /// Of those, overdue.
    pub actions_overdue: usize,
}

impl CaseSummary {
    /// The summary of a case on `today` (hospital time zone).
    pub fn of(record: &CaseRecord, today: NaiveDate) -> CaseSummary {
        let case = &record.case;
        CaseSummary {
            rca_id: record.rca_id,
            hospital: record.hospital.clone(),
            title: case.title.clone(),
            state: case.state,
            overdue: case.overdue_on(today),
            opened_at: case.opened_at,
            due: case.due,
            closed_on: case.closed_on,
            report_ids: case.report_ids.clone(),
            root_causes: case.root_causes.len(),
            actions: case.actions.len(),
            actions_completed: case
                .actions
                .iter()
                .filter(|a| a.completed_at.is_some())
                .count(),
            actions_overdue: case
                .actions
                .iter()
                .filter(|a| a.overdue_on(case, today))
                .count(),
        }
    }
}

/// The list of cases.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    /// Newest first.
    pub rows: Vec<CaseSummary>,
}

/// A report that needs an analysis.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequiredRow {
    /// Report id.
    pub report_id: Uuid,
    /// The short reference people name it by (random, not time-ordered).
    #[serde(rename = "ref")]
    pub reference: String,
    /// Grade as it stands.
    pub grade: Grade,
    /// Day filed (hospital time zone).
    pub filed_on: NaiveDate,
    /// No analysis opened by the start of the third day after the filing day.
    pub overdue: bool,
}

/// The queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequiredList {
    /// Oldest first.
    pub rows: Vec<RequiredRow>,
}

/// The figures of a hospital-month.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiguresView {
    /// Hospital code.
    pub hospital: String,
    /// The month, `YYYY-MM`.
    pub month: String,
    /// The day overdue cases and actions are counted on.
    pub as_of: NaiveDate,
    /// The figures, as in the meeting pack's `rca` block.
    pub rca: RcaFigures,
}

/// Answer to opening a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct Opened {
    /// The new analysis.
    pub rca_id: Uuid,
    /// Stream sequence of `rca.opened`.
    pub seq: u64,
}

/// Answer to adding a factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct FactorNumbered {
    /// The factor's number.
    pub factor: u32,
    /// Stream sequence.
    pub seq: u64,
}

/// Answer to planning an action.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionNumbered {
    /// The action's number.
    pub action: u32,
    /// Stream sequence.
    pub seq: u64,
}

/// An analysis as a supervisor reads it beside a death trail or in the
/// QC centre's case list: its state, root causes, actions and lessons —
/// the analysis, never the narrative (no timeline, whys or evidence).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RcaLink {
    /// The analysis.
    pub rca_id: Uuid,
    /// open or closed.
    pub state: &'static str,
    /// Past its due date and not closed.
    pub overdue: bool,
    /// The confirmed root causes' statements.
    pub root_causes: Vec<String>,
    /// The actions and their status.
    pub actions: Vec<RcaActionLink>,
    /// What was learned, once closed.
    pub lessons: Option<String>,
}

/// An action of a linked analysis.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RcaActionLink {
    /// Its number.
    pub action: u32,
    /// What.
    pub what: String,
    /// stronger, intermediate or weaker.
    pub strength: Strength,
    /// Due date.
    pub due: NaiveDate,
    /// Completed.
    pub completed: bool,
    /// Past due and not completed.
    pub overdue: bool,
}

impl RcaLink {
    /// The case file `record` as it stands on `today`.
    pub fn of(record: &CaseRecord, today: NaiveDate) -> RcaLink {
        let case = &record.case;
        RcaLink {
            rca_id: record.rca_id,
            state: if case.is_open() { "open" } else { "closed" },
            overdue: case.overdue_on(today),
            root_causes: case
                .root_causes
                .iter()
                .filter_map(|n| case.factor(*n).map(|f| f.statement.clone()))
                .collect(),
            actions: case
                .actions
                .iter()
                .map(|a| RcaActionLink {
                    action: a.action,
                    what: a.what.clone(),
                    strength: a.strength,
                    due: a.due,
                    completed: a.completed_on.is_some(),
                    overdue: a.overdue_on(case, today),
                })
                .collect(),
            lessons: case.lessons.clone(),
        }
    }
}
