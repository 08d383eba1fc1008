//! The mortality read model: each death's trail, and deaths by hospital and
//! month of death (hospital time zone).
//!
//! Keys: `z/<hospital>` time zone; `d/<id>` the [`Death`];
//! `m/<hospital>/<YYYY-MM>/<id>` the month index; `r/<hospital>/<id>` a
//! death the HIS reported that is not recorded yet ([`ReportedDeath`]).
//!
//! A death's trail is the hospital's subject and, for the reviews a QC
//! centre holds, the addressed scope `<region>~<hospital>` (written at the
//! region's hub, DESIGN "Deployment tiers"): merged here by the death's id.

use chrono::{DateTime, Utc};
use lantern_domain::events::{DeathEvent, Payload, death, org};
use lantern_ledger::{AggregateKind, Recorded, Scope};
use lantern_projection::{ProjectionError, Projector, Tx};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::death::{Death, Recorded as DeathRecorded, ReviewLevel, Stamp, apply};

/// The key of a death.
pub fn death_key(id: Uuid) -> Vec<u8> {
    format!("d/{id}").into_bytes()
}

/// The key prefix of a hospital's deaths of a month (`None`: every month).
pub fn month_prefix(hospital: &str, month: Option<&str>) -> String {
    match month {
        Some(m) => format!("m/{hospital}/{m}/"),
        None => format!("m/{hospital}/"),
    }
}

/// The key prefix of a hospital's reported deaths not recorded yet.
pub fn reported_prefix(hospital: &str) -> String {
    format!("r/{hospital}/")
}

fn reported_key(hospital: &str, id: Uuid) -> Vec<u8> {
    format!("{}{id}", reported_prefix(hospital)).into_bytes()
}

/// A death the hospital information system reported (`death.reported`)
/// that the safety officer has not completed as a record yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReportedDeath {
    /// The death's id: its record completes this aggregate.
    pub death_id: Uuid,
    /// What the HIS said.
    pub reported: death::Reported,
    /// When it was reported (server clock).
    pub reported_at: DateTime<Utc>,
    /// The stream sequence of the report: the record is appended expecting it.
    pub seq: u64,
}

fn zone_key(hospital: &str) -> Vec<u8> {
    format!("z/{hospital}").into_bytes()
}

/// The mortality projector.
pub struct MortalityProjector;

impl Projector for MortalityProjector {
    fn name(&self) -> &'static str {
        "mortality"
    }

    /// 2: deaths the HIS reported, until recorded.
    fn version(&self) -> u32 {
        2
    }

    /// Time zones and deaths.
    fn kinds(&self) -> &'static [AggregateKind] {
        &[AggregateKind::Org, AggregateKind::Death]
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError> {
        let e = &event.envelope;
        if e.event_type == org::HospitalRegistered::TYPE {
            if let Ok(h) = e.data.parse::<org::HospitalRegistered>() {
                tx.put_json(zone_key(&e.hospital), &h.timezone)?;
            }
            return Ok(());
        }
        if !DeathEvent::TYPES.contains(&e.event_type.as_str()) {
            return Ok(());
        }
        let key = death_key(e.aggregate);
        let parsed =
            DeathEvent::from_json(&e.event_type, e.version, e.data.as_json()).and_then(Result::ok);
        // What a QC centre addresses to a hospital is its review, nothing
        // else: the hub's stream cannot record, close or report an autopsy
        // of a hospital's death, nor a hospital's stream speak for the QC
        // centre under another scope.
        let addressed = match Scope::parse(&e.hospital) {
            Some(Scope::Own(_)) => false,
            Some(Scope::Addressed { .. }) => true,
            Some(Scope::System) | None => return Ok(()),
        };
        if addressed
            && !matches!(&parsed, Some(DeathEvent::ReviewHeld(r)) if r.level == ReviewLevel::QcCentre)
        {
            return Ok(());
        }
        if let Some(DeathEvent::Reported(reported)) = &parsed {
            // Reported before it is recorded, or not at all.
            if tx.get(&key)?.is_none() && !addressed {
                tx.put_json(
                    reported_key(&e.hospital, e.aggregate),
                    &ReportedDeath {
                        death_id: e.aggregate,
                        reported: reported.clone(),
                        reported_at: e.recorded_at,
                        seq: event.seq,
                    },
                )?;
            }
            return Ok(());
        }
        if e.event_type == DeathRecorded::TYPE {
            // Recorded once (its subject is appended expecting no earlier
            // event); a second recording is not a death.
            if tx.get(&key)?.is_some() {
                return Ok(());
            }
            let Some(recorded) = parsed else {
                return Ok(());
            };
            let timezone: String = tx
                .get_json(&zone_key(&e.hospital))?
                .unwrap_or_else(|| "Asia/Shanghai".to_owned());
            let stamp = Stamp {
                death_id: e.aggregate,
                hospital: &e.hospital,
                timezone: &timezone,
                at: e.recorded_at,
            };
            let Some(mut death) = apply(None, &recorded, &stamp) else {
                return Ok(());
            };
            death.last_seq = event.seq;
            tx.remove(reported_key(&e.hospital, e.aggregate));
            let month = death
                .date(death.recorded.died_at)
                .format("%Y-%m")
                .to_string();
            tx.put(
                format!("{}{}", month_prefix(&e.hospital, Some(&month)), e.aggregate).into_bytes(),
                b"1".to_vec(),
            );
            return tx.put_json(key, &death);
        }
        // A step on a death that exists; its last sequence moves even when
        // the data is not the type's, since its subject's did.
        let Some(death) = tx.get_json::<Death>(&key)? else {
            return Ok(());
        };
        if lantern_ledger::hospital_of(&e.hospital) != death.hospital {
            return Ok(());
        }
        let stamp = Stamp {
            death_id: e.aggregate,
            hospital: &e.hospital,
            timezone: "",
            at: e.recorded_at,
        };
        let mut death = match &parsed {
            Some(step) => match apply(Some(death), step, &stamp) {
                Some(folded) => folded,
                None => return Ok(()),
            },
            None => death,
        };
        death.last_seq = event.seq;
        tx.put_json(key, &death)
    }
}

