//! Lantern's intake: everything that enters the stream through HTTP.
//!
//! - [`domain`]: grades, harms, categories, roles — closed vocabularies as enums;
//! - [`json`], [`query`]: request decoding whose every error names the field;
//! - [`error`]: the one error type and its problem+json mapping;
//! - [`auth`]: bearer tokens, roles and scopes;
//! - [`secrets`]: receipts, tokens, hashes;
//! - [`scrub`]: removing personal data from free text before append;
//! - [`app`]: shared state and the command path (idempotency, append);
//! - [`critical`]: the critical-value loop's rules;
//! - [`directory`], [`reports`], [`critical`]: the intake's read models (projectors);
//! - [`api`]: the endpoints; [`router`] puts them together.

pub mod api;
pub mod app;
pub mod auth;
pub mod critical;
pub mod directory;
pub mod domain;
pub mod error;
pub mod ids;
pub mod json;
pub mod metrics;
pub mod query;
pub mod reports;
pub mod scrub;
pub mod secrets;

use std::path::Path;
use std::sync::Arc;

use lantern_ledger::Ledger;
use lantern_projection::{Handle, Runner, open_or_reset};
use utoipa_axum::{router::OpenApiRouter, routes};

pub use app::Intake;
pub use error::{ApiError, FieldError, Problem};

/// What the intake needs to start.
pub struct IntakeConfig {
    /// The admin token (`LANTERN_ADMIN_TOKEN`).
    pub admin_token: String,
    /// Secret for derived receipts and tokens.
    pub secret: secrets::ServerSecret,
    /// Where the read models live.
    pub data_dir: std::path::PathBuf,
}

/// The intake's state and the runners of its projectors (to be spawned).
pub fn build(
    ledger: Ledger,
    config: IntakeConfig,
    metrics: Arc<metrics::Metrics>,
) -> Result<(Intake, Vec<Runner>), lantern_projection::ProjectionError> {
    let (dir_runner, dir_handle) = runner(
        &ledger,
        &config.data_dir,
        Arc::new(directory::DirectoryProjector),
    )?;
    let (rep_runner, rep_handle) = runner(
        &ledger,
        &config.data_dir,
        Arc::new(reports::ReportsProjector),
    )?;
    let (cv_runner, cv_handle) = runner(
        &ledger,
        &config.data_dir,
        Arc::new(critical::CriticalValuesProjector),
    )?;
    let directory = directory::Directory::new(dir_handle, ledger.clone());
    let app = Intake {
        auth: auth::Auth::new(directory.clone(), config.admin_token),
        reports: reports::Reports::new(rep_handle, ledger.clone()),
        critical_values: critical::CriticalValues::new(cv_handle),
        directory,
        ledger,
        secret: config.secret,
        scrubber: Arc::new(scrub::Scrubber::new()),
        metrics,
    };
    Ok((app, vec![dir_runner, rep_runner, cv_runner]))
}

/// A runner for `projector` on its database under `data_dir`.
pub fn runner(
    ledger: &Ledger,
    data_dir: &Path,
    projector: Arc<dyn lantern_projection::Projector>,
) -> Result<(Runner, Handle), lantern_projection::ProjectionError> {
    let db = open_or_reset(
        projector.as_ref(),
        &data_dir.join(format!("{}.sled", projector.name())),
    )?;
    Runner::new(ledger.clone(), projector, db)
}

/// The intake's routes, with their OpenAPI description.
pub fn router(app: Intake) -> OpenApiRouter {
    use api::{admin, census, critical_values, form, receipts, reports};
    OpenApiRouter::new()
        .routes(routes!(form::index))
        .routes(routes!(form::receipt_page))
        .routes(routes!(form::asset))
        .routes(routes!(admin::list_hospitals))
        .routes(routes!(admin::register_hospital))
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
        .routes(routes!(critical_values::detect, critical_values::worklist))
        .routes(routes!(critical_values::get_one))
        .routes(routes!(critical_values::notified))
        .routes(routes!(critical_values::acknowledged))
        .routes(routes!(critical_values::handled))
        .with_state(app)
}
