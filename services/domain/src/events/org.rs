//! `org.*`: hospitals, departments, staff tokens, critical-value limits,
//! targets, reference values, the server secret's fingerprint and the
//! critical-value catalogue's items (`schemas/org.*.v1.json`).

use serde::{Deserialize, Serialize};

use chrono::{DateTime, FixedOffset};

use crate::critical::catalogue::{CatalogueItem, Threshold};
use crate::critical::{Limits, Source};
use crate::targets::reference::{Reference, ReferenceKind, ReferenceScope};
use crate::targets::{Direction, Indicator, ScopeKind, Target, TargetScope, TargetValue};
use crate::vocab::{Level, Role};

/// `org.hospital_registered`: a hospital registered by the administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HospitalRegistered {
    /// Hospital code; equals the envelope's hospital.
    pub code: String,
    /// Hospital name.
    pub name: String,
    /// Region code (the QC centre's scope).
    pub region: String,
    /// Secondary 二级 or tertiary 三级.
    pub level: Level,
    /// IANA time-zone name its months and dates are counted in, e.g.
    /// `Asia/Shanghai` (always written: the intake fills in the default).
    pub timezone: String,
}

/// `org.region_registered`: a region of the QC hierarchy (province → city
/// → county) and the region it belongs to; a later registration of the
/// same code replaces its name and parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionRegistered {
    /// Region code.
    pub code: String,
    /// Region name.
    pub name: String,
    /// The region it belongs to; none for a province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// `org.department_registered`: a department (科室) of the envelope's
/// hospital.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentRegistered {
    /// Department code, unique within the hospital.
    pub code: String,
    /// Department name.
    pub name: String,
}

/// `org.token_issued`: a bearer token, stored only as its hash, bound to a
/// role and a scope: `hospital` for safety_officer, lis and his; `region`
/// for qc_centre (the schema requires exactly that one; `admin` is
/// configured, never issued, and the schema refuses it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenIssued {
    /// SHA-256 of the token (64 lower-case hex digits).
    pub token_hash: String,
    /// The role the token is bound to.
    pub role: Role,
    /// Hospital scope (safety_officer, lis, his).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hospital: Option<String>,
    /// Region scope (qc_centre).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// `org.token_revoked`: a token refused from then on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRevoked {
    /// SHA-256 of the revoked token.
    pub token_hash: String,
}

/// `org.limits_set`: a hospital's critical-value limits, for values detected
/// after the event (earlier ones keep the limits in force when detected).
/// Its data is [`Limits`]' two fields, nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "LimitsData", into = "LimitsData")]
pub struct LimitsSet {
    /// The limits set.
    pub limits: Limits,
}

impl From<Limits> for LimitsSet {
    fn from(limits: Limits) -> Self {
        LimitsSet { limits }
    }
}

/// The stored form of [`LimitsSet`]: [`Limits`]' fields, closed like the
/// schema (`Limits` itself ignores unknown fields).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsData {
    notification_limit_minutes: u32,
    handling_limit_minutes: u32,
}

impl From<LimitsData> for LimitsSet {
    fn from(data: LimitsData) -> Self {
        LimitsSet {
            limits: Limits {
                notification_limit_minutes: data.notification_limit_minutes,
                handling_limit_minutes: data.handling_limit_minutes,
            },
        }
    }
}

impl From<LimitsSet> for LimitsData {
    fn from(set: LimitsSet) -> Self {
        LimitsData {
            notification_limit_minutes: set.limits.notification_limit_minutes,
            handling_limit_minutes: set.limits.handling_limit_minutes,
        }
    }
}

/// `org.target_set`: an indicator's target for a scope and a year
/// ([`crate::targets`]). The aggregate is the indicator, scope and year
/// ([`crate::ids::target`]): the latest set holds, the earlier ones are
/// its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSet {
    /// The indicator.
    pub indicator: Indicator,
    /// National, region or hospital.
    pub scope: ScopeKind,
    /// The region's or hospital's code; none for national (the schema
    /// holds the two together).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The calendar year it holds for.
    pub year: u16,
    /// The value: per 100 discharges or per cent, two decimals at most.
    pub value: TargetValue,
    /// Which way it is met.
    pub direction: Direction,
}

impl TargetSet {
    /// The event of `target`.
    pub fn of(target: &Target) -> TargetSet {
        TargetSet {
            indicator: target.indicator,
            scope: target.scope.kind(),
            code: target.scope.code().map(str::to_owned),
            year: target.year,
            value: target.value,
            direction: target.direction,
        }
    }

