//! A death and its reviews, folded from its events, and the rules of the
//! death-case discussion system (死亡病例讨论制度) checked against it.
//!
//! Pure: no storage, no clock but the `today` passed in.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use lantern_domain::vocab::AgeBand;

/// Days within which a review is due (the rule says one week).
pub const REVIEW_DAYS: i64 = 7;

/// Who held a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 科室.
    Department,
    /// 医院.
    Hospital,
    /// 质控中心.
    QcCentre,
}

/// Whether the death could have been prevented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Preventability {
    /// 不可避免.
    Unavoidable,
    /// 可能可避免.
    PossiblyAvoidable,
    /// 可避免.
    Avoidable,
}

/// The phase of care a defect was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// 诊断.
    Diagnosis,
    /// 治疗.
    Treatment,
    /// 抢救.
    Rescue,
    /// 护理.
    Nursing,
    /// 沟通.
    Communication,
    /// 制度/系统.
    System,
}

/// A defect found by a review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Defect {
    /// Phase of care.
    pub phase: Phase,
    /// What was wrong.
    pub text: String,
}

/// `death.recorded`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Recorded {
    /// Department.
    pub department: String,
    /// Admitted.
    pub admitted_at: DateTime<FixedOffset>,
    /// Died.
    pub died_at: DateTime<FixedOffset>,
    /// Age band.
    pub age_band: AgeBand,
    /// Principal diagnosis, ICD-10.
    pub diagnosis_icd10: String,
    /// In the low-risk group (低风险组).
    pub low_risk: bool,
    /// Autopsy planned.
    pub autopsy: bool,
}

/// `death.review_held`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// When.
    pub held_at: DateTime<FixedOffset>,
    /// Level.
    pub level: Level,
    /// Roles present.
    pub attendee_roles: Vec<String>,
    /// Preventability.
    pub preventability: Preventability,
    /// Defects found.
    pub defects: Vec<Defect>,
    /// A root-cause analysis it opened or refers to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rca_id: Option<Uuid>,
}

/// `death.autopsy_reported`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Autopsy {
    /// When the report came.
    pub reported_at: DateTime<FixedOffset>,
    /// Summary of findings.
    pub findings: String,
}

/// A death as folded from its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Death {
    /// Id.
    pub death_id: Uuid,
    /// Hospital.
    pub hospital: String,
    /// IANA time zone of the hospital: days are counted in it.
    pub timezone: String,
    /// What was recorded.
    pub recorded: Recorded,
    /// Reviews, in order.
    pub reviews: Vec<Review>,
    /// The autopsy report, once in.
    pub autopsy_report: Option<Autopsy>,
    /// When the trail was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// The stream sequence of its last event (for the next step's expectation).
    pub last_seq: u64,
}

/// A rule and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RuleState {
    /// `first_review`, `autopsy_review` or `low_risk_hospital_review`.
    pub rule: &'static str,
    /// The last day a review counts (hospital time zone); null while unknown.
    pub due: Option<NaiveDate>,
    /// true: met; false: unmet past its due date; null: pending.
    pub met: Option<bool>,
    /// Whether a qualifying review exists at all (on time or late): what
    /// closing the trail needs.
    #[serde(skip)]
    pub satisfied: bool,
}

/// Where a trail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Reviews pending, none late.
    Open,
    /// A rule is unmet past its due date (stays so).
    Overdue,
    /// Closed.
    Closed,
}

impl Death {
    fn zone(&self) -> chrono_tz::Tz {
        lantern_domain::zone::zone(Some(&self.timezone))
    }

    /// The calendar date of an instant in the hospital's time zone.
    pub fn date(&self, at: DateTime<FixedOffset>) -> NaiveDate {
        at.with_timezone(&self.zone()).date_naive()
    }

    /// Calendar days from the death to `at` (hospital time zone).
    pub fn days_after_death(&self, at: DateTime<FixedOffset>) -> i64 {
        (self.date(at) - self.date(self.recorded.died_at)).num_days()
    }

