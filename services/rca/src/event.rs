//! The events of a root-cause analysis: the domain's typed `rca.*`
//! payloads ([`lantern_domain::events::rca`]) and their enum [`RcaEvent`],
//! kept apart from the stored format. [`RcaEvent::data`] writes exactly what
//! `schemas/rca.*.v1.json` describe; [`parse`] reads a stored event back.

use lantern_ledger::Data;

pub use lantern_domain::events::RcaEvent;
pub use lantern_domain::events::rca::{
    ActionCompleted, ActionPlanned, Closed, FactorAdded, Opened, RootCauseConfirmed, TimelineAdded,
};

/// Reads a stored event back, straight from its JSON text; `None` for
/// another type, a version this build does not know, or data that does not
/// fit (projections ignore it).
pub fn parse(event_type: &str, version: u32, data: &Data) -> Option<RcaEvent> {
    RcaEvent::from_json(event_type, version, data.as_json())?.ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantern_ledger::SchemaRegistry;
    use serde_json::Value;

    fn fixture(event_type: &str) -> Value {
        let path = format!(
            "{}/../../schemas/fixtures/{event_type}.v1.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Every fixture reads into the typed event and writes back unchanged,
    /// and what we write validates against the schema.
    #[test]
    fn fixtures_round_trip_and_validate() {
        let schemas = SchemaRegistry::embedded().unwrap();
        for t in [
            "rca.opened",
            "rca.timeline_added",
            "rca.factor_added",
            "rca.root_cause_confirmed",
            "rca.action_planned",
            "rca.action_completed",
            "rca.closed",
        ] {
            let data = fixture(t);
            let event =
                parse(t, 1, &Data::from_value(&data)).unwrap_or_else(|| panic!("{t} parses"));
            assert_eq!(event.event_type(), t);
            let written = event.data();
            assert_eq!(written, data, "{t} round-trips");
            schemas.validate(t, 1, &written).unwrap();
        }
        let opened = Data::from_value(&fixture("rca.opened"));
        assert!(parse("rca.opened", 2, &opened).is_none());
        assert!(parse("report.filed", 1, &opened).is_none());
    }
}
