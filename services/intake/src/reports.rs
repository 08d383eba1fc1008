//! The reports read model: each report with its triage, follow-ups,
//! feedback and analysis state; the receipt index; the per-month listing.
//!
//! Filing time is kept to the day (in the hospital's time zone): staff see
//! when a report was filed only to the day, so submission timing cannot
//! single out a reporter.

use std::time::Duration;

use chrono::{DateTime, NaiveDate};
use lantern_ledger::{AggregateKind, Ledger, Recorded};
use lantern_projection::{Handle, ProjectionError, Projector, Stored, Tx};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use lantern_api::error::ApiError;
use lantern_domain::events::{Payload, org, rca, report};
use lantern_domain::vocab::{AgeBand, Category, Grade, Harm, ReporterRole};
use lantern_domain::zone::zone;

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
    /// Re-assessed harm (the filed harm where a version-1 triage did not
    /// assess it).
    pub harm: Harm,
    /// With harm `mild`: whether it needed treatment.
    pub treatment_needed: Option<bool>,
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
    /// AHRQ harm as filed.
    pub harm: Harm,
    /// With harm `mild`: whether it needed treatment, as filed.
    pub treatment_needed: Option<bool>,
    /// Whether the grade is provisional: harm unknown when filed, and not
    /// triaged since.
    pub provisional: bool,
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

// Stored in postcard form (field names were half of a record's bytes),
// with the sequence of its filing, which the JSON form never shows. A
// change to the record or its enums raises the projector's version.
impl Stored for ReportRecord {
    fn encode(&self) -> Vec<u8> {
        lantern_projection::to_postcard(&(self.filed_seq, self))
    }

    fn decode(key: &[u8], bytes: &[u8]) -> Result<ReportRecord, ProjectionError> {
        let (filed_seq, record): (u64, ReportRecord) =
            lantern_projection::from_postcard(key, bytes)?;
        Ok(ReportRecord {
            filed_seq,
            ..record
        })
    }
}

/// The reports of a hospital filed in one month (in its time zone), in
/// filing order.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    /// Report ids, oldest first.
    pub ids: Vec<Uuid>,
}

lantern_projection::stored_as_postcard!(Listing);

impl ReportRecord {
    /// The grade that stands: the triaged one if triaged.
    pub fn current_grade(&self) -> Grade {
        self.triage.as_ref().map_or(self.grade, |t| t.grade)
    }

    /// The category that stands.
    pub fn current_category(&self) -> Category {
        self.triage.as_ref().map_or(self.category, |t| t.category)
    }

    /// The harm that stands, and for `mild` whether it needed treatment.
    pub fn current_harm(&self) -> (Harm, Option<bool>) {
        self.triage
            .as_ref()
            .map_or((self.harm, self.treatment_needed), |t| {
                (t.harm, t.treatment_needed)
            })
    }

    /// Whether triage marked it a duplicate of another report: the same
    /// event, counted once (不良事件例次).
    pub fn is_duplicate(&self) -> bool {
        self.triage
            .as_ref()
            .is_some_and(|t| t.duplicate_of.is_some())
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
fn report_key(id: Uuid) -> Vec<u8> {
    format!("r/{id}").into_bytes()
}
fn listing_key(hospital: &str, month: &str) -> Vec<u8> {
    format!("l/{hospital}/{month}").into_bytes()
}

/// Report `id` as the read model has it.
pub fn read_report(tx: &Tx<'_>, id: Uuid) -> Result<Option<ReportRecord>, ProjectionError> {
    tx.get_stored(&report_key(id))
}
fn receipt_key(hash: &str) -> Vec<u8> {
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
        self.read_records(self.filed(hospital, from, to)?)
    }

    /// The ids of a hospital's reports filed in months `from..=to`, newest
    /// first.
    fn filed(&self, hospital: &str, from: &str, to: &str) -> Result<Vec<Uuid>, ApiError> {
        let mut ids = Vec::new();
        if from > to {
            return Ok(ids);
        }
        let months = listing_key(hospital, from)..=listing_key(hospital, to);
        for item in self.handle.db().range(months).rev() {
            let (k, v) = item.map_err(ProjectionError::from)?;
            ids.extend(Listing::decode(&k, &v)?.ids.into_iter().rev());
        }
        Ok(ids)
    }

    /// The records of reports a listing names.
    fn read_records(&self, ids: Vec<Uuid>) -> Result<Vec<ReportRecord>, ApiError> {
        let tx = self.tx();
        ids.into_iter()
            .map(|id| {
                read_report(&tx, id)?.ok_or_else(|| {
                    ApiError::from(ProjectionError::Corrupt {
                        key: String::from_utf8_lossy(&report_key(id)).into_owned(),
                        message: "a listed report has no record".into(),
                    })
                })
            })
            .collect()
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
        let all = self.filed(hospital, from, to)?;
        let total = all.len();
        let shown = all
            .into_iter()
            .skip((page - 1).saturating_mul(per_page))
            .take(per_page)
            .collect();
        Ok(ReportPage {
            rows: self.describe(self.read_records(shown)?).await?,
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
                    return Err(ApiError::internal(format!(
                        "sequence {} is not the filing of report {}",
                        record.filed_seq, record.report_id
                    )));
                }
                let report::Filed { description, .. } =
                    report::Filed::read(e.version, e.data.as_json()).map_err(|err| {
                        ApiError::internal(format!("filing of report {}: {err}", record.report_id))
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
