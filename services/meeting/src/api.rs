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
use lantern_domain::targets::{Indicator, resolve};
use lantern_domain::vocab::{Level, Role};
use lantern_intake::reports::ReportRecord;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::cases::{CaseList, death_cases, event_cases};
use crate::followups::{
    AnswerFollowUp, CarryFollowUp, CloseFollowUp, FollowUpList, FollowUpOpened, FollowUpView,
    ListFollowUps, OpenFollowUp,
};
use crate::indicators::hospital_counts;
use crate::pack::{
    HospitalInputs, Pack, Scope, adverse_events_part, critical_values_part, deaths_part,
    month_minus, reporting_part,
};
use crate::periodic::{HospitalCounts, Period, PeriodicReport};
use crate::published::{Input as PublishInput, PublishedFigures, When, release};
use crate::region::{RowInputs, row, worst_first};
use axum::http::StatusCode;
use chrono::NaiveDate;
use lantern_api::IdempotencyKey;
use lantern_api::Kernel;
use lantern_api::auth::Auth;
use lantern_api::json::ValidJson;
use lantern_api::query::After;
use lantern_api::responses::{Appended, CommandErrors, created};
use lantern_directory::HospitalRecord;
use lantern_intake::reports::Reports;
use lantern_mortality::Mortality;
use lantern_mortality::api::today;
use lantern_rates::Rates;
use lantern_rca::Cases;
use lantern_rca::views::RcaLink;
use std::collections::BTreeMap;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

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
    /// QC actions addressed to hospitals.
    pub followups: crate::followups::FollowUps,
    /// The last protected year of published figures, with what it was
    /// computed from: protecting a year is costly and its answer changes
    /// only when an event does.
    pub published: PublishedCache,
}

/// The last published year: (year, the month it was computed in — which
/// periods have ended —, a digest of the ended periods' counts, k, whether
/// the year has ended) → its protected table.
pub type PublishedCache = std::sync::Arc<
    std::sync::Mutex<
        Option<(
            (i32, Month, [u64; 3]),
            std::sync::Arc<crate::published::Release>,
        )>,
    >,
>;

impl FromRef<Meeting> for Auth {
    fn from_ref(m: &Meeting) -> Auth {
        m.kernel.auth.clone()
    }
}

