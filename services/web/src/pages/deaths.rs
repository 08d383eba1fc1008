//! Death-case trails (死亡病例讨论) for the hospital's safety officer: the
//! worklist of deaths with their rules (first review within 7 days, the
//! autopsy review, the low-risk hospital review) and what is overdue, and a
//! trail page with its steps, rules and linked analyses. Recording a death,
//! a review, the autopsy report and the close are the mortality service's
//! own calls ([`lantern_mortality::Mortality`]).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use lantern_api::{ApiError, FieldError};
use lantern_directory::HospitalRecord;
use lantern_domain::vocab::AgeBand;
use lantern_mortality::api::{ListDeaths, RecordDeath};
use lantern_mortality::death::{
    AutopsyReported as Autopsy, Defect, Phase, Preventability, ReviewHeld as Review,
    ReviewLevel as Level, RuleState, State as TrailState,
};
use lantern_rca::api::reads::ListQuery;
use maud::{Markup, html};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::scope::{hospital_zone, own_hospital, staff_zone};
use super::{
    Fields, Kept, Notice, Posted, WrittenQuery, choice, code, filter_param, given, invalid,
    local_display, local_time, month_param, roles, saved,
};
use crate::error::WebError;
use crate::i18n::{Key, Lang};
use crate::layout::page;
use crate::session::Staff;
use crate::{PageForm, Web};

const LEVELS: [Level; 3] = [Level::Department, Level::Hospital, Level::QcCentre];
const PREVENTABILITY: [Preventability; 3] = [
    Preventability::Unavoidable,
    Preventability::PossiblyAvoidable,
    Preventability::Avoidable,
];
const PHASES: [Phase; 6] = [
    Phase::Diagnosis,
    Phase::Treatment,
    Phase::Rescue,
    Phase::Nursing,
    Phase::Communication,
    Phase::System,
];
/// Defect rows offered by the review form.
const DEFECT_ROWS: usize = 3;

/// The trail states a list may be filtered by.
const STATES: [TrailState; 3] = [TrailState::Open, TrailState::Overdue, TrailState::Closed];

/// A vocabulary value by its code, as a trail's step detail or a linked
/// analysis carries it; `None` for one this version does not know.
fn named<T: DeserializeOwned>(code: Option<&str>) -> Option<T> {
    serde_json::from_value(serde_json::Value::from(code?)).ok()
}

fn death_id(s: &str) -> Result<Uuid, WebError> {
    s.parse()
        .map_err(|_| WebError::Api(ApiError::NotFound(format!("no death {s}"))))
}

async fn officer(web: &Web, staff: &Staff) -> Result<HospitalRecord, WebError> {
    web.mortality()?;
    own_hospital(web, staff).await
}

fn rule_met(lang: Lang, r: &RuleState) -> Markup {
    html! {
        @match r.met {
            Some(true) => { "✓ " (lang.t(Key::DeathsMet)) },
            Some(false) => { strong { "✗ " (lang.t(Key::DeathsUnmet)) } },
            None => { (lang.t(Key::DeathsPending)) },
        }
    }
}

fn rules_cell(lang: Lang, rules: &[RuleState]) -> Markup {
    html! {
        @for r in rules {
            (lang.rule(r.rule)) " "
            (r.due.map(|d| d.to_string()).unwrap_or_default()) " → " (rule_met(lang, r)) br;
        }
    }
}

