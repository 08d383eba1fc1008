//! Opening a case and adding its steps (safety officer of the hospital).
//!
//! Each handler: who may (401/403), which case (404), a retry under the
//! same `Idempotency-Key` answered with the first response, the fields
//! (422, each named), then the decision and the append (409 when the case
//! refuses). Free text is trimmed and scrubbed before it is appended.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use lantern_api::auth::Principal;
use lantern_api::checks::{check_text, check_time};
use lantern_api::json::ValidJson;
use lantern_api::path::ValidPath;
use lantern_api::responses::{Appended, CommandErrors, created};
use lantern_api::{ApiError, FieldError};
use lantern_api::{Committed, IdempotencyKey};
use lantern_domain::zone::zone;
use lantern_ledger::Envelope;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{WRITERS, case_for, case_id, hospital};
use crate::decide::{Command, ReportRef};
use crate::service::Rca;
use crate::views::{ActionNumbered, FactorNumbered, Opened};
use crate::vocab::{Day, Fishbone, Strength};

/// Opens a root-cause analysis.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRca {
    /// Hospital code.
    pub hospital: String,
    /// Reports of that hospital analysed together (1–100).
    pub report_ids: Vec<Uuid>,
    /// Short title (1–200 characters).
    pub title: String,
    /// Roles of the team, never names (1–50, each 1–100 characters).
    pub team_roles: Vec<String>,
    /// Due date `YYYY-MM-DD`; default 45 days after today (hospital time zone). May lie in the past.
    #[schema(value_type = Option<String>, format = Date)]
    pub due: Option<Day>,
}

/// A timeline entry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddTimeline {
    /// When it happened (RFC 3339 with offset; not in the future).
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<FixedOffset>,
    /// What happened (1–4000 characters).
    pub text: String,
}

/// A causal factor on the fishbone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddFactor {
    /// people 人, equipment 机, materials 料, methods 法, environment 环, measurement 测, management 管理.
    pub category: Fishbone,
    /// The causal statement (1–2000 characters).
    pub statement: String,
    /// The why-chain it came from, in order (at most 20).
    pub whys: Option<Vec<String>>,
}

/// Factors confirmed as root causes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRootCauses {
    /// Factor numbers of this case, each once.
    pub factors: Vec<u32>,
}

/// An improvement action.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanAction {
    /// What will be done (1–2000 characters).
    pub what: String,
    /// The role responsible, never a name (1–100 characters).
    pub owner_role: String,
    /// Due date `YYYY-MM-DD` (hospital time zone); may lie in the past.
    #[schema(value_type = String, format = Date)]
    pub due: Day,
    /// RCA² action hierarchy strength.
    pub strength: Strength,
    /// How its effect will be measured (1–2000 characters).
    pub measure: String,
}

/// An action's completion.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteAction {
    /// When it was completed (RFC 3339 with offset; not in the future).
    #[schema(value_type = String, format = DateTime)]
    pub completed_at: DateTime<FixedOffset>,
    /// Evidence of completion (1–2000 characters).
    pub evidence: String,
    /// Measured effect (1–2000 characters).
    pub effect: Option<String>,
}

/// Closing the case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRca {
    /// Lessons learned (1–4000 characters); the reporters read them through their receipts.
    pub lessons: String,
    /// Why there is no root cause or no action (1–2000 characters); excuses both.
    pub reason_no_action: Option<String>,
}

/// 422 for a date before 2000 (the same floor as times).
fn check_day(pointer: &str, day: Day, errors: &mut Vec<FieldError>) {
    if day.0 < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN) {
        errors.push(FieldError::new(pointer, "is before 2000-01-01"));
    }
}

/// Optional free text: when given, 1..=max characters.
fn check_some(pointer: &str, text: Option<&str>, max: usize, errors: &mut Vec<FieldError>) {
    if let Some(t) = text {
        check_text(pointer, t, max, errors);
    }
}

fn invalid_unless_empty(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// The number (`factor`, `action`) a stored event assigned.
fn number(envelope: &Envelope, field: &str) -> Result<u32, ApiError> {
    envelope
        .data
        .to_value()
        .get(field)
        .and_then(|v| v.as_u64())
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| ApiError::internal(format!("{} without {field}", envelope.event_type)))
}

