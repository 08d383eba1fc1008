//! The pages, one module per workspace, and what their forms share.

pub mod critical;
pub mod dashboard;
pub mod deaths;
pub mod followups;
pub mod meeting;
pub mod rca;
pub mod reports;
pub mod scope;
pub mod signin;
pub mod targets;

use std::future::Future;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use lantern_api::{ApiError, FieldError};
use lantern_domain::Month;
use maud::{Markup, html};
use serde::Deserialize;

use crate::Web;
use crate::error::WebError;
use crate::i18n::{Key, Lang};
use crate::session::Staff;

/// The serde name of a vocabulary value (`people`, `stronger`), as forms
/// post it and the API reads it.
pub fn code<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Splits roles typed one per line or separated by commas (, ， 、).
pub fn roles(text: &str) -> Vec<String> {
    text.split(['\n', ',', '，', '、'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Empty form fields mean "not given".
pub fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A `YYYY-MM` query parameter: absent or blank is `None`; anything else
/// must be a month, or the page answers 422 naming it as the API would.
pub fn month_param(pointer: &str, s: &Option<String>) -> Result<Option<Month>, WebError> {
    match given(s) {
        None => Ok(None),
        Some(t) => Month::parse(t)
            .map(Some)
            .ok_or_else(|| ApiError::field(pointer, "must be a month, YYYY-MM").into()),
    }
}

/// A filter from a closed vocabulary (grade, category, state …) in a query:
/// absent or blank is `None`; an unknown value is a 422 naming it, not a
/// silently empty list.
pub fn filter_param<T: serde::de::DeserializeOwned>(
    pointer: &str,
    s: &Option<String>,
) -> Result<Option<T>, WebError> {
    let mut errors = Vec::new();
    let Some(t) = given(s) else {
        return Ok(None);
    };
    let parsed = choice(Some(t), pointer, &mut errors);
    invalid(errors)?;
    Ok(parsed)
}

/// What to say above a page's forms after a write.
pub enum Notice {
    /// Nothing.
    None,
    /// The write landed.
    Saved,
    /// The API refused it (422 with field pointers, or 409).
    Refused(ApiError),
}

impl Notice {
    /// The page's status: the refusal's, else 200.
    pub fn status(&self) -> StatusCode {
        match self {
            Notice::Refused(e) => e.status(),
            _ => StatusCode::OK,
        }
    }

    /// `response`, the page showing this notice, with its status: a
    /// refused write answers 422 or 409 even though the page is shown.
    pub fn answer(&self, mut response: Response) -> Response {
        *response.status_mut() = self.status();
        response
    }

    /// The notice as markup: a status line, or an alert with the API's
    /// title and its field pointers.
    pub fn show(&self, lang: Lang) -> Markup {
        html! {
            @match self {
                Notice::Saved => { p class="ok" role="status" { (lang.t(Key::ReportSaved)) } },
                Notice::Refused(e) => { div class="alert" role="alert" {
                    strong { (lang.t(Key::Refused)) } " " (e.status().as_u16()) " — " (e.problem().title)
                    @if let ApiError::Invalid(errors) = e {
                        ul { @for fe in errors { li { code { (fe.pointer) } " " (fe.message) } } }
                    } @else {
                        p { (e.problem().detail) }
                    }
                } },
                Notice::None => {},
            }
        }
    }
}

/// A refusal the member of staff can act on (422, 409) is shown on the
/// page; anything else (403, 404, 503) is the error page.
pub fn shown_on_page(e: ApiError) -> Result<Notice, WebError> {
    match e {
        e @ (ApiError::Invalid(_) | ApiError::Conflict(_)) => Ok(Notice::Refused(e)),
        e => Err(e.into()),
    }
}

/// The query of a page a write redirects back to.
#[derive(Deserialize, Default)]
pub struct WrittenQuery {
    /// The stream sequence the read must have reached, so the write shows.
    after: Option<String>,
    /// Set after a write that landed.
    saved: Option<String>,
}

impl WrittenQuery {
    /// The sequence to wait for, if any.
    pub fn after(&self) -> Option<u64> {
        given(&self.after).and_then(|s| s.parse().ok())
    }

    /// "Saved" after a write that landed, else nothing.
    pub fn notice(&self) -> Notice {
        if self.saved.is_some() {
            Notice::Saved
        } else {
            Notice::None
        }
    }
}

/// Where a write that landed sends the browser: back to `page`, which
/// waits for `seq` and says it was saved, at `anchor` (none if empty).
pub fn saved(page: &str, seq: u64, anchor: &str) -> String {
    if anchor.is_empty() {
        format!("{page}?after={seq}&saved=1")
    } else {
        format!("{page}?after={seq}&saved=1#{anchor}")
    }
}

/// After a write: a redirect to `result`'s page when it landed; for a
/// refusal the member of staff can act on, the page drawn `again` with
/// it; anything else is the error page.
pub async fn outcome<Fut>(
    result: Result<String, ApiError>,
    again: impl FnOnce(Notice) -> Fut,
) -> Result<Response, WebError>
where
    Fut: Future<Output = Result<Response, WebError>>,
{
    match result {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(e) => again(shown_on_page(e)?).await,
    }
}

/// Which form a refused write came from, and what was typed into it, so
/// the page shows the refusal next to that form with the values kept.
pub struct Kept {
    /// The form's name, empty for none.
    pub form: &'static str,
    /// What was typed.
    pub fields: Fields,
}

impl Kept {
    /// No refused form.
    pub fn none() -> Kept {
        Kept {
            form: "",
            fields: Fields::default(),
        }
    }

    /// The typed value of `name` if the refused form was `form`.
    pub fn v(&self, form: &str, name: &str) -> &str {
        if self.form == form {
            self.fields.raw(name)
        } else {
            ""
        }
    }

    /// `notice` if the refused form was `form`, else nothing.
    pub fn notice(&self, form: &str, notice: &Notice, lang: Lang) -> Markup {
        if self.form == form {
            notice.show(lang)
        } else {
            html! {}
        }
    }
}

/// A command form posted from a staff page, its CSRF token checked: who
/// posted it, and what was typed into which form.
pub struct Posted<'a> {
    /// The app.
    pub web: &'a Web,
    /// Who posted it.
    pub staff: &'a Staff,
    /// The page's language.
    pub lang: Lang,
    /// The form and its values, for the page if the API refuses them.
    pub kept: Kept,
}

impl<'a> Posted<'a> {
    /// The form `form` as posted; 403 unless it carries the session's
    /// CSRF token.
    pub fn new(
        web: &'a Web,
        staff: &'a Staff,
        lang: Lang,
        form: &'static str,
        pairs: Vec<(String, String)>,
    ) -> Result<Self, WebError> {
        let fields = Fields(pairs);
        fields.check_csrf(staff)?;
        Ok(Posted {
            web,
            staff,
            lang,
            kept: Kept { form, fields },
        })
    }

    /// What was typed.
    pub fn fields(&self) -> &Fields {
        &self.kept.fields
    }

    /// After the write: to `page` at `anchor` when it landed; for a
    /// refusal the member of staff can act on, the page drawn `again`
    /// with the notice and what was typed; else the error page.
    pub async fn outcome<Fut>(
        self,
        result: Result<u64, ApiError>,
        page: &str,
        anchor: &str,
        again: impl FnOnce(Self, Notice) -> Fut,
    ) -> Result<Response, WebError>
    where
        Fut: Future<Output = Result<Response, WebError>>,
    {
        let to = result.map(|seq| saved(page, seq, anchor));
        outcome(to, |notice| again(self, notice)).await
    }
}

/// A URL-encoded form read as its pairs, so that a name may repeat
/// (checkboxes) and every field can be checked the way the API checks a
/// body, with a JSON Pointer, instead of failing the whole form.
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The trimmed value of `name`, if given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The value of `name` as typed, for putting back into a form.
    pub fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every non-empty value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Whether a checkbox `name` with `value` was checked.
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && v == value)
    }

    /// 403 unless the form carries the session's CSRF token.
    pub fn check_csrf(&self, staff: &Staff) -> Result<(), WebError> {
        staff.check_csrf(self.get("csrf").unwrap_or(""))
    }

    /// Lines of a textarea, trimmed, empty ones dropped.
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.raw(name)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// A `datetime-local` value (`YYYY-MM-DDTHH:MM[:SS]`, the wall clock of
/// `zone`, the hospital's time zone) or an RFC 3339 time; else a field
/// error naming `pointer`. A wall-clock time that a DST change skips is
/// refused; one it repeats takes the earlier instant.
pub fn local_time(
    value: Option<&str>,
    zone: &str,
    pointer: &str,
    errors: &mut Vec<FieldError>,
) -> Option<DateTime<FixedOffset>> {
    let Some(value) = value else {
        errors.push(FieldError::new(pointer, "is required"));
        return None;
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t);
    }
    let tz = lantern_domain::zone::zone(Some(zone));
    let parsed = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
        .and_then(|n| tz.from_local_datetime(&n).earliest())
        .map(|t| t.fixed_offset());
    if parsed.is_none() {
        errors.push(FieldError::new(
            pointer,
            "is not a date and time YYYY-MM-DDTHH:MM",
        ));
    }
    parsed
}

