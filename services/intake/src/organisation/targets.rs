//! Targets as data (DESIGN "Figures"): `POST /api/v1/targets` sets one
//! indicator's target for a scope and a year, `GET /api/v1/targets` shows
//! which target applies to a hospital, a region or the country, with every
//! set of it. The staff web calls the same [`Intake::set_target`] and
//! [`Intake::targets`].
//!
//! Who sets what: the administrator any scope; a QC centre its region and
//! the hospitals of its region; a safety officer their own hospital.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lantern_api::IdempotencyKey;
use lantern_api::auth::Principal;
use lantern_api::command::new_event;
use lantern_api::error::{ApiError, FieldError};
use lantern_api::json::ValidJson;
use lantern_api::query::{ValidQuery, wait_after};
use lantern_api::responses::{CommandErrors, QueryErrors, created};
use lantern_directory::{HospitalRecord, TargetRecord};
use lantern_domain::events::{Payload, org};
use lantern_domain::ids;
use lantern_domain::targets::{
    Direction, Indicator, ScopeKind, Target, TargetScope, TargetValue, Unit, ValueError, YEARS,
    resolve,
};
use lantern_domain::vocab::Role;
use lantern_ledger::{Code, Data, Expect, SYSTEM_SCOPE};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::state::Intake;

/// Who may set or read targets.
const ROLES: &[Role] = &[Role::Admin, Role::QcCentre, Role::SafetyOfficer];

/// Sets a target.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTarget {
    /// The indicator.
    pub indicator: Indicator,
    /// `national`, `region` or `hospital`.
    pub scope: ScopeKind,
    /// The region's or hospital's code (not for `national`).
    pub code: Option<String>,
    /// The calendar year, 2000–2100.
    pub year: i64,
    /// Per 100 discharges for `reporting_rate`, per cent (0–100) for the
    /// others; at most two decimals.
    pub value: f64,
    /// `higher` or `lower` is better; the indicator's own when left out
    /// (lower for `serious_share`, higher for the rest).
    pub direction: Option<Direction>,
}

/// A target as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TargetView {
    /// The indicator.
    pub indicator: Indicator,
    /// `national`, `region` or `hospital`.
    pub scope: ScopeKind,
    /// The region's or hospital's code; null for national.
    pub code: Option<String>,
    /// The year.
    pub year: u16,
    /// The value.
    pub value: TargetValue,
    /// Which way it is met.
    pub direction: Direction,
}

impl From<&Target> for TargetView {
    fn from(t: &Target) -> TargetView {
        TargetView {
            indicator: t.indicator,
            scope: t.scope.kind(),
            code: t.scope.code().map(str::to_owned),
            year: t.year,
            value: t.value,
            direction: t.direction,
        }
    }
}

/// A target set.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetSetAnswer {
    /// Stream sequence of the event (for `?after=`).
    pub seq: u64,
    /// The target as set.
    pub target: TargetView,
}

/// Whose targets to show.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TargetsQuery {
    /// The year; this year (Asia/Shanghai) when left out.
    pub year: Option<i64>,
    /// The targets that apply to this hospital (a safety officer's own,
    /// when neither this nor `region` is given).
    pub hospital: Option<String>,
    /// The targets that apply to this region (a QC centre's own, when
    /// neither is given); the administrator without either sees the
    /// national ones.
    pub region: Option<String>,
    /// Wait (up to 5 s) until the directory has applied this sequence.
    pub after: Option<u64>,
}

/// One set of a target, in its history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetSetView {
    /// `national`, `region` or `hospital`.
    pub scope: ScopeKind,
    /// The region's or hospital's code; null for national.
    pub code: Option<String>,
    /// The value set.
    pub value: TargetValue,
    /// Which way it is met.
    pub direction: Direction,
    /// Stream sequence.
    pub seq: u64,
    /// When it was set (RFC 3339, UTC).
    pub set_at: String,
    /// Whether it is the latest set of its scope (the others were
    /// replaced).
    pub current: bool,
}

