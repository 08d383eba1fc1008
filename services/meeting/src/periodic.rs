//! The periodic reports a QC centre sends its health commission: the
//! quarterly report (季报) and the annual quality and safety report
//! (年度医疗质量安全报告) for its region — every indicator by hospital, by
//! hospital level (二级/三级) and by region, with the region's total — as
//! JSON, a printable A4 page and an Excel workbook (each table a sheet,
//! numbers as numbers).
//!
//! Pure given the counts.

use std::collections::BTreeMap;

use lantern_domain::Month;
use lantern_domain::vocab::Level;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::indicators::{Counts, Figures};

/// A quarter or a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// A calendar year.
    Year(i32),
    /// A quarter (1–4) of a year.
    Quarter(i32, u32),
}

impl Period {
    /// `2026` or `2026-Q3`.
    pub fn parse(s: &str) -> Option<Period> {
        match s.split_once("-Q") {
            Some((y, q)) => {
                let (y, q) = (y.parse().ok()?, q.parse().ok()?);
                ((1..=4).contains(&q) && (2000..=2100).contains(&y))
                    .then_some(Period::Quarter(y, q))
            }
            None => {
                let y = s.parse().ok()?;
                (2000..=2100).contains(&y).then_some(Period::Year(y))
            }
        }
    }

    /// Its first and last month.
    pub fn months(self) -> Option<(Month, Month)> {
        let (y, first, last) = match self {
            Period::Year(y) => (y, 1, 12),
            Period::Quarter(y, q) => (y, 3 * q - 2, 3 * q),
        };
        Some((
            Month::parse(&format!("{y:04}-{first:02}"))?,
            Month::parse(&format!("{y:04}-{last:02}"))?,
        ))
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Year(y) => write!(f, "{y}"),
            Period::Quarter(y, q) => write!(f, "{y}-Q{q}"),
        }
    }
}

/// One row: a hospital, a level, a region or the total.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Row {
    /// What the row is: a hospital code, `二级`/`三级`, a region code, or
    /// `total`.
    pub key: String,
    /// A hospital's name, a region's code, … as shown.
    pub label: String,
    /// The counts.
    pub counts: Counts,
    /// The rates of the counts.
    pub figures: Figures,
}

impl Row {
    fn new(key: String, label: String, counts: Counts) -> Row {
        let figures = counts.figures();
        Row {
            key,
            label,
            counts,
            figures,
        }
    }
}

/// A hospital and its counts, as the report is built from.
pub struct HospitalCounts {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Level, if it is one of the two.
    pub level: Option<Level>,
    /// Its counts for the period.
    pub counts: Counts,
}

/// A quarterly or annual report.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodicReport {
    /// `2026` or `2026-Q3`.
    pub period: String,
    /// First month, `YYYY-MM`.
    pub from: String,
    /// Last month, `YYYY-MM`.
    pub to: String,
    /// Whether the period has ended (else: so far).
    pub complete: bool,
    /// The region or hospital.
    pub scope: String,
    /// One row per hospital.
    pub hospitals: Vec<Row>,
    /// One row per hospital level.
    pub by_level: Vec<Row>,
    /// One row per region.
    pub by_region: Vec<Row>,
    /// The whole scope.
    pub total: Row,
}

/// The report of `period` over `hospitals`.
pub fn report(
    period: Period,
    scope: &str,
    complete: bool,
    hospitals: Vec<HospitalCounts>,
) -> PeriodicReport {
    let (from, to) = period
        .months()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .unwrap_or_default();
    let mut levels: BTreeMap<String, Counts> = BTreeMap::new();
    let mut regions: BTreeMap<String, Counts> = BTreeMap::new();
    let mut total = Counts::default();
    for h in &hospitals {
        let level = match h.level {
            Some(Level::Secondary) => "二级",
            Some(Level::Tertiary) => "三级",
            None => "—",
        };
        levels.entry(level.to_owned()).or_default().add(&h.counts);
        regions.entry(h.region.clone()).or_default().add(&h.counts);
        total.add(&h.counts);
    }
    PeriodicReport {
        period: period.to_string(),
        from,
        to,
        complete,
        scope: scope.to_owned(),
        hospitals: hospitals
            .into_iter()
            .map(|h| Row::new(h.code, h.name, h.counts))
            .collect(),
        by_level: levels
            .into_iter()
            .map(|(k, c)| Row::new(k.clone(), k, c))
            .collect(),
        by_region: regions
            .into_iter()
            .map(|(k, c)| Row::new(k.clone(), k, c))
            .collect(),
        total: Row::new("total".into(), "合计 Total".into(), total),
    }
}

