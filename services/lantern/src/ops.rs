//! Operations: `/healthz`, `/readyz`, `/api/v1/openapi.json` on the public
//! address; `/metrics` on the operations address only.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lantern_api::ApiError;
use lantern_api::metrics::Metrics;
use lantern_ledger::Ledger;
use lantern_projection::Handle;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// What the operations endpoints look at.
#[derive(Clone)]
pub struct Ops {
    ledger: Ledger,
    projectors: Vec<Handle>,
    registry: Arc<Registry>,
    position: Family<ProjectorLabel, Gauge>,
    lag: Family<ProjectorLabel, Gauge>,
    rejected: Family<ProjectorLabel, Counter>,
    last: Gauge,
    group: Family<GroupLabel, Gauge>,
    ready_lag: u64,
}

/// Labels: what group commit counted.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupLabel {
    /// `batches`, `batched_events`, `refused_batches` or `alone_events`.
    counted: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProjectorLabel {
    projector: String,
}

impl Ops {
    /// Operations over the ledger and the projectors of this process.
    pub fn new(
        ledger: Ledger,
        projectors: Vec<Handle>,
        metrics: Arc<Metrics>,
        ready_lag: u64,
    ) -> Ops {
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let position = Family::<ProjectorLabel, Gauge>::default();
        let lag = Family::<ProjectorLabel, Gauge>::default();
        let last = Gauge::default();
        registry.register(
            "lantern_projector_position",
            "Last stream sequence applied by each projector",
            position.clone(),
        );
        registry.register(
            "lantern_projector_lag",
            "Events in the stream a projector has not applied yet",
            lag.clone(),
        );
        let rejected = Family::<ProjectorLabel, Counter>::default();
        registry.register(
            "lantern_events_rejected",
            "Events a projector skipped since start because they do not decode or do not match their schema (each is logged by its sequence)",
            rejected.clone(),
        );
        registry.register(
            "lantern_stream_last_sequence",
            "Last sequence in the LANTERN stream",
            last.clone(),
        );
        let group = Family::<GroupLabel, Gauge>::default();
        registry.register(
            "lantern_group_commit",
            "Group commit since start: atomic batches of two or more stored, events in them, batches refused (members then appended one by one), events appended alone",
            group.clone(),
        );
        Ops {
            ledger,
            projectors,
            registry: Arc::new(registry),
            position,
            lag,
            rejected,
            last,
            group,
            ready_lag,
        }
    }
}

/// Liveness.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// One projector's position.
#[derive(Serialize, ToSchema)]
pub struct ProjectorState {
    /// Name.
    pub projector: &'static str,
    /// Last applied stream sequence.
    pub applied: u64,
    /// Events behind the stream.
    pub lag: u64,
    /// Whether its runner is alive.
    pub running: bool,
}

/// Readiness.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// Whether NATS answers and every projector is within its lag bound.
    pub ready: bool,
    /// Last sequence in the stream (null when NATS does not answer).
    pub stream_last_sequence: Option<u64>,
    /// Each projector.
    pub projectors: Vec<ProjectorState>,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// NATS answers and every projector is within its lag bound (else 503).
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(ops): State<Ops>) -> Response {
    let last = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        ops.ledger.last_sequence(),
    )
    .await
    .ok()
    .and_then(Result::ok);
    let projectors: Vec<ProjectorState> = ops
        .projectors
        .iter()
        .map(|h| ProjectorState {
            projector: h.name(),
            applied: h.applied(),
            lag: last.map_or(0, |l| l.saturating_sub(h.applied())),
            running: h.is_running(),
        })
        .collect();
    let ready = last.is_some()
        && projectors
            .iter()
            .all(|p| p.running && p.lag <= ops.ready_lag);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            ready,
            stream_last_sequence: last,
            projectors,
        }),
    )
        .into_response()
}

/// Prometheus text: appends, validation failures, projector position and
/// lag, events the projectors rejected, group commit's batches. Served only on the operations address: its
/// counters time every filing (DESIGN "Operations", "Anonymity rules").
pub async fn metrics(State(ops): State<Ops>) -> Result<Response, ApiError> {
    let last = ops.ledger.last_sequence().await.ok();
    if let Some(last) = last {
        ops.last.set(i64::try_from(last).unwrap_or(i64::MAX));
    }
    for h in &ops.projectors {
        let label = ProjectorLabel {
            projector: h.name().to_owned(),
        };
        ops.position
            .get_or_create(&label)
            .set(i64::try_from(h.applied()).unwrap_or(i64::MAX));
        // The runner counts; the counter follows it (never backwards, even
        // when two scrapes race).
        ops.rejected
            .get_or_create(&label)
            .inner()
            .fetch_max(h.rejected(), std::sync::atomic::Ordering::Relaxed);
        if let Some(last) = last {
            ops.lag
                .get_or_create(&label)
                .set(i64::try_from(last.saturating_sub(h.applied())).unwrap_or(i64::MAX));
        }
    }
    if let Some(g) = ops.ledger.group_stats() {
        for (counted, n) in [
            ("batches", g.batches),
            ("batched_events", g.batched),
            ("refused_batches", g.refused),
            ("alone_events", g.alone),
        ] {
            ops.group
                .get_or_create(&GroupLabel { counted })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &ops.registry)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

/// The public operations endpoints: health and readiness.
pub fn router(ops: Ops) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .with_state(ops)
}

/// The operations address's routes (`LANTERN_OPS_ADDR`): `/metrics`.
pub fn ops_router(ops: Ops) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .with_state(ops)
}

/// `GET /api/v1/openapi.json`: the document generated from the routes, with
/// itself added.
pub fn openapi_router(mut openapi: utoipa::openapi::OpenApi) -> axum::Router {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    use utoipa::openapi::response::ResponseBuilder;
    let op = OperationBuilder::new()
        .tag("ops")
        .summary(Some("This OpenAPI document"))
        .response(
            "200",
            ResponseBuilder::new()
                .description("OpenAPI 3.1 document")
                .build(),
        )
        .build();
    openapi.paths.paths.insert(
        "/api/v1/openapi.json".to_owned(),
        PathItem::new(HttpMethod::Get, op),
    );
    let doc = Arc::new(openapi);
    axum::Router::new().route(
        "/api/v1/openapi.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { Json(doc.as_ref().clone()) }
        }),
    )
}