/// The target that applies.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppliedTarget {
    /// Whose target it is: the most specific scope that has one.
    pub scope: ScopeKind,
    /// The region's or hospital's code; null for national.
    pub code: Option<String>,
    /// The value.
    pub value: TargetValue,
    /// Which way it is met.
    pub direction: Direction,
    /// Nobody set one: the built-in default (reporting_rate: 2.5).
    pub built_in: bool,
}

/// One indicator's target and its history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndicatorTargets {
    /// The indicator.
    pub indicator: Indicator,
    /// What its value counts.
    pub unit: Unit,
    /// The direction a target takes when none is given.
    pub natural_direction: Direction,
    /// The target that applies; null when none is set and there is no
    /// built-in default.
    pub applies: Option<AppliedTarget>,
    /// Every set of the year for this view's scopes (national, the
    /// region, the hospital), in the order they were set.
    pub history: Vec<TargetSetView>,
}

/// The targets of a year for a hospital, a region or the country.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetsAnswer {
    /// The year.
    pub year: u16,
    /// The hospital, if the view is a hospital's.
    pub hospital: Option<String>,
    /// The region: the hospital's, or the one asked for.
    pub region: Option<String>,
    /// Every indicator, in a fixed order.
    pub indicators: Vec<IndicatorTargets>,
}

/// Set a target (admin: any scope; qc_centre: its region or a hospital of
/// it; safety_officer: its hospital). Every set is kept; the latest holds.
#[utoipa::path(post, path = "/api/v1/targets", tag = "targets",
    request_body = SetTarget,
    responses((status = 201, body = TargetSetAnswer), CommandErrors),
    security(("bearer" = [])))]
pub async fn set_target(
    State(app): State<Intake>,
    principal: Principal,
    key: IdempotencyKey,
    // Read after the role check: a caller who may not set targets learns
    // that (403), not what is wrong with the body.
    body: Result<ValidJson<SetTarget>, ApiError>,
) -> Result<(StatusCode, Json<TargetSetAnswer>), ApiError> {
    principal.require(ROLES)?;
    let ValidJson(body) = body?;
    Ok(created(app.set_target(&principal, body, Some(&key)).await?))
}

/// The targets that apply to a hospital, a region or the country in a
/// year, per indicator, with every set of them.
#[utoipa::path(get, path = "/api/v1/targets", tag = "targets",
    params(TargetsQuery),
    responses((status = 200, body = TargetsAnswer), QueryErrors),
    security(("bearer" = [])))]
pub async fn list_targets(
    State(app): State<Intake>,
    principal: Principal,
    ValidQuery(q): ValidQuery<TargetsQuery>,
) -> Result<Json<TargetsAnswer>, ApiError> {
    Ok(Json(app.targets(&principal, &q).await?))
}

/// The year of a request: 2000–2100, else 422 naming `/year`.
pub(super) fn year(value: i64) -> Result<u16, FieldError> {
    u16::try_from(value)
        .ok()
        .filter(|y| YEARS.contains(y))
        .ok_or_else(|| {
            FieldError::new(
                "/year",
                format!("must be a year {}–{}", YEARS.start(), YEARS.end()),
            )
        })
}

/// This year where Lantern's hospitals count their months.
pub(super) fn this_year() -> u16 {
    let month = lantern_domain::HospitalZone::named(None).this_month();
    u16::try_from(month.year).unwrap_or(*YEARS.start())
}

/// The value of a request for `indicator`, else 422 naming `/value`.
pub(super) fn value(indicator: Indicator, value: f64) -> Result<TargetValue, FieldError> {
    let range = match indicator.unit() {
        Unit::Percent => "must be a per cent, 0–100",
        Unit::Per100Discharges => "must be reports per 100 discharges, 0–100",
    };
    TargetValue::from_f64(value).map_err(|e| match e {
        ValueError::Negative | ValueError::TooLarge => FieldError::new("/value", range),
        ValueError::Precision => FieldError::new("/value", "has at most two decimals"),
    })
}

