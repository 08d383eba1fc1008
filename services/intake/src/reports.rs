//! The reports read model: each report with its triage, follow-ups,
//! feedback and analysis state; the receipt index; the per-month listing.
//!
//! Filing time is kept to the day (in the hospital's time zone): staff see
//! when a report was filed only to the day, so submission timing cannot
//! single out a reporter.

use std::time::Duration;

use chrono::{DateTime, NaiveDate};
use lantern_ledger::{AggregateKind, Ledger, Recorded};
use lantern_projection::{Handle, ProjectionError, Projector, Tx};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{AgeBand, Category, Grade, Harm, ReporterRole};
use crate::error::ApiError;

/// Where a report stands, as its reporter sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Filed, not yet looked at.
    Received,
    /// A safety officer verified grade and category.
    Triaged,
    /// A root-cause analysis of it is open.
    UnderAnalysis,
    /// Its analysis is closed.
    Closed,
}

/// A follow-up added by the reporter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FollowUp {
    /// Scrubbed text.
    pub text: String,
    /// Day added (hospital time zone).
    pub added_on: NaiveDate,
}

/// Feedback posted by a safety officer for the reporter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Feedback {
    /// What was learned or changed.
    pub text: String,
    /// Day posted (hospital time zone).
    pub posted_on: NaiveDate,
}

/// A safety officer's verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Triage {
    /// Verified grade.
    pub grade: Grade,
    /// Verified category.
    pub category: Category,
    /// The report this one duplicates.
    pub duplicate_of: Option<Uuid>,
    /// Note.
    pub note: Option<String>,
    /// Day triaged.
    pub on: NaiveDate,
}

/// What the read model keeps of a report: all staff see of it but its
/// description, which stays where it was filed, on the stream (see
/// [`Reports::describe`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportRecord {
    /// Report id.
    pub report_id: Uuid,
    /// Hospital code.
    pub hospital: String,
    /// Department code.
    pub department: String,
    /// When it happened, as reported.
    pub occurred_at: DateTime<chrono::FixedOffset>,
    /// Grade as filed.
    pub grade: Grade,
    /// Category as filed.
    pub category: Category,
    /// AHRQ harm.
    pub harm: Harm,
    /// Where.
    pub location: Option<String>,
    /// What was done at once (scrubbed).
    pub immediate_actions: Option<String>,
    /// Reporter's role, if given.
    pub reporter_role: Option<ReporterRole>,
    /// Patient's age band, if given.
    pub patient_age_band: Option<AgeBand>,
    /// Day filed (hospital time zone); never the time.
    pub filed_on: NaiveDate,
    /// Where it stands.
    pub status: Status,
    /// Triage, if done (the latest).
    pub triage: Option<Triage>,
    /// Reporter's follow-ups.
    pub follow_ups: Vec<FollowUp>,
    /// Feedback for the reporter.
    pub feedback: Vec<Feedback>,
    /// Open analyses of this report.
    pub rcas_open: Vec<Uuid>,
    /// Closed analyses of this report.
    pub rcas_closed: Vec<Uuid>,
    /// Lessons of closed analyses, for the reporter.
    pub lessons: Vec<String>,
    /// The stream sequence of its filing, which holds its description.
    /// Known from where it is stored; never shown (it would tell when the
    /// report was filed more precisely than the day).
    #[serde(skip)]
    pub filed_seq: u64,
}

/// A report as staff see it: the record and its description.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Report {
    /// What the read model keeps.
    #[serde(flatten)]
    pub record: ReportRecord,
    /// What happened (scrubbed).
    pub description: String,
}

// Stored in postcard form: field names were half of a record's bytes. A
// change to the record or its enums raises the projector's version.
lantern_projection::stored_as_postcard!(ReportRecord);

impl ReportRecord {
    /// The grade that stands: the triaged one if triaged.
    pub fn current_grade(&self) -> Grade {
        self.triage.as_ref().map_or(self.grade, |t| t.grade)
    }

    /// The category that stands.
    pub fn current_category(&self) -> Category {
        self.triage.as_ref().map_or(self.category, |t| t.category)
    }

    fn refresh_status(&mut self) {
        self.status = if !self.rcas_open.is_empty() {
            Status::UnderAnalysis
        } else if !self.rcas_closed.is_empty() {
            Status::Closed
        } else if self.triage.is_some() {
            Status::Triaged
        } else {
            Status::Received
        };
    }
}

