//! The directory projector: `org.*` events and the message ids of every
//! event into hospitals, tokens and the idempotency index.

use lantern_domain::events::org;
use lantern_ledger::Recorded;
use lantern_projection::{ProjectionError, Projector, Tx};

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
                if let Ok(h) = e.data.parse::<org::HospitalRegistered>() {
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
                            level: h.level.as_str().to_owned(),
                            timezone: h.timezone,
                            departments,
                        },
                    )?;
                }
            }
            "org.department_registered" => {
                if let Ok(d) = e.data.parse::<org::DepartmentRegistered>() {
                    let key = hospital_key(&e.hospital);
                    if let Some(mut h) = tx.get_json::<HospitalRecord>(&key)? {
                        h.departments.insert(d.code, d.name);
                        tx.put_json(key, &h)?;
                    }
                }
            }
            "org.token_issued" => {
                if let Ok(t) = e.data.parse::<org::TokenIssued>() {
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
                if let Ok(t) = e.data.parse::<org::TokenRevoked>() {
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

#[cfg(test)]
mod tests {
    //! Given `org.*` events as the domain's payloads write them, then the
    //! directory's records.

    use lantern_domain::events::{Event, org};
    use lantern_domain::ids;
    use lantern_domain::vocab::{Level, Role};

    use super::*;

    fn event(seq: u64, hospital: &str, payload: &impl Event) -> Recorded {
        Recorded::new(
            seq,
            payload.event_type(),
            hospital,
            ids::random(),
            "2026-03-01T00:00:00Z".parse().unwrap(),
            payload.data(),
        )
    }

    #[test]
    fn hospitals_departments_and_tokens_are_read_from_their_events() {
        let hash = "ab".repeat(32);
        let db = lantern_projection::given(
            &DirectoryProjector,
            &[
                event(
                    1,
                    "H1",
                    &org::HospitalRegistered {
                        code: "H1".into(),
                        name: "一院".into(),
                        region: "R1".into(),
                        level: Level::Tertiary,
                        timezone: "Asia/Shanghai".into(),
                    },
                ),
                event(
                    2,
                    "H1",
                    &org::DepartmentRegistered {
                        code: "ICU".into(),
                        name: "重症医学科".into(),
                    },
                ),
                event(
                    3,
                    "H1",
                    &org::TokenIssued {
                        token_hash: hash.clone(),
                        role: Role::SafetyOfficer,
                        hospital: Some("H1".into()),
                        region: None,
                    },
                ),
            ],
        )
        .unwrap();
        let tx = Tx::new(&db);
        let h: HospitalRecord = tx.get_json(&hospital_key("H1")).unwrap().unwrap();
        assert_eq!(
            (h.name.as_str(), h.region.as_str(), h.level.as_str()),
            ("一院", "R1", "tertiary")
        );
        assert_eq!(h.departments["ICU"], "重症医学科");
        let t: TokenRecord = tx.get_json(&token_key(&hash)).unwrap().unwrap();
        assert_eq!(
            (t.role, t.hospital.as_deref(), t.revoked),
            (Role::SafetyOfficer, Some("H1"), false)
        );

        let db = lantern_projection::given(
            &DirectoryProjector,
            &[
                event(
                    1,
                    "H1",
                    &org::TokenIssued {
                        token_hash: hash.clone(),
                        role: Role::Lis,
                        hospital: Some("H1".into()),
                        region: None,
                    },
                ),
                event(
                    2,
                    "H1",
                    &org::TokenRevoked {
                        token_hash: hash.clone(),
                    },
                ),
            ],
        )
        .unwrap();
        let t: TokenRecord = Tx::new(&db).get_json(&token_key(&hash)).unwrap().unwrap();
        assert!(t.revoked);
    }

    #[test]
    fn a_token_of_a_role_the_schema_forbids_grants_nothing() {
        let mut issued = event(
            1,
            "_",
            &org::TokenIssued {
                token_hash: "cd".repeat(32),
                role: Role::QcCentre,
                hospital: None,
                region: Some("R1".into()),
            },
        );
        issued.envelope.data = serde_json::json!({
            "token_hash": "cd".repeat(32), "role": "superuser", "region": "R1"
        })
        .into();
        let db = lantern_projection::given(&DirectoryProjector, &[issued]).unwrap();
        assert_eq!(db.scan_prefix(b"t/").count(), 0);
    }
}
