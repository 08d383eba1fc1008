//! The QC-centre dashboard: hospitals and departments of the region for a
//! period, against the target of 2.5 reports per 100 discharges, with
//! critical-value timeliness, suppressed cells shown as suppressed; a
//! u-chart per hospital and a funnel plot. Figures come from the one
//! rates query the API serves ([`lantern_rates::Rates::query`]).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use lantern_api::ApiError;
use lantern_domain::Month;
use lantern_domain::vocab::{Grade, Role};
use lantern_rates::Rates;
use lantern_rates::api::{By, RateRow, RatesQuery, RatesResponse, TARGET_PER_100_DISCHARGES};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::reports::period;
use crate::Web;
use crate::charts::{
    Direction, Legend, Pareto, Sample, funnel, funnel_svg, pareto, pareto_svg, u_chart, u_chart_svg,
};
use crate::error::WebError;
use crate::i18n::Lang;
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
    period(&q.from, &q.to, "Asia/Shanghai")
}

fn count(n: Option<u64>, lang: Lang) -> Markup {
    match n {
        Some(n) => html! { (n) },
        None => html! { span class="suppressed" { (lang.t("dash.suppressed")) } },
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
        (None, _) => html! { (lang.t("dash.no_denominator")) },
        (Some(_), None) => html! { (lang.t("dash.not_judged")) },
        (Some(_), Some(true)) => html! { "✓ " (lang.t("dash.met")) },
        (Some(_), Some(false)) => html! { span class="below" { "✗ " (lang.t("dash.below")) } },
    };
    html! {
        (judged)
        @if r.incomplete {
            br; small { (lang.t("dash.incomplete")) " " (r.census_months) "/" (r.months) ", " (lang.t("dash.without_census")) " " (r.reports_without_census) }
        }
    }
}

