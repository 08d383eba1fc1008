//! Property: for any sequence of events and any pattern of redelivery and
//! crashes (uncommitted batches lost), the rates projection equals a
//! straightforward recomputation from the distinct events.

// A test panics on a broken expectation by design: it may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use lantern_domain::vocab::{Category, Grade};
use lantern_ledger::Recorded;
use lantern_projection::{Projector, Tx, apply_once, checkpoint};
use lantern_rates::RatesProjector;
use lantern_rates::projector::{Cell, every_cell, month_of};
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

const HOSPITALS: [(&str, &str); 2] = [("H1", "Asia/Shanghai"), ("H2", "America/New_York")];
const DEPARTMENTS: [&str; 2] = ["D1", "D2"];

#[derive(Debug, Clone)]
enum Op {
    File {
        h: usize,
        d: usize,
        grade: usize,
        category: usize,
        minutes: i64,
    },
    Triage {
        report: usize,
        grade: usize,
        category: usize,
    },
    Census {
        h: usize,
        d: usize,
        month: usize,
        discharges: u64,
    },
    /// One discharge counted from the HIS (ADT^A03).
    Discharge { h: usize, d: usize, month: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, 0..2usize, 0..4usize, 0..20usize, 0..(90 * 24 * 60i64))
            .prop_map(|(h, d, grade, category, minutes)| Op::File { h, d, grade, category, minutes }),
        1 => (0..64usize, 0..4usize, 0..20usize).prop_map(|(report, grade, category)| Op::Triage { report, grade, category }),
        1 => (0..2usize, 0..2usize, 0..4usize, 0..500u64)
            .prop_map(|(h, d, month, discharges)| Op::Census { h, d, month, discharges }),
        1 => (0..2usize, 0..2usize, 0..4usize).prop_map(|(h, d, month)| Op::Discharge { h, d, month }),
    ]
}

fn recorded(
    seq: u64,
    event_type: &str,
    hospital: &str,
    aggregate: Uuid,
    at: DateTime<Utc>,
    data: serde_json::Value,
) -> Recorded {
    Recorded::new(seq, event_type, hospital, aggregate, at, data)
}

/// The events of a scenario, in stream order.
fn events(ops: &[Op]) -> Vec<Recorded> {
    let start: DateTime<Utc> = "2026-01-31T12:00:00Z".parse().unwrap();
    let mut out = Vec::new();
    for (code, tz) in HOSPITALS {
        out.push(recorded(
            0,
            "org.hospital_registered",
            code,
            Uuid::now_v7(),
            start,
            json!({"code": code, "name": code, "region": "R", "level": "tertiary", "timezone": tz}),
        ));
    }
    let mut filed: Vec<(String, Uuid)> = Vec::new();
    for op in ops {
        match op {
            Op::File {
                h,
                d,
                grade,
                category,
                minutes,
            } => {
                let id = Uuid::now_v7();
                let hospital = HOSPITALS[*h].0;
                filed.push((hospital.to_owned(), id));
                out.push(recorded(0, "report.filed", hospital, id, start + TimeDelta::minutes(*minutes),
                    json!({"department": DEPARTMENTS[*d], "occurred_at": "2026-01-31T20:00:00+08:00",
                           "grade": Grade::ALL[*grade], "category": Category::ALL[*category],
                           "harm": "unknown", "description": "d", "receipt_hash": "ab".repeat(32)})));
            }
            Op::Triage {
                report,
                grade,
                category,
            } if !filed.is_empty() => {
                let (hospital, id) = &filed[report % filed.len()];
                out.push(recorded(
                    0,
                    "report.triaged",
                    hospital,
                    *id,
                    start,
                    json!({"grade": Grade::ALL[*grade], "category": Category::ALL[*category]}),
                ));
            }
            Op::Triage { .. } => {}
            Op::Census {
                h,
                d,
                month,
                discharges,
            } => {
                out.push(recorded(0, "census.recorded", HOSPITALS[*h].0, Uuid::now_v7(), start,
                    json!({"department": DEPARTMENTS[*d], "month": format!("2026-0{}", month + 1), "discharges": discharges})));
            }
            Op::Discharge { h, d, month } => {
                out.push(recorded(
                    0,
                    "census.discharge_counted",
                    HOSPITALS[*h].0,
                    Uuid::now_v7(),
                    start,
                    json!({"department": DEPARTMENTS[*d], "month": format!("2026-0{}", month + 1)}),
                ));
            }
        }
    }
    for (i, e) in out.iter_mut().enumerate() {
        e.seq = i as u64 + 1;
    }
    out
}

