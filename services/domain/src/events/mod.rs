//! The typed payloads of every event type, kept apart from the stored
//! format: one struct per `schemas/<type>.v1.json`, writing exactly the
//! `data` object that schema describes and reading it back. Writers build a
//! struct (or an event of its kind's enum) and append it as an [`Event`];
//! readers parse an event's stored `data` text straight into the struct of
//! the one type they need, or through the enum of its aggregate kind
//! ([`from_json`](ReportEvent::from_json); [`parse`](ReportEvent::parse)
//! reads a JSON tree already built). No reader needs a `serde_json::Value`
//! per event.
//!
//! - [`report`]: `report.*` ([`ReportEvent`]);
//! - [`critical_value`]: `critical_value.*` ([`CriticalValueEvent`]);
//! - [`census`]: `census.recorded` ([`CensusEvent`]);
//! - [`rca`]: `rca.*` ([`RcaEvent`]);
//! - [`death`]: `death.*` ([`DeathEvent`]);
//! - [`org`]: `org.*` ([`OrgEvent`]).
//!
//! Every struct is closed like its schema (an unknown field is refused) and
//! leaves an optional field out when it has no value. What the types cannot
//! say (code and hash patterns, text lengths, grade–harm agreement, a token's
//! scope) the ledger's schema registry still checks before an append.

use serde::Serialize;
use serde::de::{Deserialize, DeserializeOwned};
use serde_json::Value;

pub mod census;
pub mod critical_value;
pub mod death;
pub mod org;
pub mod rca;
pub mod report;

/// The typed `data` of one event type and version.
pub trait Payload: Serialize + DeserializeOwned {
    /// The dotted event type, e.g. `report.filed`.
    const TYPE: &'static str;
    /// The schema version of the data (`schemas/<TYPE>.v<VERSION>.json`).
    const VERSION: u32;
}

/// What a writer appends: an event's type, the version of its data and the
/// data. Every [`Payload`] is one, and so is every event of a kind's enum.
pub trait Event {
    /// The dotted event type.
    fn event_type(&self) -> &'static str;
    /// The schema version of the data.
    fn version(&self) -> u32;
    /// The event's `data`, exactly as its schema describes it.
    fn data(&self) -> Value;
}

impl<P: Payload> Event for P {
    fn event_type(&self) -> &'static str {
        P::TYPE
    }

    fn version(&self) -> u32 {
        P::VERSION
    }

    fn data(&self) -> Value {
        to_data(self)
    }
}

/// An event's `data` as JSON. Writing a payload cannot fail: every field is
/// a string, number, boolean, time, date, id, vocabulary code or a list or
/// object of those, and none is a map with non-string keys.
fn to_data<P: Payload>(payload: &P) -> Value {
    serde_json::to_value(payload)
        .unwrap_or_else(|e| unreachable!("{} data serialise to JSON: {e}", P::TYPE))
}

/// One enum per aggregate kind: its `Payload` impls (version 1), the enum of
/// its events, and `TYPES`, `event_type`, `data`, `parse` and `From`.
macro_rules! kind {
    (
        $(#[$meta:meta])*
        $name:ident in $module:ident {
            $($variant:ident = $type:literal),+ $(,)?
        }
    ) => {
        $(
            impl Payload for $module::$variant {
                const TYPE: &'static str = $type;
                const VERSION: u32 = 1;
            }

            impl From<$module::$variant> for $name {
                fn from(event: $module::$variant) -> Self {
                    $name::$variant(event)
                }
            }
        )+

        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $(
                #[doc = concat!("`", $type, "`")]
                $variant($module::$variant),
            )+
        }

        impl $name {
            /// Every event type of this aggregate kind.
            pub const TYPES: &'static [&'static str] =
                &[$(<$module::$variant as Payload>::TYPE),+];

            /// The dotted event type.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $($name::$variant(_) => <$module::$variant as Payload>::TYPE,)+
                }
            }

            /// The event's `data`, exactly as its schema describes it.
            pub fn data(&self) -> Value {
                match self {
                    $($name::$variant(event) => to_data(event),)+
                }
            }

            /// The schema version of the event's data.
            pub fn version(&self) -> u32 {
                match self {
                    $($name::$variant(_) => <$module::$variant as Payload>::VERSION,)+
                }
            }

            /// Reads an event's version-1 `data` from its stored JSON text
            /// straight into the type's struct (no JSON tree is built):
            /// `None` when the type is not of this aggregate kind, an error
            /// when the data does not fit the type. The envelope's version
            /// is the caller's to check (or the ledger's upcaster's).
            pub fn from_json(event_type: &str, json: &str) -> Option<Result<Self, serde_json::Error>> {
                match event_type {
                    $($type => Some(
                        serde_json::from_str::<$module::$variant>(json).map($name::$variant),
                    ),)+
                    _ => None,
                }
            }

            /// Reads an event's version-1 `data` back from a JSON tree, as
            /// [`from_json`](Self::from_json) does from text.
            pub fn parse(event_type: &str, data: &Value) -> Option<Result<Self, serde_json::Error>> {
                match event_type {
                    $($type => Some(
                        <$module::$variant as Deserialize>::deserialize(data).map($name::$variant),
                    ),)+
                    _ => None,
                }
            }
        }

        impl Event for $name {
            fn event_type(&self) -> &'static str {
                $name::event_type(self)
            }

            fn version(&self) -> u32 {
                $name::version(self)
            }

            fn data(&self) -> Value {
                $name::data(self)
            }
        }
    };
}