    fn rule(
        &self,
        rule: &'static str,
        due: Option<NaiveDate>,
        qualifies: impl Fn(&Review) -> bool,
        today: NaiveDate,
    ) -> RuleState {
        let satisfied = self.reviews.iter().any(&qualifies);
        let on_time = due.is_some_and(|due| {
            self.reviews
                .iter()
                .any(|r| qualifies(r) && self.date(r.held_at) <= due)
        });
        let met = match due {
            _ if on_time => Some(true),
            Some(due) if today > due => Some(false),
            _ => None,
        };
        RuleState {
            rule,
            due,
            met,
            satisfied,
        }
    }

    /// The rules that apply to this death, as they stand on `today`.
    ///
    /// - `first_review`: a review held no later than the died_at date + 7 days;
    /// - `autopsy_review` (autopsied deaths): a review held after the autopsy
    ///   report and no later than its date + 7 days;
    /// - `low_risk_hospital_review` (low-risk deaths): a review at hospital or
    ///   QC-centre level within the first 7 days.
    pub fn rules(&self, today: NaiveDate) -> Vec<RuleState> {
        let week = TimeDelta::days(REVIEW_DAYS);
        let died = self.date(self.recorded.died_at);
        let mut rules = vec![self.rule("first_review", Some(died + week), |_| true, today)];
        if self.recorded.autopsy {
            let report = self.autopsy_report.as_ref().map(|a| a.reported_at);
            rules.push(self.rule(
                "autopsy_review",
                report.map(|at| self.date(at) + week),
                |r| report.is_some_and(|at| r.held_at >= at),
                today,
            ));
        }
        if self.recorded.low_risk {
            rules.push(self.rule(
                "low_risk_hospital_review",
                Some(died + week),
                |r| matches!(r.level, Level::Hospital | Level::QcCentre),
                today,
            ));
        }
        rules
    }

    /// Where the trail stands on `today`.
    pub fn state(&self, today: NaiveDate) -> State {
        if self.closed_at.is_some() {
            State::Closed
        } else if self.rules(today).iter().any(|r| r.met == Some(false)) {
            State::Overdue
        } else {
            State::Open
        }
    }

    /// The preventability that stands: the latest review's.
    pub fn preventability(&self) -> Option<Preventability> {
        self.reviews.last().map(|r| r.preventability)
    }
}

/// Why a step on a death is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeathError {
    /// The trail is closed (409).
    #[error("the trail of this death is closed")]
    Closed,
    /// No autopsy was planned (409).
    #[error("no autopsy was planned for this death")]
    NoAutopsy,
    /// The autopsy report is already recorded (409).
    #[error("the autopsy report is already recorded")]
    AutopsyRepeated,
    /// A rule is not satisfied yet (409).
    #[error("cannot close: {0} has no qualifying review yet")]
    Unmet(&'static str),
    /// A time before the death (422 on the field).
    #[error("is before the death")]
    BeforeDeath(&'static str),
}

/// A step after the recording.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A review.
    Review(Review),
    /// The autopsy report.
    Autopsy(Autopsy),
    /// Closing the trail.
    Close,
}

/// Whether `step` may be taken on `death`.
pub fn decide(death: &Death, step: &Step) -> Result<(), DeathError> {
    if death.closed_at.is_some() {
        return Err(DeathError::Closed);
    }
    match step {
        Step::Review(r) if r.held_at < death.recorded.died_at => {
            Err(DeathError::BeforeDeath("/held_at"))
        }
        Step::Review(_) => Ok(()),
        Step::Autopsy(_) if !death.recorded.autopsy => Err(DeathError::NoAutopsy),
        Step::Autopsy(_) if death.autopsy_report.is_some() => Err(DeathError::AutopsyRepeated),
        Step::Autopsy(a) if a.reported_at < death.recorded.died_at => {
            Err(DeathError::BeforeDeath("/reported_at"))
        }
        Step::Autopsy(_) => Ok(()),
        Step::Close => {
            // Closing needs every rule to have had its review; whether on time
            // is the rule's `met` and stays on the record.
            let today = NaiveDate::MAX;
            match death.rules(today).into_iter().find(|r| !r.satisfied) {
                Some(r) => Err(DeathError::Unmet(r.rule)),
                None => Ok(()),
            }
        }
    }
}

