//! Reading case files, lists, the queue and the figures (safety officer of
//! the hospital; QC centre of its region, without narrative free text).
//! Every read takes `?after=<seq>` to wait for a write it follows.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use lantern_api::ApiError;
use lantern_api::auth::Principal;
use lantern_api::path::ValidPath;
use lantern_api::query::{After, ValidQuery, wait_after};
use lantern_api::responses::QueryErrors;
use lantern_domain::Month;
use lantern_domain::vocab::Role;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{READERS, case_for, case_id, hospital};
use crate::case::Action;
use crate::service::Rca;
use crate::views::{Audience, CaseFileView, CaseList, CaseSummary, FiguresView, RequiredList};

fn audience(principal: &Principal) -> Audience {
    if principal.role() == Role::QcCentre {
        Audience::QcCentre
    } else {
        Audience::Officer
    }
}

/// One case file, everything in order, with the reports it analyses.
#[utoipa::path(get, path = "/api/v1/rca/{id}", tag = "rca",
    params(("id" = Uuid, Path, description = "The analysis"), After),
    responses((status = 200, body = CaseFileView), QueryErrors),
    security(("bearer" = [])))]
pub async fn get_rca(
    State(rca): State<Rca>,
    principal: Principal,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<After>,
) -> Result<Json<CaseFileView>, ApiError> {
    let id = case_id(&id)?;
    Ok(Json(rca.case_file(&principal, id, q.after).await?))
}

/// Which cases to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StateFilter {
    /// Open, overdue or not.
    Open,
    /// Open past the end of their due date.
    Overdue,
    /// Closed.
    Closed,
}

/// The list query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Hospital code.
    pub hospital: String,
    /// `open`, `overdue` or `closed`; all when absent.
    #[param(inline)]
    pub state: Option<StateFilter>,
    /// Wait until this stream sequence is applied.
    pub after: Option<u64>,
}

/// A hospital's cases, newest first.
#[utoipa::path(get, path = "/api/v1/rca", tag = "rca",
    params(ListQuery),
    responses((status = 200, body = CaseList), QueryErrors),
    security(("bearer" = [])))]
pub async fn list_rcas(
    State(rca): State<Rca>,
    principal: Principal,
    ValidQuery(q): ValidQuery<ListQuery>,
) -> Result<Json<CaseList>, ApiError> {
    Ok(Json(rca.list(&principal, &q).await?))
}

/// An improvement action past its due date, with its case.
#[derive(Debug, Clone)]
pub struct OverdueAction {
    /// The case.
    pub rca_id: Uuid,
    /// The case's title.
    pub title: String,
    /// The action.
    pub action: Action,
}

/// What is overdue in a hospital's case files.
#[derive(Debug, Clone)]
pub struct Overdue {
    /// Open cases past their due date, newest first.
    pub cases: Vec<CaseSummary>,
    /// Actions past their due date, case by case, oldest case first.
    pub actions: Vec<OverdueAction>,
}

/// The queue query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequiredQuery {
    /// Hospital code.
    pub hospital: String,
    /// Wait until this stream sequence is applied.
    pub after: Option<u64>,
}

/// Grade I and II reports (the triaged grade if triaged) with no analysis, oldest first; overdue from the start of the third calendar day after the filing day.
#[utoipa::path(get, path = "/api/v1/rca/required", tag = "rca",
    params(RequiredQuery),
    responses((status = 200, body = RequiredList), QueryErrors),
    security(("bearer" = [])))]
pub async fn required(
    State(rca): State<Rca>,
    principal: Principal,
    ValidQuery(q): ValidQuery<RequiredQuery>,
) -> Result<Json<RequiredList>, ApiError> {
    Ok(Json(rca.required(&principal, &q).await?))
}

/// The figures query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FiguresQuery {
    /// Hospital code.
    pub hospital: String,
    /// The month, `YYYY-MM` (hospital time zone).
    #[param(value_type = String)]
    pub month: Month,
    /// Wait until this stream sequence is applied.
    pub after: Option<u64>,
}

/// The meeting pack's root-cause analysis figures of a hospital-month.
#[utoipa::path(get, path = "/api/v1/rca/figures", tag = "rca",
    params(FiguresQuery),
    responses((status = 200, body = FiguresView), QueryErrors),
    security(("bearer" = [])))]
