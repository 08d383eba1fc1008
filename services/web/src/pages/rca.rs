//! Root-cause analyses (根本原因分析) for the hospital's safety officer: the
//! hospital's case files and what is overdue (serious reports without an
//! analysis past 72 hours, overdue cases, overdue actions), opening a case
//! from one or more reports, and the case page with every step.
//!
//! Reads are the rca service's own where one exists (scope, 404, the
//! officer's view of the case file); every write is the service's command
//! ([`lantern_rca::Rca`]), so validation, scrubbing, the decision and the
//! append are the API's. A 422 or 409 is shown on the page with the API's
//! field pointers.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use lantern_api::{ApiError, FieldError};
use lantern_directory::HospitalRecord;
use lantern_rca::api::commands::{
    AddFactor, AddTimeline, CloseRca, CompleteAction, ConfirmRootCauses, OpenRca, PlanAction,
};
use lantern_rca::api::reads::{ListQuery, Overdue, OverdueAction, RequiredQuery, StateFilter};
use lantern_rca::case::CaseState;
use lantern_rca::views::{CaseSummary, RequiredRow};
use lantern_rca::vocab::{Day, Fishbone, Strength};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::scope::{hospital_zone, own_hospital, staff_zone};
use super::{
    Fields, Kept, Notice, Posted, WrittenQuery, choice, code, given, invalid, local_display,
    local_time, roles, saved,
};
use crate::error::WebError;
use crate::i18n::{Key, Lang};
use crate::layout::page;
use crate::session::Staff;
use crate::{PageForm, Web};

/// The fishbone's bones, in the order they are drawn.
pub const FISHBONE: [Fishbone; 7] = [
    Fishbone::People,
    Fishbone::Equipment,
    Fishbone::Materials,
    Fishbone::Methods,
    Fishbone::Environment,
    Fishbone::Measurement,
    Fishbone::Management,
];

/// The RCA² strengths, strongest first.
pub const STRENGTHS: [Strength; 3] = [Strength::Stronger, Strength::Intermediate, Strength::Weaker];

fn case_id(s: &str) -> Result<Uuid, WebError> {
    s.parse()
        .map_err(|_| WebError::Api(ApiError::NotFound(format!("no case {s}"))))
}

fn day(value: Option<&str>, pointer: &str, errors: &mut Vec<FieldError>) -> Option<Day> {
    let parsed = value.and_then(Day::parse);
    if parsed.is_none() {
        errors.push(FieldError::new(pointer, "is not a date YYYY-MM-DD"));
    }
    parsed
}

/// The list's query: which cases.
#[derive(Deserialize, Default)]
pub struct ListPageQuery {
    state: Option<String>,
    after: Option<String>,
}

fn after_of(s: &Option<String>) -> Option<u64> {
    given(s).and_then(|s| s.parse().ok())
}

/// The officer's hospital and the rca service, or the refusal.
async fn officer(web: &Web, staff: &Staff) -> Result<HospitalRecord, WebError> {
    web.rca()?;
    own_hospital(web, staff).await
}

/// The form that opens a case: the reports to analyse (checked), title,
/// team roles, due date. `offered` are reports to choose from; `kept` the
/// values of a refused attempt.
pub fn open_form(staff: &Staff, lang: Lang, offered: &[(Uuid, String)], kept: &Fields) -> Markup {
    html! {
        form method="post" action="/staff/rca" id="open-rca" {
            input type="hidden" name="csrf" value=(staff.csrf);
            fieldset {
                legend { (lang.t(Key::RcaReports)) }
                @if offered.is_empty() { p { (lang.t(Key::RcaQueueEmpty)) } }
                @for (i, (id, label)) in offered.iter().enumerate() {
                    div {
                        input type="checkbox" id={ "o-r" (i) } name="report_ids" value=(id)
                            checked[kept.has("report_ids", &id.to_string())];
                        " "
                        label for={ "o-r" (i) } class="inline" { (label) }
                    }
                }
            }
            label for="o-title" { (lang.t(Key::RcaTitle)) }
            input type="text" id="o-title" name="title" maxlength="200" size="60" value=(kept.raw("title"));
            label for="o-team" { (lang.t(Key::RcaTeamRoles)) }
            p class="hint" id="o-team-hint" { (lang.t(Key::RcaTeamHint)) }
            textarea id="o-team" name="team_roles" rows="3" aria-describedby="o-team-hint" { (kept.raw("team_roles")) }
            label for="o-due" { (lang.t(Key::RcaDue)) }
            p class="hint" id="o-due-hint" { (lang.t(Key::RcaDueHint)) }
            input type="date" id="o-due" name="due" aria-describedby="o-due-hint" value=(kept.raw("due"));
            p { button type="submit" { (lang.t(Key::RcaOpenSubmit)) } }
        }
    }
}

