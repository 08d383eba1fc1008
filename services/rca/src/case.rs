//! The case file: the state of one analysis, folded from its own events by
//! [`apply`], and when it or one of its actions is overdue.
//!
//! Pure: no clock, no storage. The day an event was recorded comes in with
//! it ([`Stamp`]), and "overdue" is asked for a given day.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::event::RcaEvent;
use crate::vocab::{Fishbone, Strength};

/// Whether a case is still being worked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Steps may be added.
    Open,
    /// Closed with its lessons; nothing may be added.
    Closed,
}

/// One entry of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When it happened.
    pub at: DateTime<FixedOffset>,
    /// What happened.
    pub text: String,
}

/// A causal factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Number within the case, from 1.
    pub factor: u32,
    /// Fishbone category.
    pub category: Fishbone,
    /// Causal statement.
    pub statement: String,
    /// The why-chain, if given.
    pub whys: Vec<String>,
}

/// An improvement action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// Number within the case, from 1.
    pub action: u32,
    /// What will be done.
    pub what: String,
    /// Role responsible.
    pub owner_role: String,
    /// Due date (hospital time zone).
    pub due: NaiveDate,
    /// RCA² strength.
    pub strength: Strength,
    /// How its effect will be measured.
    pub measure: String,
    /// Day it was planned (recorded), hospital time zone.
    pub planned_on: NaiveDate,
    /// When it was completed, as reported.
    pub completed_at: Option<DateTime<FixedOffset>>,
    /// Day it counts as completed: the day of `completed_at`, but never after
    /// the day the completion was recorded.
    pub completed_on: Option<NaiveDate>,
    /// Evidence of completion.
    pub evidence: Option<String>,
    /// Measured effect.
    pub effect: Option<String>,
}

impl Action {
    /// Whether the action is overdue on `day`: planned by then, due before
    /// it, not completed by then, and its case still open then (the actions
    /// of a closed case can no longer be completed, so they are not chased).
    pub fn overdue_on(&self, case: &CaseFile, day: NaiveDate) -> bool {
        self.planned_on <= day
            && self.due < day
            && self.completed_on.is_none_or(|c| c > day)
            && !case.closed_by(day)
    }
}

/// The state of one root-cause analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseFile {
    /// Open or closed.
    pub state: CaseState,
    /// When it was opened (server clock).
    pub opened_at: DateTime<Utc>,
    /// Day it was opened, hospital time zone.
    pub opened_on: NaiveDate,
    /// Title.
    pub title: String,
    /// Team roles.
    pub team_roles: Vec<String>,
    /// The reports analysed.
    pub report_ids: Vec<Uuid>,
    /// Due date of the case.
    pub due: NaiveDate,
    /// Timeline entries, in the order they were added.
    pub timeline: Vec<TimelineEntry>,
    /// Factors, by number.
    pub factors: Vec<Factor>,
    /// Confirmed root causes (factor numbers), ascending.
    pub root_causes: Vec<u32>,
    /// Actions, by number.
    pub actions: Vec<Action>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Day it was closed, hospital time zone.
    pub closed_on: Option<NaiveDate>,
    /// Lessons learned.
    pub lessons: Option<String>,
    /// Why there is no root cause or action.
    pub reason_no_action: Option<String>,
}

impl CaseFile {
    /// Whether steps may still be added.
    pub fn is_open(&self) -> bool {
        self.state == CaseState::Open
    }

    /// Whether the case was closed on or before `day`.
    pub fn closed_by(&self, day: NaiveDate) -> bool {
        self.closed_on.is_some_and(|c| c <= day)
    }

    /// Whether the case is overdue on `day`: opened by then, due before it
    /// and not closed by then. Its actions do not make it overdue.
    pub fn overdue_on(&self, day: NaiveDate) -> bool {
        self.opened_on <= day && self.due < day && !self.closed_by(day)
    }

    /// Calendar days from opening to closing (hospital time zone).
    pub fn days_to_close(&self) -> Option<i64> {
        self.closed_on
            .map(|c| (c - self.opened_on).num_days().max(0))
    }

