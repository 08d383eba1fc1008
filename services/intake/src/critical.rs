//! Critical values (危急值): the closed loop from detection to handling.
//!
//! The rules are pure functions over a [`CriticalValue`] folded from its
//! events ([`decide`], [`apply`]), tested without infrastructure; the
//! [`CriticalValuesProjector`] keeps each loop and the worklist of open ones.

use chrono::{DateTime, FixedOffset, Utc};
use lantern_ledger::{AggregateKind, Data, Recorded};
use lantern_projection::{Handle, ProjectionError, Projector, Stored, Tx};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use lantern_api::error::{ApiError, FieldError};
pub use lantern_domain::critical::{Limits, LimitsHistory, Setting, Source, limits_at, within};

/// Notification of the clinical unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Notified {
    /// When the clinical unit received it.
    pub notified_at: DateTime<FixedOffset>,
    /// How (phone, system, in person …).
    pub channel: String,
    /// Who received it (nurse, doctor …).
    pub notified_role: String,
}

/// Acknowledgement by the clinician.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledged {
    /// When.
    pub acknowledged_at: DateTime<FixedOffset>,
}

/// Handling by the clinician.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Handled {
    /// When.
    pub handled_at: DateTime<FixedOffset>,
    /// What was done.
    pub disposition: String,
}

/// A step of the loop after detection.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `critical_value.notified`.
    Notified(Notified),
    /// `critical_value.acknowledged`.
    Acknowledged(Acknowledged),
    /// `critical_value.handled`.
    Handled(Handled),
}

