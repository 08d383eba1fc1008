//! Critical values (危急值): the closed loop from detection to handling.
//!
//! Shaped like every context: the events are the domain's typed
//! `critical_value.*` payloads ([`CriticalValueEvent`]); [`decide`] is pure,
//! `(state, command) → events`, and [`apply`] folds an event into the loop;
//! both are tested given/when/then without infrastructure. The
//! [`CriticalValuesProjector`] keeps each loop and the worklist of open ones.

use chrono::{DateTime, FixedOffset, Utc};
use lantern_ledger::{AggregateKind, Recorded};
use lantern_projection::{Handle, ProjectionError, Projector, Stored, Tx};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use lantern_api::error::{ApiError, FieldError};
pub use lantern_domain::critical::{Limits, LimitsHistory, Setting, Source, limits_at, within};
pub use lantern_domain::events::CriticalValueEvent;
pub use lantern_domain::events::critical_value::{Acknowledged, Detected, Handled, Notified};
use lantern_domain::events::{Payload, org};

/// What a lab system, the HIS or a safety officer asks of a critical value.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Record a detection, with the steps of its loop already taken (an LIS
    /// recording a loop after the fact): all of it or none.
    Detect {
        /// The detection.
        detected: Detected,
        /// The notification, if already done.
        notified: Option<Notified>,
        /// The acknowledgement, if already done.
        acknowledged: Option<Acknowledged>,
        /// The handling, if already done.
        handled: Option<Handled>,
    },
    /// Record that the clinical unit was notified.
    Notify(Notified),
    /// Record the clinician's acknowledgement.
    Acknowledge(Acknowledged),
    /// Record the handling.
    Handle(Handled),
}

impl Command {
    /// The type of the (first) event this command records.
    pub fn event_type(&self) -> &'static str {
        match self {
            Command::Detect { .. } => Detected::TYPE,
            Command::Notify(_) => Notified::TYPE,
            Command::Acknowledge(_) => Acknowledged::TYPE,
            Command::Handle(_) => Handled::TYPE,
        }
    }
}

/// A critical value and where its loop stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CriticalValue {
    /// Id.
    pub critical_value_id: Uuid,
    /// Hospital.
    pub hospital: String,
    /// The patient's department.
    pub department: String,
    /// Source.
    pub source: Source,
    /// Test or finding.
    pub item: String,
    /// Value.
    pub value: String,
    /// Unit.
    pub unit: Option<String>,
    /// Specimen, if given.
    pub specimen_id: Option<String>,
    /// Patient setting.
    pub patient_setting: Setting,
    /// When detected.
    pub detected_at: DateTime<FixedOffset>,
    /// Notification, once done.
    pub notified: Option<Notified>,
    /// Acknowledgement, once done.
    pub acknowledged: Option<Acknowledged>,
    /// Handling, once done.
    pub handled: Option<Handled>,
    /// Limits in force at detection.
    pub limits: Limits,
}

// Postcard, not JSON: a loop is read and rewritten at every step, and
// encoding it as JSON was a sixth of a critical-values rebuild's CPU.
lantern_projection::stored_as_postcard!(CriticalValue);

