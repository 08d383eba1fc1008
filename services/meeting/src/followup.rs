//! A QC centre's action addressed to a hospital (指导意见, 整改通知, 督办事项),
//! folded from its events, and the rules that accept or refuse each step:
//! the QC centre opens, carries to a later meeting and closes it; the
//! hospital answers. Pure: no I/O.

use chrono::{DateTime, NaiveDate, Utc};
use lantern_domain::Month;
use lantern_domain::events::FollowUpEvent;
use lantern_domain::events::followup::{ActionKind, Answered, Carried, Closed, Opened, Outcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Where an action stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for the hospital's answer.
    Open,
    /// The hospital answered; the QC centre has not closed it.
    Answered,
    /// Past its due date and not closed.
    Overdue,
    /// Closed by the QC centre.
    Closed,
}

/// An answer of the hospital.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Answer {
    /// What was done.
    pub text: String,
    /// The day (hospital time zone).
    pub on: NaiveDate,
}

/// How it was closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Closure {
    /// resolved or unresolved.
    #[schema(value_type = String)]
    pub outcome: Outcome,
    /// Why, in a few words.
    pub note: Option<String>,
    /// The day (hospital time zone).
    pub on: NaiveDate,
}

/// An action as its events leave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FollowUp {
    /// Its id.
    pub followup_id: Uuid,
    /// The short random reference people name it by.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The hospital it is addressed to.
    pub hospital: String,
    /// The QC centre's region.
    pub region: String,
    /// guidance, rectification or follow_up.
    #[schema(value_type = String)]
    pub kind: ActionKind,
    /// What it is about.
    pub title: String,
    /// What the hospital is asked to do.
    pub text: String,
    /// When the answer is due (the latest due date set).
    pub due: NaiveDate,
    /// The meetings it was on the agenda of: where it was opened, then
    /// each it was carried to.
    #[schema(value_type = Vec<String>)]
    pub meetings: Vec<Month>,
    /// The day it was opened (hospital time zone).
    pub opened_on: NaiveDate,
    /// The hospital's answers, in order.
    pub answers: Vec<Answer>,
    /// How it was closed, once closed.
    pub closed: Option<Closure>,
    /// The stream sequence of its last event.
    pub last_seq: u64,
}

impl FollowUp {
    /// Where it stands on `today`: closed stays closed; past its due date
    /// it is overdue, answered or not, until the QC centre closes it.
    pub fn state(&self, today: NaiveDate) -> State {
        match (&self.closed, self.due < today, self.answers.is_empty()) {
            (Some(_), _, _) => State::Closed,
            (None, true, _) => State::Overdue,
            (None, false, false) => State::Answered,
            (None, false, true) => State::Open,
        }
    }

    /// Whether it is on the agenda of the meeting of `month`: opened or
    /// carried to it or before, and not closed before the month began.
    pub fn on_agenda(&self, month: Month) -> bool {
        let first = self.meetings.first().copied();
        let opened = first.unwrap_or_else(|| Month::of(self.opened_on));
        opened <= month
            && self
                .closed
                .as_ref()
                .is_none_or(|c| Month::of(c.on) >= month)
    }
}

/// What a step asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Open an action (QC centre).
    Open(Opened),
    /// Answer it (the hospital).
    Answer(Answered),
    /// Carry it to a later meeting (QC centre).
    Carry(Carried),
    /// Close it (QC centre).
    Close(Closed),
}

impl Command {
    /// The type of the event the command records.
    pub fn event_type(&self) -> &'static str {
        use lantern_domain::events::Payload;
        match self {
            Command::Open(_) => Opened::TYPE,
            Command::Answer(_) => Answered::TYPE,
            Command::Carry(_) => Carried::TYPE,
            Command::Close(_) => Closed::TYPE,
        }
    }
}