/// The figures, recomputed plainly from the distinct events.
fn recompute(events: &[Recorded]) -> BTreeMap<(String, String, String), Cell> {
    let mut zones = BTreeMap::new();
    let mut reports: BTreeMap<Uuid, (String, String, String, Grade, Category)> = BTreeMap::new();
    let mut census: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    let mut counted: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for e in events {
        let e = &e.envelope;
        let data = &e.data.to_value();
        match e.event_type.as_str() {
            "org.hospital_registered" => {
                zones.insert(
                    e.hospital.clone(),
                    data["timezone"].as_str().unwrap().to_owned(),
                );
            }
            "report.filed" => {
                let month = month_of(e.recorded_at, zones.get(&e.hospital).map(String::as_str));
                let grade = serde_json::from_value(data["grade"].clone()).unwrap();
                let category = serde_json::from_value(data["category"].clone()).unwrap();
                reports.insert(
                    e.aggregate,
                    (
                        e.hospital.clone(),
                        month,
                        data["department"].as_str().unwrap().into(),
                        grade,
                        category,
                    ),
                );
            }
            "report.triaged" => {
                if let Some(r) = reports.get_mut(&e.aggregate) {
                    r.3 = serde_json::from_value(data["grade"].clone()).unwrap();
                    r.4 = serde_json::from_value(data["category"].clone()).unwrap();
                }
            }
            "census.recorded" => {
                census.insert(
                    (
                        e.hospital.clone(),
                        data["month"].as_str().unwrap().into(),
                        data["department"].as_str().unwrap().into(),
                    ),
                    data["discharges"].as_u64().unwrap(),
                );
            }
            "census.discharge_counted" => {
                *counted
                    .entry((
                        e.hospital.clone(),
                        data["month"].as_str().unwrap().into(),
                        data["department"].as_str().unwrap().into(),
                    ))
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    let mut cells: BTreeMap<(String, String, String), Cell> = BTreeMap::new();
    for (h, month, d, grade, category) in reports.values() {
        let cell = cells
            .entry((h.clone(), month.clone(), d.clone()))
            .or_default();
        cell.reports += 1;
        cell.by_grade[Grade::ALL.iter().position(|g| g == grade).unwrap()] += 1;
        cell.by_category[*category] += 1;
    }
    // The recorded figure stands where there is one, else the count.
    for (key, n) in counted {
        let cell = cells.entry(key).or_default();
        cell.counted_discharges = n;
        cell.discharges = Some(n);
    }
    for ((h, month, d), discharges) in census {
        let cell = cells.entry((h, month, d)).or_default();
        cell.recorded_discharges = Some(discharges);
        cell.discharges = Some(discharges);
    }
    cells
}

fn projected(db: &sled::Db) -> BTreeMap<(String, String, String), Cell> {
    every_cell(db)
        .unwrap()
        .into_iter()
        .map(|(h, m, d, c)| ((h, m, d), c))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn rates_equal_a_recomputation_under_redelivery_and_crashes(
        ops in prop::collection::vec(op(), 0..60),
        // Per delivered event: redeliver an earlier one (index mod seq), and
        // end the batch here: commit (true) or crash (false).
        pattern in prop::collection::vec((any::<Option<u16>>(), any::<Option<bool>>()), 1..200),
    ) {
        let events = events(&ops);
        let db = sled::Config::new().temporary(true).open().unwrap();
        let mut step = 0usize;
        let mut crashes = 0;
        loop {
            let mut position = checkpoint(&db).unwrap();
            if position as usize >= events.len() {
                break;
            }
            let mut tx = Tx::new(&db);
            let mut committed = false;
            while (position as usize) < events.len() {
                let next = &events[position as usize];
                apply_once(&RatesProjector, &mut tx, &mut position, next).unwrap();
                let (redeliver, end) = pattern[step % pattern.len()];
                step += 1;
                if let Some(back) = redeliver {
                    let earlier = &events[usize::from(back) % position as usize];
                    apply_once(&RatesProjector, &mut tx, &mut position, earlier).unwrap();
                }
                match end {
                    Some(true) => { committed = true; break; }
                    // A crash loses the batch; bounded so the run always ends.
                    Some(false) if crashes < 50 => { crashes += 1; break; }
                    _ => {}
                }
            }
            if committed || position as usize >= events.len() {
                db.apply_batch(tx.into_batch(position)).unwrap();
            }
        }
        prop_assert_eq!(projected(&db), recompute(&events));
        prop_assert_eq!(RatesProjector.name(), "rates");
    }
}
