//! The reports projector: each report's record, the receipt index and the
//! per-month listing, folded from the `report.*`, `rca.*` and zone events.

use lantern_ledger::{AggregateKind, Recorded};
use lantern_projection::{ProjectionError, Projector, Stored, Tx};
use uuid::Uuid;

use super::record::{Feedback, FollowUp, Listing, ReportRecord, Status, Triage};
use lantern_domain::events::{Payload, org, rca, report};
use lantern_domain::zone::zone;
/// Keys: `r/<id>` report, `l/<hospital>/<YYYY-MM>` the [`Listing`] of the
/// month it was filed in (in the hospital's time zone), `x/<receipt hash>`
/// → id, `z/<hospital>` time zone, `a/<rca id>` → report ids.
///
/// Filing a report takes two inserts, its record and its receipt: sled's
/// work is per insert (a node copy, a split every few appends), and a
/// third, a record under its month with an index from its id, cost a
/// rebuild a sixth of its time. A month's listing is one value, which a
/// rebuild keeps decoded and writes once a batch ([`Tx::update`]); a list
/// reads it and then only the records of the page shown. Ids of imports
/// are not time-ordered and receipt hashes are random, so a rebuild holds
/// both back and writes them in key order ([`Tx::put_scattered`]) instead
/// of into random leaves, which it would read and rewrite for every
/// report.
pub(super) fn report_key(id: Uuid) -> Vec<u8> {
    format!("r/{id}").into_bytes()
}
pub(super) fn listing_key(hospital: &str, month: &str) -> Vec<u8> {
    format!("l/{hospital}/{month}").into_bytes()
}

/// Report `id` as the read model has it.
pub fn read_report(tx: &Tx<'_>, id: Uuid) -> Result<Option<ReportRecord>, ProjectionError> {
    tx.get_stored(&report_key(id))
}
pub(super) fn receipt_key(hash: &str) -> Vec<u8> {
    format!("x/{hash}").into_bytes()
}
fn zone_key(hospital: &str) -> Vec<u8> {
    format!("z/{hospital}").into_bytes()
}
fn rca_key(id: Uuid) -> Vec<u8> {
    format!("a/{id}").into_bytes()
}

/// The reports projector.
pub struct ReportsProjector;

