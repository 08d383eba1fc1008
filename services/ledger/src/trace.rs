//! W3C trace context through NATS message headers.
//!
//! On append the current span's context is injected into the message headers
//! with the global text-map propagator; a projector extracts it and makes it
//! the parent of its apply span, so one trace runs from the HTTP request into
//! every projector that applies the event. With no exporter configured, ids
//! are still generated and carried, and nothing leaves the process.

use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct HeaderInjector<'a>(&'a mut async_nats::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        // Propagators only emit the fixed, valid names `traceparent` and
        // `tracestate`, so insert cannot meet a bad header name here.
        self.0.insert(key, value.as_str());
    }
}

struct MapExtractor<'a>(&'a [(&'a str, &'a str)]);

impl Extractor for MapExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| *k).collect()
    }
}

/// Injects the current span's context into `headers`; returns the
/// `traceparent` it wrote, if any, for the envelope's `trace` field.
pub fn inject_current(headers: &mut async_nats::HeaderMap) -> Option<String> {
    let cx = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut HeaderInjector(headers))
    });
    headers.get("traceparent").map(|v| v.as_str().to_owned())
}

/// Makes the context carried by `traceparent` the parent of `span`.
pub fn set_parent(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(tp) = traceparent else { return };
    let pairs = [("traceparent", tp)];
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&MapExtractor(&pairs)));
    let _ = span.set_parent(cx);
}
