//! The schema registry: every file `schemas/<type>.v<version>.json` is
//! embedded in the binary, compiled once, and used to validate an event's
//! `data` before it is appended. Validators are `Send + Sync`; one registry is
//! shared by the whole process.

use std::collections::BTreeMap;

use include_dir::{Dir, include_dir};
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::{LedgerError, Violation};

static SCHEMAS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../schemas");

/// Compiled validators by (event type, version).
pub struct SchemaRegistry {
    validators: BTreeMap<(String, u32), jsonschema::Validator>,
}

impl std::fmt::Debug for SchemaRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaRegistry")
            .field("schemas", &self.validators.keys().collect::<Vec<_>>())
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
            validators.insert((event_type, version), validator);
        }
        Ok(SchemaRegistry { validators })
    }

    /// Validates `data` of an event type and version.
    pub fn validate(
        &self,
        event_type: &str,
        version: u32,
        data: &Value,
    ) -> Result<(), LedgerError> {
        let validator = self
            .validators
            .get(&(event_type.to_owned(), version))
            .ok_or_else(|| LedgerError::UnknownSchema(format!("{event_type}.v{version}")))?;
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

    /// Every registered (type, version), in order.
    pub fn known(&self) -> impl Iterator<Item = (&str, u32)> {
        self.validators.keys().map(|(t, v)| (t.as_str(), *v))
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
}