/// A closed vocabulary's value (`category`, `strength`, …) from a form,
/// through its serde name; else a field error naming `pointer`.
pub fn choice<T: serde::de::DeserializeOwned>(
    value: Option<&str>,
    pointer: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let parsed = value.and_then(|v| serde_json::from_value(serde_json::Value::from(v)).ok());
    if parsed.is_none() {
        errors.push(FieldError::new(pointer, "is not one of the allowed values"));
    }
    parsed
}

/// `Err(422)` naming every field in `errors`, if any.
pub fn invalid(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// A wall-clock time for a `datetime-local` input, in `zone`.
pub fn local_input(t: DateTime<FixedOffset>, zone: &str) -> String {
    let tz = lantern_domain::zone::zone(Some(zone));
    t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

/// A time as staff read it, in `zone`.
pub fn local_display(t: DateTime<FixedOffset>, zone: &str) -> String {
    let tz = lantern_domain::zone::zone(Some(zone));
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_clock_times_are_read_in_the_hospital_zone() {
        let mut errors = vec![];
        let t = local_time(
            Some("2026-01-05T08:30"),
            "Asia/Shanghai",
            "/at",
            &mut errors,
        )
        .unwrap();
        assert_eq!(t.to_rfc3339(), "2026-01-05T08:30:00+08:00");
        let t = local_time(
            Some("2026-01-05T08:30:00+01:00"),
            "Asia/Shanghai",
            "/at",
            &mut errors,
        )
        .unwrap();
        assert_eq!(t.to_rfc3339(), "2026-01-05T08:30:00+01:00");
        assert!(errors.is_empty());
        assert!(local_time(Some("yesterday"), "Asia/Shanghai", "/at", &mut errors).is_none());
        assert!(local_time(None, "Asia/Shanghai", "/held_at", &mut errors).is_none());
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/at", "/held_at"]);
        assert_eq!(local_input(t, "Asia/Shanghai"), "2026-01-05T15:30");
    }

    #[test]
    fn forms_keep_repeated_names_and_choices_are_checked() {
        let f = Fields(vec![
            ("factors".into(), "1".into()),
            ("factors".into(), " 3 ".into()),
            ("title".into(), "  ".into()),
        ]);
        assert_eq!(f.all("factors"), ["1", "3"]);
        assert_eq!(f.get("title"), None);
        assert!(f.has("factors", "1") && !f.has("factors", "2"));
        let mut errors = vec![];
        let g: Option<lantern_domain::vocab::Grade> = choice(Some("II"), "/grade", &mut errors);
        assert!(g.is_some() && errors.is_empty());
        let g: Option<lantern_domain::vocab::Grade> = choice(Some("V"), "/grade", &mut errors);
        assert!(g.is_none() && errors[0].pointer == "/grade");
    }

    #[test]
    fn a_landed_write_returns_to_its_page_and_a_refused_one_keeps_its_form() {
        assert_eq!(saved("/staff/rca/x", 7, ""), "/staff/rca/x?after=7&saved=1");
        assert_eq!(
            saved("/staff/rca/x", 7, "actions"),
            "/staff/rca/x?after=7&saved=1#actions"
        );
        let kept = Kept {
            form: "close",
            fields: Fields(vec![("lessons".into(), " typed ".into())]),
        };
        assert_eq!(kept.v("close", "lessons"), " typed ");
        assert_eq!(kept.v("timeline", "lessons"), "");
        assert_eq!(Kept::none().v("", "lessons"), "");
    }
}
