//! Putting the services together: projectors, routes, operations
//! endpoints, graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use lantern_api::Kernel;
use lantern_api::headers;
use lantern_api::idempotency::Idempotency;
use lantern_api::json::BODY_LIMIT;
use lantern_api::metrics::Metrics;
use lantern_api::ratelimit::{self, RateLimitSettings, RateLimits};
use lantern_directory::Directory;
use lantern_projection::{Handle, Runner, runner_in};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::config::{ServeArgs, ledger};
use crate::ops::{self, Ops};
use crate::patience::{START_PATIENCE, patiently};

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
        (name = "targets", description = "Targets by indicator, scope (national, region, hospital) and year, with their history"),
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
    let tier = args.store.tier()?;
    let tier_is_hub = tier.region().is_some();
    std::fs::create_dir_all(&args.store.data_dir)?;
    let data = args.store.data_dir.as_path();
    let ledger = patiently("open the stream", START_PATIENCE, || ledger(&args.store)).await?;
    // Before anything is served or appended: a replica with another secret
    // would issue receipts no other replica knows.
    let secret = patiently("check the server secret", START_PATIENCE, || async {
        Ok(crate::shared_secret::shared_secret(&ledger, &args.secret_path()).await?)
    })
    .await?;
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
    let followups = projector(Arc::new(lantern_meeting::followups::FollowUpsProjector))?;
    let idempotency = Idempotency::new(secret.clone());
    let sessions = patiently("open the sessions bucket", START_PATIENCE, || async {
        Ok(
            lantern_web::session::Sessions::open(&ledger, secret.clone(), &args.admin_token)
                .await?,
        )
    })
    .await?;
    let kernel = Kernel::new(
        ledger.clone(),
        Directory::new(directory, ledger.clone()),
        args.admin_token.clone(),
        secret,
        metrics.clone(),
    )
    .with_tier(tier);
    let limits = (args.rate_limits == "on").then(|| {
        RateLimits::new(
            RateLimitSettings {
                anonymous_writes: args.rate_limit_anon_writes,
                anonymous_reads: args.rate_limit_anon_reads,
                auth_failures: args.rate_limit_auth_failures,
                trusted_proxies: args.trusted_proxy.clone(),
                session_cookie: lantern_web::session::SESSION_COOKIE,
            },
            kernel.auth.clone(),
        )
    });
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
        followups: lantern_meeting::followups::FollowUps {
            kernel: kernel.clone(),
            handle: followups,
        },
        published: Default::default(),
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
    let intake_for_fhir = intake.clone();
    let follow = tier_is_hub.then(|| intake.clone());
    let hl7 = lantern_intake::interop::hl7::Hl7::new(
        intake.clone(),
        lantern_intake::interop::hl7::parse_sources(&args.mllp_sources)
            .map_err(|e| format!("LANTERN_MLLP_SOURCES: {e}"))?,
    );
    let web = lantern_web::Web::new(intake, sessions, Some(rates))
        .with_rca(rca)
        .with_mortality(mortality)
        .with_meeting(meeting);
    let router = router
        .merge(lantern_web::router(web))
        .merge(lantern_intake::fhir_router(intake_for_fhir))
        .merge(ops::openapi_router(openapi))
        // Every route is in: what none answers is problem+json too.
        .fallback(headers::not_found)
        .method_not_allowed_fallback(headers::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            idempotency,
            lantern_api::idempotency::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            lantern_api::metrics::count_failures,
        ));
    // Outside the idempotency guard: a 429 is never kept as a key's answer.
    let router = match limits {
        Some(limits) => router.layer(axum::middleware::from_fn_with_state(
            limits,
            ratelimit::limit,
        )),
        None => router,
    };
    let router = router
        .layer(axum::middleware::from_fn(crate::telemetry::http_span))
        .layer(axum::middleware::from_fn(headers::secure))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    Ok(App {
        router,
        ops: ops::ops_router(ops),
        runners,
        hl7,
        follow,
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
    /// The HL7 v2 feed, served when `LANTERN_MLLP_ADDR` is set.
    pub hl7: lantern_intake::interop::hl7::Hl7,
    /// At a hub: what follows its linked regions' links
    /// (`lantern_intake::organisation::links::follow`).
    pub follow: Option<lantern_intake::Intake>,
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
        hl7,
        follow,
    } = build(args).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    if let Some(intake) = follow {
        tasks.push(tokio::spawn(lantern_intake::organisation::links::follow(
            intake,
            stop_rx.clone(),
        )));
    }
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
    let (mllp_stop_tx, mllp_stop_rx) = watch::channel(false);
    let mllp = match args.mllp_addr {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(addr = %listener.local_addr()?, "mllp listening");
            Some(tokio::spawn(hl7.serve(listener, mllp_stop_rx)))
        }
        None => None,
    };
    serve_public(args, listener, router, shutdown_signal()).await;
    let _ = mllp_stop_tx.send(true);
    if let Some(task) = mllp {
        let _ = task.await;
    }
    let _ = ops_stop_tx.send(true);
    let _ = ops_task.await;
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    tracing::info!("lantern stopped");
    Ok(())
}

/// How long a stopping server waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(30);

/// The public address's accept loop: at most `max_connections`
/// connections at once (the rest wait in the listen backlog), each with a
/// header-read deadline (hyper's, also between requests on a kept-alive
/// connection) and a body that errors once it stalls; the peer's address
/// goes to the rate limits in the request's extensions.
async fn serve_public(
    args: &ServeArgs,
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let max = usize::try_from(args.max_connections).unwrap_or(Semaphore::MAX_PERMITS);
    let connections = Arc::new(Semaphore::new(max.min(Semaphore::MAX_PERMITS)));
    let body_timeout = Duration::from_secs(args.body_timeout_secs);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(args.header_timeout_secs));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather
                    // than spin; the error names no client.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let mut req = req.map(|body| Body::new(TimeoutBody::new(body_timeout, body)));
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(req)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that goes away or times out is not the server's error.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(DRAIN) => tracing::warn!("requests still in flight after the drain"),
    }
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