/// The pack's routes.
pub fn router(m: Meeting) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(meeting_pack))
        .routes(routes!(case_list))
        .routes(routes!(quality_report))
        .routes(routes!(public_figures))
        .routes(routes!(open_followup, list_followups))
        .routes(routes!(get_followup))
        .routes(routes!(answer_followup))
        .routes(routes!(carry_followup))
        .routes(routes!(close_followup))
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
    /// Whose figures `hospital` or `region` names, as `principal` may read
    /// them: one hospital (its safety officer, or its region's QC centre)
    /// or a whole region (its QC centre).
    async fn scope(
        &self,
        principal: &Principal,
        hospital: Option<&String>,
        region: Option<&String>,
    ) -> Result<(Scope, Vec<HospitalRecord>), ApiError> {
        principal.require(&[Role::SafetyOfficer, Role::QcCentre])?;
        match (hospital, region) {
            (Some(h), None) => {
                let record =
                    self.kernel.directory.hospital(h).await?.ok_or_else(|| {
                        ApiError::field("/hospital", "is not a registered hospital")
                    })?;
                principal.require_in(&[Role::SafetyOfficer, Role::QcCentre], &record)?;
                Ok((Scope::Hospital(h.clone()), vec![record]))
            }
            (None, Some(r)) => {
                // Its own region, or a region below it (a province's QC
                // centre reads a city's pack).
                let directory = &self.kernel.directory;
                principal.require_region(directory, r)?;
                Ok((Scope::Region(r.clone()), directory.hospitals_in(r)?))
            }
            _ => Err(ApiError::Invalid(vec![FieldError::new(
                "/hospital",
                "give exactly one of hospital and region",
            )])),
        }
    }

    async fn caught_up(&self, after: Option<u64>) -> Result<(), ApiError> {
        for handle in [
            // Targets are the directory's.
            self.kernel.directory.handle(),
            &self.followups.handle,
            &self.deaths.handle,
            self.rates.handle(),
            self.rca.handle(),
            self.reports.handle(),
        ] {
            wait_after(handle, after).await?;
        }
        Ok(())
    }

    /// A report's analysis state and its analyses as they stand on `today`.
    fn analysis(&self, r: &ReportRecord, today: NaiveDate) -> (&'static str, Vec<RcaLink>) {
        let links = r
            .rcas_open
            .iter()
            .chain(&r.rcas_closed)
            .filter_map(|id| self.rca.link(*id, today))
            .collect();
        (rca_state(self, r), links)
    }

    /// The case list of `hospitals` for the months `from..=to`.
    fn case_list(
        &self,
        hospitals: &[HospitalRecord],
        from: Month,
        to: Month,
    ) -> Result<CaseList, ApiError> {
        let (mut events, mut low_risk_deaths) = (Vec::new(), Vec::new());
        for h in hospitals {
            let day = today(&h.timezone);
            let reports = self
                .reports
                .records(&h.code, &from.to_string(), &to.to_string())?;
            events.extend(event_cases(&reports, |r| self.analysis(r, day)));
            for month in from.through(to) {
                let deaths = self.deaths.deaths(&h.code, Some(&month.to_string()))?;
                low_risk_deaths.extend(death_cases(&deaths, day, |id| self.rca.link(id, day)));
            }
        }
        Ok(CaseList {
            from: from.to_string(),
            to: to.to_string(),
            events,
            low_risk_deaths,
        })
    }

    /// The case list of the hospital or region `q` names for `q.from..=q.to`.
    pub async fn cases(&self, principal: &Principal, q: &CasesQuery) -> Result<CaseList, ApiError> {
        let (_, hospitals) = self
            .scope(principal, q.hospital.as_ref(), q.region.as_ref())
            .await?;
        if q.to < q.from {
            return Err(ApiError::field("/to", "is before from"));
        }
        if q.from.through(q.to).count() > 36 {
            return Err(ApiError::field("/to", "at most 36 months at once"));
        }
        self.caught_up(q.after).await?;
        self.case_list(&hospitals, q.from, q.to)
    }

    /// The pack of `month` for the hospital or region `q` names, as
    /// `principal` may read it: what the endpoint and the staff web show.
    pub async fn pack(
        &self,
        principal: &Principal,
        month: Month,
        q: &PackQuery,
    ) -> Result<Pack, ApiError> {
        let m = self;
        let (scope, hospitals) = m
            .scope(principal, q.hospital.as_ref(), q.region.as_ref())
            .await?;
        m.caught_up(q.after).await?;
        // Exact for a QC centre too (DESIGN v2): suppression is for
        // published figures only.
        let k: Option<u64> = None;
        let to = month.to_string();
        // The targets of the month's year: each hospital's row is judged
        // against its own, the pack's rate against its scope's.
        let year = u16::try_from(month.year).unwrap_or_default();
        let targets = m.kernel.directory.targets(year)?;
        let reporting_target = |hospital: Option<&str>, regions: &[&str]| {
            resolve(&targets, Indicator::ReportingRate, hospital, regions, year)
                .ok_or_else(|| ApiError::internal("the reporting rate has a built-in target"))
        };
        let pack_target = match &scope {
            Scope::Hospital(code) => {
                let regions: Vec<&str> = hospitals.iter().flat_map(|h| h.regions()).collect();
                reporting_target(Some(code), &regions)?
            }
            Scope::Region(r) => reporting_target(None, &[r.as_str()])?,
        };
        let mut inputs = Vec::new();
        let mut cases = Vec::new();
        let mut rows = Vec::new();
        for h in &hospitals {
            let day = today(&h.timezone);
            // Thirteen months: the twelve of the chart, and the same month
            // a year before for the region table.
            let cells = m.rates.cells(&h.code, month_minus(month, 12), month)?;
            let deaths = m.deaths.deaths(&h.code, Some(&to))?;
            let hospital_cases = m.rca.cases_of(&h.code).map_err(ApiError::from)?;
            if matches!(scope, Scope::Region(_)) {
                let before = m.deaths.deaths(&h.code, Some(&month.prev().to_string()))?;
                let year_before = m
                    .deaths
                    .deaths(&h.code, Some(&month_minus(month, 12).to_string()))?;
                let open = hospital_cases.iter().filter(|c| c.case.is_open());
                let rca = (
                    open.clone().count() as u64,
                    open.filter(|c| c.case.overdue_on(day)).count() as u64,
                );
                rows.push(row(
                    &RowInputs {
                        hospital: &h.code,
                        name: &h.name,
                        level: Level::parse(&h.level),
                        cells: &cells,
                        deaths: [&deaths, &before, &year_before],
                        today: day,
                        target: reporting_target(Some(&h.code), &h.regions())?,
                        rca,
                    },
                    month,
                ));
            }
            inputs.push(HospitalInputs {
                deaths,
                reports: m.reports.records(&h.code, &to, &to)?,
                cells,
                today: day,
            });
            cases.extend(hospital_cases);
        }
        worst_first(&mut rows);
        let day = inputs
            .iter()
            .map(|i| i.today)
            .min()
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        let actions = match &scope {
            Scope::Region(r) => m.followups.in_region(r)?,
            Scope::Hospital(h) => m.followups.of_hospital(h)?,
        };
        let follow_ups = actions
            .into_iter()
            .filter(|f| f.on_agenda(month))
            .map(|f| {
                let state = f.state(day);
                crate::followups::FollowUpView { followup: f, state }
            })
            .collect();
        Ok(Pack {
            follow_ups,
            month: to,
            scope,
            deaths: deaths_part(&inputs, k, &|id, d| m.deaths.rca_link(id, d)),
            adverse_events: adverse_events_part(&inputs, k, |r| rca_state(m, r)),
            rca: lantern_rca::figures::compute(cases.iter().map(|c| &c.case), month, day),
            critical_values: critical_values_part(&inputs, month, k),
            reporting_rate: reporting_part(&inputs, month, pack_target.value.get()),
            hospitals: rows,
            cases: m.case_list(&hospitals, month, month)?,
        })
    }
}