/// Why a command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// No such critical value (404).
    #[error("no such critical value")]
    Unknown,
    /// The step was already recorded (409).
    #[error("{0} was already recorded")]
    Repeated(&'static str),
    /// A step it depends on is missing (409).
    #[error("{0}")]
    OutOfOrder(&'static str),
    /// Its time is before the previous step's (422 naming the field).
    #[error("{field} is before the previous step")]
    BeforePrevious {
        /// The time field, as a JSON Pointer into the request without its
        /// leading `/` (`notified_at`; `notified/notified_at` for a step
        /// recorded with its detection).
        field: &'static str,
    },
}

impl From<StepError> for ApiError {
    fn from(e: StepError) -> ApiError {
        match e {
            StepError::BeforePrevious { field } => {
                ApiError::Invalid(vec![FieldError::new(format!("/{field}"), e.to_string())])
            }
            StepError::Unknown => ApiError::NotFound(e.to_string()),
            other => ApiError::Conflict(other.to_string()),
        }
    }
}

impl CriticalValue {
    /// The time of the last step.
    fn last_time(&self) -> DateTime<FixedOffset> {
        self.handled
            .as_ref()
            .map(|h| h.handled_at)
            .or(self.acknowledged.as_ref().map(|a| a.acknowledged_at))
            .or(self.notified.as_ref().map(|n| n.notified_at))
            .unwrap_or(self.detected_at)
    }
}

/// Decides what `command` records on the critical value `state` (`None`:
/// not detected yet): the events, in order, or why none may be.
pub fn decide(
    state: Option<&CriticalValue>,
    command: Command,
) -> Result<Vec<CriticalValueEvent>, StepError> {
    match (state, command) {
        (
            None,
            Command::Detect {
                detected,
                notified,
                acknowledged,
                handled,
            },
        ) => detect(detected, notified, acknowledged, handled),
        (Some(_), Command::Detect { .. }) => Err(StepError::Repeated("detection")),
        (None, _) => Err(StepError::Unknown),
        (Some(cv), command) => step(cv, command).map(|e| vec![e]),
    }
}

/// A detection and the steps recorded with it, each decided on the loop as
/// the steps before it left it; a step timed too early is named under its
/// member of the request (`notified/notified_at`).
fn detect(
    detected: Detected,
    notified: Option<Notified>,
    acknowledged: Option<Acknowledged>,
    handled: Option<Handled>,
) -> Result<Vec<CriticalValueEvent>, StepError> {
    let first = CriticalValueEvent::Detected(detected);
    let history = LimitsHistory::new();
    let unsaved = Origin {
        critical_value_id: Uuid::nil(),
        hospital: "",
        limits: &history,
    };
    let mut cv = apply(None, first.clone(), &unsaved);
    let mut events = vec![first];
    let steps = [
        notified.map(|n| (Command::Notify(n), "notified/notified_at")),
        acknowledged.map(|a| (Command::Acknowledge(a), "acknowledged/acknowledged_at")),
        handled.map(|h| (Command::Handle(h), "handled/handled_at")),
    ];
    for (command, nested) in steps.into_iter().flatten() {
        let state = cv.as_ref().ok_or(StepError::Unknown)?;
        let event = step(state, command).map_err(|e| match e {
            StepError::BeforePrevious { .. } => StepError::BeforePrevious { field: nested },
            other => other,
        })?;
        cv = apply(cv, event.clone(), &unsaved);
        events.push(event);
    }
    Ok(events)
}

/// A step after detection.
fn step(cv: &CriticalValue, command: Command) -> Result<CriticalValueEvent, StepError> {
    let (at, field, event) = match command {
        Command::Detect { .. } => return Err(StepError::Repeated("detection")),
        Command::Notify(_) if cv.notified.is_some() => {
            return Err(StepError::Repeated("notification"));
        }
        Command::Acknowledge(_) if cv.acknowledged.is_some() => {
            return Err(StepError::Repeated("acknowledgement"));
        }
        Command::Handle(_) if cv.handled.is_some() => {
            return Err(StepError::Repeated("handling"));
        }
        Command::Acknowledge(_) | Command::Handle(_) if cv.notified.is_none() => {
            return Err(StepError::OutOfOrder(
                "the critical value has not been notified yet",
            ));
        }
        Command::Acknowledge(_) if cv.handled.is_some() => {
            return Err(StepError::OutOfOrder(
                "the critical value was already handled",
            ));
        }
        Command::Notify(n) => (
            n.notified_at,
            "notified_at",
            CriticalValueEvent::Notified(n),
        ),
        Command::Acknowledge(a) => (
            a.acknowledged_at,
            "acknowledged_at",
            CriticalValueEvent::Acknowledged(a),
        ),
        Command::Handle(h) => (h.handled_at, "handled_at", CriticalValueEvent::Handled(h)),
    };
    if at < cv.last_time() {
        return Err(StepError::BeforePrevious { field });
    }
    Ok(event)
}

/// What folding a critical value's events needs beyond their data: whose
/// they are, and the hospital's limits with their history (a loop keeps the
/// limits in force when it was detected).
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The aggregate.
    pub critical_value_id: Uuid,
    /// Its hospital.
    pub hospital: &'a str,
    /// The hospital's limits history (read for a detection only).
    pub limits: &'a LimitsHistory,
}

