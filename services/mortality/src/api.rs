//! Deaths: recorded and reviewed by the hospital's safety officer; read by
//! the safety officer and the QC centre of the region.

use axum::Json;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use lantern_api::auth::{Auth, Principal};
use lantern_api::checks::{check_text, check_time};
use lantern_api::command::new_event;
use lantern_api::json::ValidJson;
use lantern_api::path::ValidPath;
use lantern_api::query::{After, ValidQuery, wait_after};
use lantern_api::responses::{Appended, CommandErrors, QueryErrors, created};
use lantern_api::{ApiError, FieldError};
use lantern_api::{AppendError, IdempotencyKey, Kernel};
use lantern_directory::HospitalRecord;
use lantern_domain::Month;
use lantern_domain::events::Payload;
use lantern_domain::vocab::{AgeBand, Role};
use lantern_ledger::{AggregateKind, Expect};
use lantern_projection::{Handle, ProjectionError, Tx};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::death::{
    AutopsyReported, Command, Death, DeathError, DeathEvent, Defect, Phase, Preventability,
    Recorded, ReviewHeld, ReviewLevel, RuleState, State as TrailState, decide,
};
use crate::projector::{ReportedDeath, death_key, month_prefix, reported_prefix};

/// State of the mortality API.
#[derive(Clone)]
pub struct Mortality {
    /// The HTTP kernel (ledger, directory, command path).
    pub kernel: Kernel,
    /// The mortality read model.
    pub handle: Handle,
    /// The root-cause analyses a review may link.
    pub rca: lantern_rca::Cases,
}

pub use lantern_rca::views::{RcaActionLink, RcaLink};

impl Mortality {
    /// A linked analysis as it stands on `today`; `None` if it does not exist.
    pub fn rca_link(&self, id: Uuid, today: NaiveDate) -> Option<RcaLink> {
        self.rca.link(id, today)
    }
}

impl FromRef<Mortality> for Auth {
    fn from_ref(m: &Mortality) -> Auth {
        m.kernel.auth.clone()
    }
}

impl From<DeathError> for ApiError {
    fn from(e: DeathError) -> ApiError {
        match e {
            DeathError::BeforeDeath(pointer) => ApiError::field(pointer, e.to_string()),
            DeathError::Unknown => ApiError::NotFound(e.to_string()),
            other => ApiError::Conflict(other.to_string()),
        }
    }
}

/// The routes of the mortality API.
pub fn router(m: Mortality) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(record_death, list_deaths))
        .routes(routes!(list_reported))
        .routes(routes!(get_death))
        .routes(routes!(add_review))
        .routes(routes!(add_autopsy))
        .routes(routes!(close_death))
        .with_state(m)
}

/// Today in a time zone.
pub fn today(timezone: &str) -> NaiveDate {
    Utc::now()
        .with_timezone(&lantern_domain::zone::zone(Some(timezone)))
        .date_naive()
}

impl Mortality {
    /// A death by id.
    pub fn death(&self, id: Uuid) -> Result<Option<Death>, ApiError> {
        Ok(Tx::new(self.handle.db()).get_json(&death_key(id))?)
    }

