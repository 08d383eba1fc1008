//! The safety officer's report inbox and report page. Reads come from the
//! intake's reports read model; triage and feedback call the API's own
//! handlers, so validation, scope, scrubbing and the append are the API's.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::Utc;
use lantern_api::ApiError;
use lantern_api::path::ValidPath;
use lantern_api::query::{After, ValidQuery};
use lantern_directory::HospitalRecord;
use lantern_domain::Month;
use lantern_domain::vocab::{Category, Grade, Role};
use lantern_intake::api::reports::{
    TextBody, TriageReport, get_report, post_feedback, triage_report,
};
use lantern_intake::reports::{Report, ReportRecord, Status};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::{Fields, Notice, WrittenQuery, command, filter_param, given, month_param, saved};
use crate::error::WebError;
use crate::i18n::Lang;
use crate::layout::page;
use crate::session::Staff;
use crate::{PageForm, Web};

/// The officer's own hospital, with role and scope checked as the API does.
pub async fn own_hospital(web: &Web, staff: &Staff) -> Result<HospitalRecord, WebError> {
    let p = &staff.principal;
    p.require(&[Role::SafetyOfficer])?;
    let code = p.hospital.as_deref().unwrap_or_default();
    let hospital = web
        .intake
        .directory
        .hospital(code)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no hospital {code}")))?;
    p.require_in(&[Role::SafetyOfficer], &hospital)?;
    Ok(hospital)
}

/// This month in `tz` (months are counted in the hospital's time zone).
pub fn this_month(tz: &str) -> Month {
    let tz = lantern_domain::zone::zone(Some(tz));
    Month::of(Utc::now().with_timezone(&tz).date_naive())
}

/// `from`/`to` from the query, defaulting to the last 12 months.
pub fn period(
    from: &Option<String>,
    to: &Option<String>,
    tz: &str,
) -> Result<(Month, Month), WebError> {
    let to = month_param("/to", to)?.unwrap_or_else(|| this_month(tz));
    let from = month_param("/from", from)?.unwrap_or_else(|| (0..11).fold(to, |m, _| m.prev()));
    if from > to {
        // As the API says it: a period the other way round is a mistake,
        // not something to guess at.
        return Err(ApiError::field("/to", "is before from").into());
    }
    Ok((from, to))
}

fn status_key(s: Status) -> &'static str {
    match s {
        Status::Received => "status.received",
        Status::Triaged => "status.triaged",
        Status::UnderAnalysis => "status.under_analysis",
        Status::Closed => "status.closed",
    }
}

fn status_code(s: Status) -> &'static str {
    &status_key(s)["status.".len()..]
}

fn grade_label(lang: Lang, g: Grade) -> &'static str {
    lang.t(&format!("grade.{}", g.as_str()))
}

fn cat_label(lang: Lang, c: Category) -> &'static str {
    lang.t(&format!("cat.{}", c.as_str()))
}

/// The inbox filters.
#[derive(Deserialize, Default)]
pub struct InboxQuery {
    from: Option<String>,
    to: Option<String>,
    grade: Option<String>,
    category: Option<String>,
    department: Option<String>,
    state: Option<String>,
}

const SHOWN: usize = 200;

fn select(
    name: &str,
    label: &str,
    lang: Lang,
    current: Option<&str>,
    options: &[(String, String)],
) -> Markup {
    html! {
        div {
            label for={ "f-" (name) } { (label) }
            select id={ "f-" (name) } name=(name) {
                option value="" { (lang.t("any")) }
                @for (value, text) in options {
                    option value=(value) selected[current == Some(value.as_str())] { (text) }
                }
            }
        }
    }
}

