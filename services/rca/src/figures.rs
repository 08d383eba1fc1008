//! The meeting pack's root-cause analysis figures for a hospital-month,
//! computed from the case files (pure; the caller gives the day).
//!
//! - `opened`, `closed`: cases opened / closed in the month (days in the
//!   hospital's time zone);
//! - `median_days_to_close`: median of the calendar days from opening to
//!   closing of the cases closed in the month (`null` when none closed);
//! - `overdue`, `actions_overdue`: cases and actions overdue at the end of
//!   the month, or today while the month is still running — a count of what
//!   was late at the meeting's cut-off, not of the month's new cases;
//! - `stronger_or_intermediate_share`: stronger and intermediate actions
//!   among the actions planned in the month, × 100, rounded half away from
//!   zero to 2 decimals (`null` when none was planned).

use chrono::{NaiveDate, TimeDelta};
use lantern_domain::Month;
use lantern_domain::figures::rate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::case::CaseFile;

/// The `rca` block of the monthly dispatch pack.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RcaFigures {
    /// Cases opened in the month.
    pub opened: u64,
    /// Cases closed in the month.
    pub closed: u64,
    /// Median days from opening to closing of the cases closed in the month.
    pub median_days_to_close: Option<f64>,
    /// Cases overdue at the cut-off.
    pub overdue: u64,
    /// Actions overdue at the cut-off.
    pub actions_overdue: u64,
    /// Stronger + intermediate actions ÷ actions planned in the month × 100.
    pub stronger_or_intermediate_share: Option<f64>,
}

/// The first and last day of a month.
pub fn bounds(month: Month) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::from_ymd_opt(month.year, month.month, 1)?;
    let next = month.next();
    let last = NaiveDate::from_ymd_opt(next.year, next.month, 1)? - TimeDelta::days(1);
    Some((first, last))
}

/// The day overdue is counted on for a month: its last day, or `today`
/// while the month runs (or lies ahead).
pub fn cut_off(month: Month, today: NaiveDate) -> NaiveDate {
    bounds(month).map_or(today, |(_, last)| last.min(today))
}

/// The median of whole numbers: the middle one, or the mean of the two.
pub fn median(values: &mut [i64]) -> Option<f64> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2] as f64),
        _ => Some((values[n / 2 - 1] + values[n / 2]) as f64 / 2.0),
    }
}

