//! Codes, aggregate kinds and subjects.
//!
//! One subject per aggregate (`lantern.<hospital>.<kind>.<id>`) so that
//! `Nats-Expected-Last-Subject-Sequence` gives per-aggregate optimistic
//! concurrency and `lantern.<hospital>.>` selects one hospital.
//!
//! The second token is the subject's [`Scope`]: a hospital's or region's
//! code, the system scope `_`, or what a region's QC centre addresses to a
//! hospital, `<region>~<hospital>` — an aggregate the QC centre and the
//! hospital both write (a follow-up item, a death and its QC review) keeps
//! each side's events under its own scope, so that a hub and a hospital in
//! two JetStream domains can each source the other's without an echo.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::LedgerError;

/// The hospital token of subjects for events that belong to no hospital
/// (tokens of a QC centre, say). No [`Code`] can be `_`.
pub const SYSTEM_SCOPE: &str = "_";

/// A hospital, department or region code: 1–32 ASCII letters, digits, `_` or
/// `-`, starting with a letter or digit. Safe as a NATS subject token.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Code(String);

impl Code {
    /// Parses a code, refusing anything that could not be a subject token.
    pub fn parse(s: &str) -> Result<Code, String> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Code(s.to_owned()))
        } else {
            Err("must be 1–32 letters, digits, '_' or '-', starting with a letter or digit".into())
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Code {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Code::parse(&s)
    }
}

impl From<Code> for String {
    fn from(c: Code) -> String {
        c.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Separates, in an addressed scope, the region whose QC centre writes from
/// the hospital it writes to (`R01~H0001`). No [`Code`] holds it, so an
/// addressed scope is never a hospital's or a region's own, and a filter
/// `lantern.<hospital>.>` never takes it in.
pub const ADDRESSED: char = '~';

/// The scope of what `region`'s QC centre addresses to `hospital`:
/// `<region>~<hospital>`.
pub fn addressed(region: &str, hospital: &str) -> String {
    format!("{region}{ADDRESSED}{hospital}")
}

/// Whose events a subject's second token (an envelope's `hospital`) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// [`SYSTEM_SCOPE`]: events of no hospital or region.
    System,
    /// A hospital's or a region's own events.
    Own(&'a str),
    /// What `region`'s QC centre addressed to `hospital`.
    Addressed {
        /// The region whose QC centre wrote it.
        region: &'a str,
        /// The hospital it is addressed to.
        hospital: &'a str,
    },
}

impl<'a> Scope<'a> {
    /// The scope a subject token (or an envelope's `hospital`) names, or
    /// `None` when it could not stand in a subject.
    pub fn parse(token: &'a str) -> Option<Scope<'a>> {
        if token == SYSTEM_SCOPE {
            return Some(Scope::System);
        }
        match token.split_once(ADDRESSED) {
            None => Code::parse(token).ok().map(|_| Scope::Own(token)),
            Some((region, hospital)) => (Code::parse(region).is_ok()
                && Code::parse(hospital).is_ok())
            .then_some(Scope::Addressed { region, hospital }),
        }
    }

    /// The hospital (or region) the events are about: the code of an own
    /// scope, the addressee of an addressed one; `_` for the system scope.
    pub fn about(&self) -> &'a str {
        match self {
            Scope::System => SYSTEM_SCOPE,
            Scope::Own(code) => code,
            Scope::Addressed { hospital, .. } => hospital,
        }
    }

    /// The region that addressed it, for an addressed scope.
    pub fn addressed_by(&self) -> Option<&'a str> {
        match self {
            Scope::Addressed { region, .. } => Some(region),
            _ => None,
        }
    }
}

/// The hospital an envelope's `hospital` is about ([`Scope::about`]); the
/// token itself when it is no scope (which no append writes).
pub fn hospital_of(scope: &str) -> &str {
    Scope::parse(scope).map_or(scope, |s| s.about())
}

/// What an aggregate is; the third token of its subject and the prefix of its
/// event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateKind {
    /// An adverse-event report.
    Report,
    /// A critical value and its closed loop.
    CriticalValue,
    /// A department-month's denominators.
    Census,
    /// A root-cause analysis.
    Rca,
    /// A death and its reviews.
    Death,
    /// Hospitals, departments, tokens, limits.
    Org,
    /// A QC centre's action addressed to a hospital.
    FollowUp,
}