#[cfg(test)]
mod tests {
    //! Given a death's events as the domain's payloads write them, then its
    //! trail in the read model.

    use chrono::DateTime;
    use lantern_domain::events::{Event, death, org};
    use lantern_domain::vocab::{AgeBand, Level};

    use super::*;

    fn event(seq: u64, aggregate: Uuid, at: &str, payload: &impl Event) -> Recorded {
        Recorded::new(
            seq,
            payload.event_type(),
            "H1",
            aggregate,
            at.parse().unwrap(),
            payload.data(),
        )
    }

    fn registered() -> org::HospitalRegistered {
        org::HospitalRegistered {
            code: "H1".into(),
            name: "x".into(),
            region: "R1".into(),
            level: Level::Tertiary,
            timezone: "America/New_York".into(),
        }
    }

    fn recorded() -> death::Recorded {
        death::Recorded {
            department: "ICU".into(),
            admitted_at: DateTime::parse_from_rfc3339("2026-09-20T10:00:00-04:00").unwrap(),
            // Oct 31 in New York, Nov 1 in UTC.
            died_at: DateTime::parse_from_rfc3339("2026-10-31T22:00:00-04:00").unwrap(),
            age_band: AgeBand::A60,
            diagnosis_icd10: "I21.9".into(),
            low_risk: false,
            autopsy: false,
        }
    }

    fn review() -> death::ReviewHeld {
        death::ReviewHeld {
            held_at: DateTime::parse_from_rfc3339("2026-11-02T10:00:00-05:00").unwrap(),
            level: death::ReviewLevel::Department,
            attendee_roles: vec!["director".into()],
            preventability: death::Preventability::Unavoidable,
            defects: vec![],
            rca_id: None,
        }
    }

    #[test]
    fn a_trail_is_recorded_once_in_its_month_and_every_step_moves_its_sequence() {
        let id = Uuid::from_u128(9);
        let mut garbled = event(5, id, "2026-11-03T00:00:00Z", &review());
        garbled.envelope.data = serde_json::json!({"held_at": "yesterday"}).into();
        let db = lantern_projection::given(
            &MortalityProjector,
            &[
                event(1, Uuid::nil(), "2026-01-01T00:00:00Z", &registered()),
                event(2, id, "2026-11-01T03:00:00Z", &recorded()),
                // A second recording is not a death.
                event(3, id, "2026-11-01T04:00:00Z", &recorded()),
                event(4, id, "2026-11-02T15:00:00Z", &review()),
                garbled,
                event(6, id, "2026-11-04T00:00:00Z", &death::ReviewClosed {}),
            ],
        )
        .unwrap();
        let tx = Tx::new(&db);
        let d: Death = tx.get_json(&death_key(id)).unwrap().unwrap();
        assert_eq!((d.timezone.as_str(), d.last_seq), ("America/New_York", 6));
        assert_eq!(d.recorded, recorded());
        assert_eq!(d.reviews, [review()]);
        assert_eq!(d.closed_at, Some("2026-11-04T00:00:00Z".parse().unwrap()));
        let months: Vec<_> = db
            .scan_prefix(month_prefix("H1", None))
            .map(|kv| String::from_utf8(kv.unwrap().0.to_vec()).unwrap())
            .collect();
        assert_eq!(months, [format!("m/H1/2026-10/{id}")]);
    }

