//! The events of a root-cause analysis as typed data, kept apart from the
//! stored format: [`RcaEvent::data`] writes exactly what
//! `schemas/rca.*.v1.json` describe, [`RcaEvent::parse`] reads it back.

use chrono::{DateTime, FixedOffset, NaiveDate};
use lantern_ledger::Data;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::vocab::{Fishbone, Strength};

/// `rca.opened`: the analysis of one or more reports of one hospital.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opened {
    /// The reports analysed.
    pub report_ids: Vec<Uuid>,
    /// Short title.
    pub title: String,
    /// Roles of the team (never names).
    pub team_roles: Vec<String>,
    /// Date by which the case should be closed (always written).
    pub due: NaiveDate,
}

/// `rca.timeline_added`: when and what happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineAdded {
    /// When it happened.
    pub at: DateTime<FixedOffset>,
    /// What happened.
    pub text: String,
}

/// `rca.factor_added`: a causal factor on the fishbone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactorAdded {
    /// Its number within the case, from 1.
    pub factor: u32,
    /// Fishbone category.
    pub category: Fishbone,
    /// The causal statement.
    pub statement: String,
    /// The why-chain it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whys: Option<Vec<String>>,
}

/// `rca.root_cause_confirmed`: factors confirmed as root causes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootCauseConfirmed {
    /// Factor numbers.
    pub factors: Vec<u32>,
}

/// `rca.action_planned`: an improvement action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionPlanned {
    /// Its number within the case, from 1.
    pub action: u32,
    /// What will be done.
    pub what: String,
    /// Role responsible.
    pub owner_role: String,
    /// Date by which it should be completed.
    pub due: NaiveDate,
    /// RCA² strength.
    pub strength: Strength,
    /// How its effect will be measured.
    pub measure: String,
}

/// `rca.action_completed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionCompleted {
    /// The action's number.
    pub action: u32,
    /// When it was completed.
    pub completed_at: DateTime<FixedOffset>,
    /// Evidence of completion.
    pub evidence: String,
    /// Measured effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
}

/// `rca.closed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closed {
    /// Lessons learned (the reporter reads them through the receipt).
    pub lessons: String,
    /// Why there is no root cause or no action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_no_action: Option<String>,
}

/// Every event of the case-file aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum RcaEvent {
    /// `rca.opened`
    Opened(Opened),
    /// `rca.timeline_added`
    TimelineAdded(TimelineAdded),
    /// `rca.factor_added`
    FactorAdded(FactorAdded),
    /// `rca.root_cause_confirmed`
    RootCauseConfirmed(RootCauseConfirmed),
    /// `rca.action_planned`
    ActionPlanned(ActionPlanned),
    /// `rca.action_completed`
    ActionCompleted(ActionCompleted),
    /// `rca.closed`
    Closed(Closed),
}

/// The version of every `rca.*` schema this crate writes and reads.
pub const VERSION: u32 = 1;

impl RcaEvent {
    /// The dotted event type.
    pub fn event_type(&self) -> &'static str {
        match self {
            RcaEvent::Opened(_) => "rca.opened",
            RcaEvent::TimelineAdded(_) => "rca.timeline_added",
            RcaEvent::FactorAdded(_) => "rca.factor_added",
            RcaEvent::RootCauseConfirmed(_) => "rca.root_cause_confirmed",
            RcaEvent::ActionPlanned(_) => "rca.action_planned",
            RcaEvent::ActionCompleted(_) => "rca.action_completed",
            RcaEvent::Closed(_) => "rca.closed",
        }
    }

    /// The event's `data`, as its schema describes it.
    pub fn data(&self) -> Result<Value, serde_json::Error> {
        match self {
            RcaEvent::Opened(e) => serde_json::to_value(e),
            RcaEvent::TimelineAdded(e) => serde_json::to_value(e),
            RcaEvent::FactorAdded(e) => serde_json::to_value(e),
            RcaEvent::RootCauseConfirmed(e) => serde_json::to_value(e),
            RcaEvent::ActionPlanned(e) => serde_json::to_value(e),
            RcaEvent::ActionCompleted(e) => serde_json::to_value(e),
            RcaEvent::Closed(e) => serde_json::to_value(e),
        }
    }

    /// Reads a stored event back; `None` for another type, a version this
    /// crate does not know, or data that does not fit (projections ignore it).
    pub fn parse(event_type: &str, version: u32, data: &Data) -> Option<RcaEvent> {
        if version != VERSION {
            return None;
        }
        fn de<T: serde::de::DeserializeOwned>(data: &Data) -> Option<T> {
            data.parse().ok()
        }
        Some(match event_type {
            "rca.opened" => RcaEvent::Opened(de(data)?),
            "rca.timeline_added" => RcaEvent::TimelineAdded(de(data)?),
            "rca.factor_added" => RcaEvent::FactorAdded(de(data)?),
            "rca.root_cause_confirmed" => RcaEvent::RootCauseConfirmed(de(data)?),
            "rca.action_planned" => RcaEvent::ActionPlanned(de(data)?),
            "rca.action_completed" => RcaEvent::ActionCompleted(de(data)?),
            "rca.closed" => RcaEvent::Closed(de(data)?),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantern_ledger::SchemaRegistry;

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
            let event = RcaEvent::parse(t, 1, &Data::from_value(&data))
                .unwrap_or_else(|| panic!("{t} parses"));
            assert_eq!(event.event_type(), t);
            let written = event.data().unwrap();
            assert_eq!(written, data, "{t} round-trips");
            schemas.validate(t, 1, &written).unwrap();
        }
        let opened = Data::from_value(&fixture("rca.opened"));
        assert!(RcaEvent::parse("rca.opened", 2, &opened).is_none());
        assert!(RcaEvent::parse("report.filed", 1, &opened).is_none());
    }
}
