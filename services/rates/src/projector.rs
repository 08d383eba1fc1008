//! The rates projector: counters per hospital, month and department.
//!
//! Keys (big-endian-free: every part is fixed-width or delimited text that
//! sorts as the query scans it):
//! - `z/<hospital>` → the hospital's region and time zone ([`HospitalInfo`],
//!   postcard);
//! - `d/<hospital>/<department>` → a registered department;
//! - `c/<hospital>/<YYYY-MM>` → that month's [`Cell`] of every department
//!   ([`MonthCells`]): a 12-month query of a hospital reads 12 values;
//! - `r/<report id>` → where a report is counted, so a triage can move it;
//! - `v/<critical value id>` → where a critical value is counted, and the
//!   times its timeliness is measured by;
//! - `l/<hospital>` → the hospital's critical-value limits with their
//!   history (postcard, times as [`At`]).
//!
//! The hospital and its limits are read for every report and critical
//! value a rebuild applies: stored as postcard, not JSON, they cost a
//! fraction of the decoding (session 14: 4.5 % of a rates rebuild's CPU
//! went to parsing them as JSON).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lantern_domain::critical::{Limits, LimitsHistory, Source, limits_at, within};
use lantern_domain::events::{Payload, census, critical_value, org, report};
use lantern_domain::vocab::{Category, Grade};
use lantern_domain::zone::zone;
use lantern_ledger::{AggregateKind, Recorded};
use lantern_projection::{ProjectionError, Projector, Stored, Tx, from_postcard};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A hospital as the rates need it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HospitalInfo {
    /// Region code.
    pub region: String,
    /// IANA time zone.
    pub timezone: String,
}

/// Critical-value counters of a cell (the month of `detected_at`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CriticalValueCounts {
    /// Detected.
    pub detected: u64,
    /// Notified.
    pub notified: u64,
    /// Notified within the hospital's limit.
    pub notified_in_time: u64,
    /// Handled.
    pub handled: u64,
    /// Handled within the hospital's limit.
    pub handled_in_time: u64,
}

impl CriticalValueCounts {
    /// Adds another cell's counts.
    pub fn add(&mut self, other: &CriticalValueCounts) {
        // Saturating: a query sums these over months and hospitals, and no
        // stored value may make it panic or wrap.
        self.detected = self.detected.saturating_add(other.detected);
        self.notified = self.notified.saturating_add(other.notified);
        self.notified_in_time = self.notified_in_time.saturating_add(other.notified_in_time);
        self.handled = self.handled.saturating_add(other.handled);
        self.handled_in_time = self.handled_in_time.saturating_add(other.handled_in_time);
    }
}

/// How many categories there are.
pub const CATEGORIES: usize = Category::ALL.len();

/// Reports by category, in [`Category::ALL`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryCounts([u64; CATEGORIES]);

impl Default for CategoryCounts {
    fn default() -> Self {
        CategoryCounts([0; CATEGORIES])
    }
}

fn category_index(c: Category) -> usize {
    // ALL lists every variant in declaration order.
    c as usize
}

impl CategoryCounts {
    /// Each category with its count, zeros included, in [`Category::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Category, u64)> + '_ {
        Category::ALL.iter().copied().zip(self.0.iter().copied())
    }

    /// The counts, in [`Category::ALL`] order.
    pub fn values(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.iter().copied()
    }

    /// Adds another cell's counts.
    pub fn add(&mut self, other: &CategoryCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a = a.saturating_add(b);
        }
    }
}

impl std::ops::Index<Category> for CategoryCounts {
    type Output = u64;
    fn index(&self, c: Category) -> &u64 {
        &self.0[category_index(c)]
    }
}

impl std::ops::IndexMut<Category> for CategoryCounts {
    fn index_mut(&mut self, c: Category) -> &mut u64 {
        &mut self.0[category_index(c)]
    }
}

