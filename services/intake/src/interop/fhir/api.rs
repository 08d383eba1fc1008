//! `/fhir/r4`: the capability statement; the reports as `AdverseEvent`s in
//! the caller's scope — a safety officer its hospital's with their
//! descriptions, a QC centre its region's without narratives; critical
//! results posted as `Observation`s.
//! Every answer is `application/fhir+json`; every error an
//! `OperationOutcome` (FHIR clients read no problem+json).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use chrono::{NaiveDate, TimeDelta, Utc};
use lantern_api::IdempotencyKey;
use lantern_api::auth::Principal;
use lantern_api::error::ApiError;
use lantern_api::json::ValidJson;
use lantern_directory::HospitalRecord;
use lantern_domain::Month;
use lantern_domain::vocab::Role;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::adverse_event::{Audience, adverse_event};
use super::observation::Observation;
use super::resources::{
    AdverseEvent, Bundle, BundleEntry, BundleLink, EntrySearch, Issue, OperationOutcome,
};
use super::{FHIR_JSON, FHIR_VERSION};
use crate::reports::ReportRecord;
use crate::state::Intake;

/// Page size unless `_count` says otherwise.
pub const DEFAULT_COUNT: usize = 50;
/// The largest page.
pub const MAX_COUNT: usize = 200;

/// Below every month a listing is kept under (`YYYY-MM` sorts as text).
const EARLIEST: &str = "0000-01";

/// A FHIR answer: the resource as `application/fhir+json`.
pub struct Fhir<T>(pub T);

impl<T: Serialize> IntoResponse for Fhir<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.0).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(FHIR_JSON),
        );
        response
    }
}

/// An error, answered as an `OperationOutcome` with the status the API
/// would give it.
#[derive(Debug)]
pub struct FhirError(pub ApiError);

impl<E: Into<ApiError>> From<E> for FhirError {
    fn from(e: E) -> FhirError {
        FhirError(e.into())
    }
}

impl FhirError {
    fn param(name: &str, message: impl Into<String>) -> FhirError {
        FhirError(ApiError::field(format!("/{name}"), message))
    }
}

impl IntoResponse for FhirError {
    fn into_response(self) -> Response {
        // FHIR answers a search it cannot process with 400, not 422.
        let status = match &self.0 {
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            other => other.status(),
        };
        let code = match status {
            StatusCode::UNAUTHORIZED => "login",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not-found",
            StatusCode::TOO_MANY_REQUESTS => "throttled",
            StatusCode::SERVICE_UNAVAILABLE => "transient",
            s if s.is_server_error() => "exception",
            _ => "invalid",
        };
        let issue = match &self.0 {
            ApiError::Invalid(fields) => fields
                .iter()
                .map(|f| Issue {
                    severity: "error",
                    code,
                    diagnostics: f.message.clone(),
                    expression: vec![f.pointer.trim_start_matches('/').to_owned()],
                })
                .collect(),
            // The cause of a 500 is logged by the API's own answer, never shown.
            ApiError::Internal(_) => vec![Issue {
                severity: "fatal",
                code,
                diagnostics: "internal error".into(),
                expression: vec![],
            }],
            other => vec![Issue {
                severity: "error",
                code,
                diagnostics: other.to_string(),
                expression: vec![],
            }],
        };
        // Headers the API sets for this error (Retry-After, WWW-Authenticate).
        let api = self.0.into_response();
        let mut response = (
            status,
            Fhir(OperationOutcome {
                resource_type: "OperationOutcome",
                issue,
            }),
        )
            .into_response();
        for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
            if let Some(v) = api.headers().get(&name) {
                response.headers_mut().insert(name, v.clone());
            }
        }
        response
    }
}

/// `GET /fhir/r4/metadata`: what this server does, as a
/// `CapabilityStatement` (no token needed, as FHIR clients expect).
pub async fn metadata() -> Fhir<serde_json::Value> {
    Fhir(json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-07",
        "kind": "instance",
        "software": {"name": "Lantern", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "Lantern: adverse-event and critical-value reporting"},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON],
        "rest": [{
            "mode": "server",
            "security": {
                "description": "Bearer token of a safety officer (its hospital's events) or a QC centre (its region's, without narratives)"
            },
            "resource": [{
                "type": "AdverseEvent",
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "searchParam": [
                    {"name": "date", "type": "date",
                     "documentation": "When the event occurred (the day); prefixes eq, ge, gt, le, lt; repeat for a range"},
                    {"name": "_count", "type": "number",
                     "documentation": "Page size, 1–200 (default 50)"},
                    {"name": "_page", "type": "number",
                     "documentation": "Page, from 1; follow the bundle's next link"},
                    {"name": "hospital", "type": "token",
                     "documentation": "A hospital's code, within the caller's scope"}
                ]
            }, {
                "type": "Observation",
                "interaction": [{"code": "create"}],
                "documentation": "A critical result (interpretation HH, LL or AA, or past the hospital's critical-value catalogue for its coded item) with the patient's department and setting as extensions; recorded as a critical value, the patient never read"
            }]
        }]
    }))
}

