//! The critical-value loop's rules: commands, `decide` and `apply`.
//!
//! Shaped like every context: the events are the domain's typed
//! `critical_value.*` payloads ([`CriticalValueEvent`]); [`decide`] is pure,
//! `(state, command) → events`, and [`apply`] folds an event into the loop;
//! both are tested given/when/then without infrastructure. The
//! [`CriticalValuesProjector`] keeps each loop and the worklist of open ones.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use lantern_api::error::{ApiError, FieldError};
pub use lantern_domain::critical::{Limits, LimitsHistory, Setting, Source, limits_at, within};
pub use lantern_domain::events::CriticalValueEvent;
use lantern_domain::events::Payload;
pub use lantern_domain::events::critical_value::{Acknowledged, Detected, Handled, Notified};

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
