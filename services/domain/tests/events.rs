//! The typed payloads against `schemas/`: every fixture reads into its type
//! and writes back unchanged, every schema has a type, and every property of
//! every schema is a field of its type with the schema's optionality, JSON
//! type and vocabulary.

// A test panics on a broken expectation by design: it may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use lantern_domain::events::{
    CensusEvent, CriticalValueEvent, DeathEvent, FollowUpEvent, OrgEvent, Payload, RcaEvent,
    ReportEvent, census, critical_value, death, org, rca, report,
};
use serde_json::{Value, json};

fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The JSON files of a folder (not its subfolders), by name.
fn json_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == "json"))
        .map(|path| (path.file_name().unwrap().to_str().unwrap().to_owned(), path))
        .collect();
    files.sort();
    files
}

/// `<type>.v<version>.json` or `<type>.v<version>.<what>.json`.
fn split_name(name: &str) -> (String, u32, Option<String>) {
    let stem = name.strip_suffix(".json").unwrap();
    let (event_type, rest) = stem.rsplit_once(".v").unwrap();
    let (version, what) = match rest.split_once('.') {
        Some((v, what)) => (v, Some(what.to_owned())),
        None => (rest, None),
    };
    (event_type.to_owned(), version.parse().unwrap(), what)
}

fn all_types() -> Vec<&'static str> {
    [
        ReportEvent::TYPES,
        CriticalValueEvent::TYPES,
        CensusEvent::TYPES,
        RcaEvent::TYPES,
        DeathEvent::TYPES,
        OrgEvent::TYPES,
        FollowUpEvent::TYPES,
    ]
    .concat()
}

/// The latest version of a type, from the kinds' enums.
fn latest(event_type: &str) -> u32 {
    match event_type {
        "report.filed" => <report::Filed as Payload>::VERSION,
        "report.triaged" => <report::Triaged as Payload>::VERSION,
        "death.recorded" => <death::Recorded as Payload>::VERSION,
        _ => 1,
    }
}

/// Reads `data` of `version` through every kind's enum: exactly one must
/// claim a known type. Gives the written type and data back, or the reading
/// error. An older version is read and written as its own struct (what the
/// stream holds); reading it as the latest is the upcaster's, tested apart.
fn round_trip(
    event_type: &str,
    version: u32,
    data: &Value,
) -> Result<(&'static str, Value), serde_json::Error> {
    if version < latest(event_type) {
        fn own<P: Payload>(data: &Value) -> Result<(&'static str, Value), serde_json::Error> {
            let p: P = serde_json::from_value(data.clone())?;
            Ok((P::TYPE, serde_json::to_value(&p)?))
        }
        return match (event_type, version) {
            ("report.filed", 1) => own::<report::FiledV1>(data),
            ("report.triaged", 1) => own::<report::TriagedV1>(data),
            ("death.recorded", 1) => own::<death::RecordedV1>(data),
            other => panic!("no struct for {other:?}"),
        };
    }
    let text = data.to_string();
    macro_rules! through {
        ($($kind:ident),+) => {
            [$($kind::from_json(event_type, version, &text).map(|r| r.map(|e| (e.event_type(), e.data())))),+]
        };
    }
    let mut claims: Vec<_> = through!(
        ReportEvent,
        CriticalValueEvent,
        CensusEvent,
        RcaEvent,
        DeathEvent,
        OrgEvent,
        FollowUpEvent
    )
    .into_iter()
    .flatten()
    .collect();
    assert_eq!(
        claims.len(),
        1,
        "{event_type}: claimed by {} kinds",
        claims.len()
    );
    claims.pop().unwrap()
}

/// Reads and writes back; the type and the data must come back unchanged.
fn assert_round_trips(event_type: &str, version: u32, data: &Value, what: &str) {
    match round_trip(event_type, version, data) {
        Ok((written_type, written)) => {
            assert_eq!(written_type, event_type, "{what}");
            assert_eq!(&written, data, "{what}: written back unchanged");
        }
        Err(e) => panic!("{what}: {e}\n{data:#}"),
    }
}

fn assert_refused(event_type: &str, version: u32, data: &Value, what: &str) {
    if let Ok((_, written)) = round_trip(event_type, version, data) {
        panic!("{what}: read although the schema refuses it; written back as {written}");
    }
}

