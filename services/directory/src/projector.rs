//! The directory projector: `org.*` events and the message ids of every
//! event into hospitals, tokens and the idempotency index.

use lantern_domain::vocab::Role;
use lantern_ledger::Recorded;
use lantern_projection::{ProjectionError, Projector, Tx};
use serde::Deserialize;

use crate::records::{HospitalRecord, IdempotencyRecord, TokenRecord, split_key};

pub(crate) fn hospital_key(code: &str) -> Vec<u8> {
    format!("h/{code}").into_bytes()
}
pub(crate) fn token_key(hash: &str) -> Vec<u8> {
    format!("t/{hash}").into_bytes()
}
pub(crate) fn idempotency_key(hash: &str) -> Vec<u8> {
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
        if let Some(scoped) = event.idempotency_key_hash() {
            let (hash, fingerprint) = split_key(scoped);
            tx.put_json(
                idempotency_key(hash),
                &IdempotencyRecord {
                    seq: event.seq,
                    at: event.envelope.recorded_at,
                    fingerprint: fingerprint.map(str::to_owned),
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