/// The counters of one hospital-month-department.
///
/// Stored with the other departments of its month in postcard's compact
/// binary form (varints, ≈ 30 bytes a cell), not JSON: a 12-month query of
/// a region reads thousands of cells, and decoding them dominated its
/// latency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Reports filed in the month.
    pub reports: u64,
    /// By the grade that stands (triaged if triaged), I..IV.
    pub by_grade: [u64; 4],
    /// By the category that stands.
    pub by_category: CategoryCounts,
    /// Discharges of the month, the rates' denominator: the latest census
    /// figure where one was recorded, else the discharges counted one by
    /// one from the HIS (ADT^A03), else none.
    pub discharges: Option<u64>,
    /// Lab critical values detected in the month: what CL-14 and CL-15
    /// count (临床检验 indicators).
    pub critical_values: CriticalValueCounts,
    /// Reports a safety officer marked as duplicates of another: not in
    /// `reports`, `by_grade` or `by_category` (one event counts once).
    pub duplicates: u64,
    /// Critical values of the other sources, shown beside CL-14/CL-15, in
    /// [`OTHER_SOURCES`] order.
    pub other_sources: [CriticalValueCounts; 4],
    /// The latest census figure recorded (`census.recorded`), if any.
    pub recorded_discharges: Option<u64>,
    /// Discharges counted one by one (`census.discharge_counted`).
    pub counted_discharges: u64,
}

impl Cell {
    /// Whether the month's discharges are the ones counted from the HIS
    /// rather than a recorded census figure.
    pub fn discharges_counted(&self) -> bool {
        self.recorded_discharges.is_none() && self.discharges.is_some()
    }
}

/// The sources whose critical values are counted apart from the lab's.
pub const OTHER_SOURCES: [Source; 4] = [
    Source::Imaging,
    Source::Ecg,
    Source::Pathology,
    Source::Other,
];

impl Cell {
    /// The critical-value counters of `source`.
    pub fn critical_values_of(&mut self, source: Source) -> &mut CriticalValueCounts {
        match source {
            Source::Lab => &mut self.critical_values,
            Source::Imaging => &mut self.other_sources[0],
            Source::Ecg => &mut self.other_sources[1],
            Source::Pathology => &mut self.other_sources[2],
            Source::Other => &mut self.other_sources[3],
        }
    }
}

/// Where a report is counted. Stored in postcard form, as are
/// [`CountedValue`]s: a rebuild writes one per report and per critical
/// value, and JSON's text (and chrono's RFC 3339) cost more to write and
/// read than the counting itself. Enums are stored by variant index: a
/// change to [`Grade`] or [`Category`] raises the projector's version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Counted {
    hospital: String,
    month: String,
    department: String,
    grade: Grade,
    category: Category,
    /// Marked a duplicate by triage: counted in `duplicates` instead.
    duplicate: bool,
}

/// An instant as seconds and nanoseconds since the epoch: what timeliness
/// needs of a time (its offset does not change a duration), in fixed-width
/// integers rather than text.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct At(i64, u32);

impl From<DateTime<chrono::FixedOffset>> for At {
    fn from(t: DateTime<chrono::FixedOffset>) -> At {
        At(t.timestamp(), t.timestamp_subsec_nanos())
    }
}

impl From<DateTime<Utc>> for At {
    fn from(t: DateTime<Utc>) -> At {
        At(t.timestamp(), t.timestamp_subsec_nanos())
    }
}

impl At {
    fn time(self) -> DateTime<chrono::FixedOffset> {
        // Written from a valid time, so always one (the epoch otherwise).
        DateTime::from_timestamp(self.0, self.1)
            .unwrap_or_default()
            .fixed_offset()
    }
}

fn grade_index(g: Grade) -> usize {
    match g {
        Grade::I => 0,
        Grade::II => 1,
        Grade::III => 2,
        Grade::IV => 3,
    }
}

/// The key of a hospital's info.
pub fn hospital_key(hospital: &str) -> Vec<u8> {
    format!("z/{hospital}").into_bytes()
}

/// The key prefix of a hospital's registered departments.
pub fn department_prefix(hospital: &str) -> String {
    format!("d/{hospital}/")
}

/// The key of a hospital-month's cells.
pub fn month_key(hospital: &str, month: &str) -> Vec<u8> {
    format!("c/{hospital}/{month}").into_bytes()
}

/// A hospital-month's cells, by department, stored as one value (postcard).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MonthCells(pub BTreeMap<String, Cell>);

lantern_projection::stored_as_postcard!(
    MonthCells,
    Counted,
    CountedValue,
    HospitalInfo,
    StoredLimits
);

/// A hospital's critical-value limits history as stored: the times as
/// [`At`] (chrono would write and parse them as RFC 3339 text).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct StoredLimits(Vec<(At, Limits)>);