/// Keys: `m/<hospital>/<YYYY-MM>/<filing seq>` report (the month it was
/// filed in, in the hospital's time zone), `r/<id>` → that key,
/// `x/<receipt hash>` → id, `z/<hospital>` time zone, `a/<rca id>` → report
/// ids.
///
/// A report is stored where its month's listing reads it: a list is one
/// range scan, filing one takes three inserts, and new reports go to the
/// end of their hospital-month instead of into random leaves (ids of
/// imports are not time-ordered), which a rebuild would read and rewrite
/// for every report. Receipt hashes are random, so a rebuild holds the
/// receipt index back and writes it in key order at its end
/// ([`Tx::put_scattered`]).
fn report_key(id: Uuid) -> Vec<u8> {
    format!("r/{id}").into_bytes()
}
fn record_key(hospital: &str, month: &str, seq: u64) -> Vec<u8> {
    format!("{}{month}/{seq:020}", month_prefix(hospital)).into_bytes()
}

/// The filing sequence at the end of a record's key.
fn filing_seq(key: &[u8]) -> Result<u64, ProjectionError> {
    key.rsplit(|b| *b == b'/')
        .next()
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ProjectionError::Corrupt {
            key: String::from_utf8_lossy(key).into_owned(),
            message: "a report key ends in its filing sequence".into(),
        })
}

/// Where report `id` is stored, if it was filed.
fn locate(tx: &Tx<'_>, id: Uuid) -> Result<Option<Vec<u8>>, ProjectionError> {
    tx.get(&report_key(id))
}

/// The record stored under `key`, with its filing sequence.
fn record_at(key: &[u8], value: &[u8]) -> Result<ReportRecord, ProjectionError> {
    let record: ReportRecord = lantern_projection::from_postcard(key, value)?;
    Ok(ReportRecord {
        filed_seq: filing_seq(key)?,
        ..record
    })
}

/// Report `id` as the read model has it.
pub fn read_report(tx: &Tx<'_>, id: Uuid) -> Result<Option<ReportRecord>, ProjectionError> {
    let Some(key) = locate(tx, id)? else {
        return Ok(None);
    };
    match tx.get(&key)? {
        Some(value) => record_at(&key, &value).map(Some),
        None => Ok(None),
    }
}
fn receipt_key(hash: &str) -> Vec<u8> {
    format!("x/{hash}").into_bytes()
}
fn month_prefix(hospital: &str) -> String {
    format!("m/{hospital}/")
}
fn zone_key(hospital: &str) -> Vec<u8> {
    format!("z/{hospital}").into_bytes()
}
fn rca_key(id: Uuid) -> Vec<u8> {
    format!("a/{id}").into_bytes()
}

/// The time zone months and days are counted in for a hospital; falls back
/// to Asia/Shanghai (the design's default) for an unknown name.
pub fn zone(name: Option<&str>) -> chrono_tz::Tz {
    name.and_then(|n| n.parse().ok())
        .unwrap_or(chrono_tz::Asia::Shanghai)
}

/// The reports projector.
pub struct ReportsProjector;

#[derive(Deserialize)]
struct Filed {
    department: String,
    occurred_at: DateTime<chrono::FixedOffset>,
    grade: Grade,
    category: Category,
    harm: Harm,
    location: Option<String>,
    // The description is left on the stream: kilobytes a report, which the
    // read model would only copy (and a rebuild rewrite).
    immediate_actions: Option<String>,
    reporter_role: Option<ReporterRole>,
    patient_age_band: Option<AgeBand>,
    receipt_hash: String,
}

/// The part of a filing the read model leaves on the stream.
#[derive(Deserialize)]
struct Description {
    description: String,
}

#[derive(Deserialize)]
struct Text {
    text: String,
}

#[derive(Deserialize)]
struct Triaged {
    grade: Grade,
    category: Category,
    duplicate_of: Option<Uuid>,
    note: Option<String>,
}

#[derive(Deserialize)]
struct RcaOpened {
    report_ids: Vec<Uuid>,
}