/// The list's query.
#[derive(Deserialize, Default)]
pub struct ListPageQuery {
    month: Option<String>,
    state: Option<String>,
    after: Option<String>,
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
    let m = web.mortality()?;
    let month = month_param("/month", &q.month)?;
    let state = filter_param("/state", &q.state)?;
    let trails = m
        .list(
            &staff.principal,
            &ListDeaths {
                hospital: hospital.code.clone(),
                month,
                state,
                after: given(&q.after).and_then(|s| s.parse().ok()),
            },
        )
        .await?;
    let overdue = trails
        .rows
        .iter()
        .filter(|t| t.state == TrailState::Overdue)
        .count();
    let body = html! {
        h1 { (lang.t(Key::DeathsH1)) " — " (hospital.name) }
        p class="hint" { (lang.t(Key::DeathsRulesHint)) }
        form method="get" action="/staff/deaths" class="filters" aria-label=(lang.t(Key::Filter)) {
            div { label for="f-month" { (lang.t(Key::DeathsMonth)) } input type="month" id="f-month" name="month" value=(month.map(|m| m.to_string()).unwrap_or_default()); }
            div {
                label for="f-state" { (lang.t(Key::State)) }
                select id="f-state" name="state" {
                    option value="" { (lang.t(Key::Any)) }
                    @for state in STATES {
                        @let v = code(&state);
                        option value=(v) selected[given(&q.state) == Some(v.as_str())] { (lang.trail_state(state)) }
                    }
                }
            }
            div { button type="submit" { (lang.t(Key::Filter)) } }
        }
        p { (lang.t(Key::CriticalOverdue)) ": " strong id="deaths-overdue" { (overdue) } " / " (trails.rows.len()) }
        @if trails.rows.is_empty() { p { (lang.t(Key::DeathsNone)) } } @else {
            table {
                thead { tr {
                    th scope="col" { (lang.t(Key::DeathsDiedAt)) }
                    th scope="col" { (lang.t(Key::Department)) }
                    th scope="col" { (lang.t(Key::DeathsDiagnosis)) }
                    th scope="col" { (lang.t(Key::DeathsFlags)) }
                    th scope="col" { (lang.t(Key::State)) }
                    th scope="col" { (lang.t(Key::DeathsRules)) }
                } }
                tbody { @for t in &trails.rows {
                    tr class=[(t.state == TrailState::Overdue).then_some("overdue")] {
                        td { a href={ "/staff/deaths/" (t.death_id) } { (local_display(t.died_at, &hospital.timezone)) } }
                        td { (t.department) }
                        td { (t.diagnosis_icd10) }
                        td { @if t.low_risk { (lang.t(Key::DeathsLowRisk)) " " } @if t.autopsy { (lang.t(Key::DeathsAutopsy)) } }
                        td { (lang.trail_state(t.state)) }
                        td { (rules_cell(lang, &t.rules)) }
                    }
                } }
            }
        }
        h2 id="record" { (lang.t(Key::DeathsRecordH)) }
        (notice.show(lang))
        form method="post" action="/staff/deaths" {
            input type="hidden" name="csrf" value=(staff.csrf);
            label for="d-dept" { (lang.t(Key::Department)) }
            select id="d-dept" name="department" {
                @for (code, name) in &hospital.departments {
                    option value=(code) selected[kept.raw("department") == code] { (name) " (" (code) ")" }
                }
            }
            label for="d-admitted" { (lang.t(Key::DeathsAdmittedAt)) }
            input type="datetime-local" id="d-admitted" name="admitted_at" value=(kept.raw("admitted_at"));
            label for="d-died" { (lang.t(Key::DeathsDiedAt)) }
            input type="datetime-local" id="d-died" name="died_at" value=(kept.raw("died_at"));
            label for="d-age" { (lang.t(Key::DeathsAgeBand)) }
            select id="d-age" name="age_band" {
                @for b in AgeBand::offered() { option value=(code(&b)) selected[kept.raw("age_band") == code(&b)] { (code(&b)) } }
            }
            label for="d-icd" { (lang.t(Key::DeathsDiagnosis)) }
            input type="text" id="d-icd" name="diagnosis_icd10" size="10" maxlength="8" placeholder="I21.9" value=(kept.raw("diagnosis_icd10"));
            div { input type="checkbox" id="d-low" name="low_risk" value="1" checked[kept.has("low_risk", "1")]; " " label for="d-low" class="inline" { (lang.t(Key::DeathsLowRisk)) } }
            div { input type="checkbox" id="d-autopsy" name="autopsy" value="1" checked[kept.has("autopsy", "1")]; " " label for="d-autopsy" class="inline" { (lang.t(Key::DeathsAutopsy)) } }
            p { button type="submit" { (lang.t(Key::DeathsRecordSubmit)) } }
        }
    };
    Ok(notice.answer(page(
        &staff.principal,
        &staff.csrf,
        lang,
        "/staff/deaths",
        lang.t(Key::DeathsH1),
        body,
    )))
}

