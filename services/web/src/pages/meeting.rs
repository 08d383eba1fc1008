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
    let query = if p.role == Role::QcCentre {
        PackQuery {
            hospital: None,
            region: p.region.clone(),
            after: None,
        }
    } else {
        PackQuery {
            hospital: p.hospital.clone(),
            region: None,
            after: None,
        }
    };
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
    Ok(r)
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