pub(super) fn forbidden(what: &str) -> ApiError {
    ApiError::Forbidden(format!("this token's scope does not include {what}"))
}

impl Intake {
    /// Whether a region is registered, or has a registered hospital (as
    /// for a QC centre's token).
    pub(super) fn region_known(&self, region: &str) -> Result<bool, ApiError> {
        Ok(self.directory.regions()?.iter().any(|r| r.code == region)
            || self
                .directory
                .hospitals()?
                .iter()
                .any(|h| h.region == region))
    }

    /// Whether a QC centre of `own` supervises `region` (it, or a region below).
    pub(super) fn supervises(&self, own: Option<&str>, region: &str) -> Result<bool, ApiError> {
        Ok(match own {
            Some(own) => self.directory.within(region, own)?,
            None => false,
        })
    }

    /// The hospital `code`, else 422 naming `pointer`.
    pub(super) async fn known_hospital(
        &self,
        pointer: &str,
        code: &str,
    ) -> Result<HospitalRecord, ApiError> {
        self.directory
            .hospital(code)
            .await?
            .ok_or_else(|| ApiError::field(pointer, "is not a registered hospital"))
    }

    /// Sets a target as `principal`; `key` is the request's
    /// Idempotency-Key, if it came with one.
    pub async fn set_target(
        &self,
        principal: &Principal,
        body: SetTarget,
        key: Option<&IdempotencyKey>,
    ) -> Result<TargetSetAnswer, ApiError> {
        principal.require(ROLES)?;
        let caller = principal
            .hospital()
            .or(principal.region())
            .unwrap_or(SYSTEM_SCOPE);
        let idem = key.and_then(|k| {
            k.scoped(
                &format!("targets:{}:{caller}", principal.role().as_str()),
                "POST /api/v1/targets",
            )
        });
        if let Some(first) = self.replayed(idem.as_deref(), org::TargetSet::TYPE).await? {
            return answer(first.seq, &first.envelope.data);
        }
        let scope = self.target_scope(principal, &body).await?;
        let mut errors = Vec::new();
        let year = year(body.year).map_err(|e| errors.push(e)).ok();
        let value = value(body.indicator, body.value)
            .map_err(|e| errors.push(e))
            .ok();
        let (Some(year), Some(value)) = (year, value) else {
            return Err(ApiError::Invalid(errors));
        };
        let target = Target {
            indicator: body.indicator,
            scope,
            year,
            value,
            direction: body
                .direction
                .unwrap_or_else(|| body.indicator.natural_direction()),
        };
        let owner = target.scope.code().unwrap_or(SYSTEM_SCOPE).to_owned();
        let aggregate = ids::target(
            target.indicator.as_str(),
            target.scope.kind().as_str(),
            target.scope.code(),
            target.year,
        );
        let event = new_event(&org::TargetSet::of(&target), aggregate, owner);
        let committed = self.append(event, Expect::Any, idem.as_deref()).await?;
        answer(committed.seq, &committed.envelope.data)
    }

