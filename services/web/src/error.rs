//! The staff web's one error type, mapped to a response in one place: an
//! HTML page in both languages (the error may happen before the language
//! is known), never raw JSON.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use lantern_api::ApiError;
use maud::html;

use crate::layout::{bare, secure_headers};

/// Every way a staff page can fail.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The API's own refusal (scope, validation, conflict, storage).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// No live session: GET pages send the browser to sign in.
    #[error("sign in first")]
    SignInFirst,
    /// The token given at sign-in is unknown or revoked.
    #[error("the token is not valid")]
    BadToken,
    /// The form's CSRF token is missing or wrong (403; nothing is done).
    #[error("the form's CSRF token is missing or wrong")]
    Csrf,
    /// The form could not be read: too large (413), not a form (415),
    /// not decodable (400) — the status axum's rejection gives it.
    #[error("the form could not be read: {detail}")]
    BadForm {
        /// The rejection's status.
        status: StatusCode,
        /// What was wrong with it.
        detail: String,
    },
}

// A directory failure answers as the API would (503 while catching up).
impl From<lantern_directory::DirectoryError> for WebError {
    fn from(e: lantern_directory::DirectoryError) -> WebError {
        WebError::Api(e.into())
    }
}

impl WebError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Api(e) => e.status(),
            WebError::SignInFirst => StatusCode::SEE_OTHER,
            WebError::BadToken => StatusCode::UNAUTHORIZED,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::BadForm { status, .. } => *status,
        }
    }

    /// What to tell the user (the API's detail, which never holds secrets;
    /// internal errors say only "internal error").
    pub fn detail(&self) -> String {
        match self {
            WebError::Api(e) => e.problem().detail,
            other => other.to_string(),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::Api(ApiError::Internal(detail)) = &self {
            tracing::error!(%detail, "staff page failed");
        }
        if matches!(self, WebError::SignInFirst) {
            return Redirect::to("/staff/sign-in").into_response();
        }
        let status = self.status();
        let body = bare(
            "出错了 / Something went wrong",
            html! {
                h1 { "出错了 / Something went wrong" }
                p role="alert" { (status.as_u16()) " — " (self.detail()) }
                p { a href="/staff/reports" { "返回 / Back" } " · " a href="/staff/sign-in" { "登录 / Sign in" } }
            },
        );
        let mut response = (status, axum::response::Html(body.into_string())).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/html; charset=utf-8"),
        );
        secure_headers(response.headers_mut());
        response
    }
}
