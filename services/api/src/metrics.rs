//! Prometheus metrics of the intake: appends by event type, validation
//! failures by endpoint, personal data scrubbed by kind.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// Labels: the event type.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventTypeLabel {
    /// e.g. `report.filed`.
    pub event_type: String,
}

/// Labels: the route (the matched path template, never the concrete URL).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    /// e.g. `POST /api/v1/reports`.
    pub route: String,
}

/// Labels: the kind of personal data.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PiiLabel {
    /// e.g. `Phone`.
    pub kind: String,
}

/// The intake's counters.
#[derive(Default)]
pub struct Metrics {
    /// Events appended (not counting idempotent replays).
    pub appends: Family<EventTypeLabel, Counter>,
    /// Requests refused as invalid (400, 413, 415, 422).
    pub validation_failures: Family<RouteLabel, Counter>,
    /// Pieces of personal data removed from free text.
    pub pii_scrubbed: Family<PiiLabel, Counter>,
}

impl Metrics {
    /// Registers the counters.
    pub fn register(self: &Arc<Self>, registry: &mut Registry) {
        registry.register(
            "lantern_appends",
            "Events appended to the stream",
            self.appends.clone(),
        );
        registry.register(
            "lantern_validation_failures",
            "Requests refused as invalid, by route",
            self.validation_failures.clone(),
        );
        registry.register(
            "lantern_pii_scrubbed",
            "Pieces of personal data removed from free text before append",
            self.pii_scrubbed.clone(),
        );
    }

    /// Counts an append.
    pub fn appended(&self, event_type: &str) {
        self.appends
            .get_or_create(&EventTypeLabel {
                event_type: event_type.to_owned(),
            })
            .inc();
    }
}

/// Middleware counting invalid requests by route.
pub async fn count_failures(
    State(metrics): State<Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| format!("{} {}", req.method(), p.as_str()));
    let response = next.run(req).await;
    if matches!(response.status().as_u16(), 400 | 413 | 415 | 422)
        && let Some(route) = route
    {
        metrics
            .validation_failures
            .get_or_create(&RouteLabel { route })
            .inc();
    }
    response
}
