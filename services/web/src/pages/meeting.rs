//! The monthly dispatch pack (每月工作调度会) from a staff session: the
//! mortality service's own printable page, for the session's scope — the
//! hospital of a safety officer, the region of a QC centre — with a bar on
//! screen (not in print) to go back or pick another month.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use lantern_api::ApiError;
use lantern_domain::Month;
use lantern_domain::vocab::Role;
use lantern_meeting::api::PackQuery;
use lantern_meeting::periodic::Period;
use maud::html;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::month_param;
use super::scope::{DEFAULT_ZONE, this_month};
use crate::Web;
use crate::error::WebError;
use crate::i18n::{Key, Lang};
use crate::layout::secure_headers;
use crate::session::Staff;

/// The month picker's query.
#[derive(Deserialize, Default)]
pub struct PickQuery {
    month: Option<String>,
}

/// `GET /staff/meeting?month=`: to that month's pack (this month by default).
pub async fn pick(staff: Staff, Query(q): Query<PickQuery>) -> Result<Redirect, WebError> {
    staff
        .principal
        .require(&[Role::SafetyOfficer, Role::QcCentre])?;
    let month = month_param("/month", &q.month)?.unwrap_or_else(|| this_month(DEFAULT_ZONE));
    Ok(Redirect::to(&format!("/staff/meeting/{month}")))
}

/// The inline stylesheet's CSP hash, so the pack's own `<style>` may apply
/// and nothing else inline can.
fn style_hash(page: &str) -> Option<String> {
    let start = page.find("<style>")? + "<style>".len();
    let end = start + page[start..].find("</style>")?;
    let digest = Sha256::digest(&page.as_bytes()[start..end]);
    Some(format!(
        "'sha256-{}'",
        data_encoding::BASE64.encode(&digest)
    ))
}

/// `GET /staff/meeting/{month}`: the printable pack, through the meeting's
/// own service (scope, suppression for a QC centre, the figures).
pub async fn pack(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(month): Path<String>,
) -> Result<Response, WebError> {
    let m = web.meeting()?;
    let p = &staff.principal;
    p.require(&[Role::SafetyOfficer, Role::QcCentre])?;
    let query = own_scope(&staff);
    let parsed =
        Month::parse(&month).ok_or_else(|| ApiError::field("/month", "is not a month YYYY-MM"))?;
    let pack = m.pack(p, parsed, &query).await?;
    let document = lantern_meeting::html::render(&pack).into_string();
    let month = Month::parse(&month).map(|m| m.to_string()).unwrap_or(month);
    let bar = html! {
        nav class="screen" aria-label=(lang.t(Key::MeetingH1)) {
            a href="/staff" { "← " (lang.t(Key::Back)) }
            a href={ "/staff/meeting/" (month) "?lang=" (lang.other().code()) } lang=(lang.other().tag()) { (lang.t(Key::Switch)) }
            form method="get" action="/staff/meeting" {
                label for="m-month" { (lang.t(Key::DashMonth)) " " }
                input type="month" id="m-month" name="month" value=(month);
                " "
                button type="submit" { (lang.t(Key::DashShow)) }
            }
            " " (lang.t(Key::MeetingPrintHint))
        }
    };
    Ok(printable(document, bar))
}

/// A printable document of the meeting service (its own inline
/// stylesheet) with a bar on screen, not in print: its CSP allows that
/// stylesheet by hash and nothing else inline.
pub fn printable(document: String, bar: maud::Markup) -> Response {
    let document = document.replacen("<body>", &format!("<body>{}", bar.into_string()), 1);
    let csp = format!(
        "default-src 'none'; style-src {}; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        style_hash(&document).unwrap_or_else(|| "'none'".to_owned())
    );
    let mut r = axum::response::Html(document).into_response();
    secure_headers(r.headers_mut());
    if let Ok(v) = HeaderValue::from_str(&csp) {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

/// The session's scope as a pack or report query: a QC centre's region,
/// a safety officer's hospital.
pub fn own_scope(staff: &Staff) -> PackQuery {
    let p = &staff.principal;
    if p.role() == Role::QcCentre {
        PackQuery {
            hospital: None,
            region: p.region().map(str::to_owned),
            after: None,
        }
    } else {
        PackQuery {
            hospital: p.hospital().map(str::to_owned),
            region: None,
            after: None,
        }
    }
}

/// The report picker's query.
#[derive(Deserialize, Default)]
pub struct ReportQuery {
    period: Option<String>,
}

/// `GET /staff/quality-reports?period=`: to that period's quarterly or
/// annual report (last year's by default).
pub async fn pick_report(staff: Staff, Query(q): Query<ReportQuery>) -> Result<Redirect, WebError> {
    staff
        .principal
        .require(&[Role::SafetyOfficer, Role::QcCentre])?;
    let period = match q.period.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => Period::parse(p)
            .ok_or_else(|| ApiError::field("/period", "is not a year YYYY or a quarter YYYY-Qn"))?
            .to_string(),
        None => (this_month(DEFAULT_ZONE).year - 1).to_string(),
    };
    Ok(Redirect::to(&format!("/staff/quality-reports/{period}")))
}

/// `GET /staff/quality-reports/{period}`: the printable quarterly or
/// annual report of the session's scope, through the meeting service; a
/// link on screen downloads the same report as an Excel workbook.
pub async fn report(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(period): Path<String>,
) -> Result<Response, WebError> {
    let m = web.meeting()?;
    let wants_xlsx = period.ends_with(".xlsx");
    let name = period.trim_end_matches(".xlsx");
    let parsed = Period::parse(name)
        .ok_or_else(|| ApiError::field("/period", "is not a year YYYY or a quarter YYYY-Qn"))?;
    let report = m
        .periodic(&staff.principal, parsed, &own_scope(&staff))
        .await?;
    if wants_xlsx {
        let mut r = lantern_meeting::api::workbook_response(&report)?;
        secure_headers(r.headers_mut());
        return Ok(r);
    }
    let document = lantern_meeting::periodic::render(&report).into_string();
    let bar = html! {
        nav class="screen" aria-label=(lang.t(Key::NavReportsPeriodic)) {
            a href="/staff" { "← " (lang.t(Key::Back)) }
            form method="get" action="/staff/quality-reports" {
                label for="r-period" { (lang.t(Key::ReportPeriod)) " " }
                input type="text" id="r-period" name="period" value=(name) size="8" placeholder="2026-Q3";
                " "
                button type="submit" { (lang.t(Key::DashShow)) }
            }
            " " a id="xlsx" href={ "/staff/quality-reports/" (name) ".xlsx" } download { (lang.t(Key::ReportXlsx)) }
            " " (lang.t(Key::MeetingPrintHint))
        }
    };
    Ok(printable(document, bar))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_style_hash_covers_exactly_the_inline_stylesheet() {
        let h = super::style_hash("<head><style>a{}</style></head>").unwrap();
        // printf 'a{}' | openssl dgst -sha256 -binary | base64
        assert_eq!(h, "'sha256-X1RutGBrXCt9KkSaXMK7tHftWiRscFHOhxsS8tv8hBk='");
        assert!(super::style_hash("<p>no style</p>").is_none());
    }
}