    /// The scope of `body`, checked against `principal`'s: 422 naming
    /// `/code` for a code that is missing, extra or unknown, 403 for a
    /// scope that is not the caller's.
    async fn target_scope(
        &self,
        principal: &Principal,
        body: &SetTarget,
    ) -> Result<TargetScope, ApiError> {
        let code = body.code.as_deref().map(str::trim);
        let scope = match (body.scope, code) {
            (ScopeKind::National, Some(_)) => {
                return Err(ApiError::field("/code", "a national target has no code"));
            }
            (ScopeKind::Region | ScopeKind::Hospital, None) => {
                return Err(ApiError::field(
                    "/code",
                    format!("is required for a {} target", body.scope.as_str()),
                ));
            }
            (_, Some(c)) if Code::parse(c).is_err() => {
                return Err(ApiError::field("/code", "is not a registered code"));
            }
            (kind, code) => TargetScope::of(kind, code)
                .ok_or_else(|| ApiError::internal("scope and code checked above"))?,
        };
        let own_region = principal.region();
        let own_hospital = principal.hospital();
        match (&scope, principal.role()) {
            (TargetScope::National, Role::Admin) => {}
            (TargetScope::National, _) => {
                return Err(ApiError::Forbidden(
                    "only the administrator sets national targets".into(),
                ));
            }
            (TargetScope::Region(r), Role::Admin) => {
                if !self.region_known(r)? {
                    return Err(ApiError::field(
                        "/code",
                        "no registered hospital is in this region",
                    ));
                }
            }
            (TargetScope::Region(r), Role::QcCentre) if self.supervises(own_region, r)? => {}
            (TargetScope::Region(r), _) => return Err(forbidden(&format!("region {r}"))),
            (TargetScope::Hospital(h), Role::SafetyOfficer) => {
                if own_hospital != Some(h.as_str()) {
                    return Err(forbidden(&format!("hospital {h}")));
                }
                self.known_hospital("/code", h).await?;
            }
            (TargetScope::Hospital(h), Role::Admin | Role::QcCentre) => {
                let hospital = self.known_hospital("/code", h).await?;
                if principal.role() == Role::QcCentre
                    && !own_region.is_some_and(|own| hospital.in_region(own))
                {
                    return Err(forbidden(&format!("hospital {h}")));
                }
            }
            (TargetScope::Hospital(h), _) => return Err(forbidden(&format!("hospital {h}"))),
        }
        Ok(scope)
    }

    /// The targets that apply in a year to the hospital, region or country
    /// `q` names (by default the caller's own), each with its history.
    pub async fn targets(
        &self,
        principal: &Principal,
        q: &TargetsQuery,
    ) -> Result<TargetsAnswer, ApiError> {
        principal.require(ROLES)?;
        let year = match q.year {
            Some(y) => year(y).map_err(|e| ApiError::Invalid(vec![e]))?,
            None => this_year(),
        };
        if q.hospital.is_some() && q.region.is_some() {
            return Err(ApiError::field(
                "/region",
                "give a hospital or a region, not both",
            ));
        }
        wait_after(self.directory.handle(), q.after).await?;
        let (hospital, region) = self.targets_view(principal, q).await?;
        let sets = self.directory.target_sets(year)?;
        let in_view = |r: &TargetRecord| match r.scope {
            ScopeKind::National => true,
            ScopeKind::Region => r.code.is_some() && r.code == region,
            ScopeKind::Hospital => r.code.is_some() && r.code == hospital,
        };
        let sets: Vec<&TargetRecord> = sets.iter().filter(|r| in_view(r)).collect();
        let regions: Vec<&str> = region.iter().map(String::as_str).collect();
        let indicators = Indicator::ALL
            .into_iter()
            .map(|indicator| {
                let mine: Vec<&TargetRecord> = sets
                    .iter()
                    .copied()
                    .filter(|r| r.indicator == indicator)
                    .collect();
                let targets: Vec<Target> = mine.iter().filter_map(|r| r.target()).collect();
                let applies = resolve(&targets, indicator, hospital.as_deref(), &regions, year)
                    .map(|t| AppliedTarget {
                        built_in: targets.is_empty(),
                        scope: t.scope.kind(),
                        code: t.scope.code().map(str::to_owned),
                        value: t.value,
                        direction: t.direction,
                    });
                let mut history: Vec<TargetSetView> = mine
                    .iter()
                    .enumerate()
                    .map(|(i, r)| TargetSetView {
                        scope: r.scope,
                        code: r.code.clone(),
                        value: r.value,
                        direction: r.direction,
                        seq: r.seq,
                        set_at: r.set_at.to_rfc3339(),
                        current: mine
                            .get(i + 1)
                            .is_none_or(|next| (next.scope, &next.code) != (r.scope, &r.code)),
                    })
                    .collect();
                history.sort_by_key(|s| s.seq);
                IndicatorTargets {
                    indicator,
                    unit: indicator.unit(),
                    natural_direction: indicator.natural_direction(),
                    applies,
                    history,
                }
            })
            .collect();
        Ok(TargetsAnswer {
            year,
            hospital,
            region,
            indicators,
        })
    }

