//! The periodic reports a QC centre sends its health commission: the
//! quarterly report (季报) and the annual quality and safety report
//! (年度医疗质量安全报告) for its region — every indicator by hospital, by
//! hospital level (二级/三级) and by region, with the region's total — as
//! JSON, a printable A4 page and an Excel workbook (each table a sheet,
//! numbers as numbers). Beside the region's total stand the reference
//! values (参考值) entered for the year — the provincial and national
//! means the annual report is asked to compare with.
//!
//! Pure given the counts.

use std::collections::BTreeMap;

use lantern_domain::Month;
use lantern_domain::targets::reference::{self, ReferenceKind, difference};
use lantern_domain::targets::{Indicator, TargetValue, Unit};
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

    /// The calendar year it lies in.
    pub fn year(self) -> i32 {
        match self {
            Period::Year(y) | Period::Quarter(y, _) => y,
        }
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
    /// The reference values of the period's year beside the total's own
    /// figures: per indicator that has one, the region's or a region's
    /// above it (nearest first), then the national one.
    pub references: Vec<Reference>,
    /// The scope's total against the target that applies to each indicator
    /// in the year (its own, its region's, the national one; the
    /// reporting rate's built-in 2.5 when none is set).
    pub targets: Vec<TargetLine>,
}

/// One indicator's total against its target.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetLine {
    /// The indicator.
    #[schema(value_type = String)]
    pub indicator: Indicator,
    /// The target's value.
    pub target: f64,
    /// `higher` or `lower` is better.
    pub direction: &'static str,
    /// The scope's own figure (null without a denominator).
    pub own: Option<f64>,
    /// Whether the figure reaches the target (null without a figure).
    pub meets: Option<bool>,
}

/// The figures of `own` against `targets`, in the targets' order.
pub fn against(own: &Figures, targets: &[lantern_domain::targets::Target]) -> Vec<TargetLine> {
    targets
        .iter()
        .map(|t| {
            let mine = figure(own, t.indicator);
            TargetLine {
                indicator: t.indicator,
                target: t.value.get(),
                direction: t.direction.as_str(),
                own: mine,
                meets: mine.map(|v| lantern_domain::targets::meets(t, v)),
            }
        })
        .collect()
}

/// A reference value (参考值) and the report's own figure beside it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Reference {
    /// The indicator.
    pub indicator: Indicator,
    /// What its values count.
    pub unit: Unit,
    /// `national` or `region`.
    pub scope: ReferenceKind,
    /// The region's code; null for national.
    pub code: Option<String>,
    /// The year it is the mean of.
    pub year: u16,
    /// The reference value.
    pub value: TargetValue,
    /// Where it was published.
    pub source: String,
    /// A remark on it.
    pub note: Option<String>,
    /// The report total's own figure; null with a zero denominator.
    pub own: Option<f64>,
    /// `own − value`, two decimals; null when `own` is.
    pub difference: Option<f64>,
}

/// The figure of `indicator` among `f`.
pub fn figure(f: &Figures, indicator: Indicator) -> Option<f64> {
    match indicator {
        Indicator::ReportingRate => f.per_100_discharges,
        Indicator::SeriousShare => f.serious_share,
        Indicator::RcaClosedIn45Days => f.rca_closed_in_time_rate,
        Indicator::DeathReviewOnTime => f.review_on_time_rate,
        Indicator::LowRiskDeathsReviewed => f.low_risk_review_rate,
        Indicator::Cl14NotificationRate => f.notification_rate,
        Indicator::Cl15NotificationTimeliness => f.notification_timeliness,
        Indicator::HandlingTimeliness => f.handling_timeliness,
    }
}

