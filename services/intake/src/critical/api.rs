//! Critical values: detection and each step of the closed loop, for the
//! hospital's LIS, HIS and safety officer; the safety officer's worklist.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, Utc};
use lantern_api::path::ValidPath;
use lantern_ledger::{AggregateKind, Expect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::critical::{
    Acknowledged, Command, CriticalValue, Handled, Notified, OpenItem, Setting, Source, StepError,
    decide,
};
use crate::state::Intake;
use lantern_api::AppendError;
use lantern_api::IdempotencyKey;
use lantern_api::auth::Principal;
use lantern_api::checks::{check_optional, check_text, check_time};
use lantern_api::command::new_event;
use lantern_api::error::{ApiError, FieldError};
use lantern_api::json::ValidJson;
use lantern_api::query::{After, ValidQuery, wait_after};
use lantern_api::responses::{Appended, CommandErrors, QueryErrors, created};
use lantern_domain::events::{Payload, critical_value};
use lantern_domain::vocab::Role;

const WRITERS: &[Role] = &[Role::Lis, Role::His, Role::SafetyOfficer];

/// A detected critical value, optionally with the later steps of a loop
/// recorded after the fact (stored all or none).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Detect {
    /// Hospital code.
    pub hospital: String,
    /// The patient's department.
    pub department: String,
    /// lab, imaging, ecg, pathology or other.
    pub source: Source,
    /// Test or finding, e.g. "血钾 K".
    pub item: String,
    /// The value, e.g. "6.9".
    pub value: String,
    /// Unit.
    pub unit: Option<String>,
    /// When detected.
    pub detected_at: DateTime<FixedOffset>,
    /// inpatient, outpatient or emergency.
    pub patient_setting: Setting,
    /// Specimen: repeat results of the same item on it count once.
    pub specimen_id: Option<String>,
    /// Notification, if already done.
    pub notified: Option<Notified>,
    /// Acknowledgement, if already done.
    pub acknowledged: Option<Acknowledged>,
    /// Handling, if already done.
    pub handled: Option<Handled>,
}

/// A recorded critical value.
#[derive(Debug, Serialize, ToSchema)]
pub struct Detected {
    /// Its id.
    pub critical_value_id: Uuid,
    /// Stream sequence of its last event.
    pub seq: u64,
}

fn principal_hospital(principal: &Principal) -> Result<String, ApiError> {
    principal.require_hospital(WRITERS).map(str::to_owned)
}

/// The aggregate of a critical value: one per (specimen, item) when a
/// specimen is given, so a repeat result on it is refused by the stream.
fn aggregate(hospital: &str, specimen: Option<&str>, item: &str) -> Uuid {
    match specimen {
        Some(s) => Uuid::new_v5(
            &Uuid::from_u128(0x6c61_6e74_6572_6e00_8000_0000_0000_0002),
            format!("{hospital}/{s}/{item}").as_bytes(),
        ),
        None => lantern_domain::ids::random(),
    }
}

/// Record a critical value (lis, his, safety officer of the hospital).
#[utoipa::path(post, path = "/api/v1/critical-values", tag = "critical_values",
    request_body = Detect,
    responses((status = 201, body = Detected), CommandErrors),
    security(("bearer" = [])))]
pub async fn detect(
    State(app): State<Intake>,
    principal: Principal,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<Detect>,
) -> Result<(StatusCode, Json<Detected>), ApiError> {
    Ok(created(app.detect(&principal, body, Some(&key)).await?))
}