/// Every fixture (`schemas/fixtures/*.json`) reads into its typed payload
/// through its kind's enum and writes back exactly: the types write what is
/// stored today.
#[test]
fn every_fixture_round_trips_exactly() {
    let fixtures = json_files(&schemas().join("fixtures"));
    for (name, path) in &fixtures {
        let (event_type, version, what) = split_name(name);
        assert_eq!(
            what, None,
            "{name}: a valid fixture is <type>.v<version>.json"
        );
        assert!(
            version <= latest(&event_type),
            "{name}: no typed payload of version {version}"
        );
        assert_round_trips(&event_type, version, &read(path), name);
    }
    let versions: usize = all_types().iter().map(|t| latest(t) as usize).sum();
    assert_eq!(fixtures.len(), versions, "one fixture per type and version");
}

/// Every `schemas/*.v<n>.json` has a `Payload` whose `TYPE` and `VERSION`
/// it is (or, for an older version, a struct the upcaster reads), and every
/// payload a schema: a new schema cannot be forgotten here.
#[test]
fn every_schema_has_a_payload_and_every_payload_a_schema() {
    let files: Vec<_> = json_files(&schemas())
        .into_iter()
        .map(|(name, _)| split_name(&name))
        .collect();
    let schemas: BTreeSet<String> = files
        .iter()
        .filter(|(_, version, _)| *version == 1)
        .map(|(event_type, _, _)| event_type.clone())
        .collect();
    for (event_type, version, _) in &files {
        assert!(*version <= latest(event_type), "{event_type} v{version}");
    }
    for t in all_types() {
        for v in 1..=latest(t) {
            assert!(
                files.iter().any(|(e, n, _)| e == t && *n == v),
                "{t} v{v} has a schema"
            );
        }
    }
    let types = all_types();
    let typed: BTreeSet<String> = types.iter().map(|t| t.to_string()).collect();
    assert_eq!(typed.len(), types.len(), "no type twice");
    assert_eq!(schemas, typed);
    assert!(types.len() >= 29, "{} types", types.len());

    for (kind, types) in [
        ("report.", ReportEvent::TYPES),
        ("critical_value.", CriticalValueEvent::TYPES),
        ("census.", CensusEvent::TYPES),
        ("rca.", RcaEvent::TYPES),
        ("death.", DeathEvent::TYPES),
        ("org.", OrgEvent::TYPES),
        ("followup.", FollowUpEvent::TYPES),
    ] {
        for t in types {
            assert!(t.starts_with(kind), "{t} is of kind {kind}");
        }
    }
    assert_eq!(<report::Filed as Payload>::TYPE, "report.filed");
    assert_eq!(<report::Filed as Payload>::VERSION, 2);
    assert_eq!(<report::FiledV1 as Payload>::VERSION, 1);
    assert_eq!(
        <critical_value::Handled as Payload>::TYPE,
        "critical_value.handled"
    );
    assert_eq!(<census::Recorded as Payload>::TYPE, "census.recorded");
    assert_eq!(
        <census::DischargeCounted as Payload>::TYPE,
        "census.discharge_counted"
    );
    assert_eq!(
        <rca::RootCauseConfirmed as Payload>::TYPE,
        "rca.root_cause_confirmed"
    );
    assert_eq!(
        <death::ReviewClosed as Payload>::TYPE,
        "death.review_closed"
    );
    assert_eq!(<death::Reported as Payload>::TYPE, "death.reported");
    assert_eq!(<org::LimitsSet as Payload>::TYPE, "org.limits_set");
    assert_eq!(<org::LimitsSet as Payload>::VERSION, 1);
    assert_eq!(<org::TargetSet as Payload>::TYPE, "org.target_set");
    assert_eq!(<org::ReferenceSet as Payload>::TYPE, "org.reference_set");
    assert_eq!(
        <org::CriticalItemSet as Payload>::TYPE,
        "org.critical_item_set"
    );
}

/// A critical item set reads into the catalogue item it sets, and an item
/// writes the event that sets it; a catalogue built from it recognises a
/// result past its limits.
#[test]
fn a_critical_item_set_is_the_catalogue_item_it_sets() {
    use lantern_domain::critical::Source;
    use lantern_domain::critical::catalogue::{Catalogue, recognise};
    let fixture = read(&schemas().join("fixtures/org.critical_item_set.v1.json"));
    let set: org::CriticalItemSet = serde_json::from_value(fixture.clone()).unwrap();
    let item = set.item();
    assert_eq!(
        (
            item.item.as_str(),
            item.name.as_str(),
            item.unit.as_deref(),
            item.low.map(|l| l.get()),
            item.high.map(|h| h.get()),
            item.source,
        ),
        (
            "K",
            "血钾",
            Some("mmol/L"),
            Some(2.8),
            Some(6.2),
            Source::Lab
        )
    );
    assert_eq!(item.check(), Ok(()));
    assert_eq!(
        OrgEvent::from(org::CriticalItemSet::of(&item)).data(),
        fixture
    );
    let catalogue: Catalogue = [item].into_iter().collect();
    assert!(recognise(&catalogue, "K", "6.5", Some("mmol/L")));
    assert!(!recognise(&catalogue, "K", "6.2", Some("mmol/L")));
}