/// The columns every table has: heading, and the value of a row.
type Column = (&'static str, fn(&Row) -> Value);

/// A cell: a count, a rate (null shown as —), or text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A count.
    Count(u64),
    /// A rate, percent or per 100.
    Rate(Option<f64>),
}

const COLUMNS: &[Column] = &[
    ("报告数 Reports", |r| {
        Value::Count(r.counts.all_reports())
    }),
    ("出院人次 Discharges", |r| {
        Value::Count(r.counts.discharges)
    }),
    ("每百出院报告 per 100", |r| {
        Value::Rate(r.figures.per_100_discharges)
    }),
    ("Ⅰ/Ⅱ级占比 % serious", |r| {
        Value::Rate(r.figures.serious_share)
    }),
    ("RCA 45天内结案率 %", |r| {
        Value::Rate(r.figures.rca_closed_in_time_rate)
    }),
    ("死亡 Deaths", |r| Value::Count(r.counts.deaths)),
    ("7日内讨论率 %", |r| {
        Value::Rate(r.figures.review_on_time_rate)
    }),
    ("低风险死亡 Low-risk", |r| {
        Value::Count(r.counts.low_risk_deaths)
    }),
    ("低风险院级讨论率 %", |r| {
        Value::Rate(r.figures.low_risk_review_rate)
    }),
    ("危急值通报率 % CL-14", |r| {
        Value::Rate(r.figures.notification_rate)
    }),
    ("通报及时率 % CL-15", |r| {
        Value::Rate(r.figures.notification_timeliness)
    }),
    ("处置及时率 %", |r| {
        Value::Rate(r.figures.handling_timeliness)
    }),
];

fn shown(v: Value) -> String {
    match v {
        Value::Count(n) => n.to_string(),
        Value::Rate(Some(r)) => format!("{r:.2}"),
        Value::Rate(None) => "—".to_owned(),
    }
}

const STYLE: &str = "
@page { size: A4 landscape; margin: 12mm; }
body { font-family: 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif; color: #000; font-size: 9pt; margin: 0; }
h1 { font-size: 15pt; margin: 0 0 2mm; } h2 { font-size: 11pt; margin: 5mm 0 2mm; border-bottom: 1px solid #000; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #000; padding: 0.5mm 1mm; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } tr.total td { font-weight: bold; }
.muted { color: #333; font-size: 8pt; } section { break-inside: avoid; }
";

fn table(id: &str, first: &str, rows: &[Row], total: Option<&Row>) -> Markup {
    html! {
        table id=(id) {
            tr { th { (first) } @for (h, _) in COLUMNS { th { (h) } } }
            @for r in rows {
                tr { td { (r.label) @if r.key != r.label { " (" (r.key) ")" } } @for (_, v) in COLUMNS { td.n { (shown(v(r))) } } }
            }
            @if let Some(t) = total {
                tr.total { td { (t.label) } @for (_, v) in COLUMNS { td.n { (shown(v(t))) } } }
            }
        }
    }
}

/// The printable page (A4 landscape, zh-CN with English headings).
pub fn render(r: &PeriodicReport) -> Markup {
    let title = if r.period.contains('Q') {
        "医疗质量安全季度报告 Quarterly quality and safety report"
    } else {
        "年度医疗质量安全报告 Annual quality and safety report"
    };
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                title { (title) " " (r.period) " — " (r.scope) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (title) " · " (r.period) }
                p.muted {
                    (r.scope) " · " (r.from) " — " (r.to)
                    @if !r.complete { " · 期间未结束，为截至目前的数据 (period not yet ended: figures so far)" }
                    " · 率由合计数重新计算，不取平均 (rates from summed counts, never averaged)"
                }
                section { h2 { "一、各医院 By hospital" } (table("by-hospital", "医院 Hospital", &r.hospitals, Some(&r.total))) }
                section { h2 { "二、按医院级别 By level" } (table("by-level", "级别 Level", &r.by_level, Some(&r.total))) }
                section { h2 { "三、按地区 By region" } (table("by-region", "地区 Region", &r.by_region, Some(&r.total))) }
            }
        }
    }
}

