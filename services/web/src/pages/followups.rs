//! QC actions that reach hospitals, from a staff session: the QC centre
//! sends guidance, rectification notices and meeting follow-up items
//! (督办事项) to a hospital of its region, carries them to a later meeting
//! and closes them; the hospital's safety officer sees them in its
//! workspace and answers. Every step is the meeting service's own call
//! ([`lantern_meeting::followups::FollowUps`]).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use lantern_api::ApiError;
use lantern_domain::Month;
use lantern_domain::events::followup::{ActionKind, Outcome};
use lantern_domain::vocab::Role;
use lantern_meeting::followup::State as FollowUpState;
use lantern_meeting::followups::{
    AnswerFollowUp, CarryFollowUp, CloseFollowUp, FollowUps, ListFollowUps, OpenFollowUp,
};
use maud::html;
use uuid::Uuid;

use super::{Kept, Notice, Posted, WrittenQuery, choice, code, invalid};
use crate::error::WebError;
use crate::i18n::{Key, Lang};
use crate::layout::page;
use crate::session::Staff;
use crate::{PageForm, Web};

const KINDS: [ActionKind; 3] = [
    ActionKind::Rectification,
    ActionKind::FollowUp,
    ActionKind::Guidance,
];
const OUTCOMES: [Outcome; 2] = [Outcome::Resolved, Outcome::Unresolved];

/// A field that may be left blank: blank is `None`, anything else must read.
fn optional<T: serde::de::DeserializeOwned>(
    value: Option<&str>,
    pointer: &str,
    errors: &mut Vec<lantern_api::FieldError>,
) -> Option<T> {
    value.and_then(|v| choice(Some(v), pointer, errors))
}

fn followups(web: &Web) -> Result<&FollowUps, WebError> {
    Ok(&web.meeting()?.followups)
}

fn followup_id(s: &str) -> Result<Uuid, WebError> {
    s.parse()
        .map_err(|_| WebError::Api(ApiError::NotFound(format!("no follow-up {s}"))))
}

/// The session's own list: its hospital's, or its region's.
fn own_list(staff: &Staff, after: Option<u64>) -> ListFollowUps {
    let p = &staff.principal;
    let (hospital, region) = match p.role() {
        Role::QcCentre => (None, p.region().map(str::to_owned)),
        _ => (p.hospital().map(str::to_owned), None),
    };
    ListFollowUps {
        hospital,
        region,
        state: None,
        after,
    }
}

async fn render_list(
    web: &Web,
    staff: &Staff,
    lang: Lang,
    after: Option<u64>,
    notice: Notice,
    kept: Kept,
) -> Result<Response, WebError> {
    let f = followups(web)?;
    let p = &staff.principal;
    p.require(&[Role::SafetyOfficer, Role::QcCentre])?;
    let list = f.list(p, &own_list(staff, after)).await?;
    let hospitals: Vec<_> = match (p.role(), p.region()) {
        (Role::QcCentre, Some(region)) => web.intake.directory.hospitals_in(region)?,
        _ => vec![],
    };
    let body = html! {
        h1 { (lang.t(Key::FollowUpsH1)) }
        p class="hint" { (lang.t(Key::FollowUpsHint)) }
        @if list.rows.is_empty() { p { (lang.t(Key::FollowUpsNone)) } } @else {
            table id="follow-ups" {
                thead { tr {
                    th scope="col" { "#" }
                    th scope="col" { (lang.t(Key::Hospital)) }
                    th scope="col" { (lang.t(Key::FollowUpKind)) }
                    th scope="col" { (lang.t(Key::FollowUpTitle)) }
                    th scope="col" { (lang.t(Key::FollowUpDue)) }
                    th scope="col" { (lang.t(Key::State)) }
                } }
                tbody { @for v in &list.rows {
                    tr class=[(v.state == FollowUpState::Overdue).then_some("overdue")] {
                        td { a href={ "/staff/follow-ups/" (v.followup.followup_id) } { (v.followup.reference) } }
                        td { (v.followup.hospital) }
                        td { (lang.action_kind(v.followup.kind)) }
                        td { (v.followup.title) }
                        td { (v.followup.due) }
                        td { (lang.followup_state(v.state)) }
                    }
                } }
            }
        }
        @if p.role() == Role::QcCentre {
            h2 id="open" { (lang.t(Key::FollowUpOpenH)) }
            (kept.notice("open", &notice, lang))
            form method="post" action="/staff/follow-ups" {
                input type="hidden" name="csrf" value=(staff.csrf);
                label for="fu-hospital" { (lang.t(Key::Hospital)) }
                select id="fu-hospital" name="hospital" {
                    @for h in &hospitals { option value=(h.code) selected[kept.v("open", "hospital") == h.code] { (h.name) " (" (h.code) ")" } }
                }
                label for="fu-kind" { (lang.t(Key::FollowUpKind)) }
                select id="fu-kind" name="kind" {
                    @for k in KINDS { @let c = code(&k); option value=(c) selected[kept.v("open", "kind") == c] { (lang.action_kind(k)) } }
                }
                label for="fu-title" { (lang.t(Key::FollowUpTitle)) }
                input type="text" id="fu-title" name="title" maxlength="200" value=(kept.v("open", "title"));
                label for="fu-text" { (lang.t(Key::FollowUpText)) }
                textarea id="fu-text" name="text" rows="4" maxlength="4000" { (kept.v("open", "text")) }
                label for="fu-due" { (lang.t(Key::FollowUpDue)) }
                input type="date" id="fu-due" name="due" value=(kept.v("open", "due"));
                label for="fu-meeting" { (lang.t(Key::FollowUpMeeting)) }
                input type="month" id="fu-meeting" name="meeting" value=(kept.v("open", "meeting"));
                p { button type="submit" { (lang.t(Key::FollowUpOpenSubmit)) } }
            }
        }
    };
    Ok(notice.answer(page(
        p,
        &staff.csrf,
        lang,
        "/staff/follow-ups",
        lang.t(Key::FollowUpsH1),
        body,
    )))
}

