//! The directory projector: `org.*` events and the message ids of every
//! event into hospitals, tokens, targets, reference values and the
//! idempotency index.

use lantern_domain::events::org;
use lantern_domain::targets::ScopeKind;
use lantern_domain::targets::reference::ReferenceKind;
use lantern_ledger::{Recorded, SYSTEM_SCOPE};
use lantern_projection::{ProjectionError, Projector, Tx};

use crate::records::{
    HospitalRecord, IdempotencyRecord, LinkRecord, ReferenceRecord, RegionRecord, TargetRecord,
    TokenRecord, split_key,
};

pub(crate) fn hospital_key(code: &str) -> Vec<u8> {
    format!("h/{code}").into_bytes()
}
pub(crate) fn region_key(code: &str) -> Vec<u8> {
    format!("r/{code}").into_bytes()
}
pub(crate) fn token_key(hash: &str) -> Vec<u8> {
    format!("t/{hash}").into_bytes()
}
pub(crate) fn link_key(hospital: &str) -> Vec<u8> {
    format!("l/{hospital}").into_bytes()
}
pub(crate) fn idempotency_key(hash: &str) -> Vec<u8> {
    format!("i/{hash}").into_bytes()
}
/// The sets of a year's targets: year first, so that a year is one scan;
/// then indicator, scope and code, so that a target's sets are together;
/// then the sequence, so that they are in the order they were set.
pub(crate) fn targets_prefix(year: u16) -> Vec<u8> {
    format!("g/{year:04}/").into_bytes()
}
fn target_key(t: &TargetRecord) -> Vec<u8> {
    let code = t.code.as_deref().unwrap_or(SYSTEM_SCOPE);
    let mut key = targets_prefix(t.year);
    key.extend_from_slice(
        format!(
            "{}/{}/{code}/{:020}",
            t.indicator.as_str(),
            t.scope.as_str(),
            t.seq
        )
        .as_bytes(),
    );
    key
}
/// The sets of a year's reference values, laid out as the targets' are
/// (year; indicator, scope and code; sequence) under their own prefix.
pub(crate) fn references_prefix(year: u16) -> Vec<u8> {
    format!("f/{year:04}/").into_bytes()
}
fn reference_key(r: &ReferenceRecord) -> Vec<u8> {
    let code = r.code.as_deref().unwrap_or(SYSTEM_SCOPE);
    let mut key = references_prefix(r.year);
    key.extend_from_slice(
        format!(
            "{}/{}/{code}/{:020}",
            r.indicator.as_str(),
            r.scope.as_str(),
            r.seq
        )
        .as_bytes(),
    );
    key
}

/// The directory projector.
pub struct DirectoryProjector;