fn summary_rows(lang: Lang, rows: &[CaseSummary]) -> Markup {
    html! {
        table {
            thead { tr {
                th scope="col" { (lang.t(Key::RcaTitle)) }
                th scope="col" { (lang.t(Key::State)) }
                th scope="col" { (lang.t(Key::RcaOpenedOn)) }
                th scope="col" { (lang.t(Key::RcaDue)) }
                th scope="col" { (lang.t(Key::RcaReports)) }
                th scope="col" { (lang.t(Key::RcaRootCauses)) }
                th scope="col" { (lang.t(Key::RcaActions)) }
            } }
            tbody {
                @for r in rows {
                    tr class=[r.overdue.then_some("overdue")] {
                        td { a href={ "/staff/rca/" (r.rca_id) } { (r.title) } }
                        td { (lang.case_state(r.state)) @if r.overdue { " — " strong { (lang.t(Key::CriticalOverdue)) } } }
                        td { (r.opened_at.format("%Y-%m-%d")) }
                        td { (r.due) }
                        td class="n" { (r.report_ids.len()) }
                        td class="n" { (r.root_causes) }
                        td class="n" { (r.actions_completed) " / " (r.actions)
                            @if r.actions_overdue > 0 { " (" (lang.t(Key::RcaActionsOverdue)) ": " strong { (r.actions_overdue) } ")" } }
                    }
                }
            }
        }
    }
}

