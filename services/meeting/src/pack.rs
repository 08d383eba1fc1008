//! The monthly dispatch pack (每月工作调度会): for a month and a hospital or
//! region, the deaths and their reviews, the adverse events and their
//! analyses, the critical-value timeliness and the reporting rate against
//! its target, with the last twelve months.
//!
//! Built from the read models of the other services; pure given them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use lantern_domain::Month;
use lantern_domain::figures::{rate, suppress};
use lantern_domain::vocab::Grade;
use lantern_intake::reports::ReportRecord;
use lantern_rates::api::CriticalValueFigures;
use lantern_rates::{Cell, CriticalValueCounts};
use lantern_rca::RcaFigures;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use lantern_mortality::api::{RcaLink, Trail, trail};
use lantern_mortality::death::{Death, Preventability};

/// The monthly dispatch pack.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pack {
    /// `YYYY-MM`.
    pub month: String,
    /// The hospital or region.
    pub scope: Scope,
    /// Deaths of the month (by date of death).
    pub deaths: DeathsPart,
    /// Adverse events filed in the month.
    pub adverse_events: AdverseEventsPart,
    /// Root-cause analyses.
    #[schema(value_type = Object)]
    pub rca: RcaFigures,
    /// Critical values detected in the month.
    pub critical_values: CriticalValueFigures,
    /// Reports per 100 discharges against the target, with the last 12 months.
    pub reporting_rate: ReportingPart,
    /// The region pack's table: one row per hospital, worst first, beside
    /// last month and the same month last year (empty for a hospital).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hospitals: Vec<crate::region::HospitalRow>,
    /// The case list: grade I/II events and low-risk deaths of the month.
    pub cases: crate::cases::CaseList,
    /// The QC actions on this meeting's agenda (督办事项 and notices): open,
    /// answered, overdue, and those closed this month.
    pub follow_ups: Vec<crate::followups::FollowUpView>,
}

/// Whose pack it is.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// One hospital (its safety officer).
    Hospital(String),
    /// A region (its QC centre).
    Region(String),
}

/// Deaths of the month.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeathsPart {
    /// Deaths in the month.
    pub total: u64,
    /// By department (null: suppressed).
    pub by_department: BTreeMap<String, Option<u64>>,
    /// Deaths whose first review was on time (null: suppressed).
    pub reviewed_on_time: Option<u64>,
    /// reviewed on time ÷ deaths whose first review is due (met, or past
    /// its due date) × 100; deaths still inside their 7 days are `pending`,
    /// not late.
    pub review_on_time_rate: Option<f64>,
    /// Deaths whose first review is not yet due and not yet held.
    pub pending: u64,
    /// Deaths with a rule unmet past its due date.
    pub overdue: Vec<Uuid>,
    /// Low-risk deaths, each with its trail.
    pub low_risk: Vec<Trail>,
    /// Deaths judged avoidable by their latest review.
    pub avoidable: Vec<Uuid>,
    /// Deaths judged possibly avoidable.
    pub possibly_avoidable: Vec<Uuid>,
}

/// A serious (grade I/II) report of the month and its analysis.
#[derive(Debug, Serialize, ToSchema)]
pub struct Serious {
    /// Report.
    pub report_id: Uuid,
    /// The short reference people name it by (random, not time-ordered).
    #[serde(rename = "ref")]
    pub reference: String,
    /// Grade that stands.
    pub grade: Grade,
    /// none, open, overdue or closed.
    pub rca_state: &'static str,
}

/// Adverse events filed in the month.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdverseEventsPart {
    /// Reports filed.
    pub total: u64,
    /// By grade (null: suppressed).
    pub by_grade: BTreeMap<String, Option<u64>>,
    /// Grade I and II reports with the state of their analysis.
    pub serious: Vec<Serious>,
}

/// One month's reporting rate.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthRate {
    /// `YYYY-MM`.
    pub month: String,
    /// Reports per 100 discharges (null without discharges).
    pub per_100_discharges: Option<f64>,
}

/// The reporting rate against its target.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportingPart {
    /// The month's rate.
    pub per_100_discharges: Option<f64>,
    /// The target that applies to the pack's hospital (its own, else its
    /// region's, else the national one, else 2.5) or region, in the
    /// month's year.
    pub target: f64,
    /// The twelve months ending with this one, oldest first.
    pub last_12_months: Vec<MonthRate>,
}

/// What the pack is made from, for each hospital in scope.
pub struct HospitalInputs {
    /// Deaths whose date of death is in the month.
    pub deaths: Vec<Death>,
    /// Reports filed in the month.
    pub reports: Vec<ReportRecord>,
    /// Rates cells of the twelve months ending with the month.
    pub cells: Vec<(String, String, Cell)>,
    /// Today in the hospital's time zone.
    pub today: NaiveDate,
}

/// Whether counts are suppressed (QC centre: `Some(k)`).
pub type Suppression = Option<u64>;

fn small(n: u64, k: Suppression) -> Option<u64> {
    match k {
        Some(k) if n >= 1 && n < k => None,
        _ => Some(n),
    }
}

