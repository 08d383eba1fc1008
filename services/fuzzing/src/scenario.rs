//! Event sequences from fuzz input: plausible envelopes (types from the
//! catalogue, aggregates and hospitals from small pools so that events meet
//! each other, data from the v1 fixture with fields swapped for values from
//! small pools) and sometimes garbage data; interleaved with redeliveries,
//! commits and crashes.

use chrono::{DateTime, TimeDelta, Utc};
use include_dir::{Dir, include_dir};
use lantern_ledger::{Envelope, Recorded};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::input::{Input, Writer};

pub(crate) static FIXTURES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../schemas/fixtures");

/// Every event type of the catalogue, then two no projector knows.
pub const TYPES: &[&str] = &[
    "census.recorded",
    "critical_value.acknowledged",
    "critical_value.detected",
    "critical_value.handled",
    "critical_value.notified",
    "death.autopsy_reported",
    "death.recorded",
    "death.review_closed",
    "death.review_held",
    "org.department_registered",
    "org.hospital_registered",
    "org.limits_set",
    "org.token_issued",
    "org.token_revoked",
    "rca.action_completed",
    "rca.action_planned",
    "rca.closed",
    "rca.factor_added",
    "rca.opened",
    "rca.root_cause_confirmed",
    "rca.timeline_added",
    "report.feedback_posted",
    "report.filed",
    "report.followed_up",
    "report.triaged",
    "report.unknown",
    "critical_value.unknown",
];

/// The index of an event type in [`TYPES`].
pub fn type_index(event_type: &str) -> usize {
    TYPES
        .iter()
        .position(|t| *t == event_type)
        .unwrap_or_else(|| panic!("{event_type} is not in TYPES"))
}

/// Aggregates events may belong to.
pub const AGGREGATES: [Uuid; 6] = [
    Uuid::from_u128(0x0192f3a4_7b1c_7d2e_9f00_1a2b3c4d5e6f),
    Uuid::from_u128(0x0192f3a5_0c3d_7e4f_8a11_2b3c4d5e6f70),
    Uuid::from_u128(0x0192f3b0_1111_7222_8333_944455556666),
    Uuid::from_u128(0x0192f3b0_1111_7222_8333_944455556667),
    Uuid::from_u128(0x0192f3b0_1111_7222_8333_944455556668),
    Uuid::nil(),
];

/// Hospitals of `org.*` and `census.*` events (the fixtures use H0001).
pub const HOSPITALS: [&str; 3] = ["H0001", "H2", "_"];

/// The hospital of the other events is their aggregate's: a report or a
/// critical value belongs to one hospital, as its subject says.
pub fn home(aggregate: usize) -> &'static str {
    HOSPITALS[aggregate % 2]
}

/// Idempotency-key hashes (as message ids).
const KEYS: [&str; 2] = [
    "3f1e0c7d9b5a4e2f8c6d1b0a9e8f7d6c5b4a39281706f5e4d3c2b1a098f7e6d5",
    "idem",
];

fn base() -> DateTime<Utc> {
    DateTime::from_timestamp(1_769_860_800, 0).unwrap_or_default() // 2026-01-31T12:00:00Z
}

/// The v1 fixture of an event type (`{}` for a type without one).
pub fn fixture(event_type: &str) -> Value {
    FIXTURES
        .get_file(format!("{event_type}.v1.json"))
        .and_then(|f| f.contents_utf8())
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_else(|| json!({}))
}

/// One operation on the projector.
#[derive(Debug, Clone)]
pub enum Op {
    /// The next event of the stream.
    Deliver(Box<Recorded>),
    /// An event at or below the position again (the consumer redelivers).
    Redeliver(usize),
    /// Commit state and checkpoint.
    Commit,
    /// Lose what is not committed and resume from the checkpoint.
    Crash,
}

/// At most this many operations per input: long enough for every kind of
/// event to meet the others, short enough for thousands of runs a second.
pub const MAX_OPS: usize = 64;