/// What every way in — the API, FHIR, HL7 — does with a detected critical
/// value, so that all of them decide alike.
impl Intake {
    /// Records a detected critical value (with the loop's later steps, if
    /// given) for a principal of its hospital; `key` is the request's
    /// Idempotency-Key, if any: a retry gets the first answer.
    pub async fn detect(
        &self,
        principal: &Principal,
        body: Detect,
        key: Option<&IdempotencyKey>,
    ) -> Result<Detected, ApiError> {
        let app = self;
        let hospital = app
            .staff_hospital(principal, WRITERS, &body.hospital, &body.department)
            .await?;
        let idem = key.and_then(|k| k.scoped(&hospital.code, "POST /api/v1/critical-values"));
        if let Some(first) = app
            .replayed(idem.as_deref(), critical_value::Detected::TYPE)
            .await?
        {
            let last = app
                .ledger
                .last_of(
                    &first.envelope.hospital,
                    AggregateKind::CriticalValue,
                    first.envelope.aggregate,
                )
                .await?
                .map_or(first.seq, |r| r.seq);
            return Ok(Detected {
                critical_value_id: first.envelope.aggregate,
                seq: last,
            });
        }

        let mut errors = Vec::new();
        if !hospital.departments.contains_key(&body.department) {
            errors.push(FieldError::new(
                "/department",
                "is not a registered department of this hospital",
            ));
        }
        check_text("/item", &body.item, 200, &mut errors);
        check_text("/value", &body.value, 100, &mut errors);
        check_optional("/unit", body.unit.as_deref(), 50, &mut errors);
        if let Some(s) = &body.specimen_id {
            check_text("/specimen_id", s, 100, &mut errors);
        }
        check_time("/detected_at", &body.detected_at, &mut errors);
        if let Some(n) = &body.notified {
            check_time("/notified/notified_at", &n.notified_at, &mut errors);
            check_text("/notified/channel", &n.channel, 100, &mut errors);
            check_text(
                "/notified/notified_role",
                &n.notified_role,
                100,
                &mut errors,
            );
        }
        if let Some(a) = &body.acknowledged {
            check_time(
                "/acknowledged/acknowledged_at",
                &a.acknowledged_at,
                &mut errors,
            );
        }
        if let Some(h) = &body.handled {
            check_time("/handled/handled_at", &h.handled_at, &mut errors);
            check_text("/handled/disposition", &h.disposition, 2000, &mut errors);
        }
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }

        let id = aggregate(
            &hospital.code,
            body.specimen_id.as_deref(),
            body.item.trim(),
        );
        let item = body.item.trim().to_owned();
        let detected = critical_value::Detected {
            department: body.department,
            source: body.source,
            item: item.clone(),
            value: body.value.trim().to_owned(),
            unit: body.unit,
            detected_at: body.detected_at,
            patient_setting: body.patient_setting,
            specimen_id: body.specimen_id.clone(),
        };
        let events = decide(
            None,
            Command::Detect {
                detected,
                notified: body.notified,
                acknowledged: body.acknowledged,
                handled: body.handled,
            },
        )
        .map_err(|e| match e {
            StepError::BeforePrevious { field } => {
                ApiError::field(format!("/{field}"), "is before the previous step")
            }
            other => ApiError::from(other),
        })?;
        let events = events
            .iter()
            .map(|e| new_event(e, id, hospital.code.clone()))
            .collect();
        let stored = app
            .append_batch(events, Expect::New, idem.as_deref())
            .await
            .map_err(|e| match (e, &body.specimen_id) {
                (AppendError::Conflict(_), Some(specimen)) => ApiError::Conflict(format!(
                    "{item} on specimen {specimen} was already recorded as critical value {id}"
                )),
                (other, _) => other.into(),
            })?;
        let seq = stored.last().map_or(0, |a| a.seq);
        Ok(Detected {
            critical_value_id: id,
            seq,
        })
    }
}