/// `GET /staff/follow-ups`: the session's items, and for a QC centre the
/// form to send one.
pub async fn list(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Query(q): Query<WrittenQuery>,
) -> Result<Response, WebError> {
    render_list(&web, &staff, lang, q.after(), q.notice(), Kept::none()).await
}

/// `POST /staff/follow-ups`: the QC centre sends an item.
pub async fn open(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let posted = Posted::new(&web, &staff, lang, "open", pairs)?;
    let f = followups(&web)?;
    let form = posted.fields();
    let result = async {
        let mut errors = Vec::new();
        let kind: Option<ActionKind> = choice(form.get("kind"), "/kind", &mut errors);
        let due: Option<NaiveDate> = choice(form.get("due"), "/due", &mut errors);
        let meeting: Option<Month> = optional(form.get("meeting"), "/meeting", &mut errors);
        invalid(errors)?;
        let (Some(kind), Some(due)) = (kind, due) else {
            return Err(ApiError::field("/due", "is required"));
        };
        let body = OpenFollowUp {
            hospital: form.raw("hospital").to_owned(),
            kind,
            title: form.raw("title").to_owned(),
            text: form.raw("text").to_owned(),
            due,
            meeting,
        };
        f.open(&staff.principal, body, None).await
    }
    .await;
    let to =
        result.map(|o| super::saved(&format!("/staff/follow-ups/{}", o.followup_id), o.seq, ""));
    let kept = posted.kept;
    super::outcome(to, |notice| {
        render_list(&web, &staff, lang, None, notice, kept)
    })
    .await
}

async fn render_item(
    web: &Web,
    staff: &Staff,
    lang: Lang,
    id: Uuid,
    after: Option<u64>,
    notice: Notice,
    kept: Kept,
) -> Result<Response, WebError> {
    let f = followups(web)?;
    let p = &staff.principal;
    let v = f.view(p, id, after).await?;
    let fu = &v.followup;
    let open = fu.closed.is_none();
    let here = format!("/staff/follow-ups/{id}");
    let body = html! {
        p { a href="/staff/follow-ups" { "← " (lang.t(Key::Back)) } }
        h1 { (lang.t(Key::FollowUpH1)) " " (fu.reference) }
        table {
            tr { th scope="row" { (lang.t(Key::Hospital)) } td { (fu.hospital) } }
            tr { th scope="row" { (lang.t(Key::FollowUpKind)) } td { (lang.action_kind(fu.kind)) } }
            tr { th scope="row" { (lang.t(Key::FollowUpTitle)) } td { (fu.title) } }
            tr { th scope="row" { (lang.t(Key::FollowUpDue)) } td { (fu.due) } }
            tr { th scope="row" { (lang.t(Key::State)) } td id="fu-state" { (lang.followup_state(v.state)) } }
            tr { th scope="row" { (lang.t(Key::FollowUpMeetings)) } td { (fu.meetings.iter().map(ToString::to_string).collect::<Vec<_>>().join("、")) } }
        }
        h2 { (lang.t(Key::FollowUpText)) }
        p class="desc" { (fu.text) }
        h2 { (lang.t(Key::FollowUpAnswers)) }
        @if fu.answers.is_empty() { p { "—" } } @else {
            ul id="fu-answers" { @for a in &fu.answers { li { (a.on) ": " (a.text) } } }
        }
        @if let Some(c) = &fu.closed {
            h2 { (lang.t(Key::FollowUpClosed)) }
            p { (c.on) " · " (lang.outcome(c.outcome)) @if let Some(n) = &c.note { " — " (n) } }
        }
        @if open && p.role() == Role::SafetyOfficer {
            h2 id="answer" { (lang.t(Key::FollowUpAnswerH)) }
            (kept.notice("answer", &notice, lang))
            form method="post" action={ (here) "/answer" } {
                input type="hidden" name="csrf" value=(staff.csrf);
                label for="fa-text" { (lang.t(Key::FollowUpAnswerH)) }
                textarea id="fa-text" name="text" rows="4" maxlength="4000" { (kept.v("answer", "text")) }
                p { button type="submit" { (lang.t(Key::FollowUpAnswerSubmit)) } }
            }
        }
        @if open && p.role() == Role::QcCentre {
            h2 id="carry" { (lang.t(Key::FollowUpCarryH)) }
            (kept.notice("carry", &notice, lang))
            form method="post" action={ (here) "/carry" } {
                input type="hidden" name="csrf" value=(staff.csrf);
                label for="fc-to" { (lang.t(Key::FollowUpCarryTo)) }
                input type="month" id="fc-to" name="to_meeting" value=(kept.v("carry", "to_meeting"));
                label for="fc-due" { (lang.t(Key::FollowUpNewDue)) }
                input type="date" id="fc-due" name="due" value=(kept.v("carry", "due"));
                p { button type="submit" { (lang.t(Key::FollowUpCarrySubmit)) } }
            }
            h2 id="close" { (lang.t(Key::FollowUpCloseH)) }
            (kept.notice("close", &notice, lang))
            form method="post" action={ (here) "/close" } {
                input type="hidden" name="csrf" value=(staff.csrf);
                label for="fx-outcome" { (lang.t(Key::FollowUpOutcome)) }
                select id="fx-outcome" name="outcome" {
                    @for o in OUTCOMES { option value=(code(&o)) { (lang.outcome(o)) } }
                }
                label for="fx-note" { (lang.t(Key::FollowUpNote)) }
                textarea id="fx-note" name="note" rows="2" maxlength="2000" { (kept.v("close", "note")) }
                p { button type="submit" { (lang.t(Key::FollowUpCloseSubmit)) } }
            }
        }
        @if kept.form.is_empty() { (notice.show(lang)) }
    };
    Ok(notice.answer(page(
        p,
        &staff.csrf,
        lang,
        &here,
        lang.t(Key::FollowUpH1),
        body,
    )))
}

