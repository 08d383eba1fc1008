//! The HTTP API of root-cause analyses (DESIGN.md, "Root-cause analyses").
//!
//! - [`commands`]: open a case and add each step (safety officer of the
//!   hospital), every one idempotent under an `Idempotency-Key`;
//! - [`reads`]: a case file, a hospital's cases, the queue of reports that
//!   need an analysis, the figures (safety officer; QC centre of the region).

pub mod commands;
pub mod reads;

use lantern_api::ApiError;
use lantern_api::auth::Principal;
use lantern_directory::HospitalRecord;
use lantern_domain::vocab::Role;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::error::RcaError;
use crate::projector::CaseRecord;
use crate::service::Rca;

/// Who writes case files.
const WRITERS: &[Role] = &[Role::SafetyOfficer];

/// Who reads them.
const READERS: &[Role] = &[Role::SafetyOfficer, Role::QcCentre];

/// The routes of the rca API, with their OpenAPI description.
pub fn router(rca: Rca) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(commands::open_rca, reads::list_rcas))
        .routes(routes!(reads::required))
        .routes(routes!(reads::figures))
        .routes(routes!(reads::get_rca))
        .routes(routes!(commands::add_timeline))
        .routes(routes!(commands::add_factor))
        .routes(routes!(commands::confirm_root_causes))
        .routes(routes!(commands::plan_action))
        .routes(routes!(commands::complete_action))
        .routes(routes!(commands::close_rca))
        .with_state(rca)
}

/// The case id of a path: anything that is not a UUID names no case (404,
/// as problem+json, rather than the router's plain-text 400).
fn case_id(segment: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(segment).map_err(|_| RcaError::NotFound.into())
}

/// A registered hospital, or 422 naming `pointer`.
async fn hospital(rca: &Rca, code: &str, pointer: &str) -> Result<HospitalRecord, ApiError> {
    rca.kernel
        .directory
        .hospital(code)
        .await?
        .ok_or_else(|| ApiError::field(pointer, "is not a registered hospital"))
}

/// The case `id` and its hospital, if the principal has one of `roles` in
/// the hospital's scope: 404 for no such case, 403 out of scope.
async fn case_for(
    rca: &Rca,
    principal: &Principal,
    roles: &[Role],
    id: Uuid,
) -> Result<(CaseRecord, HospitalRecord), ApiError> {
    principal.require(roles)?;
    let record = rca
        .cases
        .record_fresh(id)
        .await?
        .ok_or(RcaError::NotFound)?;
    let hospital = rca
        .kernel
        .directory
        .hospital(&record.hospital)
        .await?
        .ok_or_else(|| ApiError::internal(format!("case {id} of unknown hospital")))?;
    principal.require_in(roles, &hospital)?;
    Ok((record, hospital))
}
