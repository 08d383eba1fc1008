//! Lantern's intake: the report form, anonymous reports, critical values,
//! census, targets, reference values and the organisation's admin
//! commands — what enters the stream through HTTP. The HTTP kernel it
//! stands on is `lantern-api`.
//!
//! One folder per context, each `rules` (pure), `projector`, `queries`
//! (the facade other contexts read through) and `api`:
//! - [`reports`]: anonymous reports, their triage, feedback and receipts;
//! - [`critical`]: the critical-value loop (decide/apply);
//! - [`census`]: discharges and patient-days, the rates' denominators;
//! - [`organisation`]: regions, hospitals, tokens, limits, targets, references;
//! - [`form`]: the reporter's web form and its assets;
//! - [`interop`]: FHIR R4 ([`fhir_router`]), the formats other systems read;
//! - [`state`]: [`Intake`], the kernel plus the read models; [`router`]
//!   puts the endpoints together.

pub mod census;
pub mod critical;
pub mod form;
pub mod interop;
pub mod organisation;
pub mod reports;
pub mod state;

use std::path::Path;
use std::sync::Arc;

use lantern_api::Kernel;
use lantern_projection::{ProjectionError, Runner, runner_in};
use utoipa_axum::{router::OpenApiRouter, routes};

pub use state::Intake;

/// The intake's state over `kernel`, and the runners of its projectors
/// (reports, critical values; to be spawned), their databases in `data_dir`.
pub fn build(kernel: Kernel, data_dir: &Path) -> Result<(Intake, Vec<Runner>), ProjectionError> {
    let ledger = kernel.ledger.clone();
    let (rep_runner, rep_handle) =
        runner_in(&ledger, data_dir, Arc::new(reports::ReportsProjector))?;
    let (cv_runner, cv_handle) = runner_in(
        &ledger,
        data_dir,
        Arc::new(critical::CriticalValuesProjector),
    )?;
    let app = Intake {
        reports: reports::Reports::new(rep_handle, ledger),
        critical_values: critical::CriticalValues::new(cv_handle),
        kernel,
    };
    Ok((app, vec![rep_runner, cv_runner]))
}

/// The intake's routes, with their OpenAPI description.
pub fn router(app: Intake) -> OpenApiRouter {
    use crate::reports::receipts;
    use critical::api as critical_values;
    use organisation::{admin, links, references, targets};
    use reports::api as reports;
    OpenApiRouter::new()
        .routes(routes!(form::index))
        .routes(routes!(form::receipt_page))
        .routes(routes!(form::asset))
        .routes(routes!(admin::list_hospitals))
        .routes(routes!(admin::register_hospital))
        .routes(routes!(admin::register_region))
        .routes(routes!(admin::register_department))
        .routes(routes!(admin::issue_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(links::link_hospital))
        .routes(routes!(reports::file_report, reports::list_reports))
        .routes(routes!(reports::get_report))
        .routes(routes!(reports::triage_report))
        .routes(routes!(reports::post_feedback))
        .routes(routes!(receipts::get_receipt))
        .routes(routes!(receipts::add_follow_up))
        .routes(routes!(census::record_census))
        .routes(routes!(admin::set_limits))
        .routes(routes!(targets::set_target, targets::list_targets))
        .routes(routes!(
            references::set_reference,
            references::list_references
        ))
        .routes(routes!(critical_values::detect, critical_values::worklist))
        .routes(routes!(critical_values::get_one))
        .routes(routes!(critical_values::notified))
        .routes(routes!(critical_values::acknowledged))
        .routes(routes!(critical_values::handled))
        .routes(routes!(critical::catalogue::set_item))
        .routes(routes!(critical::catalogue::get_catalogue))
        .with_state(app)
}

/// The FHIR R4 routes (`/fhir/r4`), described by their own capability
/// statement rather than the OpenAPI document.
pub fn fhir_router(app: Intake) -> axum::Router {
    interop::fhir::api::router(app)
}