/// `GET /staff/follow-ups/{id}`: the item, and the forms its reader may use.
pub async fn item(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    Query(q): Query<WrittenQuery>,
) -> Result<Response, WebError> {
    let id = followup_id(&id)?;
    render_item(&web, &staff, lang, id, q.after(), q.notice(), Kept::none()).await
}

/// A step on item `id` from its page's form `form`.
async fn step<'a>(
    posted: Posted<'a>,
    id: Uuid,
    result: Result<u64, ApiError>,
) -> Result<Response, WebError> {
    let here = format!("/staff/follow-ups/{id}");
    posted
        .outcome(result, &here, "", |posted, notice| async move {
            render_item(
                posted.web,
                posted.staff,
                posted.lang,
                id,
                None,
                notice,
                posted.kept,
            )
            .await
        })
        .await
}

/// `POST /staff/follow-ups/{id}/answer`: the hospital answers.
pub async fn answer(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = followup_id(&id)?;
    let posted = Posted::new(&web, &staff, lang, "answer", pairs)?;
    let body = AnswerFollowUp {
        text: posted.fields().raw("text").to_owned(),
    };
    let result = followups(&web)?
        .answer(&staff.principal, id, body, None)
        .await
        .map(|a| a.seq);
    step(posted, id, result).await
}

/// `POST /staff/follow-ups/{id}/carry`: the QC centre carries it on.
pub async fn carry(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = followup_id(&id)?;
    let posted = Posted::new(&web, &staff, lang, "carry", pairs)?;
    let f = followups(&web)?;
    let result = async {
        let form = posted.fields();
        let mut errors = Vec::new();
        let to: Option<Month> = choice(form.get("to_meeting"), "/to_meeting", &mut errors);
        let due: Option<NaiveDate> = optional(form.get("due"), "/due", &mut errors);
        invalid(errors)?;
        let to_meeting = to.ok_or_else(|| ApiError::field("/to_meeting", "is required"))?;
        f.carry(
            &staff.principal,
            id,
            CarryFollowUp { to_meeting, due },
            None,
        )
        .await
        .map(|a| a.seq)
    }
    .await;
    step(posted, id, result).await
}

/// `POST /staff/follow-ups/{id}/close`: the QC centre closes it.
pub async fn close(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = followup_id(&id)?;
    let posted = Posted::new(&web, &staff, lang, "close", pairs)?;
    let f = followups(&web)?;
    let result = async {
        let form = posted.fields();
        let mut errors = Vec::new();
        let outcome: Option<Outcome> = choice(form.get("outcome"), "/outcome", &mut errors);
        invalid(errors)?;
        let outcome = outcome.ok_or_else(|| ApiError::field("/outcome", "is required"))?;
        let note = form.get("note").map(str::to_owned);
        f.close(&staff.principal, id, CloseFollowUp { outcome, note }, None)
            .await
            .map(|a| a.seq)
    }
    .await;
    step(posted, id, result).await
}