/// A breakdown with small-cell and complementary suppression.
fn breakdown(counts: BTreeMap<String, u64>, k: Suppression) -> BTreeMap<String, Option<u64>> {
    let values: Vec<u64> = counts.values().copied().collect();
    let hidden = k.map(|k| suppress(&values, k)).unwrap_or_default();
    counts
        .into_iter()
        .enumerate()
        .map(|(i, (name, n))| (name, (!hidden.contains(&i)).then_some(n)))
        .collect()
}

/// The deaths part; `rca` looks up the analyses low-risk trails link to.
pub fn deaths_part(
    inputs: &[HospitalInputs],
    k: Suppression,
    rca: &dyn Fn(Uuid, NaiveDate) -> Option<RcaLink>,
) -> DeathsPart {
    let mut by_department: BTreeMap<String, u64> = BTreeMap::new();
    let (mut total, mut on_time, mut due) = (0u64, 0u64, 0u64);
    let mut part = DeathsPart {
        total: 0,
        by_department: BTreeMap::new(),
        reviewed_on_time: None,
        review_on_time_rate: None,
        pending: 0,
        overdue: vec![],
        low_risk: vec![],
        avoidable: vec![],
        possibly_avoidable: vec![],
    };
    for h in inputs {
        for d in &h.deaths {
            total += 1;
            *by_department
                .entry(d.recorded.department.clone())
                .or_default() += 1;
            let rules = d.rules(h.today);
            match rules
                .iter()
                .find(|r| r.rule == "first_review")
                .and_then(|r| r.met)
            {
                Some(true) => {
                    on_time += 1;
                    due += 1;
                }
                Some(false) => due += 1,
                None => part.pending += 1,
            }
            if rules.iter().any(|r| r.met == Some(false)) {
                part.overdue.push(d.death_id);
            }
            if d.recorded.low_risk {
                part.low_risk.push(trail(d, h.today, k.is_none(), rca));
            }
            match d.preventability() {
                Some(Preventability::Avoidable) => part.avoidable.push(d.death_id),
                Some(Preventability::PossiblyAvoidable) => part.possibly_avoidable.push(d.death_id),
                _ => {}
            }
        }
    }
    part.total = total;
    part.by_department = breakdown(by_department, k);
    part.reviewed_on_time = small(on_time, k);
    part.review_on_time_rate = rate(on_time, due);
    part
}

/// The adverse-events part; `rca_state` tells a serious report's analysis state.
pub fn adverse_events_part(
    inputs: &[HospitalInputs],
    k: Suppression,
    rca_state: impl Fn(&ReportRecord) -> &'static str,
) -> AdverseEventsPart {
    let mut by_grade: BTreeMap<String, u64> = Grade::ALL
        .iter()
        .map(|g| (g.as_str().to_owned(), 0))
        .collect();
    let mut serious = Vec::new();
    let mut total = 0;
    for h in inputs {
        // A report marked a duplicate is the same event: counted once.
        for r in h.reports.iter().filter(|r| !r.is_duplicate()) {
            total += 1;
            let grade = r.current_grade();
            *by_grade.entry(grade.as_str().to_owned()).or_default() += 1;
            if grade.is_serious() {
                serious.push(Serious {
                    report_id: r.report_id,
                    reference: lantern_domain::ids::short_ref(r.report_id),
                    grade,
                    rca_state: rca_state(r),
                });
            }
        }
    }
    AdverseEventsPart {
        total,
        by_grade: breakdown(by_grade, k),
        serious,
    }
}

/// The critical values of the month.
pub fn critical_values_part(
    inputs: &[HospitalInputs],
    month: Month,
    k: Suppression,
) -> CriticalValueFigures {
    let mut counts = CriticalValueCounts::default();
    let month = month.to_string();
    for h in inputs {
        for (m, _, cell) in &h.cells {
            if *m == month {
                counts.add(&cell.critical_values);
            }
        }
    }
    CriticalValueFigures::of(&counts, k, &mut Vec::new())
}

/// The reporting rate of the month and the eleven before it, against
/// `target` (the one that applies to the pack's hospital or region).
pub fn reporting_part(inputs: &[HospitalInputs], month: Month, target: f64) -> ReportingPart {
    let months: Vec<Month> = month_minus(month, 11).through(month).collect();
    let last_12_months: Vec<MonthRate> = months
        .iter()
        .map(|m| {
            let key = m.to_string();
            let (mut reports, mut discharges) = (0, 0);
            for h in inputs {
                // Department-months without a census stay out (DESIGN
                // "Figures"): their reports over no discharges would
                // inflate the rate.
                for (cm, _, cell) in &h.cells {
                    if let (true, Some(d)) = (*cm == key, cell.discharges) {
                        reports = u64::saturating_add(reports, cell.reports);
                        discharges = u64::saturating_add(discharges, d);
                    }
                }
            }
            MonthRate {
                month: key,
                per_100_discharges: rate(reports, discharges),
            }
        })
        .collect();
    ReportingPart {
        per_100_discharges: last_12_months.last().and_then(|m| m.per_100_discharges),
        target,
        last_12_months,
    }
}

/// `n` months before `m`.
pub fn month_minus(mut m: Month, n: u32) -> Month {
    for _ in 0..n {
        m = m.prev();
    }
    m
}
