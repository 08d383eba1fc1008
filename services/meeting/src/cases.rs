//! The case list a QC centre traces (溯源): the grade I/II events and the
//! low-risk deaths of its hospitals, each with hospital, department,
//! category or diagnosis, grade, day, and the analysis — root causes,
//! actions, lessons. De-identified: never a description, follow-up,
//! feedback, timeline or review text; a case is named by its short random
//! reference; and the list is ordered by place and grade, never by time.
//!
//! Pure given the contexts' answers.

use chrono::NaiveDate;
use lantern_domain::ids::short_ref;
use lantern_domain::vocab::{Category, Grade};
use lantern_intake::reports::ReportRecord;
use lantern_mortality::death::{Death, Preventability, State as DeathState};
use lantern_rca::views::RcaLink;
use serde::Serialize;
use utoipa::ToSchema;

/// The case list of a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    /// First month, `YYYY-MM`.
    pub from: String,
    /// Last month, `YYYY-MM` (inclusive).
    pub to: String,
    /// Grade I and II events filed in the period (as the grade stands).
    pub events: Vec<EventCase>,
    /// Low-risk deaths (低风险组死亡) of the period, by date of death.
    pub low_risk_deaths: Vec<DeathCase>,
}

/// A serious event, as a QC centre traces it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventCase {
    /// Short random reference (not time-ordered).
    #[serde(rename = "ref")]
    pub reference: String,
    /// Hospital code.
    pub hospital: String,
    /// Department where it occurred.
    pub department: String,
    /// Category as it stands.
    pub category: Category,
    /// Grade as it stands.
    pub grade: Grade,
    /// The day it was filed (hospital time zone), never the time.
    pub filed_on: NaiveDate,
    /// none, open, overdue or closed.
    pub rca_state: &'static str,
    /// Its analyses: root causes, actions, lessons.
    #[schema(value_type = Vec<Object>)]
    pub analyses: Vec<RcaLink>,
}

/// A low-risk death, as a QC centre traces it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeathCase {
    /// Short random reference.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Hospital code.
    pub hospital: String,
    /// Department where the patient died.
    pub department: String,
    /// The day of death (hospital time zone).
    pub died_on: NaiveDate,
    /// Principal diagnosis, ICD-10.
    pub diagnosis_icd10: String,
    /// open, overdue or closed.
    #[schema(value_type = String)]
    pub state: DeathState,
    /// Whether the first review was held within 7 days (null while pending).
    pub first_review_met: Option<bool>,
    /// Whether a hospital- or QC-level review was held within 7 days (null while pending).
    pub hospital_review_met: Option<bool>,
    /// The latest review's judgement.
    #[schema(value_type = Option<String>)]
    pub preventability: Option<Preventability>,
    /// Analyses its reviews link: root causes, actions, lessons.
    #[schema(value_type = Vec<Object>)]
    pub analyses: Vec<RcaLink>,
}

/// The serious events among `reports` (duplicates left out: one event is
/// one case); `analysis` gives a report's RCA state and its analyses.
pub fn event_cases(
    reports: &[ReportRecord],
    analysis: impl Fn(&ReportRecord) -> (&'static str, Vec<RcaLink>),
) -> Vec<EventCase> {
    let mut out: Vec<EventCase> = reports
        .iter()
        .filter(|r| !r.is_duplicate() && r.current_grade().is_serious())
        .map(|r| {
            let (rca_state, analyses) = analysis(r);
            EventCase {
                reference: short_ref(r.report_id),
                hospital: r.hospital.clone(),
                department: r.department.clone(),
                category: r.current_category(),
                grade: r.current_grade(),
                filed_on: r.filed_on,
                rca_state,
                analyses,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.hospital, &a.department, a.grade, &a.reference).cmp(&(
            &b.hospital,
            &b.department,
            b.grade,
            &b.reference,
        ))
    });
    out
}

/// The low-risk deaths among `deaths` as they stand on `today`; `link`
/// gives an analysis a review names.
pub fn death_cases(
    deaths: &[Death],
    today: NaiveDate,
    link: impl Fn(uuid::Uuid) -> Option<RcaLink>,
) -> Vec<DeathCase> {
    let mut out: Vec<DeathCase> = deaths
        .iter()
        .filter(|d| d.recorded.low_risk)
        .map(|d| {
            let rules = d.rules(today);
            let met = |rule: &str| rules.iter().find(|r| r.rule == rule).and_then(|r| r.met);
            let mut ids: Vec<uuid::Uuid> = d.reviews.iter().filter_map(|r| r.rca_id).collect();
            ids.sort();
            ids.dedup();
            DeathCase {
                reference: short_ref(d.death_id),
                hospital: d.hospital.clone(),
                department: d.recorded.department.clone(),
                died_on: d.date(d.recorded.died_at),
                diagnosis_icd10: d.recorded.diagnosis_icd10.clone(),
                state: d.state(today),
                first_review_met: met("first_review"),
                hospital_review_met: met("low_risk_hospital_review"),
                preventability: d.preventability(),
                analyses: ids.into_iter().filter_map(&link).collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.hospital, &a.department, &a.reference).cmp(&(&b.hospital, &b.department, &b.reference))
    });
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use lantern_intake::reports::Status;
    use uuid::Uuid;

    fn record(grade: Grade, department: &str) -> ReportRecord {
        let day = NaiveDate::from_ymd_opt(2026, 10, 3).unwrap();
        ReportRecord {
            report_id: Uuid::new_v4(),
            hospital: "H1".into(),
            department: department.into(),
            occurred_at: "2026-10-02T20:00:00+08:00".parse().unwrap(),
            grade,
            category: Category::Fall,
            harm: lantern_domain::vocab::Harm::Moderate,
            treatment_needed: None,
            provisional: false,
            location: Some("3 床旁".into()),
            immediate_actions: Some("已通知医生".into()),
            reporter_role: None,
            patient_age_band: None,
            filed_on: day,
            status: Status::Received,
            triage: None,
            follow_ups: vec![],
            feedback: vec![],
            rcas_open: vec![],
            rcas_closed: vec![],
            lessons: vec![],
            filed_seq: 1,
        }
    }

    #[test]
    fn only_serious_events_are_cases_and_none_carries_free_text() {
        // Given a grade II, a grade III and a grade I report,
        let reports = [
            record(Grade::II, "ICU"),
            record(Grade::III, "ICU"),
            record(Grade::I, "ER"),
        ];
        // when the case list is built,
        let cases = event_cases(&reports, |_| ("none", vec![]));
        // then the two serious ones are cases, by department, and the
        // location and immediate actions stay out.
        assert_eq!(
            cases
                .iter()
                .map(|c| (c.department.as_str(), c.grade))
                .collect::<Vec<_>>(),
            [("ER", Grade::I), ("ICU", Grade::II)]
        );
        let json = serde_json::to_string(&cases).unwrap();
        assert!(
            !json.contains("3 床旁") && !json.contains("已通知医生"),
            "{json}"
        );
        assert!(
            !json.contains("report_id"),
            "named by reference only: {json}"
        );
    }
}
