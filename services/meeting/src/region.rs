//! The region's table for the QC centre's dispatch meeting (每月工作调度会):
//! one row per hospital with the month's figures beside last month's and
//! the same month last year's, worst first — so the meeting starts with
//! the hospitals that need following up.
//!
//! Pure given the contexts' answers.

use chrono::NaiveDate;
use lantern_domain::Month;
use lantern_domain::figures::rate;
use lantern_domain::targets::{Target, meets};
use lantern_domain::vocab::Level;
use lantern_mortality::death::Death;
use lantern_rates::api::CriticalValueFigures;
use lantern_rates::{Cell, CriticalValueCounts};
use serde::Serialize;
use utoipa::ToSchema;

/// One hospital's figures for one month.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HospitalMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Reports filed in department-months with a census (duplicates out).
    pub reports: u64,
    /// Reports filed in department-months without one (shown apart).
    pub reports_without_census: u64,
    /// Discharges of the department-months with a census.
    pub discharges: u64,
    /// reports ÷ discharges × 100 (null without discharges).
    pub per_100_discharges: Option<f64>,
    /// Grade I and II reports (duplicates out).
    pub serious: u64,
    /// Deaths (by date of death).
    pub deaths: u64,
    /// Low-risk deaths (低风险组).
    pub low_risk_deaths: u64,
    /// Deaths whose first review was held within 7 days.
    pub reviewed_on_time: u64,
    /// reviewed on time ÷ deaths whose first review is due × 100.
    pub review_on_time_rate: Option<f64>,
    /// CL-15: lab critical values notified within the limit ÷ detected × 100.
    pub notification_timeliness: Option<f64>,
    /// Handling within the limit ÷ notified × 100.
    pub handling_timeliness: Option<f64>,
}

/// A hospital's row of the region table.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HospitalRow {
    /// Hospital code.
    pub hospital: String,
    /// Its name.
    pub name: String,
    /// 二级 / 三级 (null if the registration gave another word).
    pub level: Option<Level>,
    /// The month of the pack.
    pub month: HospitalMonth,
    /// The month before.
    pub last_month: HospitalMonth,
    /// The same month a year before.
    pub last_year: HospitalMonth,
    /// The reporting-rate target that applies (higher is better).
    pub target: f64,
    /// Whether the month's rate exceeds it (null without discharges).
    pub meets_target: Option<bool>,
    /// Root-cause analyses open now.
    pub rca_open: u64,
    /// Of those, past their due date.
    pub rca_overdue: u64,
    /// What the meeting should follow up, most pressing first:
    /// `below_target`, `no_census`, `rca_overdue`, `review_late`,
    /// `low_risk_death`, `critical_value_late`.
    pub concerns: Vec<&'static str>,
}

/// What a row is made from.
pub struct RowInputs<'a> {
    /// Hospital code.
    pub hospital: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Its level.
    pub level: Option<Level>,
    /// Rates cells `(month, department, cell)` covering the month, the
    /// month before and the same month a year before.
    pub cells: &'a [(String, String, Cell)],
    /// Deaths of the month, of the month before, of the month a year before.
    pub deaths: [&'a [Death]; 3],
    /// Today in the hospital's time zone.
    pub today: NaiveDate,
    /// The reporting-rate target that applies to the hospital in the
    /// month's year.
    pub target: Target,
    /// Analyses open now, and how many are overdue.
    pub rca: (u64, u64),
}

/// One hospital's figures of `month` from its cells and the deaths of
/// that month.
pub fn hospital_month(
    cells: &[(String, String, Cell)],
    deaths: &[Death],
    month: Month,
    today: NaiveDate,
) -> HospitalMonth {
    let key = month.to_string();
    let mut out = HospitalMonth {
        month: key.clone(),
        reports: 0,
        reports_without_census: 0,
        discharges: 0,
        per_100_discharges: None,
        serious: 0,
        deaths: 0,
        low_risk_deaths: 0,
        reviewed_on_time: 0,
        review_on_time_rate: None,
        notification_timeliness: None,
        handling_timeliness: None,
    };
    let mut cv = CriticalValueCounts::default();
    for (_, cell) in cells
        .iter()
        .filter(|(m, _, _)| *m == key)
        .map(|(_, d, c)| (d, c))
    {
        // A department-month without a census is summed apart (DESIGN
        // "Figures"): its reports over no discharges would inflate the rate.
        match cell.discharges {
            Some(n) => {
                out.reports += cell.reports;
                out.discharges += n;
            }
            None => out.reports_without_census += cell.reports,
        }
        out.serious += cell.by_grade[0] + cell.by_grade[1];
        cv.add(&cell.critical_values);
    }
    out.per_100_discharges = rate(out.reports, out.discharges);
    let figures = CriticalValueFigures::of(&cv, None, &mut Vec::new());
    out.notification_timeliness = figures.notification_timeliness;
    out.handling_timeliness = figures.handling_timeliness;
    let mut due = 0;
    for d in deaths {
        out.deaths += 1;
        out.low_risk_deaths += u64::from(d.recorded.low_risk);
        match d
            .rules(today)
            .iter()
            .find(|r| r.rule == "first_review")
            .and_then(|r| r.met)
        {
            Some(true) => {
                out.reviewed_on_time += 1;
                due += 1;
            }
            Some(false) => due += 1,
            None => {}
        }
    }
    out.review_on_time_rate = rate(out.reviewed_on_time, due);
    out
}