async fn render_list(
    web: &Web,
    staff: &Staff,
    lang: Lang,
    q: &ListPageQuery,
    notice: Notice,
    kept: &Fields,
) -> Result<Response, WebError> {
    let hospital = officer(web, staff).await?;
    let rca = web.rca()?;
    let after = after_of(&q.after);
    let filter = match given(&q.state) {
        Some("open") => Some(StateFilter::Open),
        Some("overdue") => Some(StateFilter::Overdue),
        Some("closed") => Some(StateFilter::Closed),
        None => None,
        Some(_) => {
            return Err(ApiError::field("/state", "must be one of open, overdue, closed").into());
        }
    };
    let cases = rca
        .list(
            &staff.principal,
            &ListQuery {
                hospital: hospital.code.clone(),
                state: filter,
                after,
            },
        )
        .await?;
    let queue = rca
        .required(
            &staff.principal,
            &RequiredQuery {
                hospital: hospital.code.clone(),
                after: None,
            },
        )
        .await?;
    // Overdue cases and actions, across all the hospital's cases.
    let Overdue {
        cases: overdue_cases,
        actions: overdue_actions,
    } = rca.overdue(&staff.principal, &hospital.code).await?;
    let overdue_queue: Vec<&RequiredRow> = queue.rows.iter().filter(|r| r.overdue).collect();
    // Reports to open a case from: the queue, and any report a refused
    // attempt named (opened from a report page).
    let mut offered: Vec<(Uuid, String)> = queue
        .rows
        .iter()
        .map(|r| {
            (
                r.report_id,
                format!(
                    "{} · {} · {}{}",
                    r.filed_on,
                    lang.grade(r.grade),
                    r.reference,
                    if r.overdue {
                        format!(" — {}", lang.t(Key::CriticalOverdue))
                    } else {
                        String::new()
                    }
                ),
            )
        })
        .collect();
    for id in kept.all("report_ids") {
        if let Ok(u) = id.parse::<Uuid>()
            && !offered.iter().any(|(o, _)| *o == u)
        {
            offered.push((u, u.to_string()));
        }
    }
    let body = html! {
        h1 { (lang.t(Key::RcaH1)) " — " (hospital.name) }
        section aria-labelledby="h-overdue" {
            h2 id="h-overdue" { (lang.t(Key::RcaOverdueH)) }
            @if overdue_queue.is_empty() && overdue_cases.is_empty() && overdue_actions.is_empty() {
                p class="ok" { (lang.t(Key::RcaNothingOverdue)) }
            }
            @if !overdue_queue.is_empty() {
                h3 { (lang.t(Key::RcaQueueOverdue)) }
                ul { @for r in &overdue_queue {
                    li class="overdue" { a href={ "/staff/reports/" (r.report_id) } { (r.filed_on) " · " (lang.grade(r.grade)) } }
                } }
            }
            @if !overdue_cases.is_empty() {
                h3 { (lang.t(Key::RcaCasesOverdue)) }
                ul { @for c in &overdue_cases {
                    li class="overdue" { a href={ "/staff/rca/" (c.rca_id) } { (c.title) } " — " (lang.t(Key::RcaDue)) " " (c.due) }
                } }
            }
            @if !overdue_actions.is_empty() {
                h3 { (lang.t(Key::RcaActionsOverdue)) }
                ul { @for OverdueAction { rca_id, title, action: a } in &overdue_actions {
                    li class="overdue" { a href={ "/staff/rca/" (rca_id) "#actions" } { (title) } " — #" (a.action) " " (a.what) " (" (a.owner_role) ", " (lang.t(Key::RcaDue)) " " (a.due) ")" }
                } }
            }
        }
        section aria-labelledby="h-open" {
            h2 id="h-open" { (lang.t(Key::RcaOpenH)) }
            p class="hint" { (lang.t(Key::RcaQueueHint)) }
            (notice.show(lang))
            (open_form(staff, lang, &offered, kept))
        }
        section aria-labelledby="h-cases" {
            h2 id="h-cases" { (lang.t(Key::RcaCasesH)) }
            form method="get" action="/staff/rca" class="filters" aria-label=(lang.t(Key::Filter)) {
                div {
                    label for="f-state" { (lang.t(Key::State)) }
                    select id="f-state" name="state" {
                        option value="" { (lang.t(Key::Any)) }
                        @for (v, k) in [("open", Key::RcaStateOpen), ("overdue", Key::CriticalOverdue), ("closed", Key::RcaStateClosed)] {
                            option value=(v) selected[given(&q.state) == Some(v)] { (lang.t(k)) }
                        }
                    }
                }
                div { button type="submit" { (lang.t(Key::Filter)) } }
            }
            @if cases.rows.is_empty() { p { (lang.t(Key::RcaNoCases)) } } @else { (summary_rows(lang, &cases.rows)) }
        }
    };
    Ok(notice.answer(page(
        &staff.principal,
        &staff.csrf,
        lang,
        "/staff/rca",
        lang.t(Key::RcaH1),
        body,
    )))
}

/// `GET /staff/rca?state=`: overdue items, the queue with the form to open
/// a case, and the hospital's cases.
pub async fn list(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Query(q): Query<ListPageQuery>,
) -> Result<Response, WebError> {
    render_list(&web, &staff, lang, &q, Notice::None, &Fields::default()).await
}

