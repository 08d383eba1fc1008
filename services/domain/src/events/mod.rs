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
//! - [`org`]: `org.*` ([`OrgEvent`]);
//! - [`followup`]: `followup.*`, a QC centre's actions ([`FollowUpEvent`]).
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
pub mod followup;
pub mod org;
pub mod rca;
pub mod report;

/// The typed `data` of one event type, at its latest version.
pub trait Payload: Serialize + DeserializeOwned {
    /// The dotted event type, e.g. `report.filed`.
    const TYPE: &'static str;
    /// The schema version of the data (`schemas/<TYPE>.v<VERSION>.json`)
    /// every writer appends.
    const VERSION: u32;

    /// Reads stored `data` of any version this type has had: the latest
    /// straight into the struct, an older one through its upcaster (events
    /// are immutable: a reader never rewrites them, it reads them as they
    /// would be written today). An unknown version is an error, as is data
    /// that does not fit.
    fn read(version: u32, json: &str) -> Result<Self, serde_json::Error>;
}

/// The version a writer appends `event_type` at today (its latest), for
/// tools that write events as the services would; `None` for a type no
/// kind has.
pub fn version_of(event_type: &str) -> Option<u32> {
    ReportEvent::version_of(event_type)
        .or_else(|| CriticalValueEvent::version_of(event_type))
        .or_else(|| CensusEvent::version_of(event_type))
        .or_else(|| RcaEvent::version_of(event_type))
        .or_else(|| DeathEvent::version_of(event_type))
        .or_else(|| OrgEvent::version_of(event_type))
        .or_else(|| FollowUpEvent::version_of(event_type))
}

