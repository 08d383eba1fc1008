//! The reports' endpoints, and what a safety officer does with a report
//! ([`Intake::triage`], [`Intake::post_feedback`]): the API and the staff
//! web call the same methods, so both decide alike. The rules are in
//! [`rules`](super::rules).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lantern_api::path::ValidPath;
use lantern_ledger::Expect;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::rules::{self, FileReport, Original, TextBody, TriageReport};
use crate::reports::{Report, ReportPage, ReportRecord};
use crate::state::Intake;
use lantern_api::IdempotencyKey;
use lantern_api::auth::Principal;
use lantern_api::command::new_event;
use lantern_api::error::{ApiError, FieldError};
use lantern_api::json::ValidJson;
use lantern_api::query::{After, ValidQuery, wait_after};
use lantern_api::responses::{Appended, CommandErrors, QueryErrors, created};
use lantern_api::secrets::{canonical_receipt, receipt_hash};
use lantern_domain::Month;
use lantern_domain::events::{Payload, report};
use lantern_domain::vocab::Role;

/// A filed report: the receipt is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportFiled {
    /// The report's id.
    pub report_id: Uuid,
    /// The receipt code: keep it to follow the report up.
    pub receipt: String,
    /// Stream sequence.
    pub seq: u64,
}

/// File an anonymous report. No token; nothing about the sender is kept.
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports",
    request_body = FileReport,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response and append nothing")),
    responses((status = 201, body = ReportFiled), CommandErrors))]
pub async fn file_report(
    State(app): State<Intake>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<FileReport>,
) -> Result<(StatusCode, Json<ReportFiled>), ApiError> {
    let idem = key.scoped("anonymous", "POST /api/v1/reports");
    if let Some(first) = app.replayed(idem.as_deref(), report::Filed::TYPE).await? {
        return Ok(created(ReportFiled {
            report_id: first.envelope.aggregate,
            receipt: app.secret.receipt(idem.as_deref()),
            seq: first.seq,
        }));
    }
    let mut errors = Vec::new();
    match app
        .directory
        .hospital_with_department(&body.hospital, &body.department)
        .await?
    {
        None => errors.push(FieldError::new("/hospital", "is not a registered hospital")),
        Some(h) if !h.departments.contains_key(&body.department) => errors.push(FieldError::new(
            "/department",
            "is not a registered department of this hospital",
        )),
        Some(_) => {}
    }
    body.check(&mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }

    let receipt = app.secret.receipt(idem.as_deref());
    let filed = body.filed(|t| app.scrub(t), &receipt_hash(&receipt));
    let event = new_event(&filed, lantern_domain::ids::random(), body.hospital);
    let committed = app.append(event, Expect::New, idem.as_deref()).await?;
    Ok(created(ReportFiled {
        report_id: committed.envelope.aggregate,
        receipt,
        seq: committed.seq,
    }))
}

/// Which reports to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListReports {
    /// Hospital code.
    pub hospital: String,
    /// First filing month, `YYYY-MM`.
    #[param(value_type = String)]
    pub from: Month,
    /// Last filing month, `YYYY-MM` (inclusive).
    #[param(value_type = String)]
    pub to: Month,
    /// Page, from 1.
    pub page: Option<usize>,
    /// Page size, 1–200 (default 50).
    pub per_page: Option<usize>,
    /// Wait until this stream sequence is applied.
    pub after: Option<u64>,
}

/// A hospital's reports filed in a range of months, newest first (safety officer).
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports",
    params(ListReports),
    responses((status = 200, body = ReportPage), QueryErrors),
    security(("bearer" = [])))]
pub async fn list_reports(
    State(app): State<Intake>,
    principal: Principal,
    ValidQuery(q): ValidQuery<ListReports>,
) -> Result<Json<ReportPage>, ApiError> {
    Ok(Json(app.list_reports(&principal, &q).await?))
}

/// One report (safety officer of its hospital).
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports",
    params(("id" = Uuid, Path, description = "Report id"), After),
    responses((status = 200, body = Report), QueryErrors),
    security(("bearer" = [])))]
pub async fn get_report(
    State(app): State<Intake>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    ValidQuery(q): ValidQuery<After>,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(app.report(&principal, id, q.after).await?))
}

/// Triage a report (safety officer of its hospital).
#[utoipa::path(post, path = "/api/v1/reports/{id}/triage", tag = "reports",
    params(("id" = Uuid, Path, description = "Report id")),
    request_body = TriageReport,
    responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn triage_report(
    State(app): State<Intake>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<TriageReport>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    Ok(created(app.triage(&principal, id, body, Some(&key)).await?))
}

/// Post feedback the reporter reads through the receipt (safety officer).
#[utoipa::path(post, path = "/api/v1/reports/{id}/feedback", tag = "reports",
    params(("id" = Uuid, Path, description = "Report id")),
    request_body = TextBody,
    responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn post_feedback(
    State(app): State<Intake>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<TextBody>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    Ok(created(
        app.post_feedback(&principal, id, body, Some(&key)).await?,
    ))
}

