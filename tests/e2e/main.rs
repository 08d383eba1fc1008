//! End-to-end: the whole of Lantern over HTTP, as a separate process,
//! against a real nats-server.

// A test panics on a broken expectation by design: it may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod anonymity;
mod api;
mod bad_input;
mod cluster;
mod critical;
mod deaths;
mod faults;
mod federation;
mod fhir;
mod followups;
mod grades;
mod hardening;
mod hierarchy;
mod hl7;
mod idempotency;
mod meeting;
mod periodic;
mod published;
mod rca;
mod references;
mod region;
mod replicas;
mod reports;
mod scope;
mod security;
mod stream;
mod targets;
mod telemetry;
mod web;
