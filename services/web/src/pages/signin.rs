//! Sign-in and sign-out.
//!
//! The sign-in form has no session yet, so no per-session CSRF token: the
//! SameSite=Strict cookie and the need to know a valid token are what
//! guard it (a forged sign-in could only sign the victim in as the forger).

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use lantern_api::ratelimit::AuthFailures;
use lantern_domain::vocab::Role;
use maud::html;
use serde::Deserialize;

use crate::error::WebError;
use crate::i18n::{Key, Lang};
use crate::layout::{bare, html_response};
use crate::session::{Staff, cleared_cookie, session_cookie};
use crate::{PageForm, Web};

fn sign_in_page(lang: Lang, refused: bool) -> Response {
    let body = html! {
        p { a href={ "/staff/sign-in?lang=" (lang.other().code()) } lang=(lang.other().tag()) { (lang.t(Key::Switch)) } }
        h1 { (lang.t(Key::SigninH1)) }
        @if refused { p class="alert" role="alert" { (lang.t(Key::SigninBad)) } }
        form method="post" action="/staff/sign-in" autocomplete="off" {
            label for="token" { (lang.t(Key::SigninToken)) }
            p class="hint" id="token-hint" { (lang.t(Key::SigninHint)) }
            input type="password" id="token" name="token" required autocomplete="off" aria-describedby="token-hint" size="48";
            p { button type="submit" { (lang.t(Key::SigninSubmit)) } }
        }
    };
    let mut r = html_response(bare(lang.t(Key::SigninH1), body));
    if refused {
        *r.status_mut() = StatusCode::UNAUTHORIZED;
    }
    r
}

/// `GET /staff/sign-in`: the form to paste a token into.
pub async fn form(lang: Lang) -> Response {
    sign_in_page(lang, false)
}

/// `GET /staff`: the signed-in member's home page.
pub async fn home(staff: Staff) -> Redirect {
    Redirect::to(match staff.principal.role() {
        Role::SafetyOfficer => "/staff/reports",
        _ => "/staff/dashboard",
    })
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    token: String,
}

/// `POST /staff/sign-in`: validates the token the same way the API does and
/// opens a session; the token itself is not kept.
///
/// Failed sign-ins count against the client's limit of failed tokens (the
/// rate limits, when they are on): over it, 429 before the token is tried.
pub async fn sign_in(
    State(web): State<Web>,
    lang: Lang,
    failures: Option<Extension<AuthFailures>>,
    PageForm(form): PageForm<SignIn>,
) -> Result<Response, WebError> {
    if let Some(Extension(f)) = &failures
        && let Err(e) = f.check()
    {
        return Ok(e.into_response());
    }
    let id = match web.sessions.sign_in(&web.intake.auth, &form.token).await {
        Ok(id) => id,
        Err(WebError::BadToken) => {
            if let Some(Extension(f)) = &failures
                && let Err(e) = f.failed()
            {
                return Ok(e.into_response());
            }
            return Ok(sign_in_page(lang, true));
        }
        Err(e) => return Err(e),
    };
    let mut r = Redirect::to("/staff").into_response();
    let cookie = HeaderValue::from_str(&session_cookie(&id))
        .map_err(|e| WebError::Api(lantern_api::ApiError::internal(e.to_string())))?;
    r.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(r)
}

/// The sign-out form.
#[derive(Deserialize)]
pub struct SignOut {
    #[serde(default)]
    csrf: String,
}

/// `POST /staff/sign-out`: ends the session (CSRF-checked, so a forged
/// form cannot sign anyone out).
pub async fn sign_out(
    State(web): State<Web>,
    staff: Staff,
    PageForm(form): PageForm<SignOut>,
) -> Result<Response, WebError> {
    staff.check_csrf(&form.csrf)?;
    web.sessions.sign_out(&staff.session_id).await?;
    let mut r = Redirect::to("/staff/sign-in").into_response();
    if let Ok(v) = HeaderValue::from_str(&cleared_cookie()) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}
