//! The mortality read model: each death's trail, and deaths by hospital and
//! month of death (hospital time zone).
//!
//! Keys: `z/<hospital>` time zone; `d/<id>` the [`Death`];
//! `m/<hospital>/<YYYY-MM>/<id>` the month index.

use lantern_ledger::{AggregateKind, Recorded};
use lantern_projection::{ProjectionError, Projector, Tx};
use uuid::Uuid;

use crate::death::{Autopsy, Death, Recorded as DeathRecorded, Review, Step, apply};

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

fn zone_key(hospital: &str) -> Vec<u8> {
    format!("z/{hospital}").into_bytes()
}

/// The mortality projector.
pub struct MortalityProjector;

impl Projector for MortalityProjector {
    fn name(&self) -> &'static str {
        "mortality"
    }

    /// Time zones and deaths.
    fn kinds(&self) -> &'static [AggregateKind] {
        &[AggregateKind::Org, AggregateKind::Death]
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError> {
        let e = &event.envelope;
        match e.event_type.as_str() {
            "org.hospital_registered" => {
                if let Some(tz) = e.data.str_field("timezone") {
                    tx.put_json(zone_key(&e.hospital), &tz)?;
                }
            }
            "death.recorded" => {
                // Recorded once (its subject is appended expecting no earlier
                // event); a second recording is not a death.
                if tx.get(&death_key(e.aggregate))?.is_some() {
                    return Ok(());
                }
                let Ok(recorded) = e.data.parse::<DeathRecorded>() else {
                    return Ok(());
                };
                let timezone: String = tx
                    .get_json(&zone_key(&e.hospital))?
                    .unwrap_or_else(|| "Asia/Shanghai".to_owned());
                let death = Death {
                    death_id: e.aggregate,
                    hospital: e.hospital.clone(),
                    timezone,
                    recorded,
                    reviews: vec![],
                    autopsy_report: None,
                    closed_at: None,
                    last_seq: event.seq,
                };
                let month = death
                    .date(death.recorded.died_at)
                    .format("%Y-%m")
                    .to_string();
                tx.put(
                    format!("{}{}", month_prefix(&e.hospital, Some(&month)), e.aggregate)
                        .into_bytes(),
                    b"1".to_vec(),
                );
                tx.put_json(death_key(e.aggregate), &death)?;
            }
            "death.review_held" | "death.autopsy_reported" | "death.review_closed" => {
                let key = death_key(e.aggregate);
                let Some(mut death) = tx.get_json::<Death>(&key)? else {
                    return Ok(());
                };
                let step = match e.event_type.as_str() {
                    "death.review_held" => e.data.parse::<Review>().ok().map(Step::Review),
                    "death.autopsy_reported" => e.data.parse::<Autopsy>().ok().map(Step::Autopsy),
                    _ => Some(Step::Close),
                };
                if let Some(step) = step {
                    apply(&mut death, step, e.recorded_at);
                }
                death.last_seq = event.seq;
                tx.put_json(key, &death)?;
            }
            _ => {}
        }
        Ok(())
    }
}
