//! The schema registry on any JSON, for each event type; and what the
//! projectors make of what it accepts.
//!
//! Input: one byte choosing the event type (of the registry's, in order),
//! then JSON text for its `data`. Invariants:
//! - validation never panics, and a known type is never "unknown";
//! - a refusal names at least one violation, each by a pointer that is
//!   `""` or starts with `/` and that resolves in the data — or, for a
//!   missing field, whose parent does;
//! - what the schema accepts, the projectors understand: an accepted
//!   `report.filed` is listed and counted, an accepted critical-value step is
//!   recorded, an accepted census sets its cell's discharges, and so on
//!   ([`check_understood`]). Otherwise a valid event would vanish from the
//!   read models without a trace.

use lantern_directory::{DirectoryProjector, HospitalRecord, TokenRecord};
use lantern_intake::critical::{CriticalValue, CriticalValuesProjector, LimitsHistory};
use lantern_intake::reports::{ReportRecord, ReportsProjector, read_report};
use lantern_ledger::{Envelope, LedgerError, Recorded};
use lantern_projection::{Projector, Tx, apply_once};
use lantern_rates::RatesProjector;
use lantern_rates::projector::{HospitalInfo, every_cell, read_cell};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::decode::registry;
use crate::input::Input;
use crate::projectors::temporary;
use crate::scenario::{AGGREGATES, fixture};

/// The fuzz body.
pub fn schema_validate(data: &[u8]) {
    let mut input = Input::new(data);
    let known: Vec<(&str, u32)> = registry().known().collect();
    let (event_type, version) = known[input.choose(known.len())];
    let Some((_, text)) = data.split_first() else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<Value>(text) else {
        return;
    };
    match registry().validate(event_type, version, &value) {
        Ok(()) => check_understood(event_type, &value),
        Err(LedgerError::Schema { violations, .. }) => {
            assert!(
                !violations.is_empty(),
                "{event_type}: refused, naming nothing"
            );
            for v in &violations {
                let p = v.pointer.as_str();
                assert!(
                    p.is_empty() || p.starts_with('/'),
                    "{event_type}: pointer {p:?} ({})",
                    v.message
                );
                let parent = p.rsplit_once('/').map_or("", |(parent, _)| parent);
                assert!(
                    value.pointer(p).is_some()
                        || (v.message == "is required" && value.pointer(parent).is_some()),
                    "{event_type}: pointer {p:?} ({}) is not in {value}",
                    v.message
                );
            }
        }
        Err(e) => panic!("{event_type} v{version}: {e}"),
    }
}

const HOSPITAL: &str = "H0001";

/// One database per projector, with events applied in order.
struct Models {
    directory: sled::Db,
    reports: sled::Db,
    critical: sled::Db,
    rates: sled::Db,
    seq: u64,
}

impl Models {
    fn new() -> Models {
        Models {
            directory: temporary(),
            reports: temporary(),
            critical: temporary(),
            rates: temporary(),
            seq: 0,
        }
    }

    fn apply(&mut self, event_type: &str, aggregate: Uuid, data: Value) -> &mut Models {
        self.seq += 1;
        let event = Recorded {
            seq: self.seq,
            envelope: Envelope {
                id: Uuid::from_u128(u128::from(self.seq)),
                event_type: event_type.to_owned(),
                version: 1,
                aggregate,
                hospital: HOSPITAL.to_owned(),
                recorded_at: "2026-11-23T01:00:00Z".parse().unwrap_or_default(),
                trace: None,
                data: data.into(),
            },
            msg_id: None,
            traceparent: None,
        };
        let pairs: [(&dyn Projector, &sled::Db); 4] = [
            (&DirectoryProjector, &self.directory),
            (&ReportsProjector, &self.reports),
            (&CriticalValuesProjector, &self.critical),
            (&RatesProjector, &self.rates),
        ];
        for (projector, db) in pairs {
            let mut tx = Tx::new(db);
            let mut position = self.seq - 1;
            apply_once(projector, &mut tx, &mut position, &event)
                .unwrap_or_else(|e| panic!("{}: {e}", projector.name()));
            db.apply_batch(tx.into_batch(position)).expect("commit");
        }
        self
    }

    fn get<T: serde::de::DeserializeOwned>(db: &sled::Db, key: &str) -> Option<T> {
        Tx::new(db).get_json(key.as_bytes()).expect("read")
    }

    fn get_stored<T: lantern_projection::Stored>(db: &sled::Db, key: &str) -> Option<T> {
        Tx::new(db).get_stored(key.as_bytes()).expect("read")
    }
}

fn str_of<'v>(value: &'v Value, field: &str) -> &'v str {
    value.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// What the projectors must have made of an accepted event.
