//! Targets (目标值) from a staff session: which target of each indicator
//! applies to the session's hospital or region (or, for the
//! administrator, the country) in a year, with every set of it, and the
//! form to set one. Reading and setting are the intake's own calls
//! ([`lantern_intake::Intake::targets`], [`lantern_intake::Intake::set_target`]),
//! so the page refuses what the API refuses.

use axum::extract::{Query, State};
use axum::response::Response;
use lantern_api::{ApiError, FieldError};
use lantern_domain::targets::{Direction, Indicator, ScopeKind};
use lantern_domain::vocab::Role;
use lantern_intake::organisation::targets::{SetTarget, TargetsAnswer, TargetsQuery};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Kept, Notice, Posted, choice, code, given, invalid};
use crate::error::WebError;
use crate::i18n::{Key, Lang};
use crate::layout::page;
use crate::session::Staff;
use crate::{PageForm, Web};

/// The page's query: whose targets, which year, and after a write.
#[derive(Deserialize, Default)]
pub struct TargetsPage {
    year: Option<String>,
    hospital: Option<String>,
    region: Option<String>,
    after: Option<String>,
    saved: Option<String>,
}

/// A year typed into a form or a query, else 422 naming `/year`.
fn year_of(s: Option<&str>) -> Result<Option<i64>, ApiError> {
    match s {
        None => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|_| ApiError::field("/year", "is not a year")),
    }
}

/// The scopes `role` may set targets for, widest first.
fn scopes(role: Role) -> &'static [ScopeKind] {
    match role {
        Role::Admin => &ScopeKind::ALL,
        Role::QcCentre => &[ScopeKind::Region, ScopeKind::Hospital],
        _ => &[ScopeKind::Hospital],
    }
}

/// The view's own page address, for links and the language switch.
fn here(answer: &TargetsAnswer) -> String {
    let mut to = format!("/staff/targets?year={}", answer.year);
    if let Some(h) = &answer.hospital {
        to.push_str(&format!("&hospital={h}"));
    } else if let Some(r) = &answer.region {
        to.push_str(&format!("&region={r}"));
    }
    to
}

fn direction(lang: Lang, d: Direction) -> &'static str {
    lang.target_direction(d)
}

/// The table of targets: one row per indicator.
fn table(answer: &TargetsAnswer, lang: Lang) -> Markup {
    html! {
        table id="targets" {
            thead { tr {
                th scope="col" { (lang.t(Key::TargetsIndicator)) }
                th scope="col" { (lang.t(Key::TargetsApplies)) }
                th scope="col" { (lang.t(Key::TargetsDirection)) }
                th scope="col" { (lang.t(Key::TargetsSetBy)) }
                th scope="col" { (lang.t(Key::TargetsHistory)) }
            } }
            tbody { @for i in &answer.indicators {
                tr id={ "t-" (i.indicator.as_str()) } {
                    th scope="row" { (lang.indicator(i.indicator)) br; span class="hint" { (lang.unit(i.indicator.unit())) } }
                    @match &i.applies {
                        Some(a) => {
                            td class="n" { (a.value.to_string()) }
                            td { (direction(lang, a.direction)) }
                            td {
                                @if a.built_in { (lang.t(Key::TargetsBuiltIn)) } @else {
                                    (lang.scope_kind(a.scope)) @if let Some(c) = &a.code { " " (c) }
                                }
                            }
                        }
                        None => { td colspan="3" { (lang.t(Key::TargetsNone)) } }
                    }
                    td {
                        @if i.history.is_empty() { "—" } @else {
                            ul { @for h in &i.history {
                                li class=[(!h.current).then_some("hint")] {
                                    (h.set_at.get(..10).unwrap_or(&h.set_at)) " · "
                                    (lang.scope_kind(h.scope)) @if let Some(c) = &h.code { " " (c) } " · "
                                    (h.value.to_string()) " · " (direction(lang, h.direction))
                                    @if !h.current { " (" (lang.t(Key::TargetsReplaced)) ")" }
                                }
                            } }
                        }
                    }
                }
            } }
        }
    }
}