    /// The factor with this number.
    pub fn factor(&self, n: u32) -> Option<&Factor> {
        self.factors.iter().find(|f| f.factor == n)
    }

    /// The action with this number.
    pub fn action(&self, n: u32) -> Option<&Action> {
        self.actions.iter().find(|a| a.action == n)
    }

    /// The number the next factor gets.
    pub fn next_factor(&self) -> u32 {
        self.factors.iter().map(|f| f.factor).max().unwrap_or(0) + 1
    }

    /// The number the next action gets.
    pub fn next_action(&self) -> u32 {
        self.actions.iter().map(|a| a.action).max().unwrap_or(0) + 1
    }
}

/// When an event was recorded, and the hospital's time zone its days are
/// counted in.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    /// The envelope's `recorded_at`.
    pub at: DateTime<Utc>,
    /// The hospital's time zone.
    pub zone: Tz,
}

impl Stamp {
    /// The day of `at` in the hospital's time zone.
    pub fn on(&self) -> NaiveDate {
        self.day_of(self.at)
    }

    /// The day of any instant in the hospital's time zone.
    pub fn day_of<T: chrono::TimeZone>(&self, at: DateTime<T>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }
}

/// Folds one event into the state. Total: an event that does not fit the
/// state (a step before the opening, a second opening, an unknown action)
/// leaves it as it was, the same way in every rebuild.
pub fn apply(state: Option<CaseFile>, event: &RcaEvent, stamp: &Stamp) -> Option<CaseFile> {
    let Some(mut case) = state else {
        return match event {
            RcaEvent::Opened(o) => Some(CaseFile {
                state: CaseState::Open,
                opened_at: stamp.at,
                opened_on: stamp.on(),
                title: o.title.clone(),
                team_roles: o.team_roles.clone(),
                report_ids: o.report_ids.clone(),
                due: o.due,
                timeline: vec![],
                factors: vec![],
                root_causes: vec![],
                actions: vec![],
                closed_at: None,
                closed_on: None,
                lessons: None,
                reason_no_action: None,
            }),
            _ => None,
        };
    };
    match event {
        RcaEvent::Opened(_) => {}
        RcaEvent::TimelineAdded(t) => case.timeline.push(TimelineEntry {
            at: t.at,
            text: t.text.clone(),
        }),
        RcaEvent::FactorAdded(f) => {
            if case.factor(f.factor).is_none() {
                case.factors.push(Factor {
                    factor: f.factor,
                    category: f.category,
                    statement: f.statement.clone(),
                    whys: f.whys.clone().unwrap_or_default(),
                });
            }
        }
        RcaEvent::RootCauseConfirmed(r) => {
            case.root_causes.extend(&r.factors);
            case.root_causes.sort_unstable();
            case.root_causes.dedup();
        }
        RcaEvent::ActionPlanned(a) => {
            if case.action(a.action).is_none() {
                case.actions.push(Action {
                    action: a.action,
                    what: a.what.clone(),
                    owner_role: a.owner_role.clone(),
                    due: a.due,
                    strength: a.strength,
                    measure: a.measure.clone(),
                    planned_on: stamp.on(),
                    completed_at: None,
                    completed_on: None,
                    evidence: None,
                    effect: None,
                });
            }
        }
        RcaEvent::ActionCompleted(c) => {
            let recorded_on = stamp.on();
            let completed_on = stamp.day_of(c.completed_at).min(recorded_on);
            if let Some(a) = case
                .actions
                .iter_mut()
                .find(|a| a.action == c.action && a.completed_at.is_none())
            {
                a.completed_at = Some(c.completed_at);
                a.completed_on = Some(completed_on);
                a.evidence = Some(c.evidence.clone());
                a.effect = c.effect.clone();
            }
        }
        RcaEvent::Closed(c) => {
            if case.is_open() {
                case.state = CaseState::Closed;
                case.closed_at = Some(stamp.at);
                case.closed_on = Some(stamp.on());
                case.lessons = Some(c.lessons.clone());
                case.reason_no_action = c.reason_no_action.clone();
            }
        }
    }
    Some(case)
}