/// The loop after `event` (`None`: not detected). A detection starts a
/// loop and a second one changes nothing; a step records itself (deciding
/// was the writer's). The event is taken, not borrowed: a rebuild folds
/// every critical value and its strings move into the loop uncopied.
pub fn apply(
    state: Option<CriticalValue>,
    event: CriticalValueEvent,
    origin: &Origin<'_>,
) -> Option<CriticalValue> {
    let Some(mut cv) = state else {
        let CriticalValueEvent::Detected(d) = event else {
            return None;
        };
        return Some(CriticalValue {
            critical_value_id: origin.critical_value_id,
            hospital: origin.hospital.to_owned(),
            limits: limits_at(origin.limits, d.detected_at.to_utc()),
            department: d.department,
            source: d.source,
            item: d.item,
            value: d.value,
            unit: d.unit,
            specimen_id: d.specimen_id,
            patient_setting: d.patient_setting,
            detected_at: d.detected_at,
            notified: None,
            acknowledged: None,
            handled: None,
        });
    };
    match event {
        CriticalValueEvent::Detected(_) => {}
        CriticalValueEvent::Notified(n) => cv.notified = Some(n),
        CriticalValueEvent::Acknowledged(a) => cv.acknowledged = Some(a),
        CriticalValueEvent::Handled(h) => cv.handled = Some(h),
    }
    Some(cv)
}

fn value_key(id: Uuid) -> Vec<u8> {
    format!("v/{id}").into_bytes()
}
fn open_prefix(hospital: &str) -> String {
    format!("o/{hospital}/")
}
fn limits_key(hospital: &str) -> Vec<u8> {
    format!("l/{hospital}").into_bytes()
}

/// The critical-values projector: every loop, and the open ones per hospital.
pub struct CriticalValuesProjector;

impl Projector for CriticalValuesProjector {
    fn name(&self) -> &'static str {
        "critical_values"
    }

    /// 2: loops stored as postcard (1: JSON).
    fn version(&self) -> u32 {
        2
    }

    /// Limits and critical values.
    fn kinds(&self) -> &'static [AggregateKind] {
        &[AggregateKind::Org, AggregateKind::CriticalValue]
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError> {
        let e = &event.envelope;
        if e.event_type == org::LimitsSet::TYPE {
            if let Ok(set) = e.data.parse::<org::LimitsSet>() {
                let key = limits_key(&e.hospital);
                let mut history: LimitsHistory = tx.get_json(&key)?.unwrap_or_default();
                history.push((e.recorded_at, set.limits));
                tx.put_json(key, &history)?;
            }
            return Ok(());
        }
        if AggregateKind::of_event_type(&e.event_type) != Some(AggregateKind::CriticalValue) {
            return Ok(());
        }
        let key = value_key(e.aggregate);
        // A detection starts a loop once (its subject is appended expecting
        // no earlier event): a second detection is not a critical value. A
        // step is folded into a loop that exists.
        let detection = e.event_type == Detected::TYPE;
        let state = if detection {
            if tx.get(&key)?.is_some() {
                return Ok(());
            }
            None
        } else {
            match tx.get_stored::<CriticalValue>(&key)? {
                Some(cv) => Some(cv),
                None => return Ok(()),
            }
        };
        let Some(Ok(parsed)) =
            CriticalValueEvent::from_json(&e.event_type, e.version, e.data.as_json())
        else {
            return Ok(());
        };
        let history: LimitsHistory = if detection {
            tx.get_json(&limits_key(&e.hospital))?.unwrap_or_default()
        } else {
            LimitsHistory::new()
        };
        let origin = Origin {
            critical_value_id: e.aggregate,
            hospital: &e.hospital,
            limits: &history,
        };
        let Some(cv) = apply(state, parsed, &origin) else {
            return Ok(());
        };
        let open = format!("{}{}", open_prefix(&e.hospital), e.aggregate).into_bytes();
        if detection {
            tx.put(open, b"1".to_vec());
        } else if cv.handled.is_some() {
            tx.remove(open);
        }
        // Critical-value ids are random: scattered over the keys.
        tx.put_scattered(key, cv.encode());
        Ok(())
    }
}