/// Why a step is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FollowUpError {
    /// No such action (404).
    #[error("no such follow-up")]
    Unknown,
    /// It is opened already (409).
    #[error("this follow-up is already opened")]
    AlreadyOpened,
    /// It is closed (409).
    #[error("this follow-up is closed")]
    Closed,
    /// Carried to a meeting not after its last one (422 on `/to_meeting`).
    #[error("must be after the meeting it is on ({0})")]
    NotLater(Month),
    /// A due date before the day it was opened (422 on `/due`).
    #[error("is before the day it was opened ({0})")]
    DueBeforeOpened(NaiveDate),
}

impl FollowUpError {
    /// The request field at fault, for a refusal about one.
    pub fn pointer(&self) -> Option<&'static str> {
        match self {
            FollowUpError::NotLater(_) => Some("/to_meeting"),
            FollowUpError::DueBeforeOpened(_) => Some("/due"),
            _ => None,
        }
    }
}

/// Decides a step on the action as it stands: the one event it records.
pub fn decide(state: Option<&FollowUp>, command: Command) -> Result<FollowUpEvent, FollowUpError> {
    match (state, command) {
        (None, Command::Open(o)) => Ok(FollowUpEvent::Opened(o)),
        (Some(_), Command::Open(_)) => Err(FollowUpError::AlreadyOpened),
        (None, _) => Err(FollowUpError::Unknown),
        (Some(f), _) if f.closed.is_some() => Err(FollowUpError::Closed),
        (Some(_), Command::Answer(a)) => Ok(FollowUpEvent::Answered(a)),
        (Some(f), Command::Carry(c)) => {
            if let Some(last) = f.meetings.last().filter(|m| c.to_meeting <= **m) {
                return Err(FollowUpError::NotLater(*last));
            }
            if let Some(due) = c.due.filter(|d| *d < f.opened_on) {
                return Err(FollowUpError::DueBeforeOpened(due));
            }
            Ok(FollowUpEvent::Carried(c))
        }
        (Some(_), Command::Close(c)) => Ok(FollowUpEvent::Closed(c)),
    }
}

/// What folding an event needs beyond its data.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    /// The aggregate.
    pub followup_id: Uuid,
    /// The hospital it is addressed to.
    pub hospital: &'a str,
    /// When the event was recorded.
    pub at: DateTime<Utc>,
    /// That instant's day in the hospital's time zone.
    pub day: NaiveDate,
    /// The event's stream sequence.
    pub seq: u64,
}

/// Folds one event into the action; `None` for an event that cannot
/// apply (a step before the opening, a second opening).
pub fn apply(
    state: Option<FollowUp>,
    event: &FollowUpEvent,
    stamp: &Stamp<'_>,
) -> Option<FollowUp> {
    let mut f = match (state, event) {
        (None, FollowUpEvent::Opened(o)) => FollowUp {
            followup_id: stamp.followup_id,
            reference: lantern_domain::ids::short_ref(stamp.followup_id),
            hospital: stamp.hospital.to_owned(),
            region: o.region.clone(),
            kind: o.kind,
            title: o.title.clone(),
            text: o.text.clone(),
            due: o.due,
            meetings: o.meeting.into_iter().collect(),
            opened_on: stamp.day,
            answers: vec![],
            closed: None,
            last_seq: 0,
        },
        (None, _) | (Some(_), FollowUpEvent::Opened(_)) => return None,
        (Some(mut f), FollowUpEvent::Answered(a)) => {
            f.answers.push(Answer {
                text: a.text.clone(),
                on: stamp.day,
            });
            f
        }
        (Some(mut f), FollowUpEvent::Carried(c)) => {
            f.meetings.push(c.to_meeting);
            if let Some(due) = c.due {
                f.due = due;
            }
            f
        }
        (Some(mut f), FollowUpEvent::Closed(c)) => {
            f.closed = Some(Closure {
                outcome: c.outcome,
                note: c.note.clone(),
                on: stamp.day,
            });
            f
        }
    };
    f.last_seq = stamp.seq;
    Some(f)
}

