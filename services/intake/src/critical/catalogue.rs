//! A hospital's critical-value catalogue (危急值项目表; issue 28 item 2):
//! `PUT /api/v1/hospitals/{code}/critical-catalogue/{item}` sets an item
//! from a moment on (an `org.critical_item_set` event; every set is kept),
//! `GET /api/v1/hospitals/{code}/critical-catalogue` shows the catalogue
//! in force at a moment and every set of it.
//!
//! Who sets: the administrator for any hospital, a safety officer for its
//! own (the catalogue is the hospital's clinical policy, which its quality
//! department keeps). Who reads: those, the hospital's LIS and HIS (which
//! flag results by it) and the QC centre of its region.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::state::Intake;
use lantern_api::IdempotencyKey;
use lantern_api::auth::Principal;
use lantern_api::checks::{check_text, earliest};
use lantern_api::command::new_event;
use lantern_api::error::{ApiError, FieldError};
use lantern_api::json::ValidJson;
use lantern_api::path::ValidPath;
use lantern_api::query::{ValidQuery, wait_after};
use lantern_api::responses::{CommandErrors, QueryErrors};
use lantern_domain::critical::Source;
use lantern_domain::critical::catalogue::{
    CatalogueItem, NAME_MAX, Threshold, UNIT_MAX, valid_code,
};
use lantern_domain::events::{Payload, org};
use lantern_domain::ids;
use lantern_domain::vocab::Role;
use lantern_ledger::{Data, Expect};

/// Who may set an item.
const SETTERS: &[Role] = &[Role::Admin, Role::SafetyOfficer];

/// Who may read the catalogue.
const READERS: &[Role] = &[
    Role::Admin,
    Role::SafetyOfficer,
    Role::Lis,
    Role::His,
    Role::QcCentre,
];

/// How far ahead an item may be set to hold: a change announced for the
/// next year's list, not a typo's century.
const AHEAD: TimeDelta = TimeDelta::days(366);

/// An item of the catalogue as it holds from `effective_from` on.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCatalogueItem {
    /// The item's name, e.g. 血钾 (1–200 characters; PII-scrubbed).
    pub name: String,
    /// The unit its limits are in, e.g. mmol/L (≤ 50 characters); a
    /// result in another unit is not compared.
    pub unit: Option<String>,
    /// Critical below this (≥ 0, at most four decimals).
    pub low: Option<f64>,
    /// Critical above this (≥ 0, at most four decimals, above `low`).
    pub high: Option<f64>,
    /// lab, imaging, ecg, pathology or other.
    pub source: Source,
    /// From when it holds (default: now); may lie in the past (a list
    /// recorded after the fact) or up to a year ahead.
    pub effective_from: Option<DateTime<FixedOffset>>,
}

/// An item set.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueItemSet {
    /// Stream sequence of the event (for `?after=`).
    pub seq: u64,
    /// The item as set (name and unit as scrubbed).
    pub item: CatalogueItem,
}

/// Which moment's catalogue to show.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CatalogueQuery {
    /// The moment (RFC 3339); now when left out.
    pub at: Option<DateTime<FixedOffset>>,
    /// Wait (up to 5 s) until the critical-values read model has applied
    /// this stream sequence.
    pub after: Option<u64>,
}

/// A hospital's catalogue at a moment, with its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueAnswer {
    /// The hospital.
    pub hospital: String,
    /// The moment (RFC 3339, UTC).
    pub at: String,
    /// Each item as it held then, by code.
    pub items: Vec<CatalogueItem>,
    /// Every set of every item, in the order they were made.
    pub history: Vec<CatalogueItem>,
}

/// Set an item of a hospital's critical-value catalogue (admin; safety
/// officer of the hospital). Every set is kept; at a moment, the set with
/// the latest `effective_from` no later than it holds.
#[utoipa::path(put, path = "/api/v1/hospitals/{code}/critical-catalogue/{item}",
    tag = "critical_values",
    params(("code" = String, Path, description = "Hospital code"),
           ("item" = String, Path, description = "Item code, as the sending system names the test")),
    request_body = SetCatalogueItem,
    responses((status = 200, body = CatalogueItemSet), CommandErrors),
    security(("bearer" = [])))]
pub async fn set_item(
    State(app): State<Intake>,
    principal: Principal,
    ValidPath((hospital, item)): ValidPath<(String, String)>,
    key: IdempotencyKey,
    // Read after the role check: a caller who may not set items learns
    // that (403), not what is wrong with the body.
    body: Result<ValidJson<SetCatalogueItem>, ApiError>,
) -> Result<Json<CatalogueItemSet>, ApiError> {
    principal.require(SETTERS)?;
    let ValidJson(body) = body?;
    Ok(Json(
        app.set_catalogue_item(&principal, &hospital, &item, body, Some(&key))
            .await?,
    ))
}

/// A hospital's critical-value catalogue at a moment (now by default),
/// and every set of it.
#[utoipa::path(get, path = "/api/v1/hospitals/{code}/critical-catalogue",
    tag = "critical_values",
    params(("code" = String, Path, description = "Hospital code"), CatalogueQuery),
    responses((status = 200, body = CatalogueAnswer), QueryErrors),
    security(("bearer" = [])))]
