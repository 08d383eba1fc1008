//! The QC-centre dashboard: hospitals and departments of the region for a
//! period, each against the reporting-rate target that applies to it, with
//! critical-value timeliness, suppressed cells shown as suppressed; a
//! u-chart per hospital and a funnel plot. Figures come from the one
//! rates query the API serves ([`lantern_rates::Rates::query`]).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use csv::{QuoteStyle, Terminator, WriterBuilder};
use lantern_api::ApiError;
use lantern_domain::Month;
use lantern_domain::targets::Indicator;
use lantern_domain::vocab::{Category, Grade, Role};
use lantern_rates::Rates;
use lantern_rates::api::{By, RateRow, RatesQuery, RatesResponse};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::scope::{DEFAULT_ZONE, period};
use crate::Web;
use crate::charts::{
    Direction, Legend, Pareto, Sample, funnel, funnel_svg, pareto, pareto_svg, u_chart, u_chart_svg,
};
use crate::error::WebError;
use crate::i18n::{Key, Lang};
use crate::layout::page;
use crate::session::Staff;

/// The period query.
#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

fn rates(web: &Web) -> Result<&Rates, WebError> {
    web.rates.as_ref().ok_or_else(|| {
        WebError::Api(ApiError::NotFound(
            "the rates service does not run here".into(),
        ))
    })
}

async fn query(
    rates: &Rates,
    staff: &Staff,
    from: Month,
    to: Month,
    by: By,
) -> Result<RatesResponse, WebError> {
    Ok(rates
        .query(
            &staff.principal,
            &RatesQuery {
                from,
                to,
                by,
                hospital: None,
                department: None,
                after: None,
            },
        )
        .await?)
}

fn period_of(q: &PeriodQuery) -> Result<(Month, Month), WebError> {
    // Regions span hospitals; the dashboard's default period is counted
    // in the design's default zone.
    period(&q.from, &q.to, DEFAULT_ZONE)
}

fn count(n: Option<u64>, lang: Lang) -> Markup {
    match n {
        Some(n) => html! { (n) },
        None => html! { span class="suppressed" { (lang.t(Key::DashSuppressed)) } },
    }
}

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{r:.2}"))
}

/// Against the target: judged for a hospital or region only (a
/// department's figure is an event rate by occurrence department); an
/// incomplete period says so.
fn versus_target(r: &RateRow, lang: Lang) -> Markup {
    let judged = match (r.per_100_discharges, r.meets_target) {
        (None, _) => html! { (lang.t(Key::DashNoDenominator)) },
        (Some(_), None) => html! { (lang.t(Key::DashNotJudged)) },
        (Some(_), Some(true)) => {
            html! { (r.target_per_100_discharges) " · ✓ " (lang.t(Key::DashMet)) }
        }
        (Some(_), Some(false)) => html! {
            (r.target_per_100_discharges) " · " span class="below" { "✗ " (lang.t(Key::DashBelow)) }
        },
    };
    html! {
        (judged)
        @if r.incomplete {
            br; small { (lang.t(Key::DashIncomplete)) " " (r.census_months) "/" (r.months) ", " (lang.t(Key::DashWithoutCensus)) " " (r.reports_without_census) }
        }
    }
}