impl Step {
    /// The event type.
    pub fn event_type(&self) -> &'static str {
        match self {
            Step::Notified(_) => "critical_value.notified",
            Step::Acknowledged(_) => "critical_value.acknowledged",
            Step::Handled(_) => "critical_value.handled",
        }
    }

    /// The event data.
    pub fn data(&self) -> serde_json::Value {
        let v = match self {
            Step::Notified(s) => serde_json::to_value(s),
            Step::Acknowledged(s) => serde_json::to_value(s),
            Step::Handled(s) => serde_json::to_value(s),
        };
        v.unwrap_or_default()
    }

    fn at(&self) -> (DateTime<FixedOffset>, &'static str) {
        match self {
            Step::Notified(s) => (s.notified_at, "notified_at"),
            Step::Acknowledged(s) => (s.acknowledged_at, "acknowledged_at"),
            Step::Handled(s) => (s.handled_at, "handled_at"),
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

/// Why a step is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The step was already recorded (409).
    #[error("{0} was already recorded")]
    Repeated(&'static str),
    /// A step it depends on is missing (409).
    #[error("{0}")]
    OutOfOrder(&'static str),
    /// Its time is before the previous step's (422 naming the field).
    #[error("{field} is before the previous step")]
    BeforePrevious {
        /// The time field.
        field: &'static str,
    },
}

impl From<StepError> for ApiError {
    fn from(e: StepError) -> ApiError {
        match e {
            StepError::BeforePrevious { field } => {
                ApiError::Invalid(vec![FieldError::new(format!("/{field}"), e.to_string())])
            }
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

/// Whether `step` may follow the loop as it stands.
pub fn decide(cv: &CriticalValue, step: &Step) -> Result<(), StepError> {
    match step {
        Step::Notified(_) if cv.notified.is_some() => {
            return Err(StepError::Repeated("notification"));
        }
        Step::Acknowledged(_) if cv.acknowledged.is_some() => {
            return Err(StepError::Repeated("acknowledgement"));
        }
        Step::Handled(_) if cv.handled.is_some() => return Err(StepError::Repeated("handling")),
        Step::Acknowledged(_) | Step::Handled(_) if cv.notified.is_none() => {
            return Err(StepError::OutOfOrder(
                "the critical value has not been notified yet",
            ));
        }
        Step::Acknowledged(_) if cv.handled.is_some() => {
            return Err(StepError::OutOfOrder(
                "the critical value was already handled",
            ));
        }
        _ => {}
    }
    let (at, field) = step.at();
    if at < cv.last_time() {
        return Err(StepError::BeforePrevious { field });
    }
    Ok(())
}

/// The loop after `step`.
pub fn apply(cv: &mut CriticalValue, step: Step) {
    match step {
        Step::Notified(s) => cv.notified = Some(s),
        Step::Acknowledged(s) => cv.acknowledged = Some(s),
        Step::Handled(s) => cv.handled = Some(s),
    }
}

/// The step an event records, if it is one.
pub fn step_of(event_type: &str, data: &Data) -> Option<Step> {
    match event_type {
        "critical_value.notified" => data.parse().ok().map(Step::Notified),
        "critical_value.acknowledged" => data.parse().ok().map(Step::Acknowledged),
        "critical_value.handled" => data.parse().ok().map(Step::Handled),
        _ => None,
    }
}

/// `critical_value.detected` data.
#[derive(Debug, Clone, Deserialize)]
pub struct Detected {
    /// Department.
    pub department: String,
    /// Source.
    pub source: Source,
    /// Item.
    pub item: String,
    /// Value.
    pub value: String,
    /// Unit.
    pub unit: Option<String>,
    /// When.
    pub detected_at: DateTime<FixedOffset>,
    /// Setting.
    pub patient_setting: Setting,
    /// Specimen.
    pub specimen_id: Option<String>,
}

fn value_key(id: Uuid) -> Vec<u8> {
    format!("v/{id}").into_bytes()
}
fn open_prefix(hospital: &str) -> String {
    format!("o/{hospital}/")
}
/// The key of a hospital's limits history.
pub fn limits_key(hospital: &str) -> Vec<u8> {
    format!("l/{hospital}").into_bytes()
}

/// Applies `org.limits_set` to a history kept under [`limits_key`].
pub fn apply_limits(tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError> {
    let e = &event.envelope;
    if let Ok(limits) = e.data.parse::<Limits>() {
        let key = limits_key(&e.hospital);
        let mut history: LimitsHistory = tx.get_json(&key)?.unwrap_or_default();
        history.push((e.recorded_at, limits));
        tx.put_json(key, &history)?;
    }
    Ok(())
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
        match e.event_type.as_str() {
            "org.limits_set" => apply_limits(tx, event)?,
            "critical_value.detected" => {
                // Detected once (its subject is appended expecting no
                // earlier event); a second detection is not a critical value.
                if tx.get(&value_key(e.aggregate))?.is_some() {
                    return Ok(());
                }
                let Ok(d) = e.data.parse::<Detected>() else {
                    return Ok(());
                };
                let history: LimitsHistory =
                    tx.get_json(&limits_key(&e.hospital))?.unwrap_or_default();
                let cv = CriticalValue {
                    critical_value_id: e.aggregate,
                    hospital: e.hospital.clone(),
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
                    limits: limits_at(&history, d.detected_at.to_utc()),
                };
                // Critical-value ids are random: scattered over the keys.
                tx.put_scattered(value_key(e.aggregate), cv.encode());
                tx.put(
                    format!("{}{}", open_prefix(&e.hospital), e.aggregate).into_bytes(),
                    b"1".to_vec(),
                );
            }
            t if t.starts_with("critical_value.") => {
                let key = value_key(e.aggregate);
                let (Some(mut cv), Some(step)) =
                    (tx.get_stored::<CriticalValue>(&key)?, step_of(t, &e.data))
                else {
                    return Ok(());
                };
                apply(&mut cv, step);
                if cv.handled.is_some() {
                    tx.remove(format!("{}{}", open_prefix(&e.hospital), e.aggregate).into_bytes());
                }
                tx.put_scattered(key, cv.encode());
            }
            _ => {}
        }
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

    fn notified(at: &str) -> Step {
        Step::Notified(Notified {
            notified_at: t(at),
            channel: "phone".into(),
            notified_role: "nurse".into(),
        })
    }
    fn acknowledged(at: &str) -> Step {
        Step::Acknowledged(Acknowledged {
            acknowledged_at: t(at),
        })
    }
    fn handled(at: &str) -> Step {
        Step::Handled(Handled {
            handled_at: t(at),
            disposition: "calcium gluconate".into(),
        })
    }

    /// Given a loop and steps, when each is decided and applied in turn, then the outcome.
    fn given(steps: Vec<Step>) -> Result<CriticalValue, StepError> {
        let mut cv = detected();
        for s in steps {
            decide(&cv, &s)?;
            apply(&mut cv, s);
        }
        Ok(cv)
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
}
