//! Published figures (信息公开): for a year, per hospital and per region
//! (every region of the hierarchy), per ended quarter and for the ended
//! year — reports, discharges, the rate, reports by grade and by category,
//! the lab's critical-value counts and rates, deaths and reviews on time —
//! with small cells (1..k−1) suppressed so that no cell can be narrowed to
//! fewer than k values by linear reasoning over **everything** published
//! for that year ([`lantern_domain::suppression`]): across hospital and
//! region, quarter and year, breakdown and total. The whole year's table is
//! protected at once, whatever one request asks for, so two requests
//! cannot be played against each other. A rate is shown only where both
//! its counts are.
//!
//! Pure given the counts.

use std::collections::{BTreeMap, BTreeSet};

use lantern_domain::suppression::{Table, TableError, Unprotectable, suppress};
use lantern_domain::vocab::{Category, Grade};
use serde::Serialize;
use utoipa::ToSchema;

use crate::indicators::Counts;

/// Whose cell: a hospital or a region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    /// A hospital, by code.
    Hospital(String),
    /// A region, by code: the sum of the hospitals in it and below it.
    Region(String),
}

/// When: a quarter (1–4) or the whole year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum When {
    /// A quarter.
    Quarter(u32),
    /// The year.
    Year,
}

/// What a cell counts. The `Not…`/`…Late` ones are never published: they
/// turn "at most" into sums a reader knows (notified ≤ detected, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// All reports (duplicates out).
    Reports,
    /// Discharges of the department-months with a census.
    Discharges,
    /// Reports of department-months with a census (the rate's numerator,
    /// published through the rate).
    RateReports,
    /// Reports of department-months without one: never published.
    ReportsWithoutCensus,
    /// Reports of grade I..IV.
    Grade(u8),
    /// Reports of a category (index in `Category::ALL`).
    Category(u8),
    /// Deaths.
    Deaths,
    /// Deaths reviewed within 7 days.
    ReviewedOnTime,
    /// Deaths not (yet) reviewed within 7 days: never published.
    NotReviewedOnTime,
    /// Lab critical values detected.
    Detected,
    /// Of those, notified.
    Notified,
    /// Detected, not notified: never published.
    NotNotified,
    /// Notified within the limit.
    NotifiedInTime,
    /// Notified late: never published.
    NotifiedLate,
    /// Handled.
    Handled,
    /// Notified, not handled: never published.
    NotHandled,
    /// Handled within the limit.
    HandledInTime,
    /// Handled late: never published.
    HandledLate,
}

/// A cell's name.
pub type Id = (Unit, When, Measure);

/// One unit's counts for one period, as the publisher knows them.
pub struct Input {
    /// The hospital.
    pub hospital: String,
    /// Its region and the regions above it, most specific first.
    pub regions: Vec<String>,
    /// Its counts per quarter (1–4) published.
    pub quarters: BTreeMap<u32, Counts>,
}

/// The published counts of a row (`null`: suppressed).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishedRow {
    /// The region (of a hospital: its own).
    pub region: String,
    /// The hospital, or null for a region's row.
    pub hospital: Option<String>,
    /// Reports.
    pub reports: Option<u64>,
    /// Discharges.
    pub discharges: Option<u64>,
    /// Reports per 100 discharges (null where a count is suppressed).
    pub per_100_discharges: Option<f64>,
    /// Reports by grade.
    pub by_grade: BTreeMap<String, Option<u64>>,
    /// Reports by category.
    pub by_category: BTreeMap<String, Option<u64>>,
    /// The lab's critical values: counts and rates.
    pub critical_values: PublishedCriticalValues,
    /// Deaths.
    pub deaths: Option<u64>,
    /// Deaths reviewed within 7 days.
    pub reviewed_on_time: Option<u64>,
}