impl Meeting {
    /// The quarterly or annual report of `period` for the hospital or
    /// region `q` names, as `principal` may read it.
    pub async fn periodic(
        &self,
        principal: &Principal,
        period: Period,
        q: &PackQuery,
    ) -> Result<PeriodicReport, ApiError> {
        let (scope, hospitals) = self
            .scope(principal, q.hospital.as_ref(), q.region.as_ref())
            .await?;
        let (from, to) = period
            .months()
            .ok_or_else(|| ApiError::field("/period", "is not a year or quarter"))?;
        self.caught_up(q.after).await?;
        let mut rows = Vec::new();
        let mut complete = true;
        for h in &hospitals {
            let day = today(&h.timezone);
            complete &= Month::of(day) > to;
            let cells = self.rates.cells(&h.code, from, to)?;
            let mut deaths = Vec::new();
            for month in from.through(to) {
                deaths.extend(self.deaths.deaths(&h.code, Some(&month.to_string()))?);
            }
            let cases = self.rca.cases_of(&h.code).map_err(ApiError::from)?;
            rows.push(HospitalCounts {
                code: h.code.clone(),
                name: h.name.clone(),
                region: h.region.clone(),
                level: Level::parse(&h.level),
                counts: hospital_counts(&cells, &deaths, &cases, from, to, day),
            });
        }
        // The reference values a report is compared with are those of its
        // region and the regions above it, and the nation's.
        let directory = &self.kernel.directory;
        let hospital = match &scope {
            Scope::Hospital(h) => Some(h.clone()),
            Scope::Region(_) => None,
        };
        let (scope, chain) = match scope {
            Scope::Hospital(h) => {
                let regions = hospitals.first().map(HospitalRecord::regions);
                let chain = regions.unwrap_or_default().into_iter().map(str::to_owned);
                (h, chain.collect())
            }
            Scope::Region(r) => {
                let chain: Vec<String> = std::iter::once(r.clone())
                    .chain(directory.parents_of(&r)?)
                    .collect();
                (r, chain)
            }
        };
        let chain: Vec<&str> = chain.iter().map(String::as_str).collect();
        let year = u16::try_from(period.year())
            .map_err(|_| ApiError::field("/period", "is not a year or quarter"))?;
        let references: Vec<_> = directory
            .references(year, &chain)?
            .iter()
            .filter_map(lantern_directory::ReferenceRecord::reference)
            .collect();
        // The targets that apply to the scope's total: a hospital's own
        // first, else its regions', else the national one.
        let mut targets = Vec::new();
        for indicator in lantern_domain::targets::Indicator::ALL {
            if let Some(t) = directory.applicable(indicator, hospital.as_deref(), &chain, year)? {
                targets.push(t);
            }
        }
        let mut report = crate::periodic::report(period, &scope, complete, rows);
        report.references = crate::periodic::compare(&report.total.figures, &references);
        report.targets = crate::periodic::against(&report.total.figures, &targets);
        Ok(report)
    }
}

