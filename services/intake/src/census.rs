//! Census: the denominators (discharges per department-month), recorded
//! as a month's figure or counted discharge by discharge from the HIS.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use lantern_ledger::Expect;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::state::Intake;
use lantern_api::IdempotencyKey;
use lantern_api::auth::Principal;
use lantern_api::command::new_event;
use lantern_api::error::{ApiError, FieldError};
use lantern_api::json::ValidJson;
use lantern_api::responses::{Appended, CommandErrors, created};
use lantern_directory::HospitalRecord;
use lantern_domain::Month;
use lantern_domain::events::{Payload, census};
use lantern_domain::ids;
use lantern_domain::vocab::Role;
use lantern_domain::zone::zone;

/// A department-month's figures; a later one replaces the earlier.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordCensus {
    /// Hospital code.
    pub hospital: String,
    /// Department code.
    pub department: String,
    /// `YYYY-MM`, not after the current month.
    #[schema(value_type = String, example = "2026-10")]
    pub month: Month,
    /// Discharges (出院人次).
    pub discharges: u64,
    /// Inpatient days.
    pub inpatient_days: Option<u64>,
    /// Tests resulted (for lab indicators).
    pub tests_resulted: Option<u64>,
}

/// Record a department-month's census (his, lis or safety officer of the hospital).
#[utoipa::path(post, path = "/api/v1/census", tag = "census",
    request_body = RecordCensus,
    responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn record_census(
    State(app): State<Intake>,
    principal: Principal,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<RecordCensus>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    const WRITERS: &[Role] = &[Role::His, Role::Lis, Role::SafetyOfficer];
    let hospital = app
        .staff_hospital(&principal, WRITERS, &body.hospital, &body.department)
        .await?;
    let idem = key.scoped(&hospital.code, "POST /api/v1/census");
    if let Some(first) = app
        .replayed(idem.as_deref(), census::Recorded::TYPE)
        .await?
    {
        return Ok(created(Appended { seq: first.seq }));
    }
    let mut errors = Vec::new();
    if !hospital.departments.contains_key(&body.department) {
        errors.push(FieldError::new(
            "/department",
            "is not a registered department of this hospital",
        ));
    }
    let this_month = Month::of(
        Utc::now()
            .with_timezone(&zone(Some(&hospital.timezone)))
            .date_naive(),
    );
    if body.month > this_month {
        errors.push(FieldError::new("/month", "is in the future"));
    }
    if body.month.year < 2000 {
        errors.push(FieldError::new("/month", "is before 2000"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let recorded = census::Recorded {
        department: body.department,
        month: body.month,
        discharges: body.discharges,
        inpatient_days: body.inpatient_days,
        tests_resulted: body.tests_resulted,
    };
    let aggregate = ids::census(
        &hospital.code,
        &recorded.department,
        &body.month.to_string(),
    );
    let event = new_event(&recorded, aggregate, hospital.code);
    let committed = app.append(event, Expect::Any, idem.as_deref()).await?;
    Ok(created(Appended { seq: committed.seq }))
}

impl Intake {
    /// Counts one inpatient discharge of `department` in `month` (from the
    /// HIS's HL7 `ADT^A03`): a `census.discharge_counted` on the
    /// department-month's census, which the rates take as the month's
    /// discharges until a census figure is recorded. `key` makes a retry
    /// append nothing. The department is a registered one of `hospital`'s,
    /// checked by the caller.
    pub async fn count_discharge(
        &self,
        hospital: &HospitalRecord,
        department: &str,
        month: Month,
        key: &IdempotencyKey,
    ) -> Result<u64, ApiError> {
        let idem = key.scoped(&hospital.code, "census.discharge_counted");
        if let Some(first) = self
            .replayed(idem.as_deref(), census::DischargeCounted::TYPE)
            .await?
        {
            return Ok(first.seq);
        }
        let counted = census::DischargeCounted {
            department: department.to_owned(),
            month,
        };
        let aggregate = ids::census(&hospital.code, department, &month.to_string());
        let event = new_event(&counted, aggregate, hospital.code.clone());
        Ok(self.append(event, Expect::Any, idem.as_deref()).await?.seq)
    }
}