/// A reference set reads into the reference it sets, and a reference
/// writes the event that sets it; a region without its code sets nothing.
#[test]
fn a_reference_set_is_the_reference_it_sets() {
    use lantern_domain::targets::Indicator;
    use lantern_domain::targets::reference::ReferenceScope;
    let fixture = read(&schemas().join("fixtures/org.reference_set.v1.json"));
    let set: org::ReferenceSet = serde_json::from_value(fixture.clone()).unwrap();
    let reference = set.reference().unwrap();
    assert_eq!(
        (
            reference.indicator,
            &reference.scope,
            reference.year,
            reference.value.get(),
            reference.source.as_str(),
            reference.note.as_deref()
        ),
        (
            Indicator::Cl15NotificationTimeliness,
            &ReferenceScope::Region("HN".into()),
            2025,
            92.35,
            "河南省医疗服务与质量安全报告 2025",
            Some("全省二级及以上医院均值")
        )
    );
    assert_eq!(
        OrgEvent::from(org::ReferenceSet::of(&reference)).data(),
        fixture
    );
    let orphan = org::ReferenceSet { code: None, ..set };
    assert_eq!(orphan.reference(), None);
}

/// A target set reads into the target it sets, and a target writes the
/// event that sets it; a scope without its code sets nothing.
#[test]
fn a_target_set_is_the_target_it_sets() {
    use lantern_domain::targets::{Direction, Indicator, TargetScope};
    let fixture = read(&schemas().join("fixtures/org.target_set.v1.json"));
    let set: org::TargetSet = serde_json::from_value(fixture.clone()).unwrap();
    let target = set.target().unwrap();
    assert_eq!(
        (
            target.indicator,
            &target.scope,
            target.year,
            target.value.get(),
            target.direction
        ),
        (
            Indicator::ReportingRate,
            &TargetScope::Region("R01".into()),
            2026,
            3.5,
            Direction::Higher
        )
    );
    assert_eq!(OrgEvent::from(org::TargetSet::of(&target)).data(), fixture);
    let orphan = org::TargetSet { code: None, ..set };
    assert_eq!(orphan.target(), None);
}

/// A kind's enum claims its own types only.
#[test]
fn a_kind_reads_only_its_own_types() {
    let data = json!({});
    assert!(ReportEvent::parse("death.review_closed", &data).is_none());
    assert!(OrgEvent::parse("report.filed", &data).is_none());
    assert!(DeathEvent::parse("death.unknown", &data).is_none());
    assert!(matches!(
        DeathEvent::parse("death.review_closed", &data),
        Some(Ok(DeathEvent::ReviewClosed(_)))
    ));
    assert_eq!(DeathEvent::from(death::ReviewClosed {}).data(), json!({}));
    assert!(matches!(
        ReportEvent::parse("report.filed", &data),
        Some(Err(_))
    ));
}

// ---- schema-driven checks ----------------------------------------------

/// Follows a local `$ref` (`#/$defs/<name>`), keeping the referring node's
/// own keywords.
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r
                .strip_prefix("#/$defs/")
                .unwrap_or_else(|| panic!("ref {r}"));
            &root["$defs"][name]
        }
        None => node,
    }
}

/// A value the types must accept for a schema node: every property present,
/// every array one item long.
fn sample(root: &Value, node: &Value) -> Value {
    let node = resolve(root, node);
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        return values[0].clone();
    }
    match node["type"]
        .as_str()
        .unwrap_or_else(|| panic!("no type: {node}"))
    {
        "string" => match (node["format"].as_str(), node["pattern"].as_str()) {
            (Some("date-time"), _) => json!("2026-01-02T03:04:05+08:00"),
            (Some("date"), _) => json!("2026-01-02"),
            (Some("uuid"), _) => json!("0192f3b0-1111-7222-8333-944455556666"),
            (Some(format), _) => panic!("format {format}"),
            (None, Some("^[0-9]{4}-(0[1-9]|1[0-2])$")) => json!("2026-01"),
            (None, Some("^[0-9a-f]{64}$")) => json!("0".repeat(64)),
            _ => json!("x"),
        },
        "integer" => json!(node["minimum"].as_u64().unwrap_or(1).max(1)),
        "number" => json!(1.5),
        "boolean" => json!(true),
        "array" => json!([sample(root, &node["items"])]),
        "object" => Value::Object(
            node["properties"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), sample(root, v)))
                .collect(),
        ),
        other => panic!("type {other}"),
    }
}