/// The error for stored data of a version no reader knows.
fn unknown_version(event_type: &str, version: u32) -> serde_json::Error {
    <serde_json::Error as serde::de::Error>::custom(format!(
        "{event_type} has no version {version} that this build can read"
    ))
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

/// The `Payload` impl of one type at one version: the latest reads itself,
/// an older version goes through the type before it and `Into`.
macro_rules! payload {
    ($ty:ty = $type:literal @ $version:literal $(from $older:ty)?) => {
        impl Payload for $ty {
            const TYPE: &'static str = $type;
            const VERSION: u32 = $version;

            fn read(version: u32, json: &str) -> Result<Self, serde_json::Error> {
                if version == $version {
                    return serde_json::from_str(json);
                }
                $(
                    if version < $version {
                        return <$older as Payload>::read(version, json).map(Into::into);
                    }
                )?
                Err(unknown_version($type, version))
            }
        }
    };
}

// The versions before the latest, kept so that the stream's old events read
// (and so that tests can write a stream as it was).
payload!(report::FiledV1 = "report.filed" @ 1);
payload!(report::TriagedV1 = "report.triaged" @ 1);
payload!(death::RecordedV1 = "death.recorded" @ 1);

/// One enum per aggregate kind: its `Payload` impls, the enum of its
/// events, and `TYPES`, `event_type`, `data`, `from_json`, `parse` and
/// `From`. Each type names its latest version (`@ 2`) and, when it has an
/// older one, the struct of the version before (`from FiledV1`) whose
/// `Into` is the upcaster.
macro_rules! kind {
    (
        $(#[$meta:meta])*
        $name:ident in $module:ident {
            $($variant:ident = $type:literal @ $version:literal $(from $older:ty)?),+ $(,)?
        }
    ) => {
        $(
            payload!($module::$variant = $type @ $version $(from $older)?);

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

            /// The latest version of `event_type`, if it is of this kind.
            pub fn version_of(event_type: &str) -> Option<u32> {
                match event_type {
                    $($type => Some(<$module::$variant as Payload>::VERSION),)+
                    _ => None,
                }
            }

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

            /// Reads an event's stored `data` of `version` from its JSON
            /// text into the type's struct, older versions through their
            /// upcaster ([`Payload::read`]): `None` when the type is not of
            /// this aggregate kind, an error when the data does not fit the
            /// type or the version is unknown.
            pub fn from_json(event_type: &str, version: u32, json: &str) -> Option<Result<Self, serde_json::Error>> {
                match event_type {
                    $($type => Some(
                        <$module::$variant as Payload>::read(version, json).map($name::$variant),
                    ),)+
                    _ => None,
                }
            }

            /// Reads an event's latest-version `data` from a JSON tree (a
            /// request body or a fixture), as [`from_json`](Self::from_json)
            /// does from text.
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
        Filed = "report.filed" @ 2 from report::FiledV1,
        FollowedUp = "report.followed_up" @ 1,
        Triaged = "report.triaged" @ 2 from report::TriagedV1,
        FeedbackPosted = "report.feedback_posted" @ 1,
    }
}

kind! {
    /// Every event of a critical-value aggregate.
    CriticalValueEvent in critical_value {
        Detected = "critical_value.detected" @ 1,
        Notified = "critical_value.notified" @ 1,
        Acknowledged = "critical_value.acknowledged" @ 1,
        Handled = "critical_value.handled" @ 1,
    }
}

kind! {
    /// Every event of a department-month census aggregate.
    CensusEvent in census {
        Recorded = "census.recorded" @ 1,
        DischargeCounted = "census.discharge_counted" @ 1,
    }
}

kind! {
    /// Every event of a root-cause analysis (case-file) aggregate.
    RcaEvent in rca {
        Opened = "rca.opened" @ 1,
        TimelineAdded = "rca.timeline_added" @ 1,
        FactorAdded = "rca.factor_added" @ 1,
        RootCauseConfirmed = "rca.root_cause_confirmed" @ 1,
        ActionPlanned = "rca.action_planned" @ 1,
        ActionCompleted = "rca.action_completed" @ 1,
        Closed = "rca.closed" @ 1,
    }
}

kind! {
    /// Every event of a death aggregate.
    DeathEvent in death {
        Recorded = "death.recorded" @ 2 from death::RecordedV1,
        ReviewHeld = "death.review_held" @ 1,
        AutopsyReported = "death.autopsy_reported" @ 1,
        ReviewClosed = "death.review_closed" @ 1,
        Reported = "death.reported" @ 1,
    }
}

kind! {
    /// Every event of the organisation's aggregates: hospitals, departments,
    /// tokens, critical-value limits, targets, reference values, the
    /// server secret's fingerprint, the hospitals linked to a hub and the
    /// critical-value catalogue's items.
    OrgEvent in org {
        HospitalRegistered = "org.hospital_registered" @ 1,
        DepartmentRegistered = "org.department_registered" @ 1,
        TokenIssued = "org.token_issued" @ 1,
        TokenRevoked = "org.token_revoked" @ 1,
        LimitsSet = "org.limits_set" @ 1,
        TargetSet = "org.target_set" @ 1,
        RegionRegistered = "org.region_registered" @ 1,
        ReferenceSet = "org.reference_set" @ 1,
        SecretFingerprint = "org.secret_fingerprint" @ 1,
        HospitalLinked = "org.hospital_linked" @ 1,
        CriticalItemSet = "org.critical_item_set" @ 1,
        RegionLinked = "org.region_linked" @ 1,
    }
}

kind! {
    /// Every event of a QC action addressed to a hospital (guidance,
    /// rectification notice, follow-up item).
    FollowUpEvent in followup {
        Opened = "followup.opened" @ 1,
        Answered = "followup.answered" @ 1,
        Carried = "followup.carried" @ 1,
        Closed = "followup.closed" @ 1,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Every fixture of a latest version, read from its text straight into
    /// its type, is what reading it as a JSON tree gives; written as an
    /// [`Event`], it is its type, version and the same data. Every fixture
    /// of an older version reads too, through its upcaster, as the latest.
    #[test]
    fn text_and_tree_read_alike_and_an_event_writes_its_type_version_and_data() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/fixtures");
        let (mut read, mut upcast) = (0, 0);
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let Some((event_type, version)) = name
                .strip_suffix(".json")
                .and_then(|n| n.rsplit_once(".v"))
                .and_then(|(t, v)| Some((t.to_owned(), v.parse::<u32>().ok()?)))
            else {
                continue;
            };
            let event_type = event_type.as_str();
            let text = std::fs::read_to_string(&path).unwrap();
            let tree: Value = serde_json::from_str(&text).unwrap();
            macro_rules! alike {
                ($($kind:ident),+) => {
                    $(if let Some(parsed) = $kind::from_json(event_type, version, &text) {
                        let parsed = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
                        assert_eq!(Event::event_type(&parsed), event_type);
                        if Event::version(&parsed) == version {
                            assert_eq!(Some(parsed.clone()), $kind::parse(event_type, &tree).and_then(Result::ok));
                            assert_eq!(Event::data(&parsed), tree, "{name}");
                            read += 1;
                        } else {
                            assert!(Event::version(&parsed) > version, "{name}");
                            upcast += 1;
                        }
                    })+
                };
            }
            alike!(
                ReportEvent,
                CriticalValueEvent,
                CensusEvent,
                RcaEvent,
                DeathEvent,
                OrgEvent,
                FollowUpEvent
            );
        }
        assert_eq!(
            upcast, 3,
            "report.filed, report.triaged and death.recorded v1"
        );
        let types = [
            ReportEvent::TYPES,
            CriticalValueEvent::TYPES,
            CensusEvent::TYPES,
            RcaEvent::TYPES,
            DeathEvent::TYPES,
            OrgEvent::TYPES,
            FollowUpEvent::TYPES,
        ]
        .concat();
        assert_eq!(
            read,
            types.len(),
            "one fixture of each type's latest version"
        );
        // A payload is an event of its own type.
        let closed = death::ReviewClosed {};
        assert_eq!(
            (closed.event_type(), closed.version(), closed.data()),
            ("death.review_closed", 1, serde_json::json!({}))
        );
        assert!(ReportEvent::from_json("death.review_closed", 1, "{}").is_none());
        assert!(matches!(
            DeathEvent::from_json("death.review_closed", 1, r#"{"x":1}"#),
            Some(Err(_))
        ));
        assert!(
            matches!(
                DeathEvent::from_json("death.review_closed", 2, "{}"),
                Some(Err(_))
            ),
            "a version this build does not know is refused, not guessed"
        );
    }

    fn filed_v1(grade: &str, harm: &str) -> String {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../schemas/fixtures/report.filed.v1.json");
        let mut v: Value =
            serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
        v["grade"] = grade.into();
        v["harm"] = harm.into();
        v.to_string()
    }

    #[test]
    fn version_1_filings_read_with_the_v2_grade_harm_rule() {
        use crate::vocab::{Grade, Harm};
        // Given v1 filings as the stream holds them, when read, then each
        // agrees with the v2 rule without rewriting anything.
        for (grade, harm, want, treatment) in [
            ("IV", "none", Harm::NotApplicable, None),
            ("IV", "unknown", Harm::NotApplicable, None),
            ("III", "mild", Harm::Mild, Some(false)),
            ("II", "mild", Harm::Mild, Some(true)),
            ("III", "none", Harm::None, None),
            ("I", "unknown", Harm::Unknown, None),
        ] {
            let filed = report::Filed::read(1, &filed_v1(grade, harm)).unwrap();
            assert_eq!(
                (filed.harm, filed.treatment_needed),
                (want, treatment),
                "{grade}/{harm}"
            );
            assert!(
                filed.grade.agrees(filed.harm, filed.treatment_needed),
                "{grade}/{harm}"
            );
        }
        // A v1 triage did not re-assess harm: the filed harm stands, except
        // that grade IV did not reach the patient.
        let t = report::Triaged::read(1, r#"{"grade":"II","category":"fall"}"#).unwrap();
        assert_eq!((t.harm, t.treatment_needed), (None, None));
        let t = report::Triaged::read(1, r#"{"grade":"IV","category":"fall"}"#).unwrap();
        assert_eq!(t.harm, Some(Harm::NotApplicable));
        assert_eq!(t.grade, Grade::IV);
        // Version 2 data is not read as version 1, nor v1 as v2.
        assert!(
            report::Triaged::read(1, r#"{"grade":"II","category":"fall","harm":"moderate"}"#)
                .is_err()
        );
    }
}