/// `POST /staff/rca`: opens a case through [`lantern_rca::Rca::open_rca`].
pub async fn open(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = Fields(form);
    form.check_csrf(&staff)?;
    let hospital = officer(&web, &staff).await?;
    let rca = web.rca()?;
    let mut errors = Vec::new();
    let mut report_ids = Vec::new();
    for (i, id) in form.all("report_ids").iter().enumerate() {
        match id.parse::<Uuid>() {
            Ok(u) => report_ids.push(u),
            Err(_) => errors.push(FieldError::new(
                format!("/report_ids/{i}"),
                "is not a report id",
            )),
        }
    }
    let due = form.get("due").map(|d| day(Some(d), "/due", &mut errors));
    let result = match invalid(errors) {
        Err(e) => Err(e),
        Ok(()) => {
            let body = OpenRca {
                hospital: hospital.code.clone(),
                report_ids,
                title: form.raw("title").to_owned(),
                team_roles: roles(form.raw("team_roles")),
                due: due.flatten(),
            };
            rca.open_rca(&staff.principal, body, None)
                .await
                .map(|o| (o.rca_id, o.seq))
        }
    };
    let to = result.map(|(id, seq)| saved(&format!("/staff/rca/{id}"), seq, ""));
    let q = ListPageQuery::default();
    super::outcome(to, |notice| {
        render_list(&web, &staff, lang, &q, notice, &form)
    })
    .await
}