    /// The target it sets; none when its scope and code disagree (which
    /// the schema refuses before an append).
    pub fn target(&self) -> Option<Target> {
        Some(Target {
            indicator: self.indicator,
            scope: TargetScope::of(self.scope, self.code.as_deref())?,
            year: self.year,
            value: self.value,
            direction: self.direction,
        })
    }
}

/// `org.reference_set`: the national or a region's mean of an indicator
/// in a year, with its source ([`crate::targets::reference`]). The
/// aggregate is the indicator, scope and year ([`crate::ids::reference`]):
/// the latest set holds, the earlier ones are its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSet {
    /// The indicator.
    pub indicator: Indicator,
    /// National or region.
    pub scope: ReferenceKind,
    /// The region's code; none for national (the schema holds the two
    /// together).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The calendar year it is the mean of.
    pub year: u16,
    /// The value: per 100 discharges or per cent, two decimals at most.
    pub value: TargetValue,
    /// Where it was published; free text, scrubbed.
    pub source: String,
    /// A remark; free text, scrubbed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ReferenceSet {
    /// The event of `reference`.
    pub fn of(reference: &Reference) -> ReferenceSet {
        ReferenceSet {
            indicator: reference.indicator,
            scope: reference.scope.kind(),
            code: reference.scope.code().map(str::to_owned),
            year: reference.year,
            value: reference.value,
            source: reference.source.clone(),
            note: reference.note.clone(),
        }
    }

    /// The reference it sets; none when its scope and code disagree
    /// (which the schema refuses before an append).
    pub fn reference(&self) -> Option<Reference> {
        Some(Reference {
            indicator: self.indicator,
            scope: ReferenceScope::of(self.scope, self.code.as_deref())?,
            year: self.year,
            value: self.value,
            source: self.source.clone(),
            note: self.note.clone(),
        })
    }
}

/// `org.secret_fingerprint`: the fingerprint of the server secret every
/// replica of `lantern serve` on this stream must share (receipts are
/// keyed with it), written once by the first replica; a keyed hash, never
/// the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretFingerprint {
    /// HMAC-SHA256 of a fixed label under the secret, 64 lower-case hex digits.
    pub fingerprint: String,
}

/// `org.hospital_linked`: a region's hub links a hospital that runs its own
/// Lantern (DESIGN "Deployment tiers"): from then on the hub's stream
/// sources the hospital's events (`lantern.<hospital>.>`) from the
/// hospital's stream through its JetStream domain, and the hub refuses the
/// hospital's writes. Under the region's code; one aggregate per hospital
/// ([`crate::ids::link`]), so that a hospital is linked once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HospitalLinked {
    /// The hospital's code.
    pub hospital: String,
    /// The JetStream domain of the hospital's nats-server (its code in
    /// lower case by convention).
    pub domain: String,
}

/// `org.region_linked`: a hub links the hub of a region below it (a
/// province its regions, DESIGN "Deployment tiers": a province is a hub of
/// regions, by the same mechanism): from then on this hub's stream sources
/// the region's own events (`lantern.<region>.>`), and through them learns
/// the hospitals that region linked, whose events (and what the region's
/// QC centre addressed to them) it sources from the region's stream too.
/// Under the linking hub's code; one aggregate per region
/// ([`crate::ids::link`]), so that a region is linked once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionLinked {
    /// The region's code.
    pub region: String,
    /// The JetStream domain of the region's hub (its code in lower case by
    /// convention).
    pub domain: String,
}

/// `org.critical_item_set`: an item of a hospital's critical-value
/// catalogue ([`crate::critical::catalogue`]) as it holds from
/// `effective_from` on. The aggregate is the hospital's item
/// ([`crate::ids::critical_item`]): every set of it is an event of that
/// subject, so its history is the subject's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriticalItemSet {
    /// The item's code, as the sending system names the test.
    pub item: String,
    /// Its name; free text, scrubbed.
    pub name: String,
    /// The unit its limits are in; free text, scrubbed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Below this is critical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<Threshold>,
    /// Above this is critical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<Threshold>,
    /// Which service reports it.
    pub source: Source,
    /// From when it holds.
    pub effective_from: DateTime<FixedOffset>,
}

impl CriticalItemSet {
    /// The event of `item`.
    pub fn of(item: &CatalogueItem) -> CriticalItemSet {
        CriticalItemSet {
            item: item.item.clone(),
            name: item.name.clone(),
            unit: item.unit.clone(),
            low: item.low,
            high: item.high,
            source: item.source,
            effective_from: item.effective_from,
        }
    }

    /// The catalogue item it sets.
    pub fn item(self) -> CatalogueItem {
        CatalogueItem {
            item: self.item,
            name: self.name,
            unit: self.unit,
            low: self.low,
            high: self.high,
            source: self.source,
            effective_from: self.effective_from,
        }
    }
}
