//! Fuzz bodies for Lantern's input paths and projectors.
//!
//! Each public function takes arbitrary bytes and panics when an invariant
//! breaks. `fuzz/fuzz_targets/<name>.rs` hands them to libFuzzer
//! (`make fuzz`); `tests/corpora.rs` replays every file of
//! `fuzz/corpus/<name>/` and `fuzz/artifacts/<name>/` through them, so the
//! corpora are regression tests in `make test`.
//!
//! | target | what it fuzzes |
//! |---|---|
//! | `scrub` | [`lantern_api::scrub::Scrubber::scrub`] on any text |
//! | `decode_report` | `json::decode::<FileReport>` on any bytes, then the handler's checks and the schema |
//! | `schema_validate` | the schema registry on any JSON, for each event type, and what the projectors make of what it accepts |
//! | `project_directory`, `project_reports`, `project_critical`, `project_rates`, `project_rca`, `project_mortality` | each projector on event sequences with redelivery, commits and crashes |

// Fuzz bodies panic when an invariant breaks: that is how they report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod decode;
pub mod input;
pub mod projectors;
pub mod scenario;
pub mod schema;
pub mod scrub;
pub mod seeds;

/// A fuzz body.
pub type Body = fn(&[u8]);

/// Every target: its name (the directory under `fuzz/corpus/` and the file
/// under `fuzz/fuzz_targets/`) and its body.
pub const TARGETS: &[(&str, Body)] = &[
    ("scrub", scrub::scrub),
    ("decode_report", decode::decode_report),
    ("schema_validate", schema::schema_validate),
    ("project_directory", projectors::project_directory),
    ("project_reports", projectors::project_reports),
    ("project_critical", projectors::project_critical),
    ("project_rates", projectors::project_rates),
    ("project_rca", projectors::project_rca),
    ("project_mortality", projectors::project_mortality),
];

pub use decode::decode_report;
pub use projectors::{
    project_critical, project_directory, project_mortality, project_rates, project_rca,
    project_reports,
};
pub use schema::schema_validate;
pub use scrub::scrub;