/// The figures of a hospital's cases for `month`, with `today` in the
/// hospital's time zone.
pub fn compute<'a>(
    cases: impl IntoIterator<Item = &'a CaseFile>,
    month: Month,
    today: NaiveDate,
) -> RcaFigures {
    let in_month = |d: NaiveDate| Month::of(d) == month;
    let day = cut_off(month, today);
    let mut f = RcaFigures {
        opened: 0,
        closed: 0,
        median_days_to_close: None,
        overdue: 0,
        actions_overdue: 0,
        stronger_or_intermediate_share: None,
    };
    let mut days = Vec::new();
    let (mut planned, mut strong) = (0, 0);
    for case in cases {
        if in_month(case.opened_on) {
            f.opened += 1;
        }
        if let Some(closed_on) = case.closed_on
            && in_month(closed_on)
        {
            f.closed += 1;
            days.extend(case.days_to_close());
        }
        if case.overdue_on(day) {
            f.overdue += 1;
        }
        for a in &case.actions {
            if a.overdue_on(case, day) {
                f.actions_overdue += 1;
            }
            if in_month(a.planned_on) {
                planned += 1;
                if a.strength.is_stronger_or_intermediate() {
                    strong += 1;
                }
            }
        }
    }
    f.median_days_to_close = median(&mut days);
    f.stronger_or_intermediate_share = rate(strong, planned);
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Action, CaseState};
    use crate::vocab::Strength;
    use chrono::{DateTime, Utc};

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn month(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    fn case(opened: &str, due: &str, closed: Option<&str>) -> CaseFile {
        CaseFile {
            state: if closed.is_some() {
                CaseState::Closed
            } else {
                CaseState::Open
            },
            opened_at: "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap(),
            opened_on: day(opened),
            title: "t".into(),
            team_roles: vec!["so".into()],
            report_ids: vec![],
            due: day(due),
            timeline: vec![],
            factors: vec![],
            root_causes: vec![],
            actions: vec![],
            closed_at: None,
            closed_on: closed.map(day),
            lessons: None,
            reason_no_action: None,
        }
    }

    fn action(planned: &str, due: &str, strength: Strength, completed: Option<&str>) -> Action {
        Action {
            action: 1,
            what: "w".into(),
            owner_role: "o".into(),
            due: day(due),
            strength,
            measure: "m".into(),
            planned_on: day(planned),
            completed_at: None,
            completed_on: completed.map(day),
            evidence: None,
            effect: None,
        }
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [31]), Some(31.0));
        assert_eq!(median(&mut [40, 10, 31]), Some(31.0));
        assert_eq!(median(&mut [10, 31, 40, 3]), Some(20.5));
    }

    #[test]
    fn overdue_is_counted_at_the_end_of_the_month_or_today() {
        assert_eq!(
            cut_off(month("2026-02"), day("2026-05-10")),
            day("2026-02-28")
        );
        assert_eq!(
            cut_off(month("2026-05"), day("2026-05-10")),
            day("2026-05-10")
        );
        assert_eq!(
            cut_off(month("2026-12"), day("2026-05-10")),
            day("2026-05-10")
        );
    }

    #[test]
    fn a_case_is_overdue_after_the_end_of_its_due_date_until_closed() {
        let open = case("2026-01-05", "2026-02-19", None);
        assert!(!open.overdue_on(day("2026-02-19")), "due today is not late");
        assert!(open.overdue_on(day("2026-02-20")));
        assert!(!open.overdue_on(day("2026-01-04")), "not opened yet");
        let closed = case("2026-01-05", "2026-02-19", Some("2026-03-01"));
        assert!(closed.overdue_on(day("2026-02-25")), "still open then");
        assert!(!closed.overdue_on(day("2026-03-01")), "closed by then");
    }

    #[test]
    fn an_action_is_overdue_only_while_open_and_its_case_open() {
        let c = case("2026-01-05", "2030-01-01", None);
        let late = action("2026-01-06", "2026-01-31", Strength::Weaker, None);
        assert!(late.overdue_on(&c, day("2026-02-01")));
        assert!(!late.overdue_on(&c, day("2026-01-31")));
        let done = action(
            "2026-01-06",
            "2026-01-31",
            Strength::Weaker,
            Some("2026-02-03"),
        );
        assert!(done.overdue_on(&c, day("2026-02-02")));
        assert!(!done.overdue_on(&c, day("2026-02-03")));
        let closed = case("2026-01-05", "2030-01-01", Some("2026-02-10"));
        assert!(!late.overdue_on(&closed, day("2026-02-10")));
        assert!(
            !c.overdue_on(day("2026-02-01")),
            "an overdue action does not make its case overdue"
        );
    }

    #[test]
    fn figures_of_a_month() {
        // A: opened in Jan, closed in Mar after 55 days.
        let a = case("2026-01-05", "2026-02-19", Some("2026-03-01"));
        // B: opened and closed in Mar, 7 days; two actions planned in Mar.
        let mut b = case("2026-03-02", "2026-04-16", Some("2026-03-09"));
        b.actions = vec![
            action(
                "2026-03-03",
                "2026-04-01",
                Strength::Stronger,
                Some("2026-03-05"),
            ),
            action("2026-03-03", "2026-03-20", Strength::Weaker, None),
        ];
        // C: opened in Mar, due in the past, still open; one action due 3-15.
        let mut c = case("2026-03-10", "2026-03-12", None);
        c.actions = vec![action(
            "2026-03-10",
            "2026-03-15",
            Strength::Intermediate,
            None,
        )];
        // D: opened in Apr: not in March's figures, nor overdue at its end.
        let d = case("2026-04-02", "2026-01-01", None);
        let f = compute([&a, &b, &c, &d], month("2026-03"), day("2026-06-01"));
        assert_eq!(
            f,
            RcaFigures {
                opened: 2,
                closed: 2,
                median_days_to_close: Some(31.0),
                overdue: 1,
                actions_overdue: 1,
                stronger_or_intermediate_share: Some(66.67),
            }
        );
        let empty = compute([], month("2026-03"), day("2026-06-01"));
        assert_eq!(
            (
                empty.median_days_to_close,
                empty.stronger_or_intermediate_share
            ),
            (None, None)
        );
    }
}