/// The quarterly report (季报, `2026-Q3`) or the annual quality and safety
/// report (年度医疗质量安全报告, `2026`) of a region (its QC centre) or a
/// hospital: every indicator by hospital, level and region. JSON by
/// default; a printable A4 page with `Accept: text/html`; an Excel
/// workbook with `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`.
#[utoipa::path(get, path = "/api/v1/quality-reports/{period}", tag = "deaths",
    params(("period" = String, Path, description = "YYYY or YYYY-Qn"), PackQuery),
    responses((status = 200, body = PeriodicReport, description = "The report (JSON; a printable page or a workbook by Accept)"), QueryErrors),
    security(("bearer" = [])))]
pub async fn quality_report(
    State(m): State<Meeting>,
    principal: Principal,
    ValidPath(period): ValidPath<String>,
    headers: HeaderMap,
    ValidQuery(q): ValidQuery<PackQuery>,
) -> Result<Response, ApiError> {
    let period = Period::parse(&period)
        .ok_or_else(|| ApiError::field("/period", "is not a year YYYY or a quarter YYYY-Qn"))?;
    let report = m.periodic(&principal, period, &q).await?;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if accept.contains(XLSX) {
        return workbook_response(&report);
    }
    if accept.contains("text/html") {
        return Ok(lantern_api::headers::html_page(
            crate::periodic::render(&report).into_string(),
        ));
    }
    Ok(Json(report).into_response())
}

/// The report as an Excel download (`lantern-<scope>-<period>.xlsx`): the
/// endpoint's and the staff web's.
pub fn workbook_response(report: &PeriodicReport) -> Result<Response, ApiError> {
    let bytes = crate::periodic::workbook(report)
        .map_err(|e| ApiError::internal(format!("the workbook: {e}")))?;
    let name = format!(
        "attachment; filename=\"lantern-{}-{}.xlsx\"",
        report.scope, report.period
    );
    let mut r = bytes.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, header::HeaderValue::from_static(XLSX));
    if let Ok(v) = header::HeaderValue::from_str(&name) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// The media type of an Excel workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Which published figures.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PublicQuery {
    /// The year, `YYYY`.
    pub year: i32,
    /// A quarter, 1–4; the whole year without it.
    pub quarter: Option<u32>,
    /// Only this region (and the regions and hospitals in it).
    pub region: Option<String>,
}

