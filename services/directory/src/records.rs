//! What the directory knows, as stored in its read model.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lantern_domain::targets::reference::{Reference, ReferenceKind, ReferenceScope};
use lantern_domain::targets::{Direction, Indicator, ScopeKind, Target, TargetScope, TargetValue};
use lantern_domain::vocab::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A registered hospital with its departments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HospitalRecord {
    /// Hospital code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Region code (for QC-centre scope).
    pub region: String,
    /// `secondary` or `tertiary`.
    pub level: String,
    /// IANA time zone months are counted in.
    pub timezone: String,
    /// Departments: code → name.
    pub departments: BTreeMap<String, String>,
    /// The regions above its region, nearest first (city, then province):
    /// filled in from the region registry when the directory is read, never
    /// stored, so that re-parenting a region moves its hospitals at once.
    #[serde(default, skip)]
    pub parents: Vec<String>,
}

impl HospitalRecord {
    /// Its region and the regions above it, most specific first: whose
    /// targets apply to it, and whose QC centres supervise it.
    pub fn regions(&self) -> Vec<&str> {
        std::iter::once(self.region.as_str())
            .chain(self.parents.iter().map(String::as_str))
            .collect()
    }

    /// Whether it is in `region` or a region below it.
    pub fn in_region(&self, region: &str) -> bool {
        self.region == region || self.parents.iter().any(|p| p == region)
    }
}

/// A region of the QC hierarchy (province → city → county).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionRecord {
    /// Region code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The region it belongs to.
    pub parent: Option<String>,
}

/// A staff token as the directory knows it (by hash; never the token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// What it may do.
    pub role: Role,
    /// Hospital scope.
    pub hospital: Option<String>,
    /// Region scope.
    pub region: Option<String>,
    /// Revoked tokens are refused.
    pub revoked: bool,
    /// The code of the subject the token was issued under (its hospital's,
    /// its region's or the system scope): a token issued under a hospital
    /// linked to this hub came from the hospital's own stream and grants
    /// nothing here. None in records from before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_under: Option<String>,
}

/// A hospital linked to this hub (`org.hospital_linked`), or the hub of a
/// region below it (`org.region_linked`), or either linked by such a
/// region: its events are sourced, from its own Lantern or through the
/// region's, and its writes belong there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRecord {
    /// The hospital's code, or the region's for a region's link.
    pub hospital: String,
    /// A region's hub, not a hospital.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub of_region: bool,
    /// The JetStream domain of the hospital's nats-server.
    pub domain: String,
    /// The region (hub) that linked it: the code of the link's subject.
    pub region: String,
    /// Stream sequence of the link.
    pub seq: u64,
}

/// One set of a target (`org.target_set`), as its history keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRecord {
    /// The indicator.
    pub indicator: Indicator,
    /// National, region or hospital.
    pub scope: ScopeKind,
    /// The region's or hospital's code; none for national.
    pub code: Option<String>,
    /// The year it holds for.
    pub year: u16,
    /// The value.
    pub value: TargetValue,
    /// Which way it is met.
    pub direction: Direction,
    /// Stream sequence of the event that set it.
    pub seq: u64,
    /// When it was set (server clock).
    pub set_at: DateTime<Utc>,
}

impl TargetRecord {
    /// The target it set.
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

/// One set of a reference value (`org.reference_set`), as its history
/// keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceRecord {
    /// The indicator.
    pub indicator: Indicator,
    /// National or region.
    pub scope: ReferenceKind,
    /// The region's code; none for national.
    pub code: Option<String>,
    /// The year it is the mean of.
    pub year: u16,
    /// The value.
    pub value: TargetValue,
    /// Where it was published (scrubbed).
    pub source: String,
    /// A remark (scrubbed).
    pub note: Option<String>,
    /// Stream sequence of the event that set it.
    pub seq: u64,
    /// When it was set (server clock).
    pub set_at: DateTime<Utc>,
}

impl ReferenceRecord {
    /// The reference it set.
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

/// Where the first request with an Idempotency-Key was stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Stream sequence of the event it appended.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// The keyed fingerprint of the request that used it (method, path,
    /// body), to refuse the key for another request; none before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// Separates an Idempotency-Key's scoped hash from the fingerprint of the
/// request it came with, in the id an event is appended under.
pub const KEY_SEPARATOR: char = lantern_ledger::REQUEST_SEPARATOR;

/// A scoped key's hash (the index's key) and its request's fingerprint, if
/// it has one (events appended before fingerprints were kept have none).
pub fn split_key(scoped: &str) -> (&str, Option<&str>) {
    match scoped.split_once(KEY_SEPARATOR) {
        Some((hash, fingerprint)) => (hash, Some(fingerprint)),
        None => (scoped, None),
    }
}