impl StoredLimits {
    fn history(&self) -> LimitsHistory {
        self.0
            .iter()
            .map(|(at, l)| (at.time().to_utc(), *l))
            .collect()
    }
}

impl MonthCells {
    /// The month under `key`, pending writes included (empty if none).
    pub fn read(tx: &Tx<'_>, key: &[u8]) -> Result<MonthCells, ProjectionError> {
        Ok(tx.get_stored(key)?.unwrap_or_default())
    }
}

/// One cell, as stored (empty if none).
pub fn read_cell(
    tx: &Tx<'_>,
    hospital: &str,
    month: &str,
    department: &str,
) -> Result<Cell, ProjectionError> {
    let cells = MonthCells::read(tx, &month_key(hospital, month))?;
    Ok(cells.0.get(department).copied().unwrap_or_default())
}

/// Every cell of the read model as (hospital, month, department, cell).
pub fn every_cell(db: &sled::Db) -> Result<Vec<(String, String, String, Cell)>, ProjectionError> {
    let mut out = Vec::new();
    for item in db.scan_prefix(b"c/") {
        let (key, value) = item?;
        let text = String::from_utf8_lossy(&key[2..]).into_owned();
        let Some((hospital, month)) = text.rsplit_once('/') else {
            continue;
        };
        for (dept, cell) in MonthCells::decode(&key, &value)?.0 {
            out.push((hospital.to_owned(), month.to_owned(), dept, cell));
        }
    }
    Ok(out)
}

fn critical_key(id: Uuid) -> Vec<u8> {
    format!("v/{id}").into_bytes()
}

/// Where a critical value is counted, and what its timeliness is measured by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CountedValue {
    hospital: String,
    month: String,
    department: String,
    source: Source,
    detected_at: At,
    notified_at: Option<At>,
    handled: bool,
    limits: Limits,
}

fn report_key(id: Uuid) -> Vec<u8> {
    format!("r/{id}").into_bytes()
}

/// A hospital's cells from month `from` to `to` (`YYYY-MM`, inclusive), as
/// (month, department, cell), in key order.
pub fn cells(
    db: &sled::Db,
    hospital: &str,
    from: &str,
    to: &str,
) -> Result<Vec<(String, String, Cell)>, ProjectionError> {
    let mut out = Vec::new();
    for_each_cell(db, hospital, from, to, |month, dept, cell| {
        out.push((month.to_owned(), dept.to_owned(), *cell));
    })?;
    Ok(out)
}

/// Calls `f(month, department, cell)` for each of a hospital's cells from
/// month `from` to `to` (`YYYY-MM`, inclusive), in month and department
/// order: what a query over many hospitals runs.
pub fn for_each_cell(
    db: &sled::Db,
    hospital: &str,
    from: &str,
    to: &str,
    mut f: impl FnMut(&str, &str, &Cell),
) -> Result<(), ProjectionError> {
    let start = month_key(hospital, from);
    let mut end = month_key(hospital, to);
    end.push(0);
    let skip = "c/".len() + hospital.len() + 1;
    for item in db.range(start..end) {
        let (key, value) = item?;
        let Some(month) = key.get(skip..).and_then(|m| std::str::from_utf8(m).ok()) else {
            continue;
        };
        // Borrowed: a map and a sequence of pairs are written alike, and
        // the departments' names are read in place, without a map built.
        let cells: Vec<(&str, Cell)> = from_postcard(&key, &value)?;
        for (dept, cell) in &cells {
            f(month, dept, cell);
        }
    }
    Ok(())
}

/// The month (`YYYY-MM`) of an instant in a hospital's time zone.
pub fn month_of(at: DateTime<Utc>, timezone: Option<&str>) -> String {
    at.with_timezone(&zone(timezone))
        .format("%Y-%m")
        .to_string()
}

/// The rates projector.
pub struct RatesProjector;

/// The key of a hospital's critical-value limits history.
fn limits_key(hospital: &str) -> Vec<u8> {
    format!("l/{hospital}").into_bytes()
}

fn update_cell(
    tx: &mut Tx<'_>,
    (hospital, month, department): (&str, &str, &str),
    f: impl FnOnce(&mut Cell),
) -> Result<(), ProjectionError> {
    tx.update(
        month_key(hospital, month),
        |cells: &mut MonthCells| match cells.0.get_mut(department) {
            Some(cell) => f(cell),
            None => f(cells.0.entry(department.to_owned()).or_default()),
        },
    )
}