/// `GET /staff/deaths?month=&state=`: the worklist.
pub async fn list(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Query(q): Query<ListPageQuery>,
) -> Result<Response, WebError> {
    render_list(&web, &staff, lang, &q, Notice::None, &Fields::default()).await
}

/// `POST /staff/deaths`: records a death through
/// [`lantern_mortality::Mortality::record`].
pub async fn record(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = Fields(form);
    form.check_csrf(&staff)?;
    let hospital = officer(&web, &staff).await?;
    let m = web.mortality()?;
    let result = async {
        let mut errors = Vec::new();
        let tz = &hospital.timezone;
        let admitted = local_time(form.get("admitted_at"), tz, "/admitted_at", &mut errors);
        let died = local_time(form.get("died_at"), tz, "/died_at", &mut errors);
        let age: Option<AgeBand> = choice(form.get("age_band"), "/age_band", &mut errors);
        invalid(errors)?;
        let (Some(admitted_at), Some(died_at), Some(age_band)) = (admitted, died, age) else {
            return Err(ApiError::field("/died_at", "is required"));
        };
        let body = RecordDeath {
            hospital: hospital.code.clone(),
            department: form.raw("department").to_owned(),
            admitted_at,
            died_at,
            age_band,
            diagnosis_icd10: form.raw("diagnosis_icd10").trim().to_owned(),
            low_risk: form.has("low_risk", "1"),
            autopsy: form.has("autopsy", "1"),
            reported: None,
        };
        m.record(&staff.principal, body, None)
            .await
            .map(|d| (d.death_id, d.seq))
    }
    .await;
    let to = result.map(|(id, seq)| saved(&format!("/staff/deaths/{id}"), seq, ""));
    let q = ListPageQuery::default();
    super::outcome(to, |notice| {
        render_list(&web, &staff, lang, &q, notice, &form)
    })
    .await
}

fn step_detail(lang: Lang, kind: &str, detail: &serde_json::Value) -> Markup {
    let s = |k: &str| detail.get(k).and_then(|v| v.as_str()).unwrap_or("");
    html! {
        @match kind {
            "review" => {
                (named(Some(s("level"))).map_or("?", |l| lang.level(l))) " · "
                (named(Some(s("preventability"))).map_or("?", |p| lang.preventability(p))) " · "
                (detail.get("attendee_roles").and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|r| r.as_str()).collect::<Vec<_>>().join("、")).unwrap_or_default())
                @if let Some(defects) = detail.get("defects").and_then(|v| v.as_array()) {
                    @if !defects.is_empty() {
                        ul { @for d in defects {
                            li { (named(d.get("phase").and_then(|v| v.as_str())).map_or("?", |p| lang.phase(p))) ": " (d.get("text").and_then(|v| v.as_str()).unwrap_or("")) }
                        } }
                    }
                }
            },
            "autopsy_reported" => { (s("findings")) },
            _ => {},
        }
    }
}