/// The lab's critical values as published.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishedCriticalValues {
    /// Detected.
    pub detected: Option<u64>,
    /// Notified.
    pub notified: Option<u64>,
    /// Notified within the limit.
    pub notified_in_time: Option<u64>,
    /// Handled.
    pub handled: Option<u64>,
    /// Handled within the limit.
    pub handled_in_time: Option<u64>,
    /// CL-14 (null where a count is suppressed).
    pub notification_rate: Option<f64>,
    /// CL-15.
    pub notification_timeliness: Option<f64>,
    /// Handling timeliness.
    pub handling_timeliness: Option<f64>,
}

/// The answer of `GET /api/v1/public/figures`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishedFigures {
    /// The year.
    pub year: i32,
    /// The quarter, or null for the year.
    pub quarter: Option<u32>,
    /// The threshold: counts 1..k−1 and their complements are null.
    pub k: u64,
    /// The quarters of the year published so far (ended ones).
    pub published_quarters: Vec<u32>,
    /// Regions first, then hospitals, by code.
    pub rows: Vec<PublishedRow>,
}

/// What could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The counts do not add up (a defect of the read models).
    #[error("the year's table does not add up: {0}")]
    Table(String),
    /// No suppression protects every cell.
    #[error("the year's figures cannot be protected: {0}")]
    Unprotectable(String),
}

impl From<TableError<Id>> for PublishError {
    fn from(e: TableError<Id>) -> Self {
        PublishError::Table(format!("{e}"))
    }
}

impl From<Unprotectable<Id>> for PublishError {
    fn from(e: Unprotectable<Id>) -> Self {
        PublishError::Unprotectable(format!("{e}"))
    }
}

/// The counts a cell of a measure takes from `c`, if any.
fn value(c: &Counts, m: Measure) -> u64 {
    let cv = &c.critical_values;
    match m {
        Measure::Reports => c.all_reports(),
        Measure::Discharges => c.discharges,
        Measure::RateReports => c.reports,
        Measure::ReportsWithoutCensus => c.reports_without_census,
        Measure::Grade(g) => c.by_grade.get(usize::from(g)).copied().unwrap_or(0),
        Measure::Category(i) => c.by_category.get(usize::from(i)).copied().unwrap_or(0),
        Measure::Deaths => c.deaths,
        Measure::ReviewedOnTime => c.reviewed_on_time,
        Measure::NotReviewedOnTime => c.deaths.saturating_sub(c.reviewed_on_time),
        Measure::Detected => cv.detected,
        Measure::Notified => cv.notified,
        Measure::NotNotified => cv.detected.saturating_sub(cv.notified),
        Measure::NotifiedInTime => cv.notified_in_time,
        Measure::NotifiedLate => cv.notified.saturating_sub(cv.notified_in_time),
        Measure::Handled => cv.handled,
        Measure::NotHandled => cv.notified.saturating_sub(cv.handled),
        Measure::HandledInTime => cv.handled_in_time,
        Measure::HandledLate => cv.handled.saturating_sub(cv.handled_in_time),
    }
}

fn measures() -> Vec<Measure> {
    let mut out = vec![
        Measure::Reports,
        Measure::Discharges,
        Measure::RateReports,
        Measure::ReportsWithoutCensus,
    ];
    out.extend((0..4).map(Measure::Grade));
    out.extend((0..Category::ALL.len() as u8).map(Measure::Category));
    out.extend([
        Measure::Deaths,
        Measure::ReviewedOnTime,
        Measure::NotReviewedOnTime,
        Measure::Detected,
        Measure::Notified,
        Measure::NotNotified,
        Measure::NotifiedInTime,
        Measure::NotifiedLate,
        Measure::Handled,
        Measure::NotHandled,
        Measure::HandledInTime,
        Measure::HandledLate,
    ]);
    out
}

/// The groups of measures no sum joins: each is protected as a table of
/// its own (the same rule, far smaller programmes).
fn group(m: Measure) -> u8 {
    match m {
        Measure::Reports
        | Measure::RateReports
        | Measure::ReportsWithoutCensus
        | Measure::Grade(_)
        | Measure::Category(_) => 0,
        Measure::Discharges => 1,
        Measure::Deaths | Measure::ReviewedOnTime | Measure::NotReviewedOnTime => 2,
        _ => 3,
    }
}

