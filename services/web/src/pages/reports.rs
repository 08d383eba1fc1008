//! The safety officer's report inbox and report page. Reads come from the
//! intake's reports read model; the report, its triage and feedback are the
//! intake's own service calls, so validation, scope, scrubbing and the
//! append are the API's.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use lantern_api::ApiError;
use lantern_domain::vocab::{Category, Grade, Harm};
use lantern_intake::reports::rules::{TextBody, TriageReport};
use lantern_intake::reports::{Report, ReportRecord, Status};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::scope::{own_hospital, period};
use super::{Fields, Notice, WrittenQuery, code, filter_param, given, saved};
use crate::error::WebError;
use crate::i18n::{Key, Lang};
use crate::layout::page;
use crate::session::Staff;
use crate::{PageForm, Web};

/// The states a report may be filtered by, in the order they come.
const STATES: [Status; 4] = [
    Status::Received,
    Status::Triaged,
    Status::UnderAnalysis,
    Status::Closed,
];

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
                option value="" { (lang.t(Key::Any)) }
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
        .map(|g| (g.as_str().to_owned(), lang.grade(*g).to_owned()))
        .collect();
    let cats: Vec<_> = Category::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), lang.category(*c).to_owned()))
        .collect();
    let depts: Vec<_> = hospital
        .departments
        .iter()
        .map(|(code, name)| (code.clone(), format!("{name} ({code})")))
        .collect();
    let states: Vec<_> = STATES
        .iter()
        .map(|s| (code(s), lang.status(*s).to_owned()))
        .collect();
    let body = html! {
        h1 { (lang.t(Key::ReportsH1)) " — " (hospital.name) }
        form method="get" action="/staff/reports" class="filters" aria-label=(lang.t(Key::Filter)) {
            div { label for="f-from" { (lang.t(Key::From)) } input type="month" id="f-from" name="from" value=(from.to_string()); }
            div { label for="f-to" { (lang.t(Key::To)) } input type="month" id="f-to" name="to" value=(to.to_string()); }
            (select("grade", lang.t(Key::Grade), lang, grade.map(Grade::as_str), &grades))
            (select("category", lang.t(Key::Category), lang, category.map(Category::as_str), &cats))
            (select("department", lang.t(Key::Department), lang, department, &depts))
            (select("state", lang.t(Key::State), lang, state.map(|s| code(&s)).as_deref(), &states))
            div { button type="submit" { (lang.t(Key::Filter)) } }
        }
        p { (rows.len().min(SHOWN)) " / " (rows.len()) " " (lang.t(Key::Count)) }
        @if rows.is_empty() {
            p { (lang.t(Key::NoneFound)) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { (lang.t(Key::FiledOn)) }
                    th scope="col" { (lang.t(Key::Grade)) }
                    th scope="col" { (lang.t(Key::Category)) }
                    th scope="col" { (lang.t(Key::Department)) }
                    th scope="col" { (lang.t(Key::State)) }
                    th scope="col" { (lang.t(Key::Description)) }
                } }
                tbody {
                    @for Report { record: r, description } in &shown {
                        tr {
                            td { a href={ "/staff/reports/" (r.report_id) } { (r.filed_on) } }
                            td { (r.current_grade().as_str()) }
                            td { (lang.category(r.current_category())) }
                            td { (r.department) }
                            td { (lang.status(r.status)) }
                            td { (description.chars().take(80).collect::<String>()) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        &staff.principal,
        &staff.csrf,
        lang,
        "/staff/reports",
        lang.t(Key::ReportsH1),
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
    // The intake's own read: role, scope (403 for another hospital's
    // report) and 404 are decided there.
    let Report {
        record: r,
        description,
    } = web.intake.report(&staff.principal, id, after).await?;
    let preselected = Fields(vec![("report_ids".to_owned(), id.to_string())]);
    let this_report = [(
        id,
        format!("{} · {}", r.filed_on, lang.grade(r.current_grade())),
    )];
    let current_grade = r.current_grade();
    let current_cat = r.current_category();
    let (current_harm, current_treatment) = r.current_harm();
    let body = html! {
        p { a href="/staff/reports" { "← " (lang.t(Key::Back)) } }
        h1 { (lang.t(Key::ReportH1)) }
        (notice.show(lang))
        table {
            tr { th scope="row" { (lang.t(Key::State)) } td { (lang.status(r.status)) } }
            tr { th scope="row" { (lang.t(Key::FiledOn)) } td { (r.filed_on) } }
            tr { th scope="row" { (lang.t(Key::OccurredAt)) } td { (r.occurred_at.format("%Y-%m-%d %H:%M %:z")) } }
            tr { th scope="row" { (lang.t(Key::Department)) } td { (r.department) } }
            tr { th scope="row" { (lang.t(Key::ReportAsFiled)) } td {
                (lang.grade(r.grade)) " · " (lang.category(r.category)) " · " (lang.t(Key::Harm)) ": " (lang.harm(r.harm))
                (treatment(lang, r.treatment_needed))
                @if r.provisional { " · " strong { (lang.t(Key::GradeProvisional)) } }
            } }
            @if let Some(t) = &r.triage {
                tr { th scope="row" { (lang.t(Key::ReportTriagedAs)) } td {
                    (lang.grade(t.grade)) " · " (lang.category(t.category)) " · " (lang.t(Key::Harm)) ": " (lang.harm(t.harm))
                    (treatment(lang, t.treatment_needed))
                    " (" (t.on) ")" @if let Some(n) = &t.note { " — " (n) }
                } }
            }
            @if let Some(l) = &r.location { tr { th scope="row" { (lang.t(Key::Location)) } td { (l) } } }
        }
        h2 { (lang.t(Key::Description)) }
        p class="desc" { (description) }
        @if let Some(a) = &r.immediate_actions {
            h2 { (lang.t(Key::ImmediateActions)) }
            p class="desc" { (a) }
        }
        @if !r.follow_ups.is_empty() {
            h2 { (lang.t(Key::ReportFollowUps)) }
            ul { @for f in &r.follow_ups { li { (f.added_on) ": " (f.text) } } }
        }
        h2 id="triage" { (lang.t(Key::ReportTriage)) }
        form method="post" action={ "/staff/reports/" (id) "/triage" } {
            input type="hidden" name="csrf" value=(staff.csrf);
            label for="t-grade" { (lang.t(Key::Grade)) }
            select id="t-grade" name="grade" {
                @for g in Grade::ALL { option value=(g.as_str()) selected[g == current_grade] { (lang.grade(g)) } }
            }
            label for="t-category" { (lang.t(Key::Category)) }
            select id="t-category" name="category" {
                @for c in Category::ALL { option value=(c.as_str()) selected[*c == current_cat] { (lang.category(*c)) } }
            }
            label for="t-harm" { (lang.t(Key::Harm)) }
            select id="t-harm" name="harm" {
                @for h in Harm::ALL { option value=(h.as_str()) selected[h == current_harm] { (lang.harm(h)) } }
            }
            label for="t-treatment" { (lang.t(Key::TreatmentNeeded)) }
            select id="t-treatment" name="treatment_needed" {
                option value="" selected[current_treatment.is_none()] { "—" }
                option value="yes" selected[current_treatment == Some(true)] { (lang.t(Key::TreatmentYes)) }
                option value="no" selected[current_treatment == Some(false)] { (lang.t(Key::TreatmentNo)) }
            }
            label for="t-dup" { (lang.t(Key::ReportDuplicateOf)) }
            input type="text" id="t-dup" name="duplicate_of" size="40";
            label for="t-note" { (lang.t(Key::ReportNote)) }
            textarea id="t-note" name="note" rows="3" maxlength="2000" {}
            p { button type="submit" { (lang.t(Key::ReportTriageSubmit)) } }
        }
        @if web.rca.is_some() {
            h2 id="rca" { (lang.t(Key::RcaH1)) }
            @if !r.rcas_open.is_empty() || !r.rcas_closed.is_empty() {
                ul { @for c in r.rcas_open.iter().chain(&r.rcas_closed) {
                    li { a href={ "/staff/rca/" (c) } { (lang.t(Key::RcaCaseH1)) " " (lantern_domain::ids::short_ref(*c)) } }
                } }
            }
            details id="rca-open" open[r.rcas_open.is_empty() && matches!(current_grade, Grade::I | Grade::II)] {
                summary { (lang.t(Key::RcaOpenH)) }
                (crate::pages::rca::open_form(staff, lang, &this_report, &preselected))
            }
        }
        h2 id="feedback" { (lang.t(Key::ReportFeedback)) }
        @if !r.feedback.is_empty() {
            ul { @for f in &r.feedback { li { (f.posted_on) ": " (f.text) } } }
        }
        form method="post" action={ "/staff/reports/" (id) "/feedback" } {
            input type="hidden" name="csrf" value=(staff.csrf);
            label for="fb-text" { (lang.t(Key::ReportFeedback)) }
            p class="hint" id="fb-hint" { (lang.t(Key::ReportFeedbackHint)) }
            textarea id="fb-text" name="text" rows="4" maxlength="4000" aria-describedby="fb-hint" {}
            p { button type="submit" { (lang.t(Key::ReportFeedbackSubmit)) } }
        }
    };
    Ok(notice.answer(page(
        &staff.principal,
        &staff.csrf,
        lang,
        &format!("/staff/reports/{id}"),
        lang.t(Key::ReportH1),
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
    /// Left out (an older page), the harm assessed so far stands.
    harm: Option<Harm>,
    #[serde(default)]
    treatment_needed: String,
    duplicate_of: Option<String>,
    note: Option<String>,
}

/// ` · treatment needed` / ` · no treatment needed` for harm `mild`.
fn treatment(lang: Lang, needed: Option<bool>) -> Markup {
    html! {
        @match needed {
            Some(true) => { " · " (lang.t(Key::TreatmentYes)) }
            Some(false) => { " · " (lang.t(Key::TreatmentNeeded)) ": " (lang.t(Key::TreatmentNo)) }
            None => {}
        }
    }
}

/// `POST /staff/reports/{id}/triage`, through [`lantern_intake::Intake::triage`].
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
    let treatment_needed = match form.treatment_needed.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let body = TriageReport {
        grade: form.grade,
        category: form.category,
        harm: form.harm,
        treatment_needed,
        duplicate_of,
        note: given(&form.note).map(str::to_owned),
    };
    let result = web
        .intake
        .triage(&staff.principal, id, body, None)
        .await
        .map(|a| a.seq);
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

/// `POST /staff/reports/{id}/feedback`, through
/// [`lantern_intake::Intake::post_feedback`].
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
    let result = web
        .intake
        .post_feedback(&staff.principal, id, body, None)
        .await
        .map(|a| a.seq);
    outcome(&web, &staff, lang, id, result).await
}
