//! Reference values (参考值; issue 26 item 6): `POST /api/v1/references`
//! sets the national or a region's mean of an indicator in a year, with
//! the source it was published in; `GET /api/v1/references` shows the
//! ones a region's figures are compared with, with every set of them. The
//! periodic reports put them beside the region's own figures.
//!
//! Who sets what: the administrator the national mean and any region's; a
//! QC centre its own region's and those of the regions below it (a
//! province's centre enters the provincial mean its health commission
//! publishes). Who reads: the administrator, a QC centre for its region
//! and the regions below, a safety officer for its hospital's regions.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lantern_api::IdempotencyKey;
use lantern_api::auth::Principal;
use lantern_api::checks::check_text;
use lantern_api::command::new_event;
use lantern_api::error::ApiError;
use lantern_api::json::ValidJson;
use lantern_api::query::{ValidQuery, wait_after};
use lantern_api::responses::{CommandErrors, QueryErrors, created};
use lantern_directory::ReferenceRecord;
use lantern_domain::events::{Payload, org};
use lantern_domain::ids;
use lantern_domain::targets::reference::{
    NOTE_MAX, Reference, ReferenceKind, ReferenceScope, SOURCE_MAX,
};
use lantern_domain::targets::{Indicator, TargetValue, Unit};
use lantern_domain::vocab::Role;
use lantern_ledger::{Code, Data, Expect, SYSTEM_SCOPE};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::targets::{forbidden, this_year, value, year};
use crate::state::Intake;

/// Who may set reference values.
const SETTERS: &[Role] = &[Role::Admin, Role::QcCentre];

/// Who may read them.
const READERS: &[Role] = &[Role::Admin, Role::QcCentre, Role::SafetyOfficer];

/// Sets a reference value.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetReference {
    /// The indicator.
    pub indicator: Indicator,
    /// `national` or `region`.
    pub scope: ReferenceKind,
    /// The region's code (not for `national`).
    pub code: Option<String>,
    /// The calendar year it is the mean of, 2000–2100.
    pub year: i64,
    /// Per 100 discharges for `reporting_rate`, per cent (0–100) for the
    /// others; at most two decimals.
    pub value: f64,
    /// Where it was published, e.g. 国家医疗服务与质量安全报告 2025
    /// (1–200 characters; PII-scrubbed).
    pub source: String,
    /// A remark, e.g. which hospitals the mean is over (≤ 1000
    /// characters; PII-scrubbed).
    pub note: Option<String>,
}

/// A reference value as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReferenceView {
    /// The indicator.
    pub indicator: Indicator,
    /// `national` or `region`.
    pub scope: ReferenceKind,
    /// The region's code; null for national.
    pub code: Option<String>,
    /// The year it is the mean of.
    pub year: u16,
    /// The value.
    pub value: TargetValue,
    /// Where it was published.
    pub source: String,
    /// A remark.
    pub note: Option<String>,
}

impl From<&Reference> for ReferenceView {
    fn from(r: &Reference) -> ReferenceView {
        ReferenceView {
            indicator: r.indicator,
            scope: r.scope.kind(),
            code: r.scope.code().map(str::to_owned),
            year: r.year,
            value: r.value,
            source: r.source.clone(),
            note: r.note.clone(),
        }
    }
}

/// A reference value set.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferenceSetAnswer {
    /// Stream sequence of the event (for `?after=`).
    pub seq: u64,
    /// The reference as set (source and note as scrubbed).
    pub reference: ReferenceView,
}

/// Whose reference values to show.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReferencesQuery {
    /// The year; this year (Asia/Shanghai) when left out.
    pub year: Option<i64>,
    /// The region whose figures are compared: its own means, those of
    /// the regions above it, and the national ones. By default a QC
    /// centre's own region, a safety officer's hospital's; the
    /// administrator without it sees the national ones.
    pub region: Option<String>,
    /// Wait (up to 5 s) until the directory has applied this sequence.
    pub after: Option<u64>,
}

/// One set of a reference value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReferenceSetView {
    /// `national` or `region`.
    pub scope: ReferenceKind,
    /// The region's code; null for national.
    pub code: Option<String>,
    /// The value set.
    pub value: TargetValue,
    /// Where it was published.
    pub source: String,
    /// A remark.
    pub note: Option<String>,
    /// Stream sequence.
    pub seq: u64,
    /// When it was set (RFC 3339, UTC).
    pub set_at: String,
    /// Whether it is the latest set of its scope (the others were
    /// replaced).
    pub current: bool,
}

impl ReferenceSetView {
    fn of(r: &ReferenceRecord, current: bool) -> ReferenceSetView {
        ReferenceSetView {
            scope: r.scope,
            code: r.code.clone(),
            value: r.value,
            source: r.source.clone(),
            note: r.note.clone(),
            seq: r.seq,
            set_at: r.set_at.to_rfc3339(),
            current,
        }
    }
}

