//! Reports: filed anonymously, triaged and answered by safety officers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset};
use lantern_api::path::ValidPath;
use lantern_ledger::Expect;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::reports::{Report, ReportPage, ReportRecord};
use crate::state::Intake;
use lantern_api::IdempotencyKey;
use lantern_api::auth::Principal;
use lantern_api::checks::{check_optional, check_text, check_time};
use lantern_api::command::new_event;
use lantern_api::error::{ApiError, FieldError};
use lantern_api::json::ValidJson;
use lantern_api::query::{After, ValidQuery, wait_after};
use lantern_api::responses::{Appended, CommandErrors, QueryErrors, created};
use lantern_api::secrets::{canonical_receipt, receipt_hash};
use lantern_domain::Month;
use lantern_domain::events::{Payload, report};
use lantern_domain::vocab::{AgeBand, Category, Grade, Harm, ReporterRole, Role};

/// An anonymous adverse-event report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileReport {
    /// Registered hospital code.
    pub hospital: String,
    /// Registered department code of that hospital.
    pub department: String,
    /// When it happened (RFC 3339 with offset; not in the future).
    pub occurred_at: DateTime<FixedOffset>,
    /// I 警告事件（警讯事件）, II 不良后果事件, III 未造成后果事件, IV 隐患事件 / 未遂事件（临界差错）.
    pub grade: Grade,
    /// Category code.
    pub category: Category,
    /// AHRQ harm (physical or psychological, after any intervention); must
    /// agree with the grade: I death, severe; II mild needing treatment,
    /// moderate, severe; III none, mild needing none; IV not_applicable;
    /// unknown with I–III leaves the grade provisional until triage.
    pub harm: Harm,
    /// With harm `mild` only: whether it needed additional treatment,
    /// monitoring or a longer stay (grade II) or not (grade III).
    pub treatment_needed: Option<bool>,
    /// Where.
    pub location: Option<String>,
    /// What happened (personal data is removed before it is stored).
    pub description: String,
    /// What was done at once.
    pub immediate_actions: Option<String>,
    /// The reporter's role, if they wish.
    pub reporter_role: Option<ReporterRole>,
    /// The patient's age band.
    pub patient_age_band: Option<AgeBand>,
}

impl FileReport {
    /// The checks that need no directory: time, grade against harm, text
    /// lengths. (The hospital and department are checked against the
    /// directory by the handler.)
    pub fn check(&self, errors: &mut Vec<FieldError>) {
        check_time("/occurred_at", &self.occurred_at, errors);
        if let Err(d) = self.grade.check(self.harm, self.treatment_needed) {
            errors.push(FieldError::new(d.pointer, d.message));
        }
        if let Some(why) = self.patient_age_band.and_then(AgeBand::refusal) {
            errors.push(FieldError::new("/patient_age_band", why));
        }
        check_text("/description", &self.description, 4000, errors);
        check_optional("/location", self.location.as_deref(), 200, errors);
        check_optional(
            "/immediate_actions",
            self.immediate_actions.as_deref(),
            2000,
            errors,
        );
    }

    /// The `report.filed` payload of a checked report, its free text passed
    /// through `scrub` (events are immutable: nothing personal may reach one).
    pub fn filed(&self, scrub: impl Fn(&str) -> String, receipt_hash: &str) -> report::Filed {
        report::Filed {
            department: self.department.clone(),
            occurred_at: self.occurred_at,
            grade: self.grade,
            category: self.category,
            harm: self.harm,
            treatment_needed: self.treatment_needed,
            location: self.location.as_deref().map(&scrub),
            description: scrub(self.description.trim()),
            immediate_actions: self.immediate_actions.as_deref().map(&scrub),
            reporter_role: self.reporter_role,
            patient_age_band: self.patient_age_band,
            receipt_hash: receipt_hash.to_owned(),
        }
    }
}

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

/// A safety officer's verification of a report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageReport {
    /// Verified grade.
    pub grade: Grade,
    /// Verified category.
    pub category: Category,
    /// Re-assessed harm, held to the same agreement with the grade as a
    /// filing; left out, the harm as filed (or as last triaged) stands and
    /// must agree with the verified grade.
    pub harm: Option<Harm>,
    /// With harm `mild` only: whether it needed treatment.
    pub treatment_needed: Option<bool>,
    /// Another report of the same hospital this one duplicates.
    pub duplicate_of: Option<Uuid>,
    /// Note.
    pub note: Option<String>,
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

/// Text for the reporter, or from them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextBody {
    /// 1–4000 characters; personal data is removed before it is stored.
    pub text: String,
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
        let mut errors = Vec::new();
        // Left out, the harm that stands is the last one assessed.
        let (harm, treatment_needed) = match body.harm {
            Some(harm) => (harm, body.treatment_needed),
            None => match &report.triage {
                Some(t) => (t.harm, body.treatment_needed.or(t.treatment_needed)),
                None => (
                    report.harm,
                    body.treatment_needed.or(report.treatment_needed),
                ),
            },
        };
        if let Err(d) = body.grade.check(harm, treatment_needed) {
            let message = match body.harm {
                Some(_) => d.message,
                None => format!(
                    "{} (the harm as assessed so far): re-assess harm with the grade",
                    d.message
                ),
            };
            errors.push(FieldError::new(d.pointer, message));
        }
        if let Some(dup) = body.duplicate_of {
            if dup == id {
                errors.push(FieldError::new(
                    "/duplicate_of",
                    "a report cannot duplicate itself",
                ));
            } else if self
                .reports
                .record(dup)
                .await?
                .is_none_or(|r| r.hospital != report.hospital)
            {
                errors.push(FieldError::new(
                    "/duplicate_of",
                    "is not a report of this hospital",
                ));
            }
        }
        check_optional("/note", body.note.as_deref(), 2000, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
        let triaged = report::Triaged {
            grade: body.grade,
            category: body.category,
            harm: Some(harm),
            treatment_needed,
            duplicate_of: body.duplicate_of,
            note: self.scrub_opt(body.note.as_deref()),
        };
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
        let mut errors = Vec::new();
        check_text("/text", &body.text, 4000, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
        let feedback = report::FeedbackPosted {
            text: self.scrub(body.text.trim()),
        };
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