impl Meeting {
    /// The published figures `q` asks for: the year's whole table is
    /// protected at once (every ended quarter, and the year once ended),
    /// then the rows asked for are cut from it.
    pub async fn published(&self, q: &PublicQuery) -> Result<PublishedFigures, ApiError> {
        if !(2000..=2100).contains(&q.year) {
            return Err(ApiError::field("/year", "is not a year 2000–2100"));
        }
        if let Some(quarter) = q.quarter
            && !(1..=4).contains(&quarter)
        {
            return Err(ApiError::field("/quarter", "is 1–4"));
        }
        // Periods end by the hub's calendar (Asia/Shanghai unless a
        // hospital says otherwise): only ended periods are published.
        let this_month = lantern_domain::zone::HospitalZone::named(None).this_month();
        let quarter_ended = |quarter: u32| {
            Period::Quarter(q.year, quarter)
                .months()
                .is_some_and(|(_, last)| last < this_month)
        };
        let year_ended = Period::Year(q.year)
            .months()
            .is_some_and(|(_, last)| last < this_month);
        match q.quarter {
            Some(quarter) if !quarter_ended(quarter) => {
                return Err(ApiError::field(
                    "/quarter",
                    "has not ended: only ended periods are published",
                ));
            }
            None if !year_ended => {
                return Err(ApiError::field(
                    "/year",
                    "has not ended: ask for an ended quarter",
                ));
            }
            _ => {}
        }
        let directory = &self.kernel.directory;
        if let Some(r) = &q.region
            && directory.region(r).await?.is_none()
            && !directory.hospitals()?.iter().any(|h| h.in_region(r))
        {
            return Err(ApiError::field("/region", "is not a registered region"));
        }
        let quarters: Vec<u32> = (1..=4).filter(|x| quarter_ended(*x)).collect();
        let mut inputs = Vec::new();
        for h in directory.hospitals()? {
            let day = today(&h.timezone);
            let mut by_quarter = BTreeMap::new();
            for quarter in &quarters {
                let Some((from, to)) = Period::Quarter(q.year, *quarter).months() else {
                    continue;
                };
                let cells = self.rates.cells(&h.code, from, to)?;
                let mut deaths = Vec::new();
                for month in from.through(to) {
                    deaths.extend(self.deaths.deaths(&h.code, Some(&month.to_string()))?);
                }
                by_quarter.insert(
                    *quarter,
                    hospital_counts(&cells, &deaths, &[], from, to, day),
                );
            }
            inputs.push(PublishInput {
                regions: h.regions().into_iter().map(str::to_owned).collect(),
                hospital: h.code,
                quarters: by_quarter,
            });
        }
        let k = self.rates.k().max(2);
        // The answer depends only on the ended periods' counts: a report
        // filed today (in a period not published yet) leaves it as it was.
        let digest = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            for i in &inputs {
                i.hospital.hash(&mut h);
                i.regions.hash(&mut h);
                serde_json::to_string(&i.quarters)
                    .unwrap_or_default()
                    .hash(&mut h);
            }
            h.finish()
        };
        let key = (q.year, this_month, [digest, k, u64::from(year_ended)]);
        let cached = self.published.lock().ok().and_then(|c| {
            c.as_ref()
                .filter(|(at, _)| *at == key)
                .map(|(_, r)| r.clone())
        });
        let release = match cached {
            Some(r) => r,
            None => {
                // Off the async workers: protecting a year is CPU-bound.
                let r = tokio::task::spawn_blocking(move || release(&inputs, year_ended, k))
                    .await
                    .map_err(|e| ApiError::internal(format!("protecting the year: {e}")))?
                    .map_err(|e| ApiError::internal(e.to_string()))?;
                let r = std::sync::Arc::new(r);
                if let Ok(mut c) = self.published.lock() {
                    *c = Some((key, r.clone()));
                }
                r
            }
        };
        let when = q.quarter.map_or(When::Year, When::Quarter);
        Ok(PublishedFigures {
            year: q.year,
            quarter: q.quarter,
            k,
            published_quarters: release.quarters().to_vec(),
            rows: release.rows(when, q.region.as_deref()),
        })
    }
}

/// Published figures (信息公开), anonymous: for an ended quarter or year,
/// per region and hospital, reports, discharges, the rate, reports by grade
/// and category, the lab's critical-value counts and rates, deaths and
/// reviews on time — small cells (1..k−1) and whatever would reveal them
/// across every table of the year are null, and a rate is null where a
/// count of it is.
#[utoipa::path(get, path = "/api/v1/public/figures", tag = "public",
    params(PublicQuery),
    responses((status = 200, body = PublishedFigures, description = "The figures (JSON; a printable page with Accept: text/html)"), QueryErrors))]
pub async fn public_figures(
    State(m): State<Meeting>,
    headers: HeaderMap,
    ValidQuery(q): ValidQuery<PublicQuery>,
) -> Result<Response, ApiError> {
    let figures = m.published(&q).await?;
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html {
        return Ok(lantern_api::headers::html_page(
            crate::published::render(&figures).into_string(),
        ));
    }
    Ok(Json(figures).into_response())
}

/// Whose cases, over which months.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CasesQuery {
    /// One hospital (safety officer, or the QC centre of its region).
    pub hospital: Option<String>,
    /// A whole region (its QC centre).
    pub region: Option<String>,
    /// First month, `YYYY-MM`.
    #[param(value_type = String)]
    pub from: Month,
    /// Last month, `YYYY-MM` (inclusive; at most 36 months).
    #[param(value_type = String)]
    pub to: Month,
    /// Wait until this stream sequence is applied.
    pub after: Option<u64>,
}