/// Where an open critical value waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Not yet notified to the clinical unit.
    AwaitingNotification,
    /// Notified, not yet handled.
    AwaitingHandling,
}

/// A worklist row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenItem {
    /// The critical value.
    #[serde(flatten)]
    pub critical_value: CriticalValue,
    /// What it waits for.
    pub stage: Stage,
    /// Minutes waited so far in this stage.
    pub waited_minutes: i64,
    /// The limit of this stage.
    pub limit_minutes: u32,
    /// Past its limit, now.
    pub overdue: bool,
}

/// Where an open loop stands at `now` (computed at read time, never by a timer).
pub fn open_item(cv: CriticalValue, now: DateTime<Utc>) -> OpenItem {
    let (stage, since, limit) = match &cv.notified {
        None => (
            Stage::AwaitingNotification,
            cv.detected_at,
            cv.limits.notification_limit_minutes,
        ),
        Some(n) => (
            Stage::AwaitingHandling,
            n.notified_at,
            cv.limits.handling_limit_minutes,
        ),
    };
    let now = now.fixed_offset();
    OpenItem {
        waited_minutes: (now - since).num_minutes().max(0),
        overdue: !within(since, now, limit),
        limit_minutes: limit,
        stage,
        critical_value: cv,
    }
}

/// Queries on the critical-values read model.
#[derive(Clone)]
pub struct CriticalValues {
    handle: Handle,
}

impl CriticalValues {
    /// Queries over a running projector.
    pub fn new(handle: Handle) -> CriticalValues {
        CriticalValues { handle }
    }

    /// The projector handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// One critical value.
    pub fn get(&self, id: Uuid) -> Result<Option<CriticalValue>, ApiError> {
        Ok(Tx::new(self.handle.db()).get_stored(&value_key(id))?)
    }

    /// A hospital's limits history.
    pub fn limits(&self, hospital: &str) -> Result<LimitsHistory, ApiError> {
        Ok(Tx::new(self.handle.db())
            .get_json(&limits_key(hospital))?
            .unwrap_or_default())
    }

    /// A hospital's loops not yet handled, longest waiting first.
    pub fn open(&self, hospital: &str, now: DateTime<Utc>) -> Result<Vec<OpenItem>, ApiError> {
        let tx = Tx::new(self.handle.db());
        let mut out = Vec::new();
        for item in self.handle.db().scan_prefix(open_prefix(hospital)) {
            let (k, _) = item.map_err(ProjectionError::from)?;
            let id = String::from_utf8_lossy(&k[open_prefix(hospital).len()..]).parse::<Uuid>();
            if let Ok(id) = id
                && let Some(cv) = tx.get_stored::<CriticalValue>(&value_key(id))?
            {
                out.push(open_item(cv, now));
            }
        }
        out.sort_by_key(|i| std::cmp::Reverse(i.waited_minutes));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn detected() -> CriticalValue {
        CriticalValue {
            critical_value_id: Uuid::nil(),
            hospital: "H1".into(),
            department: "ICU".into(),
            source: Source::Lab,
            item: "K".into(),
            value: "6.9".into(),
            unit: Some("mmol/L".into()),
            specimen_id: None,
            patient_setting: Setting::Inpatient,
            detected_at: t("2026-03-01T08:00:00+08:00"),
            notified: None,
            acknowledged: None,
            handled: None,
            limits: Limits::default(),
        }
    }

    fn notification(at: &str) -> Notified {
        Notified {
            notified_at: t(at),
            channel: "phone".into(),
            notified_role: "nurse".into(),
        }
    }
    fn acknowledgement(at: &str) -> Acknowledged {
        Acknowledged {
            acknowledged_at: t(at),
        }
    }
    fn handling(at: &str) -> Handled {
        Handled {
            handled_at: t(at),
            disposition: "calcium gluconate".into(),
        }
    }

    fn notified(at: &str) -> Command {
        Command::Notify(notification(at))
    }
    fn acknowledged(at: &str) -> Command {
        Command::Acknowledge(acknowledgement(at))
    }
    fn handled(at: &str) -> Command {
        Command::Handle(handling(at))
    }

    fn origin(history: &LimitsHistory) -> Origin<'_> {
        Origin {
            critical_value_id: Uuid::nil(),
            hospital: "H1",
            limits: history,
        }
    }

