//! The indicators of a period (quarter, year, any run of months), as
//! counts that add up across hospitals, levels and regions, and the rates
//! computed from them — what the periodic reports and the published
//! figures show. Rates are always recomputed from summed counts, never
//! averaged.
//!
//! Pure given the contexts' answers.

use chrono::NaiveDate;
use lantern_domain::Month;
use lantern_domain::figures::rate;
use lantern_domain::vocab::Category;
use lantern_mortality::death::Death;
use lantern_rates::api::CriticalValueFigures;
use lantern_rates::{Cell, CriticalValueCounts};
use lantern_rca::projector::CaseRecord;
use serde::Serialize;
use utoipa::ToSchema;

/// Days within which a root-cause analysis should close (DESIGN: due 45
/// days after opening by default).
pub const RCA_DAYS: i64 = 45;

/// The counts of a period: every indicator's numerator and denominator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Counts {
    /// Reports of department-months with a census (duplicates out).
    pub reports: u64,
    /// Reports of department-months without one.
    pub reports_without_census: u64,
    /// Discharges of the department-months with a census.
    pub discharges: u64,
    /// Reports by grade I..IV (all reports, duplicates out).
    pub by_grade: [u64; 4],
    /// Reports by category, in `Category::ALL` order.
    #[schema(value_type = Vec<u64>)]
    pub by_category: Vec<u64>,
    /// Lab critical values (CL-14, CL-15 and handling).
    #[schema(value_type = Object)]
    pub critical_values: CriticalValueCounts,
    /// Deaths.
    pub deaths: u64,
    /// Deaths whose first review is due (met, or past its 7 days).
    pub reviews_due: u64,
    /// Of those, reviewed within 7 days.
    pub reviewed_on_time: u64,
    /// Low-risk deaths.
    pub low_risk_deaths: u64,
    /// Low-risk deaths whose hospital-level review is due.
    pub low_risk_due: u64,
    /// Of those, reviewed at hospital or QC level within 7 days.
    pub low_risk_reviewed: u64,
    /// Analyses opened in the period whose 45 days have passed or that closed.
    pub rca_due: u64,
    /// Of those, closed within 45 days.
    pub rca_closed_in_time: u64,
}

impl Counts {
    /// All reports (with a census or not).
    pub fn all_reports(&self) -> u64 {
        self.reports + self.reports_without_census
    }

    /// Adds another's counts (a hospital's to its level's, region's, total).
    pub fn add(&mut self, o: &Counts) {
        self.reports += o.reports;
        self.reports_without_census += o.reports_without_census;
        self.discharges += o.discharges;
        for (a, b) in self.by_grade.iter_mut().zip(o.by_grade) {
            *a += b;
        }
        if self.by_category.len() < o.by_category.len() {
            self.by_category.resize(o.by_category.len(), 0);
        }
        for (a, b) in self.by_category.iter_mut().zip(&o.by_category) {
            *a += b;
        }
        self.critical_values.add(&o.critical_values);
        self.deaths += o.deaths;
        self.reviews_due += o.reviews_due;
        self.reviewed_on_time += o.reviewed_on_time;
        self.low_risk_deaths += o.low_risk_deaths;
        self.low_risk_due += o.low_risk_due;
        self.low_risk_reviewed += o.low_risk_reviewed;
        self.rca_due += o.rca_due;
        self.rca_closed_in_time += o.rca_closed_in_time;
    }

    /// The rates of these counts.
    pub fn figures(&self) -> Figures {
        let cv = CriticalValueFigures::of(&self.critical_values, None, &mut Vec::new());
        Figures {
            per_100_discharges: rate(self.reports, self.discharges),
            serious_share: rate(self.by_grade[0] + self.by_grade[1], self.all_reports()),
            review_on_time_rate: rate(self.reviewed_on_time, self.reviews_due),
            low_risk_review_rate: rate(self.low_risk_reviewed, self.low_risk_due),
            rca_closed_in_time_rate: rate(self.rca_closed_in_time, self.rca_due),
            notification_rate: cv.notification_rate,
            notification_timeliness: cv.notification_timeliness,
            handling_timeliness: cv.handling_timeliness,
        }
    }

    /// Reports by category, with their codes.
    pub fn categories(&self) -> impl Iterator<Item = (Category, u64)> + '_ {
        Category::ALL
            .iter()
            .copied()
            .zip(self.by_category.iter().copied().chain(std::iter::repeat(0)))
    }
}

/// The rates of a period's counts (null with a zero denominator).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Figures {
    /// Reports per 100 discharges.
    pub per_100_discharges: Option<f64>,
    /// Grade I and II reports ÷ reports × 100.
    pub serious_share: Option<f64>,
    /// Deaths reviewed within 7 days ÷ deaths due × 100.
    pub review_on_time_rate: Option<f64>,
    /// Low-risk deaths reviewed at hospital level within 7 days ÷ due × 100.
    pub low_risk_review_rate: Option<f64>,
    /// Analyses closed within 45 days ÷ due × 100.
    pub rca_closed_in_time_rate: Option<f64>,
    /// CL-14: lab critical values notified ÷ detected × 100.
    pub notification_rate: Option<f64>,
    /// CL-15: notified within the limit ÷ detected × 100.
    pub notification_timeliness: Option<f64>,
    /// Handled within the limit ÷ notified × 100.
    pub handling_timeliness: Option<f64>,
}