/// The operations an input describes.
pub fn ops(bytes: &[u8]) -> Vec<Op> {
    let mut input = Input::new(bytes);
    let mut ops = Vec::new();
    let mut seq = 0;
    while !input.is_empty() && ops.len() < MAX_OPS {
        ops.push(match input.choose(8) {
            0..=4 => {
                seq += 1;
                Op::Deliver(Box::new(event(&mut input, seq)))
            }
            5 => Op::Redeliver(input.choose(256)),
            6 => Op::Commit,
            _ => Op::Crash,
        });
    }
    ops
}

fn event(input: &mut Input<'_>, seq: u64) -> Recorded {
    let event_type = input.pick(TYPES);
    let a = input.choose(AGGREGATES.len());
    let hospital = if event_type.starts_with("org.") || event_type.starts_with("census.") {
        input.pick(&HOSPITALS)
    } else {
        home(a)
    };
    let recorded_at = match input.byte() {
        // The extremes an envelope can hold (`Recorded::decode` refuses
        // times beyond four-digit years).
        255 => DateTime::from_timestamp(253_402_300_799, 0).unwrap_or_default(), // 9999-12-31T23:59:59Z
        254 => DateTime::from_timestamp(-62_135_596_800, 0).unwrap_or_default(), // 0001-01-01T00:00:00Z
        days => {
            base()
                + TimeDelta::days((i64::from(days) - 127) * 3)
                + TimeDelta::minutes(i64::from(input.byte()) * 7)
        }
    };
    let id = Uuid::from_u128(0x0192f3c0_0000_7000_8000_000000000000 | u128::from(seq));
    let msg_id = match input.choose(4) {
        0 => None,
        1 => Some(id.to_string()),
        k => Some(KEYS[k - 2].to_owned()),
    };
    let data = data(input, event_type);
    Recorded {
        seq,
        envelope: Envelope {
            id,
            event_type: event_type.to_owned(),
            version: 1,
            aggregate: AGGREGATES[a],
            hospital: hospital.to_owned(),
            recorded_at,
            trace: None,
            data: data.into(),
        },
        msg_id,
        traceparent: None,
    }
}

fn data(input: &mut Input<'_>, event_type: &str) -> Value {
    match input.choose(8) {
        mutations @ 0..=5 => {
            let mut data = fixture(event_type);
            for _ in 0..mutations {
                mutate(input, &mut data);
            }
            data
        }
        6 => {
            let raw = input.chunk();
            serde_json::from_slice(raw)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(raw).into_owned()))
        }
        _ => generic(input.byte()),
    }
}

fn mutate(input: &mut Input<'_>, data: &mut Value) {
    let Some(object) = data.as_object_mut() else {
        return;
    };
    let keys: Vec<String> = object.keys().cloned().collect();
    let k = input.choose(keys.len() + 2);
    if k == keys.len() + 1 {
        if !keys.is_empty() {
            let gone = &keys[input.choose(keys.len())];
            object.remove(gone);
        }
        return;
    }
    let field = keys.get(k).map_or("extra", String::as_str).to_owned();
    let choice = input.byte();
    object.insert(field.clone(), value_for(&field, choice));
}