fn table(rows: &[RateRow], lang: Lang, departments: bool) -> Markup {
    html! {
        table {
            thead { tr {
                th scope="col" { (lang.t(Key::Hospital)) }
                @if departments { th scope="col" { (lang.t(Key::Department)) } }
                th scope="col" { (lang.t(Key::DashReports)) }
                th scope="col" { (lang.t(Key::DashDischarges)) }
                th scope="col" { (lang.t(if departments { Key::DashEventRate } else { Key::DashRate })) }
                th scope="col" { (lang.t(Key::DashTarget)) }
                th scope="col" { (lang.t(Key::DashCvNotify)) }
                th scope="col" { (lang.t(Key::DashCvHandle)) }
                @for g in Grade::ALL { th scope="col" { (lang.t(Key::DashByGrade)) " " (g.as_str()) } }
            } }
            tbody {
                @for r in rows {
                    tr {
                        // A hospital's row, else a level's, else a region's.
                        th scope="row" { (r.hospital.as_deref().or(r.level.as_deref().map(|l| lang.level_name(l))).unwrap_or(&r.region)) }
                        @if departments { td { (r.department.as_deref().unwrap_or("")) } }
                        td class="n" { (r.reports) }
                        td class="n" { (r.discharges) }
                        td class="n" { (pct(r.per_100_discharges)) }
                        td { (versus_target(r, lang)) }
                        td class="n" { (pct(r.critical_values.notification_timeliness)) }
                        td class="n" { (pct(r.critical_values.handling_timeliness)) }
                        @for g in Grade::ALL { td class="n" { (count(r.by_grade.get(g.as_str()).copied().flatten(), lang)) } }
                    }
                }
            }
        }
    }
}

/// Monthly samples per hospital, for the u-charts.
async fn monthly(
    rates: &Rates,
    staff: &Staff,
    from: Month,
    to: Month,
) -> Result<BTreeMap<String, Vec<Sample>>, WebError> {
    let mut out: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
    for m in from.through(to) {
        for r in query(rates, staff, m, m, By::Hospital).await?.rows {
            out.entry(r.hospital.clone().unwrap_or_default())
                .or_default()
                .push(Sample {
                    label: m.to_string(),
                    reports: r.reports,
                    discharges: r.discharges,
                });
        }
    }
    Ok(out)
}

/// The Pareto chart of the categories of `rows` (summed): cells shown are
/// bars; the reports of suppressed cells (the rows' total less the cells
/// shown, which anyone could compute from the table) are one last bar, so
/// no suppressed cell is revealed and the percentages add up to the total.
pub fn category_pareto(rows: &[RateRow]) -> Option<Pareto> {
    let mut shown: BTreeMap<String, u64> = BTreeMap::new();
    let mut total = 0;
    for r in rows {
        total += r.reports;
        for (category, n) in &r.by_category {
            if let Some(n) = n {
                *shown.entry(category.to_owned()).or_default() += n;
            }
        }
    }
    let sum: u64 = shown.values().sum();
    let counts: Vec<(String, u64)> = shown.into_iter().collect();
    pareto(
        &counts,
        Some((SUPPRESSED.to_owned(), total.saturating_sub(sum))),
    )
}

/// The categories' Pareto for the period: a QC centre reads its region's
/// breakdown (suppressed as a whole region); a safety officer the own
/// hospital's.
async fn categories(
    rates: &Rates,
    staff: &Staff,
    from: Month,
    to: Month,
) -> Result<Option<Pareto>, WebError> {
    let by = if staff.principal.role() == Role::QcCentre {
        By::Region
    } else {
        By::Hospital
    };
    Ok(category_pareto(
        &query(rates, staff, from, to, by).await?.rows,
    ))
}

/// The label of the remainder bar of suppressed cells.
const SUPPRESSED: &str = "suppressed";

/// The first month of `m`'s quarter.
fn quarter_start(m: Month) -> Month {
    let mut q = m;
    while !(q.month - 1).is_multiple_of(3) {
        q = q.prev();
    }
    q
}

/// January of `m`'s year.
fn year_start(m: Month) -> Month {
    let mut y = m;
    while y.month != 1 {
        y = y.prev();
    }
    y
}

/// `n` months before `m`.
fn crate_month_minus(mut m: Month, n: u32) -> Month {
    for _ in 0..n {
        m = m.prev();
    }
    m
}