    #[test]
    fn a_qc_centres_review_under_its_addressed_scope_joins_the_trail_and_nothing_else_does() {
        let id = Uuid::from_u128(9);
        let under = |scope: &str, mut e: Recorded| {
            e.envelope.hospital = scope.to_owned();
            e
        };
        let when = "2026-11-03T00:00:00Z";
        let qc_review = |seq| {
            event(
                seq,
                id,
                when,
                &death::ReviewHeld {
                    level: death::ReviewLevel::QcCentre,
                    ..review()
                },
            )
        };
        let db = lantern_projection::given(
            &MortalityProjector,
            &[
                event(1, Uuid::nil(), "2026-01-01T00:00:00Z", &registered()),
                event(2, id, "2026-11-01T03:00:00Z", &recorded()),
                under("R1~H1", qc_review(3)),
                // The addressed scope holds the QC centre's review only, of
                // its own addressee's deaths.
                under("R1~H1", event(4, id, when, &review())),
                under("R1~H1", event(5, id, when, &death::ReviewClosed {})),
                under("R1~H2", qc_review(6)),
                under("H2", qc_review(7)),
            ],
        )
        .unwrap();
        let d: Death = Tx::new(&db).get_json(&death_key(id)).unwrap().unwrap();
        assert_eq!(d.reviews.len(), 1, "{:?}", d.reviews);
        assert_eq!(d.reviews[0].level, death::ReviewLevel::QcCentre);
        assert_eq!((d.closed_at, d.last_seq), (None, 3));
    }

    #[test]
    fn steps_of_unknown_deaths_are_ignored() {
        let db = lantern_projection::given(
            &MortalityProjector,
            &[event(
                1,
                Uuid::from_u128(9),
                "2026-11-02T15:00:00Z",
                &review(),
            )],
        )
        .unwrap();
        assert_eq!(db.scan_prefix(b"d/").count(), 0);
    }

    #[test]
    fn a_reported_death_waits_until_it_is_recorded_on_its_id() {
        let (id, other) = (Uuid::from_u128(7), Uuid::from_u128(8));
        let reported = death::Reported {
            department: "ICU".into(),
            died_at: DateTime::parse_from_rfc3339("2026-10-31T22:00:00-04:00").unwrap(),
            admitted_at: None,
            age_band: Some(AgeBand::A80),
            diagnosis_icd10: None,
        };
        let waiting = |events: &[Recorded]| -> Vec<(Uuid, u64)> {
            let db = lantern_projection::given(&MortalityProjector, events).unwrap();
            let tx = Tx::new(&db);
            db.scan_prefix(reported_prefix("H1").as_bytes())
                .map(|kv| {
                    let r: ReportedDeath = tx.get_json(&kv.unwrap().0).unwrap().unwrap();
                    (r.death_id, r.seq)
                })
                .collect()
        };
        let first = [
            event(1, Uuid::nil(), "2026-01-01T00:00:00Z", &registered()),
            event(2, id, "2026-11-01T03:00:00Z", &reported),
            event(3, other, "2026-11-01T03:01:00Z", &reported),
        ];
        // Given two reported deaths, both wait, each with its sequence;
        assert_eq!(waiting(&first), [(id, 2), (other, 3)]);
        // when one is recorded on its id, only the other still waits;
        let mut then = first.to_vec();
        then.push(event(4, id, "2026-11-02T03:00:00Z", &recorded()));
        assert_eq!(waiting(&then), [(other, 3)]);
        // and a report of a death already recorded does not wait.
        then.push(event(5, id, "2026-11-02T04:00:00Z", &reported));
        assert_eq!(waiting(&then), [(other, 3)]);
    }
}
