//! A hospital's time zone: months and days are counted in it (DESIGN "HTTP
//! API"), so "today" and "this month" are written here once.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::month::Month;

/// The zone of a hospital whose registration gives no valid one.
pub const DEFAULT_ZONE: Tz = chrono_tz::Asia::Shanghai;

/// The time zone months and days are counted in for a hospital; falls back
/// to Asia/Shanghai (the design's default) for an unknown name.
pub fn zone(name: Option<&str>) -> Tz {
    name.and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_ZONE)
}

/// A hospital's zone, with the calendar questions every context asks of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HospitalZone(pub Tz);

impl HospitalZone {
    /// The zone named by a hospital's registration (default Asia/Shanghai).
    pub fn named(name: Option<&str>) -> HospitalZone {
        HospitalZone(zone(name))
    }

    /// The calendar date of an instant in this zone.
    pub fn date_of<Z: TimeZone>(&self, at: &DateTime<Z>) -> NaiveDate {
        at.with_timezone(&self.0).date_naive()
    }

    /// The month of an instant in this zone.
    pub fn month_of<Z: TimeZone>(&self, at: &DateTime<Z>) -> Month {
        Month::of(self.date_of(at))
    }

    /// Today in this zone.
    pub fn today(&self) -> NaiveDate {
        self.date_of(&Utc::now())
    }

    /// This month in this zone.
    pub fn this_month(&self) -> Month {
        Month::of(self.today())
    }
}

impl Default for HospitalZone {
    fn default() -> Self {
        HospitalZone(DEFAULT_ZONE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_falls_in_the_hospital_zones_month() {
        let at = DateTime::parse_from_rfc3339("2026-10-31T16:30:00Z").unwrap();
        assert_eq!(
            HospitalZone::named(None).month_of(&at).to_string(),
            "2026-11"
        );
        assert_eq!(
            HospitalZone::named(Some("Europe/London"))
                .month_of(&at)
                .to_string(),
            "2026-10"
        );
        assert_eq!(
            HospitalZone::named(Some("Not/AZone")),
            HospitalZone::default()
        );
    }
}