/// One indicator's reference values and their history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndicatorReferences {
    /// The indicator.
    pub indicator: Indicator,
    /// What its value counts.
    pub unit: Unit,
    /// The latest set of each scope of the view's chain that has one:
    /// the region's, the regions' above it (nearest first), then the
    /// national one.
    pub references: Vec<ReferenceSetView>,
    /// Every set of the year for those scopes, in the order they were set.
    pub history: Vec<ReferenceSetView>,
}

/// The reference values of a year for a region's figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReferencesAnswer {
    /// The year.
    pub year: u16,
    /// The region asked for; null for the national ones only.
    pub region: Option<String>,
    /// The region and the regions above it, nearest first.
    pub regions: Vec<String>,
    /// Every indicator, in a fixed order.
    pub indicators: Vec<IndicatorReferences>,
}

/// Set a reference value (admin: national or any region; qc_centre: its
/// region or a region below it). Every set is kept; the latest holds.
#[utoipa::path(post, path = "/api/v1/references", tag = "targets",
    request_body = SetReference,
    responses((status = 201, body = ReferenceSetAnswer), CommandErrors),
    security(("bearer" = [])))]
pub async fn set_reference(
    State(app): State<Intake>,
    principal: Principal,
    key: IdempotencyKey,
    // Read after the role check: a caller who may not set references
    // learns that (403), not what is wrong with the body.
    body: Result<ValidJson<SetReference>, ApiError>,
) -> Result<(StatusCode, Json<ReferenceSetAnswer>), ApiError> {
    principal.require(SETTERS)?;
    let ValidJson(body) = body?;
    Ok(created(
        app.set_reference(&principal, body, Some(&key)).await?,
    ))
}

/// The reference values a region's figures are compared with in a year,
/// per indicator, with every set of them.
#[utoipa::path(get, path = "/api/v1/references", tag = "targets",
    params(ReferencesQuery),
    responses((status = 200, body = ReferencesAnswer), QueryErrors),
    security(("bearer" = [])))]
pub async fn list_references(
    State(app): State<Intake>,
    principal: Principal,
    ValidQuery(q): ValidQuery<ReferencesQuery>,
) -> Result<Json<ReferencesAnswer>, ApiError> {
    Ok(Json(app.references(&principal, &q).await?))
}

impl Intake {
    /// Sets a reference value as `principal`; `key` is the request's
    /// Idempotency-Key, if it came with one.
    pub async fn set_reference(
        &self,
        principal: &Principal,
        body: SetReference,
        key: Option<&IdempotencyKey>,
    ) -> Result<ReferenceSetAnswer, ApiError> {
        principal.require(SETTERS)?;
        let caller = principal.region().unwrap_or(SYSTEM_SCOPE);
        let idem = key.and_then(|k| {
            k.scoped(
                &format!("references:{}:{caller}", principal.role().as_str()),
                "POST /api/v1/references",
            )
        });
        if let Some(first) = self
            .replayed(idem.as_deref(), org::ReferenceSet::TYPE)
            .await?
        {
            return answer(first.seq, &first.envelope.data);
        }
        let scope = self.reference_scope(principal, &body)?;
        let mut errors = Vec::new();
        let year = year(body.year).map_err(|e| errors.push(e)).ok();
        let value = value(body.indicator, body.value)
            .map_err(|e| errors.push(e))
            .ok();
        let source = body.source.trim();
        check_text("/source", source, SOURCE_MAX, &mut errors);
        // An empty note is no note; the schema keeps a given one non-empty.
        let note = body
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        if let Some(n) = note {
            check_text("/note", n, NOTE_MAX, &mut errors);
        }
        let (Some(year), Some(value), true) = (year, value, errors.is_empty()) else {
            return Err(ApiError::Invalid(errors));
        };
        let reference = Reference {
            indicator: body.indicator,
            scope,
            year,
            value,
            source: source.to_owned(),
            note: note.map(str::to_owned),
        };
        let owner = reference.scope.code().unwrap_or(SYSTEM_SCOPE).to_owned();
        let aggregate = ids::reference(
            reference.indicator.as_str(),
            reference.scope.kind().as_str(),
            reference.scope.code(),
            reference.year,
        );
        let event = new_event(&org::ReferenceSet::of(&reference), aggregate, owner);
        let committed = self.append(event, Expect::Any, idem.as_deref()).await?;
        answer(committed.seq, &committed.envelope.data)
    }