    /// A hospital's deaths the HIS reported and nobody recorded yet.
    pub fn reported_deaths(&self, hospital: &str) -> Result<Vec<ReportedDeath>, ApiError> {
        let tx = Tx::new(self.handle.db());
        let mut out = Vec::new();
        for item in self
            .handle
            .db()
            .scan_prefix(reported_prefix(hospital).as_bytes())
        {
            let (k, _) = item.map_err(ProjectionError::from)?;
            if let Some(r) = tx.get_json::<ReportedDeath>(&k)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// A hospital's deaths of a month (by date of death), or of every month.
    pub fn deaths(&self, hospital: &str, month: Option<&str>) -> Result<Vec<Death>, ApiError> {
        let prefix = month_prefix(hospital, month);
        let tx = Tx::new(self.handle.db());
        let mut out = Vec::new();
        for item in self.handle.db().scan_prefix(prefix.as_bytes()) {
            let (k, _) = item.map_err(ProjectionError::from)?;
            let id = String::from_utf8_lossy(&k)
                .rsplit('/')
                .next()
                .and_then(|s| s.parse::<Uuid>().ok());
            if let Some(id) = id
                && let Some(d) = tx.get_json::<Death>(&death_key(id))?
            {
                out.push(d);
            }
        }
        out.sort_by_key(|d| (d.recorded.died_at, d.death_id));
        Ok(out)
    }
}

/// Records a death.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDeath {
    /// Hospital code.
    pub hospital: String,
    /// Department code.
    pub department: String,
    /// Admitted.
    pub admitted_at: DateTime<FixedOffset>,
    /// Died (not before admission, not in the future).
    pub died_at: DateTime<FixedOffset>,
    /// Age band: 0-28d, 29d-11m, 1-4, 5-9, then ten-year bands to 90+.
    pub age_band: AgeBand,
    /// Principal diagnosis, ICD-10 (e.g. I21.9).
    pub diagnosis_icd10: String,
    /// In the low-risk group (低风险组).
    pub low_risk: bool,
    /// Autopsy planned.
    pub autopsy: bool,
    /// The death the hospital information system reported that this
    /// record completes (`GET /api/v1/deaths/reported`): the record keeps
    /// its id.
    #[serde(default)]
    pub reported: Option<Uuid>,
}

/// A recorded death.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeathRecorded {
    /// Its id.
    pub death_id: Uuid,
    /// Stream sequence.
    pub seq: u64,
}

fn icd10_ok(code: &str) -> bool {
    let b = code.as_bytes();
    let head =
        b.len() >= 3 && b[0].is_ascii_uppercase() && b[1].is_ascii_digit() && b[2].is_ascii_digit();
    let tail = match &code[3.min(code.len())..] {
        "" => true,
        rest => {
            rest.len() >= 2
                && rest.len() <= 5
                && rest.starts_with('.')
                && rest[1..]
                    .bytes()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        }
    };
    head && tail
}

/// Record a death (safety officer of the hospital).
#[utoipa::path(post, path = "/api/v1/deaths", tag = "deaths",
    request_body = RecordDeath,
    responses((status = 201, body = DeathRecorded), CommandErrors),
    security(("bearer" = [])))]
pub async fn record_death(
    State(m): State<Mortality>,
    principal: Principal,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<RecordDeath>,
) -> Result<(StatusCode, Json<DeathRecorded>), ApiError> {
    Ok(created(m.record(&principal, body, Some(&key)).await?))
}