impl AggregateKind {
    /// The subject token and event-type prefix.
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateKind::Report => "report",
            AggregateKind::CriticalValue => "critical_value",
            AggregateKind::Census => "census",
            AggregateKind::Rca => "rca",
            AggregateKind::Death => "death",
            AggregateKind::Org => "org",
            AggregateKind::FollowUp => "followup",
        }
    }

    /// Every kind.
    pub const ALL: [AggregateKind; 7] = [
        AggregateKind::Report,
        AggregateKind::CriticalValue,
        AggregateKind::Census,
        AggregateKind::Rca,
        AggregateKind::Death,
        AggregateKind::Org,
        AggregateKind::FollowUp,
    ];

    /// Whether `kinds` holds every kind.
    pub fn all_in(kinds: &[AggregateKind]) -> bool {
        Self::ALL.iter().all(|k| kinds.contains(k))
    }

    /// The kind an event type belongs to (`report.filed` → `Report`).
    pub fn of_event_type(event_type: &str) -> Option<AggregateKind> {
        let prefix = event_type.split('.').next()?;
        Self::of_token(prefix)
    }

    /// The kind a subject names (`lantern.H1.report.<id>` → `Report`).
    pub fn of_subject(subject: &str) -> Option<AggregateKind> {
        Self::of_token(subject.split('.').nth(2)?)
    }

    fn of_token(token: &str) -> Option<AggregateKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == token)
    }

    /// The subjects of every aggregate of this kind, in every hospital.
    pub fn filter(self) -> String {
        format!("lantern.*.{}.*", self.as_str())
    }
}

/// The subject of an aggregate: `lantern.<hospital>.<kind>.<id>`, where
/// `hospital` is any [`Scope`].
pub fn subject(
    hospital: &str,
    kind: AggregateKind,
    aggregate: Uuid,
) -> Result<String, LedgerError> {
    if Scope::parse(hospital).is_none() {
        return Err(LedgerError::InvalidSubject(hospital.to_owned()));
    }
    Ok(format!("lantern.{hospital}.{}.{aggregate}", kind.as_str()))
}

/// The subjects of one aggregate under every scope
/// (`lantern.*.<kind>.<id>`): its hospital's events and what a QC centre
/// addressed to it.
pub fn aggregate_filter(kind: AggregateKind, aggregate: Uuid) -> String {
    format!("lantern.*.{}.{aggregate}", kind.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert!(Code::parse("H0001").is_ok());
        assert!(Code::parse("ICU").is_ok());
        assert!(Code::parse("cardio-2_b").is_ok());
        for bad in [
            "",
            "_",
            "-a",
            "a.b",
            "a b",
            "a*",
            "a>",
            "甲",
            &"x".repeat(33),
        ] {
            assert!(Code::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn subjects() {
        let id = Uuid::nil();
        assert_eq!(
            subject("H1", AggregateKind::CriticalValue, id).unwrap(),
            "lantern.H1.critical_value.00000000-0000-0000-0000-000000000000"
        );
        assert!(subject("_", AggregateKind::Org, id).is_ok());
        assert!(subject("a.b", AggregateKind::Org, id).is_err());
        assert_eq!(
            subject(&addressed("R1", "H1"), AggregateKind::FollowUp, id).unwrap(),
            "lantern.R1~H1.followup.00000000-0000-0000-0000-000000000000"
        );
        for bad in ["R1~", "~H1", "R1~H1~H2", "_~H1", "R1~_"] {
            assert!(subject(bad, AggregateKind::Death, id).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes() {
        assert_eq!(Scope::parse("_"), Some(Scope::System));
        assert_eq!(Scope::parse("H1"), Some(Scope::Own("H1")));
        let to = Scope::parse("R1~H1").unwrap();
        assert_eq!(
            (to.about(), to.addressed_by()),
            ("H1", Some("R1")),
            "the addressee is what it is about"
        );
        assert_eq!(hospital_of("R1~H1"), "H1");
        assert_eq!(hospital_of("H1"), "H1");
        assert_eq!(Scope::parse("a b"), None);
        // An addressed scope is one token: every kind's filter and the
        // aggregate's filter take it in, a hospital's filter does not.
        let s = subject("R1~H1", AggregateKind::Death, Uuid::nil()).unwrap();
        assert_eq!(AggregateKind::of_subject(&s), Some(AggregateKind::Death));
        assert_eq!(
            aggregate_filter(AggregateKind::Death, Uuid::nil()),
            "lantern.*.death.00000000-0000-0000-0000-000000000000"
        );
    }

    #[test]
    fn kinds_of_subjects() {
        let s = subject("H1", AggregateKind::CriticalValue, Uuid::nil()).unwrap();
        assert_eq!(
            AggregateKind::of_subject(&s),
            Some(AggregateKind::CriticalValue)
        );
        assert_eq!(AggregateKind::of_subject("lantern.H1"), None);
        assert_eq!(AggregateKind::of_subject("lantern.H1.nothing.x"), None);
        assert_eq!(AggregateKind::Rca.filter(), "lantern.*.rca.*");
    }

    #[test]
    fn kinds_of_types() {
        assert_eq!(
            AggregateKind::of_event_type("report.filed"),
            Some(AggregateKind::Report)
        );
        assert_eq!(
            AggregateKind::of_event_type("critical_value.handled"),
            Some(AggregateKind::CriticalValue)
        );
        assert_eq!(AggregateKind::of_event_type("nope.x"), None);
    }
}