/// What a search asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// Occurred on or after this day.
    pub from: Option<NaiveDate>,
    /// Occurred on or before this day.
    pub to: Option<NaiveDate>,
    /// Page size.
    pub count: usize,
    /// Page, from 1.
    pub page: usize,
    /// One hospital of the caller's scope.
    pub hospital: Option<String>,
}

impl Search {
    /// The search of a query string, or the parameter at fault. Unknown
    /// parameters are refused, not ignored: a client that thinks it
    /// filtered must not get everything.
    pub fn parse(query: &str) -> Result<Search, FhirError> {
        let mut search = Search {
            from: None,
            to: None,
            count: DEFAULT_COUNT,
            page: 1,
            hospital: None,
        };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "date" => {
                    let (prefix, day) = match value.get(..2) {
                        Some(p @ ("eq" | "ge" | "gt" | "le" | "lt")) => (p, &value[2..]),
                        _ => ("eq", value.as_ref()),
                    };
                    // chrono also takes unpadded months and days; FHIR's
                    // date does not.
                    let day = Some(day)
                        .filter(|d| d.len() == 10)
                        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                        .ok_or_else(|| {
                            FhirError::param(
                                "date",
                                "must be a day, YYYY-MM-DD, after eq, ge, gt, le or lt",
                            )
                        })?;
                    let next = || day.checked_add_signed(TimeDelta::days(1));
                    let prev = || day.checked_sub_signed(TimeDelta::days(1));
                    let (from, to) = match prefix {
                        "ge" => (Some(day), None),
                        "gt" => (next(), None),
                        "le" => (None, Some(day)),
                        "lt" => (None, prev()),
                        _ => (Some(day), Some(day)),
                    };
                    search.from = search.from.max(from);
                    search.to = match (search.to, to) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                "_count" => {
                    search.count = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_COUNT).contains(n))
                        .ok_or_else(|| FhirError::param("_count", "must be 1–200"))?;
                }
                "_page" => {
                    search.page = value
                        .parse()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| FhirError::param("_page", "starts at 1"))?;
                }
                "hospital" => search.hospital = Some(value.into_owned()),
                "_format" if value == "json" || value == FHIR_JSON => {}
                other => {
                    return Err(FhirError::param(
                        other,
                        "is not a search parameter of AdverseEvent here (date, _count, _page, hospital)",
                    ));
                }
            }
        }
        Ok(search)
    }

    /// The query string of page `page` of this search.
    fn query(&self, page: usize) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(from) = self.from {
            q.append_pair("date", &format!("ge{from}"));
        }
        if let Some(to) = self.to {
            q.append_pair("date", &format!("le{to}"));
        }
        if let Some(h) = &self.hospital {
            q.append_pair("hospital", h);
        }
        q.append_pair("_count", &self.count.to_string());
        q.append_pair("_page", &page.to_string());
        q.finish()
    }

    fn matches(&self, record: &ReportRecord) -> bool {
        let day = record.occurred_at.date_naive();
        self.from.is_none_or(|f| day >= f) && self.to.is_none_or(|t| day <= t)
    }
}

/// The base URL resources are named under: this server as the client
/// reached it.
fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/fhir/r4")
}

