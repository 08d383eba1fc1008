//! The directory: hospitals, departments, staff tokens and idempotency keys,
//! projected from the `org.*` events and the message ids of every event.
//!
//! Like every read model it can be dropped and rebuilt from the stream.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lantern_ledger::{Ledger, Recorded};
use lantern_projection::{Handle, ProjectionError, Projector, Tx};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Role;
use crate::error::ApiError;

/// How long an Idempotency-Key holds.
pub const IDEMPOTENCY_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// How long a lookup that found nothing waits for the directory to catch up
/// with the stream before it answers "unknown".
const CATCH_UP: Duration = Duration::from_secs(5);

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

fn hospital_key(code: &str) -> Vec<u8> {
    format!("h/{code}").into_bytes()
}
fn token_key(hash: &str) -> Vec<u8> {
    format!("t/{hash}").into_bytes()
}
fn idempotency_key(hash: &str) -> Vec<u8> {
    format!("i/{hash}").into_bytes()
}

/// The directory projector.
pub struct DirectoryProjector;

#[derive(Deserialize)]
struct HospitalRegistered {
    code: String,
    name: String,
    region: String,
    level: String,
    timezone: String,
}

#[derive(Deserialize)]
struct DepartmentRegistered {
    code: String,
    name: String,
}

#[derive(Deserialize)]
struct TokenIssued {
    token_hash: String,
    role: Role,
    hospital: Option<String>,
    region: Option<String>,
}

#[derive(Deserialize)]
struct TokenRevoked {
    token_hash: String,
}

impl Projector for DirectoryProjector {
    fn name(&self) -> &'static str {
        "directory"
    }

    // Every kind (the default `kinds`): the idempotency index holds the
    // keys of events of all kinds.
    fn apply(&self, tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError> {
        if let Some(hash) = event.idempotency_key_hash() {
            tx.put_json(
                idempotency_key(hash),
                &IdempotencyRecord {
                    seq: event.seq,
                    at: event.envelope.recorded_at,
                },
            )?;
        }
        let e = &event.envelope;
        match e.event_type.as_str() {
            "org.hospital_registered" => {
                if let Ok(h) = e.data.parse::<HospitalRegistered>() {
                    let key = hospital_key(&h.code);
                    let departments = tx
                        .get_json::<HospitalRecord>(&key)?
                        .map(|old| old.departments)
                        .unwrap_or_default();
                    tx.put_json(
                        key,
                        &HospitalRecord {
                            code: h.code,
                            name: h.name,
                            region: h.region,
                            level: h.level,
                            timezone: h.timezone,
                            departments,
                        },
                    )?;
                }
            }
            "org.department_registered" => {
                if let Ok(d) = e.data.parse::<DepartmentRegistered>() {
                    let key = hospital_key(&e.hospital);
                    if let Some(mut h) = tx.get_json::<HospitalRecord>(&key)? {
                        h.departments.insert(d.code, d.name);
                        tx.put_json(key, &h)?;
                    }
                }
            }
            "org.token_issued" => {
                if let Ok(t) = e.data.parse::<TokenIssued>() {
                    tx.put_json(
                        token_key(&t.token_hash),
                        &TokenRecord {
                            role: t.role,
                            hospital: t.hospital,
                            region: t.region,
                            revoked: false,
                        },
                    )?;
                }
            }
            "org.token_revoked" => {
                if let Ok(t) = e.data.parse::<TokenRevoked>() {
                    let key = token_key(&t.token_hash);
                    if let Some(mut record) = tx.get_json::<TokenRecord>(&key)? {
                        record.revoked = true;
                        tx.put_json(key, &record)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Queries on the directory, with read-your-writes on a miss.
#[derive(Clone)]
pub struct Directory {
    handle: Handle,
    ledger: Ledger,
}

impl Directory {
    /// The directory over a running projector.
    pub fn new(handle: Handle, ledger: Ledger) -> Directory {
        Directory { handle, ledger }
    }

    /// The projector handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    fn get<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ApiError> {
        Ok(lantern_projection::Tx::new(self.handle.db()).get_json(key)?)
    }

    /// Looks `key` up; when it is missing, waits (bounded) until the
    /// directory has applied everything in the stream and looks again, so a
    /// hospital registered a moment ago is found.
    async fn get_fresh<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
    ) -> Result<Option<T>, ApiError> {
        if let Some(found) = self.get(key)? {
            return Ok(Some(found));
        }
        let last = self.ledger.last_sequence().await?;
        if self.handle.applied() < last && !self.handle.wait_for(last, CATCH_UP).await {
            return Err(ApiError::NotCaughtUp(last));
        }
        self.get(key)
    }

    /// A hospital by code.
    pub async fn hospital(&self, code: &str) -> Result<Option<HospitalRecord>, ApiError> {
        self.get_fresh(&hospital_key(code)).await
    }

    /// A hospital whose department list includes `department`, waiting for the
    /// directory to catch up if either is not known yet.
    pub async fn hospital_with_department(
        &self,
        code: &str,
        department: &str,
    ) -> Result<Option<HospitalRecord>, ApiError> {
        let key = hospital_key(code);
        if let Some(h) = self.get::<HospitalRecord>(&key)?
            && h.departments.contains_key(department)
        {
            return Ok(Some(h));
        }
        let last = self.ledger.last_sequence().await?;
        if self.handle.applied() < last && !self.handle.wait_for(last, CATCH_UP).await {
            return Err(ApiError::NotCaughtUp(last));
        }
        self.get(&key)
    }

    /// Every registered hospital, by code.
    pub fn hospitals(&self) -> Result<Vec<HospitalRecord>, ApiError> {
        let mut out = Vec::new();
        for item in self.handle.db().scan_prefix(b"h/") {
            let (k, v) = item.map_err(ProjectionError::from)?;
            out.push(lantern_projection::from_json(&k, &v)?);
        }
        Ok(out)
    }

    /// A token by hash.
    pub async fn token(&self, hash: &str) -> Result<Option<TokenRecord>, ApiError> {
        self.get_fresh(&token_key(hash)).await
    }

    /// Every token hash starting with `prefix`.
    pub fn token_hashes_with_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, TokenRecord)>, ApiError> {
        let mut out = Vec::new();
        for item in self.handle.db().scan_prefix(token_key(prefix)) {
            let (k, v) = item.map_err(ProjectionError::from)?;
            let hash = String::from_utf8_lossy(&k[2..]).into_owned();
            if let Ok(record) = serde_json::from_slice(&v) {
                out.push((hash, record));
            }
        }
        Ok(out)
    }

    /// The first use of an Idempotency-Key (by hash) within the window.
    pub fn idempotent(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, ApiError> {
        Ok(self
            .get::<IdempotencyRecord>(&idempotency_key(hash))?
            .filter(|r| now - r.at < IDEMPOTENCY_WINDOW))
    }
}