/// What the endpoints of this module do, for them and the staff web alike.
/// `key` is the request's Idempotency-Key, if it came with one.
impl Mortality {
    /// Records a death (safety officer or HIS of the hospital).
    pub async fn record(
        &self,
        principal: &Principal,
        body: RecordDeath,
        key: Option<&IdempotencyKey>,
    ) -> Result<DeathRecorded, ApiError> {
        let app = &self.kernel;
        let hospital = app
            .staff_hospital(
                principal,
                // The hospital information system records deaths as it records
                // discharges (docs/decisions.md); the safety officer completes them.
                &[Role::SafetyOfficer, Role::His],
                &body.hospital,
                &body.department,
            )
            .await?;
        let idem = key.and_then(|k| k.scoped(&hospital.code, "POST /api/v1/deaths"));
        if let Some(first) = app.replayed(idem.as_deref(), Recorded::TYPE).await? {
            return Ok(DeathRecorded {
                death_id: first.envelope.aggregate,
                seq: first.seq,
            });
        }
        let mut errors = Vec::new();
        if !hospital.departments.contains_key(&body.department) {
            errors.push(FieldError::new(
                "/department",
                "is not a registered department of this hospital",
            ));
        }
        if let Some(why) = body.age_band.refusal() {
            errors.push(FieldError::new("/age_band", why));
        }
        check_time("/admitted_at", &body.admitted_at, &mut errors);
        check_time("/died_at", &body.died_at, &mut errors);
        if body.died_at < body.admitted_at {
            errors.push(FieldError::new("/died_at", "is before admission"));
        }
        if !icd10_ok(&body.diagnosis_icd10) {
            errors.push(FieldError::new(
                "/diagnosis_icd10",
                "is not an ICD-10 code such as I21.9",
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
        let recorded = Recorded {
            department: body.department,
            admitted_at: body.admitted_at,
            died_at: body.died_at,
            age_band: body.age_band,
            diagnosis_icd10: body.diagnosis_icd10,
            low_risk: body.low_risk,
            autopsy: body.autopsy,
        };
        // A death the HIS reported is completed on its own aggregate,
        // expecting nothing after the report: recorded once.
        let (id, expect) = match body.reported {
            Some(id) => {
                let reported = self
                    .reported_deaths(&hospital.code)?
                    .into_iter()
                    .find(|r| r.death_id == id)
                    .ok_or_else(|| {
                        ApiError::field(
                            "/reported",
                            "is not a death reported for this hospital and not yet recorded",
                        )
                    })?;
                (id, Expect::LastAt(reported.seq))
            }
            None => (lantern_domain::ids::random(), Expect::New),
        };
        let event = single(decide(None, Command::Record(recorded))?)?;
        let event = new_event(&event, id, hospital.code);
        let committed = app
            .append(event, expect, idem.as_deref())
            .await
            .map_err(|e| match e {
                AppendError::Conflict(_) => {
                    ApiError::Conflict(format!("death {id} was recorded at the same moment"))
                }
                other => other.into(),
            })?;
        Ok(DeathRecorded {
            death_id: committed.envelope.aggregate,
            seq: committed.seq,
        })
    }

    /// Records a death-case review of death `id`.
    pub async fn review(
        &self,
        principal: &Principal,
        id: Uuid,
        body: ReviewHeld,
        key: Option<&IdempotencyKey>,
    ) -> Result<Appended, ApiError> {
        let mut errors = Vec::new();
        check_time("/held_at", &body.held_at, &mut errors);
        if body.attendee_roles.is_empty() {
            errors.push(FieldError::new(
                "/attendee_roles",
                "must name at least one role",
            ));
        }
        for (i, r) in body.attendee_roles.iter().enumerate() {
            check_text(&format!("/attendee_roles/{i}"), r, 100, &mut errors);
        }
        for (i, d) in body.defects.iter().enumerate() {
            check_text(&format!("/defects/{i}/text"), &d.text, 2000, &mut errors);
        }
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
        let mut review = body;
        for d in &mut review.defects {
            d.text = self.kernel.scrub(d.text.trim());
        }
        step(self, principal, id, key, Command::Review(review)).await
    }

    /// Records the autopsy report of death `id`.
    pub async fn autopsy(
        &self,
        principal: &Principal,
        id: Uuid,
        body: AutopsyReported,
        key: Option<&IdempotencyKey>,
    ) -> Result<Appended, ApiError> {
        let mut errors = Vec::new();
        check_time("/reported_at", &body.reported_at, &mut errors);
        check_text("/findings", &body.findings, 4000, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
        let findings = self.kernel.scrub(body.findings.trim());
        step(
            self,
            principal,
            id,
            key,
            Command::Autopsy(AutopsyReported { findings, ..body }),
        )
        .await
    }

    /// Closes the trail of death `id`: 409 while a rule has no qualifying review.
    pub async fn close(
        &self,
        principal: &Principal,
        id: Uuid,
        key: Option<&IdempotencyKey>,
    ) -> Result<Appended, ApiError> {
        step(self, principal, id, key, Command::Close).await
    }
}

/// Every command records exactly one event: one append, one idempotency
/// key, one sequence to answer with.
fn single(events: Vec<DeathEvent>) -> Result<DeathEvent, ApiError> {
    let [event] = <[DeathEvent; 1]>::try_from(events).map_err(|events| {
        ApiError::internal(format!(
            "a step must record one event, not {}",
            events.len()
        ))
    })?;
    Ok(event)
}

/// Decides and appends a step on the death as it stands in the stream.
async fn step(
    m: &Mortality,
    principal: &Principal,
    id: Uuid,
    key: Option<&IdempotencyKey>,
    command: Command,
) -> Result<Appended, ApiError> {
    // A QC centre records its own review of a death of its region (DESIGN:
    // `level: qc_centre`); every other step is the hospital's.
    let roles: &[Role] = match &command {
        Command::Review(r) if r.level == ReviewLevel::QcCentre => {
            &[Role::SafetyOfficer, Role::QcCentre]
        }
        _ => &[Role::SafetyOfficer],
    };
    principal.require(roles)?;
    // A QC centre's review is written under the scope it addresses to the
    // hospital (`<region>~<hospital>`), which only its hub writes and the
    // hospital's Lantern sources; every other step under the hospital's.
    let (hospital, scope) = match principal.role() {
        Role::QcCentre => {
            let death = m
                .death(id)?
                .ok_or_else(|| ApiError::NotFound(format!("no death {id}")))?;
            let record = m
                .kernel
                .directory
                .hospital(&death.hospital)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("no death {id}")))?;
            principal.require_in(roles, &record)?;
            let region = principal.require_qc_region()?;
            let scope = lantern_ledger::addressed(region, &record.code);
            (record.code, scope)
        }
        _ => {
            let hospital = principal.require_hospital(roles)?.to_owned();
            (hospital.clone(), hospital)
        }
    };
    let event_type = command.event_type();
    let idem = key.and_then(|k| k.scoped(&hospital, &format!("{event_type} {id}")));
    if let Some(first) = m.kernel.replayed(idem.as_deref(), event_type).await? {
        return Ok(Appended { seq: first.seq });
    }
    // Decided on the trail as it stands under both scopes; expected on this
    // side's subject only (the other's is written at another site: see
    // docs/decisions.md, issue 27 item 6).
    let own = m
        .kernel
        .ledger
        .last_of(&scope, AggregateKind::Death, id)
        .await?;
    let last = m
        .kernel
        .ledger
        .last_of_aggregate(AggregateKind::Death, id)
        .await?
        .filter(|l| lantern_ledger::hospital_of(&l.envelope.hospital) == hospital)
        .ok_or_else(|| ApiError::NotFound(format!("no death {id} in hospital {hospital}")))?;
    if !m
        .handle
        .wait_for(last.seq, std::time::Duration::from_secs(5))
        .await
    {
        return Err(ApiError::NotCaughtUp(last.seq));
    }
    let death = m
        .death(id)?
        .ok_or_else(|| ApiError::NotFound(format!("no death {id}")))?;
    let event = single(decide(Some(&death), command)?)?;
    if let DeathEvent::ReviewHeld(review) = &event {
        check_rca_of(m, &hospital, review.rca_id).await?;
    }
    let committed = m
        .kernel
        .append(
            new_event(&event, id, scope),
            own.map_or(Expect::New, |o| Expect::LastAt(o.seq)),
            idem.as_deref(),
        )
        .await
        .map_err(|e| match e {
            AppendError::Conflict(_) => {
                ApiError::Conflict("this death's trail changed meanwhile; reload it".into())
            }
            other => other.into(),
        })?;
    Ok(Appended { seq: committed.seq })
}

/// A review may link only an analysis of the death's own hospital: the
/// trail shows the analysis's root causes and actions to whoever reads the
/// death, so another hospital's (or region's) case would cross a scope.
async fn check_rca_of(m: &Mortality, hospital: &str, rca_id: Option<Uuid>) -> Result<(), ApiError> {
    let Some(id) = rca_id else {
        return Ok(());
    };
    // Fresh: an analysis opened a moment ago is found.
    match m.rca.record_fresh(id).await.map_err(ApiError::from)? {
        Some(case) if case.hospital == hospital => Ok(()),
        _ => Err(ApiError::field(
            "/rca_id",
            "is not a root-cause analysis of this death's hospital",
        )),
    }
}

/// Record a death-case review (死亡病例讨论).
#[utoipa::path(post, path = "/api/v1/deaths/{id}/reviews", tag = "deaths",
    params(("id" = Uuid, Path, description = "Death id")),
    request_body = ReviewHeld, responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn add_review(
    State(m): State<Mortality>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<ReviewHeld>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    Ok(created(m.review(&principal, id, body, Some(&key)).await?))
}

/// Record the autopsy report.
#[utoipa::path(post, path = "/api/v1/deaths/{id}/autopsy", tag = "deaths",
    params(("id" = Uuid, Path, description = "Death id")),
    request_body = AutopsyReported, responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn add_autopsy(
    State(m): State<Mortality>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<AutopsyReported>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    Ok(created(m.autopsy(&principal, id, body, Some(&key)).await?))
}

/// Closing a trail takes no fields.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Close {}

/// Close the trail: 409 while a rule has no qualifying review.
#[utoipa::path(post, path = "/api/v1/deaths/{id}/close", tag = "deaths",
    params(("id" = Uuid, Path, description = "Death id")),
    request_body = Close, responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn close_death(
    State(m): State<Mortality>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<serde_json::Map<String, serde_json::Value>>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    // An object with no fields: serde would also take `[]` for an empty struct.
    if let Some(name) = body.keys().next() {
        return Err(ApiError::field(format!("/{name}"), "is not a known field"));
    }
    Ok(created(m.close(&principal, id, Some(&key)).await?))
}

/// The recorded death as the trail shows it.
#[derive(Serialize)]
struct RecordedView {
    admitted_at: DateTime<FixedOffset>,
    age_band: AgeBand,
}

/// A review as the trail shows it: the defects' text only to those who
/// read narratives (a QC centre sees the phases).
#[derive(Serialize)]
struct ReviewView<'a> {
    level: ReviewLevel,
    attendee_roles: &'a [String],
    preventability: Preventability,
    defects: Vec<DefectView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rca_id: Option<Uuid>,
}

/// A defect of a review, its text for narrative readers only.
#[derive(Serialize)]
struct DefectView<'a> {
    phase: Phase,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
}