/// One hospital's counts for the months `from..=to`: its rates cells,
/// its deaths of those months, its analyses, as they stand on `today`.
pub fn hospital_counts(
    cells: &[(String, String, Cell)],
    deaths: &[Death],
    cases: &[CaseRecord],
    from: Month,
    to: Month,
    today: NaiveDate,
) -> Counts {
    let months: Vec<String> = from.through(to).map(|m| m.to_string()).collect();
    let mut c = Counts {
        by_category: vec![0; Category::ALL.len()],
        ..Counts::default()
    };
    for (_, cell) in cells
        .iter()
        .filter(|(m, _, _)| months.contains(m))
        .map(|(_, d, c)| (d, c))
    {
        match cell.discharges {
            Some(n) => {
                c.reports += cell.reports;
                c.discharges += n;
            }
            None => c.reports_without_census += cell.reports,
        }
        for (a, b) in c.by_grade.iter_mut().zip(cell.by_grade) {
            *a += b;
        }
        for (i, n) in cell.by_category.values().enumerate() {
            if let Some(slot) = c.by_category.get_mut(i) {
                *slot += n;
            }
        }
        c.critical_values.add(&cell.critical_values);
    }
    for d in deaths {
        c.deaths += 1;
        let rules = d.rules(today);
        let met = |rule: &str| rules.iter().find(|r| r.rule == rule).and_then(|r| r.met);
        match met("first_review") {
            Some(true) => {
                c.reviews_due += 1;
                c.reviewed_on_time += 1;
            }
            Some(false) => c.reviews_due += 1,
            None => {}
        }
        if d.recorded.low_risk {
            c.low_risk_deaths += 1;
            match met("low_risk_hospital_review") {
                Some(true) => {
                    c.low_risk_due += 1;
                    c.low_risk_reviewed += 1;
                }
                Some(false) => c.low_risk_due += 1,
                None => {}
            }
        }
    }
    for case in cases.iter().map(|r| &r.case) {
        if Month::of(case.opened_on) < from || Month::of(case.opened_on) > to {
            continue;
        }
        let deadline = case.opened_on + chrono::Days::new(RCA_DAYS as u64);
        match case.closed_on {
            Some(closed) if closed <= deadline => {
                c.rca_due += 1;
                c.rca_closed_in_time += 1;
            }
            Some(_) => c.rca_due += 1,
            None if today > deadline => c.rca_due += 1,
            None => {}
        }
    }
    c
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn cell(reports: u64, discharges: Option<u64>, grades: [u64; 4]) -> Cell {
        Cell {
            reports,
            discharges,
            by_grade: grades,
            ..Cell::default()
        }
    }

    #[test]
    fn a_period_sums_its_months_and_rates_come_from_summed_counts() {
        let (from, to) = (
            Month::parse("2026-07").unwrap(),
            Month::parse("2026-09").unwrap(),
        );
        let today = NaiveDate::from_ymd_opt(2026, 10, 15).unwrap();
        // Given July and August with a census and September without, and
        // a June cell outside the quarter,
        let cells = vec![
            (
                "2026-06".into(),
                "ICU".into(),
                cell(9, Some(100), [0, 0, 9, 0]),
            ),
            (
                "2026-07".into(),
                "ICU".into(),
                cell(2, Some(100), [1, 0, 1, 0]),
            ),
            (
                "2026-08".into(),
                "ICU".into(),
                cell(3, Some(100), [0, 0, 2, 1]),
            ),
            ("2026-09".into(), "ICU".into(), cell(4, None, [0, 1, 3, 0])),
        ];
        // when the quarter is counted,
        let c = hospital_counts(&cells, &[], &[], from, to, today);
        // then the rate is 5 over 200 discharges, September's 4 apart, and
        // the serious share counts every report: 2 of 9.
        assert_eq!(
            (c.reports, c.reports_without_census, c.discharges),
            (5, 4, 200)
        );
        assert_eq!(c.figures().per_100_discharges, Some(2.5));
        assert_eq!(c.by_grade, [1, 1, 6, 1]);
        assert_eq!(c.figures().serious_share, Some(22.22));
        // and two hospitals add as counts, not as averaged rates.
        let mut total = c.clone();
        total.add(&hospital_counts(
            &[(
                "2026-07".into(),
                "ER".into(),
                cell(1, Some(800), [0, 0, 1, 0]),
            )],
            &[],
            &[],
            from,
            to,
            today,
        ));
        assert_eq!(
            total.figures().per_100_discharges,
            Some(0.6),
            "6 over 1000, not the mean of 2.5 and 0.125"
        );
    }
}
