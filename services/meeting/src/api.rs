//! `GET /api/v1/meetings/{YYYY-MM}`: the monthly dispatch pack as JSON, or
//! as a printable A4 page with `Accept: text/html`.

use axum::Json;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use lantern_api::auth::Principal;
use lantern_api::path::ValidPath;
use lantern_api::query::{ValidQuery, wait_after};
use lantern_api::responses::QueryErrors;
use lantern_api::{ApiError, FieldError};
use lantern_domain::Month;
use lantern_domain::vocab::Role;
use lantern_intake::reports::ReportRecord;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::pack::{
    HospitalInputs, Pack, Scope, adverse_events_part, critical_values_part, deaths_part,
    month_minus, reporting_part,
};
use lantern_api::Kernel;
use lantern_api::auth::Auth;
use lantern_intake::reports::Reports;
use lantern_mortality::Mortality;
use lantern_mortality::api::today;
use lantern_rates::Rates;
use lantern_rca::Cases;
use utoipa_axum::{router::OpenApiRouter, routes};

/// State of the pack: the kernel (auth, directory) and the query facades
/// of the contexts it reads.
#[derive(Clone)]
pub struct Meeting {
    /// Authentication and the directory.
    pub kernel: Kernel,
    /// Death trails.
    pub deaths: Mortality,
    /// Rates (reporting rate, critical values).
    pub rates: Rates,
    /// Reports.
    pub reports: Reports,
    /// Root-cause analyses.
    pub rca: Cases,
}

impl FromRef<Meeting> for Auth {
    fn from_ref(m: &Meeting) -> Auth {
        m.kernel.auth.clone()
    }
}

/// The pack's routes.
pub fn router(m: Meeting) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(meeting_pack))
        .with_state(m)
}

/// Whose pack.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PackQuery {
    /// One hospital (safety officer, or the QC centre of its region).
    pub hospital: Option<String>,
    /// A whole region (its QC centre).
    pub region: Option<String>,
    /// Wait until this stream sequence is applied.
    pub after: Option<u64>,
}

/// The state of a serious report's analysis: none, open, overdue or closed.
fn rca_state(m: &Meeting, r: &ReportRecord) -> &'static str {
    let open: Vec<_> = r
        .rcas_open
        .iter()
        .filter_map(|id| m.rca.record(*id).ok().flatten())
        .collect();
    if !open.is_empty() {
        let today = m
            .rca
            .today(&r.hospital, chrono::Utc::now())
            .unwrap_or_else(|_| chrono::Utc::now().date_naive());
        if open.iter().any(|c| c.case.overdue_on(today)) {
            "overdue"
        } else {
            "open"
        }
    } else if !r.rcas_closed.is_empty() {
        "closed"
    } else {
        "none"
    }
}

impl Meeting {
    /// The pack of `month` for the hospital or region `q` names, as
    /// `principal` may read it: what the endpoint and the staff web show.
    pub async fn pack(
        &self,
        principal: &Principal,
        month: Month,
        q: &PackQuery,
    ) -> Result<Pack, ApiError> {
        let m = self;
        principal.require(&[Role::SafetyOfficer, Role::QcCentre])?;
        let all = m.kernel.directory.hospitals()?;
        let (scope, hospitals) = match (&q.hospital, &q.region) {
            (Some(h), None) => {
                let record =
                    m.kernel.directory.hospital(h).await?.ok_or_else(|| {
                        ApiError::field("/hospital", "is not a registered hospital")
                    })?;
                principal.require_in(&[Role::SafetyOfficer, Role::QcCentre], &record)?;
                (Scope::Hospital(h.clone()), vec![record])
            }
            (None, Some(r)) => {
                principal.require(&[Role::QcCentre])?;
                if principal.region.as_deref() != Some(r.as_str()) {
                    return Err(ApiError::Forbidden(format!(
                        "this token's scope does not include region {r}"
                    )));
                }
                (
                    Scope::Region(r.clone()),
                    all.into_iter().filter(|h| &h.region == r).collect(),
                )
            }
            _ => {
                return Err(ApiError::Invalid(vec![FieldError::new(
                    "/hospital",
                    "give exactly one of hospital and region",
                )]));
            }
        };
        for handle in [
            &m.deaths.handle,
            m.rates.handle(),
            m.rca.handle(),
            m.reports.handle(),
        ] {
            wait_after(handle, q.after).await?;
        }
        // Exact for a QC centre too (DESIGN v2): suppression is for
        // published figures only.
        let k: Option<u64> = None;
        let (from, to) = (month_minus(month, 11), month.to_string());
        let mut inputs = Vec::new();
        let mut cases = Vec::new();
        for h in &hospitals {
            inputs.push(HospitalInputs {
                deaths: m.deaths.deaths(&h.code, Some(&to))?,
                reports: m.reports.records(&h.code, &to, &to)?,
                cells: m.rates.cells(&h.code, from, month)?,
                today: today(&h.timezone),
            });
            cases.extend(m.rca.cases_of(&h.code).map_err(ApiError::from)?);
        }
        let day = inputs
            .iter()
            .map(|i| i.today)
            .min()
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        Ok(Pack {
            month: to,
            scope,
            deaths: deaths_part(&inputs, k, &|id, d| m.deaths.rca_link(id, d)),
            adverse_events: adverse_events_part(&inputs, k, |r| rca_state(m, r)),
            rca: lantern_rca::figures::compute(cases.iter().map(|c| &c.case), month, day),
            critical_values: critical_values_part(&inputs, month, k),
            reporting_rate: reporting_part(&inputs, month),
        })
    }
}

/// The monthly dispatch pack of a hospital or a region. JSON by default; a
/// printable A4 page (black-and-white safe) with `Accept: text/html`. A QC
/// centre gets the same small-cell suppression as in the rates.
#[utoipa::path(get, path = "/api/v1/meetings/{month}", tag = "deaths",
    params(("month" = String, Path, description = "YYYY-MM"), PackQuery),
    responses((status = 200, body = Pack, description = "The pack (JSON; with Accept: text/html, a printable page)"), QueryErrors),
    security(("bearer" = [])))]
pub async fn meeting_pack(
    State(m): State<Meeting>,
    principal: Principal,
    ValidPath(month): ValidPath<String>,
    headers: HeaderMap,
    ValidQuery(q): ValidQuery<PackQuery>,
) -> Result<Response, ApiError> {
    let month =
        Month::parse(&month).ok_or_else(|| ApiError::field("/month", "is not a month YYYY-MM"))?;
    let pack = m.pack(&principal, month, &q).await?;
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html {
        // Its stylesheet is inline: the page's CSP allows that by hash.
        return Ok(lantern_api::headers::html_page(
            crate::html::render(&pack).into_string(),
        ));
    }
    Ok(Json(pack).into_response())
}
