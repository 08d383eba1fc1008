//! Lantern's staff web: server-rendered pages on the same router and port
//! as the API, for the people who would otherwise drive Lantern with curl.
//!
//! - [`session`]: sign-in with a token, server-side sessions, CSRF;
//! - [`i18n`]: every string, zh-CN and English, by compiler-checked key;
//! - [`layout`]: the page shell and security headers;
//! - [`error`]: the one error type and its page;
//! - [`pages`]: sign-in, the safety officer's workspace (reports, critical
//!   values, root-cause analyses, death trails, the monthly pack), the QC
//!   dashboard, targets;
//! - [`charts`]: u-chart, funnel-plot and Pareto formulas and their SVG.
//!
//! Every read and write is a call on the contexts' services ([`Intake`],
//! [`Rca`], [`Mortality`], [`Meeting`], [`Rates`]) — the same methods the
//! API's handlers wrap — so the web cannot drift from what the API accepts
//! or refuses, and never fabricates an HTTP request to reach them.
//!
//! Modules depend one way: `pages` → `session` → `error` → `layout` →
//! `i18n`.

pub mod charts;
pub mod error;
pub mod i18n;
pub mod layout;
pub mod pages;
pub mod session;

use axum::Router;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use lantern_intake::Intake;
use lantern_meeting::Meeting;
use lantern_mortality::Mortality;
use lantern_rates::Rates;
use lantern_rca::Rca;
use serde::de::DeserializeOwned;

use crate::error::WebError;
use crate::i18n::{LANG_COOKIE, lang_in_query};
use crate::session::Sessions;

/// The staff web's state.
#[derive(Clone)]
pub struct Web {
    /// The intake: reports, critical values, directory, the command path.
    pub intake: Intake,
    /// The rates query (None when the rates service does not run here).
    pub rates: Option<Rates>,
    /// Root-cause analyses (None when the rca service does not run here).
    pub rca: Option<Rca>,
    /// Death trails (None when not running here).
    pub mortality: Option<Mortality>,
    /// The monthly pack (None when not running here).
    pub meeting: Option<Meeting>,
    /// Signed-in staff (shared by every replica).
    pub sessions: Sessions,
}

impl Web {
    /// The web over the intake, the staff sessions and, if running, the rates.
    pub fn new(intake: Intake, sessions: Sessions, rates: Option<Rates>) -> Web {
        Web {
            intake,
            rates,
            rca: None,
            mortality: None,
            meeting: None,
            sessions,
        }
    }

    /// With the root-cause analyses' command path and read model.
    pub fn with_rca(mut self, rca: Rca) -> Web {
        self.rca = Some(rca);
        self
    }

    /// With death trails.
    pub fn with_mortality(mut self, mortality: Mortality) -> Web {
        self.mortality = Some(mortality);
        self
    }

    /// With the monthly pack.
    pub fn with_meeting(mut self, meeting: Meeting) -> Web {
        self.meeting = Some(meeting);
        self
    }

    /// The monthly pack, or a 404 page when it does not run here.
    pub fn meeting(&self) -> Result<&Meeting, WebError> {
        self.meeting.as_ref().ok_or_else(|| {
            WebError::Api(lantern_api::ApiError::NotFound(
                "the monthly pack does not run here".into(),
            ))
        })
    }

    /// The rca service, or a 404 page when it does not run here.
    pub fn rca(&self) -> Result<&Rca, WebError> {
        self.rca.as_ref().ok_or_else(|| {
            WebError::Api(lantern_api::ApiError::NotFound(
                "the rca service does not run here".into(),
            ))
        })
    }

    /// The mortality service, or a 404 page when it does not run here.
    pub fn mortality(&self) -> Result<&Mortality, WebError> {
        self.mortality.as_ref().ok_or_else(|| {
            WebError::Api(lantern_api::ApiError::NotFound(
                "the mortality service does not run here".into(),
            ))
        })
    }
}

/// The staff pages, under `/staff`.
pub fn router(web: Web) -> Router {
    use pages::{critical, dashboard, deaths, followups, meeting, rca, reports, signin, targets};
    Router::new()
        .route("/staff", get(signin::home))
        .route("/staff/app.css", get(stylesheet))
        // Browsers ask every page for one; an empty answer keeps a 404 out
        // of every console (the clinician's form included).
        .route(
            "/favicon.ico",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route("/staff/sign-in", get(signin::form).post(signin::sign_in))
        .route("/staff/sign-out", post(signin::sign_out))
        .route("/staff/reports", get(reports::inbox))
        .route("/staff/reports/{id}", get(reports::report))
        .route("/staff/reports/{id}/triage", post(reports::triage))
        .route("/staff/reports/{id}/feedback", post(reports::feedback))
        .route("/staff/critical-values", get(critical::worklist))
        .route("/staff/rca", get(rca::list).post(rca::open))
        .route("/staff/rca/{id}", get(rca::case))
        .route("/staff/rca/{id}/timeline", post(rca::timeline))
        .route("/staff/rca/{id}/factors", post(rca::factor))
        .route("/staff/rca/{id}/root-causes", post(rca::root_causes))
        .route("/staff/rca/{id}/actions", post(rca::action))
        .route("/staff/rca/{id}/actions/{n}/complete", post(rca::complete))
        .route("/staff/rca/{id}/close", post(rca::close))
        .route("/staff/deaths", get(deaths::list).post(deaths::record))
        .route("/staff/deaths/{id}", get(deaths::trail))
        .route("/staff/deaths/{id}/reviews", post(deaths::review))
        .route("/staff/deaths/{id}/autopsy", post(deaths::autopsy))
        .route("/staff/deaths/{id}/close", post(deaths::close))
        .route(
            "/staff/follow-ups",
            get(followups::list).post(followups::open),
        )
        .route("/staff/follow-ups/{id}", get(followups::item))
        .route("/staff/follow-ups/{id}/answer", post(followups::answer))
        .route("/staff/follow-ups/{id}/carry", post(followups::carry))
        .route("/staff/follow-ups/{id}/close", post(followups::close))
        .route("/staff/targets", get(targets::list).post(targets::set))
        .route("/staff/meeting", get(meeting::pick))
        .route("/staff/meeting/{month}", get(meeting::pack))
        .route("/staff/quality-reports", get(meeting::pick_report))
        .route("/staff/quality-reports/{period}", get(meeting::report))
        .route("/staff/dashboard", get(dashboard::dashboard))
        .route("/staff/dashboard.csv", get(dashboard::csv))
        .route(
            "/staff/dashboard/categories.csv",
            get(dashboard::categories_csv_file),
        )
        .layer(axum::middleware::from_fn(remember_lang))
        .with_state(web)
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        layout::STYLE,
    )
        .into_response()
}

/// `?lang=` on any staff page is remembered in a cookie, so the switch
/// holds on the next page and after a form post.
async fn remember_lang(req: Request, next: Next) -> Response {
    let lang = lang_in_query(req.uri().query());
    let mut response = next.run(req).await;
    if let Some(lang) = lang
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={}; SameSite=Strict; Path=/staff; Max-Age=31536000",
            lang.code()
        ))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// A URL-encoded form; a form that cannot be read is a [`WebError`] page,
/// not axum's plain-text rejection.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(t)| PageForm(t))
            .map_err(|e| WebError::BadForm {
                status: e.status(),
                detail: e.body_text(),
            })
    }
}