async fn render_case(
    web: &Web,
    staff: &Staff,
    lang: Lang,
    id: Uuid,
    after: Option<u64>,
    notice: Notice,
    kept: Kept,
) -> Result<Response, WebError> {
    let rca = web.rca()?;
    // The service's own read: role, scope (403 for another hospital's
    // case), 404, and the officer's view with every narrative.
    let c = rca.case_file(&staff.principal, id, after).await?;
    let tz = hospital_zone(web, &c.hospital).await?;
    let open = c.state == CaseState::Open;
    let path = format!("/staff/rca/{id}");
    let saved = matches!(notice, Notice::Saved);
    // A refusal is shown next to its form, or at the top when that form
    // is no longer on the page (the case closed meanwhile, say).
    let form_shown = match kept.form {
        "" => false,
        "complete" => true,
        "root_causes" => open && !c.factors.is_empty(),
        _ => open,
    };
    let body = html! {
        p { a href="/staff/rca" { "← " (lang.t(Key::Back)) } }
        h1 { (lang.t(Key::RcaCaseH1)) ": " (c.title) }
        @if saved { (notice.show(lang)) }
        @if !form_shown && !saved { (notice.show(lang)) }
        table {
            tr { th scope="row" { (lang.t(Key::State)) } td id="case-state" { (lang.case_state(c.state))
                @if c.overdue { " — " strong { (lang.t(Key::CriticalOverdue)) } } } }
            tr { th scope="row" { (lang.t(Key::RcaOpenedOn)) } td { (c.opened_at.format("%Y-%m-%d")) } }
            tr { th scope="row" { (lang.t(Key::RcaDue)) } td { (c.due) } }
            @if let Some(d) = c.closed_on { tr { th scope="row" { (lang.t(Key::RcaClosedOn)) } td { (d) } } }
            tr { th scope="row" { (lang.t(Key::RcaTeamRoles)) } td { (c.team_roles.join("、")) } }
        }
        h2 { (lang.t(Key::RcaReports)) }
        ul {
            @for r in &c.reports {
                li {
                    a href={ "/staff/reports/" (r.report_id) } { (lang.grade(r.grade)) " · " (lang.category(r.category)) " · " (r.department) }
                    @if let Some(d) = &r.description { p class="desc" { (d) } }
                }
            }
        }

        h2 id="timeline" { (lang.t(Key::RcaTimeline)) }
        @if c.timeline.is_empty() { p { (lang.t(Key::RcaNoneYet)) } } @else {
            ol { @for t in &c.timeline { li { time datetime=(t.at.to_rfc3339()) { (local_display(t.at, &tz)) } " — " (t.text.as_deref().unwrap_or("")) } } }
        }
        @if open {
            (kept.notice("timeline", &notice, lang))
            form method="post" action={ (path) "/timeline" } {
                input type="hidden" name="csrf" value=(staff.csrf);
                label for="tl-at" { (lang.t(Key::RcaAt)) }
                input type="datetime-local" id="tl-at" name="at" value=(kept.v("timeline", "at"));
                label for="tl-text" { (lang.t(Key::RcaWhatHappened)) }
                textarea id="tl-text" name="text" rows="2" maxlength="4000" { (kept.v("timeline", "text")) }
                p { button type="submit" { (lang.t(Key::RcaAddTimeline)) } }
            }
        }

        h2 id="factors" { (lang.t(Key::RcaFactors)) }
        p class="hint" { (lang.t(Key::RcaFactorsHint)) }
        @if c.factors.is_empty() { p { (lang.t(Key::RcaNoneYet)) } }
        @for bone in FISHBONE {
            @let on_bone: Vec<_> = c.factors.iter().filter(|f| f.category == bone).collect();
            @if !on_bone.is_empty() {
                h3 { (lang.fishbone(bone)) }
                ul { @for f in on_bone {
                    li id={ "factor-" (f.factor) } {
                        "#" (f.factor) " " (f.statement)
                        @if c.root_causes.contains(&f.factor) { " — " strong { (lang.t(Key::RcaRootCause)) } }
                        @if let Some(whys) = &f.whys { @if !whys.is_empty() {
                            ol class="hint" aria-label=(lang.t(Key::RcaWhys)) { @for w in whys { li { (w) } } }
                        } }
                    }
                } }
            }
        }
        @if open {
            (kept.notice("factor", &notice, lang))
            form method="post" action={ (path) "/factors" } id="add-factor" {
                input type="hidden" name="csrf" value=(staff.csrf);
                label for="fa-category" { (lang.t(Key::RcaCategory)) }
                select id="fa-category" name="category" {
                    @for bone in FISHBONE {
                        option value=(code(&bone)) selected[kept.v("factor", "category") == code(&bone)] { (lang.fishbone(bone)) }
                    }
                }
                label for="fa-statement" { (lang.t(Key::RcaStatement)) }
                textarea id="fa-statement" name="statement" rows="2" maxlength="2000" { (kept.v("factor", "statement")) }
                label for="fa-whys" { (lang.t(Key::RcaWhys)) }
                p class="hint" id="fa-whys-hint" { (lang.t(Key::RcaWhysHint)) }
                textarea id="fa-whys" name="whys" rows="3" aria-describedby="fa-whys-hint" { (kept.v("factor", "whys")) }
                p { button type="submit" { (lang.t(Key::RcaAddFactor)) } }
            }
        }

        h2 id="root-causes" { (lang.t(Key::RcaRootCauses)) }
        @if c.root_causes.is_empty() { p { (lang.t(Key::RcaNoneYet)) } } @else {
            ul { @for n in &c.root_causes {
                li { "#" (n) " " (c.factors.iter().find(|f| f.factor == *n).map_or("", |f| f.statement.as_str())) }
            } }
        }
        @if open && !c.factors.is_empty() {
            (kept.notice("root_causes", &notice, lang))
            form method="post" action={ (path) "/root-causes" } {
                input type="hidden" name="csrf" value=(staff.csrf);
                fieldset {
                    legend { (lang.t(Key::RcaConfirmHint)) }
                    @for f in &c.factors {
                        div {
                            input type="checkbox" id={ "rc-" (f.factor) } name="factors" value=(f.factor)
                                checked[c.root_causes.contains(&f.factor)];
                            " "
                            label for={ "rc-" (f.factor) } class="inline" { "#" (f.factor) " " (f.statement) }
                        }
                    }
                }
                p { button type="submit" { (lang.t(Key::RcaConfirmRootCauses)) } }
            }
        }

        h2 id="actions" { (lang.t(Key::RcaActions)) }
        // A refused completion shows here: the action it named may no
        // longer have a form (completed meanwhile).
        (kept.notice("complete", &notice, lang))
        @if c.actions.is_empty() { p { (lang.t(Key::RcaNoneYet)) } } @else {
            table {
                thead { tr {
                    th scope="col" { "#" }
                    th scope="col" { (lang.t(Key::RcaWhat)) }
                    th scope="col" { (lang.t(Key::RcaStrength)) }
                    th scope="col" { (lang.t(Key::RcaOwnerRole)) }
                    th scope="col" { (lang.t(Key::RcaDue)) }
                    th scope="col" { (lang.t(Key::RcaMeasure)) }
                    th scope="col" { (lang.t(Key::RcaCompleted)) }
                } }
                tbody { @for a in &c.actions {
                    tr class=[a.overdue.then_some("overdue")] {
                        td { (a.action) }
                        td { (a.what) }
                        td { (lang.strength(a.strength)) }
                        td { (a.owner_role) }
                        td { (a.due) @if a.overdue { " " strong { (lang.t(Key::CriticalOverdue)) } } }
                        td { (a.measure) }
                        td {
                            @if let Some(at) = a.completed_at {
                                (local_display(at, &tz))
                                @if let Some(Some(e)) = &a.evidence { br; (lang.t(Key::RcaEvidence)) ": " (e) }
                                @if let Some(e) = &a.effect { br; (lang.t(Key::RcaEffect)) ": " (e) }
                            } @else { "—" }
                        }
                    }
                } }
            }
        }
        @if open {
            @let pending: Vec<_> = c.actions.iter().filter(|a| a.completed_at.is_none()).collect();
            @if !pending.is_empty() {
                h3 { (lang.t(Key::RcaCompleteH)) }
                @for a in pending {
                    form method="post" action={ (path) "/actions/" (a.action) "/complete" } aria-label={ (lang.t(Key::RcaCompleteH)) " #" (a.action) } {
                        input type="hidden" name="csrf" value=(staff.csrf);
                        p { strong { "#" (a.action) " " (a.what) } }
                        label for={ "co-at-" (a.action) } { (lang.t(Key::RcaCompletedAt)) }
                        input type="datetime-local" id={ "co-at-" (a.action) } name="completed_at" value=(kept.v("complete", "completed_at"));
                        label for={ "co-ev-" (a.action) } { (lang.t(Key::RcaEvidence)) }
                        textarea id={ "co-ev-" (a.action) } name="evidence" rows="2" maxlength="2000" {}
                        label for={ "co-ef-" (a.action) } { (lang.t(Key::RcaEffect)) }
                        textarea id={ "co-ef-" (a.action) } name="effect" rows="2" maxlength="2000" {}
                        p { button type="submit" { (lang.t(Key::RcaCompleteSubmit)) } }
                    }
                }
            }
            h3 { (lang.t(Key::RcaPlanH)) }
            (kept.notice("action", &notice, lang))
            form method="post" action={ (path) "/actions" } id="plan-action" {
                input type="hidden" name="csrf" value=(staff.csrf);
                label for="ac-what" { (lang.t(Key::RcaWhat)) }
                textarea id="ac-what" name="what" rows="2" maxlength="2000" { (kept.v("action", "what")) }
                label for="ac-strength" { (lang.t(Key::RcaStrength)) }
                p class="hint" id="ac-strength-hint" { (lang.t(Key::RcaStrengthHint)) }
                select id="ac-strength" name="strength" aria-describedby="ac-strength-hint" {
                    @for s in STRENGTHS {
                        option value=(code(&s)) selected[kept.v("action", "strength") == code(&s)] { (lang.strength(s)) }
                    }
                }
                label for="ac-owner" { (lang.t(Key::RcaOwnerRole)) }
                input type="text" id="ac-owner" name="owner_role" maxlength="100" value=(kept.v("action", "owner_role"));
                label for="ac-due" { (lang.t(Key::RcaDue)) }
                input type="date" id="ac-due" name="due" value=(kept.v("action", "due"));
                label for="ac-measure" { (lang.t(Key::RcaMeasure)) }
                textarea id="ac-measure" name="measure" rows="2" maxlength="2000" { (kept.v("action", "measure")) }
                p { button type="submit" { (lang.t(Key::RcaPlanSubmit)) } }
            }

            h2 id="close" { (lang.t(Key::RcaCloseH)) }
            p class="hint" { (lang.t(Key::RcaCloseHint)) }
            (kept.notice("close", &notice, lang))
            form method="post" action={ (path) "/close" } {
                input type="hidden" name="csrf" value=(staff.csrf);
                label for="cl-lessons" { (lang.t(Key::RcaLessons)) }
                textarea id="cl-lessons" name="lessons" rows="3" maxlength="4000" { (kept.v("close", "lessons")) }
                label for="cl-reason" { (lang.t(Key::RcaReasonNoAction)) }
                textarea id="cl-reason" name="reason_no_action" rows="2" maxlength="2000" { (kept.v("close", "reason_no_action")) }
                p { button type="submit" { (lang.t(Key::RcaCloseSubmit)) } }
            }
        } @else {
            h2 { (lang.t(Key::RcaLessons)) }
            p class="desc" id="lessons" { (c.lessons.as_deref().unwrap_or("")) }
            @if let Some(r) = &c.reason_no_action { p { (lang.t(Key::RcaReasonNoAction)) ": " (r) } }
        }
    };
    Ok(notice.answer(page(
        &staff.principal,
        &staff.csrf,
        lang,
        &path,
        lang.t(Key::RcaCaseH1),
        body,
    )))
}