/// One place in a sample: its JSON pointer and its schema node.
struct Place<'a> {
    pointer: String,
    node: &'a Value,
    /// Whether its object requires it (for object properties).
    required: Option<bool>,
}

/// Every place of the sample of `node`, depth first (array items at 0).
fn places<'a>(root: &'a Value, node: &'a Value, pointer: String, out: &mut Vec<Place<'a>>) {
    let node = resolve(root, node);
    match node["type"].as_str() {
        Some("object") => {
            let required: BTreeSet<&str> = node["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            for (name, property) in node["properties"].as_object().unwrap() {
                let at = format!("{pointer}/{name}");
                out.push(Place {
                    pointer: at.clone(),
                    node: resolve(root, property),
                    required: Some(required.contains(name.as_str())),
                });
                places(root, property, at, out);
            }
        }
        Some("array") => {
            let at = format!("{pointer}/0");
            out.push(Place {
                pointer: at.clone(),
                node: resolve(root, &node["items"]),
                required: None,
            });
            places(root, &node["items"], at, out);
        }
        _ => {}
    }
}

fn with(data: &Value, pointer: &str, value: Value) -> Value {
    let mut data = data.clone();
    *data.pointer_mut(pointer).unwrap() = value;
    data
}

fn without(data: &Value, pointer: &str) -> Value {
    let mut data = data.clone();
    let (parent, name) = pointer.rsplit_once('/').unwrap();
    data.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap()
        .remove(name);
    data
}

/// A value of the wrong JSON type for a schema node.
fn wrong_type(node: &Value) -> Value {
    match node["type"].as_str() {
        Some("string") => json!(1),
        Some("integer") => json!(1.5),
        Some("number") => json!("1.5"),
        Some("boolean") => json!("true"),
        Some("array") => json!({}),
        Some("object") => json!([]),
        other => panic!("type {other:?}"),
    }
}

