//! Lantern's intake: the report form, anonymous reports, critical values,
//! census, targets, reference values and the organisation's admin
//! commands — what enters the stream through HTTP. The HTTP kernel it
//! stands on is `lantern-api`.
//!
//! - [`reports`]: the reports read model and its query facade ([`reports::Reports`]);
//! - [`critical`]: the critical-value loop — rules (decide/apply), projector, queries;
//! - [`state`]: [`Intake`], the kernel plus those read models;
//! - [`api`]: the endpoints; [`router`] puts them together.

pub mod api;
pub mod critical;
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
    use api::{admin, census, critical_values, form, receipts, references, reports, targets};
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
        .with_state(app)
}