const TIMES: &[&str] = &[
    "2026-11-23T08:02:00+08:00",
    "2026-11-23T08:17:00+08:00",
    "2026-11-23T08:47:00+08:00",
    "2026-11-23T00:02:00Z",
    "2026-01-31T16:30:00Z",
    "2026-11-23T08:02:00.999999999+08:00",
    "2026-12-31T23:59:60Z",
    "9999-12-31T23:59:59-23:59",
    "0000-01-01T00:00:00+23:59",
    "2026-02-30T00:00:00Z",
    "2026-11-23 08:02:00+08:00",
    "2026-11-23t08:02:00z",
    "yesterday",
    "1970-01-01T00:00:00Z",
];
const CODES: &[&str] = &["ICU", "ER", "H0001", "H2", "R01", "", "a/b", "重症", "_"];
const ZONES: &[&str] = &[
    "Asia/Shanghai",
    "America/New_York",
    "Pacific/Kiritimati",
    "Etc/GMT+12",
    "UTC",
    "Not/AZone",
    "",
];
const MONTHS: &[&str] = &[
    "2026-01", "2026-02", "2026-11", "2026-13", "0000-00", "9999-12", "2026-1",
];
const GRADES: &[&str] = &["I", "II", "III", "IV", "V", "i"];
const CATEGORIES: &[&str] = &["medication", "fall", "surgery", "device", "other", "bogus"];
const HARMS: &[&str] = &[
    "death", "severe", "moderate", "mild", "none", "unknown", "bad",
];
const ROLES: &[&str] = &[
    "safety_officer",
    "qc_centre",
    "lis",
    "his",
    "admin",
    "doctor",
    "nurse",
    "x",
];
const ENUMS: &[&str] = &[
    "lab",
    "imaging",
    "inpatient",
    "emergency",
    "70-79",
    "90+",
    "other",
    "?",
];
const HASHES: &[&str] = &[
    "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
    "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9",
    "",
];
const TEXTS: &[&str] = &[
    "",
    "x",
    "电话13812345678",
    "Lessons learned.",
    "\u{0}",
    "🙂",
];

fn uuid_value(i: u8) -> Value {
    match AGGREGATES.get(usize::from(i)) {
        Some(id) => json!(id),
        None => json!("not-a-uuid"),
    }
}

fn value_for(field: &str, choice: u8) -> Value {
    if choice >= 224 {
        return generic(choice);
    }
    let pick = |pool: &[&str]| json!(pool[usize::from(choice) % pool.len()]);
    match field {
        "grade" => pick(GRADES),
        "category" => pick(CATEGORIES),
        "harm" => pick(HARMS),
        "department" | "code" | "region" | "hospital" => pick(CODES),
        "timezone" => pick(ZONES),
        "month" | "due" => pick(MONTHS),
        "role" | "notified_role" | "owner_role" => pick(ROLES),
        "source" | "patient_setting" | "reporter_role" | "patient_age_band" | "level" => {
            pick(ENUMS)
        }
        "token_hash" | "receipt_hash" => pick(HASHES),
        "report_ids" => {
            let n = choice % 4;
            json!(
                (0..n)
                    .map(|i| uuid_value((choice / 4 + i) % 8))
                    .collect::<Vec<_>>()
            )
        }
        "duplicate_of" | "rca_id" => match choice % 8 {
            7 => Value::Null,
            i => uuid_value(i),
        },
        "discharges"
        | "inpatient_days"
        | "tests_resulted"
        | "notification_limit_minutes"
        | "handling_limit_minutes"
        | "action"
        | "factor" => match choice % 9 {
            0 => json!(0),
            1 => json!(1),
            2 => json!(15),
            3 => json!(412),
            4 => json!(u32::MAX),
            5 => json!(u64::MAX),
            6 => json!(-1),
            7 => json!(1.5),
            _ => json!(412.0),
        },
        f if f.ends_with("_at") || f == "at" => pick(TIMES),
        _ => pick(TEXTS),
    }
}

fn generic(choice: u8) -> Value {
    match choice % 10 {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(0),
        3 => json!(-1),
        4 => json!(1e300),
        5 => json!(""),
        6 => json!([]),
        7 => json!({}),
        8 => json!({"a": [1, {"b": null}]}),
        _ => json!("garbage"),
    }
}

/// Writes scenarios as fuzz input, for seeds.
#[derive(Debug, Default)]
pub struct ScenarioWriter {
    out: Writer,
}

/// Data of a seed event: the fixture, or the fixture with fields set to pool
/// choices, or raw bytes.
#[derive(Debug, Clone, Copy)]
pub enum SeedData<'a> {
    /// The v1 fixture as it is.
    Fixture,
    /// The fixture with fields set to values of their pool: `(field, choice)`
    /// (`choice` indexes the field's pool, see `value_for`), at most 5.
    Mutated(&'a [(&'a str, u8)]),
    /// Raw bytes (parsed as JSON, else a string).
    Raw(&'a [u8]),
}