/// For every schema, built from the schema itself: a sample with every
/// property reads and writes back unchanged; leaving out a required
/// property is refused and leaving out an optional one reads and writes back
/// without it; an unknown property, a value of the wrong JSON type, an
/// out-of-vocabulary code, a negative count and a malformed time, date or id
/// are refused; every code of every vocabulary reads and writes back.
#[test]
fn every_property_has_the_schema_optionality_type_and_vocabulary() {
    let mut checked = 0;
    for (name, path) in json_files(&schemas()) {
        let (event_type, version, _) = split_name(&name);
        let root = read(&path);
        let full = sample(&root, &root);
        assert_round_trips(
            &event_type,
            version,
            &full,
            &format!("{event_type}: every property"),
        );

        let mut extra = full.clone();
        extra["unknown_field"] = json!("x");
        assert_refused(
            &event_type,
            version,
            &extra,
            &format!("{event_type}: an unknown property"),
        );

        let mut all = Vec::new();
        places(&root, &root, String::new(), &mut all);
        for place in &all {
            let at = format!("{event_type} {}", place.pointer);
            match place.required {
                // Required by v2's schema, optional in the type: a v1 triage
                // read through the upcaster did not assess harm.
                Some(true)
                    if (event_type.as_str(), place.pointer.as_str())
                        == ("report.triaged", "/harm") =>
                {
                    assert!(
                        round_trip(&event_type, version, &without(&full, &place.pointer)).is_ok()
                    )
                }
                Some(true) => assert_refused(
                    &event_type,
                    version,
                    &without(&full, &place.pointer),
                    &format!("{at} left out"),
                ),
                Some(false) => assert_round_trips(
                    &event_type,
                    version,
                    &without(&full, &place.pointer),
                    &format!("{at} left out"),
                ),
                None => {}
            }
            let node = place.node;
            assert_refused(
                &event_type,
                version,
                &with(&full, &place.pointer, wrong_type(node)),
                &format!("{at} of the wrong JSON type"),
            );
            if node["type"] == "object" {
                let mut extra = full.clone();
                extra
                    .pointer_mut(&place.pointer)
                    .and_then(Value::as_object_mut)
                    .unwrap()
                    .insert("unknown_field".into(), json!("x"));
                assert_refused(
                    &event_type,
                    version,
                    &extra,
                    &format!("{at} with an unknown property"),
                );
            }
            if let Some(values) = node.get("enum").and_then(Value::as_array) {
                for value in values {
                    assert_round_trips(
                        &event_type,
                        version,
                        &with(&full, &place.pointer, value.clone()),
                        &format!("{at} = {value}"),
                    );
                }
                assert_refused(
                    &event_type,
                    version,
                    &with(&full, &place.pointer, json!("not_a_code")),
                    &format!("{at} out of its vocabulary"),
                );
            }
            if node["type"] == "integer" || node["type"] == "number" {
                assert_refused(
                    &event_type,
                    version,
                    &with(&full, &place.pointer, json!(-1)),
                    &format!("{at} negative"),
                );
            }
            if let Some(format) = node["format"].as_str() {
                let bad = match format {
                    "date-time" => "2026-01-02 03:04",
                    "date" => "2026-01-32",
                    _ => "not-a-uuid",
                };
                assert_refused(
                    &event_type,
                    version,
                    &with(&full, &place.pointer, json!(bad)),
                    &format!("{at} malformed ({format})"),
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 96, "{checked} places checked");
}

/// What only the schema says, not the types: patterns of codes and hashes,
/// text lengths, grade–harm agreement, a null for an absent optional field
/// (read as absent, written back left out). The ledger's schema registry
/// refuses these before an append; every other invalid fixture the types
/// refuse too.
const SCHEMA_ONLY: &[&str] = &[
    "census.recorded.v1.bad-department-code.json",
    "report.filed.v1.bad-receipt-hash.json",
    "report.filed.v1.empty-description.json",
    "report.filed.v1.grade-harm-mismatch.json",
    "report.filed.v1.null-optional.json",
    "report.filed.v2.coarse-age-band-0-9.json",
    "report.filed.v2.grade-iv-with-harm-none.json",
    "report.filed.v2.grade-iv-with-harm-unknown.json",
    "report.filed.v2.mild-needing-treatment-as-grade-iii.json",
    "report.filed.v2.mild-without-treatment-needed.json",
    "report.filed.v2.treatment-needed-without-mild.json",
    "report.triaged.v2.missing-harm.json",
    "report.triaged.v2.moderate-harm-as-grade-iv.json",
    "death.recorded.v2.coarse-age-band-0-9.json",
    "org.target_set.v1.region-without-code.json",
    "org.region_registered.v1.bad-parent-code.json",
    "org.reference_set.v1.region-without-code.json",
    "org.reference_set.v1.empty-source.json",
    "org.secret_fingerprint.v1.upper-case-hex.json",
    "org.hospital_linked.v1.domain-with-dots.json",
    "org.critical_item_set.v1.no-limit.json",
    "org.region_linked.v1.domain-with-dots.json",
    "org.critical_item_set.v1.code-with-slash.json",
];

#[test]
fn invalid_fixtures_are_refused_by_the_types_unless_only_the_schema_can_tell() {
    let invalid = json_files(&schemas().join("fixtures/invalid"));
    assert!(!invalid.is_empty());
    for (name, path) in &invalid {
        let (event_type, version, what) = split_name(name);
        assert!(what.is_some(), "{name}");
        let data = read(path);
        if SCHEMA_ONLY.contains(&name.as_str()) {
            assert!(round_trip(&event_type, version, &data).is_ok(), "{name}");
        } else {
            assert_refused(&event_type, version, &data, name);
        }
    }
}

/// Times are written by chrono's serde: RFC 3339 with the offset as given,
/// fractions of a second only when there are some — what `to_rfc3339`
/// writes, except that a zero offset is written `Z` where `to_rfc3339`
/// writes `+00:00` (the same instant and offset: either reads back equal).
#[test]
fn times_are_written_as_rfc_3339_with_their_offset() {
    let write = |s: &str| {
        let at = DateTime::<FixedOffset>::parse_from_rfc3339(s).unwrap();
        let data = CriticalValueEvent::from(critical_value::Acknowledged {
            acknowledged_at: at,
        })
        .data();
        (at, data["acknowledged_at"].as_str().unwrap().to_owned())
    };
    for s in [
        "2026-01-31T20:00:00+08:00",
        "2026-01-31T20:00:00.500-05:00",
        "2026-01-31T20:00:00.123456789+08:00",
    ] {
        let (at, written) = write(s);
        assert_eq!(written, s);
        assert_eq!(written, at.to_rfc3339());
    }
    let (z, written) = write("2026-01-31T20:00:00Z");
    assert_eq!(written, "2026-01-31T20:00:00Z");
    let (plus_zero, written_plus_zero) = write("2026-01-31T20:00:00+00:00");
    assert_eq!(written_plus_zero, "2026-01-31T20:00:00Z");
    assert_eq!(z, plus_zero);
    assert_eq!(plus_zero.to_rfc3339(), "2026-01-31T20:00:00+00:00");
}
