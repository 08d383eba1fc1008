//! Deciding: what a command on a case file records, or why it is refused.
//!
//! `decide(state, command) → events` is pure. What needs the outside world
//! comes in with the command: the reports named at opening, resolved to
//! their hospital by the caller, and the opening day in the hospital's time
//! zone. Field formats (lengths, times in the future) are the API's; the
//! rules about the case are here.

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta};
use uuid::Uuid;

use crate::case::CaseFile;
use crate::error::RcaError;
use crate::event::{
    ActionCompleted, ActionPlanned, Closed, FactorAdded, Opened, RcaEvent, RootCauseConfirmed,
    TimelineAdded,
};
use crate::vocab::{Fishbone, Strength};
use lantern_api::FieldError;

/// A case is due this many days after the day it was opened, unless a due
/// date is given.
pub const DEFAULT_DUE_DAYS: i64 = 45;

/// The most reports one analysis may cover (the schema's limit).
pub const MAX_REPORTS: usize = 100;

/// The most team roles (the schema's limit).
pub const MAX_TEAM_ROLES: usize = 50;

/// A report named at opening, as the caller found it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRef {
    /// The id given.
    pub report_id: Uuid,
    /// The hospital of that report; `None` when there is no such report.
    pub hospital: Option<String>,
}

/// What a safety officer asks of a case file.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Open an analysis of reports of one hospital.
    Open {
        /// The hospital.
        hospital: String,
        /// The reports, in the order given.
        reports: Vec<ReportRef>,
        /// Title (trimmed, scrubbed).
        title: String,
        /// Team roles.
        team_roles: Vec<String>,
        /// Due date, if given.
        due: Option<NaiveDate>,
        /// The opening day in the hospital's time zone.
        today: NaiveDate,
    },
    /// Add a timeline entry.
    AddTimeline {
        /// When it happened.
        at: DateTime<FixedOffset>,
        /// What happened.
        text: String,
    },
    /// Add a causal factor.
    AddFactor {
        /// Fishbone category.
        category: Fishbone,
        /// Causal statement.
        statement: String,
        /// Why-chain.
        whys: Option<Vec<String>>,
    },
    /// Confirm factors as root causes.
    ConfirmRootCauses {
        /// Factor numbers, in the order given.
        factors: Vec<u32>,
    },
    /// Plan an action.
    PlanAction {
        /// What will be done.
        what: String,
        /// Role responsible.
        owner_role: String,
        /// Due date.
        due: NaiveDate,
        /// RCA² strength.
        strength: Strength,
        /// How its effect will be measured.
        measure: String,
    },
    /// Complete an action.
    CompleteAction {
        /// Its number.
        action: u32,
        /// When.
        completed_at: DateTime<FixedOffset>,
        /// Evidence.
        evidence: String,
        /// Measured effect.
        effect: Option<String>,
    },
    /// Close the case.
    Close {
        /// Lessons learned.
        lessons: String,
        /// Why there is no root cause or no action.
        reason_no_action: Option<String>,
    },
}

impl Command {
    /// Whether the step may be decided again on a fresher view when someone
    /// else appended to the case meanwhile. Adding timeline entries, factors
    /// and actions commutes (they just take the next number); so do
    /// confirming root causes and completing an action, whose validity the
    /// second decision checks again. Closing does not: whoever closes must
    /// have seen everything the lessons sum up.
    pub fn commutes(&self) -> bool {
        !matches!(self, Command::Open { .. } | Command::Close { .. })
    }

    /// The type of the event this command records.
    pub fn event_type(&self) -> &'static str {
        match self {
            Command::Open { .. } => "rca.opened",
            Command::AddTimeline { .. } => "rca.timeline_added",
            Command::AddFactor { .. } => "rca.factor_added",
            Command::ConfirmRootCauses { .. } => "rca.root_cause_confirmed",
            Command::PlanAction { .. } => "rca.action_planned",
            Command::CompleteAction { .. } => "rca.action_completed",
            Command::Close { .. } => "rca.closed",
        }
    }
}

/// Decides what `command` records on the case `state` (`None`: not opened).
pub fn decide(state: Option<&CaseFile>, command: Command) -> Result<Vec<RcaEvent>, RcaError> {
    match (state, command) {
        (
            None,
            Command::Open {
                hospital,
                reports,
                title,
                team_roles,
                due,
                today,
            },
        ) => open(&hospital, reports, title, team_roles, due, today),
        (None, _) => Err(RcaError::NotFound),
        (Some(_), Command::Open { .. }) => Err(RcaError::AlreadyOpened),
        (Some(case), _) if !case.is_open() => Err(RcaError::Closed),
        (Some(case), command) => step(case, command).map(|e| vec![e]),
    }
}