/// Each of `references` (in their order) beside the figure of its
/// indicator among `own`, with the difference.
pub fn compare(own: &Figures, references: &[reference::Reference]) -> Vec<Reference> {
    references
        .iter()
        .map(|r| {
            let mine = figure(own, r.indicator);
            Reference {
                indicator: r.indicator,
                unit: r.indicator.unit(),
                scope: r.scope.kind(),
                code: r.scope.code().map(str::to_owned),
                year: r.year,
                value: r.value,
                source: r.source.clone(),
                note: r.note.clone(),
                own: mine,
                difference: difference(mine, r.value),
            }
        })
        .collect()
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
        references: Vec::new(),
        targets: Vec::new(),
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

/// An indicator as the reports name it.
fn indicator_label(i: Indicator) -> &'static str {
    match i {
        Indicator::ReportingRate => "每百出院报告 Reports per 100 discharges",
        Indicator::SeriousShare => "Ⅰ/Ⅱ级占比 % Grade I/II share",
        Indicator::RcaClosedIn45Days => "RCA 45天内结案率 % RCA closed in 45 days",
        Indicator::DeathReviewOnTime => "7日内讨论率 % Deaths reviewed in 7 days",
        Indicator::LowRiskDeathsReviewed => "低风险院级讨论率 % Low-risk deaths reviewed",
        Indicator::Cl14NotificationRate => "危急值通报率 % CL-14",
        Indicator::Cl15NotificationTimeliness => "危急值通报及时率 % CL-15",
        Indicator::HandlingTimeliness => "危急值处置及时率 % Handling in time",
    }
}

/// Whose mean a reference is, as the reports name it.
fn scope_label(r: &Reference) -> String {
    match &r.code {
        Some(code) => format!("{code} 均值 mean"),
        None => "全国均值 National mean".to_owned(),
    }
}

/// A difference with its sign, so that below the mean reads at a glance.
fn signed(d: Option<f64>) -> String {
    match d {
        Some(d) if d > 0.0 => format!("+{d:.2}"),
        Some(d) => format!("{d:.2}"),
        None => "—".to_owned(),
    }
}