fn table(rows: &[RateRow], lang: Lang, departments: bool) -> Markup {
    html! {
        table {
            thead { tr {
                th scope="col" { (lang.t("hospital")) }
                @if departments { th scope="col" { (lang.t("department")) } }
                th scope="col" { (lang.t("dash.reports")) }
                th scope="col" { (lang.t("dash.discharges")) }
                th scope="col" { (lang.t(if departments { "dash.event_rate" } else { "dash.rate" })) }
                th scope="col" { (lang.t("dash.target")) }
                th scope="col" { (lang.t("dash.cv_notify")) }
                th scope="col" { (lang.t("dash.cv_handle")) }
                @for g in Grade::ALL { th scope="col" { (lang.t("dash.by_grade")) " " (g.as_str()) } }
            } }
            tbody {
                @for r in rows {
                    tr {
                        th scope="row" { (r.hospital.as_deref().unwrap_or("")) }
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
    let by = if staff.principal.role == Role::QcCentre {
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
    let target = Some(hospitals.target_per_100_discharges);
    let legend = Legend {
        below: lang.t("dash.side_below"),
        above: lang.t("dash.side_above"),
        within: lang.t("dash.side_within"),
        target: lang.t("dash.target_line"),
    };
    let category_name = |code: &str| {
        if code == SUPPRESSED {
            lang.t("dash.suppressed_cells").to_owned()
        } else {
            lang.t(&format!("cat.{code}")).to_owned()
        }
    };
    let body = html! {
        h1 { (lang.t("dash.h1")) }
        form method="get" action="/staff/dashboard" class="filters" aria-label=(lang.t("dash.period")) {
            div { label for="f-from" { (lang.t("from")) } input type="month" id="f-from" name="from" value=(from.to_string()); }
            div { label for="f-to" { (lang.t("to")) } input type="month" id="f-to" name="to" value=(to.to_string()); }
            div { button type="submit" { (lang.t("dash.show")) } }
        }
        p { a href={ "/staff/dashboard.csv?from=" (from) "&to=" (to) } download { (lang.t("dash.csv")) } }
        p class="hint" { (lang.t("dash.suppressed_note")) " k = " (hospitals.k) }
        h2 { (lang.t("dash.hospitals")) " " (from) " – " (to) }
        (table(&hospitals.rows, lang, false))
        h2 { (lang.t("dash.departments")) }
        (table(&departments.rows, lang, true))
        h2 { (lang.t("dash.pareto")) }
        p class="hint" { (lang.t("dash.pareto_note")) }
        @match &pareto {
            Some(p) => {
                p { a href={ "/staff/dashboard/categories.csv?from=" (from) "&to=" (to) } download { (lang.t("dash.csv")) } }
                figure id="pareto" { (PreEscaped(pareto_svg(p, lang.t("dash.pareto"), &category_name))) }
                table class="pareto" {
                    thead { tr { th scope="col" { (lang.t("category")) } th scope="col" { (lang.t("dash.reports")) } th scope="col" { (lang.t("dash.cumulative")) } } }
                    tbody { @for b in &p.bars { tr { td { (category_name(&b.label)) } td class="n" { (b.count) } td class="n" { (format!("{:.1}", b.cumulative_pct)) } } } }
                }
            },
            None => { p { (lang.t("dash.no_reports")) } },
        }
        h2 { (lang.t("dash.funnel")) }
        p class="hint" { (lang.t("dash.funnel_note")) " " (lang.t("dash.outside")) }
        @match &funnel {
            Some(f) => { figure id="funnel" { (PreEscaped(funnel_svg(f, lang.t("dash.funnel"), target, Direction::HigherIsBetter, &legend))) } },
            None => { p { (lang.t("dash.no_data")) } },
        }
        h2 { (lang.t("dash.uchart")) }
        p class="hint" { (lang.t("dash.outside")) }
        @for (hospital, samples) in &months {
            h3 { (hospital) }
            @match u_chart(samples) {
                Some(c) => { figure class="uchart" { (PreEscaped(u_chart_svg(&c, &format!("{hospital} — {}", lang.t("dash.uchart")), target, Direction::HigherIsBetter, &legend))) } },
                None => { p { (lang.t("dash.no_data")) } },
            }
        }
    };
    Ok(page(
        &staff,
        lang,
        "/staff/dashboard",
        lang.t("dash.h1"),
        body,
    ))
}

fn csv_field(s: &str) -> String {
    // Quote everything, and neutralise spreadsheet formulas.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
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
pub fn to_csv(hospitals: &[RateRow], departments: &[RateRow]) -> String {
    let mut out = String::from(
        "\u{feff}hospital,department,reports,discharges,per_100_discharges,target,notification_timeliness,handling_timeliness,grade_I,grade_II,grade_III,grade_IV\r\n",
    );
    let opt = |n: Option<u64>| n.map_or_else(|| "suppressed".to_owned(), |n| n.to_string());
    let rate = |r: Option<f64>| r.map_or_else(String::new, |r| format!("{r:.2}"));
    for r in hospitals.iter().chain(departments) {
        let mut fields = vec![
            csv_field(r.hospital.as_deref().unwrap_or("")),
            csv_field(r.department.as_deref().unwrap_or("")),
            r.reports.to_string(),
            r.discharges.to_string(),
            rate(r.per_100_discharges),
            TARGET_PER_100_DISCHARGES.to_string(),
            rate(r.critical_values.notification_timeliness),
            rate(r.critical_values.handling_timeliness),
        ];
        for g in Grade::ALL {
            fields.push(opt(r.by_grade.get(g.as_str()).copied().flatten()));
        }
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
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
        to_csv(&hospitals.rows, &departments.rows),
    ))
}

/// The Pareto table as CSV: category code, reports, cumulative %.
pub fn categories_csv(p: Option<&Pareto>) -> String {
    let mut out = String::from("\u{feff}category,reports,cumulative_pct\r\n");
    for b in p.map(|p| p.bars.as_slice()).unwrap_or_default() {
        out.push_str(&format!(
            "{},{},{:.2}\r\n",
            csv_field(&b.label),
            b.count,
            b.cumulative_pct
        ));
    }
    out
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
        categories_csv(pareto.as_ref()),
    ))
}