fn never_published(m: Measure) -> bool {
    matches!(
        m,
        Measure::ReportsWithoutCensus
            | Measure::NotReviewedOnTime
            | Measure::NotNotified
            | Measure::NotifiedLate
            | Measure::NotHandled
            | Measure::HandledLate
    )
}

/// The sums a reader knows within one unit and period: a total is the sum
/// of its breakdowns, and each "of those" count with its complement makes
/// its whole. A relation the data break (a count above its whole, which a
/// read model should never hold) is left out rather than published wrong.
fn inner_sums(c: &Counts) -> Vec<(Measure, Vec<Measure>)> {
    let mut out = vec![
        (Measure::Reports, (0..4).map(Measure::Grade).collect()),
        (
            Measure::Reports,
            (0..Category::ALL.len() as u8)
                .map(Measure::Category)
                .collect(),
        ),
    ];
    let cv = &c.critical_values;
    let mut whole = |total: Measure, part: Measure, rest: Measure, ok: bool| {
        if ok {
            out.push((total, vec![part, rest]));
        }
    };
    whole(
        Measure::Deaths,
        Measure::ReviewedOnTime,
        Measure::NotReviewedOnTime,
        c.reviewed_on_time <= c.deaths,
    );
    whole(
        Measure::Detected,
        Measure::Notified,
        Measure::NotNotified,
        cv.notified <= cv.detected,
    );
    whole(
        Measure::Notified,
        Measure::NotifiedInTime,
        Measure::NotifiedLate,
        cv.notified_in_time <= cv.notified,
    );
    whole(
        Measure::Notified,
        Measure::Handled,
        Measure::NotHandled,
        cv.handled <= cv.notified,
    );
    whole(
        Measure::Handled,
        Measure::HandledInTime,
        Measure::HandledLate,
        cv.handled_in_time <= cv.handled,
    );
    // The rate's reports are all reports but those of months without a
    // census (not published): at most all reports.
    out.push((
        Measure::Reports,
        vec![Measure::RateReports, Measure::ReportsWithoutCensus],
    ));
    out
}

/// The year's protected table: which cells are published, and their values.
pub struct Release {
    values: BTreeMap<Id, u64>,
    suppressed: BTreeSet<Id>,
    quarters: Vec<u32>,
    year_published: bool,
    regions: BTreeMap<String, BTreeSet<String>>,
    region_of: BTreeMap<String, String>,
}