pub fn check_understood(event_type: &str, value: &Value) {
    let (subject, other) = (AGGREGATES[0], AGGREGATES[1]);
    let mut m = Models::new();
    let data = value.clone();
    let why = format!("{event_type} accepted by its schema but not understood: {value}");
    match event_type {
        "org.hospital_registered" => {
            m.apply(event_type, subject, data);
            let code = str_of(value, "code");
            let h: Option<HospitalRecord> = Models::get(&m.directory, &format!("h/{code}"));
            assert!(h.is_some(), "{why}");
            let zone: Option<HospitalInfo> = Models::get_stored(&m.rates, &format!("z/{HOSPITAL}"));
            assert!(zone.is_some(), "{why}");
        }
        "org.department_registered" => {
            let mut hospital = fixture("org.hospital_registered");
            hospital["code"] = json!(HOSPITAL);
            m.apply("org.hospital_registered", other, hospital)
                .apply(event_type, subject, data);
            let h: Option<HospitalRecord> = Models::get(&m.directory, &format!("h/{HOSPITAL}"));
            let code = str_of(value, "code");
            assert!(h.is_some_and(|h| h.departments.contains_key(code)), "{why}");
        }
        "org.token_issued" | "org.token_revoked" => {
            let hash = str_of(value, "token_hash");
            let mut issued = fixture("org.token_issued");
            issued["token_hash"] = json!(hash);
            if event_type == "org.token_revoked" {
                m.apply("org.token_issued", other, issued);
            }
            m.apply(event_type, subject, data);
            let t: Option<TokenRecord> = Models::get(&m.directory, &format!("t/{hash}"));
            let revoked = event_type == "org.token_revoked";
            assert!(t.is_some_and(|t| t.revoked == revoked), "{why}");
        }
        "org.limits_set" => {
            m.apply(event_type, subject, data);
            let h: Option<LimitsHistory> = Models::get(&m.critical, &format!("l/{HOSPITAL}"));
            assert!(h.is_some_and(|h| h.len() == 1), "{why}");
        }
        "report.filed" => {
            m.apply(event_type, subject, data);
            let r: Option<ReportRecord> = read_report(&Tx::new(&m.reports), subject).expect("read");
            assert!(r.is_some(), "{why}");
            let counted: u64 = every_cell(&m.rates)
                .expect("read")
                .iter()
                .map(|(_, _, _, c)| c.reports)
                .sum();
            assert_eq!(counted, 1, "{why}");
        }
        "report.triaged" | "report.followed_up" | "report.feedback_posted" => {
            m.apply("report.filed", subject, fixture("report.filed"))
                .apply(event_type, subject, data);
            let r: Option<ReportRecord> = read_report(&Tx::new(&m.reports), subject).expect("read");
            let r = r.unwrap_or_else(|| panic!("{why}"));
            let took = match event_type {
                "report.triaged" => r.triage.is_some(),
                "report.followed_up" => r.follow_ups.len() == 1,
                _ => r.feedback.len() == 1,
            };
            assert!(took, "{why}");
        }
        "rca.opened" | "rca.closed" => {
            m.apply("report.filed", subject, fixture("report.filed"));
            let rca = AGGREGATES[2];
            if event_type == "rca.closed" {
                let mut opened = fixture("rca.opened");
                opened["report_ids"] = json!([subject]);
                m.apply("rca.opened", rca, opened);
            }
            m.apply(event_type, rca, data);
            let stored: Option<Vec<Uuid>> = Models::get(&m.reports, &format!("a/{rca}"));
            let r: Option<ReportRecord> = read_report(&Tx::new(&m.reports), subject).expect("read");
            let took = if event_type == "rca.opened" {
                stored.is_some()
            } else {
                r.is_some_and(|r| r.rcas_closed == [rca])
            };
            assert!(took, "{why}");
        }
        "critical_value.detected" => {
            m.apply(event_type, subject, data);
            let cv: Option<CriticalValue> =
                Models::get_stored(&m.critical, &format!("v/{subject}"));
            assert!(cv.is_some(), "{why}");
            let detected: u64 = every_cell(&m.rates)
                .expect("read")
                .iter()
                .map(|(_, _, _, c)| c.critical_values.detected)
                .sum();
            assert_eq!(detected, 1, "{why}");
        }
        "critical_value.notified" | "critical_value.acknowledged" | "critical_value.handled" => {
            m.apply(
                "critical_value.detected",
                subject,
                fixture("critical_value.detected"),
            );
            if event_type != "critical_value.notified" {
                m.apply(
                    "critical_value.notified",
                    subject,
                    fixture("critical_value.notified"),
                );
            }
            m.apply(event_type, subject, data);
            let cv: Option<CriticalValue> =
                Models::get_stored(&m.critical, &format!("v/{subject}"));
            let cv = cv.unwrap_or_else(|| panic!("{why}"));
            let took = match event_type {
                "critical_value.notified" => cv.notified.is_some(),
                "critical_value.acknowledged" => cv.acknowledged.is_some(),
                _ => cv.handled.is_some(),
            };
            assert!(took, "{why}");
        }
        "census.recorded" => {
            m.apply(event_type, subject, data);
            let cell = read_cell(
                &Tx::new(&m.rates),
                HOSPITAL,
                str_of(value, "month"),
                str_of(value, "department"),
            )
            .expect("read");
            let cell = Some(cell).filter(|c| c.discharges.is_some());
            let discharges = value.get("discharges").and_then(Value::as_f64);
            assert!(
                cell.is_some_and(|c| c.discharges.map(|d| d as f64) == discharges),
                "{why}"
            );
        }
        // No projector here reads death.* or the other rca.* events yet.
        _ => {}
    }
}
