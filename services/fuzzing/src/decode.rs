//! Request decoding and validation of an anonymous report, on any bytes.
//!
//! Invariants:
//! - decoding never panics, and answers only 400, 413 or 422 (or success);
//! - 400 (malformed) only for what is not JSON text: valid JSON is never
//!   refused as malformed, and what decodes is valid JSON;
//! - every 422 names at least one field, each by a JSON Pointer that starts
//!   with `/`; only a body that is not an object may be pointed at as a
//!   whole (`""`); in an object the first token is a field of the request
//!   or a key of the body;
//! - a report that passes the handler's own checks builds `report.filed`
//!   data that the schema accepts, save a free text that scrubbing made
//!   longer than its limit (each marker can be longer than what it replaced).

use std::sync::OnceLock;

use lantern_api::error::{ApiError, FieldError};
use lantern_api::json::{BODY_LIMIT, decode};
use lantern_api::scrub::Scrubber;
use lantern_domain::events::Event;
use lantern_intake::reports::rules::FileReport;
use lantern_ledger::{LedgerError, SchemaRegistry};
use serde_json::Value;

/// The fields of [`FileReport`].
const FIELDS: &[&str] = &[
    "hospital",
    "department",
    "occurred_at",
    "grade",
    "category",
    "harm",
    "location",
    "description",
    "immediate_actions",
    "reporter_role",
    "patient_age_band",
];

/// The free-text fields with their limits (request checks and schema alike).
const TEXTS: &[(&str, usize)] = &[
    ("/description", 4000),
    ("/location", 200),
    ("/immediate_actions", 2000),
];

pub(crate) fn registry() -> &'static SchemaRegistry {
    static REGISTRY: OnceLock<SchemaRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| SchemaRegistry::embedded().expect("the embedded schemas compile"))
}

fn scrubber() -> &'static Scrubber {
    static SCRUBBER: OnceLock<Scrubber> = OnceLock::new();
    SCRUBBER.get_or_init(Scrubber::new)
}

/// The fuzz body: `data` as the body of `POST /api/v1/reports`.
pub fn decode_report(data: &[u8]) {
    let result = decode::<FileReport>(data);
    let json: Option<Value> = std::str::from_utf8(data)
        .ok()
        .and_then(|t| serde_json::from_str(t).ok());
    match result {
        Ok(report) => {
            assert!(json.is_some(), "decoded what is not JSON: {data:?}");
            check_built_data(&report);
        }
        Err(ApiError::Malformed(message)) => assert!(
            json.is_none(),
            "valid JSON refused as malformed ({message}): {}",
            String::from_utf8_lossy(data)
        ),
        Err(ApiError::PayloadTooLarge(_)) => assert!(data.len() > BODY_LIMIT),
        Err(ApiError::Invalid(errors)) => {
            let json = json.as_ref();
            assert!(
                !errors.is_empty(),
                "422 naming no field: {}",
                String::from_utf8_lossy(data)
            );
            for e in &errors {
                check_pointer(e, json, data);
            }
        }
        Err(other) => panic!(
            "decoding answered {other:?} for {}",
            String::from_utf8_lossy(data)
        ),
    }
}

fn check_pointer(e: &FieldError, json: Option<&Value>, data: &[u8]) {
    let body = String::from_utf8_lossy(data);
    let object = json.and_then(Value::as_object);
    if e.pointer.is_empty() {
        assert!(
            object.is_none(),
            "a 422 on an object points at the whole body: {e:?} for {body}"
        );
        return;
    }
    assert!(
        e.pointer.starts_with('/'),
        "422 pointer {:?} does not start with '/': {e:?} for {body}",
        e.pointer
    );
    if let Some(object) = object {
        let first = e.pointer[1..].split('/').next().unwrap_or_default();
        let first = first.replace("~1", "/").replace("~0", "~");
        assert!(
            FIELDS.contains(&first.as_str()) || object.contains_key(&first),
            "422 pointer {:?} names neither a field nor a key: {e:?} for {body}",
            e.pointer
        );
    }
}

/// What `file_report` checks without the directory (a department must be a
/// registered code, so it has the code's shape), then the data it builds.
fn check_built_data(body: &FileReport) {
    let mut errors = Vec::new();
    body.check(&mut errors);
    let code_shaped = {
        let b = body.department.as_bytes();
        (1..=32).contains(&b.len())
            && b[0].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
    };
    if !errors.is_empty() || !code_shaped {
        return;
    }
    let data = body
        .filed(|t| scrubber().scrub(t).text, &"0".repeat(64))
        .data();
    match registry().validate("report.filed", 1, &data) {
        Ok(()) => {}
        Err(LedgerError::Schema { violations, .. }) => {
            for v in &violations {
                let grown = TEXTS.iter().any(|(pointer, max)| {
                    v.pointer == *pointer
                        && data
                            .pointer(pointer)
                            .and_then(Value::as_str)
                            .is_some_and(|t| t.chars().count() > *max)
                });
                assert!(
                    grown,
                    "a report that passes the request checks builds data the schema refuses: \
                     {v:?}\ndata: {data}"
                );
            }
        }
        Err(e) => panic!("report.filed v1 does not validate: {e}"),
    }
}