impl Projector for ReportsProjector {
    fn name(&self) -> &'static str {
        "reports"
    }

    /// Time zones, reports, and the analyses that name them.
    fn kinds(&self) -> &'static [AggregateKind] {
        &[
            AggregateKind::Org,
            AggregateKind::Report,
            AggregateKind::Rca,
        ]
    }

    /// 2: reports under their filing sequence; 3: without descriptions;
    /// 4: under their month's listing; 5: records in postcard, not JSON;
    /// 6: records under their id, a month's listing one value.
    fn version(&self) -> u32 {
        // 7: harm re-assessed at triage, treatment_needed, provisional.
        7
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError> {
        let e = &event.envelope;
        let tz_name: Option<String> = tx.get_json(&zone_key(&e.hospital))?;
        let today = e
            .recorded_at
            .with_timezone(&zone(tz_name.as_deref()))
            .date_naive();
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
                // The description is read with the rest and dropped: it
                // stays on the stream (kilobytes a report, which the read
                // model would only copy, and a rebuild rewrite).
                let Ok(f) = report::Filed::read(e.version, e.data.as_json()) else {
                    return Ok(());
                };
                let provisional = f.provisional();
                let month = today.format("%Y-%m").to_string();
                tx.update(listing_key(&e.hospital, &month), |l: &mut Listing| {
                    l.ids.push(e.aggregate)
                })?;
                let receipt = receipt_key(&f.receipt_hash);
                let id = lantern_projection::to_json(&receipt, &e.aggregate)?;
                tx.put_scattered(receipt, id);
                let record = ReportRecord {
                    report_id: e.aggregate,
                    hospital: e.hospital.clone(),
                    department: f.department,
                    occurred_at: f.occurred_at,
                    grade: f.grade,
                    category: f.category,
                    harm: f.harm,
                    treatment_needed: f.treatment_needed,
                    provisional,
                    location: f.location,
                    immediate_actions: f.immediate_actions,
                    reporter_role: f.reporter_role,
                    patient_age_band: f.patient_age_band,
                    filed_on: today,
                    status: Status::Received,
                    triage: None,
                    follow_ups: vec![],
                    feedback: vec![],
                    rcas_open: vec![],
                    rcas_closed: vec![],
                    lessons: vec![],
                    filed_seq: event.seq,
                };
                tx.put_scattered(report_key(e.aggregate), record.encode());
            }
            "report.followed_up" | "report.feedback_posted" | "report.triaged" => {
                let key = report_key(e.aggregate);
                let Some(mut r) = tx.get_stored::<ReportRecord>(&key)? else {
                    return Ok(());
                };
                match e.event_type.as_str() {
                    "report.followed_up" => {
                        if let Ok(t) = e.data.parse::<report::FollowedUp>() {
                            r.follow_ups.push(FollowUp {
                                text: t.text,
                                added_on: today,
                            });
                        }
                    }
                    "report.feedback_posted" => {
                        if let Ok(t) = e.data.parse::<report::FeedbackPosted>() {
                            r.feedback.push(Feedback {
                                text: t.text,
                                posted_on: today,
                            });
                        }
                    }
                    _ => {
                        if let Ok(t) = report::Triaged::read(e.version, e.data.as_json()) {
                            let (harm, treatment_needed) = match t.harm {
                                Some(harm) => (harm, t.treatment_needed),
                                None => (r.harm, r.treatment_needed),
                            };
                            r.provisional = false;
                            r.triage = Some(Triage {
                                grade: t.grade,
                                category: t.category,
                                harm,
                                treatment_needed,
                                duplicate_of: t.duplicate_of,
                                note: t.note,
                                on: today,
                            });
                        }
                    }
                }
                r.refresh_status();
                tx.put_stored(key, &r);
            }
            "rca.opened" => {
                let Ok(o) = e.data.parse::<rca::Opened>() else {
                    return Ok(());
                };
                for id in &o.report_ids {
                    let key = report_key(*id);
                    if let Some(mut r) = tx.get_stored::<ReportRecord>(&key)? {
                        if !r.rcas_open.contains(&e.aggregate) {
                            r.rcas_open.push(e.aggregate);
                        }
                        r.refresh_status();
                        tx.put_stored(key, &r);
                    }
                }
                tx.put_json(rca_key(e.aggregate), &o.report_ids)?;
            }
            "rca.closed" => {
                let Ok(c) = e.data.parse::<rca::Closed>() else {
                    return Ok(());
                };
                let ids: Vec<Uuid> = tx.get_json(&rca_key(e.aggregate))?.unwrap_or_default();
                for id in ids {
                    let key = report_key(id);
                    if let Some(mut r) = tx.get_stored::<ReportRecord>(&key)? {
                        r.rcas_open.retain(|x| *x != e.aggregate);
                        if !r.rcas_closed.contains(&e.aggregate) {
                            r.rcas_closed.push(e.aggregate);
                            r.lessons.push(c.lessons.clone());
                        }
                        r.refresh_status();
                        tx.put_stored(key, &r);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::record::Report;
    use chrono::NaiveDate;
    use lantern_domain::vocab::{AgeBand, Category, Grade, Harm, ReporterRole};
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

    fn filed(desc: &str) -> serde_json::Value {
        json!({"department": "ICU", "occurred_at": "2026-01-31T20:00:00+08:00", "grade": "II",
               "category": "fall", "harm": "mild", "description": desc, "receipt_hash": "ab".repeat(32)})
    }

    fn opened(report: Uuid) -> serde_json::Value {
        json!({"report_ids": [report], "title": "t", "team_roles": ["safety_officer"], "due": "2026-04-15"})
    }

    /// Given events, when applied in order, then the state.
    fn given(events: &[Recorded]) -> sled::Db {
        lantern_projection::given(&ReportsProjector, events).unwrap()
    }

    fn report(db: &sled::Db, id: Uuid) -> ReportRecord {
        read_report(&Tx::new(db), id).unwrap().unwrap()
    }

    #[test]
    fn a_record_with_every_field_set_is_stored_and_read_back_whole() {
        use lantern_projection::Stored;
        let day = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
        let record = ReportRecord {
            report_id: Uuid::now_v7(),
            hospital: "H1".into(),
            department: "ICU".into(),
            occurred_at: "2026-01-31T20:00:00.123456789+08:00".parse().unwrap(),
            grade: Grade::II,
            category: Category::PressureInjury,
            harm: Harm::Moderate,
            treatment_needed: None,
            provisional: true,
            location: Some("呼吸内科病区39床".into()),
            immediate_actions: Some("已通知值班医生".into()),
            reporter_role: Some(ReporterRole::Pharmacist),
            patient_age_band: Some(AgeBand::A90),
            filed_on: day,
            status: Status::Closed,
            triage: Some(Triage {
                grade: Grade::III,
                category: Category::Other,
                harm: Harm::Mild,
                treatment_needed: Some(false),
                duplicate_of: Some(Uuid::now_v7()),
                note: Some("复核".into()),
                on: day,
            }),
            follow_ups: vec![FollowUp {
                text: "补充".into(),
                added_on: day,
            }],
            feedback: vec![Feedback {
                text: "谢谢".into(),
                posted_on: day,
            }],
            rcas_open: vec![Uuid::now_v7()],
            rcas_closed: vec![Uuid::now_v7(), Uuid::now_v7()],
            lessons: vec!["双人核对".into(), String::new()],
            filed_seq: 1 << 40,
        };
        let bytes = record.encode();
        assert_eq!(ReportRecord::decode(b"r/1", &bytes).unwrap(), record);
        assert!(matches!(
            ReportRecord::decode(b"r/1", &bytes[..bytes.len() - 1]),
            Err(ProjectionError::Corrupt { .. })
        ));
    }

    #[test]
    fn filing_day_is_in_the_hospital_time_zone() {
        let id = Uuid::now_v7();
        let db = given(&[
            event(
                1,
                "org.hospital_registered",
                Uuid::nil(),
                "2026-01-01T00:00:00Z",
                json!({"code": "H1", "name": "x", "region": "R", "level": "tertiary", "timezone": "Asia/Shanghai"}),
            ),
            // 17:00 UTC on Jan 31 is 01:00 on Feb 1 in Shanghai.
            event(2, "report.filed", id, "2026-01-31T17:00:00Z", filed("a")),
        ]);
        let r = report(&db, id);
        assert_eq!(r.filed_on.to_string(), "2026-02-01");
        assert_eq!(r.status, Status::Received);
        assert_eq!(listing(&db, "H1", "2026-02"), [id]);
        assert_eq!(db.scan_prefix("l/").count(), 1);
    }

    fn listing(db: &sled::Db, hospital: &str, month: &str) -> Vec<Uuid> {
        Tx::new(db)
            .get_stored::<Listing>(&listing_key(hospital, month))
            .unwrap()
            .unwrap_or_default()
            .ids
    }

    #[test]
    fn a_month_lists_its_reports_in_filing_order_once_each() {
        // Ids out of filing order, as an import's are.
        let (a, b, c) = (Uuid::from_u128(5), Uuid::from_u128(9), Uuid::from_u128(3));
        let at = "2026-03-01T02:00:00Z";
        let db = given(&[
            event(1, "report.filed", b, at, filed("b")),
            event(2, "report.filed", a, "2026-04-01T02:00:00Z", filed("a")),
            event(3, "report.filed", c, at, filed("c")),
            // A second filing of the same report is not a report.
            event(4, "report.filed", b, at, filed("again")),
            event(5, "report.followed_up", c, at, json!({"text": "more"})),
        ]);
        assert_eq!(listing(&db, "H1", "2026-03"), [b, c]);
        assert_eq!(listing(&db, "H1", "2026-04"), [a]);
        assert_eq!(report(&db, b).filed_seq, 1);
        assert_eq!(report(&db, c).follow_ups.len(), 1);
        assert_eq!(db.scan_prefix("r/").count(), 3);
    }

    #[test]
    fn triage_follow_up_feedback_and_analysis_move_the_status() {
        let id = Uuid::now_v7();
        let rca = Uuid::now_v7();
        let at = "2026-03-01T02:00:00Z";
        let db = given(&[
            event(1, "report.filed", id, at, filed("a")),
            event(2, "report.followed_up", id, at, json!({"text": "more"})),
            event(
                3,
                "report.triaged",
                id,
                at,
                json!({"grade": "I", "category": "medication"}),
            ),
            event(
                4,
                "report.feedback_posted",
                id,
                at,
                json!({"text": "thanks"}),
            ),
        ]);
        let r = report(&db, id);
        assert_eq!(r.status, Status::Triaged);
        assert_eq!(r.current_grade(), Grade::I);
        assert_eq!(r.current_category(), Category::Medication);
        assert_eq!(r.follow_ups[0].text, "more");
        assert_eq!(r.feedback[0].text, "thanks");

        let db = given(&[
            event(1, "report.filed", id, at, filed("a")),
            event(2, "rca.opened", rca, at, opened(id)),
        ]);
        assert_eq!(report(&db, id).status, Status::UnderAnalysis);
        let db = given(&[
            event(1, "report.filed", id, at, filed("a")),
            event(2, "rca.opened", rca, at, opened(id)),
            event(3, "rca.closed", rca, at, json!({"lessons": "double-check"})),
        ]);
        let r = report(&db, id);
        assert_eq!(r.status, Status::Closed);
        assert_eq!(r.lessons, ["double-check"]);
    }

    #[test]
    fn the_description_stays_on_the_stream() {
        let id = Uuid::now_v7();
        let text = "患者于夜班期间自行下床如厕，未呼叫护士协助";
        let db = given(&[event(
            7,
            "report.filed",
            id,
            "2026-03-01T02:00:00Z",
            filed(text),
        )]);
        let r = report(&db, id);
        assert_eq!(r.filed_seq, 7, "where to read it");
        for item in db.iter() {
            let (k, v) = item.unwrap();
            let needle = "夜班".as_bytes();
            assert!(
                !v.windows(needle.len()).any(|w| w == needle),
                "text stored under {}",
                String::from_utf8_lossy(&k)
            );
        }
        // Never shown: the sequence would date the filing.
        let shown = serde_json::to_value(Report {
            record: r,
            description: text.into(),
        })
        .unwrap();
        assert!(shown.get("filed_seq").is_none());
        assert_eq!(shown["description"], text);
        assert_eq!(shown["department"], "ICU");
    }

    #[test]
    fn steps_of_unknown_reports_are_ignored() {
        let db = given(&[event(
            1,
            "report.followed_up",
            Uuid::now_v7(),
            "2026-03-01T02:00:00Z",
            json!({"text": "x"}),
        )]);
        assert_eq!(db.scan_prefix("r/").count(), 0);
    }
}