    /// The hospital and region whose targets `principal` asked for, in
    /// its scope: 403 outside it, 422 for an unknown code.
    async fn targets_view(
        &self,
        principal: &Principal,
        q: &TargetsQuery,
    ) -> Result<(Option<String>, Option<String>), ApiError> {
        let asked_hospital = q.hospital.as_deref().map(str::trim);
        let asked_region = q.region.as_deref().map(str::trim);
        let (hospital, region) = match (principal.role(), asked_hospital, asked_region) {
            (Role::SafetyOfficer, None, None) => (principal.hospital(), None),
            (Role::QcCentre, None, None) => (None, principal.region()),
            (_, h, r) => (h, r),
        };
        if let Some(h) = hospital {
            let record = self.known_hospital("/hospital", h).await?;
            let allowed = match principal.role() {
                Role::Admin => true,
                Role::QcCentre => principal.region().is_some_and(|own| record.in_region(own)),
                _ => principal.hospital() == Some(h),
            };
            if !allowed {
                return Err(forbidden(&format!("hospital {h}")));
            }
            return Ok((Some(record.code.clone()), Some(record.region.clone())));
        }
        if let Some(r) = region {
            let allowed = match principal.role() {
                Role::Admin => true,
                Role::QcCentre => self.supervises(principal.region(), r)?,
                // A safety officer reads its own hospital's region.
                _ => match principal.hospital() {
                    Some(own) => self
                        .directory
                        .hospital(own)
                        .await?
                        .is_some_and(|h| h.regions().contains(&r)),
                    None => false,
                },
            };
            if !allowed {
                return Err(forbidden(&format!("region {r}")));
            }
            if !self.region_known(r)? {
                return Err(ApiError::field(
                    "/region",
                    "no registered hospital is in this region",
                ));
            }
            return Ok((None, Some(r.to_owned())));
        }
        Ok((None, None))
    }
}

/// The answer for a stored `org.target_set` (a retried request answers
/// with the first request's).
fn answer(seq: u64, data: &Data) -> Result<TargetSetAnswer, ApiError> {
    let target = data
        .parse::<org::TargetSet>()
        .ok()
        .and_then(|t| t.target())
        .ok_or_else(|| ApiError::internal(format!("event {seq} is not a target set")))?;
    Ok(TargetSetAnswer {
        seq,
        target: TargetView::from(&target),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_judged_by_its_indicator_s_unit_and_names_the_field() {
        // Given a per cent and a rate, when out of range or too precise,
        // then 422 naming /value says what fits.
        let bad = |i, v| value(i, v).unwrap_err();
        let e = bad(Indicator::DeathReviewOnTime, 100.5);
        assert_eq!(
            (e.pointer.as_str(), e.message.as_str()),
            ("/value", "must be a per cent, 0–100")
        );
        let e = bad(Indicator::ReportingRate, -1.0);
        assert_eq!(e.pointer, "/value");
        assert!(e.message.contains("per 100 discharges"), "{}", e.message);
        assert_eq!(
            bad(Indicator::ReportingRate, 2.555).message,
            "has at most two decimals"
        );
        assert_eq!(
            value(Indicator::ReportingRate, 3.25).unwrap().hundredths(),
            325
        );
        // Years outside 2000–2100 name /year.
        assert_eq!(year(1999).unwrap_err().pointer, "/year");
        assert_eq!(year(2101).unwrap_err().pointer, "/year");
        assert_eq!(year(-5).unwrap_err().pointer, "/year");
        assert_eq!(year(2026).unwrap(), 2026);
    }
}
