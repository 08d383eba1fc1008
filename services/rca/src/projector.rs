//! The rca projector: case files, each hospital's list of them, the reports
//! they analyse, and the queue of serious reports still without an analysis.
//!
//! Keys (text; sequences zero-padded so that ranges sort in stream order):
//! - `z/<hospital>` → the hospital's IANA time zone;
//! - `c/<rca id>` → [`CaseRecord`]: the folded case file and the stream
//!   sequence of its last event, which the next step expects;
//! - `h/<hospital>/<seq>` → rca id, in opening order;
//! - `p/<report id>` → [`ReportInfo`]: what a case file shows of a report,
//!   and the analyses of it;
//! - `q/<hospital>/<seq>` → report id: grade I or II (as it stands) and no
//!   analysis yet, in filing order.

use chrono::{DateTime, NaiveDate, Utc};
use lantern_domain::events::{Payload, org, report};
use lantern_domain::vocab::{Category, Grade};
use lantern_domain::zone::zone;
use lantern_ledger::{AggregateKind, Recorded};
use lantern_projection::{ProjectionError, Projector, Tx};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::case::{CaseFile, Stamp, apply};
use crate::event::RcaEvent;

/// A case file as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    /// The analysis id (its aggregate).
    pub rca_id: Uuid,
    /// Hospital code.
    pub hospital: String,
    /// Stream sequence of the last event on the case's subject.
    pub last_seq: u64,
    /// The folded state.
    pub case: CaseFile,
}

/// A report as the rca read model keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportInfo {
    /// Report id.
    pub report_id: Uuid,
    /// Hospital code.
    pub hospital: String,
    /// Department code.
    pub department: String,
    /// Grade as it stands (triaged if triaged).
    pub grade: Grade,
    /// Category as it stands.
    pub category: Category,
    /// When it was filed (server clock). Never shown: staff see the day only.
    pub filed_at: DateTime<Utc>,
    /// Day filed, hospital time zone.
    pub filed_on: NaiveDate,
    /// Stream sequence of the filing: its place in the queue.
    pub filed_seq: u64,
    /// Analyses opened on it.
    pub rcas: Vec<Uuid>,
}

impl ReportInfo {
    /// Whether the report waits for an analysis: serious, and none opened.
    pub fn needs_rca(&self) -> bool {
        self.grade.is_serious() && self.rcas.is_empty()
    }
}

/// Key of a hospital's time zone.
pub fn zone_key(hospital: &str) -> Vec<u8> {
    format!("z/{hospital}").into_bytes()
}

/// Key of a case file.
pub fn case_key(id: Uuid) -> Vec<u8> {
    format!("c/{id}").into_bytes()
}

/// Prefix of a hospital's case list.
pub fn hospital_prefix(hospital: &str) -> String {
    format!("h/{hospital}/")
}

/// Key of a report.
pub fn report_key(id: Uuid) -> Vec<u8> {
    format!("p/{id}").into_bytes()
}

/// Prefix of a hospital's queue of reports needing an analysis.
pub fn queue_prefix(hospital: &str) -> String {
    format!("q/{hospital}/")
}

fn queue_key(hospital: &str, seq: u64) -> Vec<u8> {
    format!("{}{seq:020}", queue_prefix(hospital)).into_bytes()
}

/// The rca projector.
pub struct RcaProjector;