/// Trimmed and scrubbed.
fn clean(rca: &Rca, text: &str) -> String {
    rca.kernel.scrub(text.trim())
}

fn clean_opt(rca: &Rca, text: Option<&str>) -> Option<String> {
    text.map(|t| clean(rca, t))
}

/// Open a root-cause analysis of reports of one hospital (safety officer).
#[utoipa::path(post, path = "/api/v1/rca", tag = "rca",
    request_body = OpenRca,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response and append nothing")),
    responses((status = 201, body = Opened), CommandErrors),
    security(("bearer" = [])))]
pub async fn open_rca(
    State(rca): State<Rca>,
    principal: Principal,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<OpenRca>,
) -> Result<(StatusCode, Json<Opened>), ApiError> {
    Ok(created(rca.open_rca(&principal, body, Some(&key)).await?))
}

/// What a safety officer does to a case file: the endpoints of this module
/// and the staff web call these, so both decide alike. `key` is the
/// request's Idempotency-Key, if it came with one.
impl Rca {
    /// Opens a root-cause analysis of reports of one hospital.
    pub async fn open_rca(
        &self,
        principal: &Principal,
        body: OpenRca,
        key: Option<&IdempotencyKey>,
    ) -> Result<Opened, ApiError> {
        principal.require(WRITERS)?;
        let hospital = hospital(self, &body.hospital, "/hospital").await?;
        principal.require_in(WRITERS, &hospital)?;
        let idem = key.and_then(|k| k.scoped(&hospital.code, "POST /api/v1/rca"));
        if let Some(first) = self.kernel.replayed(idem.as_deref(), "rca.opened").await? {
            return Ok(Opened {
                rca_id: first.envelope.aggregate,
                seq: first.seq,
            });
        }
        let mut errors = Vec::new();
        check_text("/title", &body.title, 200, &mut errors);
        for (i, role) in body.team_roles.iter().enumerate() {
            check_text(&format!("/team_roles/{i}"), role, 100, &mut errors);
        }
        if let Some(due) = body.due {
            check_day("/due", due, &mut errors);
        }
        invalid_unless_empty(errors)?;

        let mut reports = Vec::with_capacity(body.report_ids.len());
        for id in body.report_ids.iter().take(crate::decide::MAX_REPORTS + 1) {
            reports.push(ReportRef {
                report_id: *id,
                hospital: self.reports.record(*id).await?.map(|r| r.hospital),
            });
        }
        let today = Utc::now()
            .with_timezone(&zone(Some(&hospital.timezone)))
            .date_naive();
        let command = Command::Open {
            hospital: hospital.code.clone(),
            reports,
            title: clean(self, &body.title),
            team_roles: body.team_roles.iter().map(|r| clean(self, r)).collect(),
            due: body.due.map(|d| d.0),
            today,
        };
        let committed = self.open(&hospital.code, command, idem.as_deref()).await?;
        Ok(Opened {
            rca_id: committed.envelope.aggregate,
            seq: committed.seq,
        })
    }
}

/// The parts every step handler shares: the case (404/403), the scoped key,
/// and a replay of a retried request.
struct Step {
    hospital: String,
    id: Uuid,
    idem: Option<String>,
}

async fn prepare(
    rca: &Rca,
    principal: &Principal,
    id: Uuid,
    key: Option<&IdempotencyKey>,
    route: &str,
) -> Result<Step, ApiError> {
    let (record, hospital) = case_for(rca, principal, WRITERS, id).await?;
    let idem =
        key.and_then(|k| k.scoped(&hospital.code, &format!("POST /api/v1/rca/{id}/{route}")));
    if idem.is_some() {
        rca.settle(&record.hospital, id).await?;
    }
    Ok(Step {
        idem,
        hospital: record.hospital,
        id,
    })
}

impl Step {
    /// The first response's event, when this is a retry.
    async fn replayed(&self, rca: &Rca, event_type: &str) -> Result<Option<Committed>, ApiError> {
        rca.kernel.replayed(self.idem.as_deref(), event_type).await
    }