async fn render_trail(
    web: &Web,
    staff: &Staff,
    lang: Lang,
    id: Uuid,
    after: Option<u64>,
    notice: Notice,
    kept: Kept,
) -> Result<Response, WebError> {
    let m = web.mortality()?;
    let t = m.trail(&staff.principal, id, after).await?;
    let tz = hospital_zone(web, &t.hospital).await?;
    // Cases of the hospital a review may link to, newest first.
    let cases = match &web.rca {
        Some(rca) => {
            let q = ListQuery {
                hospital: t.hospital.clone(),
                state: None,
                after: None,
            };
            let list = rca.list(&staff.principal, &q).await?;
            list.rows.into_iter().map(|r| (r.rca_id, r.title)).collect()
        }
        None => Vec::new(),
    };
    let open = t.state != TrailState::Closed;
    let path = format!("/staff/deaths/{id}");
    // A QC centre reads the trails of its region and records its own
    // review (level qc_centre); the rest of the trail is the hospital's.
    let qc = staff.principal.role() == lantern_domain::vocab::Role::QcCentre;
    let levels: &[Level] = if qc { &[Level::QcCentre] } else { &LEVELS };
    let back = if qc {
        "/staff/meeting"
    } else {
        "/staff/deaths"
    };
    let autopsy_in = t.steps.iter().any(|s| s.type_ == "autopsy_reported");
    // A refusal is shown next to its form, or at the top when that form
    // is no longer on the page.
    let form_shown = match kept.form {
        "" => false,
        "autopsy" => open && t.autopsy && !autopsy_in,
        _ => open,
    };
    let body = html! {
        p { a href=(back) { "← " (lang.t(Key::Back)) } }
        h1 { (lang.t(Key::DeathsTrailH1)) }
        @if !form_shown { (notice.show(lang)) }
        table {
            tr { th scope="row" { (lang.t(Key::State)) } td id="trail-state" { (lang.trail_state(t.state)) } }
            tr { th scope="row" { (lang.t(Key::Department)) } td { (t.department) } }
            tr { th scope="row" { (lang.t(Key::DeathsDiedAt)) } td { (local_display(t.died_at, &tz)) } }
            tr { th scope="row" { (lang.t(Key::DeathsDiagnosis)) } td { (t.diagnosis_icd10) } }
            tr { th scope="row" { (lang.t(Key::DeathsFlags)) } td { @if t.low_risk { (lang.t(Key::DeathsLowRisk)) " " } @if t.autopsy { (lang.t(Key::DeathsAutopsy)) } } }
            @if let Some(p) = &t.preventability { tr { th scope="row" { (lang.t(Key::DeathsPreventability)) } td { (lang.preventability(*p)) } } }
        }
        h2 id="rules" { (lang.t(Key::DeathsRules)) }
        table {
            thead { tr { th scope="col" { (lang.t(Key::DeathsRule)) } th scope="col" { (lang.t(Key::RcaDue)) } th scope="col" { (lang.t(Key::DeathsMetH)) } } }
            tbody { @for r in &t.rules {
                tr class=[(r.met == Some(false)).then_some("overdue")] {
                    td { (lang.rule(r.rule)) }
                    td { (r.due.map(|d| d.to_string()).unwrap_or_else(|| "—".to_owned())) }
                    td { (rule_met(lang, r)) }
                }
            } }
        }
        h2 id="steps" { (lang.t(Key::DeathsSteps)) }
        table {
            thead { tr { th scope="col" { (lang.t(Key::DeathsStep)) } th scope="col" { (lang.t(Key::RcaAt)) } th scope="col" { (lang.t(Key::DeathsDaysAfter)) } th scope="col" { (lang.t(Key::DeathsDetail)) } } }
            tbody { @for s in &t.steps {
                tr {
                    td { (lang.trail_step(s.type_)) }
                    td { (local_display(s.at, &tz)) }
                    td class="n" { (s.days_after_death) }
                    td { (step_detail(lang, s.type_, &s.detail)) }
                }
            } }
        }
        @if !t.rca.is_empty() {
            h2 { (lang.t(Key::RcaH1)) }
            @for link in &t.rca {
                h3 { a href={ "/staff/rca/" (link.rca_id) } { (lang.t(Key::RcaCaseH1)) " " (lantern_domain::ids::short_ref(link.rca_id)) } " — " (link.state) @if link.overdue { " " strong { (lang.t(Key::CriticalOverdue)) } } }
                @if !link.root_causes.is_empty() { p { (lang.t(Key::RcaRootCauses)) ": " (link.root_causes.join("；")) } }
                @if !link.actions.is_empty() { ul { @for a in &link.actions {
                    li { "#" (a.action) " " (a.what) " (" (lang.strength(a.strength)) ", " (lang.t(Key::RcaDue)) " " (a.due) ")"
                        @if a.completed { " ✓" } @if a.overdue { " " strong { (lang.t(Key::CriticalOverdue)) } } }
                } } }
            }
        }
        @if open {
            h2 id="review" { (lang.t(Key::DeathsReviewH)) }
            (kept.notice("review", &notice, lang))
            form method="post" action={ (path) "/reviews" } {
                input type="hidden" name="csrf" value=(staff.csrf);
                label for="rv-at" { (lang.t(Key::DeathsHeldAt)) }
                input type="datetime-local" id="rv-at" name="held_at" value=(kept.v("review", "held_at"));
                label for="rv-level" { (lang.t(Key::DeathsLevel)) }
                select id="rv-level" name="level" {
                    @for l in levels { option value=(code(l)) selected[kept.v("review", "level") == code(l)] { (lang.level(*l)) } }
                }
                label for="rv-roles" { (lang.t(Key::DeathsAttendees)) }
                p class="hint" id="rv-roles-hint" { (lang.t(Key::RcaTeamHint)) }
                textarea id="rv-roles" name="attendee_roles" rows="2" aria-describedby="rv-roles-hint" { (kept.v("review", "attendee_roles")) }
                label for="rv-prev" { (lang.t(Key::DeathsPreventability)) }
                select id="rv-prev" name="preventability" {
                    @for p in PREVENTABILITY { option value=(code(&p)) selected[kept.v("review", "preventability") == code(&p)] { (lang.preventability(p)) } }
                }
                fieldset {
                    legend { (lang.t(Key::DeathsDefects)) }
                    @for i in 0..DEFECT_ROWS {
                        div class="filters" {
                            div {
                                label for={ "rv-ph-" (i) } { (lang.t(Key::DeathsPhase)) " " (i + 1) }
                                select id={ "rv-ph-" (i) } name={ "phase_" (i) } {
                                    option value="" { "—" }
                                    @for p in PHASES { option value=(code(&p)) selected[kept.v("review", &format!("phase_{i}")) == code(&p)] { (lang.phase(p)) } }
                                }
                            }
                            div {
                                label for={ "rv-tx-" (i) } { (lang.t(Key::DeathsDefectText)) " " (i + 1) }
                                input type="text" id={ "rv-tx-" (i) } name={ "defect_" (i) } size="50" maxlength="2000" value=(kept.v("review", &format!("defect_{i}")));
                            }
                        }
                    }
                }
                label for="rv-rca" { (lang.t(Key::DeathsLinkedRca)) }
                select id="rv-rca" name="rca_id" {
                    option value="" { "—" }
                    @for (cid, title) in &cases { option value=(cid) selected[kept.v("review", "rca_id") == cid.to_string()] { (title) } }
                }
                p { button type="submit" { (lang.t(Key::DeathsReviewSubmit)) } }
            }
            @if t.autopsy && !autopsy_in && !qc {
                h2 id="autopsy" { (lang.t(Key::DeathsAutopsyH)) }
                (kept.notice("autopsy", &notice, lang))
                form method="post" action={ (path) "/autopsy" } {
                    input type="hidden" name="csrf" value=(staff.csrf);
                    label for="au-at" { (lang.t(Key::DeathsReportedAt)) }
                    input type="datetime-local" id="au-at" name="reported_at" value=(kept.v("autopsy", "reported_at"));
                    label for="au-findings" { (lang.t(Key::DeathsFindings)) }
                    textarea id="au-findings" name="findings" rows="3" maxlength="4000" { (kept.v("autopsy", "findings")) }
                    p { button type="submit" { (lang.t(Key::DeathsAutopsySubmit)) } }
                }
            }
            @if !qc {
                h2 id="close" { (lang.t(Key::DeathsCloseH)) }
                p class="hint" { (lang.t(Key::DeathsCloseHint)) }
                (kept.notice("close", &notice, lang))
                form method="post" action={ (path) "/close" } {
                    input type="hidden" name="csrf" value=(staff.csrf);
                    button type="submit" { (lang.t(Key::DeathsCloseSubmit)) }
                }
            }
        }
    };
    Ok(notice.answer(page(
        &staff.principal,
        &staff.csrf,
        lang,
        &path,
        lang.t(Key::DeathsTrailH1),
        body,
    )))
}

