//! The schema registry: every file `schemas/<type>.v<version>.json` is
//! embedded in the binary, compiled once, and used to validate an event's
//! `data` before it is appended — and again when a projector reads it
//! ([`SchemaRegistry::check_stored`]): whoever could publish to the stream
//! without going through the append is not trusted. Validators are
//! `Send + Sync`; one registry is shared by the whole process.

use std::collections::BTreeMap;

use include_dir::{Dir, include_dir};
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::{Data, LedgerError, Violation};

pub mod free_text;

static SCHEMAS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../schemas");

/// Compiled validators by event type, then version.
pub struct SchemaRegistry {
    validators: BTreeMap<String, BTreeMap<u32, jsonschema::Validator>>,
    /// The pointers of the strings each schema marks free text.
    free_text: BTreeMap<(String, u32), Vec<String>>,
}

impl std::fmt::Debug for SchemaRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaRegistry")
            .field("schemas", &self.known().collect::<Vec<_>>())
            .finish()
    }
}

impl SchemaRegistry {
    /// Compiles every schema embedded from `schemas/`.
    pub fn embedded() -> Result<SchemaRegistry, LedgerError> {
        let files = SCHEMAS
            .files()
            .filter_map(|f| Some((f.path().to_str()?.to_owned(), f.contents_utf8()?)));
        SchemaRegistry::from_files(files)
    }

    /// Compiles the given `(file name, contents)` pairs; names that are not
    /// `<type>.v<version>.json` are skipped.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (String, &'a str)>,
    ) -> Result<SchemaRegistry, LedgerError> {
        let mut validators = BTreeMap::new();
        let mut free_text = BTreeMap::new();
        for (name, text) in files {
            let Some((event_type, version)) = parse_file_name(&name) else {
                continue;
            };
            let bad = |message: String| LedgerError::BadSchema {
                file: name.clone(),
                message,
            };
            let schema: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&schema)
                .map_err(|e| bad(e.to_string()))?;
            free_text.insert(
                (event_type.clone(), version),
                free_text::marked_pointers(&schema),
            );
            validators
                .entry(event_type)
                .or_insert_with(BTreeMap::new)
                .insert(version, validator);
        }
        Ok(SchemaRegistry {
            validators,
            free_text,
        })
    }

    /// The JSON Pointers of the free-text strings of an event type's data
    /// (`"x-lantern-free-text": true` in its schema; `*` for every element
    /// of an array), which the command path scrubs before appending. Empty
    /// for an unknown type or version.
    pub fn free_text_pointers(&self, event_type: &str, version: u32) -> &[String] {
        self.free_text
            .get(&(event_type.to_owned(), version))
            .map_or(&[], Vec::as_slice)
    }

    /// Validates `data` of an event type and version.
    pub fn validate(
        &self,
        event_type: &str,
        version: u32,
        data: &Value,
    ) -> Result<(), LedgerError> {
        let validator = self.validator(event_type, version)?;
        let violations: Vec<Violation> = validator
            .iter_errors(data)
            .flat_map(|e| violations_of(&e))
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(LedgerError::Schema {
                event_type: event_type.to_owned(),
                version,
                violations,
            })
        }
    }

    /// Validates the data of a stored event, as it was read: a projector
    /// applies nothing that the append would have refused. The same checks
    /// as [`SchemaRegistry::validate`]; what is wrong is worked out only
    /// for data that fails.
    pub fn check_stored(
        &self,
        event_type: &str,
        version: u32,
        data: &Data,
    ) -> Result<(), LedgerError> {
        let validator = self.validator(event_type, version)?;
        let value: Value = data.parse().map_err(|_| LedgerError::Schema {
            event_type: event_type.to_owned(),
            version,
            violations: vec![Violation {
                pointer: String::new(),
                message: "is not JSON".into(),
            }],
        })?;
        if validator.is_valid(&value) {
            return Ok(());
        }
        self.validate(event_type, version, &value)
    }

    fn validator(
        &self,
        event_type: &str,
        version: u32,
    ) -> Result<&jsonschema::Validator, LedgerError> {
        self.validators
            .get(event_type)
            .and_then(|versions| versions.get(&version))
            .ok_or_else(|| LedgerError::UnknownSchema(format!("{event_type}.v{version}")))
    }

    /// Whether a schema is registered for this event type, any version.
    pub fn knows_type(&self, event_type: &str) -> bool {
        self.validators.contains_key(event_type)
    }

    /// Every registered (type, version), in order.
    pub fn known(&self) -> impl Iterator<Item = (&str, u32)> {
        self.validators
            .iter()
            .flat_map(|(t, versions)| versions.keys().map(move |v| (t.as_str(), *v)))
    }

    /// The highest registered version of an event type.
    pub fn latest_version(&self, event_type: &str) -> Option<u32> {
        self.known()
            .filter(|(t, _)| *t == event_type)
            .map(|(_, v)| v)
            .max()
    }
}

