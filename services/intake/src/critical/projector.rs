//! The critical-values projector: every loop, the open ones per hospital,
//! each hospital's limits history and its critical-value catalogue with
//! its history.

use lantern_ledger::{AggregateKind, Recorded};
use lantern_projection::{ProjectionError, Projector, Stored, Tx};
use uuid::Uuid;

use super::rules::*;
use lantern_domain::critical::LimitsHistory;
use lantern_domain::critical::catalogue::CatalogueHistory;
use lantern_domain::events::CriticalValueEvent;
use lantern_domain::events::critical_value::Detected;
use lantern_domain::events::{Payload, org};

pub(super) fn value_key(id: Uuid) -> Vec<u8> {
    format!("v/{id}").into_bytes()
}
pub(super) fn open_prefix(hospital: &str) -> String {
    format!("o/{hospital}/")
}
pub(super) fn limits_key(hospital: &str) -> Vec<u8> {
    format!("l/{hospital}").into_bytes()
}
pub(super) fn catalogue_key(hospital: &str) -> Vec<u8> {
    format!("k/{hospital}").into_bytes()
}

/// The critical-values projector: every loop, and the open ones per hospital.
pub struct CriticalValuesProjector;

impl Projector for CriticalValuesProjector {
    fn name(&self) -> &'static str {
        "critical_values"
    }

    /// 2: loops stored as postcard (1: JSON); 3: the catalogue.
    fn version(&self) -> u32 {
        3
    }

    /// Limits, the catalogue and critical values.
    fn kinds(&self) -> &'static [AggregateKind] {
        &[AggregateKind::Org, AggregateKind::CriticalValue]
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError> {
        let e = &event.envelope;
        if e.event_type == org::LimitsSet::TYPE {
            if let Ok(set) = e.data.parse::<org::LimitsSet>() {
                let key = limits_key(&e.hospital);
                let mut history: LimitsHistory = tx.get_json(&key)?.unwrap_or_default();
                history.push((e.recorded_at, set.limits));
                tx.put_json(key, &history)?;
            }
            return Ok(());
        }
        if e.event_type == org::CriticalItemSet::TYPE {
            if let Ok(set) = e.data.parse::<org::CriticalItemSet>() {
                let key = catalogue_key(&e.hospital);
                let mut history: CatalogueHistory = tx.get_json(&key)?.unwrap_or_default();
                history.push(set.item());
                tx.put_json(key, &history)?;
            }
            return Ok(());
        }
        if AggregateKind::of_event_type(&e.event_type) != Some(AggregateKind::CriticalValue) {
            return Ok(());
        }
        let key = value_key(e.aggregate);
        // A detection starts a loop once (its subject is appended expecting
        // no earlier event): a second detection is not a critical value. A
        // step is folded into a loop that exists.
        let detection = e.event_type == Detected::TYPE;
        let state = if detection {
            if tx.get(&key)?.is_some() {
                return Ok(());
            }
            None
        } else {
            match tx.get_stored::<CriticalValue>(&key)? {
                Some(cv) => Some(cv),
                None => return Ok(()),
            }
        };
        let Some(Ok(parsed)) =
            CriticalValueEvent::from_json(&e.event_type, e.version, e.data.as_json())
        else {
            return Ok(());
        };
        let history: LimitsHistory = if detection {
            tx.get_json(&limits_key(&e.hospital))?.unwrap_or_default()
        } else {
            LimitsHistory::new()
        };
        let origin = Origin {
            critical_value_id: e.aggregate,
            hospital: &e.hospital,
            limits: &history,
        };
        let Some(cv) = apply(state, parsed, &origin) else {
            return Ok(());
        };
        let open = format!("{}{}", open_prefix(&e.hospital), e.aggregate).into_bytes();
        if detection {
            tx.put(open, b"1".to_vec());
        } else if cv.handled.is_some() {
            tx.remove(open);
        }
        // Critical-value ids are random: scattered over the keys.
        tx.put_scattered(key, cv.encode());
        Ok(())
    }
}