/// `GET /staff/deaths/{id}`: the trail and its forms.
pub async fn trail(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    Query(q): Query<WrittenQuery>,
) -> Result<Response, WebError> {
    let id = death_id(&id)?;
    render_trail(&web, &staff, lang, id, q.after(), q.notice(), Kept::none()).await
}

/// The common start of every step: the form (CSRF checked), the death id,
/// the service.
fn start<'a>(
    web: &'a Web,
    staff: &'a Staff,
    lang: Lang,
    id: &str,
    form: &'static str,
    pairs: Vec<(String, String)>,
) -> Result<(Posted<'a>, &'a lantern_mortality::Mortality, Uuid), WebError> {
    let step = Posted::new(web, staff, lang, form, pairs)?;
    let id = death_id(id)?;
    Ok((step, web.mortality()?, id))
}

/// After a step: to the trail page (waiting for the write), or the trail
/// page with the refusal next to the form it came from.
async fn outcome(
    step: Posted<'_>,
    id: Uuid,
    result: Result<u64, ApiError>,
) -> Result<Response, WebError> {
    let page = format!("/staff/deaths/{id}");
    step.outcome(result, &page, "", |s, notice| {
        render_trail(s.web, s.staff, s.lang, id, None, notice, s.kept)
    })
    .await
}

