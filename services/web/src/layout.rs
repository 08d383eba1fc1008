//! The page shell: header with navigation, language switch and sign-out,
//! the stylesheet, and the security headers every staff page carries.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use lantern_api::auth::Principal;
use lantern_domain::vocab::Role;
use maud::{DOCTYPE, Markup, html};

use crate::i18n::{Key, Lang};

/// No script at all, styles from our own stylesheet only, forms post only
/// here, never framed.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Headers for every staff response: staff pages hold hospital data, so
/// nothing is cached or leaked through the referrer.
pub fn secure_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// The stylesheet: high contrast, large targets, readable on a tablet.
pub const STYLE: &str = "
:root { color-scheme: light; }
body { font-family: 'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',system-ui,sans-serif; margin: 0; color: #111; background: #fff; line-height: 1.5; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #ff0; padding: 4px; }
header.top { background: #0b3d6b; color: #fff; padding: 8px 16px; display: flex; flex-wrap: wrap; gap: 12px; align-items: center; }
header.top a { color: #fff; } header.top button { background: #fff; color: #0b3d6b; border: 1px solid #fff; }
header.top nav a { margin-right: 12px; }
header.top form { display: inline; margin: 0; }
main { padding: 12px 16px; max-width: 1200px; }
a { color: #0645ad; } a:focus, button:focus, input:focus, select:focus, textarea:focus { outline: 3px solid #f90; outline-offset: 1px; }
table { border-collapse: collapse; margin: 8px 0 16px; } th, td { border: 1px solid #555; padding: 4px 8px; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
label { display: block; font-weight: 600; margin-top: 8px; } label.inline { display: inline; font-weight: 400; }
fieldset { border: 1px solid #555; margin: 8px 0; max-width: 800px; } details { margin: 8px 0; } summary { cursor: pointer; font-weight: 600; min-height: 36px; }
input, select, textarea, button { font: inherit; padding: 6px 8px; min-height: 36px; }
textarea { width: 100%; max-width: 640px; box-sizing: border-box; }
.filters { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: flex-end; }
.filters label { margin-top: 0; }
.alert { border: 2px solid #a00; background: #fee; padding: 8px; }
.ok { border: 2px solid #060; background: #efe; padding: 8px; }
.overdue { font-weight: 700; background: #fdd; } .overdue td:first-child::before { content: '⚠ '; }
.below { font-weight: 700; text-decoration: underline; }
.suppressed { font-style: italic; color: #444; }
.desc { white-space: pre-wrap; border-left: 4px solid #888; padding-left: 8px; max-width: 800px; }
.hint { color: #333; font-size: 0.9em; }
figure { margin: 8px 0 24px; } svg { max-width: 100%; height: auto; } svg text { font-size: 11px; font-family: sans-serif; }
";

/// A document with only a body (sign-in, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex";
                title { (title) }
                link rel="stylesheet" href="/staff/app.css";
            }
            body { main id="main" { (body) } }
        }
    }
}

/// A staff page for the signed-in `p`: the shell around `body`, as a
/// response with the security headers. `csrf` is the session's token (for
/// the sign-out form); `here` is the page's path, for the language switch.
pub fn page(
    p: &Principal,
    csrf: &str,
    lang: Lang,
    here: &str,
    title: &str,
    body: Markup,
) -> Response {
    let scope = p.hospital().or(p.region()).unwrap_or("");
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex";
                title { (title) " · " (lang.t(Key::App)) }
                link rel="stylesheet" href="/staff/app.css";
            }
            body {
                a class="skip" href="#main" { (lang.t(Key::Skip)) }
                header class="top" {
                    strong { (lang.t(Key::App)) }
                    nav aria-label=(lang.t(Key::App)) {
                        @if p.role() == Role::SafetyOfficer {
                            a href="/staff/reports" { (lang.t(Key::NavReports)) }
                            a href="/staff/critical-values" { (lang.t(Key::NavCritical)) }
                            a href="/staff/rca" { (lang.t(Key::NavRca)) }
                            a href="/staff/deaths" { (lang.t(Key::NavDeaths)) }
                        }
                        @if matches!(p.role(), Role::SafetyOfficer | Role::QcCentre) {
                            a href="/staff/dashboard" { (lang.t(Key::NavDashboard)) }
                            a href="/staff/meeting" { (lang.t(Key::NavMeeting)) }
                            a href="/staff/follow-ups" { (lang.t(Key::NavFollowUps)) }
                            a href="/staff/quality-reports" { (lang.t(Key::NavReportsPeriodic)) }
                        }
                        @if matches!(p.role(), Role::SafetyOfficer | Role::QcCentre | Role::Admin) {
                            a href="/staff/targets" { (lang.t(Key::NavTargets)) }
                        }
                    }
                    span { (lang.t(Key::SignedInAs)) ": " (lang.role(p.role())) " " (scope) }
                    a href={ (here) "?lang=" (lang.other().code()) } lang=(lang.other().tag()) { (lang.t(Key::Switch)) }
                    form method="post" action="/staff/sign-out" {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" { (lang.t(Key::Signout)) }
                    }
                }
                main id="main" tabindex="-1" { (body) }
            }
        }
    };
    html_response(markup)
}

/// An HTML response with the security headers.
pub fn html_response(markup: Markup) -> Response {
    let mut r = axum::response::Html(markup.into_string()).into_response();
    secure_headers(r.headers_mut());
    r
}
