//! Putting the services together: projectors, routes, operations
//! endpoints, graceful shutdown.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use lantern_intake::metrics::Metrics;
use lantern_intake::{IntakeConfig, json::BODY_LIMIT};
use lantern_projection::{Handle, Runner};
use tokio::sync::watch;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::cli::{ServeArgs, ledger};
use crate::ops::{self, Ops};

/// Which services a process runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Services {
    intake: bool,
    rates: bool,
    rca: bool,
    mortality: bool,
}

impl Services {
    /// Everything (`lantern serve`).
    pub const ALL: Services = Services {
        intake: true,
        rates: true,
        rca: true,
        mortality: true,
    };
    /// The intake alone.
    pub const INTAKE: Services = Services {
        intake: true,
        rates: false,
        rca: false,
        mortality: false,
    };
    /// The rates alone (with the directory, for authentication).
    pub const RATES: Services = Services {
        intake: false,
        rates: true,
        rca: false,
        mortality: false,
    };
    /// The root-cause analyses alone (with the directory, for
    /// authentication, and the reports, which an analysis is opened on).
    pub const RCA: Services = Services {
        intake: false,
        rates: false,
        rca: true,
        mortality: false,
    };
    /// The death-case reviews and the monthly pack alone (with the read
    /// models the pack draws on).
    pub const MORTALITY: Services = Services {
        intake: false,
        rates: false,
        rca: false,
        mortality: true,
    };
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Lantern", description = "Non-punitive adverse-event and critical-value reporting (DESIGN.md, HTTP API v1)"),
    modifiers(&BearerAuth),
    components(schemas(lantern_intake::Problem, lantern_intake::FieldError)),
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
/// serves) and the projector runners to spawn.
pub async fn build(
    args: &ServeArgs,
    services: Services,
) -> Result<(Router, Vec<Runner>), Box<dyn std::error::Error>> {
    if args.admin_token.trim().is_empty() {
        return Err("LANTERN_ADMIN_TOKEN is empty: set an admin token".into());
    }
    std::fs::create_dir_all(&args.store.data_dir)?;
    let ledger = ledger(&args.store).await?;
    let metrics = Arc::new(Metrics::default());
    let (intake, mut runners) = lantern_intake::build(
        ledger.clone(),
        IntakeConfig {
            admin_token: args.admin_token.clone(),
            secret: args.secret()?,
            data_dir: args.store.data_dir.clone(),
        },
        metrics.clone(),
    )?;
    // What each service reads: the rca service checks the reports an
    // analysis names; the monthly pack reads reports, rates and analyses.
    let needs_reports = services.intake || services.rca || services.mortality;
    let needs_rates = services.rates || services.mortality;
    let needs_rca = services.rca || services.mortality;
    runners.retain(|r| match r.name() {
        "reports" => needs_reports,
        "critical_values" => services.intake,
        _ => true,
    });
    let mut handles: Vec<Handle> = vec![intake.directory.handle().clone()];
    if needs_reports {
        handles.push(intake.reports.handle().clone());
    }
    let mut api = OpenApiRouter::with_openapi(ApiDoc::openapi());
    if services.intake {
        handles.push(intake.critical_values.handle().clone());
        api = api.merge(lantern_intake::router(intake.clone()));
    }
    let mut projector =
        |p: Arc<dyn lantern_projection::Projector>| -> Result<Handle, Box<dyn std::error::Error>> {
            let (runner, handle) = lantern_intake::runner(&ledger, &args.store.data_dir, p)?;
            runners.push(runner);
            handles.push(handle.clone());
            Ok(handle)
        };
    let rates = needs_rates
        .then(|| projector(Arc::new(lantern_rates::RatesProjector)))
        .transpose()?;
    let rca = needs_rca
        .then(|| projector(Arc::new(lantern_rca::RcaProjector)))
        .transpose()?;
    let mortality = services
        .mortality
        .then(|| projector(Arc::new(lantern_mortality::MortalityProjector)))
        .transpose()?;
    let rates_query = match (services.rates, &rates) {
        (true, Some(handle)) => Some(lantern_rates::Rates::new(
            handle.clone(),
            intake.auth.clone(),
            args.k,
        )),
        _ => None,
    };
    if let Some(r) = &rates_query {
        api = api.merge(lantern_rates::router(r.clone()));
    }
    let rca_service = match (services.rca, &rca) {
        (true, Some(handle)) => Some(lantern_rca::Rca::new(intake.clone(), handle.clone())),
        _ => None,
    };
    if let Some(r) = &rca_service {
        api = api.merge(lantern_rca::router(r.clone()));
    }
    let mortality_service = match (mortality, rates, rca) {
        (Some(handle), Some(rates), Some(rca)) => Some(lantern_mortality::Mortality {
            intake: intake.clone(),
            handle,
            rates,
            rca: lantern_rca::Cases::new(rca, ledger.clone()),
            k: args.k,
        }),
        _ => None,
    };
    if let Some(m) = &mortality_service {
        api = api.merge(lantern_mortality::router(m.clone()));
    }
    let ops = Ops::new(ledger, handles, metrics.clone(), args.ready_lag);
    api = api.merge(ops::router(ops));
    let (router, openapi) = api.split_for_parts();
    // The staff pages are HTML, not API: merged after the OpenAPI document
    // is taken, on the same port, with the intake (they write through it).
    let router = if services.intake {
        let mut web = lantern_web::Web::new(intake.clone(), rates_query);
        if let Some(r) = rca_service {
            web = web.with_rca(r);
        }
        if let Some(m) = mortality_service {
            web = web.with_mortality(m);
        }
        router.merge(lantern_web::router(web))
    } else {
        router
    };
    let router = router
        .merge(ops::openapi_router(openapi))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            lantern_intake::metrics::count_failures,
        ))
        .layer(axum::middleware::from_fn(crate::telemetry::http_span))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    Ok((router, runners))
}

/// Runs until SIGINT or SIGTERM, then stops taking requests, lets the
/// projectors finish their batch, and exits.
pub async fn run(args: ServeArgs, services: Services) -> Result<(), Box<dyn std::error::Error>> {
    let (router, runners) = build(&args, services).await?;
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
    let listener = tokio::net::TcpListener::bind(args.http_addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "lantern listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
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