    /// Given a detected loop and commands, when each is decided and its
    /// events applied in turn, then the loop (or the first refusal).
    fn given(commands: Vec<Command>) -> Result<CriticalValue, StepError> {
        let history = LimitsHistory::new();
        let mut cv = detected();
        for c in commands {
            for event in decide(Some(&cv), c)? {
                cv = apply(Some(cv), event, &origin(&history)).unwrap();
            }
        }
        Ok(cv)
    }

    fn detection() -> Detected {
        Detected {
            department: "ICU".into(),
            source: Source::Lab,
            item: "K".into(),
            value: "6.9".into(),
            unit: Some("mmol/L".into()),
            detected_at: t("2026-03-01T08:00:00+08:00"),
            patient_setting: Setting::Inpatient,
            specimen_id: None,
        }
    }

    /// When a detection is decided with the steps already taken, then its
    /// events in loop order, or the refusal of the first step that may not
    /// follow.
    fn when_detected(
        notified: Option<Notified>,
        acknowledged: Option<Acknowledged>,
        handled: Option<Handled>,
    ) -> Result<Vec<CriticalValueEvent>, StepError> {
        decide(
            None,
            Command::Detect {
                detected: detection(),
                notified,
                acknowledged,
                handled,
            },
        )
    }

    #[test]
    fn the_whole_loop_in_order() {
        let cv = given(vec![
            notified("2026-03-01T08:10:00+08:00"),
            acknowledged("2026-03-01T08:12:00+08:00"),
            handled("2026-03-01T08:30:00+08:00"),
        ])
        .unwrap();
        assert!(cv.handled.is_some());
        // Acknowledgement is optional before handling.
        assert!(
            given(vec![
                notified("2026-03-01T08:10:00+08:00"),
                handled("2026-03-01T08:20:00+08:00")
            ])
            .is_ok()
        );
    }

    #[test]
    fn out_of_order_repeated_and_time_travelling_steps_are_refused() {
        assert!(matches!(
            given(vec![acknowledged("2026-03-01T08:12:00+08:00")]),
            Err(StepError::OutOfOrder(_))
        ));
        assert!(matches!(
            given(vec![handled("2026-03-01T08:12:00+08:00")]),
            Err(StepError::OutOfOrder(_))
        ));
        assert!(matches!(
            given(vec![
                notified("2026-03-01T08:10:00+08:00"),
                notified("2026-03-01T08:11:00+08:00")
            ]),
            Err(StepError::Repeated(_))
        ));
        assert!(matches!(
            given(vec![
                notified("2026-03-01T08:10:00+08:00"),
                handled("2026-03-01T08:20:00+08:00"),
                acknowledged("2026-03-01T08:21:00+08:00"),
            ]),
            Err(StepError::OutOfOrder(_))
        ));
        assert_eq!(
            given(vec![notified("2026-03-01T07:59:59+08:00")]),
            Err(StepError::BeforePrevious {
                field: "notified_at"
            })
        );
        assert_eq!(
            given(vec![
                notified("2026-03-01T08:10:00+08:00"),
                handled("2026-03-01T08:09:00+08:00")
            ]),
            Err(StepError::BeforePrevious {
                field: "handled_at"
            })
        );
        // The same instant written in another offset is not "before".
        assert!(given(vec![notified("2026-03-01T00:00:00Z")]).is_ok());
    }