/// `POST /staff/deaths/{id}/reviews`, through
/// [`lantern_mortality::Mortality::review`].
pub async fn review(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (step, m, id) = start(&web, &staff, lang, &id, "review", form)?;
    let tz = staff_zone(&web, &staff).await;
    let form = step.fields();
    let result = async {
        let mut errors = Vec::new();
        let held_at = local_time(form.get("held_at"), &tz, "/held_at", &mut errors);
        let level: Option<Level> = choice(form.get("level"), "/level", &mut errors);
        let preventability: Option<Preventability> =
            choice(form.get("preventability"), "/preventability", &mut errors);
        let mut defects = Vec::new();
        for i in 0..DEFECT_ROWS {
            let text = form.get(&format!("defect_{i}"));
            let phase = form.get(&format!("phase_{i}"));
            if text.is_none() && phase.is_none() {
                continue;
            }
            let pointer = format!("/defects/{}/phase", defects.len());
            let phase: Option<Phase> = choice(phase, &pointer, &mut errors);
            if let Some(phase) = phase {
                defects.push(Defect {
                    phase,
                    text: text.unwrap_or("").to_owned(),
                });
            }
        }
        let rca_id = match form.get("rca_id").map(str::parse::<Uuid>) {
            None => None,
            Some(Ok(u)) => Some(u),
            Some(Err(_)) => {
                errors.push(FieldError::new("/rca_id", "is not an analysis id"));
                None
            }
        };
        invalid(errors)?;
        let (Some(held_at), Some(level), Some(preventability)) = (held_at, level, preventability)
        else {
            return Err(ApiError::field("/held_at", "is required"));
        };
        let body = Review {
            held_at,
            level,
            attendee_roles: roles(form.raw("attendee_roles")),
            preventability,
            defects,
            rca_id,
        };
        m.review(&staff.principal, id, body, None)
            .await
            .map(|a| a.seq)
    }
    .await;
    outcome(step, id, result).await
}

/// `POST /staff/deaths/{id}/autopsy`, through
/// [`lantern_mortality::Mortality::autopsy`].
pub async fn autopsy(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (step, m, id) = start(&web, &staff, lang, &id, "autopsy", form)?;
    let tz = staff_zone(&web, &staff).await;
    let form = step.fields();
    let result = async {
        let mut errors = Vec::new();
        let at = local_time(form.get("reported_at"), &tz, "/reported_at", &mut errors);
        invalid(errors)?;
        let Some(reported_at) = at else {
            return Err(ApiError::field("/reported_at", "is required"));
        };
        let body = Autopsy {
            reported_at,
            findings: form.raw("findings").to_owned(),
        };
        m.autopsy(&staff.principal, id, body, None)
            .await
            .map(|a| a.seq)
    }
    .await;
    outcome(step, id, result).await
}

/// `POST /staff/deaths/{id}/close`, through
/// [`lantern_mortality::Mortality::close`].
pub async fn close(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (step, m, id) = start(&web, &staff, lang, &id, "close", form)?;
    let result = m.close(&staff.principal, id, None).await.map(|a| a.seq);
    outcome(step, id, result).await
}