#[cfg(test)]
mod tests {
    //! Given an action's events, when a step is asked, then the event it
    //! records or why not; and the state its events leave.
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    fn month(m: &str) -> Month {
        Month::parse(m).unwrap()
    }

    fn given(events: &[FollowUpEvent]) -> Option<FollowUp> {
        let id = Uuid::new_v4();
        events.iter().enumerate().fold(None, |state, (i, e)| {
            let stamp = Stamp {
                followup_id: id,
                hospital: "H1",
                at: Utc::now(),
                day: day("2026-11-05") + chrono::Days::new(i as u64),
                seq: i as u64 + 1,
            };
            apply(state, e, &stamp)
        })
    }

    fn opened() -> FollowUpEvent {
        FollowUpEvent::Opened(Opened {
            kind: ActionKind::Rectification,
            region: "R1".into(),
            title: "跌倒高发".into(),
            text: "请提交整改方案".into(),
            due: day("2026-11-30"),
            meeting: Some(month("2026-11")),
        })
    }

    #[test]
    fn opened_then_answered_then_overdue_until_closed() {
        let f = given(&[opened()]).unwrap();
        assert_eq!(f.state(day("2026-11-10")), State::Open);
        let f = given(&[
            opened(),
            FollowUpEvent::Answered(Answered {
                text: "已整改".into(),
            }),
        ])
        .unwrap();
        assert_eq!(f.state(day("2026-11-10")), State::Answered);
        assert_eq!(
            f.state(day("2026-12-01")),
            State::Overdue,
            "answered, past due, not closed"
        );
        let f = given(&[
            opened(),
            FollowUpEvent::Closed(Closed {
                outcome: Outcome::Resolved,
                note: None,
            }),
        ])
        .unwrap();
        assert_eq!(f.state(day("2027-01-01")), State::Closed);
        assert_eq!(f.last_seq, 2);
    }

    #[test]
    fn carried_to_a_later_meeting_only_and_closed_takes_no_more_steps() {
        let f = given(&[opened()]).unwrap();
        let carry = |m: &str| {
            Command::Carry(Carried {
                to_meeting: month(m),
                due: None,
            })
        };
        assert_eq!(
            decide(Some(&f), carry("2026-11")),
            Err(FollowUpError::NotLater(month("2026-11")))
        );
        assert!(matches!(
            decide(Some(&f), carry("2026-12")),
            Ok(FollowUpEvent::Carried(_))
        ));
        let f = given(&[
            opened(),
            FollowUpEvent::Carried(Carried {
                to_meeting: month("2026-12"),
                due: Some(day("2026-12-31")),
            }),
        ])
        .unwrap();
        assert_eq!((f.meetings.len(), f.due), (2, day("2026-12-31")));
        assert!(f.on_agenda(month("2026-12")) && !f.on_agenda(month("2026-10")));
        let closed = given(&[
            opened(),
            FollowUpEvent::Closed(Closed {
                outcome: Outcome::Unresolved,
                note: Some("未按期".into()),
            }),
        ])
        .unwrap();
        assert_eq!(
            decide(
                Some(&closed),
                Command::Answer(Answered { text: "x".into() })
            ),
            Err(FollowUpError::Closed)
        );
        assert!(
            closed.on_agenda(month("2026-11")),
            "closed in its month: still on that agenda"
        );
        assert!(
            !closed.on_agenda(month("2026-12")),
            "closed before December's meeting"
        );
    }

    #[test]
    fn nothing_but_an_opening_starts_an_action() {
        assert_eq!(
            decide(None, Command::Answer(Answered { text: "x".into() })),
            Err(FollowUpError::Unknown)
        );
        let f = given(&[opened()]).unwrap();
        assert!(matches!(
            decide(
                Some(&f),
                Command::Open(match opened() {
                    FollowUpEvent::Opened(o) => o,
                    _ => unreachable!(),
                })
            ),
            Err(FollowUpError::AlreadyOpened)
        ));
        assert!(given(&[FollowUpEvent::Answered(Answered { text: "x".into() })]).is_none());
    }
}
