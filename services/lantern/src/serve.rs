//! Putting the services together: projectors, routes, operations
//! endpoints, graceful shutdown.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use lantern_api::Kernel;
use lantern_api::idempotency::Idempotency;
use lantern_api::json::BODY_LIMIT;
use lantern_api::metrics::Metrics;
use lantern_directory::Directory;
use lantern_projection::{Handle, Runner, runner_in};
use tokio::sync::watch;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::cli::{ServeArgs, ledger};
use crate::ops::{self, Ops};

#[derive(OpenApi)]
#[openapi(
    info(title = "Lantern", description = "Non-punitive adverse-event and critical-value reporting (DESIGN.md, HTTP API v1)"),
    modifiers(&BearerAuth),
    components(schemas(lantern_api::Problem, lantern_api::FieldError)),
    tags(
        (name = "reports", description = "Anonymous reports, receipts, triage, feedback"),
        (name = "admin", description = "Hospitals, departments, tokens"),
        (name = "census", description = "Denominators"),
        (name = "critical_values", description = "Critical values (危急值) and their closed loop"),
        (name = "rates", description = "Per-department rates, small cells suppressed for QC centres"),
        (name = "deaths", description = "Death-case reviews (死亡病例讨论) and their rules"),
        (name = "rca", description = "Root-cause analyses: case files, the queue of serious reports without one, meeting-pack figures"),
        (name = "ops", description = "Health, readiness, metrics, this document"),
        (name = "pages", description = "The report form and receipt page"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Builds the whole application: the router (with the OpenAPI document it
/// serves), the operations router (`/metrics`, never on the public
/// address) and the projector runners to spawn.
pub async fn build(args: &ServeArgs) -> Result<App, Box<dyn std::error::Error>> {
    if args.admin_token.trim().is_empty() {
        return Err("LANTERN_ADMIN_TOKEN is empty: set an admin token".into());
    }
    std::fs::create_dir_all(&args.store.data_dir)?;
    let data = args.store.data_dir.as_path();
    let ledger = ledger(&args.store).await?;
    let metrics = Arc::new(Metrics::default());
    let mut runners = Vec::new();
    let mut handles: Vec<Handle> = Vec::new();
    let mut projector =
        |p: Arc<dyn lantern_projection::Projector>| -> Result<Handle, Box<dyn std::error::Error>> {
            let (runner, handle) = runner_in(&ledger, data, p)?;
            runners.push(runner);
            handles.push(handle.clone());
            Ok(handle)
        };
    let directory = projector(Arc::new(lantern_directory::DirectoryProjector))?;
    let rates = projector(Arc::new(lantern_rates::RatesProjector))?;
    let rca = projector(Arc::new(lantern_rca::RcaProjector))?;
    let mortality = projector(Arc::new(lantern_mortality::MortalityProjector))?;
    let secret = args.secret()?;
    let idempotency = Idempotency::new(secret.clone());
    let kernel = Kernel::new(
        ledger.clone(),
        Directory::new(directory, ledger.clone()),
        args.admin_token.clone(),
        secret,
        metrics.clone(),
    );
    let (intake, intake_runners) = lantern_intake::build(kernel.clone(), data)?;
    handles.push(intake.reports.handle().clone());
    handles.push(intake.critical_values.handle().clone());
    runners.extend(intake_runners);

    let rates = lantern_rates::Rates::new(rates, kernel.auth.clone(), args.k);
    let cases = lantern_rca::Cases::new(rca.clone(), ledger.clone());
    let rca = lantern_rca::Rca::new(kernel.clone(), intake.reports.clone(), rca);
    let mortality = lantern_mortality::Mortality {
        kernel: kernel.clone(),
        handle: mortality,
        rca: cases.clone(),
    };
    let meeting = lantern_meeting::Meeting {
        kernel: kernel.clone(),
        deaths: mortality.clone(),
        rates: rates.clone(),
        reports: intake.reports.clone(),
        rca: cases,
    };

    let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(lantern_intake::router(intake.clone()))
        .merge(lantern_rates::router(rates.clone()))
        .merge(lantern_rca::router(rca.clone()))
        .merge(lantern_mortality::router(mortality.clone()))
        .merge(lantern_meeting::router(meeting.clone()));
    let ops = Ops::new(ledger, handles, metrics.clone(), args.ready_lag);
    let api = api.merge(ops::router(ops.clone()));
    let (router, openapi) = api.split_for_parts();
    // The staff pages are HTML, not API: merged after the OpenAPI document
    // is taken, on the same port.
    let web = lantern_web::Web::new(intake, Some(rates))
        .with_rca(rca)
        .with_mortality(mortality)
        .with_meeting(meeting);
    let router = router
        .merge(lantern_web::router(web))
        .merge(ops::openapi_router(openapi))
        .layer(axum::middleware::from_fn_with_state(
            idempotency,
            lantern_api::idempotency::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            lantern_api::metrics::count_failures,
        ))
        .layer(axum::middleware::from_fn(crate::telemetry::http_span))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    Ok(App {
        router,
        ops: ops::ops_router(ops),
        runners,
    })
}

/// The application, built: what `run` serves, and what a test serves on
/// listeners it bound itself (port 0).
pub struct App {
    /// The public router: form, API, staff web, health.
    pub router: Router,
    /// The operations router: `/metrics`.
    pub ops: Router,
    /// The projector runners, to be spawned.
    pub runners: Vec<Runner>,
}

/// Runs until SIGINT or SIGTERM, then stops taking requests, lets the
/// projectors finish their batch, and exits.
pub async fn run(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(args.http_addr).await?;
    let ops_listener = tokio::net::TcpListener::bind(args.ops_addr).await?;
    serve(&args, listener, ops_listener).await
}

/// Serves the application on listeners the caller bound (tests bind port
/// 0 and read the port back) until SIGINT or SIGTERM.
pub async fn serve(
    args: &ServeArgs,
    listener: tokio::net::TcpListener,
    ops_listener: tokio::net::TcpListener,
) -> Result<(), Box<dyn std::error::Error>> {
    let App {
        router,
        ops,
        runners,
    } = build(args).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for runner in runners {
        let mut rx = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let _ = runner
                .run(async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                })
                .await;
        }));
    }
    tracing::info!(addr = %listener.local_addr()?, ops = %ops_listener.local_addr()?, "lantern listening");
    let (ops_stop_tx, mut ops_stop_rx) = watch::channel(false);
    let ops_task = tokio::spawn(async move {
        axum::serve(ops_listener, ops)
            .with_graceful_shutdown(async move {
                let _ = ops_stop_rx.wait_for(|stop| *stop).await;
            })
            .await
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    let _ = ops_stop_tx.send(true);
    let _ = ops_task.await;
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    tracing::info!("lantern stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