/// The autopsy's findings, for narrative readers only.
#[derive(Serialize)]
struct AutopsyView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    findings: Option<&'a str>,
}

/// The close carries nothing but its time.
#[derive(Serialize)]
struct ClosedView {}

/// A view as a step's `detail`.
fn detail<T: Serialize>(view: &T) -> serde_json::Value {
    // Serialising these plain structs of strings, times and codes cannot fail.
    serde_json::to_value(view).unwrap_or_default()
}

/// One step of a trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrailStep {
    /// `recorded`, `review`, `autopsy_reported` or `closed`.
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// When.
    pub at: DateTime<FixedOffset>,
    /// Calendar days after the death (hospital time zone).
    pub days_after_death: i64,
    /// The step's own fields.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// A death's trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct Trail {
    /// Id.
    pub death_id: Uuid,
    /// Hospital.
    pub hospital: String,
    /// Department.
    pub department: String,
    /// Died.
    pub died_at: DateTime<FixedOffset>,
    /// Low-risk group.
    pub low_risk: bool,
    /// Autopsied.
    pub autopsy: bool,
    /// ICD-10.
    pub diagnosis_icd10: String,
    /// open, overdue or closed.
    pub state: TrailState,
    /// The latest review's preventability.
    pub preventability: Option<Preventability>,
    /// Every step in time order.
    pub steps: Vec<TrailStep>,
    /// Each rule with its due date.
    pub rules: Vec<RuleState>,
    /// Root-cause analyses linked by its reviews, with their root causes and actions.
    pub rca: Vec<RcaLink>,
}