/// The death after `step`, taken at `at`.
pub fn apply(death: &mut Death, step: Step, at: DateTime<Utc>) {
    match step {
        Step::Review(r) => death.reviews.push(r),
        Step::Autopsy(a) => death.autopsy_report = Some(a),
        Step::Close => death.closed_at = Some(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }
    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn death(low_risk: bool, autopsy: bool) -> Death {
        Death {
            death_id: Uuid::nil(),
            hospital: "H1".into(),
            timezone: "Asia/Shanghai".into(),
            recorded: Recorded {
                department: "ICU".into(),
                admitted_at: t("2026-09-20T10:00:00+08:00"),
                // 23:30 on Oct 1 in Shanghai (15:30 UTC).
                died_at: t("2026-10-01T15:30:00Z"),
                age_band: AgeBand::A60,
                diagnosis_icd10: "I21.9".into(),
                low_risk,
                autopsy,
            },
            reviews: vec![],
            autopsy_report: None,
            closed_at: None,
            last_seq: 0,
        }
    }

    fn review(at: &str, level: Level) -> Step {
        Step::Review(Review {
            held_at: t(at),
            level,
            attendee_roles: vec!["director".into()],
            preventability: Preventability::Unavoidable,
            defects: vec![],
            rca_id: None,
        })
    }

    /// Given a death and steps, when each is decided and applied, then the death.
    fn given(mut d: Death, steps: Vec<Step>) -> Result<Death, DeathError> {
        for s in steps {
            decide(&d, &s)?;
            apply(&mut d, s, "2026-12-01T00:00:00Z".parse().unwrap());
        }
        Ok(d)
    }

    fn met(d: &Death, rule: &str, today: &str) -> Option<bool> {
        d.rules(day(today))
            .into_iter()
            .find(|r| r.rule == rule)
            .unwrap()
            .met
    }

    #[test]
    fn first_review_is_due_seven_calendar_days_after_death_in_the_hospital_zone() {
        let d = death(false, false);
        // Died Oct 1 (Shanghai), so due Oct 8 — although it was Oct 1 15:30 in UTC too.
        assert_eq!(d.rules(day("2026-10-02"))[0].due, Some(day("2026-10-08")));
        // A review at 23:59 on day 7 (Shanghai) is on time; at 00:00 on day 8 it is late.
        let on_time = given(
            d.clone(),
            vec![review("2026-10-08T23:59:00+08:00", Level::Department)],
        )
        .unwrap();
        assert_eq!(met(&on_time, "first_review", "2026-10-20"), Some(true));
        let late = given(
            d.clone(),
            vec![review("2026-10-09T00:00:00+08:00", Level::Department)],
        )
        .unwrap();
        assert_eq!(met(&late, "first_review", "2026-10-20"), Some(false));
        // The same instant written in UTC: still Oct 9 in Shanghai.
        let late_utc = given(
            d.clone(),
            vec![review("2026-10-08T16:00:00Z", Level::Department)],
        )
        .unwrap();
        assert_eq!(met(&late_utc, "first_review", "2026-10-20"), Some(false));
        // Pending until the due date has passed, then unmet; and stays overdue.
        assert_eq!(met(&d, "first_review", "2026-10-08"), None);
        assert_eq!(d.state(day("2026-10-08")), State::Open);
        assert_eq!(met(&d, "first_review", "2026-10-09"), Some(false));
        assert_eq!(d.state(day("2026-10-09")), State::Overdue);
        assert_eq!(
            late.state(day("2026-10-20")),
            State::Overdue,
            "a late review does not cure it"
        );
        assert_eq!(d.days_after_death(t("2026-10-08T23:59:00+08:00")), 7);
    }

    #[test]
    fn an_autopsied_death_is_reviewed_again_within_seven_days_of_the_report() {
        let d = death(false, true);
        let d = given(
            d,
            vec![review("2026-10-03T10:00:00+08:00", Level::Department)],
        )
        .unwrap();
        assert_eq!(
            met(&d, "autopsy_review", "2026-12-01"),
            None,
            "no report yet: pending, no due date"
        );
        assert!(matches!(
            decide(&d, &Step::Close),
            Err(DeathError::Unmet("autopsy_review"))
        ));
        let report = Step::Autopsy(Autopsy {
            reported_at: t("2026-10-20T09:00:00+08:00"),
            findings: "MI".into(),
        });
        let d = given(d, vec![report.clone()]).unwrap();
        assert_eq!(d.rules(day("2026-10-21"))[1].due, Some(day("2026-10-27")));
        // The first review came before the report: it does not count for this rule.
        assert_eq!(met(&d, "autopsy_review", "2026-10-28"), Some(false));
        let d = given(
            d,
            vec![review("2026-10-27T18:00:00+08:00", Level::Hospital)],
        )
        .unwrap();
        assert_eq!(met(&d, "autopsy_review", "2026-11-30"), Some(true));
        assert_eq!(decide(&d, &report), Err(DeathError::AutopsyRepeated));
        assert!(given(d, vec![Step::Close]).is_ok());
        assert_eq!(
            decide(
                &death(false, false),
                &Step::Autopsy(Autopsy {
                    reported_at: t("2026-10-20T09:00:00+08:00"),
                    findings: "x".into()
                })
            ),
            Err(DeathError::NoAutopsy)
        );
    }

    #[test]
    fn a_low_risk_death_needs_a_hospital_level_review_in_the_week() {
        let d = given(
            death(true, false),
            vec![review("2026-10-02T10:00:00+08:00", Level::Department)],
        )
        .unwrap();
        assert_eq!(met(&d, "first_review", "2026-10-20"), Some(true));
        assert_eq!(
            met(&d, "low_risk_hospital_review", "2026-10-20"),
            Some(false)
        );
        assert_eq!(d.state(day("2026-10-20")), State::Overdue);
        let d = given(
            death(true, false),
            vec![review("2026-10-05T10:00:00+08:00", Level::QcCentre)],
        )
        .unwrap();
        assert_eq!(
            met(&d, "low_risk_hospital_review", "2026-10-20"),
            Some(true)
        );
        assert_eq!(d.state(day("2026-10-20")), State::Open);
    }

    #[test]
    fn closing_needs_every_review_and_ends_the_trail() {
        let d = death(false, false);
        assert_eq!(
            decide(&d, &Step::Close),
            Err(DeathError::Unmet("first_review"))
        );
        let d = given(
            d,
            vec![
                review("2026-10-20T10:00:00+08:00", Level::Department),
                Step::Close,
            ],
        )
        .unwrap();
        assert_eq!(d.state(day("2026-12-01")), State::Closed);
        assert_eq!(
            decide(&d, &review("2026-12-01T10:00:00+08:00", Level::Hospital)),
            Err(DeathError::Closed)
        );
        assert_eq!(
            decide(
                &death(false, false),
                &review("2026-09-30T10:00:00+08:00", Level::Hospital)
            ),
            Err(DeathError::BeforeDeath("/held_at"))
        );
    }

    #[test]
    fn the_latest_review_decides_preventability() {
        let mut d = death(false, false);
        assert_eq!(d.preventability(), None);
        for (at, p) in [
            ("2026-10-02T10:00:00+08:00", Preventability::Avoidable),
            (
                "2026-10-04T10:00:00+08:00",
                Preventability::PossiblyAvoidable,
            ),
        ] {
            apply(
                &mut d,
                Step::Review(Review {
                    held_at: t(at),
                    level: Level::Hospital,
                    attendee_roles: vec!["x".into()],
                    preventability: p,
                    defects: vec![],
                    rca_id: None,
                }),
                Utc::now(),
            );
        }
        assert_eq!(d.preventability(), Some(Preventability::PossiblyAvoidable));
    }
}