/// A hospital's row for `month`.
pub fn row(inputs: &RowInputs<'_>, month: Month) -> HospitalRow {
    let [this, before, year_before] = inputs.deaths;
    let now = hospital_month(inputs.cells, this, month, inputs.today);
    let last_month = hospital_month(inputs.cells, before, month.prev(), inputs.today);
    let last_year = hospital_month(
        inputs.cells,
        year_before,
        (0..12).fold(month, |m, _| m.prev()),
        inputs.today,
    );
    let meets_target = now.per_100_discharges.map(|r| meets(&inputs.target, r));
    let mut concerns = Vec::new();
    if meets_target == Some(false) {
        concerns.push("below_target");
    }
    if now.per_100_discharges.is_none() {
        concerns.push("no_census");
    }
    if inputs.rca.1 > 0 {
        concerns.push("rca_overdue");
    }
    if now.review_on_time_rate.is_some_and(|r| r < 100.0) {
        concerns.push("review_late");
    }
    if now.low_risk_deaths > 0 {
        concerns.push("low_risk_death");
    }
    if now.notification_timeliness.is_some_and(|r| r < 100.0) {
        concerns.push("critical_value_late");
    }
    HospitalRow {
        hospital: inputs.hospital.to_owned(),
        name: inputs.name.to_owned(),
        level: inputs.level,
        month: now,
        last_month,
        last_year,
        target: inputs.target.value.get(),
        meets_target,
        rca_open: inputs.rca.0,
        rca_overdue: inputs.rca.1,
        concerns,
    }
}

/// Worst first: most concerns, then the lowest reporting rate (none is
/// lowest), then by code — a stable order the meeting can walk down.
pub fn worst_first(rows: &mut [HospitalRow]) {
    rows.sort_by(|a, b| {
        b.concerns
            .len()
            .cmp(&a.concerns.len())
            .then_with(|| {
                let (x, y) = (a.month.per_100_discharges, b.month.per_100_discharges);
                x.unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&y.unwrap_or(f64::NEG_INFINITY))
            })
            .then_with(|| a.hospital.cmp(&b.hospital))
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn cell(reports: u64, discharges: Option<u64>, serious: u64) -> Cell {
        Cell {
            reports,
            discharges,
            by_grade: [0, serious, reports - serious, 0],
            ..Cell::default()
        }
    }

    fn built_in() -> Target {
        lantern_domain::targets::Indicator::ReportingRate
            .built_in(2026)
            .unwrap()
    }

    #[test]
    fn a_department_without_census_is_apart_and_rows_go_worst_first() {
        let m = Month::parse("2026-10").unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        // Given H1 with 3 reports over 100 discharges in ICU and 2 in a
        // department without a census, and H2 with 5 over 100,
        let h1 = vec![
            ("2026-10".into(), "ICU".into(), cell(3, Some(100), 1)),
            ("2026-10".into(), "ER".into(), cell(2, None, 0)),
            ("2026-09".into(), "ICU".into(), cell(1, Some(100), 0)),
        ];
        let h2 = vec![("2026-10".into(), "ICU".into(), cell(5, Some(100), 0))];
        let inputs = |code: &'static str, cells: &'static [(String, String, Cell)]| RowInputs {
            hospital: code,
            name: code,
            level: Some(Level::Tertiary),
            cells,
            deaths: [&[], &[], &[]],
            today,
            target: built_in(),
            rca: (0, 0),
        };
        let h1: &'static [_] = Box::leak(h1.into_boxed_slice());
        let h2: &'static [_] = Box::leak(h2.into_boxed_slice());
        let mut rows = vec![row(&inputs("H2", h2), m), row(&inputs("H1", h1), m)];
        // when the rows are ordered,
        worst_first(&mut rows);
        // then H1's rate is 3 per 100 (its ER reports apart), it meets the
        // target, last month is 1 per 100, and H2 (5 per 100) comes after
        // H1 only because H1 has the lower rate — neither has a concern.
        let h1 = &rows[0];
        assert_eq!(h1.hospital, "H1");
        assert_eq!(
            (
                h1.month.reports,
                h1.month.reports_without_census,
                h1.month.per_100_discharges
            ),
            (3, 2, Some(3.0))
        );
        assert_eq!(h1.month.serious, 1);
        assert_eq!(h1.last_month.per_100_discharges, Some(1.0));
        assert_eq!(h1.last_year.per_100_discharges, None);
        assert_eq!(h1.meets_target, Some(true));
        assert!(rows.iter().all(|r| r.concerns.is_empty()), "{rows:?}");
    }

    #[test]
    fn a_hospital_below_target_leads() {
        let m = Month::parse("2026-10").unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        let low: &'static [_] = Box::leak(
            vec![("2026-10".into(), "ICU".into(), cell(1, Some(100), 0))].into_boxed_slice(),
        );
        let high: &'static [_] = Box::leak(
            vec![("2026-10".into(), "ICU".into(), cell(9, Some(100), 0))].into_boxed_slice(),
        );
        let mk = |code: &'static str, cells| RowInputs {
            hospital: code,
            name: code,
            level: Some(Level::Secondary),
            cells,
            deaths: [&[], &[], &[]],
            today,
            target: built_in(),
            rca: (1, 0),
        };
        let mut rows = vec![row(&mk("A", high), m), row(&mk("B", low), m)];
        worst_first(&mut rows);
        assert_eq!(rows[0].hospital, "B");
        assert_eq!(rows[0].concerns, ["below_target"]);
    }
}