fn references_table(r: &PeriodicReport) -> Markup {
    html! {
        @if r.references.is_empty() {
            p.muted { "本年度未录入参考值 No reference values were entered for " (r.period.get(..4).unwrap_or(&r.period)) }
        } @else {
            table id="references" {
                tr {
                    th { "指标 Indicator" } th { "参考 Reference of" } th { "参考值 Reference" }
                    th { "本报告 This report" } th { "差值 Difference" } th { "来源 Source" }
                }
                @for x in &r.references {
                    tr {
                        td { (indicator_label(x.indicator)) }
                        td { (scope_label(x)) " " (x.year) }
                        td.n { (format!("{:.2}", x.value.get())) }
                        td.n { (shown(Value::Rate(x.own))) }
                        td.n { (signed(x.difference)) }
                        td { (x.source) @if let Some(n) = &x.note { " · " (n) } }
                    }
                }
            }
            p.muted { "差值 = 本报告合计 − 参考值 (difference = this report's total − reference); 参考值为比较之用，不是目标值 (a reference is compared with, not a target)" }
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
                section { h2 { "四、参考值比较 Comparison with reference values" } (references_table(r)) }
                section {
                    h2 { "五、目标达成 Against targets" }
                    table id="targets" {
                        tr { th { "指标 Indicator" } th { "目标 Target" } th { "本期 Own" } th { "达标 Met" } }
                        @for t in &r.targets {
                            tr {
                                td { (t.indicator.as_str()) }
                                td.n { (if t.direction == "lower" { "≤ " } else { "≥ " }) (format!("{:.2}", t.target)) }
                                td.n { (shown(Value::Rate(t.own))) }
                                td { (match t.meets { Some(true) => "是 met", Some(false) => "否 not met", None => "—" }) }
                            }
                        }
                    }
                }
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

fn references_sheet(ws: &mut Worksheet, references: &[Reference]) -> Result<(), XlsxError> {
    ws.set_name("参考值 References")?;
    let bold = Format::new().set_bold();
    let two = Format::new().set_num_format("0.00");
    let headings = [
        "指标 Indicator",
        "名称 Name",
        "范围 Scope",
        "地区 Region",
        "年度 Year",
        "参考值 Reference",
        "本报告 This report",
        "差值 Difference",
        "来源 Source",
        "备注 Note",
    ];
    for (c, h) in headings.iter().enumerate() {
        ws.write_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, x) in references.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write(row, 0, x.indicator.as_str())?;
        ws.write(row, 1, indicator_label(x.indicator))?;
        ws.write(row, 2, x.scope.as_str())?;
        if let Some(code) = &x.code {
            ws.write(row, 3, code.as_str())?;
        }
        ws.write(row, 4, f64::from(x.year))?;
        ws.write_with_format(row, 5, x.value.get(), &two)?;
        // Numbers as numbers; a figure with no denominator is left blank,
        // not written as text a spreadsheet would not sum.
        if let Some(own) = x.own {
            ws.write_with_format(row, 6, own, &two)?;
        }
        if let Some(d) = x.difference {
            ws.write_with_format(row, 7, d, &two)?;
        }
        ws.write(row, 8, x.source.as_str())?;
        if let Some(note) = &x.note {
            ws.write(row, 9, note.as_str())?;
        }
    }
    ws.set_column_width(1, 36)?;
    ws.set_column_width(8, 40)?;
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
    references_sheet(wb.add_worksheet(), &r.references)?;
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use lantern_domain::targets::reference::ReferenceScope;

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

    #[test]
    fn each_reference_stands_beside_the_total_s_own_figure_with_the_difference() {
        let h = |code: &str, c| HospitalCounts {
            code: code.into(),
            name: format!("{code} 医院"),
            region: "ZZ".into(),
            level: Some(Level::Tertiary),
            counts: c,
        };
        // Given a year of 40 reports over 2000 discharges (2.0 per 100),
        // 2 of them grade I/II (5 %), and no lab critical values.
        let mut r = report(
            Period::Quarter(2026, 2),
            "ZZ",
            true,
            vec![h("H1", counts(30, 1000)), h("H2", counts(10, 1000))],
        );
        assert_eq!(r.period.len(), 7);
        assert_eq!(Period::Quarter(2026, 2).year(), 2026);
        let set = |indicator, scope, value: f64, source: &str| reference::Reference {
            indicator,
            scope,
            year: 2026,
            value: TargetValue::from_f64(value).unwrap(),
            source: source.into(),
            note: None,
        };
        // When it is compared with the province's reporting rate and
        // CL-15 means and the national reporting rate and serious share.
        let province = || ReferenceScope::Region("HN".into());
        let references = [
            set(
                Indicator::ReportingRate,
                province(),
                2.31,
                "河南省报告 2026",
            ),
            set(
                Indicator::ReportingRate,
                ReferenceScope::National,
                1.75,
                "国家报告 2026",
            ),
            set(
                Indicator::SeriousShare,
                ReferenceScope::National,
                7.5,
                "国家报告 2026",
            ),
            set(
                Indicator::Cl15NotificationTimeliness,
                province(),
                92.35,
                "河南省报告 2026",
            ),
        ];
        r.references = compare(&r.total.figures, &references);
        // Then each keeps its order, scope and source, with own − reference
        // to two decimals; CL-15 has no figure of its own, so no difference.
        let seen: Vec<_> = r
            .references
            .iter()
            .map(|x| (x.indicator, x.code.as_deref(), x.own, x.difference))
            .collect();
        assert_eq!(
            seen,
            [
                (Indicator::ReportingRate, Some("HN"), Some(2.0), Some(-0.31)),
                (Indicator::ReportingRate, None, Some(2.0), Some(0.25)),
                (Indicator::SeriousShare, None, Some(5.0), Some(-2.5)),
                (
                    Indicator::Cl15NotificationTimeliness,
                    Some("HN"),
                    None,
                    None
                ),
            ]
        );
        assert_eq!(r.references[2].unit, Unit::Percent);
        let json = serde_json::to_value(&r.references[0]).unwrap();
        assert_eq!(
            (&json["scope"], &json["value"], &json["difference"]),
            (
                &serde_json::json!("region"),
                &serde_json::json!(2.31),
                &serde_json::json!(-0.31)
            )
        );
        // And the page shows the comparison, signed; the workbook has a
        // fourth sheet.
        let html = render(&r).into_string();
        for shown in [
            "参考值比较",
            "HN 均值",
            "全国均值",
            "-0.31",
            "+0.25",
            "92.35",
            "河南省报告 2026",
        ] {
            assert!(html.contains(shown), "{shown} in the page");
        }
        let none = render(&report(Period::Year(2026), "ZZ", true, vec![])).into_string();
        assert!(none.contains("未录入参考值"));
        assert_eq!(&workbook(&r).unwrap()[..2], b"PK");
    }
}