fn sheet(
    ws: &mut Worksheet,
    name: &str,
    first: &str,
    rows: &[Row],
    total: &Row,
) -> Result<(), XlsxError> {
    ws.set_name(name)?;
    let bold = Format::new().set_bold();
    let two = Format::new().set_num_format("0.00");
    ws.write_with_format(0, 0, first, &bold)?;
    ws.write_with_format(0, 1, "名称 Name", &bold)?;
    for (c, (h, _)) in COLUMNS.iter().enumerate() {
        ws.write_with_format(0, c as u16 + 2, *h, &bold)?;
    }
    for (i, r) in rows.iter().chain(std::iter::once(total)).enumerate() {
        let row = i as u32 + 1;
        ws.write(row, 0, r.key.as_str())?;
        ws.write(row, 1, r.label.as_str())?;
        for (c, (_, v)) in COLUMNS.iter().enumerate() {
            let col = c as u16 + 2;
            match v(r) {
                // Numbers as numbers, so a spreadsheet can sum and chart them.
                Value::Count(n) => {
                    ws.write(row, col, n as f64)?;
                }
                Value::Rate(Some(x)) => {
                    ws.write_with_format(row, col, x, &two)?;
                }
                Value::Rate(None) => {}
            }
        }
    }
    ws.set_column_width(1, 24)?;
    Ok(())
}

/// The report as an Excel workbook: one sheet per table.
pub fn workbook(r: &PeriodicReport) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    sheet(
        wb.add_worksheet(),
        "医院 Hospitals",
        "医院 Hospital",
        &r.hospitals,
        &r.total,
    )?;
    sheet(
        wb.add_worksheet(),
        "级别 Levels",
        "级别 Level",
        &r.by_level,
        &r.total,
    )?;
    sheet(
        wb.add_worksheet(),
        "地区 Regions",
        "地区 Region",
        &r.by_region,
        &r.total,
    )?;
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn counts(reports: u64, discharges: u64) -> Counts {
        Counts {
            reports,
            discharges,
            by_grade: [0, 1, reports - 1, 0],
            ..Counts::default()
        }
    }

    #[test]
    fn periods_read_and_name_their_months() {
        assert_eq!(Period::parse("2026-Q3"), Some(Period::Quarter(2026, 3)));
        assert_eq!(Period::parse("2026"), Some(Period::Year(2026)));
        assert_eq!(Period::parse("2026-Q5"), None);
        assert_eq!(Period::parse("26"), None);
        let (a, b) = Period::Quarter(2026, 3).months().unwrap();
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("2026-07".into(), "2026-09".into())
        );
        assert_eq!(Period::Quarter(2026, 4).to_string(), "2026-Q4");
    }

    #[test]
    fn levels_and_regions_sum_their_hospitals_and_the_workbook_has_a_sheet_each() {
        let h = |code: &str, region: &str, level, c| HospitalCounts {
            code: code.into(),
            name: format!("{code} 医院"),
            region: region.into(),
            level: Some(level),
            counts: c,
        };
        let r = report(
            Period::Year(2026),
            "R1",
            true,
            vec![
                h("H1", "C1", Level::Tertiary, counts(30, 1000)),
                h("H2", "C1", Level::Secondary, counts(10, 1000)),
                h("H3", "C2", Level::Tertiary, counts(5, 1000)),
            ],
        );
        assert_eq!(r.by_level.len(), 2);
        let tertiary = r.by_level.iter().find(|x| x.key == "三级").unwrap();
        assert_eq!(
            tertiary.figures.per_100_discharges,
            Some(1.75),
            "35 over 2000"
        );
        assert_eq!(r.by_region[0].counts.reports, 40);
        assert_eq!(r.total.figures.per_100_discharges, Some(1.5));
        let html = render(&r).into_string();
        assert!(html.contains("年度医疗质量安全报告") && html.contains("1.75"));
        let xlsx = workbook(&r).unwrap();
        assert_eq!(&xlsx[..2], b"PK", "a zip package");
    }
}