    /// The scope of `body`, checked against `principal`'s: 422 naming
    /// `/code` for a code that is missing, extra or unknown, 403 for a
    /// scope that is not the caller's.
    fn reference_scope(
        &self,
        principal: &Principal,
        body: &SetReference,
    ) -> Result<ReferenceScope, ApiError> {
        let code = body.code.as_deref().map(str::trim);
        let scope = match (body.scope, code) {
            (ReferenceKind::National, Some(_)) => {
                return Err(ApiError::field("/code", "a national reference has no code"));
            }
            (ReferenceKind::Region, None) => {
                return Err(ApiError::field(
                    "/code",
                    "is required for a region's reference",
                ));
            }
            (_, Some(c)) if Code::parse(c).is_err() => {
                return Err(ApiError::field("/code", "is not a registered code"));
            }
            (kind, code) => ReferenceScope::of(kind, code)
                .ok_or_else(|| ApiError::internal("scope and code checked above"))?,
        };
        match (&scope, principal.role()) {
            (ReferenceScope::National, Role::Admin) => {}
            (ReferenceScope::National, _) => {
                return Err(ApiError::Forbidden(
                    "only the administrator sets national reference values".into(),
                ));
            }
            (ReferenceScope::Region(r), Role::Admin) => {
                if !self.region_known(r)? {
                    return Err(ApiError::field(
                        "/code",
                        "is not a registered region, nor has it a registered hospital",
                    ));
                }
            }
            (ReferenceScope::Region(r), Role::QcCentre)
                if self.supervises(principal.region(), r)? => {}
            (ReferenceScope::Region(r), _) => return Err(forbidden(&format!("region {r}"))),
        }
        Ok(scope)
    }

    /// The reference values of a year that the region `q` names (by
    /// default the caller's own) is compared with, each with its history.
    pub async fn references(
        &self,
        principal: &Principal,
        q: &ReferencesQuery,
    ) -> Result<ReferencesAnswer, ApiError> {
        principal.require(READERS)?;
        let year = match q.year {
            Some(y) => year(y).map_err(|e| ApiError::Invalid(vec![e]))?,
            None => this_year(),
        };
        wait_after(self.directory.handle(), q.after).await?;
        let region = self.references_view(principal, q.region.as_deref()).await?;
        let regions: Vec<String> = match &region {
            Some(r) => std::iter::once(r.clone())
                .chain(self.directory.parents_of(r)?)
                .collect(),
            None => Vec::new(),
        };
        let chain: Vec<&str> = regions.iter().map(String::as_str).collect();
        let in_view = |r: &ReferenceRecord| match r.scope {
            ReferenceKind::National => true,
            ReferenceKind::Region => r.code.as_deref().is_some_and(|c| chain.contains(&c)),
        };
        let sets: Vec<ReferenceRecord> = self
            .directory
            .reference_sets(year)?
            .into_iter()
            .filter(in_view)
            .collect();
        let latest = self.directory.references(year, &chain)?;
        let is_latest = |r: &ReferenceRecord| latest.iter().any(|l| l.seq == r.seq);
        let indicators = Indicator::ALL
            .into_iter()
            .map(|indicator| {
                let mut history: Vec<ReferenceSetView> = sets
                    .iter()
                    .filter(|r| r.indicator == indicator)
                    .map(|r| ReferenceSetView::of(r, is_latest(r)))
                    .collect();
                history.sort_by_key(|s| s.seq);
                IndicatorReferences {
                    indicator,
                    unit: indicator.unit(),
                    references: latest
                        .iter()
                        .filter(|r| r.indicator == indicator)
                        .map(|r| ReferenceSetView::of(r, true))
                        .collect(),
                    history,
                }
            })
            .collect();
        Ok(ReferencesAnswer {
            year,
            region,
            regions,
            indicators,
        })
    }

    /// The region whose reference values `principal` asked for, in its
    /// scope: 403 outside it, 422 for an unknown region.
    async fn references_view(
        &self,
        principal: &Principal,
        asked: Option<&str>,
    ) -> Result<Option<String>, ApiError> {
        let own_hospital = match (principal.role(), principal.hospital()) {
            (Role::SafetyOfficer, Some(h)) => Some(self.known_hospital("/region", h).await?),
            _ => None,
        };
        let region = match (principal.role(), asked.map(str::trim)) {
            (_, Some(r)) => r.to_owned(),
            (Role::QcCentre, None) => match principal.region().map(str::to_owned) {
                Some(r) => r,
                None => return Ok(None),
            },
            (Role::SafetyOfficer, None) => match &own_hospital {
                Some(h) => h.region.clone(),
                None => return Ok(None),
            },
            (_, None) => return Ok(None),
        };
        let allowed = match principal.role() {
            Role::Admin => true,
            Role::QcCentre => self.supervises(principal.region(), &region)?,
            // A safety officer reads the means its hospital's regions are
            // compared with, not another region's.
            _ => own_hospital
                .as_ref()
                .is_some_and(|h| h.regions().contains(&region.as_str())),
        };
        if !allowed {
            return Err(forbidden(&format!("region {region}")));
        }
        if !self.region_known(&region)? {
            return Err(ApiError::field(
                "/region",
                "is not a registered region, nor has it a registered hospital",
            ));
        }
        Ok(Some(region))
    }
}

/// The answer for a stored `org.reference_set` (a retried request answers
/// with the first request's).
fn answer(seq: u64, data: &Data) -> Result<ReferenceSetAnswer, ApiError> {
    let reference = data
        .parse::<org::ReferenceSet>()
        .ok()
        .and_then(|r| r.reference())
        .ok_or_else(|| ApiError::internal(format!("event {seq} is not a reference set")))?;
    Ok(ReferenceSetAnswer {
        seq,
        reference: ReferenceView::from(&reference),
    })
}