/// `GET /staff/dashboard?from=&to=`.
pub async fn dashboard(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let rates = rates(&web)?;
    let (from, to) = period_of(&q)?;
    let hospitals = query(rates, &staff, from, to, By::Hospital).await?;
    let departments = query(rates, &staff, from, to, By::Department).await?;
    let months = monthly(rates, &staff, from, to).await?;
    // Strata for a QC centre: its regions rolled up, and 二级/三级.
    let (regions, levels) = if staff.principal.role() == Role::QcCentre {
        (
            query(rates, &staff, from, to, By::Region).await?.rows,
            query(rates, &staff, from, to, By::Level).await?.rows,
        )
    } else {
        (vec![], vec![])
    };
    // The periods DESIGN asks for, ending with the month shown.
    let presets = [
        (Key::DashThisMonth, to, to),
        (Key::DashQuarter, quarter_start(to), to),
        (Key::DashYearToDate, year_start(to), to),
        (Key::DashRolling12, crate_month_minus(to, 11), to),
    ];
    let samples: Vec<Sample> = hospitals
        .rows
        .iter()
        .map(|r| Sample {
            label: r.hospital.clone().unwrap_or_default(),
            reports: r.reports,
            discharges: r.discharges,
        })
        .collect();
    let funnel = funnel(&samples);
    let pareto = categories(rates, &staff, from, to).await?;
    // The reporting rate is higher-is-better: the low tail is the concern.
    // Each hospital's chart carries its own target; the funnel compares
    // the region's hospitals, so it carries the region's.
    let target_of = |hospital: &str| {
        hospitals
            .rows
            .iter()
            .find(|r| r.hospital.as_deref() == Some(hospital))
            .map_or(hospitals.target_per_100_discharges, |r| {
                r.target_per_100_discharges
            })
    };
    let funnel_target = match (staff.principal.role(), staff.principal.region()) {
        (Role::QcCentre, Some(region)) => web
            .intake
            .directory
            .applicable(
                Indicator::ReportingRate,
                None,
                &[region],
                u16::try_from(to.year).unwrap_or_default(),
            )?
            .map(|t| t.value.get()),
        _ => hospitals.rows.first().map(|r| r.target_per_100_discharges),
    };
    let legend = Legend {
        below: lang.t(Key::DashSideBelow),
        above: lang.t(Key::DashSideAbove),
        within: lang.t(Key::DashSideWithin),
        target: lang.t(Key::DashTargetLine),
    };
    let category_name = |code: &str| {
        if code == SUPPRESSED {
            lang.t(Key::DashSuppressedCells).to_owned()
        } else {
            Category::parse(code).map_or_else(|| code.to_owned(), |c| lang.category(c).to_owned())
        }
    };
    let body = html! {
        h1 { (lang.t(Key::DashH1)) }
        form method="get" action="/staff/dashboard" class="filters" aria-label=(lang.t(Key::DashPeriod)) {
            div { label for="f-from" { (lang.t(Key::From)) } input type="month" id="f-from" name="from" value=(from.to_string()); }
            div { label for="f-to" { (lang.t(Key::To)) } input type="month" id="f-to" name="to" value=(to.to_string()); }
            div { button type="submit" { (lang.t(Key::DashShow)) } }
        }
        p id="presets" { @for (key, a, b) in presets { a href={ "/staff/dashboard?from=" (a) "&to=" (b) } { (lang.t(key)) } " " } }
        p { a href={ "/staff/dashboard.csv?from=" (from) "&to=" (to) } download { (lang.t(Key::DashCsv)) } }
        p class="hint" { (lang.t(Key::DashSuppressedNote)) " k = " (hospitals.k) }
        h2 { (lang.t(Key::DashHospitals)) " " (from) " – " (to) }
        (table(&hospitals.rows, lang, false))
        @if !regions.is_empty() {
            h2 id="by-region" { (lang.t(Key::DashRegions)) }
            (table(&regions, lang, false))
            h2 id="by-level" { (lang.t(Key::DashLevels)) }
            (table(&levels, lang, false))
        }
        h2 { (lang.t(Key::DashDepartments)) }
        (table(&departments.rows, lang, true))
        h2 { (lang.t(Key::DashPareto)) }
        p class="hint" { (lang.t(Key::DashParetoNote)) }
        @match &pareto {
            Some(p) => {
                p { a href={ "/staff/dashboard/categories.csv?from=" (from) "&to=" (to) } download { (lang.t(Key::DashCsv)) } }
                figure id="pareto" { (PreEscaped(pareto_svg(p, lang.t(Key::DashPareto), &category_name))) }
                table class="pareto" {
                    thead { tr { th scope="col" { (lang.t(Key::Category)) } th scope="col" { (lang.t(Key::DashReports)) } th scope="col" { (lang.t(Key::DashCumulative)) } } }
                    tbody { @for b in &p.bars { tr { td { (category_name(&b.label)) } td class="n" { (b.count) } td class="n" { (format!("{:.1}", b.cumulative_pct)) } } } }
                }
            },
            None => { p { (lang.t(Key::DashNoReports)) } },
        }
        h2 { (lang.t(Key::DashFunnel)) }
        p class="hint" { (lang.t(Key::DashFunnelNote)) " " (lang.t(Key::DashOutside)) }
        @match &funnel {
            Some(f) => { figure id="funnel" { (PreEscaped(funnel_svg(f, lang.t(Key::DashFunnel), funnel_target, Direction::HigherIsBetter, &legend))) } },
            None => { p { (lang.t(Key::DashNoData)) } },
        }
        h2 { (lang.t(Key::DashUchart)) }
        p class="hint" { (lang.t(Key::DashOutside)) }
        @for (hospital, samples) in &months {
            h3 { (hospital) }
            @match u_chart(samples) {
                Some(c) => { figure class="uchart" { (PreEscaped(u_chart_svg(&c, &format!("{hospital} — {}", lang.t(Key::DashUchart)), Some(target_of(hospital)), Direction::HigherIsBetter, &legend))) } },
                None => { p { (lang.t(Key::DashNoData)) } },
            }
        }
    };
    Ok(page(
        &staff.principal,
        &staff.csrf,
        lang,
        "/staff/dashboard",
        lang.t(Key::DashH1),
        body,
    ))
}

