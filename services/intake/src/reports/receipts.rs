//! What a reporter sees through their receipt, and follow-ups they add.
//! No token: the receipt is the only key.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use lantern_api::path::ValidPath;
use lantern_ledger::Expect;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::api::receipt_of;
use super::rules::TextBody;
use crate::reports::{Feedback, FollowUp, ReportRecord, Status};
use crate::state::Intake;
use lantern_api::IdempotencyKey;
use lantern_api::checks::check_text;
use lantern_api::command::new_event;
use lantern_api::error::{ApiError, FieldError};
use lantern_api::json::ValidJson;
use lantern_api::query::{After, ValidQuery, wait_after};
use lantern_api::responses::{Appended, CommandErrors, QueryErrors, created};
use lantern_api::secrets::receipt_hash;
use lantern_domain::events::{Payload, report};
use lantern_domain::vocab::{Category, Grade};

/// A report as its reporter sees it: no triage notes, no analysis team.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptView {
    /// Report id.
    pub report_id: Uuid,
    /// Where it stands.
    pub status: Status,
    /// Grade (as verified, once triaged).
    pub grade: Grade,
    /// Category (as verified, once triaged).
    pub category: Category,
    /// Day filed.
    pub filed_on: NaiveDate,
    /// The reporter's own follow-ups.
    pub follow_ups: Vec<FollowUp>,
    /// Feedback from the safety office.
    pub feedback: Vec<Feedback>,
    /// Lessons of the closed analysis, if any.
    pub lessons: Option<String>,
}

impl From<ReportRecord> for ReceiptView {
    fn from(r: ReportRecord) -> ReceiptView {
        ReceiptView {
            report_id: r.report_id,
            status: r.status,
            grade: r.current_grade(),
            category: r.current_category(),
            filed_on: r.filed_on,
            lessons: (!r.lessons.is_empty()).then(|| r.lessons.join("\n\n")),
            follow_ups: r.follow_ups,
            feedback: r.feedback,
        }
    }
}

async fn by_receipt(app: &Intake, receipt: &str) -> Result<ReportRecord, ApiError> {
    let canonical = receipt_of(receipt)?;
    app.reports
        .by_receipt(&receipt_hash(&canonical))
        .await?
        .ok_or_else(|| ApiError::NotFound("no report has this receipt".into()))
}

/// Read a report through its receipt.
#[utoipa::path(get, path = "/api/v1/receipts/{receipt}", tag = "reports",
    params(("receipt" = String, Path, description = "The receipt code (case, spaces and dashes ignored)"), After),
    responses((status = 200, body = ReceiptView), QueryErrors))]
pub async fn get_receipt(
    State(app): State<Intake>,
    ValidPath(receipt): ValidPath<String>,
    ValidQuery(q): ValidQuery<After>,
) -> Result<Json<ReceiptView>, ApiError> {
    wait_after(app.reports.handle(), q.after).await?;
    Ok(Json(by_receipt(&app, &receipt).await?.into()))
}

/// Add details to a report through its receipt.
#[utoipa::path(post, path = "/api/v1/receipts/{receipt}/follow-ups", tag = "reports",
    params(("receipt" = String, Path, description = "The receipt code")),
    request_body = TextBody,
    responses((status = 201, body = Appended), CommandErrors))]
pub async fn add_follow_up(
    State(app): State<Intake>,
    ValidPath(receipt): ValidPath<String>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<TextBody>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    let report = by_receipt(&app, &receipt).await?;
    let idem = key.scoped(
        "anonymous",
        &format!("POST /api/v1/receipts/{}/follow-ups", report.report_id),
    );
    if let Some(first) = app
        .replayed(idem.as_deref(), report::FollowedUp::TYPE)
        .await?
    {
        return Ok(created(Appended { seq: first.seq }));
    }
    let mut errors: Vec<FieldError> = Vec::new();
    check_text("/text", &body.text, 4000, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let follow_up = report::FollowedUp {
        text: app.scrub(body.text.trim()),
    };
    let event = new_event(&follow_up, report.report_id, report.hospital);
    let committed = app.append(event, Expect::Any, idem.as_deref()).await?;
    Ok(created(Appended { seq: committed.seq }))
}