/// A step on an open case.
fn step(case: &CaseFile, command: Command) -> Result<RcaEvent, RcaError> {
    Ok(match command {
        Command::Open { .. } => return Err(RcaError::AlreadyOpened),
        Command::AddTimeline { at, text } => RcaEvent::TimelineAdded(TimelineAdded { at, text }),
        Command::AddFactor {
            category,
            statement,
            whys,
        } => RcaEvent::FactorAdded(FactorAdded {
            factor: case.next_factor(),
            category,
            statement,
            whys,
        }),
        Command::ConfirmRootCauses { factors } => {
            confirm(case, &factors)?;
            RcaEvent::RootCauseConfirmed(RootCauseConfirmed { factors })
        }
        Command::PlanAction {
            what,
            owner_role,
            due,
            strength,
            measure,
        } => RcaEvent::ActionPlanned(ActionPlanned {
            action: case.next_action(),
            what,
            owner_role,
            due,
            strength,
            measure,
        }),
        Command::CompleteAction {
            action,
            completed_at,
            evidence,
            effect,
        } => {
            match case.action(action) {
                None => return Err(RcaError::UnknownAction(action)),
                Some(a) if a.completed_at.is_some() => {
                    return Err(RcaError::AlreadyCompleted(action));
                }
                Some(_) => {}
            }
            RcaEvent::ActionCompleted(ActionCompleted {
                action,
                completed_at,
                evidence,
                effect,
            })
        }
        Command::Close {
            lessons,
            reason_no_action,
        } => {
            if reason_no_action.is_none() {
                let mut missing = vec![];
                if case.root_causes.is_empty() {
                    missing.push("no root cause is confirmed");
                }
                if case.actions.is_empty() {
                    missing.push("no action is planned");
                }
                if !missing.is_empty() {
                    return Err(RcaError::NotReadyToClose(missing.join(" and ")));
                }
            }
            RcaEvent::Closed(Closed {
                lessons,
                reason_no_action,
            })
        }
    })
}