impl Projector for DirectoryProjector {
    fn name(&self) -> &'static str {
        "directory"
    }

    // 2: targets (`g/…`); 3: regions (`r/…`); 4: reference values (`f/…`);
    // 5: links (`l/…`) and the subject a token was issued under; 6: the
    // links of regions, and links from a hub's own scope only.
    fn version(&self) -> u32 {
        6
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
                            parents: vec![],
                        },
                    )?;
                }
            }
            "org.region_registered" => {
                // The hub's own registry only (the system scope): a
                // hospital's stream cannot re-parent a region.
                if let Ok(r) = e.data.parse::<org::RegionRegistered>()
                    && e.hospital == SYSTEM_SCOPE
                {
                    tx.put_json(
                        region_key(&r.code),
                        &RegionRecord {
                            code: r.code,
                            name: r.name,
                            parent: r.parent,
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
                            issued_under: Some(e.hospital.clone()),
                        },
                    )?;
                }
            }
            "org.target_set" => {
                // A target is taken from the subject it belongs to only: a
                // hospital's own stream (sourced by a hub) cannot set its
                // region's or the national target.
                if let Ok(t) = e.data.parse::<org::TargetSet>() {
                    let owner = match t.scope {
                        ScopeKind::National => Some(SYSTEM_SCOPE),
                        ScopeKind::Region | ScopeKind::Hospital => t.code.as_deref(),
                    };
                    if owner == Some(e.hospital.as_str()) && t.target().is_some() {
                        let record = TargetRecord {
                            indicator: t.indicator,
                            scope: t.scope,
                            code: t.code,
                            year: t.year,
                            value: t.value,
                            direction: t.direction,
                            seq: event.seq,
                            set_at: e.recorded_at,
                        };
                        tx.put_json(target_key(&record), &record)?;
                    }
                }
            }
            "org.reference_set" => {
                // As a target: a region's stream cannot set another
                // region's mean, nor a hospital's any.
                if let Ok(r) = e.data.parse::<org::ReferenceSet>() {
                    let owner = match r.scope {
                        ReferenceKind::National => Some(SYSTEM_SCOPE),
                        ReferenceKind::Region => r.code.as_deref(),
                    };
                    if owner == Some(e.hospital.as_str()) && r.reference().is_some() {
                        let record = ReferenceRecord {
                            indicator: r.indicator,
                            scope: r.scope,
                            code: r.code,
                            year: r.year,
                            value: r.value,
                            source: r.source,
                            note: r.note,
                            seq: event.seq,
                            set_at: e.recorded_at,
                        };
                        tx.put_json(reference_key(&record), &record)?;
                    }
                }
            }
            "org.hospital_linked" | "org.region_linked" => {
                // Taken only from a hub's own scope, which no hospital's
                // is: a hospital's own stream, sourced by the hub, cannot
                // link (and so silence) another hospital. The first link of
                // a code holds; the command path refuses a second.
                let link = match e.event_type.as_str() {
                    "org.hospital_linked" => e
                        .data
                        .parse::<org::HospitalLinked>()
                        .ok()
                        .map(|l| (l.hospital, l.domain, false)),
                    _ => e
                        .data
                        .parse::<org::RegionLinked>()
                        .ok()
                        .map(|l| (l.region, l.domain, true)),
                };
                if let Some((code, domain, of_region)) = link
                    && matches!(
                        lantern_ledger::Scope::parse(&e.hospital),
                        Some(lantern_ledger::Scope::Own(_))
                    )
                    && code != e.hospital
                    && tx.get(&hospital_key(&e.hospital))?.is_none()
                    && tx.get(&link_key(&code))?.is_none()
                {
                    tx.put_json(
                        link_key(&code),
                        &LinkRecord {
                            hospital: code,
                            of_region,
                            domain,
                            region: e.hospital.clone(),
                            seq: event.seq,
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
    fn every_set_of_a_target_is_kept_and_the_latest_holds() {
        use lantern_domain::targets::{
            Direction, Indicator, ScopeKind, Target, TargetScope, TargetValue,
        };
        let set = |value: u32, scope: TargetScope| {
            org::TargetSet::of(&Target {
                indicator: Indicator::ReportingRate,
                scope,
                year: 2026,
                value: TargetValue::from_hundredths(value),
                direction: Direction::Higher,
            })
        };
        let r1 = || TargetScope::Region("R1".into());
        // Given a national target, a region's set twice, and a region
        // target that arrives under a hospital's subject.
        let db = lantern_projection::given(
            &DirectoryProjector,
            &[
                event(1, "_", &set(300, TargetScope::National)),
                event(2, "R1", &set(350, r1())),
                event(3, "R1", &set(320, r1())),
                event(4, "H1", &set(900, TargetScope::Region("R2".into()))),
            ],
        )
        .unwrap();
        let tx = Tx::new(&db);
        let sets: Vec<TargetRecord> = db
            .scan_prefix(targets_prefix(2026))
            .map(|item| {
                let (k, v) = item.unwrap();
                lantern_projection::from_json(&k, &v).unwrap()
            })
            .collect();
        // Then the history has the three sets of their own subjects, each
        // target's in the order set; the foreign one is not taken.
        let seen: Vec<_> = sets
            .iter()
            .map(|r| (r.scope, r.code.as_deref(), r.value.hundredths(), r.seq))
            .collect();
        assert_eq!(
            seen,
            [
                (ScopeKind::National, None, 300, 1),
                (ScopeKind::Region, Some("R1"), 350, 2),
                (ScopeKind::Region, Some("R1"), 320, 3),
            ]
        );
        assert!(tx.get(&targets_prefix(2027)).unwrap().is_none());
        // And resolving over the history, the latest set of R1 holds.
        let targets: Vec<Target> = sets.iter().filter_map(TargetRecord::target).collect();
        let t = lantern_domain::targets::resolve(
            &targets,
            Indicator::ReportingRate,
            Some("H1"),
            &["R1"],
            2026,
        )
        .unwrap();
        assert_eq!(t.value.hundredths(), 320);
    }

    #[test]
    fn every_set_of_a_reference_is_kept_and_the_latest_of_each_scope_is_compared_with() {
        use lantern_domain::targets::reference::{Reference, ReferenceScope};
        use lantern_domain::targets::{Indicator, TargetValue};
        let set = |indicator, value: u32, scope: ReferenceScope| {
            org::ReferenceSet::of(&Reference {
                indicator,
                scope,
                year: 2025,
                value: TargetValue::from_hundredths(value),
                source: "国家医疗服务与质量安全报告 2025".into(),
                note: None,
            })
        };
        let (rr, cl15) = (
            Indicator::ReportingRate,
            Indicator::Cl15NotificationTimeliness,
        );
        let region = |c: &str| ReferenceScope::Region(c.into());
        // Given a national mean set twice, a province's and a city's for
        // CL-15, and a province's mean that arrives under a hospital's
        // subject.
        let db = lantern_projection::given(
            &DirectoryProjector,
            &[
                event(1, "_", &set(rr, 200, ReferenceScope::National)),
                event(2, "_", &set(rr, 231, ReferenceScope::National)),
                event(3, "HN", &set(cl15, 9235, region("HN"))),
                event(4, "ZZ", &set(cl15, 9400, region("ZZ"))),
                event(5, "H1", &set(cl15, 5000, region("HN"))),
            ],
        )
        .unwrap();
        let sets: Vec<ReferenceRecord> = db
            .scan_prefix(references_prefix(2025))
            .map(|item| {
                let (k, v) = item.unwrap();
                lantern_projection::from_json(&k, &v).unwrap()
            })
            .collect();
        // Then the history has the four sets of their own subjects.
        let seen: Vec<_> = sets.iter().map(|r| (r.seq, r.value.hundredths())).collect();
        assert_eq!(seen, [(3, 9235), (4, 9400), (1, 200), (2, 231)]);
        assert_eq!(db.scan_prefix(references_prefix(2026)).count(), 0);
        // And a report of a hospital of LY (in HN) is compared with HN's
        // CL-15 mean and the latest national reporting rate; ZZ's is not
        // in its chain.
        let latest = crate::queries::latest_references(&sets, &["LY", "HN"]);
        let compared: Vec<_> = latest
            .iter()
            .map(|r| (r.indicator, r.code.as_deref(), r.value.hundredths()))
            .collect();
        assert_eq!(compared, [(rr, None, 231), (cl15, Some("HN"), 9235)]);
        // A city's report has its own mean first, then its province's.
        let latest = crate::queries::latest_references(&sets, &["ZZ", "HN"]);
        let codes: Vec<_> = latest.iter().map(|r| r.code.as_deref()).collect();
        assert_eq!(codes, [None, Some("ZZ"), Some("HN")]);
    }

    #[test]
    fn a_link_is_taken_from_the_hubs_own_subject_only_and_once() {
        let link = |hospital: &str, domain: &str| org::HospitalLinked {
            hospital: hospital.into(),
            domain: domain.into(),
        };
        let registered = org::HospitalRegistered {
            code: "H1".into(),
            name: "一院".into(),
            region: "R1".into(),
            level: Level::Tertiary,
            timezone: "Asia/Shanghai".into(),
        };
        // Given H1's registration and a token of its officer (sourced from
        // its stream), H1 linked by the hub of R1 (twice), and a link of
        // H2 that arrives under H1's subject (from H1's own stream).
        let hash = "ef".repeat(32);
        let db = lantern_projection::given(
            &DirectoryProjector,
            &[
                event(1, "R1", &link("H1", "h1")),
                event(2, "H1", &registered),
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
                event(4, "R1", &link("H1", "elsewhere")),
                event(5, "H1", &link("H2", "h2")),
            ],
        )
        .unwrap();
        let tx = Tx::new(&db);
        // Then H1 is linked through h1 by R1, H2 is not; and the token
        // remembers the subject it was issued under.
        let l: LinkRecord = tx.get_json(&link_key("H1")).unwrap().unwrap();
        assert_eq!(
            (l.domain.as_str(), l.region.as_str(), l.seq),
            ("h1", "R1", 1)
        );
        assert!(tx.get(&link_key("H2")).unwrap().is_none());
        let t: TokenRecord = tx.get_json(&token_key(&hash)).unwrap().unwrap();
        assert_eq!(t.issued_under.as_deref(), Some("H1"));
    }

    #[test]
    fn a_regions_link_and_the_links_it_records_are_links_here_and_an_addressed_scope_links_nothing()
    {
        let region = |r: &str, domain: &str| org::RegionLinked {
            region: r.into(),
            domain: domain.into(),
        };
        let hospital = |h: &str, domain: &str| org::HospitalLinked {
            hospital: h.into(),
            domain: domain.into(),
        };
        // Given a province P1 that links R1, R1's link of H1 (sourced from
        // R1's stream), and links arriving under an addressed scope.
        let db = lantern_projection::given(
            &DirectoryProjector,
            &[
                event(1, "P1", &region("R1", "r1")),
                event(2, "R1", &hospital("H1", "h1")),
                event(3, "R1~H1", &hospital("H2", "h2")),
                event(4, "R1~H1", &region("R2", "r2")),
            ],
        )
        .unwrap();
        let tx = Tx::new(&db);
        // Then R1 is a region linked by P1, H1 a hospital linked by R1,
        // and nothing else is linked.
        let r: LinkRecord = tx.get_json(&link_key("R1")).unwrap().unwrap();
        assert_eq!(
            (r.of_region, r.domain.as_str(), r.region.as_str()),
            (true, "r1", "P1")
        );
        let h: LinkRecord = tx.get_json(&link_key("H1")).unwrap().unwrap();
        assert_eq!((h.of_region, h.region.as_str()), (false, "R1"));
        assert!(tx.get(&link_key("H2")).unwrap().is_none());
        assert!(tx.get(&link_key("R2")).unwrap().is_none());
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
