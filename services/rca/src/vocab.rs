//! The closed vocabularies of a root-cause analysis (the domain's enums,
//! re-exported), and the calendar date of the API (`YYYY-MM-DD`, nothing
//! looser).

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The fishbone category of a causal factor and the RCA² strength of an
/// action: the domain's, which the `rca.*` events carry.
pub use lantern_domain::events::rca::{Fishbone, Strength};

/// A calendar date written exactly `YYYY-MM-DD` (chrono alone would also
/// take `2026-1-5`), in the hospital's time zone by convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day(pub NaiveDate);

impl Day {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Day> {
        let b = s.as_bytes();
        let shape = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape {
            return None;
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(Day)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Day, D::Error> {
        let s = String::deserialize(d)?;
        Day::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a date YYYY-MM-DD")))
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.format("%Y-%m-%d"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_strict() {
        assert_eq!(
            Day::parse("2026-01-05").map(|d| d.0.to_string()),
            Some("2026-01-05".into())
        );
        for bad in [
            "2026-1-5",
            "2026-02-30",
            "2026/01/05",
            "26-01-05",
            "2026-01-05T00:00",
            "",
        ] {
            assert!(Day::parse(bad).is_none(), "{bad}");
        }
        assert!(serde_json::from_str::<Day>("\"2026-13-01\"").is_err());
    }

    #[test]
    fn vocabularies_are_the_schemas() {
        assert_eq!(
            serde_json::to_value(Fishbone::Measurement).unwrap(),
            "measurement"
        );
        assert!(serde_json::from_str::<Fishbone>("\"machine\"").is_err());
        assert_eq!(
            serde_json::from_str::<Strength>("\"intermediate\"").unwrap(),
            Strength::Intermediate
        );
        assert!(Strength::Stronger.is_stronger_or_intermediate());
        assert!(!Strength::Weaker.is_stronger_or_intermediate());
    }
}