/// Appends one step on the loop as it stands in the stream; a concurrent
/// step that got there first makes this one a 409.
async fn step(
    app: &Intake,
    principal: &Principal,
    id: Uuid,
    key: &IdempotencyKey,
    route: &str,
    step: Command,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    let hospital = principal_hospital(principal)?;
    let idem = key.scoped(&hospital, &format!("{route} {id}"));
    if let Some(first) = app.replayed(idem.as_deref(), step.event_type()).await? {
        return Ok(created(Appended { seq: first.seq }));
    }
    let mut errors = Vec::new();
    match &step {
        Command::Notify(n) => {
            check_time("/notified_at", &n.notified_at, &mut errors);
            check_text("/channel", &n.channel, 100, &mut errors);
            check_text("/notified_role", &n.notified_role, 100, &mut errors);
        }
        Command::Acknowledge(a) => check_time("/acknowledged_at", &a.acknowledged_at, &mut errors),
        Command::Handle(h) => {
            check_time("/handled_at", &h.handled_at, &mut errors);
            check_text("/disposition", &h.disposition, 2000, &mut errors);
        }
        Command::Detect { .. } => {
            return Err(ApiError::internal("a detection is not a step"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let last = app
        .ledger
        .last_of(&hospital, AggregateKind::CriticalValue, id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("no critical value {id} in hospital {hospital}"))
        })?;
    let handle = app.critical_values.handle();
    if !handle
        .wait_for(last.seq, std::time::Duration::from_secs(5))
        .await
    {
        return Err(ApiError::NotCaughtUp(last.seq));
    }
    let cv = app
        .critical_values
        .get(id)?
        .ok_or_else(|| ApiError::NotFound(format!("no critical value {id}")))?;
    let [event] = <[_; 1]>::try_from(decide(Some(&cv), step)?)
        .map_err(|events| ApiError::internal(format!("a step recorded {} events", events.len())))?;
    let committed = app
        .append(
            new_event(&event, id, hospital),
            Expect::LastAt(last.seq),
            idem.as_deref(),
        )
        .await
        .map_err(|e| match e {
            AppendError::Conflict(_) => ApiError::Conflict(
                "another step was recorded on this critical value at the same moment; reload it"
                    .into(),
            ),
            other => other.into(),
        })?;
    Ok(created(Appended { seq: committed.seq }))
}

/// Record that the clinical unit was notified.
#[utoipa::path(post, path = "/api/v1/critical-values/{id}/notified", tag = "critical_values",
    params(("id" = Uuid, Path, description = "Critical value id")),
    request_body = Notified, responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn notified(
    State(app): State<Intake>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<Notified>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    step(
        &app,
        &principal,
        id,
        &key,
        "notified",
        Command::Notify(body),
    )
    .await
}

/// Record the clinician's acknowledgement.
#[utoipa::path(post, path = "/api/v1/critical-values/{id}/acknowledged", tag = "critical_values",
    params(("id" = Uuid, Path, description = "Critical value id")),
    request_body = Acknowledged, responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn acknowledged(
    State(app): State<Intake>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<Acknowledged>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    step(
        &app,
        &principal,
        id,
        &key,
        "acknowledged",
        Command::Acknowledge(body),
    )
    .await
}

/// Record the handling.
#[utoipa::path(post, path = "/api/v1/critical-values/{id}/handled", tag = "critical_values",
    params(("id" = Uuid, Path, description = "Critical value id")),
    request_body = Handled, responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn handled(
    State(app): State<Intake>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<Handled>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    step(&app, &principal, id, &key, "handled", Command::Handle(body)).await
}

/// Which open loops to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenState {
    /// Every loop not yet handled.
    Open,
    /// Only those past their limit now.
    Overdue,
}

/// The worklist query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Worklist {
    /// Hospital code.
    pub hospital: String,
    /// open (default) or overdue.
    #[param(inline)]
    pub state: Option<OpenState>,
    /// Wait until this stream sequence is applied.
    pub after: Option<u64>,
}

/// The worklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorklistRows {
    /// Longest waiting first.
    pub rows: Vec<OpenItem>,
}

/// Critical values not yet notified or handled, with how long they have
/// waited and whether they are past their limit (computed now).
#[utoipa::path(get, path = "/api/v1/critical-values", tag = "critical_values",
    params(Worklist), responses((status = 200, body = WorklistRows), QueryErrors),
    security(("bearer" = [])))]
pub async fn worklist(
    State(app): State<Intake>,
    principal: Principal,
    ValidQuery(q): ValidQuery<Worklist>,
) -> Result<Json<WorklistRows>, ApiError> {
    Ok(Json(app.worklist(&principal, &q).await?))
}

impl Intake {
    /// The critical values of `q.hospital` not yet notified or handled,
    /// longest waiting first, as of now: what the endpoint and the staff
    /// web show.
    pub async fn worklist(
        &self,
        principal: &Principal,
        q: &Worklist,
    ) -> Result<WorklistRows, ApiError> {
        principal.require(WRITERS)?;
        let hospital = self
            .directory
            .hospital(&q.hospital)
            .await?
            .ok_or_else(|| ApiError::field("/hospital", "is not a registered hospital"))?;
        principal.require_in(WRITERS, &hospital)?;
        wait_after(self.critical_values.handle(), q.after).await?;
        let mut rows = self.critical_values.open(&hospital.code, Utc::now())?;
        if q.state == Some(OpenState::Overdue) {
            rows.retain(|r| r.overdue);
        }
        Ok(WorklistRows { rows })
    }
}

/// One critical value and its loop.
#[utoipa::path(get, path = "/api/v1/critical-values/{id}", tag = "critical_values",
    params(("id" = Uuid, Path, description = "Critical value id"), After),
    responses((status = 200, body = CriticalValue), QueryErrors),
    security(("bearer" = [])))]
pub async fn get_one(
    State(app): State<Intake>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    ValidQuery(q): ValidQuery<After>,
) -> Result<Json<CriticalValue>, ApiError> {
    let hospital = principal_hospital(&principal)?;
    wait_after(app.critical_values.handle(), q.after).await?;
    app.critical_values
        .get(id)?
        .filter(|cv| cv.hospital == hospital)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no critical value {id} in hospital {hospital}")))
}