/// `GET /fhir/r4/AdverseEvent`: a page of the reports in scope whose event
/// occurred in the range asked, as a `searchset` bundle with a `next` link.
/// Ordered by the day they occurred, newest first, then by id: never by
/// when they were filed.
pub async fn search(
    State(app): State<Intake>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Fhir<Bundle>, FhirError> {
    let principal = principal?;
    let search = Search::parse(query.as_deref().unwrap_or(""))?;
    let hospitals = in_scope(&app, &principal, search.hospital.as_deref()).await?;
    // A report is filed on or after the day its event occurred (a day of
    // slack for time zones), so months before `from` hold none.
    let first = search
        .from
        .and_then(|f| f.checked_sub_signed(TimeDelta::days(1)))
        .map_or_else(|| EARLIEST.to_owned(), |d| Month::of(d).to_string());
    let last = Month::of(Utc::now().date_naive()).next().to_string();
    let mut matched = Vec::new();
    for h in &hospitals {
        let records = app.reports.records(&h.code, &first, &last)?;
        matched.extend(records.into_iter().filter(|r| search.matches(r)));
    }
    matched.sort_by(|a, b| {
        b.occurred_at
            .date_naive()
            .cmp(&a.occurred_at.date_naive())
            .then(a.report_id.cmp(&b.report_id))
    });
    let total = matched.len();
    let shown: Vec<ReportRecord> = matched
        .into_iter()
        .skip((search.page - 1).saturating_mul(search.count))
        .take(search.count)
        .collect();
    let base = base(&headers);
    let entry = resources(&app, &principal, shown)
        .await?
        .into_iter()
        .map(|resource| BundleEntry {
            full_url: format!("{base}/AdverseEvent/{}", resource.id),
            resource,
            search: EntrySearch { mode: "match" },
        })
        .collect();
    let mut link = vec![BundleLink {
        relation: "self",
        url: format!("{base}/AdverseEvent?{}", search.query(search.page)),
    }];
    if search.page.saturating_mul(search.count) < total {
        link.push(BundleLink {
            relation: "next",
            url: format!("{base}/AdverseEvent?{}", search.query(search.page + 1)),
        });
    }
    Ok(Fhir(Bundle {
        resource_type: "Bundle",
        kind: "searchset",
        total,
        link,
        entry,
    }))
}

/// `GET /fhir/r4/AdverseEvent/{id}`: one report in the caller's scope.
pub async fn read(
    State(app): State<Intake>,
    principal: Result<Principal, ApiError>,
    Path(id): Path<String>,
) -> Result<Fhir<AdverseEvent>, FhirError> {
    let principal = principal?;
    let not_found = || FhirError(ApiError::NotFound(format!("no AdverseEvent {id}")));
    let report_id: Uuid = id.parse().map_err(|_| not_found())?;
    principal.require(&[Role::SafetyOfficer, Role::QcCentre])?;
    let record = app.reports.record(report_id).await?.ok_or_else(not_found)?;
    let hospital = app
        .directory
        .hospital(&record.hospital)
        .await?
        .ok_or_else(not_found)?;
    // Out of scope is not found: an id must not tell that a report exists
    // elsewhere.
    if !principal.can_read(&hospital) {
        return Err(not_found());
    }
    resources(&app, &principal, vec![record])
        .await?
        .pop()
        .map(Fhir)
        .ok_or_else(not_found)
}

/// The hospitals a search covers: the caller's own, or its region's (one
/// of them if `asked`).
async fn in_scope(
    app: &Intake,
    principal: &Principal,
    asked: Option<&str>,
) -> Result<Vec<HospitalRecord>, FhirError> {
    principal.require(&[Role::SafetyOfficer, Role::QcCentre])?;
    let hospitals: Vec<HospitalRecord> = match principal {
        Principal::QcCentre { region } => app.directory.hospitals_in(region)?,
        _ => {
            let own = principal.hospital().unwrap_or_default();
            app.directory.hospital(own).await?.into_iter().collect()
        }
    };
    match asked {
        None => Ok(hospitals),
        Some(code) => {
            let known: BTreeSet<&str> = hospitals.iter().map(|h| h.code.as_str()).collect();
            if !known.contains(code) {
                return Err(FhirError::param(
                    "hospital",
                    "is not a hospital of this token's scope",
                ));
            }
            Ok(hospitals.into_iter().filter(|h| h.code == code).collect())
        }
    }
}

/// The records as resources for the principal: with descriptions for the
/// hospital's own office, codes only for a QC centre.
async fn resources(
    app: &Intake,
    principal: &Principal,
    records: Vec<ReportRecord>,
) -> Result<Vec<AdverseEvent>, FhirError> {
    if principal.reads_narratives() {
        let described = app.reports.describe(records).await?;
        Ok(described
            .iter()
            .map(|r| {
                adverse_event(
                    &r.record,
                    Audience::Hospital {
                        description: &r.description,
                    },
                )
            })
            .collect())
    } else {
        Ok(records
            .iter()
            .map(|r| adverse_event(r, Audience::Supervisor))
            .collect())
    }
}

/// `POST /fhir/r4/Observation`: a critical result from a laboratory or
/// imaging system (its LIS/HIS token, or the safety officer's) recorded as
/// `critical_value.detected` exactly as the API records one; 201 with the
/// critical value's location and an informational `OperationOutcome`
/// (Lantern keeps the critical value, not the observation). A result not
/// flagged critical (HH, LL, AA) is refused: nothing is appended.
pub async fn create_observation(
    State(app): State<Intake>,
    principal: Result<Principal, ApiError>,
    key: IdempotencyKey,
    // The kernel's reading of a JSON body (`application/fhir+json` is
    // `+json`): 415, 413, 408, 400, refused control characters and fields
    // named alike, answered here as an OperationOutcome.
    body: Result<ValidJson<Observation>, ApiError>,
) -> Result<Response, FhirError> {
    let principal = principal?;
    let hospital = principal
        .require_hospital(&[Role::Lis, Role::His, Role::SafetyOfficer])?
        .to_owned();
    let ValidJson(observation) = body?;
    let catalogue = app.critical_values.catalogue_history(&hospital)?;
    let detect = observation
        .detect(&hospital, &catalogue)
        .map_err(ApiError::Invalid)?;
    let detected = app.detect(&principal, detect, Some(&key)).await?;
    let location = format!("/api/v1/critical-values/{}", detected.critical_value_id);
    let mut response = (
        StatusCode::CREATED,
        Fhir(OperationOutcome {
            resource_type: "OperationOutcome",
            issue: vec![Issue {
                severity: "information",
                code: "informational",
                diagnostics: format!(
                    "recorded as critical value {} (stream sequence {})",
                    detected.critical_value_id, detected.seq
                ),
                expression: vec![],
            }],
        }),
    )
        .into_response();
    if let Ok(v) = header::HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// The FHIR routes, apart from the OpenAPI document (FHIR describes itself
/// with its capability statement).
pub fn router(app: Intake) -> axum::Router {
    use axum::routing::get;
    axum::Router::new()
        .route("/fhir/r4/metadata", get(metadata))
        .route("/fhir/r4/AdverseEvent", get(search))
        .route("/fhir/r4/AdverseEvent/{id}", get(read))
        .route(
            "/fhir/r4/Observation",
            axum::routing::post(create_observation),
        )
        .with_state(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(q: &str) -> Search {
        Search::parse(q).unwrap()
    }

    fn refused(q: &str) -> String {
        match Search::parse(q) {
            Err(FhirError(ApiError::Invalid(f))) => f[0].pointer.clone(),
            other => panic!("{q}: {other:?}"),
        }
    }

    fn day(s: &str) -> Option<NaiveDate> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn dates_with_prefixes_make_one_range() {
        let s = parsed("date=ge2026-03-01&date=lt2026-04-01&_count=10&_page=2");
        assert_eq!((s.from, s.to), (day("2026-03-01"), day("2026-03-31")));
        assert_eq!((s.count, s.page), (10, 2));
        let s = parsed("date=2026-03-05");
        assert_eq!((s.from, s.to), (day("2026-03-05"), day("2026-03-05")));
        let s = parsed("date=gt2026-03-05&date=le2026-03-09&date=le2026-03-07");
        assert_eq!((s.from, s.to), (day("2026-03-06"), day("2026-03-07")));
        assert_eq!(
            parsed(""),
            Search {
                from: None,
                to: None,
                count: DEFAULT_COUNT,
                page: 1,
                hospital: None
            }
        );
    }

    #[test]
    fn a_bad_or_unknown_parameter_is_named() {
        assert_eq!(refused("date=ge2026-3-1"), "/date");
        assert_eq!(refused("date=sa2026-03-01"), "/date");
        assert_eq!(refused("_count=0"), "/_count");
        assert_eq!(refused("_count=201"), "/_count");
        assert_eq!(refused("_page=0"), "/_page");
        assert_eq!(refused("patient=1"), "/patient");
        assert_eq!(refused("_sort=date"), "/_sort");
    }

    #[test]
    fn a_page_link_repeats_the_search() {
        let s = parsed("date=ge2026-03-01&date=le2026-03-31&hospital=H1&_count=5");
        let again = parsed(&s.query(3));
        assert_eq!(again, Search { page: 3, ..s });
    }
}
