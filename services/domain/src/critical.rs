//! Critical-value (危急值) rules that figures and the loop share: sources,
//! settings, a hospital's time limits with their history, what "in time"
//! means, and the hospital's catalogue of critical items ([`catalogue`]).

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod catalogue;

/// Where a critical value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Laboratory.
    Lab,
    /// Imaging.
    Imaging,
    /// ECG.
    Ecg,
    /// Pathology.
    Pathology,
    /// Other.
    Other,
}

/// Where the patient is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    /// 住院.
    Inpatient,
    /// 门诊.
    Outpatient,
    /// 急诊.
    Emergency,
}

/// A hospital's time limits, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Limits {
    /// From detected_at to the clinical unit receiving it (default 15).
    pub notification_limit_minutes: u32,
    /// From notified_at to handling (default 30).
    pub handling_limit_minutes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            notification_limit_minutes: 15,
            handling_limit_minutes: 30,
        }
    }
}

/// Limits with the time they took effect, oldest first.
pub type LimitsHistory = Vec<(DateTime<Utc>, Limits)>;

/// The limits in force at `at`: the last set no later than `at`, else the
/// defaults. A change applies to critical values detected after it.
pub fn limits_at(history: &LimitsHistory, at: DateTime<Utc>) -> Limits {
    history
        .iter()
        .rev()
        .find(|(from, _)| *from <= at)
        .map(|(_, l)| *l)
        .unwrap_or_default()
}

/// Whether `to - from` is within `minutes`: exactly the limit is in time,
/// a second more is not (docs/decisions.md).
pub fn within(from: DateTime<FixedOffset>, to: DateTime<FixedOffset>, minutes: u32) -> bool {
    to - from <= TimeDelta::minutes(i64::from(minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn limits_are_inclusive_to_the_second() {
        let d = t("2026-03-01T08:00:00+08:00");
        assert!(
            within(d, t("2026-03-01T08:15:00+08:00"), 15),
            "exactly 15:00 is in time"
        );
        assert!(
            !within(d, t("2026-03-01T08:15:01+08:00"), 15),
            "15:01 is late"
        );
        assert!(!within(d, t("2026-03-01T08:16:00+08:00"), 15));
        assert!(
            within(d, t("2026-03-01T00:15:00Z"), 15),
            "offsets do not matter"
        );
    }

    #[test]
    fn limits_in_force_at_detection() {
        let at = |s: &str| t(s).to_utc();
        let strict = Limits {
            notification_limit_minutes: 10,
            handling_limit_minutes: 20,
        };
        let history = vec![(at("2026-03-01T00:00:00Z"), strict)];
        assert_eq!(
            limits_at(&history, at("2026-02-28T23:59:59Z")),
            Limits::default()
        );
        assert_eq!(limits_at(&history, at("2026-03-01T00:00:00Z")), strict);
    }
}