/// The form to set a target, with what was typed if it was refused.
fn set_form(staff: &Staff, lang: Lang, answer: &TargetsAnswer, kept: &Kept) -> Markup {
    let p = &staff.principal;
    let v = |name: &str| kept.v("set", name);
    // The caller's own scope first: what a QC centre or an officer most
    // often sets; the administrator starts from the view's.
    let own_code = p
        .hospital()
        .map(str::to_owned)
        .or_else(|| p.region().map(str::to_owned))
        .or_else(|| answer.hospital.clone())
        .or_else(|| answer.region.clone())
        .unwrap_or_default();
    let code_value = if kept.form == "set" {
        v("code").to_owned()
    } else {
        own_code
    };
    let year_value = if kept.form == "set" {
        v("year").to_owned()
    } else {
        answer.year.to_string()
    };
    html! {
        h2 id="set" { (lang.t(Key::TargetsSetH)) }
        p class="hint" { (lang.t(Key::TargetsSetHint)) }
        form method="post" action="/staff/targets" {
            input type="hidden" name="csrf" value=(staff.csrf);
            label for="ts-indicator" { (lang.t(Key::TargetsIndicator)) }
            select id="ts-indicator" name="indicator" {
                @for i in Indicator::ALL {
                    option value=(i.as_str()) selected[v("indicator") == i.as_str()] {
                        (lang.indicator(i)) " (" (lang.unit(i.unit())) ")"
                    }
                }
            }
            label for="ts-scope" { (lang.t(Key::TargetsScope)) }
            select id="ts-scope" name="scope" {
                @for s in scopes(p.role()) {
                    option value=(s.as_str()) selected[v("scope") == s.as_str()] { (lang.scope_kind(*s)) }
                }
            }
            label for="ts-code" { (lang.t(Key::TargetsCode)) }
            input type="text" id="ts-code" name="code" size="16" maxlength="32" value=(code_value);
            label for="ts-year" { (lang.t(Key::TargetsYear)) }
            input type="number" id="ts-year" name="year" min="2000" max="2100" value=(year_value);
            label for="ts-value" { (lang.t(Key::TargetsValue)) }
            input type="text" id="ts-value" name="value" inputmode="decimal" size="8" value=(v("value"));
            label for="ts-direction" { (lang.t(Key::TargetsDirection)) }
            select id="ts-direction" name="direction" {
                option value="" { (lang.t(Key::TargetsDirectionNatural)) }
                @for d in Direction::ALL {
                    option value=(code(&d)) selected[v("direction") == d.as_str()] { (direction(lang, d)) }
                }
            }
            p { button type="submit" { (lang.t(Key::TargetsSubmit)) } }
        }
    }
}

async fn render(
    web: &Web,
    staff: &Staff,
    lang: Lang,
    q: TargetsPage,
    notice: Notice,
    kept: Kept,
) -> Result<Response, WebError> {
    let p = &staff.principal;
    let query = TargetsQuery {
        year: year_of(given(&q.year))?,
        hospital: given(&q.hospital).map(str::to_owned),
        region: given(&q.region).map(str::to_owned),
        after: given(&q.after).and_then(|s| s.parse().ok()),
    };
    let answer = web.intake.targets(p, &query).await?;
    let whose = match (&answer.hospital, &answer.region) {
        (Some(h), _) => format!("{} {h}", lang.t(Key::Hospital)),
        (None, Some(r)) => format!("{} {r}", lang.scope_kind(ScopeKind::Region)),
        (None, None) => lang.scope_kind(ScopeKind::National).to_owned(),
    };
    let body = html! {
        h1 { (lang.t(Key::TargetsH1)) " — " (whose) " · " (answer.year) }
        p class="hint" { (lang.t(Key::TargetsHint)) }
        form method="get" action="/staff/targets" class="filters" aria-label=(lang.t(Key::Filter)) {
            div { label for="tf-year" { (lang.t(Key::TargetsYear)) } input type="number" id="tf-year" name="year" min="2000" max="2100" value=(answer.year); }
            @if p.role() != Role::SafetyOfficer {
                div { label for="tf-hospital" { (lang.t(Key::Hospital)) } input type="text" id="tf-hospital" name="hospital" size="12" value=(answer.hospital.as_deref().unwrap_or("")); }
            }
            @if p.role() == Role::Admin {
                div { label for="tf-region" { (lang.t(Key::ScopeRegion)) } input type="text" id="tf-region" name="region" size="12" value=[answer.hospital.is_none().then_some(answer.region.as_deref()).flatten()]; }
            }
            div { button type="submit" { (lang.t(Key::DashShow)) } }
        }
        @if kept.form.is_empty() { (notice.show(lang)) }
        (table(&answer, lang))
        (kept.notice("set", &notice, lang))
        (set_form(staff, lang, &answer, &kept))
    };
    Ok(notice.answer(page(
        p,
        &staff.csrf,
        lang,
        &here(&answer),
        lang.t(Key::TargetsH1),
        body,
    )))
}