#[derive(Deserialize)]
struct RcaClosed {
    lessons: String,
}

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
    /// 4: under their month's listing; 5: records in postcard, not JSON.
    fn version(&self) -> u32 {
        5
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
                if let Some(tz) = e.data.str_field("timezone") {
                    tx.put_json(zone_key(&e.hospital), &tz)?;
                }
            }
            "report.filed" => {
                // A report is filed once (its subject is appended expecting
                // no earlier event); a second filing is not a report.
                if tx.get(&report_key(e.aggregate))?.is_some() {
                    return Ok(());
                }
                let Ok(f) = e.data.parse::<Filed>() else {
                    return Ok(());
                };
                let month = today.format("%Y-%m").to_string();
                let key = record_key(&e.hospital, &month, event.seq);
                // Receipt hashes scatter over the keys.
                let receipt = receipt_key(&f.receipt_hash);
                let id = lantern_projection::to_json(&receipt, &e.aggregate)?;
                tx.put_scattered(receipt, id);
                tx.put(report_key(e.aggregate), key.clone());
                tx.put_stored(
                    key,
                    &ReportRecord {
                        report_id: e.aggregate,
                        hospital: e.hospital.clone(),
                        department: f.department,
                        occurred_at: f.occurred_at,
                        grade: f.grade,
                        category: f.category,
                        harm: f.harm,
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
                    },
                );
            }
            "report.followed_up" | "report.feedback_posted" | "report.triaged" => {
                let Some(key) = locate(tx, e.aggregate)? else {
                    return Ok(());
                };
                let Some(mut r) = tx.get_stored::<ReportRecord>(&key)? else {
                    return Ok(());
                };
                match e.event_type.as_str() {
                    "report.followed_up" => {
                        if let Ok(t) = e.data.parse::<Text>() {
                            r.follow_ups.push(FollowUp {
                                text: t.text,
                                added_on: today,
                            });
                        }
                    }
                    "report.feedback_posted" => {
                        if let Ok(t) = e.data.parse::<Text>() {
                            r.feedback.push(Feedback {
                                text: t.text,
                                posted_on: today,
                            });
                        }
                    }
                    _ => {
                        if let Ok(t) = e.data.parse::<Triaged>() {
                            r.triage = Some(Triage {
                                grade: t.grade,
                                category: t.category,
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
                let Ok(o) = e.data.parse::<RcaOpened>() else {
                    return Ok(());
                };
                for id in &o.report_ids {
                    let Some(key) = locate(tx, *id)? else {
                        continue;
                    };
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
                let Ok(c) = e.data.parse::<RcaClosed>() else {
                    return Ok(());
                };
                let ids: Vec<Uuid> = tx.get_json(&rca_key(e.aggregate))?.unwrap_or_default();
                for id in ids {
                    let Some(key) = locate(tx, id)? else {
                        continue;
                    };
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

/// A page of reports.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportPage {
    /// The reports, newest first.
    pub rows: Vec<Report>,
    /// Page number, from 1.
    pub page: usize,
    /// Page size.
    pub per_page: usize,
    /// Reports in the whole range.
    pub total: usize,
}

/// Queries on the reports read model.
#[derive(Clone)]
pub struct Reports {
    handle: Handle,
    ledger: Ledger,
}

impl Reports {
    /// Queries over a running projector.
    pub fn new(handle: Handle, ledger: Ledger) -> Reports {
        Reports { handle, ledger }
    }

    /// The projector handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    fn tx(&self) -> Tx<'_> {
        Tx::new(self.handle.db())
    }

    /// Waits (bounded) until everything in the stream is applied.
    async fn catch_up(&self) -> Result<(), ApiError> {
        let last = self.ledger.last_sequence().await?;
        if self.handle.applied() < last && !self.handle.wait_for(last, Duration::from_secs(5)).await
        {
            return Err(ApiError::NotCaughtUp(last));
        }
        Ok(())
    }

    /// A report by id with its description (waiting for the read model on
    /// a miss).
    pub async fn report(&self, id: Uuid) -> Result<Option<Report>, ApiError> {
        match self.record(id).await? {
            Some(record) => Ok(self.describe(vec![record]).await?.pop()),
            None => Ok(None),
        }
    }

    /// What the read model keeps of a report (waiting for it on a miss).
    pub async fn record(&self, id: Uuid) -> Result<Option<ReportRecord>, ApiError> {
        if let Some(r) = read_report(&self.tx(), id)? {
            return Ok(Some(r));
        }
        self.catch_up().await?;
        Ok(read_report(&self.tx(), id)?)
    }

    /// The report behind a receipt hash (waiting for the read model on a miss).
    pub async fn by_receipt(&self, receipt_hash: &str) -> Result<Option<ReportRecord>, ApiError> {
        let find = || -> Result<Option<ReportRecord>, ApiError> {
            let tx = self.tx();
            match tx.get_json::<Uuid>(&receipt_key(receipt_hash))? {
                Some(id) => Ok(read_report(&tx, id)?),
                None => Ok(None),
            }
        };
        if let Some(r) = find()? {
            return Ok(Some(r));
        }
        self.catch_up().await?;
        find()
    }

    /// A hospital's reports filed in months `from..=to` (YYYY-MM), newest
    /// first, without their descriptions.
    pub fn records(
        &self,
        hospital: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<ReportRecord>, ApiError> {
        let prefix = month_prefix(hospital);
        let start = format!("{prefix}{from}/");
        let end = format!("{prefix}{to}/\u{10FFFF}");
        let mut rows = Vec::new();
        for item in self
            .handle
            .db()
            .range(start.into_bytes()..end.into_bytes())
            .rev()
        {
            let (k, v) = item.map_err(ProjectionError::from)?;
            rows.push(record_at(&k, &v)?);
        }
        Ok(rows)
    }

    /// Page `page` of a hospital's reports filed in months `from..=to`,
    /// newest first, with their descriptions.
    pub async fn page(
        &self,
        hospital: &str,
        from: &str,
        to: &str,
        page: usize,
        per_page: usize,
    ) -> Result<ReportPage, ApiError> {
        let all = self.records(hospital, from, to)?;
        let total = all.len();
        let shown = all
            .into_iter()
            .skip((page - 1).saturating_mul(per_page))
            .take(per_page)
            .collect();
        Ok(ReportPage {
            rows: self.describe(shown).await?,
            page,
            per_page,
            total,
        })
    }

    /// The records with their descriptions, read from their filing events
    /// (JetStream answers a read by sequence from its index; a few are read
    /// at a time).
    pub async fn describe(&self, records: Vec<ReportRecord>) -> Result<Vec<Report>, ApiError> {
        use futures::{StreamExt, TryStreamExt};
        futures::stream::iter(records)
            .map(|record| async move {
                let filed = self.ledger.get(record.filed_seq).await?;
                let e = &filed.envelope;
                if e.aggregate != record.report_id || e.event_type != "report.filed" {
                    return Err(ApiError::Internal(format!(
                        "sequence {} is not the filing of report {}",
                        record.filed_seq, record.report_id
                    )));
                }
                let Description { description } = e.data.parse().map_err(|err| {
                    ApiError::Internal(format!("filing of report {}: {err}", record.report_id))
                })?;
                Ok(Report {
                    record,
                    description,
                })
            })
            .buffered(DESCRIBE_AT_ONCE)
            .try_collect()
            .await
    }
}

/// Descriptions read from the stream at the same time.
const DESCRIBE_AT_ONCE: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;
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
            location: Some("呼吸内科病区39床".into()),
            immediate_actions: Some("已通知值班医生".into()),
            reporter_role: Some(ReporterRole::Pharmacist),
            patient_age_band: Some(AgeBand::A90),
            filed_on: day,
            status: Status::Closed,
            triage: Some(Triage {
                grade: Grade::III,
                category: Category::Other,
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
            filed_seq: 0,
        };
        let bytes = record.encode();
        assert_eq!(ReportRecord::decode(b"m/H1", &bytes).unwrap(), record);
        assert!(matches!(
            ReportRecord::decode(b"m/H1", &bytes[..bytes.len() - 1]),
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
        let keys: Vec<_> = db.scan_prefix("m/H1/2026-02/").collect();
        assert_eq!(keys.len(), 1);
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
            event(2, "rca.opened", rca, at, json!({"report_ids": [id]})),
        ]);
        assert_eq!(report(&db, id).status, Status::UnderAnalysis);
        let db = given(&[
            event(1, "report.filed", id, at, filed("a")),
            event(2, "rca.opened", rca, at, json!({"report_ids": [id]})),
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