/// What a safety officer does with the reports of their hospital: the
/// endpoints above and the staff web call these, so both decide alike.
impl Intake {
    /// Page `q.page` of a hospital's reports filed in `q.from..=q.to`,
    /// newest first, with their descriptions (safety officer of it).
    pub async fn list_reports(
        &self,
        principal: &Principal,
        q: &ListReports,
    ) -> Result<ReportPage, ApiError> {
        principal.require(&[Role::SafetyOfficer])?;
        let hospital = self
            .directory
            .hospital(&q.hospital)
            .await?
            .ok_or_else(|| ApiError::field("/hospital", "is not a registered hospital"))?;
        principal.require_in(&[Role::SafetyOfficer], &hospital)?;
        if q.to < q.from {
            return Err(ApiError::field("/to", "is before from"));
        }
        let page = q.page.unwrap_or(1);
        let per_page = q.per_page.unwrap_or(50);
        if page == 0 {
            return Err(ApiError::field("/page", "starts at 1"));
        }
        if !(1..=200).contains(&per_page) {
            return Err(ApiError::field("/per_page", "must be 1–200"));
        }
        wait_after(self.reports.handle(), q.after).await?;
        self.reports
            .page(
                &hospital.code,
                &q.from.to_string(),
                &q.to.to_string(),
                page,
                per_page,
            )
            .await
    }

    /// The report `id` with its description, once the read model has
    /// reached `after` (safety officer of its hospital).
    pub async fn report(
        &self,
        principal: &Principal,
        id: Uuid,
        after: Option<u64>,
    ) -> Result<Report, ApiError> {
        wait_after(self.reports.handle(), after).await?;
        let record = report_for(self, principal, id).await?;
        let described = self.reports.describe(vec![record]).await?.pop();
        described.ok_or_else(|| ApiError::internal(format!("report {id} lost its description")))
    }

    /// Records a safety officer's verification of report `id`; `key` is
    /// the request's Idempotency-Key, if it came with one.
    pub async fn triage(
        &self,
        principal: &Principal,
        id: Uuid,
        body: TriageReport,
        key: Option<&IdempotencyKey>,
    ) -> Result<Appended, ApiError> {
        let (report, idem) =
            match officer_step::<report::Triaged>(self, principal, id, key, "triage").await? {
                OfficerStep::Replayed(first) => return Ok(first),
                OfficerStep::Fresh(report, idem) => (*report, idem),
            };
        let original = match body.duplicate_of {
            Some(dup) if dup != id => Some(Original {
                report_id: dup,
                hospital: self.reports.record(dup).await?.map(|r| r.hospital),
            }),
            _ => None,
        };
        let triaged = rules::triage(&report, id, &body, original.as_ref(), |t| self.scrub(t))
            .map_err(ApiError::Invalid)?;
        let event = new_event(&triaged, id, report.hospital);
        let committed = self.append(event, Expect::Any, idem.as_deref()).await?;
        Ok(Appended { seq: committed.seq })
    }

    /// Posts feedback on report `id` for its reporter to read through the
    /// receipt; `key` is the request's Idempotency-Key, if any.
    pub async fn post_feedback(
        &self,
        principal: &Principal,
        id: Uuid,
        body: TextBody,
        key: Option<&IdempotencyKey>,
    ) -> Result<Appended, ApiError> {
        let (report, idem) =
            match officer_step::<report::FeedbackPosted>(self, principal, id, key, "feedback")
                .await?
            {
                OfficerStep::Replayed(first) => return Ok(first),
                OfficerStep::Fresh(report, idem) => (*report, idem),
            };
        let feedback = rules::feedback(&body, |t| self.scrub(t)).map_err(ApiError::Invalid)?;
        let event = new_event(&feedback, id, report.hospital);
        let committed = self.append(event, Expect::Any, idem.as_deref()).await?;
        Ok(Appended { seq: committed.seq })
    }
}

/// Where a safety officer's step on a report starts: the first answer of a
/// retried request, or the report and the step's scoped Idempotency-Key.
enum OfficerStep {
    Replayed(Appended),
    Fresh(Box<ReportRecord>, Option<String>),
}

/// The start of a safety officer's step `route` (`triage`, `feedback`) on
/// report `id`: scope checked, key scoped to the report's hospital, and a
/// retry answered with its first response.
async fn officer_step<P: Payload>(
    app: &Intake,
    principal: &Principal,
    id: Uuid,
    key: Option<&IdempotencyKey>,
    route: &str,
) -> Result<OfficerStep, ApiError> {
    let report = report_for(app, principal, id).await?;
    let idem = key.and_then(|k| {
        k.scoped(
            &report.hospital,
            &format!("POST /api/v1/reports/{id}/{route}"),
        )
    });
    Ok(match app.replayed(idem.as_deref(), P::TYPE).await? {
        Some(first) => OfficerStep::Replayed(Appended { seq: first.seq }),
        None => OfficerStep::Fresh(Box::new(report), idem),
    })
}

/// The report, if the principal may act on it (safety officer of its hospital).
async fn report_for(
    app: &Intake,
    principal: &Principal,
    id: Uuid,
) -> Result<ReportRecord, ApiError> {
    principal.require(&[Role::SafetyOfficer])?;
    let report = app
        .reports
        .record(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no report {id}")))?;
    let hospital = app
        .directory
        .hospital(&report.hospital)
        .await?
        .ok_or_else(|| ApiError::internal(format!("report {id} of unknown hospital")))?;
    principal.require_in(&[Role::SafetyOfficer], &hospital)?;
    Ok(report)
}

/// The receipt path segment as a canonical receipt, or 404.
pub fn receipt_of(input: &str) -> Result<String, ApiError> {
    canonical_receipt(input).ok_or_else(|| ApiError::NotFound("no report has this receipt".into()))
}