pub async fn get_catalogue(
    State(app): State<Intake>,
    principal: Principal,
    ValidPath(hospital): ValidPath<String>,
    ValidQuery(q): ValidQuery<CatalogueQuery>,
) -> Result<Json<CatalogueAnswer>, ApiError> {
    principal.require(READERS)?;
    let h = app
        .directory
        .hospital(&hospital)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no hospital {hospital}")))?;
    if principal != Principal::Admin {
        principal.require_in(READERS, &h)?;
    }
    wait_after(app.critical_values.handle(), q.after).await?;
    let at = q.at.map_or_else(Utc::now, |a| a.to_utc());
    let history = app.critical_values.catalogue_history(&h.code)?;
    Ok(Json(CatalogueAnswer {
        hospital: h.code,
        at: at.to_rfc3339(),
        items: history.at(at).items().cloned().collect(),
        history: history.sets().to_vec(),
    }))
}

impl Intake {
    /// Sets an item of `hospital`'s catalogue as `principal`; `key` is the
    /// request's Idempotency-Key, if it came with one.
    pub async fn set_catalogue_item(
        &self,
        principal: &Principal,
        hospital: &str,
        item: &str,
        body: SetCatalogueItem,
        key: Option<&IdempotencyKey>,
    ) -> Result<CatalogueItemSet, ApiError> {
        principal.require(SETTERS)?;
        let caller = principal.hospital().unwrap_or("admin");
        let idem = key.and_then(|k| {
            k.scoped(
                &format!("catalogue:{}:{caller}", principal.role().as_str()),
                &format!("PUT /api/v1/hospitals/{hospital}/critical-catalogue/{item}"),
            )
        });
        if let Some(first) = self
            .replayed(idem.as_deref(), org::CriticalItemSet::TYPE)
            .await?
        {
            return answer(first.seq, &first.envelope.data);
        }
        let h = self
            .directory
            .hospital(hospital)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no hospital {hospital}")))?;
        if principal.hospital().is_some_and(|own| own != h.code) {
            return Err(ApiError::Forbidden(format!(
                "this token's scope does not include hospital {}",
                h.code
            )));
        }
        let item = checked(item, body)?;
        let event = new_event(
            &org::CriticalItemSet::of(&item),
            ids::critical_item(&h.code, &item.item),
            h.code,
        );
        let committed = self.append(event, Expect::Any, idem.as_deref()).await?;
        answer(committed.seq, &committed.envelope.data)
    }
}

/// The item a request sets, or every field that is wrong with it.
fn checked(code: &str, body: SetCatalogueItem) -> Result<CatalogueItem, ApiError> {
    let mut errors = Vec::new();
    if !valid_code(code) {
        errors.push(FieldError::new(
            "/item",
            "is not an item code: 1–64 of A-Z a-z 0-9 . _ : -, starting with a letter or digit",
        ));
    }
    let name = body.name.trim().to_owned();
    check_text("/name", &name, NAME_MAX, &mut errors);
    // An empty unit is no unit; the schema keeps a given one non-empty.
    let unit = body
        .unit
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned);
    if let Some(u) = &unit {
        check_text("/unit", u, UNIT_MAX, &mut errors);
    }
    let mut limit = |pointer: &str, v: Option<f64>| {
        v.and_then(|v| {
            Threshold::from_f64(v)
                .map_err(|e| errors.push(FieldError::new(pointer, e.to_string())))
                .ok()
        })
    };
    let low = limit("/low", body.low);
    let high = limit("/high", body.high);
    let effective_from = body
        .effective_from
        .unwrap_or_else(|| Utc::now().fixed_offset());
    if effective_from.to_utc() < earliest() {
        errors.push(FieldError::new("/effective_from", "is before 2000-01-01"));
    } else if effective_from.to_utc() > Utc::now() + AHEAD {
        errors.push(FieldError::new(
            "/effective_from",
            "is more than a year ahead",
        ));
    }
    let item = CatalogueItem {
        item: code.to_owned(),
        name,
        unit,
        low,
        high,
        source: body.source,
        effective_from,
    };
    // Only when both limits read: a limit refused above is not "missing".
    if body.low.is_some() == low.is_some()
        && body.high.is_some() == high.is_some()
        && let Err(e) = item.check()
    {
        errors.push(FieldError::new(e.pointer(), e.to_string()));
    }
    if errors.is_empty() {
        Ok(item)
    } else {
        Err(ApiError::Invalid(errors))
    }
}

fn answer(seq: u64, data: &Data) -> Result<CatalogueItemSet, ApiError> {
    let set = data
        .parse::<org::CriticalItemSet>()
        .map_err(ApiError::internal)?;
    Ok(CatalogueItemSet {
        seq,
        item: set.item(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(low: Option<f64>, high: Option<f64>) -> SetCatalogueItem {
        SetCatalogueItem {
            name: " 血钾 ".into(),
            unit: Some(" ".into()),
            low,
            high,
            source: Source::Lab,
            effective_from: None,
        }
    }

    fn pointers(r: Result<CatalogueItem, ApiError>) -> Vec<String> {
        match r {
            Err(ApiError::Invalid(errors)) => errors.into_iter().map(|e| e.pointer).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_request_is_checked_field_by_field() {
        let item = checked("K", body(Some(2.8), Some(6.2))).unwrap();
        assert_eq!((item.name.as_str(), item.unit), ("血钾", None));
        assert_eq!(pointers(checked("K", body(None, None))), ["/low"]);
        assert_eq!(pointers(checked("K", body(Some(6.2), Some(2.8)))), ["/low"]);
        assert_eq!(
            pointers(checked("K/2", body(Some(-1.0), Some(6.00001)))),
            ["/item", "/low", "/high"],
            "a refused limit is not also missing"
        );
        let mut far = body(None, Some(6.2));
        far.effective_from = Some((Utc::now() + TimeDelta::days(400)).fixed_offset());
        far.name = String::new();
        assert_eq!(pointers(checked("K", far)), ["/name", "/effective_from"]);
    }
}