impl Projector for RcaProjector {
    fn name(&self) -> &'static str {
        "rca"
    }

    /// Time zones, the reports analyses start from, and analyses.
    fn kinds(&self) -> &'static [AggregateKind] {
        &[
            AggregateKind::Org,
            AggregateKind::Report,
            AggregateKind::Rca,
        ]
    }

    /// 3: no descriptions (case files take them from the reports read
    /// model, which owns the text; kilobytes per report written twice made
    /// this model 1.5 GB at 1 M events). 2 kept them apart.
    fn version(&self) -> u32 {
        3
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError> {
        let e = &event.envelope;
        let tz: Option<String> = tx.get_json(&zone_key(&e.hospital))?;
        let stamp = Stamp {
            at: e.recorded_at,
            zone: zone(tz.as_deref()),
        };
        match e.event_type.as_str() {
            "org.hospital_registered" => {
                if let Ok(h) = e.data.parse::<org::HospitalRegistered>() {
                    tx.put_json(zone_key(&e.hospital), &h.timezone)?;
                }
            }
            "report.filed" => {
                // A report is filed once (its subject is appended expecting
                // no earlier event); a second filing is not a report.
                if tx.get(&report_key(e.aggregate))?.is_some() {
                    return Ok(());
                }
                let Ok(f) = report::Filed::read(e.version, e.data.as_json()) else {
                    return Ok(());
                };
                let info = ReportInfo {
                    report_id: e.aggregate,
                    hospital: e.hospital.clone(),
                    department: f.department,
                    grade: f.grade,
                    category: f.category,
                    filed_at: e.recorded_at,
                    filed_on: stamp.on(),
                    filed_seq: event.seq,
                    rcas: vec![],
                };
                put_report(tx, &info)?;
            }
            "report.triaged" => {
                let Ok(t) = report::Triaged::read(e.version, e.data.as_json()) else {
                    return Ok(());
                };
                if let Some(mut info) = tx.get_json::<ReportInfo>(&report_key(e.aggregate))? {
                    info.grade = t.grade;
                    info.category = t.category;
                    put_report(tx, &info)?;
                }
            }
            t if AggregateKind::of_event_type(t) == Some(AggregateKind::Rca) => {
                apply_case(tx, event, &stamp)?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Stores a report and keeps its place in the queue right.
fn put_report(tx: &mut Tx<'_>, info: &ReportInfo) -> Result<(), ProjectionError> {
    let key = queue_key(&info.hospital, info.filed_seq);
    if info.needs_rca() {
        tx.put_json(key, &info.report_id)?;
    } else {
        tx.remove(key);
    }
    tx.put_json(report_key(info.report_id), info)
}

/// An event on a case's subject: folded into its case file. Whatever the
/// event, the case's last sequence moves, since the subject's did.
fn apply_case(tx: &mut Tx<'_>, event: &Recorded, stamp: &Stamp) -> Result<(), ProjectionError> {
    let e = &event.envelope;
    let key = case_key(e.aggregate);
    let parsed = crate::event::parse(&e.event_type, e.version, &e.data);
    match tx.get_json::<CaseRecord>(&key)? {
        Some(mut record) => {
            if let Some(ev) = &parsed
                && let Some(case) = apply(Some(record.case.clone()), ev, stamp)
            {
                record.case = case;
            }
            record.last_seq = event.seq;
            tx.put_json(key, &record)
        }
        None => {
            let Some(ev @ RcaEvent::Opened(opened)) = &parsed else {
                return Ok(());
            };
            let Some(case) = apply(None, ev, stamp) else {
                return Ok(());
            };
            for id in &opened.report_ids {
                if let Some(mut info) = tx.get_json::<ReportInfo>(&report_key(*id))? {
                    if !info.rcas.contains(&e.aggregate) {
                        info.rcas.push(e.aggregate);
                    }
                    put_report(tx, &info)?;
                }
            }
            tx.put_json(
                format!("{}{:020}", hospital_prefix(&e.hospital), event.seq).into_bytes(),
                &e.aggregate,
            )?;
            tx.put_json(
                key,
                &CaseRecord {
                    rca_id: e.aggregate,
                    hospital: e.hospital.clone(),
                    last_seq: event.seq,
                    case,
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::CaseState;
    use serde_json::json;

    fn event(
        seq: u64,
        event_type: &str,
        aggregate: Uuid,
        at: &str,
        data: serde_json::Value,
    ) -> Recorded {
        Recorded::new(seq, event_type, "H1", aggregate, at.parse().unwrap(), data)
    }

    fn given(events: &[Recorded]) -> sled::Db {
        lantern_projection::given(&RcaProjector, events).unwrap()
    }

    fn registered(seq: u64) -> Recorded {
        event(
            seq,
            "org.hospital_registered",
            Uuid::nil(),
            "2026-01-01T00:00:00Z",
            json!({"code": "H1", "name": "x", "region": "R1", "level": "tertiary", "timezone": "Asia/Shanghai"}),
        )
    }

    fn filed(seq: u64, id: Uuid, grade: &str, at: &str) -> Recorded {
        event(
            seq,
            "report.filed",
            id,
            at,
            json!({"department": "ICU", "occurred_at": "2026-01-31T20:00:00+08:00", "grade": grade,
                   "category": "fall", "harm": "unknown", "description": "d", "receipt_hash": "ab".repeat(32)}),
        )
    }

    fn queue(db: &sled::Db) -> Vec<Uuid> {
        db.scan_prefix(queue_prefix("H1"))
            .map(|kv| serde_json::from_slice(&kv.unwrap().1).unwrap())
            .collect()
    }

    fn record(db: &sled::Db, id: Uuid) -> CaseRecord {
        Tx::new(db).get_json(&case_key(id)).unwrap().unwrap()
    }

    #[test]
    fn serious_reports_queue_until_an_analysis_opens() {
        let (a, b, c, rca) = (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(9),
        );
        let at = "2026-01-31T17:00:00Z";
        let db = given(&[
            registered(1),
            filed(2, a, "II", at),
            filed(3, b, "III", at),
            filed(4, c, "I", at),
        ]);
        assert_eq!(queue(&db), [a, c], "grades I and II, in filing order");
        let info: ReportInfo = Tx::new(&db).get_json(&report_key(a)).unwrap().unwrap();
        assert_eq!(
            info.filed_on.to_string(),
            "2026-02-01",
            "the day in Shanghai"
        );

        let triaged = |seq, id, grade: &str| {
            event(
                seq,
                "report.triaged",
                id,
                at,
                json!({"grade": grade, "category": "medication"}),
            )
        };
        let opened = event(
            7,
            "rca.opened",
            rca,
            at,
            json!({"report_ids": [a], "title": "t", "team_roles": ["so"], "due": "2026-03-01"}),
        );
        let db = given(&[
            registered(1),
            filed(2, a, "II", at),
            filed(3, b, "III", at),
            filed(4, c, "I", at),
            triaged(5, b, "II"),
            triaged(6, c, "III"),
            opened,
        ]);
        assert_eq!(
            queue(&db),
            [b],
            "triage moves reports in and out; the analysis takes a out"
        );
        let info: ReportInfo = Tx::new(&db).get_json(&report_key(a)).unwrap().unwrap();
        assert_eq!(info.rcas, [rca]);
        let info: ReportInfo = Tx::new(&db).get_json(&report_key(c)).unwrap().unwrap();
        assert_eq!(
            (info.grade, info.category),
            (Grade::III, Category::Medication)
        );
    }

    #[test]
    fn a_second_filing_of_the_same_report_changes_nothing() {
        let a = Uuid::from_u128(1);
        let db = given(&[
            registered(1),
            filed(2, a, "I", "2026-03-01T02:00:00Z"),
            filed(3, a, "IV", "2026-03-02T02:00:00Z"),
        ]);
        assert_eq!(queue(&db), vec![a]);
        let info: ReportInfo = Tx::new(&db).get_json(&report_key(a)).unwrap().unwrap();
        assert_eq!((info.grade, info.filed_seq), (Grade::I, 2));
    }

    #[test]
    fn a_case_keeps_its_state_and_last_sequence() {
        let rca = Uuid::from_u128(9);
        let at = "2026-03-01T02:00:00Z";
        let db = given(&[
            registered(1),
            event(
                2,
                "rca.opened",
                rca,
                at,
                json!({"report_ids": [Uuid::from_u128(1)], "title": "t", "team_roles": ["so"], "due": "2026-04-15"}),
            ),
            event(
                5,
                "rca.factor_added",
                rca,
                at,
                json!({"factor": 1, "category": "people", "statement": "s"}),
            ),
            // An event of a version we do not read still moves the sequence.
            event(8, "rca.factor_added", rca, at, json!({"unexpected": true})),
        ]);
        let r = record(&db, rca);
        assert_eq!(r.last_seq, 8);
        assert_eq!(r.hospital, "H1");
        assert_eq!(r.case.factors.len(), 1);
        assert_eq!(r.case.state, CaseState::Open);
        let listed: Vec<_> = db.scan_prefix(hospital_prefix("H1")).collect();
        assert_eq!(listed.len(), 1);
    }

    #[test]
    fn steps_of_unknown_cases_are_ignored() {
        let db = given(&[event(
            1,
            "rca.timeline_added",
            Uuid::from_u128(9),
            "2026-03-01T02:00:00Z",
            json!({"at": "2026-03-01T01:00:00Z", "text": "x"}),
        )]);
        assert_eq!(db.scan_prefix(b"c/").count(), 0);
    }
}