    #[test]
    fn open_items_are_overdue_by_the_clock() {
        let cv = detected();
        let item = open_item(cv.clone(), t("2026-03-01T08:15:00+08:00").to_utc());
        assert_eq!(
            (item.stage, item.waited_minutes, item.overdue),
            (Stage::AwaitingNotification, 15, false)
        );
        let item = open_item(cv, t("2026-03-01T08:15:01+08:00").to_utc());
        assert!(item.overdue);
        let cv = given(vec![notified("2026-03-01T08:05:00+08:00")]).unwrap();
        let item = open_item(cv, t("2026-03-01T08:40:00+08:00").to_utc());
        assert_eq!(
            (item.stage, item.limit_minutes, item.overdue),
            (Stage::AwaitingHandling, 30, true)
        );
    }

    #[test]
    fn a_loop_recorded_with_its_detection_is_decided_step_by_step() {
        let events = when_detected(
            Some(notification("2026-03-01T08:10:00+08:00")),
            None,
            Some(handling("2026-03-01T08:30:00+08:00")),
        )
        .unwrap();
        let types: Vec<_> = events.iter().map(|e| e.event_type()).collect();
        assert_eq!(
            types,
            [
                "critical_value.detected",
                "critical_value.notified",
                "critical_value.handled"
            ]
        );
        assert_eq!(
            when_detected(None, None, None).unwrap(),
            [CriticalValueEvent::Detected(detection())]
        );
        // A step timed before the one it follows is named under its member
        // of the request.
        assert_eq!(
            when_detected(
                Some(notification("2026-03-01T08:10:00+08:00")),
                None,
                Some(handling("2026-03-01T08:09:00+08:00")),
            ),
            Err(StepError::BeforePrevious {
                field: "handled/handled_at"
            })
        );
        assert_eq!(
            when_detected(Some(notification("2026-03-01T07:59:00+08:00")), None, None),
            Err(StepError::BeforePrevious {
                field: "notified/notified_at"
            })
        );
        assert!(matches!(
            when_detected(
                None,
                Some(acknowledgement("2026-03-01T08:12:00+08:00")),
                None
            ),
            Err(StepError::OutOfOrder(_))
        ));
    }

    #[test]
    fn a_step_needs_a_detected_value_and_a_value_is_detected_once() {
        assert_eq!(
            decide(None, notified("2026-03-01T08:10:00+08:00")),
            Err(StepError::Unknown)
        );
        let detect = Command::Detect {
            detected: detection(),
            notified: None,
            acknowledged: None,
            handled: None,
        };
        assert_eq!(
            decide(Some(&detected()), detect),
            Err(StepError::Repeated("detection"))
        );
    }

    #[test]
    fn a_loop_keeps_the_limits_in_force_when_it_was_detected() {
        let strict = Limits {
            notification_limit_minutes: 5,
            handling_limit_minutes: 10,
        };
        let history = vec![(t("2026-03-01T07:00:00+08:00").to_utc(), strict)];
        let detected = CriticalValueEvent::Detected(detection());
        let cv = apply(None, detected.clone(), &origin(&history)).unwrap();
        assert_eq!(cv.limits, strict);
        assert_eq!(
            (cv.critical_value_id, cv.hospital.as_str()),
            (Uuid::nil(), "H1")
        );
        let later = vec![(t("2026-03-01T09:00:00+08:00").to_utc(), strict)];
        assert_eq!(
            apply(None, detected.clone(), &origin(&later))
                .unwrap()
                .limits,
            Limits::default()
        );
        // A second detection changes nothing; a step of no loop makes none.
        assert_eq!(
            apply(Some(cv.clone()), detected, &origin(&history)),
            Some(cv)
        );
        assert_eq!(
            apply(
                None,
                CriticalValueEvent::Notified(notification("2026-03-01T08:10:00+08:00")),
                &origin(&history)
            ),
            None
        );
    }

