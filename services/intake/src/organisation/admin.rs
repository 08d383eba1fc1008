//! Organisation and tokens: what the administrator configures, and the
//! public list of hospitals the report form offers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lantern_api::path::ValidPath;
use lantern_ledger::{Code, Data, Expect, LedgerError, SYSTEM_SCOPE};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::state::Intake;
use lantern_api::AppendError;
use lantern_api::IdempotencyKey;
use lantern_api::auth::Principal;
use lantern_api::command::new_event;
use lantern_api::error::{ApiError, FieldError};
use lantern_api::json::ValidJson;
use lantern_api::responses::{Appended, CommandErrors, QueryErrors, created};
use lantern_api::secrets::sha256_hex;
use lantern_directory::HospitalRecord;
use lantern_domain::critical::Limits;
use lantern_domain::events::{Payload, org};
use lantern_domain::ids;
use lantern_domain::vocab::{Level, Role};

const ADMIN: &[Role] = &[Role::Admin];

/// Registers a hospital.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterHospital {
    /// Hospital code: 1–32 letters, digits, `_`, `-`.
    pub code: String,
    /// Name.
    pub name: String,
    /// Region code (the QC centre's scope).
    pub region: String,
    /// `secondary` (二级) or `tertiary` (三级).
    pub level: Level,
    /// IANA time zone; default `Asia/Shanghai`.
    pub timezone: Option<String>,
}

/// Registers a region of the QC hierarchy, or re-registers it (a new name
/// or parent replaces the old).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRegion {
    /// Region code: 1–32 letters, digits, `_`, `-`.
    pub code: String,
    /// Name, e.g. 郑州市.
    pub name: String,
    /// The registered region it belongs to (a city's province, a county's
    /// city); none for a province.
    pub parent: Option<String>,
}

/// Registers a department of a hospital.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterDepartment {
    /// Department code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// Issues a staff token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueToken {
    /// `safety_officer`, `lis`, `his` (need `hospital`) or `qc_centre` (needs `region`).
    pub role: Role,
    /// Hospital scope.
    pub hospital: Option<String>,
    /// Region scope.
    pub region: Option<String>,
}

/// A new token: shown once, stored only as its hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenIssued {
    /// The bearer token. Keep it; it is not shown again.
    pub token: String,
    /// Its SHA-256 (hex); a prefix of it revokes the token.
    pub token_hash: String,
    /// Role.
    pub role: Role,
    /// Hospital scope.
    pub hospital: Option<String>,
    /// Region scope.
    pub region: Option<String>,
    /// Stream sequence.
    pub seq: u64,
}

/// A department, for the form's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentView {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A hospital, for the form's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct HospitalView {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// `secondary` or `tertiary`.
    pub level: String,
    /// IANA time zone.
    pub timezone: String,
    /// Departments, by code.
    pub departments: Vec<DepartmentView>,
}

impl From<HospitalRecord> for HospitalView {
    fn from(h: HospitalRecord) -> HospitalView {
        HospitalView {
            code: h.code,
            name: h.name,
            region: h.region,
            level: h.level,
            timezone: h.timezone,
            departments: h
                .departments
                .into_iter()
                .map(|(code, name)| DepartmentView { code, name })
                .collect(),
        }
    }
}

/// The registered hospitals.
#[derive(Debug, Serialize, ToSchema)]
pub struct Hospitals {
    /// By code.
    pub hospitals: Vec<HospitalView>,
}

fn code(pointer: &str, value: &str, errors: &mut Vec<FieldError>) {
    if let Err(message) = Code::parse(value) {
        errors.push(FieldError::new(pointer, message));
    }
}

fn text(pointer: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) {
    let n = value.trim().chars().count();
    if n == 0 || n > max {
        errors.push(FieldError::new(
            pointer,
            format!("must be 1–{max} characters"),
        ));
    }
}