/// `GET /staff/rca/{id}`: the case file and its forms.
pub async fn case(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    Query(q): Query<WrittenQuery>,
) -> Result<Response, WebError> {
    let id = case_id(&id)?;
    render_case(&web, &staff, lang, id, q.after(), q.notice(), Kept::none()).await
}

/// The common start of every step: the form (CSRF checked), the case id,
/// the service.
fn start<'a>(
    web: &'a Web,
    staff: &'a Staff,
    lang: Lang,
    id: &str,
    form: &'static str,
    pairs: Vec<(String, String)>,
) -> Result<(Posted<'a>, &'a lantern_rca::Rca, Uuid), WebError> {
    let step = Posted::new(web, staff, lang, form, pairs)?;
    let case = case_id(id)?;
    Ok((step, web.rca()?, case))
}

/// After a step: to the case page at `anchor` (waiting for the write), or
/// the case page with the refusal next to the form it came from.
async fn outcome(
    step: Posted<'_>,
    case: Uuid,
    anchor: &str,
    result: Result<u64, ApiError>,
) -> Result<Response, WebError> {
    let page = format!("/staff/rca/{case}");
    step.outcome(result, &page, anchor, |s, notice| {
        render_case(s.web, s.staff, s.lang, case, None, notice, s.kept)
    })
    .await
}