/// The trail of a death as of `today`; free text left out for a QC centre;
/// `rca` looks a linked analysis up.
pub fn trail(
    d: &Death,
    today: NaiveDate,
    with_text: bool,
    rca: &dyn Fn(Uuid, NaiveDate) -> Option<RcaLink>,
) -> Trail {
    let r = &d.recorded;
    // Typed views, so that what the redaction leaves out is decided field
    // by field at compile time, not by removing keys from untyped JSON (a
    // renamed field would slip past that).
    let mut steps = vec![TrailStep {
        type_: "recorded",
        at: r.died_at,
        days_after_death: 0,
        detail: detail(&RecordedView {
            admitted_at: r.admitted_at,
            age_band: r.age_band,
        }),
    }];
    for review in &d.reviews {
        let ReviewHeld {
            held_at,
            level,
            attendee_roles,
            preventability,
            defects,
            rca_id,
        } = review;
        steps.push(TrailStep {
            type_: "review",
            at: *held_at,
            days_after_death: d.days_after_death(*held_at),
            detail: detail(&ReviewView {
                level: *level,
                attendee_roles,
                preventability: *preventability,
                defects: defects
                    .iter()
                    .map(|Defect { phase, text }| DefectView {
                        phase: *phase,
                        text: with_text.then_some(text.as_str()),
                    })
                    .collect(),
                rca_id: *rca_id,
            }),
        });
    }
    if let Some(a) = &d.autopsy_report {
        steps.push(TrailStep {
            type_: "autopsy_reported",
            at: a.reported_at,
            days_after_death: d.days_after_death(a.reported_at),
            detail: detail(&AutopsyView {
                findings: with_text.then_some(a.findings.as_str()),
            }),
        });
    }
    if let Some(at) = d.closed_at {
        let at = at.fixed_offset();
        steps.push(TrailStep {
            type_: "closed",
            at,
            days_after_death: d.days_after_death(at),
            detail: detail(&ClosedView {}),
        });
    }
    steps.sort_by_key(|s| s.at);
    let mut ids: Vec<Uuid> = d.reviews.iter().filter_map(|r| r.rca_id).collect();
    ids.dedup();
    let rca = ids.into_iter().filter_map(|id| rca(id, today)).collect();
    Trail {
        death_id: d.death_id,
        hospital: d.hospital.clone(),
        department: r.department.clone(),
        died_at: r.died_at,
        low_risk: r.low_risk,
        autopsy: r.autopsy,
        diagnosis_icd10: r.diagnosis_icd10.clone(),
        state: d.state(today),
        preventability: d.preventability(),
        steps,
        rules: d.rules(today),
        rca,
    }
}

