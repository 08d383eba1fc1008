//! What the directory knows, as stored in its read model.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
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
}

/// Where the first request with an Idempotency-Key was stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Stream sequence of the event it appended.
    pub seq: u64,
    /// When.
    pub at: DateTime<Utc>,
}