/// `POST /staff/rca/{id}/timeline`, through [`lantern_rca::Rca::add_timeline`].
pub async fn timeline(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (step, rca, case) = start(&web, &staff, lang, &id, "timeline", form)?;
    let tz = staff_zone(&web, &staff).await;
    let form = step.fields();
    let result = async {
        let mut errors = Vec::new();
        let at = local_time(form.get("at"), &tz, "/at", &mut errors);
        invalid(errors)?;
        let Some(at) = at else {
            return Err(ApiError::field("/at", "is required"));
        };
        let body = AddTimeline {
            at,
            text: form.raw("text").to_owned(),
        };
        rca.add_timeline(&staff.principal, case, body, None)
            .await
            .map(|a| a.seq)
    }
    .await;
    outcome(step, case, "timeline", result).await
}

/// `POST /staff/rca/{id}/factors`, through [`lantern_rca::Rca::add_factor`].
pub async fn factor(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (step, rca, case) = start(&web, &staff, lang, &id, "factor", form)?;
    let form = step.fields();
    let result = async {
        let mut errors = Vec::new();
        let category: Option<Fishbone> = choice(form.get("category"), "/category", &mut errors);
        invalid(errors)?;
        let Some(category) = category else {
            return Err(ApiError::field("/category", "is required"));
        };
        let whys = form.lines("whys");
        let body = AddFactor {
            category,
            statement: form.raw("statement").to_owned(),
            whys: (!whys.is_empty()).then_some(whys),
        };
        rca.add_factor(&staff.principal, case, body, None)
            .await
            .map(|f| f.seq)
    }
    .await;
    outcome(step, case, "factors", result).await
}