kind! {
    /// Every event of a report aggregate (`lantern.<hospital>.report.<id>`).
    ReportEvent in report {
        Filed = "report.filed",
        FollowedUp = "report.followed_up",
        Triaged = "report.triaged",
        FeedbackPosted = "report.feedback_posted",
    }
}

kind! {
    /// Every event of a critical-value aggregate.
    CriticalValueEvent in critical_value {
        Detected = "critical_value.detected",
        Notified = "critical_value.notified",
        Acknowledged = "critical_value.acknowledged",
        Handled = "critical_value.handled",
    }
}

kind! {
    /// Every event of a department-month census aggregate.
    CensusEvent in census {
        Recorded = "census.recorded",
    }
}

kind! {
    /// Every event of a root-cause analysis (case-file) aggregate.
    RcaEvent in rca {
        Opened = "rca.opened",
        TimelineAdded = "rca.timeline_added",
        FactorAdded = "rca.factor_added",
        RootCauseConfirmed = "rca.root_cause_confirmed",
        ActionPlanned = "rca.action_planned",
        ActionCompleted = "rca.action_completed",
        Closed = "rca.closed",
    }
}

kind! {
    /// Every event of a death aggregate.
    DeathEvent in death {
        Recorded = "death.recorded",
        ReviewHeld = "death.review_held",
        AutopsyReported = "death.autopsy_reported",
        ReviewClosed = "death.review_closed",
    }
}

kind! {
    /// Every event of the organisation's aggregates: hospitals, departments,
    /// tokens and critical-value limits.
    OrgEvent in org {
        HospitalRegistered = "org.hospital_registered",
        DepartmentRegistered = "org.department_registered",
        TokenIssued = "org.token_issued",
        TokenRevoked = "org.token_revoked",
        LimitsSet = "org.limits_set",
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Every fixture, read from its text straight into its type, is what
    /// reading it as a JSON tree gives; written as an [`Event`], it is its
    /// type, version 1 and the same data.
    #[test]
    fn text_and_tree_read_alike_and_an_event_writes_its_type_version_and_data() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/fixtures");
        let mut read = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let Some(event_type) = name.strip_suffix(".v1.json") else {
                continue;
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let tree: Value = serde_json::from_str(&text).unwrap();
            macro_rules! alike {
                ($($kind:ident),+) => {
                    $(if let Some(parsed) = $kind::from_json(event_type, &text) {
                        let parsed = parsed.unwrap();
                        assert_eq!(Some(parsed.clone()), $kind::parse(event_type, &tree).and_then(Result::ok));
                        assert_eq!(Event::event_type(&parsed), event_type);
                        assert_eq!(Event::version(&parsed), 1);
                        assert_eq!(Event::data(&parsed), tree, "{name}");
                        read += 1;
                    })+
                };
            }
            alike!(
                ReportEvent,
                CriticalValueEvent,
                CensusEvent,
                RcaEvent,
                DeathEvent,
                OrgEvent
            );
        }
        assert_eq!(read, 25);
        // A payload is an event of its own type.
        let closed = death::ReviewClosed {};
        assert_eq!(
            (closed.event_type(), closed.version(), closed.data()),
            ("death.review_closed", 1, serde_json::json!({}))
        );
        assert!(ReportEvent::from_json("death.review_closed", "{}").is_none());
        assert!(matches!(
            DeathEvent::from_json("death.review_closed", r#"{"x":1}"#),
            Some(Err(_))
        ));
    }
}