/// `report.filed.v1.json` → `("report.filed", 1)`.
fn parse_file_name(name: &str) -> Option<(String, u32)> {
    let stem = name.strip_suffix(".json")?;
    if stem.contains('/') {
        return None;
    }
    let (event_type, version) = stem.rsplit_once(".v")?;
    Some((event_type.to_owned(), version.parse().ok()?))
}

/// Points at the field itself where the validator points at its parent
/// (missing and unexpected properties), so a client can show the message
/// next to the right input.
fn violations_of(e: &jsonschema::ValidationError<'_>) -> Vec<Violation> {
    let base = e.instance_path().as_str().to_owned();
    let child = |name: &str| format!("{base}/{}", name.replace('~', "~0").replace('/', "~1"));
    match e.kind() {
        ValidationErrorKind::Required { property } => vec![Violation {
            pointer: child(property.as_str().unwrap_or_default()),
            message: "is required".into(),
        }],
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected
            .iter()
            .map(|name| Violation {
                pointer: child(name),
                message: "is not a known field".into(),
            })
            .collect(),
        _ => vec![Violation {
            pointer: base,
            message: e.to_string(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCHEMA: &str = r#"{
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object", "additionalProperties": false,
        "required": ["month", "at"],
        "properties": {
            "month": {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"},
            "at": {"type": "string", "format": "date-time"}
        }
    }"#;

    fn registry() -> SchemaRegistry {
        SchemaRegistry::from_files([("x.y.v1.json".to_owned(), SCHEMA)]).unwrap()
    }

    #[test]
    fn file_names() {
        assert_eq!(
            parse_file_name("report.filed.v1.json"),
            Some(("report.filed".into(), 1))
        );
        assert_eq!(
            parse_file_name("rca.closed.v12.json"),
            Some(("rca.closed".into(), 12))
        );
        assert_eq!(parse_file_name("README.md"), None);
        assert_eq!(parse_file_name("fixtures/a.v1.json"), None);
    }

    #[test]
    fn valid_data_passes() {
        registry()
            .validate(
                "x.y",
                1,
                &json!({"month": "2026-01", "at": "2026-01-01T00:00:00Z"}),
            )
            .unwrap();
    }

    #[test]
    fn violations_point_at_fields() {
        let err = registry()
            .validate("x.y", 1, &json!({"month": "2026-13", "extra": 1}))
            .unwrap_err();
        let LedgerError::Schema { violations, .. } = err else {
            panic!("expected a schema error")
        };
        let pointers: Vec<_> = violations.iter().map(|v| v.pointer.as_str()).collect();
        assert!(pointers.contains(&"/month"), "{pointers:?}");
        assert!(pointers.contains(&"/at"), "{pointers:?}");
        assert!(pointers.contains(&"/extra"), "{pointers:?}");
    }

    #[test]
    fn formats_are_checked() {
        let err = registry().validate("x.y", 1, &json!({"month": "2026-01", "at": "yesterday"}));
        assert!(err.is_err(), "format date-time must be enforced");
    }

    #[test]
    fn stored_data_is_checked_as_appended_data_is() {
        let r = registry();
        let good = Data::from_value(&json!({"month": "2026-01", "at": "2026-01-01T00:00:00Z"}));
        r.check_stored("x.y", 1, &good).unwrap();
        let bad = Data::from_value(&json!({"month": "2026-01", "at": "now", "role": "admin"}));
        let Err(LedgerError::Schema { violations, .. }) = r.check_stored("x.y", 1, &bad) else {
            panic!("expected a schema error")
        };
        let pointers: Vec<_> = violations.iter().map(|v| v.pointer.as_str()).collect();
        assert!(
            pointers.contains(&"/at") && pointers.contains(&"/role"),
            "{pointers:?}"
        );
        assert!(matches!(
            r.check_stored("x.y", 2, &good),
            Err(LedgerError::UnknownSchema(_))
        ));
        assert!(r.knows_type("x.y") && !r.knows_type("x.z"));
    }

    #[test]
    fn unknown_type_is_an_error() {
        assert!(matches!(
            registry().validate("no.such", 1, &json!({})),
            Err(LedgerError::UnknownSchema(_))
        ));
    }

    #[test]
    fn every_embedded_schema_compiles_and_accepts_its_fixture() {
        let registry = SchemaRegistry::embedded().expect("embedded schemas compile");
        let mut count = 0;
        for (event_type, version) in registry.known() {
            let name = format!("fixtures/{event_type}.v{version}.json");
            let file = SCHEMAS
                .get_file(&name)
                .unwrap_or_else(|| panic!("{name} is missing: every schema needs a fixture"));
            let data: Value = serde_json::from_str(file.contents_utf8().unwrap()).unwrap();
            registry
                .validate(event_type, version, &data)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            count += 1;
        }
        assert!(count > 0, "no schemas embedded");
    }

    #[test]
    fn unknown_keywords_are_ignored_by_the_validator() {
        let schema = r#"{
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object", "additionalProperties": false,
            "properties": {
                "text": {"type": "string", "x-lantern-free-text": true, "maxLength": 3}
            }
        }"#;
        let registry = SchemaRegistry::from_files([("x.y.v1.json".to_owned(), schema)]).unwrap();
        registry
            .validate("x.y", 1, &json!({"text": "abc"}))
            .unwrap();
        assert!(
            registry
                .validate("x.y", 1, &json!({"text": "abcd"}))
                .is_err()
        );
        assert!(registry.validate("x.y", 1, &json!({"text": 1})).is_err());
        assert_eq!(registry.free_text_pointers("x.y", 1), ["/text"]);
        assert!(registry.free_text_pointers("x.y", 2).is_empty());
    }

    #[test]
    fn free_text_pointers_of_embedded_schemas() {
        let registry = SchemaRegistry::embedded().unwrap();
        assert_eq!(
            registry.free_text_pointers("report.filed", 1),
            ["/description", "/immediate_actions", "/location"]
        );
        assert_eq!(
            registry.free_text_pointers("death.review_held", 1),
            ["/attendee_roles/*", "/defects/*/text"]
        );
        assert_eq!(
            registry.free_text_pointers("critical_value.detected", 1),
            ["/item", "/unit", "/value"]
        );
    }

    /// Strings that are not free text: codes from a closed list, hashes, ids,
    /// times and dates, registered codes, and registered hospital and
    /// department names and time zones (configuration, not typed in a
    /// report). A new string field must be marked free text or added here.
    const NOT_FREE_TEXT: &[(&str, &[&str])] = &[
        ("census.recorded", &["/department", "/month"]),
        ("census.discharge_counted", &["/department", "/month"]),
        ("critical_value.acknowledged", &["/acknowledged_at"]),
        (
            "critical_value.detected",
            &[
                "/department",
                "/detected_at",
                "/patient_setting",
                "/source",
                "/specimen_id",
            ],
        ),
        ("critical_value.handled", &["/handled_at"]),
        ("critical_value.notified", &["/notified_at"]),
        ("death.autopsy_reported", &["/reported_at"]),
        (
            "death.reported",
            &[
                "/admitted_at",
                "/age_band",
                "/department",
                "/diagnosis_icd10",
                "/died_at",
            ],
        ),
        (
            "death.recorded",
            &[
                "/admitted_at",
                "/age_band",
                "/department",
                "/diagnosis_icd10",
                "/died_at",
            ],
        ),
        (
            "death.review_held",
            &[
                "/defects/*/phase",
                "/held_at",
                "/level",
                "/preventability",
                "/rca_id",
            ],
        ),
        ("followup.carried", &["/due", "/to_meeting"]),
        ("followup.closed", &["/outcome"]),
        ("followup.opened", &["/due", "/kind", "/meeting", "/region"]),
        ("org.department_registered", &["/code", "/name"]),
        (
            "org.hospital_registered",
            &["/code", "/level", "/name", "/region", "/timezone"],
        ),
        (
            "org.token_issued",
            &["/hospital", "/region", "/role", "/token_hash"],
        ),
        ("org.region_registered", &["/code", "/name", "/parent"]),
        ("org.reference_set", &["/code", "/indicator", "/scope"]),
        (
            "org.target_set",
            &["/code", "/direction", "/indicator", "/scope"],
        ),
        ("org.token_revoked", &["/token_hash"]),
        ("org.secret_fingerprint", &["/fingerprint"]),
        ("org.hospital_linked", &["/domain", "/hospital"]),
        ("org.region_linked", &["/domain", "/region"]),
        (
            "org.critical_item_set",
            &["/effective_from", "/item", "/source"],
        ),
        ("rca.action_completed", &["/completed_at"]),
        ("rca.action_planned", &["/due", "/strength"]),
        ("rca.factor_added", &["/category"]),
        ("rca.opened", &["/due", "/report_ids/*"]),
        ("rca.timeline_added", &["/at"]),
        (
            "report.filed",
            &[
                "/category",
                "/department",
                "/grade",
                "/harm",
                "/occurred_at",
                "/patient_age_band",
                "/receipt_hash",
                "/reporter_role",
            ],
        ),
        (
            "report.triaged",
            &["/category", "/duplicate_of", "/grade", "/harm"],
        ),
    ];

    #[test]
    fn every_string_of_every_schema_is_free_text_or_allowed() {
        let registry = SchemaRegistry::embedded().unwrap();
        let mut checked = 0;
        for (event_type, version) in registry.known() {
            let name = format!("{event_type}.v{version}.json");
            let file = SCHEMAS.get_file(&name).unwrap();
            let schema: Value = serde_json::from_str(file.contents_utf8().unwrap()).unwrap();
            let strings = free_text::string_pointers(&schema);
            let marked = registry.free_text_pointers(event_type, version);
            for p in marked {
                assert!(
                    strings.contains(p),
                    "{name}: {p} is marked but not a string"
                );
            }
            let allowed: Vec<&str> = NOT_FREE_TEXT
                .iter()
                .find(|(t, _)| *t == event_type)
                .map_or(&[][..], |(_, a)| *a)
                .iter()
                .copied()
                // Version 1 of a triage had no harm.
                .filter(|p| !(event_type == "report.triaged" && version == 1 && *p == "/harm"))
                .collect();
            let unmarked: Vec<&str> = strings
                .iter()
                .filter(|p| !marked.contains(p))
                .map(String::as_str)
                .collect();
            assert_eq!(
                unmarked, allowed,
                "{name}: a string that is neither marked \"x-lantern-free-text\" nor allowed"
            );
            checked += 1;
        }
        assert!(checked >= 20, "{checked} schemas");
    }
}