/// `GET /staff/targets`: the targets that apply to the session's hospital
/// or region (or another in its scope, or the country for the
/// administrator) in a year, and the form to set one.
pub async fn list(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Query(q): Query<TargetsPage>,
) -> Result<Response, WebError> {
    let notice = if q.saved.is_some() {
        Notice::Saved
    } else {
        Notice::None
    };
    render(&web, &staff, lang, q, notice, Kept::none()).await
}

/// `POST /staff/targets`: sets a target through the intake.
pub async fn set(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let posted = Posted::new(&web, &staff, lang, "set", pairs)?;
    let form = posted.fields();
    let result = async {
        let mut errors = Vec::new();
        let indicator: Option<Indicator> = choice(form.get("indicator"), "/indicator", &mut errors);
        let scope: Option<ScopeKind> = choice(form.get("scope"), "/scope", &mut errors);
        let direction: Option<Direction> = form
            .get("direction")
            .and_then(|d| choice(Some(d), "/direction", &mut errors));
        let year = match year_of(form.get("year")) {
            Ok(Some(y)) => Some(y),
            Ok(None) => {
                errors.push(FieldError::new("/year", "is required"));
                None
            }
            Err(ApiError::Invalid(mut e)) => {
                errors.append(&mut e);
                None
            }
            Err(e) => return Err(e),
        };
        // A decimal comma is what many keyboards type.
        let value = form.get("value").map(|v| v.replace(['，', ','], "."));
        let value = match value.as_deref().map(str::parse::<f64>) {
            Some(Ok(v)) => Some(v),
            Some(Err(_)) => {
                errors.push(FieldError::new("/value", "is not a number"));
                None
            }
            None => {
                errors.push(FieldError::new("/value", "is required"));
                None
            }
        };
        invalid(errors)?;
        let (Some(indicator), Some(scope), Some(year), Some(value)) =
            (indicator, scope, year, value)
        else {
            return Err(ApiError::field("/indicator", "is required"));
        };
        let body = SetTarget {
            indicator,
            scope,
            code: (scope != ScopeKind::National)
                .then(|| form.get("code").map(str::to_owned))
                .flatten(),
            year,
            value,
            direction,
        };
        web.intake.set_target(&staff.principal, body, None).await
    }
    .await;
    let to = result.map(|set| {
        let t = &set.target;
        let whose = match (t.scope, &t.code) {
            (ScopeKind::Hospital, Some(c)) => format!("&hospital={c}"),
            (ScopeKind::Region, Some(c)) => format!("&region={c}"),
            _ => String::new(),
        };
        format!(
            "/staff/targets?year={}{whose}&after={}&saved=1",
            t.year, set.seq
        )
    });
    let kept = posted.kept;
    super::outcome(to, |notice| {
        render(&web, &staff, lang, TargetsPage::default(), notice, kept)
    })
    .await
}
