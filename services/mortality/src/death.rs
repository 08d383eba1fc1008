//! A death and its reviews, folded from its events, and the rules of the
//! death-case discussion system (死亡病例讨论制度) checked against it.
//!
//! Shaped like every context: the events are the domain's typed `death.*`
//! payloads ([`DeathEvent`]); [`decide`] is pure, `(state, command) →
//! events`, and [`apply`] folds an event into the death. Pure: no storage,
//! no clock but the `today` passed in and the time an event was recorded.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use lantern_domain::events::DeathEvent;
use lantern_domain::events::Payload;
pub use lantern_domain::events::death::{
    AutopsyReported, Defect, Phase, Preventability, Recorded, ReviewClosed, ReviewHeld, ReviewLevel,
};

/// Days within which a review is due (the rule says one week).
pub const REVIEW_DAYS: i64 = 7;

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
    pub reviews: Vec<ReviewHeld>,
    /// The autopsy report, once in.
    pub autopsy_report: Option<AutopsyReported>,
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
        qualifies: impl Fn(&ReviewHeld) -> bool,
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
                |r| matches!(r.level, ReviewLevel::Hospital | ReviewLevel::QcCentre),
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

/// Why a command on a death is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeathError {
    /// No such death (404).
    #[error("no such death")]
    Unknown,
    /// The death is already recorded (409).
    #[error("this death is already recorded")]
    AlreadyRecorded,
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

/// What a safety officer (or a QC centre) asks of a death.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Record a death for review.
    Record(Recorded),
    /// Record a review.
    Review(ReviewHeld),
    /// Record the autopsy report.
    Autopsy(AutopsyReported),
    /// Close the trail.
    Close,
}

impl Command {
    /// The type of the event this command records.
    pub fn event_type(&self) -> &'static str {
        match self {
            Command::Record(_) => Recorded::TYPE,
            Command::Review(_) => ReviewHeld::TYPE,
            Command::Autopsy(_) => AutopsyReported::TYPE,
            Command::Close => ReviewClosed::TYPE,
        }
    }
}

/// Decides what `command` records on the death `state` (`None`: not
/// recorded): its events, or why none may be.
pub fn decide(state: Option<&Death>, command: Command) -> Result<Vec<DeathEvent>, DeathError> {
    match (state, command) {
        (None, Command::Record(r)) => Ok(vec![DeathEvent::Recorded(r)]),
        (Some(_), Command::Record(_)) => Err(DeathError::AlreadyRecorded),
        (None, _) => Err(DeathError::Unknown),
        (Some(death), _) if death.closed_at.is_some() => Err(DeathError::Closed),
        (Some(death), command) => step(death, command).map(|e| vec![e]),
    }
}

/// A step on a recorded death whose trail is open.
fn step(death: &Death, command: Command) -> Result<DeathEvent, DeathError> {
    let died = death.recorded.died_at;
    Ok(match command {
        Command::Record(_) => return Err(DeathError::AlreadyRecorded),
        Command::Review(r) if r.held_at < died => return Err(DeathError::BeforeDeath("/held_at")),
        Command::Review(r) => DeathEvent::ReviewHeld(r),
        Command::Autopsy(_) if !death.recorded.autopsy => return Err(DeathError::NoAutopsy),
        Command::Autopsy(_) if death.autopsy_report.is_some() => {
            return Err(DeathError::AutopsyRepeated);
        }
        Command::Autopsy(a) if a.reported_at < died => {
            return Err(DeathError::BeforeDeath("/reported_at"));
        }
        Command::Autopsy(a) => DeathEvent::AutopsyReported(a),
        Command::Close => {
            // Closing needs every rule to have had its review; whether on
            // time is the rule's `met` and stays on the record.
            let today = NaiveDate::MAX;
            if let Some(r) = death.rules(today).into_iter().find(|r| !r.satisfied) {
                return Err(DeathError::Unmet(r.rule));
            }
            DeathEvent::ReviewClosed(ReviewClosed {})
        }
    })
}

/// What folding a death's events needs beyond their data: whose they are,
/// and when each was recorded.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    /// The aggregate.
    pub death_id: Uuid,
    /// Its hospital.
    pub hospital: &'a str,
    /// The hospital's IANA time zone (read for a recording only).
    pub timezone: &'a str,
    /// When the event was recorded (server clock): a trail closes then.
    pub at: DateTime<Utc>,
}

/// The death after `event` (`None`: not recorded). A recording starts a
/// trail and a second one changes nothing; a step records itself (deciding
/// was the writer's).
pub fn apply(state: Option<Death>, event: &DeathEvent, stamp: &Stamp<'_>) -> Option<Death> {
    let Some(mut death) = state else {
        let DeathEvent::Recorded(recorded) = event else {
            return None;
        };
        return Some(Death {
            death_id: stamp.death_id,
            hospital: stamp.hospital.to_owned(),
            timezone: stamp.timezone.to_owned(),
            recorded: recorded.clone(),
            reviews: vec![],
            autopsy_report: None,
            closed_at: None,
            last_seq: 0,
        });
    };
    match event {
        DeathEvent::Recorded(_) => {}
        DeathEvent::ReviewHeld(r) => death.reviews.push(r.clone()),
        DeathEvent::AutopsyReported(a) => death.autopsy_report = Some(a.clone()),
        DeathEvent::ReviewClosed(_) => death.closed_at = Some(stamp.at),
        // What the HIS reported comes before the record, never after it.
        DeathEvent::Reported(_) => {}
    }
    Some(death)
}