/// The case list a QC centre traces (溯源): grade I/II events and low-risk
/// deaths filed or died in `from..=to`, with hospital, department,
/// category, grade, day, RCA state, root causes, actions and lessons —
/// never a narrative, follow-up or feedback text. Ordered by place and
/// grade, never by time.
#[utoipa::path(get, path = "/api/v1/cases", tag = "deaths",
    params(CasesQuery),
    responses((status = 200, body = CaseList), QueryErrors),
    security(("bearer" = [])))]
pub async fn case_list(
    State(m): State<Meeting>,
    principal: Principal,
    ValidQuery(q): ValidQuery<CasesQuery>,
) -> Result<Json<CaseList>, ApiError> {
    Ok(Json(m.cases(&principal, &q).await?))
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

// QC actions (follow-ups): the endpoints over [`FollowUps`]' methods.

/// Open a QC action for a hospital of the QC centre's region: guidance
/// (指导意见), a rectification notice (整改通知) or a follow-up item of the
/// dispatch meeting (督办事项), with a due date.
#[utoipa::path(post, path = "/api/v1/follow-ups", tag = "deaths",
    request_body = OpenFollowUp, responses((status = 201, body = FollowUpOpened), CommandErrors),
    security(("bearer" = [])))]
pub async fn open_followup(
    State(m): State<Meeting>,
    principal: Principal,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<OpenFollowUp>,
) -> Result<(StatusCode, Json<FollowUpOpened>), ApiError> {
    Ok(created(
        m.followups.open(&principal, body, Some(&key)).await?,
    ))
}

/// The hospital's safety officer answers: what was done.
#[utoipa::path(post, path = "/api/v1/follow-ups/{id}/answers", tag = "deaths",
    params(("id" = Uuid, Path, description = "Follow-up id")),
    request_body = AnswerFollowUp, responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn answer_followup(
    State(m): State<Meeting>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<AnswerFollowUp>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    Ok(created(
        m.followups.answer(&principal, id, body, Some(&key)).await?,
    ))
}

/// The QC centre carries it to a later meeting.
#[utoipa::path(post, path = "/api/v1/follow-ups/{id}/carry", tag = "deaths",
    params(("id" = Uuid, Path, description = "Follow-up id")),
    request_body = CarryFollowUp, responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn carry_followup(
    State(m): State<Meeting>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<CarryFollowUp>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    Ok(created(
        m.followups.carry(&principal, id, body, Some(&key)).await?,
    ))
}

/// The QC centre closes it: resolved, or unresolved with a note.
#[utoipa::path(post, path = "/api/v1/follow-ups/{id}/close", tag = "deaths",
    params(("id" = Uuid, Path, description = "Follow-up id")),
    request_body = CloseFollowUp, responses((status = 201, body = Appended), CommandErrors),
    security(("bearer" = [])))]
pub async fn close_followup(
    State(m): State<Meeting>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<CloseFollowUp>,
) -> Result<(StatusCode, Json<Appended>), ApiError> {
    Ok(created(
        m.followups.close(&principal, id, body, Some(&key)).await?,
    ))
}

/// One action and where it stands today.
#[utoipa::path(get, path = "/api/v1/follow-ups/{id}", tag = "deaths",
    params(("id" = Uuid, Path, description = "Follow-up id"), After),
    responses((status = 200, body = FollowUpView), QueryErrors),
    security(("bearer" = [])))]
pub async fn get_followup(
    State(m): State<Meeting>,
    principal: Principal,
    ValidPath(id): ValidPath<Uuid>,
    ValidQuery(q): ValidQuery<After>,
) -> Result<Json<FollowUpView>, ApiError> {
    Ok(Json(m.followups.view(&principal, id, q.after).await?))
}

/// A hospital's actions (its safety officer's workspace) or a region's
/// (its QC centre), optionally in one state.
#[utoipa::path(get, path = "/api/v1/follow-ups", tag = "deaths",
    params(ListFollowUps), responses((status = 200, body = FollowUpList), QueryErrors),
    security(("bearer" = [])))]
pub async fn list_followups(
    State(m): State<Meeting>,
    principal: Principal,
    ValidQuery(q): ValidQuery<ListFollowUps>,
) -> Result<Json<FollowUpList>, ApiError> {
    Ok(Json(m.followups.list(&principal, &q).await?))
}