    /// Decides and appends.
    async fn run(&self, rca: &Rca, command: Command) -> Result<Committed, ApiError> {
        Ok(rca
            .step(&self.hospital, self.id, command, self.idem.as_deref())
            .await?)
    }
}

/// Add a timeline entry.
#[utoipa::path(post, path = "/api/v1/rca/{id}/timeline", tag = "rca",
    params(("id" = Uuid, Path, description = "The analysis"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response and append nothing")),
    request_body = AddTimeline,
    responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn add_timeline(
    State(rca): State<Rca>,
    principal: Principal,
    ValidPath(id): ValidPath<String>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<AddTimeline>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    let id = case_id(&id)?;
    Ok(created(
        rca.add_timeline(&principal, id, body, Some(&key)).await?,
    ))
}

impl Rca {
    /// Adds a timeline entry to case `id`.
    pub async fn add_timeline(
        &self,
        principal: &Principal,
        id: Uuid,
        body: AddTimeline,
        key: Option<&IdempotencyKey>,
    ) -> Result<Appended, ApiError> {
        let step = prepare(self, principal, id, key, "timeline").await?;
        if let Some(first) = step.replayed(self, "rca.timeline_added").await? {
            return Ok(Appended { seq: first.seq });
        }
        let mut errors = Vec::new();
        check_time("/at", &body.at, &mut errors);
        check_text("/text", &body.text, 4000, &mut errors);
        invalid_unless_empty(errors)?;
        let command = Command::AddTimeline {
            at: body.at,
            text: clean(self, &body.text),
        };
        let committed = step.run(self, command).await?;
        Ok(Appended { seq: committed.seq })
    }
}

/// Add a causal factor; it gets the next number, from 1.
#[utoipa::path(post, path = "/api/v1/rca/{id}/factors", tag = "rca",
    params(("id" = Uuid, Path, description = "The analysis"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response and append nothing")),
    request_body = AddFactor,
    responses((status = 201, body = FactorNumbered), CommandErrors),
    security(("bearer" = [])))]
pub async fn add_factor(
    State(rca): State<Rca>,
    principal: Principal,
    ValidPath(id): ValidPath<String>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<AddFactor>,
) -> Result<(StatusCode, Json<FactorNumbered>), ApiError> {
    let id = case_id(&id)?;
    Ok(created(
        rca.add_factor(&principal, id, body, Some(&key)).await?,
    ))
}

impl Rca {
    /// Adds a causal factor to case `id`; it gets the next number, from 1.
    pub async fn add_factor(
        &self,
        principal: &Principal,
        id: Uuid,
        body: AddFactor,
        key: Option<&IdempotencyKey>,
    ) -> Result<FactorNumbered, ApiError> {
        let step = prepare(self, principal, id, key, "factors").await?;
        let committed = match step.replayed(self, "rca.factor_added").await? {
            Some(first) => first,
            None => step.run(self, factor_command(self, body)?).await?,
        };
        Ok(FactorNumbered {
            factor: number(&committed.envelope, "factor")?,
            seq: committed.seq,
        })
    }
}

fn factor_command(rca: &Rca, body: AddFactor) -> Result<Command, ApiError> {
    let mut errors = Vec::new();
    check_text("/statement", &body.statement, 2000, &mut errors);
    if let Some(whys) = &body.whys {
        if whys.len() > 20 {
            errors.push(FieldError::new("/whys", "may hold at most 20 whys"));
        }
        for (i, why) in whys.iter().enumerate() {
            check_text(&format!("/whys/{i}"), why, 2000, &mut errors);
        }
    }
    invalid_unless_empty(errors)?;
    Ok(Command::AddFactor {
        category: body.category,
        statement: clean(rca, &body.statement),
        whys: body
            .whys
            .as_ref()
            .map(|w| w.iter().map(|t| clean(rca, t)).collect()),
    })
}

/// Confirm factors of the case as root causes; a number the case does not have is a 422 naming it.
#[utoipa::path(post, path = "/api/v1/rca/{id}/root-causes", tag = "rca",
    params(("id" = Uuid, Path, description = "The analysis"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response and append nothing")),
    request_body = ConfirmRootCauses,
    responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn confirm_root_causes(
    State(rca): State<Rca>,
    principal: Principal,
    ValidPath(id): ValidPath<String>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<ConfirmRootCauses>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    let id = case_id(&id)?;
    Ok(created(
        rca.confirm_root_causes(&principal, id, body, Some(&key))
            .await?,
    ))
}

impl Rca {
    /// Confirms factors of case `id` as its root causes.
    pub async fn confirm_root_causes(
        &self,
        principal: &Principal,
        id: Uuid,
        body: ConfirmRootCauses,
        key: Option<&IdempotencyKey>,
    ) -> Result<Appended, ApiError> {
        let step = prepare(self, principal, id, key, "root-causes").await?;
        if let Some(first) = step.replayed(self, "rca.root_cause_confirmed").await? {
            return Ok(Appended { seq: first.seq });
        }
        let command = Command::ConfirmRootCauses {
            factors: body.factors,
        };
        let committed = step.run(self, command).await?;
        Ok(Appended { seq: committed.seq })
    }
}

/// Plan an improvement action; it gets the next number, from 1.
#[utoipa::path(post, path = "/api/v1/rca/{id}/actions", tag = "rca",
    params(("id" = Uuid, Path, description = "The analysis"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response and append nothing")),
    request_body = PlanAction,
    responses((status = 201, body = ActionNumbered), CommandErrors),
    security(("bearer" = [])))]
pub async fn plan_action(
    State(rca): State<Rca>,
    principal: Principal,
    ValidPath(id): ValidPath<String>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<PlanAction>,
) -> Result<(StatusCode, Json<ActionNumbered>), ApiError> {
    let id = case_id(&id)?;
    Ok(created(
        rca.plan_action(&principal, id, body, Some(&key)).await?,
    ))
}

impl Rca {
    /// Plans an improvement action on case `id`; it gets the next number, from 1.
    pub async fn plan_action(
        &self,
        principal: &Principal,
        id: Uuid,
        body: PlanAction,
        key: Option<&IdempotencyKey>,
    ) -> Result<ActionNumbered, ApiError> {
        let step = prepare(self, principal, id, key, "actions").await?;
        let committed = match step.replayed(self, "rca.action_planned").await? {
            Some(first) => first,
            None => step.run(self, action_command(self, body)?).await?,
        };
        Ok(ActionNumbered {
            action: number(&committed.envelope, "action")?,
            seq: committed.seq,
        })
    }
}

fn action_command(rca: &Rca, body: PlanAction) -> Result<Command, ApiError> {
    let mut errors = Vec::new();
    check_text("/what", &body.what, 2000, &mut errors);
    check_text("/owner_role", &body.owner_role, 100, &mut errors);
    check_day("/due", body.due, &mut errors);
    check_text("/measure", &body.measure, 2000, &mut errors);
    invalid_unless_empty(errors)?;
    Ok(Command::PlanAction {
        what: clean(rca, &body.what),
        owner_role: clean(rca, &body.owner_role),
        due: body.due.0,
        strength: body.strength,
        measure: clean(rca, &body.measure),
    })
}

/// Complete an action: 409 when the case has no such action or it is completed already.
#[utoipa::path(post, path = "/api/v1/rca/{id}/actions/{n}/complete", tag = "rca",
    params(("id" = Uuid, Path, description = "The analysis"),
        ("n" = u32, Path, description = "The action's number"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response and append nothing")),
    request_body = CompleteAction,
    responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn complete_action(
    State(rca): State<Rca>,
    principal: Principal,
    ValidPath((id, n)): ValidPath<(String, String)>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<CompleteAction>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    let id = case_id(&id)?;
    Ok(created(
        rca.complete_action(&principal, id, &n, body, Some(&key))
            .await?,
    ))
}

impl Rca {
    /// Completes action `n` of case `id`, `n` as the path wrote it (a
    /// number, or 404 once the case is known to be the principal's).
    pub async fn complete_action(
        &self,
        principal: &Principal,
        id: Uuid,
        n: &str,
        body: CompleteAction,
        key: Option<&IdempotencyKey>,
    ) -> Result<Appended, ApiError> {
        let route = format!("actions/{n}/complete");
        let step = prepare(self, principal, id, key, &route).await?;
        let action: u32 = n
            .parse()
            .map_err(|_| ApiError::NotFound(format!("no action {n:?}")))?;
        if let Some(first) = step.replayed(self, "rca.action_completed").await? {
            return Ok(Appended { seq: first.seq });
        }
        let mut errors = Vec::new();
        check_time("/completed_at", &body.completed_at, &mut errors);
        check_text("/evidence", &body.evidence, 2000, &mut errors);
        check_some("/effect", body.effect.as_deref(), 2000, &mut errors);
        invalid_unless_empty(errors)?;
        let command = Command::CompleteAction {
            action,
            completed_at: body.completed_at,
            evidence: clean(self, &body.evidence),
            effect: clean_opt(self, body.effect.as_deref()),
        };
        let committed = step.run(self, command).await?;
        Ok(Appended { seq: committed.seq })
    }
}

/// Close the case with its lessons: 409 unless it has a root cause and an action, or a reason is given.
#[utoipa::path(post, path = "/api/v1/rca/{id}/close", tag = "rca",
    params(("id" = Uuid, Path, description = "The analysis"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response and append nothing")),
    request_body = CloseRca,
    responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn close_rca(
    State(rca): State<Rca>,
    principal: Principal,
    ValidPath(id): ValidPath<String>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<CloseRca>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    let id = case_id(&id)?;
    Ok(created(
        rca.close_rca(&principal, id, body, Some(&key)).await?,
    ))
}

impl Rca {
    /// Closes case `id` with its lessons.
    pub async fn close_rca(
        &self,
        principal: &Principal,
        id: Uuid,
        body: CloseRca,
        key: Option<&IdempotencyKey>,
    ) -> Result<Appended, ApiError> {
        let step = prepare(self, principal, id, key, "close").await?;
        if let Some(first) = step.replayed(self, "rca.closed").await? {
            return Ok(Appended { seq: first.seq });
        }
        let mut errors = Vec::new();
        check_text("/lessons", &body.lessons, 4000, &mut errors);
        check_some(
            "/reason_no_action",
            body.reason_no_action.as_deref(),
            2000,
            &mut errors,
        );
        invalid_unless_empty(errors)?;
        let command = Command::Close {
            lessons: clean(self, &body.lessons),
            reason_no_action: clean_opt(self, body.reason_no_action.as_deref()),
        };
        let committed = step.run(self, command).await?;
        Ok(Appended { seq: committed.seq })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_before_2000_and_empty_optional_text_are_refused() {
        let mut errors = vec![];
        check_day("/due", Day::parse("1999-12-31").unwrap(), &mut errors);
        check_day("/due", Day::parse("2000-01-01").unwrap(), &mut errors);
        check_some("/effect", Some("  "), 10, &mut errors);
        check_some("/effect", None, 10, &mut errors);
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/due", "/effect"]);
        assert!(invalid_unless_empty(vec![]).is_ok());
    }

    #[test]
    fn bodies_name_bad_fields() {
        use lantern_api::json::decode;
        let pointer = |r: Result<AddFactor, ApiError>| match r {
            Err(ApiError::Invalid(e)) => e[0].pointer.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            pointer(decode(br#"{"category":"machine","statement":"s"}"#)),
            "/category"
        );
        assert_eq!(
            pointer(decode(
                br#"{"category":"people","statement":"s","whys":[1]}"#
            )),
            "/whys/0"
        );
        let r: Result<PlanAction, ApiError> = decode(
            br#"{"what":"w","owner_role":"o","due":"2026-1-5","strength":"stronger","measure":"m"}"#,
        );
        assert!(matches!(r, Err(ApiError::Invalid(e)) if e[0].pointer == "/due"));
        let r: Result<PlanAction, ApiError> = decode(
            br#"{"what":"w","owner_role":"o","due":"2026-01-05","strength":"strong","measure":"m"}"#,
        );
        assert!(matches!(r, Err(ApiError::Invalid(e)) if e[0].pointer == "/strength"));
    }
}