pub async fn figures(
    State(rca): State<Rca>,
    principal: Principal,
    ValidQuery(q): ValidQuery<FiguresQuery>,
) -> Result<Json<FiguresView>, ApiError> {
    principal.require(READERS)?;
    let hospital = hospital(&rca, &q.hospital, "/hospital").await?;
    principal.require_in(READERS, &hospital)?;
    wait_after(rca.cases.handle(), q.after).await?;
    let today = rca.cases.today(&hospital.code, Utc::now())?;
    Ok(Json(FiguresView {
        rca: rca.cases.figures(&hospital.code, q.month, today)?,
        as_of: crate::figures::cut_off(q.month, today),
        month: q.month.to_string(),
        hospital: hospital.code,
    }))
}

/// What a safety officer (or the QC centre, without narratives) reads of
/// case files: the endpoints of this module and the staff web call these.
impl Rca {
    /// Case file `id`, everything in order, with the reports it analyses,
    /// once the read model has reached `after`.
    pub async fn case_file(
        &self,
        principal: &Principal,
        id: Uuid,
        after: Option<u64>,
    ) -> Result<CaseFileView, ApiError> {
        wait_after(self.cases.handle(), after).await?;
        let (record, _) = case_for(self, principal, READERS, id).await?;
        let today = self.cases.today(&record.hospital, Utc::now())?;
        // A report is always filed before an analysis can name it; one missing
        // from the read model has nothing to show.
        let mut reports = Vec::new();
        for report in &record.case.report_ids {
            if let Some(info) = self.cases.report(*report)? {
                // The reports read model owns the text; this one keeps none.
                let description = self
                    .reports
                    .report(*report)
                    .await?
                    .map(|r| r.description)
                    .unwrap_or_default();
                reports.push((info, description));
            }
        }
        Ok(CaseFileView::build(
            &record,
            reports,
            today,
            audience(principal),
        ))
    }

    /// A hospital's cases, newest first, filtered by `q.state`.
    pub async fn list(&self, principal: &Principal, q: &ListQuery) -> Result<CaseList, ApiError> {
        principal.require(READERS)?;
        let hospital = hospital(self, &q.hospital, "/hospital").await?;
        principal.require_in(READERS, &hospital)?;
        wait_after(self.cases.handle(), q.after).await?;
        let today = self.cases.today(&hospital.code, Utc::now())?;
        let rows = self
            .cases
            .cases_of(&hospital.code)?
            .iter()
            .rev()
            .map(|r| CaseSummary::of(r, today))
            .filter(|s| match q.state {
                None => true,
                Some(StateFilter::Open) => s.state == crate::case::CaseState::Open,
                Some(StateFilter::Overdue) => s.overdue,
                Some(StateFilter::Closed) => s.state == crate::case::CaseState::Closed,
            })
            .collect();
        Ok(CaseList { rows })
    }

    /// What is overdue in a hospital's case files today: open cases past
    /// their due date and actions past theirs (safety officer; QC centre).
    pub async fn overdue(&self, principal: &Principal, code: &str) -> Result<Overdue, ApiError> {
        principal.require(READERS)?;
        let hospital = hospital(self, code, "/hospital").await?;
        principal.require_in(READERS, &hospital)?;
        let today = self.cases.today(&hospital.code, Utc::now())?;
        let records = self.cases.cases_of(&hospital.code)?;
        let cases = records
            .iter()
            .rev()
            .map(|r| CaseSummary::of(r, today))
            .filter(|s| s.overdue)
            .collect();
        let actions = records
            .iter()
            .flat_map(|r| {
                r.case
                    .actions
                    .iter()
                    .filter(|a| a.overdue_on(&r.case, today))
                    .map(|a| OverdueAction {
                        rca_id: r.rca_id,
                        title: r.case.title.clone(),
                        action: a.clone(),
                    })
            })
            .collect();
        Ok(Overdue { cases, actions })
    }

    /// The hospital's grade I and II reports with no analysis, oldest first.
    pub async fn required(
        &self,
        principal: &Principal,
        q: &RequiredQuery,
    ) -> Result<RequiredList, ApiError> {
        principal.require(READERS)?;
        let hospital = hospital(self, &q.hospital, "/hospital").await?;
        principal.require_in(READERS, &hospital)?;
        wait_after(self.cases.handle(), q.after).await?;
        Ok(RequiredList {
            rows: self.cases.required(&hospital.code, Utc::now())?,
        })
    }
}
