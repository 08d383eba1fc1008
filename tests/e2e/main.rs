//! End-to-end: the whole of Lantern over HTTP, as a separate process,
//! against a real nats-server.

mod anonymity;
mod api;
mod rca;
mod reports;