/// A text cell as a spreadsheet should read it: a leading `=`, `+`, `-` or
/// `@` is neutralised so that the cell is never taken for a formula.
fn text_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

/// A CSV file for a spreadsheet: a byte-order mark (Excel reads UTF-8 by
/// it), `header` as bare names, then `rows`; CRLF line ends, text cells
/// quoted, numbers bare.
fn csv_file<R>(header: &[&str], rows: impl IntoIterator<Item = R>) -> Result<String, WebError>
where
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let failed = |e: csv::Error| WebError::Api(ApiError::internal(format!("csv: {e}")));
    let mut out = "\u{feff}".as_bytes().to_vec();
    let mut names = WriterBuilder::new()
        .terminator(Terminator::CRLF)
        .from_writer(&mut out);
    names.write_record(header).map_err(failed)?;
    names.flush().map_err(|e| failed(e.into()))?;
    drop(names);
    let mut cells = WriterBuilder::new()
        .terminator(Terminator::CRLF)
        .quote_style(QuoteStyle::NonNumeric)
        .from_writer(&mut out);
    for row in rows {
        cells.write_record(row).map_err(failed)?;
    }
    cells.flush().map_err(|e| failed(e.into()))?;
    drop(cells);
    String::from_utf8(out).map_err(|e| WebError::Api(ApiError::internal(format!("csv: {e}"))))
}

/// A CSV file to save as `file`; never cached, it holds hospital figures.
fn download(file: &str, csv: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        csv,
    )
        .into_response()
}