impl Projector for RatesProjector {
    fn name(&self) -> &'static str {
        "rates"
    }

    /// The organisation, reports, critical values and census figures.
    fn kinds(&self) -> &'static [AggregateKind] {
        &[
            AggregateKind::Org,
            AggregateKind::Report,
            AggregateKind::CriticalValue,
            AggregateKind::Census,
        ]
    }

    /// 2: a hospital-month's cells in one postcard value, not a JSON
    /// value per cell; 3: where reports and critical values are counted,
    /// in postcard; 4: duplicates apart, critical values by source (CL-14
    /// and CL-15 count the lab's only); 5: 24 categories (report.filed v2
    /// adds perinatal, VTE, elopement and critical-value process), so a
    /// cell's stored form is longer; 6: a hospital's info and limits in
    /// postcard, not JSON; 7: discharges counted one by one beside the
    /// recorded figure.
    fn version(&self) -> u32 {
        7
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError> {
        let e = &event.envelope;
        match e.event_type.as_str() {
            "org.hospital_registered" => {
                if let Ok(h) = e.data.parse::<org::HospitalRegistered>() {
                    tx.put_stored(
                        hospital_key(&e.hospital),
                        &HospitalInfo {
                            region: h.region,
                            timezone: h.timezone,
                        },
                    );
                }
            }
            "org.department_registered" => {
                if let Ok(d) = e.data.parse::<org::DepartmentRegistered>() {
                    tx.put(
                        format!("{}{}", department_prefix(&e.hospital), d.code).into_bytes(),
                        b"1".to_vec(),
                    );
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
                let info: Option<HospitalInfo> = tx.get_stored(&hospital_key(&e.hospital))?;
                let month = month_of(e.recorded_at, info.as_ref().map(|i| i.timezone.as_str()));
                update_cell(tx, (&e.hospital, &month, &f.department), |c| {
                    c.reports += 1;
                    c.by_grade[grade_index(f.grade)] += 1;
                    c.by_category[f.category] += 1;
                })?;
                tx.put_stored(
                    report_key(e.aggregate),
                    &Counted {
                        hospital: e.hospital.clone(),
                        month,
                        department: f.department,
                        grade: f.grade,
                        category: f.category,
                        duplicate: false,
                    },
                );
            }
            "report.triaged" => {
                let Ok(t) = report::Triaged::read(e.version, e.data.as_json()) else {
                    return Ok(());
                };
                let key = report_key(e.aggregate);
                let Some(mut counted) = tx.get_stored::<Counted>(&key)? else {
                    return Ok(());
                };
                let duplicate = t.duplicate_of.is_some();
                if counted.grade == t.grade
                    && counted.category == t.category
                    && counted.duplicate == duplicate
                {
                    return Ok(());
                }
                let was = counted.clone();
                update_cell(
                    tx,
                    (&counted.hospital, &counted.month, &counted.department),
                    |c| {
                        // Out as it stood, in as it stands: a duplicate is
                        // counted apart, never in the reports or breakdowns.
                        if was.duplicate {
                            c.duplicates = c.duplicates.saturating_sub(1);
                        } else {
                            c.reports = c.reports.saturating_sub(1);
                            let g = &mut c.by_grade[grade_index(was.grade)];
                            *g = g.saturating_sub(1);
                            let n = &mut c.by_category[was.category];
                            *n = n.saturating_sub(1);
                        }
                        if duplicate {
                            c.duplicates += 1;
                        } else {
                            c.reports += 1;
                            c.by_grade[grade_index(t.grade)] += 1;
                            c.by_category[t.category] += 1;
                        }
                    },
                )?;
                counted.grade = t.grade;
                counted.category = t.category;
                counted.duplicate = duplicate;
                tx.put_stored(key, &counted);
            }
            "org.limits_set" => {
                // Limits apply by detected_at: a value is judged by those
                // set before its detection, so the history is kept.
                if let Ok(set) = e.data.parse::<org::LimitsSet>() {
                    let key = limits_key(&e.hospital);
                    let mut history: StoredLimits = tx.get_stored(&key)?.unwrap_or_default();
                    history.0.push((e.recorded_at.into(), set.limits));
                    tx.put_stored(key, &history);
                }
            }
            "critical_value.detected" => {
                let Ok(d) = e.data.parse::<critical_value::Detected>() else {
                    return Ok(());
                };
                let key = critical_key(e.aggregate);
                if tx.get(&key)?.is_some() {
                    return Ok(());
                }
                let info: Option<HospitalInfo> = tx.get_stored(&hospital_key(&e.hospital))?;
                let month = month_of(
                    d.detected_at.to_utc(),
                    info.as_ref().map(|i| i.timezone.as_str()),
                );
                let history = tx
                    .get_stored::<StoredLimits>(&limits_key(&e.hospital))?
                    .unwrap_or_default()
                    .history();
                update_cell(tx, (&e.hospital, &month, &d.department), |c| {
                    c.critical_values_of(d.source).detected += 1;
                })?;
                // Critical-value ids are random: scattered over the keys.
                tx.put_scattered(
                    key,
                    Stored::encode(&CountedValue {
                        hospital: e.hospital.clone(),
                        month,
                        department: d.department,
                        source: d.source,
                        detected_at: d.detected_at.into(),
                        notified_at: None,
                        handled: false,
                        limits: limits_at(&history, d.detected_at.to_utc()),
                    }),
                );
            }
            "critical_value.notified" => {
                let key = critical_key(e.aggregate);
                let Some(mut v) = tx.get_stored::<CountedValue>(&key)? else {
                    return Ok(());
                };
                if v.notified_at.is_some() {
                    return Ok(());
                }
                let Ok(n) = e.data.parse::<critical_value::Notified>() else {
                    return Ok(());
                };
                let in_time = within(
                    v.detected_at.time(),
                    n.notified_at,
                    v.limits.notification_limit_minutes,
                );
                let cell = (v.hospital.as_str(), v.month.as_str(), v.department.as_str());
                let source = v.source;
                update_cell(tx, cell, |c| {
                    let counts = c.critical_values_of(source);
                    counts.notified += 1;
                    counts.notified_in_time += u64::from(in_time);
                })?;
                v.notified_at = Some(n.notified_at.into());
                tx.put_scattered(key, v.encode());
            }
            "critical_value.handled" => {
                let key = critical_key(e.aggregate);
                let Some(mut v) = tx.get_stored::<CountedValue>(&key)? else {
                    return Ok(());
                };
                if v.handled {
                    return Ok(());
                }
                let Ok(h) = e.data.parse::<critical_value::Handled>() else {
                    return Ok(());
                };
                let in_time = v.notified_at.is_some_and(|n| {
                    within(n.time(), h.handled_at, v.limits.handling_limit_minutes)
                });
                let cell = (v.hospital.as_str(), v.month.as_str(), v.department.as_str());
                let source = v.source;
                update_cell(tx, cell, |c| {
                    let counts = c.critical_values_of(source);
                    counts.handled += 1;
                    counts.handled_in_time += u64::from(in_time);
                })?;
                v.handled = true;
                tx.put_scattered(key, v.encode());
            }
            "census.recorded" => {
                let Ok(c) = e.data.parse::<census::Recorded>() else {
                    return Ok(());
                };
                let month = c.month.to_string();
                update_cell(tx, (&e.hospital, &month, &c.department), |cell| {
                    cell.recorded_discharges = Some(c.discharges);
                    cell.discharges = Some(c.discharges);
                })?;
            }
            // One discharge of the HIS's: the denominator until (and
            // unless) a census figure is recorded for the month.
            "census.discharge_counted" => {
                let Ok(c) = e.data.parse::<census::DischargeCounted>() else {
                    return Ok(());
                };
                let month = c.month.to_string();
                update_cell(tx, (&e.hospital, &month, &c.department), |cell| {
                    cell.counted_discharges = cell.counted_discharges.saturating_add(1);
                    if cell.recorded_discharges.is_none() {
                        cell.discharges = Some(cell.counted_discharges);
                    }
                })?;
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(event_type: &str, aggregate: Uuid, at: &str, data: serde_json::Value) -> Recorded {
        Recorded::new(0, event_type, "H1", aggregate, at.parse().unwrap(), data)
    }

    fn given(events: &[Recorded]) -> sled::Db {
        lantern_projection::given(&RatesProjector, events).unwrap()
    }

    fn cell(db: &sled::Db, month: &str, dept: &str) -> Cell {
        read_cell(&Tx::new(db), "H1", month, dept).unwrap()
    }

    fn registered() -> Recorded {
        event(
            "org.hospital_registered",
            Uuid::nil(),
            "2026-01-01T00:00:00Z",
            json!({"code": "H1", "name": "x", "region": "R1", "level": "tertiary", "timezone": "Asia/Shanghai"}),
        )
    }

    fn filed_in(department: &str, grade: &str, category: &str) -> serde_json::Value {
        json!({"department": department, "occurred_at": "2026-01-31T20:00:00+08:00",
               "grade": grade, "category": category, "harm": "unknown", "description": "d",
               "receipt_hash": "ab".repeat(32)})
    }

    fn filed(grade: &str, category: &str) -> serde_json::Value {
        filed_in("ICU", grade, category)
    }

    #[test]
    fn categories_are_counted_in_the_order_of_all() {
        for (i, c) in Category::ALL.iter().enumerate() {
            assert_eq!(category_index(*c), i, "{c:?}");
        }
    }

    #[test]
    fn a_month_reads_back_what_was_stored_and_garbage_is_an_error() {
        let mut c = Cell {
            reports: 3,
            by_grade: [0, 1, 2, 0],
            discharges: Some(1_000_000),
            ..Cell::default()
        };
        c.by_category[Category::Fall] = 3;
        c.critical_values.handled_in_time = u64::MAX;
        let month = MonthCells([("ICU".to_owned(), c), ("ER".to_owned(), Cell::default())].into());
        let bytes = month.encode();
        // Two cells: each zero counter is one varint byte (v4 added the
        // duplicates and four sources' five counters: 21 bytes a cell).
        assert!(bytes.len() < 140, "{} bytes", bytes.len());
        assert_eq!(MonthCells::decode(b"k", &bytes).unwrap(), month);
        assert!(matches!(
            MonthCells::decode(b"k", b"{\"reports\":1}"),
            Err(ProjectionError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_query_reads_the_cells_every_cell_reads() {
        let db = given(&[
            registered(),
            event(
                "report.filed",
                Uuid::from_u128(1),
                "2026-02-10T01:00:00Z",
                filed("II", "fall"),
            ),
            event(
                "report.filed",
                Uuid::from_u128(2),
                "2026-03-10T01:00:00Z",
                filed_in("ER", "I", "surgery"),
            ),
            event(
                "report.filed",
                Uuid::from_u128(3),
                "2026-03-11T01:00:00Z",
                filed("IV", "fall"),
            ),
        ]);
        let mut seen = Vec::new();
        for_each_cell(&db, "H1", "2026-01", "2026-12", |m, d, c| {
            seen.push(("H1".to_owned(), m.to_owned(), d.to_owned(), *c));
        })
        .unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen, every_cell(&db).unwrap());
        let mut march = Vec::new();
        for_each_cell(&db, "H1", "2026-03", "2026-03", |_, d, c| {
            march.push((d.to_owned(), c.reports))
        })
        .unwrap();
        assert_eq!(march, [("ER".to_owned(), 1), ("ICU".to_owned(), 1)]);
    }

    #[test]
    fn a_report_triaged_as_a_duplicate_leaves_the_counts_and_is_counted_apart() {
        let (a, b) = (Uuid::from_u128(21), Uuid::from_u128(22));
        let filing = |id| {
            event(
                "report.filed",
                id,
                "2026-02-10T01:00:00Z",
                filed("II", "fall"),
            )
        };
        let triage = |dup: Option<Uuid>| {
            event(
                "report.triaged",
                b,
                "2026-02-11T01:00:00Z",
                match dup {
                    Some(d) => json!({"grade": "II", "category": "fall", "duplicate_of": d}),
                    None => json!({"grade": "III", "category": "medication"}),
                },
            )
        };
        // Given two reports of one event, when the second is marked a duplicate,
        let db = given(&[registered(), filing(a), filing(b), triage(Some(a))]);
        let c = cell(&db, "2026-02", "ICU");
        // then the event counts once, and the duplicate apart.
        assert_eq!((c.reports, c.duplicates, c.by_grade[1]), (1, 1, 1));
        assert_eq!(c.by_category[Category::Fall], 1);
        // When a later triage says it is not a duplicate after all, it counts again.
        let db = given(&[
            registered(),
            filing(a),
            filing(b),
            triage(Some(a)),
            triage(None),
        ]);
        let c = cell(&db, "2026-02", "ICU");
        assert_eq!((c.reports, c.duplicates), (2, 0));
        assert_eq!((c.by_grade[1], c.by_grade[2]), (1, 1));
        assert_eq!(c.by_category[Category::Medication], 1);
    }

    #[test]
    fn cl14_and_cl15_count_lab_critical_values_only_and_the_others_by_source() {
        let detected = |id, source: &str| {
            event(
                "critical_value.detected",
                Uuid::from_u128(id),
                "2026-02-10T01:00:00Z",
                json!({"department": "ICU", "source": source, "item": "K", "value": "6.9",
                       "detected_at": "2026-02-10T09:00:00+08:00", "patient_setting": "inpatient"}),
            )
        };
        let notified = |id| {
            event(
                "critical_value.notified",
                Uuid::from_u128(id),
                "2026-02-10T01:10:00Z",
                json!({"notified_at": "2026-02-10T09:05:00+08:00", "channel": "phone",
                       "notified_role": "nurse"}),
            )
        };
        let db = given(&[
            registered(),
            detected(31, "lab"),
            detected(32, "imaging"),
            detected(33, "ecg"),
            notified(32),
        ]);
        let c = cell(&db, "2026-02", "ICU");
        assert_eq!(
            (c.critical_values.detected, c.critical_values.notified),
            (1, 0)
        );
        assert_eq!(
            (
                c.other_sources[0].detected,
                c.other_sources[0].notified_in_time
            ),
            (1, 1),
            "imaging"
        );
        assert_eq!(c.other_sources[1].detected, 1, "ecg");
        assert_eq!(
            (c.other_sources[2].detected, c.other_sources[3].detected),
            (0, 0)
        );
    }

    #[test]
    fn a_second_filing_of_the_same_report_counts_nothing() {
        let id = Uuid::from_u128(7);
        let db = given(&[
            registered(),
            event(
                "report.filed",
                id,
                "2026-02-10T01:00:00Z",
                filed("II", "fall"),
            ),
            event(
                "report.filed",
                id,
                "2026-03-10T01:00:00Z",
                filed("IV", "other"),
            ),
        ]);
        assert_eq!(cell(&db, "2026-02", "ICU").reports, 1);
        assert_eq!(cell(&db, "2026-02", "ICU").by_grade, [0, 1, 0, 0]);
        assert_eq!(cell(&db, "2026-03", "ICU").reports, 0);
    }

    #[test]
    fn a_report_counts_in_its_filing_month_in_the_hospital_zone() {
        let db = given(&[
            registered(),
            // 2026-01-31 16:30 UTC is 2026-02-01 00:30 in Shanghai.
            event(
                "report.filed",
                Uuid::now_v7(),
                "2026-01-31T16:30:00Z",
                filed("II", "fall"),
            ),
            event(
                "report.filed",
                Uuid::now_v7(),
                "2026-01-31T15:59:59Z",
                filed("IV", "fall"),
            ),
        ]);
        assert_eq!(cell(&db, "2026-02", "ICU").reports, 1);
        assert_eq!(cell(&db, "2026-02", "ICU").by_grade, [0, 1, 0, 0]);
        assert_eq!(cell(&db, "2026-01", "ICU").reports, 1);
        assert_eq!(cell(&db, "2026-01", "ICU").by_category[Category::Fall], 1);
    }

    #[test]
    fn triage_moves_the_report_between_cells_of_its_breakdowns() {
        let id = Uuid::now_v7();
        let db = given(&[
            registered(),
            event(
                "report.filed",
                id,
                "2026-03-02T01:00:00Z",
                filed("III", "fall"),
            ),
            event(
                "report.triaged",
                id,
                "2026-03-03T01:00:00Z",
                json!({"grade": "II", "category": "medication"}),
            ),
            event(
                "report.triaged",
                id,
                "2026-03-04T01:00:00Z",
                json!({"grade": "II", "category": "medication"}),
            ),
        ]);
        let c = cell(&db, "2026-03", "ICU");
        assert_eq!(c.reports, 1, "triage does not add a report");
        assert_eq!(c.by_grade, [0, 1, 0, 0]);
        assert_eq!(c.by_category[Category::Fall], 0);
        assert_eq!(c.by_category[Category::Medication], 1);
    }

    #[test]
    fn an_instant_is_stored_to_the_nanosecond() {
        for t in [
            "2026-03-02T09:15:00.000000001+08:00",
            "1969-12-31T23:59:59.999999999Z",
            "9999-12-31T23:59:59Z",
        ] {
            let t: DateTime<chrono::FixedOffset> = t.parse().unwrap();
            assert_eq!(At::from(t).time(), t, "{t}");
        }
    }

    #[test]
    fn exactly_the_limit_is_in_time_a_nanosecond_more_is_not() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let detected = |id| {
            event(
                "critical_value.detected",
                id,
                "2026-03-02T01:00:00Z",
                json!({"department": "ICU", "source": "lab", "item": "K", "value": "6.9",
                       "unit": "mmol/L", "detected_at": "2026-03-02T09:00:00+08:00",
                       "patient_setting": "inpatient"}),
            )
        };
        let step =
            |id, kind: &str, data: serde_json::Value| event(kind, id, "2026-03-02T02:00:00Z", data);
        let db = given(&[
            registered(),
            detected(a),
            detected(b),
            // Default limits: 15 minutes to notify, 30 to handle.
            step(
                a,
                "critical_value.notified",
                json!({"notified_at": "2026-03-02T01:15:00Z", "channel": "phone", "notified_role": "nurse"}),
            ),
            step(
                b,
                "critical_value.notified",
                json!({"notified_at": "2026-03-02T09:15:00.000000001+08:00", "channel": "phone", "notified_role": "nurse"}),
            ),
            step(
                a,
                "critical_value.handled",
                json!({"handled_at": "2026-03-02T09:45:00.000000001+08:00", "disposition": "treated"}),
            ),
            step(
                b,
                "critical_value.handled",
                json!({"handled_at": "2026-03-02T01:45:00.000000001Z", "disposition": "treated"}),
            ),
        ]);
        // a: notified at the limit, handled a nanosecond past it; b: the
        // other way round — which only a stored time exact to the
        // nanosecond tells.
        let c = cell(&db, "2026-03", "ICU").critical_values;
        assert_eq!((c.detected, c.notified, c.handled), (2, 2, 2));
        assert_eq!((c.notified_in_time, c.handled_in_time), (1, 1));
    }

    #[test]
    fn a_later_census_replaces_the_earlier_figure() {
        let db = given(&[
            registered(),
            event(
                "census.recorded",
                Uuid::nil(),
                "2026-04-01T00:00:00Z",
                json!({"department": "ICU", "month": "2026-03", "discharges": 400}),
            ),
            event(
                "census.recorded",
                Uuid::nil(),
                "2026-04-02T00:00:00Z",
                json!({"department": "ICU", "month": "2026-03", "discharges": 410}),
            ),
        ]);
        assert_eq!(cell(&db, "2026-03", "ICU").discharges, Some(410));
    }

    #[test]
    fn counted_discharges_are_the_denominator_until_a_census_is_recorded() {
        let counted = |month: &str| {
            event(
                "census.discharge_counted",
                Uuid::nil(),
                "2026-04-01T00:00:00Z",
                json!({"department": "ICU", "month": month}),
            )
        };
        let census = event(
            "census.recorded",
            Uuid::nil(),
            "2026-04-02T00:00:00Z",
            json!({"department": "ICU", "month": "2026-03", "discharges": 400}),
        );
        // Given three discharges counted in March and one in April,
        let db = given(&[
            registered(),
            counted("2026-03"),
            counted("2026-03"),
            counted("2026-04"),
            counted("2026-03"),
        ]);
        // then each month's denominator is its count, marked as counted;
        let march = cell(&db, "2026-03", "ICU");
        assert_eq!(
            (march.discharges, march.discharges_counted()),
            (Some(3), true)
        );
        assert_eq!(cell(&db, "2026-04", "ICU").discharges, Some(1));
        assert_eq!(cell(&db, "2026-05", "ICU").discharges, None);
        // and once March's census is recorded, its figure stands, also
        // against discharges counted after it.
        let db = given(&[
            registered(),
            counted("2026-03"),
            census.clone(),
            counted("2026-03"),
        ]);
        let march = cell(&db, "2026-03", "ICU");
        assert_eq!(
            (
                march.discharges,
                march.counted_discharges,
                march.discharges_counted()
            ),
            (Some(400), 2, false)
        );
    }
}