/// `GET /staff/reports`: the own hospital's reports, filtered.
pub async fn inbox(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Query(q): Query<InboxQuery>,
) -> Result<Response, WebError> {
    let hospital = own_hospital(&web, &staff).await?;
    let (from, to) = period(&q.from, &q.to, &hospital.timezone)?;
    let all = web
        .intake
        .reports
        .records(&hospital.code, &from.to_string(), &to.to_string())?;
    let grade: Option<Grade> = filter_param("/grade", &q.grade)?;
    let category: Option<Category> = filter_param("/category", &q.category)?;
    let state: Option<Status> = filter_param("/state", &q.state)?;
    let department = given(&q.department);
    if let Some(d) = department
        && !hospital.departments.contains_key(d)
    {
        return Err(ApiError::field("/department", "is not a department of this hospital").into());
    }
    let rows: Vec<&ReportRecord> = all
        .iter()
        .filter(|r| grade.is_none_or(|g| r.current_grade() == g))
        .filter(|r| category.is_none_or(|c| r.current_category() == c))
        .filter(|r| department.is_none_or(|d| r.department == d))
        .filter(|r| state.is_none_or(|s| r.status == s))
        .collect();
    // Descriptions are read from the stream: only for the rows shown.
    let shown = web
        .intake
        .reports
        .describe(rows.iter().take(SHOWN).map(|r| (*r).clone()).collect())
        .await?;
    let grades: Vec<_> = Grade::ALL
        .iter()
        .map(|g| (g.as_str().to_owned(), grade_label(lang, *g).to_owned()))
        .collect();
    let cats: Vec<_> = Category::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), cat_label(lang, *c).to_owned()))
        .collect();
    let depts: Vec<_> = hospital
        .departments
        .iter()
        .map(|(code, name)| (code.clone(), format!("{name} ({code})")))
        .collect();
    let states: Vec<_> = [
        Status::Received,
        Status::Triaged,
        Status::UnderAnalysis,
        Status::Closed,
    ]
    .iter()
    .map(|s| {
        (
            status_code(*s).to_owned(),
            lang.t(status_key(*s)).to_owned(),
        )
    })
    .collect();
    let body = html! {
        h1 { (lang.t("reports.h1")) " — " (hospital.name) }
        form method="get" action="/staff/reports" class="filters" aria-label=(lang.t("filter")) {
            div { label for="f-from" { (lang.t("from")) } input type="month" id="f-from" name="from" value=(from.to_string()); }
            div { label for="f-to" { (lang.t("to")) } input type="month" id="f-to" name="to" value=(to.to_string()); }
            (select("grade", lang.t("grade"), lang, grade.map(Grade::as_str), &grades))
            (select("category", lang.t("category"), lang, category.map(Category::as_str), &cats))
            (select("department", lang.t("department"), lang, department, &depts))
            (select("state", lang.t("state"), lang, state.map(status_code), &states))
            div { button type="submit" { (lang.t("filter")) } }
        }
        p { (rows.len().min(SHOWN)) " / " (rows.len()) " " (lang.t("count")) }
        @if rows.is_empty() {
            p { (lang.t("none_found")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { (lang.t("filed_on")) }
                    th scope="col" { (lang.t("grade")) }
                    th scope="col" { (lang.t("category")) }
                    th scope="col" { (lang.t("department")) }
                    th scope="col" { (lang.t("state")) }
                    th scope="col" { (lang.t("description")) }
                } }
                tbody {
                    @for Report { record: r, description } in &shown {
                        tr {
                            td { a href={ "/staff/reports/" (r.report_id) } { (r.filed_on) } }
                            td { (r.current_grade().as_str()) }
                            td { (cat_label(lang, r.current_category())) }
                            td { (r.department) }
                            td { (lang.t(status_key(r.status))) }
                            td { (description.chars().take(80).collect::<String>()) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        &staff,
        lang,
        "/staff/reports",
        lang.t("reports.h1"),
        body,
    ))
}

fn report_id(s: &str) -> Result<Uuid, WebError> {
    s.parse()
        .map_err(|_| WebError::Api(ApiError::NotFound(format!("no report {s}"))))
}

async fn render(
    web: &Web,
    staff: &Staff,
    lang: Lang,
    id: Uuid,
    after: Option<u64>,
    notice: Notice,
) -> Result<Response, WebError> {
    // The API's own read: role, scope (403 for another hospital's report)
    // and 404 are decided there.
    let Json(Report {
        record: r,
        description,
    }) = get_report(
        State(web.intake.clone()),
        staff.principal.clone(),
        ValidPath(id),
        ValidQuery(After { after }),
    )
    .await?;
    let preselected = Fields(vec![("report_ids".to_owned(), id.to_string())]);
    let this_report = [(
        id,
        format!("{} · {}", r.filed_on, grade_label(lang, r.current_grade())),
    )];
    let current_grade = r.current_grade();
    let current_cat = r.current_category();
    let body = html! {
        p { a href="/staff/reports" { "← " (lang.t("back")) } }
        h1 { (lang.t("report.h1")) }
        (notice.show(lang))
        table {
            tr { th scope="row" { (lang.t("state")) } td { (lang.t(status_key(r.status))) } }
            tr { th scope="row" { (lang.t("filed_on")) } td { (r.filed_on) } }
            tr { th scope="row" { (lang.t("occurred_at")) } td { (r.occurred_at.format("%Y-%m-%d %H:%M %:z")) } }
            tr { th scope="row" { (lang.t("department")) } td { (r.department) } }
            tr { th scope="row" { (lang.t("report.as_filed")) } td { (grade_label(lang, r.grade)) " · " (cat_label(lang, r.category)) " · " (lang.t("harm")) ": " (lang.t(&format!("harm.{}", serde_json::to_value(r.harm).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()))) } }
            @if let Some(t) = &r.triage {
                tr { th scope="row" { (lang.t("report.triaged_as")) } td { (grade_label(lang, t.grade)) " · " (cat_label(lang, t.category)) " (" (t.on) ")" @if let Some(n) = &t.note { " — " (n) } } }
            }
            @if let Some(l) = &r.location { tr { th scope="row" { (lang.t("location")) } td { (l) } } }
        }
        h2 { (lang.t("description")) }
        p class="desc" { (description) }
        @if let Some(a) = &r.immediate_actions {
            h2 { (lang.t("immediate_actions")) }
            p class="desc" { (a) }
        }
        @if !r.follow_ups.is_empty() {
            h2 { (lang.t("report.follow_ups")) }
            ul { @for f in &r.follow_ups { li { (f.added_on) ": " (f.text) } } }
        }
        h2 id="triage" { (lang.t("report.triage")) }
        form method="post" action={ "/staff/reports/" (id) "/triage" } {
            input type="hidden" name="csrf" value=(staff.csrf);
            label for="t-grade" { (lang.t("grade")) }
            select id="t-grade" name="grade" {
                @for g in Grade::ALL { option value=(g.as_str()) selected[g == current_grade] { (grade_label(lang, g)) } }
            }
            label for="t-category" { (lang.t("category")) }
            select id="t-category" name="category" {
                @for c in Category::ALL { option value=(c.as_str()) selected[*c == current_cat] { (cat_label(lang, *c)) } }
            }
            label for="t-dup" { (lang.t("report.duplicate_of")) }
            input type="text" id="t-dup" name="duplicate_of" size="40";
            label for="t-note" { (lang.t("report.note")) }
            textarea id="t-note" name="note" rows="3" maxlength="2000" {}
            p { button type="submit" { (lang.t("report.triage_submit")) } }
        }
        @if web.rca.is_some() {
            h2 id="rca" { (lang.t("rca.h1")) }
            @if !r.rcas_open.is_empty() || !r.rcas_closed.is_empty() {
                ul { @for c in r.rcas_open.iter().chain(&r.rcas_closed) {
                    li { a href={ "/staff/rca/" (c) } { (lang.t("rca.case_h1")) " " (lantern_domain::ids::short_ref(*c)) } }
                } }
            }
            details id="rca-open" open[r.rcas_open.is_empty() && matches!(current_grade, Grade::I | Grade::II)] {
                summary { (lang.t("rca.open_h")) }
                (crate::pages::rca::open_form(staff, lang, &this_report, &preselected))
            }
        }
        h2 id="feedback" { (lang.t("report.feedback")) }
        @if !r.feedback.is_empty() {
            ul { @for f in &r.feedback { li { (f.posted_on) ": " (f.text) } } }
        }
        form method="post" action={ "/staff/reports/" (id) "/feedback" } {
            input type="hidden" name="csrf" value=(staff.csrf);
            label for="fb-text" { (lang.t("report.feedback")) }
            p class="hint" id="fb-hint" { (lang.t("report.feedback_hint")) }
            textarea id="fb-text" name="text" rows="4" maxlength="4000" aria-describedby="fb-hint" {}
            p { button type="submit" { (lang.t("report.feedback_submit")) } }
        }
    };
    Ok(notice.answer(page(
        staff,
        lang,
        &format!("/staff/reports/{id}"),
        lang.t("report.h1"),
        body,
    )))
}

/// `GET /staff/reports/{id}`: the report, its triage and feedback forms.
pub async fn report(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    Query(q): Query<WrittenQuery>,
) -> Result<Response, WebError> {
    let id = report_id(&id)?;
    render(&web, &staff, lang, id, q.after(), q.notice()).await
}

/// After a write: to the report page (waiting for the write), or the
/// report page with the refusal.
async fn outcome(
    web: &Web,
    staff: &Staff,
    lang: Lang,
    id: Uuid,
    result: Result<u64, ApiError>,
) -> Result<Response, WebError> {
    let to = result.map(|seq| saved(&format!("/staff/reports/{id}"), seq, ""));
    super::outcome(to, |notice| render(web, staff, lang, id, None, notice)).await
}

/// The triage form.
#[derive(Deserialize)]
pub struct TriageForm {
    #[serde(default)]
    csrf: String,
    grade: Grade,
    category: Category,
    duplicate_of: Option<String>,
    note: Option<String>,
}

/// `POST /staff/reports/{id}/triage`, through the API's `triage_report`.
pub async fn triage(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    PageForm(form): PageForm<TriageForm>,
) -> Result<Response, WebError> {
    staff.check_csrf(&form.csrf)?;
    let id = report_id(&id)?;
    let duplicate_of = match given(&form.duplicate_of) {
        None => None,
        Some(s) => match s.parse::<Uuid>() {
            Ok(u) => Some(u),
            Err(_) => {
                let e = ApiError::field("/duplicate_of", "is not a report id");
                return outcome(&web, &staff, lang, id, Err(e)).await;
            }
        },
    };
    let body = TriageReport {
        grade: form.grade,
        category: form.category,
        duplicate_of,
        note: given(&form.note).map(str::to_owned),
    };
    let result = command(triage_report, &web.intake, &staff, id, body).await;
    outcome(&web, &staff, lang, id, result).await
}

/// The feedback form.
#[derive(Deserialize)]
pub struct FeedbackForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

/// `POST /staff/reports/{id}/feedback`, through the API's `post_feedback`.
pub async fn feedback(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    PageForm(form): PageForm<FeedbackForm>,
) -> Result<Response, WebError> {
    staff.check_csrf(&form.csrf)?;
    let id = report_id(&id)?;
    let body = TextBody { text: form.text };
    let result = command(post_feedback, &web.intake, &staff, id, body).await;
    outcome(&web, &staff, lang, id, result).await
}