/// `POST /staff/rca/{id}/root-causes`, through
/// [`lantern_rca::Rca::confirm_root_causes`].
pub async fn root_causes(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (step, rca, case) = start(&web, &staff, lang, &id, "root_causes", form)?;
    let form = step.fields();
    let result = async {
        let mut errors = Vec::new();
        let mut factors = Vec::new();
        for (i, n) in form.all("factors").iter().enumerate() {
            match n.parse::<u32>() {
                Ok(n) => factors.push(n),
                Err(_) => errors.push(FieldError::new(
                    format!("/factors/{i}"),
                    "is not a factor number",
                )),
            }
        }
        invalid(errors)?;
        let body = ConfirmRootCauses { factors };
        rca.confirm_root_causes(&staff.principal, case, body, None)
            .await
            .map(|a| a.seq)
    }
    .await;
    outcome(step, case, "root-causes", result).await
}

/// `POST /staff/rca/{id}/actions`, through [`lantern_rca::Rca::plan_action`].
pub async fn action(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (step, rca, case) = start(&web, &staff, lang, &id, "action", form)?;
    let form = step.fields();
    let result = async {
        let mut errors = Vec::new();
        let strength: Option<Strength> = choice(form.get("strength"), "/strength", &mut errors);
        let due = day(form.get("due"), "/due", &mut errors);
        invalid(errors)?;
        let (Some(strength), Some(due)) = (strength, due) else {
            return Err(ApiError::field("/due", "is required"));
        };
        let body = PlanAction {
            what: form.raw("what").to_owned(),
            owner_role: form.raw("owner_role").to_owned(),
            due,
            strength,
            measure: form.raw("measure").to_owned(),
        };
        rca.plan_action(&staff.principal, case, body, None)
            .await
            .map(|a| a.seq)
    }
    .await;
    outcome(step, case, "actions", result).await
}

/// `POST /staff/rca/{id}/actions/{n}/complete`, through
/// [`lantern_rca::Rca::complete_action`].
pub async fn complete(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path((id, n)): Path<(String, String)>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (step, rca, case) = start(&web, &staff, lang, &id, "complete", form)?;
    let tz = staff_zone(&web, &staff).await;
    let form = step.fields();
    let result = async {
        let mut errors = Vec::new();
        let at = local_time(form.get("completed_at"), &tz, "/completed_at", &mut errors);
        invalid(errors)?;
        let Some(completed_at) = at else {
            return Err(ApiError::field("/completed_at", "is required"));
        };
        let body = CompleteAction {
            completed_at,
            evidence: form.raw("evidence").to_owned(),
            effect: form.get("effect").map(str::to_owned),
        };
        rca.complete_action(&staff.principal, case, &n, body, None)
            .await
            .map(|a| a.seq)
    }
    .await;
    outcome(step, case, "actions", result).await
}

/// `POST /staff/rca/{id}/close`, through [`lantern_rca::Rca::close_rca`].
pub async fn close(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (step, rca, case) = start(&web, &staff, lang, &id, "close", form)?;
    let body = CloseRca {
        lessons: step.fields().raw("lessons").to_owned(),
        reason_no_action: step.fields().get("reason_no_action").map(str::to_owned),
    };
    let result = rca
        .close_rca(&staff.principal, case, body, None)
        .await
        .map(|a| a.seq);
    outcome(step, case, "close", result).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_roles_split_on_lines_and_commas() {
        assert_eq!(
            roles("护士长\n药师, 医务处，质控科、 科主任\n\n"),
            ["护士长", "药师", "医务处", "质控科", "科主任"]
        );
    }

    #[test]
    fn vocabulary_codes_are_the_api_names() {
        assert_eq!(code(&Fishbone::Environment), "environment");
        assert_eq!(code(&Strength::Stronger), "stronger");
    }
}