fn done(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// Register a hospital (admin).
#[utoipa::path(post, path = "/api/v1/admin/hospitals", tag = "admin",
    request_body = RegisterHospital,
    responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn register_hospital(
    State(app): State<Intake>,
    principal: Principal,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<RegisterHospital>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    principal.require(ADMIN)?;
    let idem = key.scoped("admin", "POST /api/v1/admin/hospitals");
    if let Some(first) = app
        .replayed(idem.as_deref(), org::HospitalRegistered::TYPE)
        .await?
    {
        return Ok(created(Appended { seq: first.seq }));
    }
    let mut errors = Vec::new();
    code("/code", &body.code, &mut errors);
    code("/region", &body.region, &mut errors);
    text("/name", &body.name, 200, &mut errors);
    let timezone = body.timezone.unwrap_or_else(|| "Asia/Shanghai".to_owned());
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        errors.push(FieldError::new(
            "/timezone",
            "is not an IANA time zone, e.g. Asia/Shanghai",
        ));
    }
    done(errors)?;
    let registered = org::HospitalRegistered {
        code: body.code.clone(),
        name: body.name.trim().to_owned(),
        region: body.region,
        level: body.level,
        timezone,
    };
    let event = new_event(&registered, ids::hospital(&body.code), body.code.clone());
    let committed = app
        .append(event, Expect::New, idem.as_deref())
        .await
        .map_err(|e| match e {
            AppendError::Conflict(_) => {
                ApiError::Conflict(format!("hospital {} is already registered", body.code))
            }
            other => other.into(),
        })?;
    Ok(created(Appended { seq: committed.seq }))
}

/// Register a region of the QC hierarchy (admin): province → city →
/// county. A QC centre of a region supervises the hospitals of the regions
/// below it too, and figures roll up the hierarchy.
#[utoipa::path(post, path = "/api/v1/admin/regions", tag = "admin",
    request_body = RegisterRegion,
    responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn register_region(
    State(app): State<Intake>,
    principal: Principal,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<RegisterRegion>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    principal.require(ADMIN)?;
    let idem = key.scoped("admin", "POST /api/v1/admin/regions");
    if let Some(first) = app
        .replayed(idem.as_deref(), org::RegionRegistered::TYPE)
        .await?
    {
        return Ok(created(Appended { seq: first.seq }));
    }
    let mut errors = Vec::new();
    code("/code", &body.code, &mut errors);
    text("/name", &body.name, 200, &mut errors);
    if let Some(parent) = &body.parent {
        if parent == &body.code {
            errors.push(FieldError::new(
                "/parent",
                "a region cannot be its own parent",
            ));
        } else if app.directory.region(parent).await?.is_none() {
            errors.push(FieldError::new("/parent", "is not a registered region"));
        } else if app.directory.parents_of(parent)?.contains(&body.code) {
            errors.push(FieldError::new(
                "/parent",
                format!("is below {} already: the hierarchy would loop", body.code),
            ));
        }
    }
    done(errors)?;
    let registered = org::RegionRegistered {
        code: body.code.clone(),
        name: body.name.trim().to_owned(),
        parent: body.parent,
    };
    let event = new_event(
        &registered,
        ids::region(&body.code),
        SYSTEM_SCOPE.to_owned(),
    );
    let committed = app.append(event, Expect::Any, idem.as_deref()).await?;
    Ok(created(Appended { seq: committed.seq }))
}

/// Register a department of a hospital (admin).
#[utoipa::path(post, path = "/api/v1/admin/hospitals/{code}/departments", tag = "admin",
    params(("code" = String, Path, description = "Hospital code")),
    request_body = RegisterDepartment,
    responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn register_department(
    State(app): State<Intake>,
    principal: Principal,
    ValidPath(hospital): ValidPath<String>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<RegisterDepartment>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    principal.require(ADMIN)?;
    let idem = key.scoped(
        "admin",
        &format!("POST /api/v1/admin/hospitals/{hospital}/departments"),
    );
    if let Some(first) = app
        .replayed(idem.as_deref(), org::DepartmentRegistered::TYPE)
        .await?
    {
        return Ok(created(Appended { seq: first.seq }));
    }
    let h = app
        .directory
        .hospital(&hospital)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no hospital {hospital}")))?;
    let mut errors = Vec::new();
    code("/code", &body.code, &mut errors);
    text("/name", &body.name, 200, &mut errors);
    done(errors)?;
    let registered = org::DepartmentRegistered {
        code: body.code.clone(),
        name: body.name.trim().to_owned(),
    };
    let event = new_event(
        &registered,
        ids::department(&h.code, &body.code),
        h.code.clone(),
    );
    let committed = app
        .append(event, Expect::New, idem.as_deref())
        .await
        .map_err(|e| match e {
            AppendError::Conflict(_) => ApiError::Conflict(format!(
                "department {} of {} is already registered",
                body.code, h.code
            )),
            other => other.into(),
        })?;
    Ok(created(Appended { seq: committed.seq }))
}