/// The hospital, if the principal may read it.
pub async fn readable(
    m: &Mortality,
    principal: &Principal,
    code: &str,
) -> Result<HospitalRecord, ApiError> {
    principal.require(&[Role::SafetyOfficer, Role::QcCentre])?;
    let h = m
        .kernel
        .directory
        .hospital(code)
        .await?
        .ok_or_else(|| ApiError::field("/hospital", "is not a registered hospital"))?;
    principal.require_in(&[Role::SafetyOfficer, Role::QcCentre], &h)?;
    Ok(h)
}

/// A death's trail: every step, the rules with their due dates, the linked analyses.
#[utoipa::path(get, path = "/api/v1/deaths/{id}", tag = "deaths",
    params(("id" = Uuid, Path, description = "Death id"), After),
    responses((status = 200, body = Trail), QueryErrors),
    security(("bearer" = [])))]
pub async fn get_death(
    State(m): State<Mortality>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    ValidQuery(q): ValidQuery<After>,
) -> Result<Json<Trail>, ApiError> {
    Ok(Json(m.trail(&principal, id, q.after).await?))
}

/// Whose reported deaths to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListReported {
    /// Hospital code.
    pub hospital: String,
    /// Wait until this stream sequence is applied.
    pub after: Option<u64>,
}

/// Deaths reported and not recorded yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportedDeaths {
    /// In order of death.
    pub rows: Vec<ReportedDeath>,
}

/// The deaths the hospital information system reported (HL7 ADT^A03)
/// that the safety officer has not completed as records yet (safety
/// officer and HIS of the hospital): complete one with `POST
/// /api/v1/deaths` naming it in `reported`.
#[utoipa::path(get, path = "/api/v1/deaths/reported", tag = "deaths",
    params(ListReported), responses((status = 200, body = ReportedDeaths), QueryErrors),
    security(("bearer" = [])))]