impl ScenarioWriter {
    /// An empty scenario.
    pub fn new() -> ScenarioWriter {
        ScenarioWriter::default()
    }

    /// An event of `event_type` on aggregate `a` (index into [`AGGREGATES`]),
    /// of hospital `h` (index into [`HOSPITALS`]; only `org.*` and `census.*`
    /// read it), recorded `day` × 3 days after 2026-01-31T12:00Z (about).
    pub fn event(
        &mut self,
        event_type: &str,
        a: usize,
        h: usize,
        day: i64,
        data: SeedData<'_>,
    ) -> &mut ScenarioWriter {
        let out = &mut self.out;
        out.choose(0).choose(type_index(event_type)).choose(a);
        if event_type.starts_with("org.") || event_type.starts_with("census.") {
            out.choose(h);
        }
        let day = usize::try_from((day + 127).clamp(0, 253)).unwrap_or(127);
        out.choose(day).choose(0).choose(0);
        match data {
            SeedData::Fixture => {
                out.choose(0);
            }
            SeedData::Mutated(m) => {
                out.choose(m.len().min(5));
                let mut data = fixture(event_type);
                for (field, choice) in m.iter().take(5) {
                    let Some(object) = data.as_object_mut() else {
                        break;
                    };
                    let k = object.keys().position(|k| k == field);
                    let field = if k.is_some() { *field } else { "extra" };
                    out.choose(k.unwrap_or(object.len()))
                        .choose(usize::from(*choice));
                    object.insert(field.to_owned(), value_for(field, *choice));
                }
            }
            SeedData::Raw(bytes) => {
                out.choose(6).chunk(bytes);
            }
        }
        self
    }

    /// Redeliver an earlier event.
    pub fn redeliver(&mut self, i: usize) -> &mut ScenarioWriter {
        self.out.choose(5).choose(i);
        self
    }

    /// Commit.
    pub fn commit(&mut self) -> &mut ScenarioWriter {
        self.out.choose(6);
        self
    }

    /// Crash.
    pub fn crash(&mut self) -> &mut ScenarioWriter {
        self.out.choose(7);
        self
    }

    /// The bytes.
    pub fn finish(&self) -> Vec<u8> {
        self.out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_type_has_a_fixture() {
        for t in &TYPES[..TYPES.len() - 2] {
            assert!(
                FIXTURES.get_file(format!("{t}.v1.json")).is_some(),
                "{t} has no fixture"
            );
        }
    }

    #[test]
    fn a_written_scenario_reads_back() {
        let bytes = ScenarioWriter::new()
            .event("org.hospital_registered", 0, 0, 0, SeedData::Fixture)
            .event("report.filed", 2, 0, 1, SeedData::Mutated(&[("grade", 1)]))
            .commit()
            .redeliver(1)
            .crash()
            .finish();
        let ops = ops(&bytes);
        assert_eq!(ops.len(), 5, "{ops:?}");
        let Op::Deliver(hospital) = &ops[0] else {
            panic!("{ops:?}")
        };
        assert_eq!(hospital.envelope.event_type, "org.hospital_registered");
        assert_eq!(hospital.envelope.hospital, "H0001");
        assert_eq!(
            hospital.envelope.data.to_value(),
            fixture("org.hospital_registered")
        );
        let Op::Deliver(filed) = &ops[1] else {
            panic!("{ops:?}")
        };
        assert_eq!(filed.envelope.aggregate, AGGREGATES[2]);
        assert_eq!(filed.envelope.hospital, "H0001");
        assert_eq!(filed.envelope.data.to_value()["grade"], json!("II"));
        assert!(matches!(ops[2], Op::Commit));
        assert!(matches!(ops[3], Op::Redeliver(1)));
        assert!(matches!(ops[4], Op::Crash));
    }
}