/// Issue a staff token (admin). The token is in the response only.
#[utoipa::path(post, path = "/api/v1/admin/tokens", tag = "admin",
    request_body = IssueToken,
    responses((status = 201, body = TokenIssued), CommandErrors),
    security(("bearer" = [])))]
pub async fn issue_token(
    State(app): State<Intake>,
    principal: Principal,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<IssueToken>,
) -> Result<(StatusCode, Json<TokenIssued>), ApiError> {
    principal.require(ADMIN)?;
    let idem = key.scoped("admin", "POST /api/v1/admin/tokens");
    let token = app.secret.token(idem.as_deref());
    let token_hash = sha256_hex(token.as_bytes());
    if let Some(first) = app
        .replayed(idem.as_deref(), org::TokenIssued::TYPE)
        .await?
    {
        return Ok(created(issued(
            token,
            token_hash,
            first.seq,
            &first.envelope.data,
        )));
    }
    let mut errors = Vec::new();
    match body.role {
        Role::Admin => errors.push(FieldError::new(
            "/role",
            "admin tokens come from configuration, not the API",
        )),
        Role::QcCentre => {
            if body.hospital.is_some() {
                errors.push(FieldError::new(
                    "/hospital",
                    "a qc_centre token is scoped to a region, not a hospital",
                ));
            }
            match &body.region {
                None => errors.push(FieldError::new(
                    "/region",
                    "is required for a qc_centre token",
                )),
                Some(r) => {
                    code("/region", r, &mut errors);
                    // A registered region (of any level), or the region
                    // of a registered hospital.
                    let registered = app.directory.region(r).await?.is_some()
                        || app.directory.hospitals()?.iter().any(|h| &h.region == r);
                    if !registered {
                        errors.push(FieldError::new(
                            "/region",
                            "is neither a registered region nor the region of a registered hospital",
                        ));
                    }
                }
            }
        }
        Role::SafetyOfficer | Role::Lis | Role::His => {
            if body.region.is_some() {
                errors.push(FieldError::new(
                    "/region",
                    "this role is scoped to a hospital, not a region",
                ));
            }
            match &body.hospital {
                None => errors.push(FieldError::new("/hospital", "is required for this role")),
                Some(h) => {
                    if app.directory.hospital(h).await?.is_none() {
                        errors.push(FieldError::new("/hospital", "is not a registered hospital"));
                    }
                }
            }
        }
    }
    done(errors)?;
    let scope = body
        .hospital
        .clone()
        .unwrap_or_else(|| SYSTEM_SCOPE.to_owned());
    let issued_event = org::TokenIssued {
        token_hash: token_hash.clone(),
        role: body.role,
        hospital: body.hospital,
        region: body.region,
    };
    let event = new_event(&issued_event, ids::token(&token_hash), scope);
    let committed = app.append(event, Expect::New, idem.as_deref()).await?;
    Ok(created(issued(
        token,
        token_hash,
        committed.seq,
        &committed.envelope.data,
    )))
}

/// The answer for a token, its role and scope as the stored event has them
/// (a retried request answers with the first request's).
fn issued(token: String, token_hash: String, seq: u64, data: &Data) -> TokenIssued {
    let stored = data.parse::<org::TokenIssued>().ok();
    TokenIssued {
        token,
        token_hash,
        role: stored.as_ref().map_or(Role::SafetyOfficer, |t| t.role),
        hospital: stored.as_ref().and_then(|t| t.hospital.clone()),
        region: stored.and_then(|t| t.region),
        seq,
    }
}

/// Revoke a token by a prefix (≥ 8 hex characters) of its hash (admin).
#[utoipa::path(delete, path = "/api/v1/admin/tokens/{prefix}", tag = "admin",
    params(("prefix" = String, Path, description = "At least 8 hex characters of the token's SHA-256")),
    responses((status = 204, description = "Revoked from now on"), CommandErrors),
    security(("bearer" = [])))]