/// Builds and protects the table of a year: `inputs` per hospital with
/// the ended quarters' counts; `year_published` when the year has ended.
pub fn release(inputs: &[Input], year_published: bool, k: u64) -> Result<Release, PublishError> {
    let quarters: Vec<u32> = inputs
        .iter()
        .flat_map(|i| i.quarters.keys().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut whens: Vec<When> = quarters.iter().map(|q| When::Quarter(*q)).collect();
    if year_published {
        whens.push(When::Year);
    }
    // Regions and the hospitals in each (its own and those below).
    let mut regions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut region_of = BTreeMap::new();
    for i in inputs {
        for r in &i.regions {
            regions
                .entry(r.clone())
                .or_default()
                .insert(i.hospital.clone());
        }
        if let Some(r) = i.regions.first() {
            region_of.insert(i.hospital.clone(), r.clone());
        }
    }
    let counts_of = |i: &Input, w: When| -> Counts {
        match w {
            When::Quarter(q) => i.quarters.get(&q).cloned().unwrap_or_default(),
            When::Year => {
                let mut total = Counts::default();
                for c in i.quarters.values() {
                    total.add(c);
                }
                total
            }
        }
    };
    let mut tables: BTreeMap<u8, Table<Id>> = BTreeMap::new();
    let mut values = BTreeMap::new();
    let ms = measures();
    let mut put =
        |tables: &mut BTreeMap<u8, Table<Id>>, id: Id, v: u64| -> Result<(), PublishError> {
            values.insert(id.clone(), v);
            let table = tables.entry(group(id.2)).or_default();
            if never_published(id.2) {
                table.hidden(id, v)?;
            } else {
                table.cell(id, v)?;
            }
            Ok(())
        };
    for w in &whens {
        for i in inputs {
            let c = counts_of(i, *w);
            for m in &ms {
                put(
                    &mut tables,
                    (Unit::Hospital(i.hospital.clone()), *w, *m),
                    value(&c, *m),
                )?;
            }
        }
        for (r, members) in &regions {
            let mut c = Counts::default();
            for i in inputs.iter().filter(|i| members.contains(&i.hospital)) {
                c.add(&counts_of(i, *w));
            }
            for m in &ms {
                put(
                    &mut tables,
                    (Unit::Region(r.clone()), *w, *m),
                    value(&c, *m),
                )?;
            }
        }
    }
    // Within each unit and period.
    for w in &whens {
        let units = inputs
            .iter()
            .map(|i| (Unit::Hospital(i.hospital.clone()), counts_of(i, *w)))
            .chain(regions.iter().map(|(r, members)| {
                let mut c = Counts::default();
                for i in inputs.iter().filter(|i| members.contains(&i.hospital)) {
                    c.add(&counts_of(i, *w));
                }
                (Unit::Region(r.clone()), c)
            }));
        for (unit, c) in units {
            for (total, parts) in inner_sums(&c) {
                let parts: Vec<Id> = parts.into_iter().map(|m| (unit.clone(), *w, m)).collect();
                tables
                    .entry(group(total))
                    .or_default()
                    .sum(&(unit.clone(), *w, total), &parts)?;
            }
        }
    }
    // A region is the sum of its hospitals, in every measure and period.
    for w in &whens {
        for (r, members) in &regions {
            for m in &ms {
                let parts: Vec<Id> = members
                    .iter()
                    .map(|h| (Unit::Hospital(h.clone()), *w, *m))
                    .collect();
                tables
                    .entry(group(*m))
                    .or_default()
                    .sum(&(Unit::Region(r.clone()), *w, *m), &parts)?;
            }
        }
    }
    // The year is the sum of its quarters, for every unit and measure.
    if year_published {
        let units: Vec<Unit> = inputs
            .iter()
            .map(|i| Unit::Hospital(i.hospital.clone()))
            .chain(regions.keys().map(|r| Unit::Region(r.clone())))
            .collect();
        for u in &units {
            for m in &ms {
                let parts: Vec<Id> = quarters
                    .iter()
                    .map(|q| (u.clone(), When::Quarter(*q), *m))
                    .collect();
                tables
                    .entry(group(*m))
                    .or_default()
                    .sum(&(u.clone(), When::Year, *m), &parts)?;
            }
        }
    }
    let mut suppressed: BTreeSet<Id> = BTreeSet::new();
    for table in tables.values() {
        suppressed.extend(suppress(table, k)?.ids().cloned());
    }
    Ok(Release {
        values,
        suppressed,
        quarters,
        year_published,
        regions,
        region_of,
    })
}

impl Release {
    fn shown(&self, id: &Id) -> Option<u64> {
        if self.suppressed.contains(id) || never_published(id.2) {
            None
        } else {
            self.values.get(id).copied()
        }
    }

    /// Whether `when` is published.
    pub fn publishes(&self, when: When) -> bool {
        match when {
            When::Quarter(q) => self.quarters.contains(&q),
            When::Year => self.year_published,
        }
    }

    /// The rows of `when`, of `region` (and the regions and hospitals in
    /// it) or of all; regions first, then hospitals.
    pub fn rows(&self, when: When, region: Option<&str>) -> Vec<PublishedRow> {
        let in_scope_region = |r: &str| match region {
            None => true,
            Some(want) => {
                r == want
                    || self.regions.get(want).zip(self.regions.get(r)).is_some_and(
                        |(outer, inner)| inner.is_subset(outer) && inner.len() < outer.len(),
                    )
            }
        };
        let mut out = Vec::new();
        for r in self.regions.keys().filter(|r| in_scope_region(r)) {
            out.push(self.row(Unit::Region(r.clone()), r, None, when));
        }
        for (h, r) in &self.region_of {
            let member = match region {
                None => true,
                Some(want) => self.regions.get(want).is_some_and(|m| m.contains(h)),
            };
            if member {
                out.push(self.row(Unit::Hospital(h.clone()), r, Some(h.clone()), when));
            }
        }
        out
    }

    fn row(&self, unit: Unit, region: &str, hospital: Option<String>, when: When) -> PublishedRow {
        let get = |m: Measure| self.shown(&(unit.clone(), when, m));
        let rate = |num: Option<u64>, den: Option<u64>| match (num, den) {
            (Some(n), Some(d)) => lantern_domain::figures::rate(n, d),
            _ => None,
        };
        let rate_reports = get(Measure::RateReports);
        let discharges = get(Measure::Discharges);
        let detected = get(Measure::Detected);
        let notified = get(Measure::Notified);
        let notified_in_time = get(Measure::NotifiedInTime);
        let handled_in_time = get(Measure::HandledInTime);
        PublishedRow {
            region: region.to_owned(),
            hospital,
            reports: get(Measure::Reports),
            discharges,
            per_100_discharges: rate(rate_reports, discharges),
            by_grade: Grade::ALL
                .iter()
                .enumerate()
                .map(|(i, g)| (g.as_str().to_owned(), get(Measure::Grade(i as u8))))
                .collect(),
            by_category: Category::ALL
                .iter()
                .enumerate()
                .map(|(i, c)| (c.as_str().to_owned(), get(Measure::Category(i as u8))))
                .collect(),
            critical_values: PublishedCriticalValues {
                detected,
                notified,
                notified_in_time,
                handled: get(Measure::Handled),
                handled_in_time,
                notification_rate: rate(notified, detected),
                notification_timeliness: rate(notified_in_time, detected),
                handling_timeliness: rate(handled_in_time, notified),
            },
            deaths: get(Measure::Deaths),
            reviewed_on_time: get(Measure::ReviewedOnTime),
        }
    }

    /// The quarters published.
    pub fn quarters(&self) -> &[u32] {
        &self.quarters
    }

    /// Every cell published, and every one suppressed, with its value:
    /// for the attacker test, which plays the reader of the publication.
    pub fn cells(&self) -> impl Iterator<Item = (&Id, u64, bool)> {
        self.values
            .iter()
            .filter(|(id, _)| !never_published(id.2))
            .map(|(id, v)| (id, *v, self.suppressed.contains(id)))
    }
}

/// The published figures as a page anyone can read and print (zh-CN,
/// English headings): suppressed counts are shown as `*`.
pub fn render(f: &PublishedFigures) -> maud::Markup {
    use maud::{DOCTYPE, PreEscaped, html};
    let period = match f.quarter {
        Some(q) => format!("{} 年第 {q} 季度 Q{q} {}", f.year, f.year),
        None => format!("{} 年 Year {}", f.year, f.year),
    };
    let n = |v: Option<u64>| v.map_or("*".to_owned(), |v| v.to_string());
    let r = |v: Option<f64>| v.map_or("*".to_owned(), |v| format!("{v:.2}"));
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                title { "医疗质量安全信息公开 Published figures " (period) }
                style { (PreEscaped("body{font-family:'Noto Sans CJK SC',sans-serif;font-size:10pt;margin:12mm}table{border-collapse:collapse}th,td{border:1px solid #000;padding:1mm 2mm}td.n{text-align:right}.muted{color:#333;font-size:9pt}")) }
            }
            body {
                h1 { "医疗质量安全信息公开 Published figures · " (period) }
                p.muted { "小于 " (f.k) " 的数及可据以推算的数以 * 表示 (counts below " (f.k) ", and any that would reveal one, are shown as *)." }
                table id="published" {
                    tr { th { "地区 Region" } th { "医院 Hospital" } th { "报告 Reports" } th { "出院 Discharges" } th { "每百出院 per 100" }
                         @for g in Grade::ALL { th { (g.as_str()) "级" } }
                         th { "死亡 Deaths" } th { "按时讨论 Reviewed on time" } th { "危急值通报率 % CL-14" } th { "通报及时率 % CL-15" } }
                    @for row in &f.rows {
                        tr {
                            td { (row.region) } td { (row.hospital.as_deref().unwrap_or("合计 all")) }
                            td.n { (n(row.reports)) } td.n { (n(row.discharges)) } td.n { (r(row.per_100_discharges)) }
                            @for g in Grade::ALL { td.n { (n(row.by_grade.get(g.as_str()).copied().flatten())) } }
                            td.n { (n(row.deaths)) } td.n { (n(row.reviewed_on_time)) }
                            td.n { (r(row.critical_values.notification_rate)) } td.n { (r(row.critical_values.notification_timeliness)) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn counts(reports: [u64; 4], discharges: u64, deaths: u64) -> Counts {
        let mut c = Counts {
            by_grade: reports,
            reports: reports.iter().sum(),
            discharges,
            by_category: vec![0; Category::ALL.len()],
            deaths,
            ..Counts::default()
        };
        c.by_category[0] = c.reports;
        c
    }

    #[test]
    fn a_small_count_and_what_would_reveal_it_are_null() {
        // Given two hospitals of one region in one ended quarter, one with
        // 3 grade III reports among 40,
        let inputs = vec![
            Input {
                hospital: "H1".into(),
                regions: vec!["R1".into()],
                quarters: BTreeMap::from([(1, counts([0, 0, 3, 37], 2000, 20))]),
            },
            Input {
                hospital: "H2".into(),
                regions: vec!["R1".into()],
                quarters: BTreeMap::from([(1, counts([0, 6, 20, 30], 3000, 30))]),
            },
        ];
        // when the quarter is released,
        let r = release(&inputs, false, 5).unwrap();
        let rows = r.rows(When::Quarter(1), None);
        let h1 = rows
            .iter()
            .find(|x| x.hospital.as_deref() == Some("H1"))
            .unwrap();
        // then the 3 is null, and so is at least one other cell of its
        // grade row (or it would be the total less the rest).
        assert_eq!(h1.by_grade["III"], None);
        let hidden_in_row = h1.by_grade.values().filter(|v| v.is_none()).count();
        assert!(hidden_in_row >= 2, "{:?}", h1.by_grade);
        // and across the region: H2's grade III or the region's is hidden too.
        let h2 = rows
            .iter()
            .find(|x| x.hospital.as_deref() == Some("H2"))
            .unwrap();
        let region = rows.iter().find(|x| x.hospital.is_none()).unwrap();
        assert!(h2.by_grade["III"].is_none() || region.by_grade["III"].is_none());
        // A rate is shown only with both its counts.
        assert!(h1.reports.is_none() || h1.per_100_discharges.is_some() || h1.discharges.is_none());
        assert!(!r.publishes(When::Year));
    }
}

#[cfg(test)]
mod timing {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    #[ignore = "timing, run by hand"]
    fn a_year_of_four_hospitals() {
        let mut inputs = Vec::new();
        let n: u64 = std::env::var("HOSPITALS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(4);
        for hi in 0..n {
            let mut quarters = BTreeMap::new();
            for q in 1..=4u32 {
                let mut c = Counts {
                    by_category: vec![0; Category::ALL.len()],
                    ..Counts::default()
                };
                for g in 0..4usize {
                    let n = (hi * 7 + u64::from(q) * 3 + g as u64 * 5) % 5;
                    c.by_grade[g] = n;
                    c.reports += n;
                    c.by_category[g % 2] += n;
                }
                c.discharges = 450;
                quarters.insert(q, c);
            }
            inputs.push(Input {
                hospital: format!("H{hi}"),
                regions: vec![format!("R{}", hi / 10), "P".into()],
                quarters,
            });
        }
        let t = std::time::Instant::now();
        let r = release(&inputs, true, 5).unwrap();
        eprintln!(
            "release: {:?}, {} suppressed",
            t.elapsed(),
            r.suppressed.len()
        );
    }
}