/// The dashboard's table as CSV: hospitals, then their departments.
pub fn to_csv(hospitals: &[RateRow], departments: &[RateRow]) -> Result<String, WebError> {
    let opt = |n: Option<u64>| n.map_or_else(|| "suppressed".to_owned(), |n| n.to_string());
    let rate = |r: Option<f64>| r.map_or_else(String::new, |r| format!("{r:.2}"));
    let rows = hospitals.iter().chain(departments).map(|r| {
        let mut fields = vec![
            text_cell(r.hospital.as_deref().unwrap_or("")),
            text_cell(r.department.as_deref().unwrap_or("")),
            r.reports.to_string(),
            r.discharges.to_string(),
            rate(r.per_100_discharges),
            r.target_per_100_discharges.to_string(),
            rate(r.critical_values.notification_timeliness),
            rate(r.critical_values.handling_timeliness),
        ];
        for g in Grade::ALL {
            fields.push(opt(r.by_grade.get(g.as_str()).copied().flatten()));
        }
        fields
    });
    csv_file(
        &[
            "hospital",
            "department",
            "reports",
            "discharges",
            "per_100_discharges",
            "target",
            "notification_timeliness",
            "handling_timeliness",
            "grade_I",
            "grade_II",
            "grade_III",
            "grade_IV",
        ],
        rows,
    )
}

/// `GET /staff/dashboard.csv?from=&to=`.
pub async fn csv(
    State(web): State<Web>,
    staff: Staff,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let rates = rates(&web)?;
    let (from, to) = period_of(&q)?;
    let hospitals = query(rates, &staff, from, to, By::Hospital).await?;
    let departments = query(rates, &staff, from, to, By::Department).await?;
    Ok(download(
        &format!("lantern-rates-{from}-{to}.csv"),
        to_csv(&hospitals.rows, &departments.rows)?,
    ))
}

/// The Pareto table as CSV: category code, reports, cumulative %.
pub fn categories_csv(p: Option<&Pareto>) -> Result<String, WebError> {
    let bars = p.map(|p| p.bars.as_slice()).unwrap_or_default();
    csv_file(
        &["category", "reports", "cumulative_pct"],
        bars.iter().map(|b| {
            [
                text_cell(&b.label),
                b.count.to_string(),
                format!("{:.2}", b.cumulative_pct),
            ]
        }),
    )
}

/// `GET /staff/dashboard/categories.csv?from=&to=`.
pub async fn categories_csv_file(
    State(web): State<Web>,
    staff: Staff,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let rates = rates(&web)?;
    let (from, to) = period_of(&q)?;
    let pareto = categories(rates, &staff, from, to).await?;
    Ok(download(
        &format!("lantern-categories-{from}-{to}.csv"),
        categories_csv(pareto.as_ref())?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_bom_bare_names_quoted_text_and_bare_numbers() {
        let csv = csv_file(
            &["hospital", "reports", "rate"],
            [
                vec![text_cell("H1"), "6".to_owned(), "3.00".to_owned()],
                vec![text_cell("=cmd|x"), "7".to_owned(), String::new()],
                vec![
                    text_cell("say \"hi\", then"),
                    "0".to_owned(),
                    "1.5".to_owned(),
                ],
            ],
        )
        .unwrap();
        assert_eq!(
            csv,
            "\u{feff}hospital,reports,rate\r\n\"H1\",6,3.00\r\n\"'=cmd|x\",7,\"\"\r\n\"say \"\"hi\"\", then\",0,1.5\r\n"
        );
    }

    #[test]
    fn the_categories_csv_names_each_bar_with_its_cumulative_share() {
        let p = pareto(
            &[("fall".to_owned(), 6), ("medication".to_owned(), 2)],
            Some((SUPPRESSED.to_owned(), 0)),
        );
        let csv = categories_csv(p.as_ref()).unwrap();
        assert_eq!(
            csv,
            "\u{feff}category,reports,cumulative_pct\r\n\"fall\",6,75.00\r\n\"medication\",2,100.00\r\n"
        );
        assert_eq!(
            categories_csv(None).unwrap(),
            "\u{feff}category,reports,cumulative_pct\r\n"
        );
    }
}