pub async fn revoke_token(
    State(app): State<Intake>,
    principal: Principal,
    ValidPath(prefix): ValidPath<String>,
) -> Result<StatusCode, ApiError> {
    principal.require(ADMIN)?;
    let prefix = prefix.to_ascii_lowercase();
    if prefix.len() < 8 || prefix.len() > 64 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::field(
            "/prefix",
            "must be 8–64 hex characters of the token hash",
        ));
    }
    let matches = app.directory.token_hashes_with_prefix(&prefix)?;
    let (hash, record) = match matches.as_slice() {
        [] => {
            return Err(ApiError::NotFound(format!(
                "no token hash starts with {prefix}"
            )));
        }
        [one] => one.clone(),
        _ => {
            return Err(ApiError::Conflict(format!(
                "{} tokens match {prefix}; give more characters",
                matches.len()
            )));
        }
    };
    if record.revoked {
        return Ok(StatusCode::NO_CONTENT);
    }
    let scope = record
        .hospital
        .clone()
        .unwrap_or_else(|| SYSTEM_SCOPE.to_owned());
    let aggregate = ids::token(&hash);
    let event = new_event(&org::TokenRevoked { token_hash: hash }, aggregate, scope);
    let committed = app.append(event, Expect::Any, None).await?;
    // Revocation must hold for the very next request: wait until the
    // directory has applied it.
    if !app
        .directory
        .handle()
        .wait_for(committed.seq, std::time::Duration::from_secs(5))
        .await
    {
        return Err(ApiError::from(LedgerError::Unavailable(
            "directory did not catch up".into(),
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A hospital's critical-value limits, from now on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetLimits {
    /// Minutes from detection to the clinical unit receiving it (1–1440).
    pub notification_limit_minutes: u32,
    /// Minutes from notification to handling (1–1440).
    pub handling_limit_minutes: u32,
}

/// Set a hospital's critical-value limits (admin). They apply to critical
/// values detected from now on; earlier ones keep the limits they had.
#[utoipa::path(put, path = "/api/v1/admin/hospitals/{code}/limits", tag = "admin",
    params(("code" = String, Path, description = "Hospital code")),
    request_body = SetLimits,
    responses((status = 200, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn set_limits(
    State(app): State<Intake>,
    principal: Principal,
    ValidPath(hospital): ValidPath<String>,
    key: IdempotencyKey,
    // Read after the role check: a caller who may not set limits learns
    // that (403), not what is wrong with the body.
    body: Result<ValidJson<SetLimits>, ApiError>,
) -> Result<Json<Appended>, ApiError> {
    principal.require(ADMIN)?;
    let ValidJson(body) = body?;
    let idem = key.scoped(
        "admin",
        &format!("PUT /api/v1/admin/hospitals/{hospital}/limits"),
    );
    if let Some(first) = app.replayed(idem.as_deref(), org::LimitsSet::TYPE).await? {
        return Ok(Json(Appended { seq: first.seq }));
    }
    let h = app
        .directory
        .hospital(&hospital)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no hospital {hospital}")))?;
    let mut errors = Vec::new();
    for (pointer, v) in [
        (
            "/notification_limit_minutes",
            body.notification_limit_minutes,
        ),
        ("/handling_limit_minutes", body.handling_limit_minutes),
    ] {
        if !(1..=1440).contains(&v) {
            errors.push(FieldError::new(pointer, "must be 1–1440 minutes"));
        }
    }
    done(errors)?;
    let set = org::LimitsSet::from(Limits {
        notification_limit_minutes: body.notification_limit_minutes,
        handling_limit_minutes: body.handling_limit_minutes,
    });
    let event = new_event(&set, ids::limits(&h.code), h.code.clone());
    let committed = app.append(event, Expect::Any, idem.as_deref()).await?;
    Ok(Json(Appended { seq: committed.seq }))
}

/// The registered hospitals and their departments (anyone; the form uses it).
#[utoipa::path(get, path = "/api/v1/hospitals", tag = "reports",
    responses((status = 200, body = Hospitals), QueryErrors))]
pub async fn list_hospitals(State(app): State<Intake>) -> Result<Json<Hospitals>, ApiError> {
    Ok(Json(Hospitals {
        hospitals: app
            .directory
            .hospitals()?
            .into_iter()
            .map(HospitalView::from)
            .collect(),
    }))
}