fn open(
    hospital: &str,
    reports: Vec<ReportRef>,
    title: String,
    team_roles: Vec<String>,
    due: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Vec<RcaEvent>, RcaError> {
    let mut errors = Vec::new();
    if reports.is_empty() {
        errors.push(FieldError::new("/report_ids", "needs at least one report"));
    } else if reports.len() > MAX_REPORTS {
        errors.push(FieldError::new(
            "/report_ids",
            format!("may name at most {MAX_REPORTS} reports"),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, r) in reports.iter().enumerate() {
        let pointer = format!("/report_ids/{i}");
        if !seen.insert(r.report_id) {
            errors.push(FieldError::new(pointer, "is named twice"));
            continue;
        }
        match r.hospital.as_deref() {
            None => errors.push(FieldError::new(pointer, "is not a report")),
            Some(h) if h != hospital => errors.push(FieldError::new(
                pointer,
                format!("is a report of another hospital, not {hospital}"),
            )),
            Some(_) => {}
        }
    }
    if title.trim().is_empty() {
        errors.push(FieldError::new("/title", "must not be empty"));
    }
    if team_roles.is_empty() {
        errors.push(FieldError::new("/team_roles", "needs at least one role"));
    } else if team_roles.len() > MAX_TEAM_ROLES {
        errors.push(FieldError::new(
            "/team_roles",
            format!("may list at most {MAX_TEAM_ROLES} roles"),
        ));
    }
    for (i, role) in team_roles.iter().enumerate() {
        if role.trim().is_empty() {
            errors.push(FieldError::new(
                format!("/team_roles/{i}"),
                "must not be empty",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(RcaError::Invalid(errors));
    }
    let due = due.unwrap_or(today + TimeDelta::days(DEFAULT_DUE_DAYS));
    Ok(vec![RcaEvent::Opened(Opened {
        report_ids: reports.into_iter().map(|r| r.report_id).collect(),
        title,
        team_roles,
        due,
    })])
}

/// Root causes must name factors of the case, each once.
fn confirm(case: &CaseFile, factors: &[u32]) -> Result<(), RcaError> {
    if factors.is_empty() {
        return Err(RcaError::field("/factors", "needs at least one factor"));
    }
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, n) in factors.iter().enumerate() {
        let pointer = format!("/factors/{i}");
        if !seen.insert(*n) {
            errors.push(FieldError::new(pointer, "is named twice"));
        } else if case.factor(*n).is_none() {
            errors.push(FieldError::new(
                pointer,
                format!("the case has no factor {n}"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RcaError::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    //! Given the case's events, when a command is decided, then these events
    //! (or this refusal). No infrastructure.

    use super::*;
    use crate::case::{CaseState, Stamp, apply};
    use chrono::Utc;

    const H: &str = "H1";

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn time(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    /// Recorded at 2026-03-01 10:00 Shanghai.
    fn stamp() -> Stamp {
        Stamp {
            at: "2026-03-01T02:00:00Z".parse::<DateTime<Utc>>().unwrap(),
            zone: chrono_tz::Asia::Shanghai,
        }
    }

    fn given(events: &[RcaEvent]) -> Option<CaseFile> {
        events
            .iter()
            .fold(None, |state, e| apply(state, e, &stamp()))
    }

    fn when(given_events: &[RcaEvent], command: Command) -> Result<Vec<RcaEvent>, RcaError> {
        decide(given(given_events).as_ref(), command)
    }

    fn report(id: Uuid, hospital: Option<&str>) -> ReportRef {
        ReportRef {
            report_id: id,
            hospital: hospital.map(str::to_owned),
        }
    }

    fn open_command(reports: Vec<ReportRef>, due: Option<NaiveDate>) -> Command {
        Command::Open {
            hospital: H.into(),
            reports,
            title: "KCl concentration errors".into(),
            team_roles: vec!["safety_officer".into(), "pharmacist".into()],
            due,
            today: day("2026-03-01"),
        }
    }

    fn opened() -> RcaEvent {
        RcaEvent::Opened(Opened {
            report_ids: vec![Uuid::from_u128(1)],
            title: "t".into(),
            team_roles: vec!["safety_officer".into()],
            due: day("2026-04-15"),
        })
    }

    fn factor(n: u32) -> RcaEvent {
        RcaEvent::FactorAdded(FactorAdded {
            factor: n,
            category: Fishbone::Equipment,
            statement: format!("factor {n}"),
            whys: None,
        })
    }

    fn action(n: u32) -> RcaEvent {
        RcaEvent::ActionPlanned(ActionPlanned {
            action: n,
            what: format!("action {n}"),
            owner_role: "pharmacy".into(),
            due: day("2026-05-01"),
            strength: Strength::Stronger,
            measure: "audit".into(),
        })
    }

    fn root_causes(factors: &[u32]) -> RcaEvent {
        RcaEvent::RootCauseConfirmed(RootCauseConfirmed {
            factors: factors.to_vec(),
        })
    }

    fn completed(n: u32) -> RcaEvent {
        RcaEvent::ActionCompleted(ActionCompleted {
            action: n,
            completed_at: time("2026-03-01T09:00:00+08:00"),
            evidence: "done".into(),
            effect: None,
        })
    }

    fn closed(reason: Option<&str>) -> RcaEvent {
        RcaEvent::Closed(Closed {
            lessons: "lessons".into(),
            reason_no_action: reason.map(str::to_owned),
        })
    }

    fn close_command(reason: Option<&str>) -> Command {
        Command::Close {
            lessons: "lessons".into(),
            reason_no_action: reason.map(str::to_owned),
        }
    }

    fn timeline_command() -> Command {
        Command::AddTimeline {
            at: time("2026-02-27T23:30:00+08:00"),
            text: "bag dispensed".into(),
        }
    }

    fn factor_command() -> Command {
        Command::AddFactor {
            category: Fishbone::Methods,
            statement: "no double check".into(),
            whys: Some(vec!["why?".into()]),
        }
    }

    fn action_command() -> Command {
        Command::PlanAction {
            what: "hard limit in the pump library".into(),
            owner_role: "biomedical_engineering".into(),
            due: day("2020-01-01"),
            strength: Strength::Intermediate,
            measure: "monthly audit".into(),
        }
    }

    fn complete_command(n: u32) -> Command {
        Command::CompleteAction {
            action: n,
            completed_at: time("2026-03-01T09:00:00+08:00"),
            evidence: "library deployed".into(),
            effect: Some("no errors".into()),
        }
    }

    fn pointers(e: RcaError) -> Vec<String> {
        match e {
            RcaError::Invalid(errors) => errors.into_iter().map(|e| e.pointer).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    // Opening.

    #[test]
    fn opening_defaults_the_due_date_to_45_days_after_the_opening_day() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let events = when(
            &[],
            open_command(vec![report(a, Some(H)), report(b, Some(H))], None),
        )
        .unwrap();
        assert_eq!(
            events,
            [RcaEvent::Opened(Opened {
                report_ids: vec![a, b],
                title: "KCl concentration errors".into(),
                team_roles: vec!["safety_officer".into(), "pharmacist".into()],
                due: day("2026-04-15"),
            })]
        );
    }

    #[test]
    fn opening_keeps_a_given_due_date_even_in_the_past() {
        let events = when(
            &[],
            open_command(
                vec![report(Uuid::from_u128(1), Some(H))],
                Some(day("2025-12-31")),
            ),
        )
        .unwrap();
        let RcaEvent::Opened(o) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(o.due, day("2025-12-31"));
    }

    #[test]
    fn opening_needs_reports_of_that_hospital() {
        let err = when(&[], open_command(vec![], None)).unwrap_err();
        assert_eq!(pointers(err), ["/report_ids"]);

        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let err = when(
            &[],
            open_command(
                vec![
                    report(a, Some(H)),
                    report(b, Some("H2")),
                    report(c, None),
                    report(a, Some(H)),
                ],
                None,
            ),
        )
        .unwrap_err();
        assert_eq!(
            pointers(err),
            ["/report_ids/1", "/report_ids/2", "/report_ids/3"]
        );
    }

    #[test]
    fn opening_needs_a_title_and_team_roles() {
        let mut command = open_command(vec![report(Uuid::from_u128(1), Some(H))], None);
        if let Command::Open {
            title, team_roles, ..
        } = &mut command
        {
            *title = " ".into();
            *team_roles = vec![];
        }
        assert_eq!(
            pointers(when(&[], command.clone()).unwrap_err()),
            ["/title", "/team_roles"]
        );
        if let Command::Open { team_roles, .. } = &mut command {
            *team_roles = vec!["nurse".into(), "".into()];
        }
        assert_eq!(
            pointers(when(&[], command).unwrap_err()),
            ["/title", "/team_roles/1"]
        );
    }

    #[test]
    fn a_case_opens_once() {
        let err = when(
            &[opened()],
            open_command(vec![report(Uuid::from_u128(1), Some(H))], None),
        )
        .unwrap_err();
        assert!(matches!(err, RcaError::AlreadyOpened), "{err:?}");
    }

    #[test]
    fn steps_need_an_opened_case() {
        let err = when(&[], timeline_command()).unwrap_err();
        assert!(matches!(err, RcaError::NotFound), "{err:?}");
    }

    // Steps.

    #[test]
    fn a_timeline_entry_is_recorded_as_given() {
        assert_eq!(
            when(&[opened()], timeline_command()).unwrap(),
            [RcaEvent::TimelineAdded(TimelineAdded {
                at: time("2026-02-27T23:30:00+08:00"),
                text: "bag dispensed".into(),
            })]
        );
    }

    #[test]
    fn factors_are_numbered_from_one_in_order() {
        let first = when(&[opened()], factor_command()).unwrap();
        assert_eq!(
            first,
            [RcaEvent::FactorAdded(FactorAdded {
                factor: 1,
                category: Fishbone::Methods,
                statement: "no double check".into(),
                whys: Some(vec!["why?".into()]),
            })]
        );
        let third = when(&[opened(), factor(1), factor(2)], factor_command()).unwrap();
        assert!(matches!(&third[0], RcaEvent::FactorAdded(f) if f.factor == 3));
    }

    #[test]
    fn root_causes_must_name_existing_factors_once() {
        let given_events = [opened(), factor(1), factor(2)];
        assert_eq!(
            when(
                &given_events,
                Command::ConfirmRootCauses {
                    factors: vec![2, 1]
                }
            )
            .unwrap(),
            [root_causes(&[2, 1])]
        );
        let err = when(
            &given_events,
            Command::ConfirmRootCauses {
                factors: vec![1, 3, 1],
            },
        )
        .unwrap_err();
        assert_eq!(pointers(err), ["/factors/1", "/factors/2"]);
        let err = when(
            &given_events,
            Command::ConfirmRootCauses { factors: vec![] },
        )
        .unwrap_err();
        assert_eq!(pointers(err), ["/factors"]);
        let err = when(&[opened()], Command::ConfirmRootCauses { factors: vec![1] }).unwrap_err();
        assert_eq!(pointers(err), ["/factors/0"], "no factor yet");
    }

    #[test]
    fn actions_are_numbered_from_one_and_may_be_due_in_the_past() {
        let first = when(&[opened(), factor(1)], action_command()).unwrap();
        assert_eq!(
            first,
            [RcaEvent::ActionPlanned(ActionPlanned {
                action: 1,
                what: "hard limit in the pump library".into(),
                owner_role: "biomedical_engineering".into(),
                due: day("2020-01-01"),
                strength: Strength::Intermediate,
                measure: "monthly audit".into(),
            })]
        );
        let second = when(&[opened(), action(1)], action_command()).unwrap();
        assert!(matches!(&second[0], RcaEvent::ActionPlanned(a) if a.action == 2));
    }

    #[test]
    fn completing_a_planned_action_records_it() {
        assert_eq!(
            when(&[opened(), action(1), action(2)], complete_command(2)).unwrap(),
            [RcaEvent::ActionCompleted(ActionCompleted {
                action: 2,
                completed_at: time("2026-03-01T09:00:00+08:00"),
                evidence: "library deployed".into(),
                effect: Some("no errors".into()),
            })]
        );
    }

    #[test]
    fn completing_an_unknown_action_is_refused() {
        let err = when(&[opened(), action(1)], complete_command(2)).unwrap_err();
        assert!(matches!(err, RcaError::UnknownAction(2)), "{err:?}");
    }

    #[test]
    fn completing_an_action_twice_is_refused() {
        let err = when(&[opened(), action(1), completed(1)], complete_command(1)).unwrap_err();
        assert!(matches!(err, RcaError::AlreadyCompleted(1)), "{err:?}");
    }

    // Closing.

    #[test]
    fn closing_needs_a_root_cause_and_an_action() {
        for (given_events, missing) in [
            (
                vec![opened()],
                "no root cause is confirmed and no action is planned",
            ),
            (vec![opened(), action(1)], "no root cause is confirmed"),
            (
                vec![opened(), factor(1), root_causes(&[1])],
                "no action is planned",
            ),
        ] {
            match when(&given_events, close_command(None)).unwrap_err() {
                RcaError::NotReadyToClose(m) => assert_eq!(m, missing),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            when(
                &[opened(), factor(1), root_causes(&[1]), action(1)],
                close_command(None)
            )
            .unwrap(),
            [closed(None)]
        );
    }

    #[test]
    fn a_reason_excuses_both_root_cause_and_action() {
        assert_eq!(
            when(&[opened()], close_command(Some("a known device recall"))).unwrap(),
            [closed(Some("a known device recall"))]
        );
    }

    #[test]
    fn nothing_may_be_added_to_a_closed_case() {
        let given_events = [opened(), closed(Some("none needed"))];
        for command in [
            timeline_command(),
            factor_command(),
            Command::ConfirmRootCauses { factors: vec![1] },
            action_command(),
            complete_command(1),
            close_command(Some("again")),
        ] {
            let err = when(&given_events, command.clone()).unwrap_err();
            assert!(matches!(err, RcaError::Closed), "{command:?}: {err:?}");
        }
    }

    // Folding.

    #[test]
    fn the_case_file_folds_its_events() {
        let case = given(&[
            opened(),
            factor(1),
            factor(2),
            root_causes(&[2]),
            root_causes(&[1, 2]),
            action(1),
            completed(1),
            completed(1),
            closed(None),
            factor(3),
        ])
        .unwrap();
        assert_eq!(case.state, CaseState::Closed);
        assert_eq!(case.opened_on, day("2026-03-01"));
        assert_eq!(case.root_causes, [1, 2], "ascending, once each");
        assert_eq!(case.factors.len(), 3, "apply is total; decide refuses");
        let a = case.action(1).unwrap();
        assert_eq!(a.completed_on, Some(day("2026-03-01")));
        assert_eq!(a.evidence.as_deref(), Some("done"));
        assert_eq!(case.closed_on, Some(day("2026-03-01")));
        assert_eq!(case.lessons.as_deref(), Some("lessons"));
        assert_eq!(case.days_to_close(), Some(0));
        assert_eq!(
            given(&[factor(1)]),
            None,
            "a step before opening is ignored"
        );
    }

    #[test]
    fn only_closing_does_not_commute() {
        assert!(timeline_command().commutes());
        assert!(factor_command().commutes());
        assert!(action_command().commutes());
        assert!(complete_command(1).commutes());
        assert!(Command::ConfirmRootCauses { factors: vec![1] }.commutes());
        assert!(!close_command(None).commutes());
        assert_eq!(close_command(None).event_type(), "rca.closed");
    }
}