    mod projector {
        //! The read model, given the stream's events.

        use super::*;
        use lantern_domain::events::{Event, org};

        fn event(seq: u64, aggregate: Uuid, at: &str, payload: &impl Event) -> Recorded {
            Recorded::new(
                seq,
                payload.event_type(),
                "H1",
                aggregate,
                at.parse().unwrap(),
                payload.data(),
            )
        }

        fn loop_of(db: &sled::Db, id: Uuid) -> Option<CriticalValue> {
            Tx::new(db).get_stored(&value_key(id)).unwrap()
        }

        fn open(db: &sled::Db) -> Vec<Uuid> {
            db.scan_prefix(open_prefix("H1"))
                .map(|kv| {
                    let (k, _) = kv.unwrap();
                    String::from_utf8_lossy(&k[open_prefix("H1").len()..])
                        .parse()
                        .unwrap()
                })
                .collect()
        }

        #[test]
        fn a_loop_is_open_until_handled_and_keeps_the_limits_of_its_detection() {
            let id = Uuid::from_u128(7);
            let strict = org::LimitsSet::from(Limits {
                notification_limit_minutes: 5,
                handling_limit_minutes: 10,
            });
            let db = lantern_projection::given(
                &CriticalValuesProjector,
                &[
                    event(1, Uuid::nil(), "2026-02-28T00:00:00Z", &strict),
                    event(2, id, "2026-03-01T00:00:00Z", &detection()),
                    // A second detection of the same value is not one.
                    event(3, id, "2026-03-01T00:01:00Z", &detection()),
                    event(
                        4,
                        id,
                        "2026-03-01T00:10:00Z",
                        &notification("2026-03-01T08:10:00+08:00"),
                    ),
                ],
            )
            .unwrap();
            let cv = loop_of(&db, id).unwrap();
            assert_eq!(cv.limits, strict.limits);
            assert_eq!(cv.notified, Some(notification("2026-03-01T08:10:00+08:00")));
            assert_eq!(open(&db), [id]);

            let handled = handling("2026-03-01T08:20:00+08:00");
            let db = lantern_projection::given(
                &CriticalValuesProjector,
                &[
                    event(1, id, "2026-03-01T00:00:00Z", &detection()),
                    event(
                        2,
                        id,
                        "2026-03-01T00:10:00Z",
                        &notification("2026-03-01T08:10:00+08:00"),
                    ),
                    event(3, id, "2026-03-01T00:20:00Z", &handled),
                ],
            )
            .unwrap();
            assert_eq!(loop_of(&db, id).unwrap().handled, Some(handled));
            assert!(open(&db).is_empty());
        }

        #[test]
        fn steps_of_unknown_values_and_data_that_is_not_their_type_are_ignored() {
            let id = Uuid::from_u128(7);
            let mut garbled = event(
                2,
                id,
                "2026-03-01T00:10:00Z",
                &notification("2026-03-01T08:10:00+08:00"),
            );
            garbled.envelope.data = serde_json::json!({"notified_at": "yesterday"}).into();
            let db = lantern_projection::given(
                &CriticalValuesProjector,
                &[event(
                    1,
                    id,
                    "2026-03-01T00:10:00Z",
                    &notification("2026-03-01T08:10:00+08:00"),
                )],
            )
            .unwrap();
            assert_eq!(db.scan_prefix(b"v/").count(), 0);
            let db = lantern_projection::given(
                &CriticalValuesProjector,
                &[event(1, id, "2026-03-01T00:00:00Z", &detection()), garbled],
            )
            .unwrap();
            assert_eq!(loop_of(&db, id).unwrap().notified, None);
        }
    }
}