pub async fn list_reported(
    State(m): State<Mortality>,
    principal: Principal,
    ValidQuery(q): ValidQuery<ListReported>,
) -> Result<Json<ReportedDeaths>, ApiError> {
    const READERS: &[Role] = &[Role::SafetyOfficer, Role::His];
    principal.require(READERS)?;
    let h = m
        .kernel
        .directory
        .hospital(&q.hospital)
        .await?
        .ok_or_else(|| ApiError::field("/hospital", "is not a registered hospital"))?;
    principal.require_in(READERS, &h)?;
    wait_after(&m.handle, q.after).await?;
    let mut rows = m.reported_deaths(&h.code)?;
    rows.sort_by_key(|r| (r.reported.died_at, r.death_id));
    Ok(Json(ReportedDeaths { rows }))
}

/// Which deaths to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListDeaths {
    /// Hospital code.
    pub hospital: String,
    /// Month of death, `YYYY-MM`.
    #[param(value_type = Option<String>)]
    pub month: Option<Month>,
    /// open, overdue or closed.
    #[param(inline)]
    pub state: Option<TrailState>,
    /// Wait until this stream sequence is applied.
    pub after: Option<u64>,
}

/// Trails.
#[derive(Debug, Serialize, ToSchema)]
pub struct Trails {
    /// In order of death.
    pub rows: Vec<Trail>,
}

/// A hospital's deaths, by month and state: the safety officer's worklist.
#[utoipa::path(get, path = "/api/v1/deaths", tag = "deaths",
    params(ListDeaths), responses((status = 200, body = Trails), QueryErrors),
    security(("bearer" = [])))]
pub async fn list_deaths(
    State(m): State<Mortality>,
    principal: Principal,
    ValidQuery(q): ValidQuery<ListDeaths>,
) -> Result<Json<Trails>, ApiError> {
    Ok(Json(m.list(&principal, &q).await?))
}

/// What the read endpoints answer, for them and the staff web alike.
impl Mortality {
    /// The trail of death `id` once the read model has reached `after`:
    /// 404 for a death the principal may not read, as for none.
    pub async fn trail(
        &self,
        principal: &Principal,
        id: Uuid,
        after: Option<u64>,
    ) -> Result<Trail, ApiError> {
        principal.require(&[Role::SafetyOfficer, Role::QcCentre])?;
        wait_after(&self.handle, after).await?;
        let not_found = || ApiError::NotFound(format!("no death {id}"));
        let d = self.death(id)?.ok_or_else(not_found)?;
        let h = self
            .kernel
            .directory
            .hospital(&d.hospital)
            .await?
            .ok_or_else(not_found)?;
        if !principal.can_read(&h) {
            return Err(not_found());
        }
        Ok(trail(
            &d,
            today(&d.timezone),
            principal.reads_narratives(),
            &|id, day| self.rca_link(id, day),
        ))
    }

    /// A hospital's trails by month of death and state: the safety
    /// officer's worklist.
    pub async fn list(&self, principal: &Principal, q: &ListDeaths) -> Result<Trails, ApiError> {
        let h = readable(self, principal, &q.hospital).await?;
        wait_after(&self.handle, q.after).await?;
        let today = today(&h.timezone);
        let month = q.month.map(|m| m.to_string());
        let rows = self
            .deaths(&h.code, month.as_deref())?
            .iter()
            .map(|d| {
                trail(d, today, principal.reads_narratives(), &|id, day| {
                    self.rca_link(id, day)
                })
            })
            .filter(|t| q.state.is_none_or(|s| s == t.state))
            .collect();
        Ok(Trails { rows })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn icd10_codes() {
        for ok in ["I21", "I21.9", "J18.0", "C34.90", "U07.1", "O80.X"] {
            assert!(super::icd10_ok(ok), "{ok}");
        }
        for bad in ["", "i21", "I2", "121.9", "I21.", "I21.123456", "I21-9"] {
            assert!(!super::icd10_ok(bad), "{bad}");
        }
    }
}