#[cfg(test)]
mod tests {
    //! Given a death's events, when a command is decided, then these events
    //! (or this refusal); and the rules the folded death is held to.

    use super::*;
    use ReviewLevel as Level;
    use lantern_domain::vocab::AgeBand;

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

    fn review(at: &str, level: Level) -> Command {
        Command::Review(ReviewHeld {
            held_at: t(at),
            level,
            attendee_roles: vec!["director".into()],
            preventability: Preventability::Unavoidable,
            defects: vec![],
            rca_id: None,
        })
    }

    /// Recorded at 2026-12-01 00:00 UTC.
    fn stamp() -> Stamp<'static> {
        Stamp {
            death_id: Uuid::nil(),
            hospital: "H1",
            timezone: "Asia/Shanghai",
            at: "2026-12-01T00:00:00Z".parse().unwrap(),
        }
    }

    /// Given a death and commands, when each is decided and its events
    /// applied in turn, then the death (or the first refusal).
    fn given(mut d: Death, commands: Vec<Command>) -> Result<Death, DeathError> {
        for c in commands {
            for event in decide(Some(&d), c)? {
                d = apply(Some(d), &event, &stamp()).unwrap();
            }
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
            decide(Some(&d), Command::Close),
            Err(DeathError::Unmet("autopsy_review"))
        ));
        let report = Command::Autopsy(AutopsyReported {
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
        assert_eq!(decide(Some(&d), report), Err(DeathError::AutopsyRepeated));
        assert!(given(d, vec![Command::Close]).is_ok());
        assert_eq!(
            decide(
                Some(&death(false, false)),
                Command::Autopsy(AutopsyReported {
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
            decide(Some(&d), Command::Close),
            Err(DeathError::Unmet("first_review"))
        );
        let d = given(
            d,
            vec![
                review("2026-10-20T10:00:00+08:00", Level::Department),
                Command::Close,
            ],
        )
        .unwrap();
        assert_eq!(d.state(day("2026-12-01")), State::Closed);
        assert_eq!(
            decide(
                Some(&d),
                review("2026-12-01T10:00:00+08:00", Level::Hospital)
            ),
            Err(DeathError::Closed)
        );
        assert_eq!(
            decide(
                Some(&death(false, false)),
                review("2026-09-30T10:00:00+08:00", Level::Hospital)
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
            let review = DeathEvent::ReviewHeld(ReviewHeld {
                held_at: t(at),
                level: Level::Hospital,
                attendee_roles: vec!["x".into()],
                preventability: p,
                defects: vec![],
                rca_id: None,
            });
            d = apply(Some(d), &review, &stamp()).unwrap();
        }
        assert_eq!(d.preventability(), Some(Preventability::PossiblyAvoidable));
    }

    #[test]
    fn a_death_is_recorded_once_and_every_step_needs_a_recorded_death() {
        let recorded = death(true, false).recorded;
        assert_eq!(
            decide(None, Command::Record(recorded.clone())),
            Ok(vec![DeathEvent::Recorded(recorded.clone())])
        );
        assert_eq!(
            decide(
                Some(&death(false, false)),
                Command::Record(recorded.clone())
            ),
            Err(DeathError::AlreadyRecorded)
        );
        assert_eq!(decide(None, Command::Close), Err(DeathError::Unknown));
        assert_eq!(
            decide(None, review("2026-10-02T10:00:00+08:00", Level::Hospital)),
            Err(DeathError::Unknown)
        );

        // The recording starts the trail in the hospital's zone; a second
        // recording and a step of no death change nothing.
        let d = apply(None, &DeathEvent::Recorded(recorded.clone()), &stamp()).unwrap();
        assert_eq!(
            (d.death_id, d.hospital.as_str(), d.timezone.as_str()),
            (Uuid::nil(), "H1", "Asia/Shanghai")
        );
        assert_eq!(d.recorded, recorded);
        assert!(d.reviews.is_empty() && d.closed_at.is_none());
        assert_eq!(
            apply(Some(d.clone()), &DeathEvent::Recorded(recorded), &stamp()),
            Some(d)
        );
        assert_eq!(
            apply(None, &DeathEvent::ReviewClosed(ReviewClosed {}), &stamp()),
            None
        );
    }

    #[test]
    fn a_trail_closes_when_its_closing_is_recorded() {
        let d = given(
            death(false, false),
            vec![
                review("2026-10-02T10:00:00+08:00", Level::Department),
                Command::Close,
            ],
        )
        .unwrap();
        assert_eq!(d.closed_at, Some(stamp().at));
        assert_eq!(
            decide(Some(&d), Command::Close),
            Err(DeathError::Closed),
            "closed once"
        );
    }
}
