//! Logs and traces.
//!
//! `tracing` for logs (filter with `RUST_LOG`); OpenTelemetry spans from
//! each HTTP request through the append (W3C trace context in the NATS
//! headers) into each projector's apply. Spans are exported over OTLP only
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise ids are generated
//! and propagated and nothing leaves the process.
//!
//! The request span records method and route template only: never the
//! client address, user agent or concrete path (which may hold a receipt).

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Shuts the tracer provider down (flushing spans) when dropped.
pub struct Telemetry(SdkTracerProvider);

impl Drop for Telemetry {
    fn drop(&mut self) {
        // Shutting down waits for the batch task, which runs on this
        // runtime: let the other workers run it while this one waits.
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_thread {
            let _ = tokio::task::block_in_place(|| self.0.shutdown());
        } else {
            let _ = self.0.shutdown();
        }
    }
}

/// Installs logging, tracing and the W3C propagator.
pub fn init() -> Result<Telemetry, Box<dyn std::error::Error>> {
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let mut builder = SdkTracerProvider::builder();
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()?;
        // Batches are exported from a task on this tokio runtime: the
        // exporter's hyper client needs its reactor. (The SDK's default
        // processor exports from a plain thread, where the first export
        // panicked with "there is no reactor running".)
        let processor =
            BatchSpanProcessor::builder(exporter, opentelemetry_sdk::runtime::Tokio).build();
        builder = builder.with_span_processor(processor);
    }
    let provider = builder.build();
    let tracer = provider.tracer("lantern");
    opentelemetry::global::set_tracer_provider(provider.clone());
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_filter(filter()))
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(filter()),
        )
        .try_init()?;
    Ok(Telemetry(provider))
}

/// A span per request: child of the caller's `traceparent` only when the
/// caller is staff (sends a bearer token). An anonymous request — a
/// clinician's report, a receipt — starts a fresh root trace, so no trace id
/// a proxy logged beside an address can be joined to what it stored.
pub async fn http_span(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let span = tracing::info_span!("http.request", method = %req.method(), route = %route, status = tracing::field::Empty);
    let staff = req
        .headers()
        .contains_key(axum::http::header::AUTHORIZATION);
    let traceparent = req
        .headers()
        .get("traceparent")
        .filter(|_| staff)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    lantern_ledger::trace::set_parent(&span, traceparent.as_deref());
    let response = next.run(req).instrument(span.clone()).await;
    span.record("status", response.status().as_u16());
    response
}
