//! Targets are data (DESIGN "Figures"): a target is an indicator's value
//! for a scope — the national default, a region or a hospital — and a
//! year, with the direction in which it is met. Targets are set by
//! `org.target_set` events; here, pure, is what a target is, whether a
//! figure meets it, and which of several applies.
//!
//! Precedence: a hospital's own target, then its regions' (most specific
//! first), then the national one, then the built-in default — which only
//! the reporting rate has (more than 2.5 voluntary reports per 100
//! discharges, the national plan's figure). A target holds for its year
//! only: a year nobody set falls through to the built-in default, so that
//! last year's local target does not quietly become this year's.
//!
//! Reference values — published national and provincial means, compared
//! with but not met — are in [`reference`].

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod reference;

/// An indicator the plans name and Lantern has the data for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// 每百出院人次主动报告不良事件例次: voluntary reports per 100 discharges.
    ReportingRate,
    /// Grade I and II (警告事件、不良后果事件) reports as a share of all
    /// reports, %.
    SeriousShare,
    /// Root-cause analyses closed within 45 days of opening, %.
    #[serde(rename = "rca_closed_in_45_days")]
    RcaClosedIn45Days,
    /// Deaths whose first review was held on time (7 days), %.
    DeathReviewOnTime,
    /// Low-risk deaths (低风险组死亡) reviewed at hospital or QC-centre
    /// level, %.
    LowRiskDeathsReviewed,
    /// CL-14 危急值通报率: lab critical values notified, %.
    #[serde(rename = "cl14_notification_rate")]
    Cl14NotificationRate,
    /// CL-15 危急值通报及时率: lab critical values notified in time, %.
    #[serde(rename = "cl15_notification_timeliness")]
    Cl15NotificationTimeliness,
    /// 危急值处置及时率: notified critical values handled in time, %.
    HandlingTimeliness,
}

/// What an indicator's value counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Per 100 discharges.
    Per100Discharges,
    /// Per cent, 0–100.
    Percent,
}

/// Which way a figure meets its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Met at or above the target.
    Higher,
    /// Met at or below the target.
    Lower,
}

impl Direction {
    /// Both directions.
    pub const ALL: [Direction; 2] = [Direction::Higher, Direction::Lower];

    /// The direction as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Higher => "higher",
            Direction::Lower => "lower",
        }
    }
}

impl Indicator {
    /// Every indicator, in the order pages list them.
    pub const ALL: [Indicator; 8] = [
        Indicator::ReportingRate,
        Indicator::SeriousShare,
        Indicator::RcaClosedIn45Days,
        Indicator::DeathReviewOnTime,
        Indicator::LowRiskDeathsReviewed,
        Indicator::Cl14NotificationRate,
        Indicator::Cl15NotificationTimeliness,
        Indicator::HandlingTimeliness,
    ];

    /// The code as the API and the events write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::ReportingRate => "reporting_rate",
            Indicator::SeriousShare => "serious_share",
            Indicator::RcaClosedIn45Days => "rca_closed_in_45_days",
            Indicator::DeathReviewOnTime => "death_review_on_time",
            Indicator::LowRiskDeathsReviewed => "low_risk_deaths_reviewed",
            Indicator::Cl14NotificationRate => "cl14_notification_rate",
            Indicator::Cl15NotificationTimeliness => "cl15_notification_timeliness",
            Indicator::HandlingTimeliness => "handling_timeliness",
        }
    }

    /// The indicator of a code.
    pub fn parse(code: &str) -> Option<Indicator> {
        Indicator::ALL.into_iter().find(|i| i.as_str() == code)
    }

    /// What its value counts.
    pub fn unit(self) -> Unit {
        match self {
            Indicator::ReportingRate => Unit::Per100Discharges,
            _ => Unit::Percent,
        }
    }

    /// The direction a target takes when none is given. More reports is a
    /// reporting culture, not more harm; a smaller serious share means the
    /// near misses and no-harm events are reported too.
    pub fn natural_direction(self) -> Direction {
        match self {
            Indicator::SeriousShare => Direction::Lower,
            _ => Direction::Higher,
        }
    }

    /// The target that applies when none is set for `year`: only the
    /// reporting rate has one (2.5 per 100 discharges, higher is better).
    pub fn built_in(self, year: u16) -> Option<Target> {
        match self {
            Indicator::ReportingRate => Some(Target {
                indicator: self,
                scope: TargetScope::National,
                year,
                value: TargetValue::from_hundredths(250),
                direction: Direction::Higher,
            }),
            _ => None,
        }
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The years a target may be set for.
pub const YEARS: std::ops::RangeInclusive<u16> = 2000..=2100;

/// The largest target value: 100 for a per cent, and no plan asks for more
/// than one voluntary report per discharge.
pub const MAX_VALUE_HUNDREDTHS: u32 = 10_000;

/// A target's value: at most two decimals, kept in hundredths so that it
/// compares exactly and an event holding it is `Eq`. Written as a JSON
/// number — `2.5`, `90` — and read from one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetValue(u32);

/// Why a number is not a target value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Below zero, not a number, or infinite.
    #[error("must be a number of at least 0")]
    Negative,
    /// More than [`MAX_VALUE_HUNDREDTHS`].
    #[error("must be at most 100")]
    TooLarge,
    /// A third decimal.
    #[error("has at most two decimals")]
    Precision,
}

impl TargetValue {
    /// The value of `hundredths` / 100.
    pub const fn from_hundredths(hundredths: u32) -> TargetValue {
        TargetValue(hundredths)
    }

    /// Hundredths of the value.
    pub fn hundredths(self) -> u32 {
        self.0
    }

    /// A number as a target value: 0 to 100 with at most two decimals.
    pub fn from_f64(value: f64) -> Result<TargetValue, ValueError> {
        if !value.is_finite() || value < 0.0 {
            return Err(ValueError::Negative);
        }
        let scaled = value * 100.0;
        let hundredths = scaled.round();
        // A float's error at this size is ~1e-12; a third decimal is ≥ 1e-3.
        if (scaled - hundredths).abs() > 1e-6 {
            return Err(ValueError::Precision);
        }
        if hundredths > f64::from(MAX_VALUE_HUNDREDTHS) {
            return Err(ValueError::TooLarge);
        }
        // In 0..=10_000 and whole: the cast is exact.
        Ok(TargetValue(hundredths as u32))
    }

    /// The value as a number.
    pub fn get(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl fmt::Display for TargetValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}

impl Serialize for TargetValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // A whole value is written as an integer (`90`, not `90.0`), so
        // that what a person typed is what the event holds.
        if self.0.is_multiple_of(100) {
            serializer.serialize_u32(self.0 / 100)
        } else {
            serializer.serialize_f64(self.get())
        }
    }
}

impl<'de> Deserialize<'de> for TargetValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        TargetValue::from_f64(value).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for TargetValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Number)
            .minimum(Some(0.0))
            .maximum(Some(100.0))
            .description(Some("At most two decimals"))
            .into()
    }
}

impl ToSchema for TargetValue {}

/// The kind of scope a target is set for, as events and requests name it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    /// Every hospital, unless a region or hospital has its own.
    National,
    /// The hospitals of a region (a QC centre's).
    Region,
    /// One hospital.
    Hospital,
}

impl ScopeKind {
    /// Every kind, from the widest.
    pub const ALL: [ScopeKind; 3] = [ScopeKind::National, ScopeKind::Region, ScopeKind::Hospital];

    /// The kind as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::National => "national",
            ScopeKind::Region => "region",
            ScopeKind::Hospital => "hospital",
        }
    }
}

/// Whom a target is set for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetScope {
    /// The national default.
    National,
    /// A region, by code.
    Region(String),
    /// A hospital, by code.
    Hospital(String),
}

impl TargetScope {
    /// A scope from its kind and code: national takes no code, the others
    /// need one.
    pub fn of(kind: ScopeKind, code: Option<&str>) -> Option<TargetScope> {
        match (kind, code) {
            (ScopeKind::National, None) => Some(TargetScope::National),
            (ScopeKind::Region, Some(c)) => Some(TargetScope::Region(c.to_owned())),
            (ScopeKind::Hospital, Some(c)) => Some(TargetScope::Hospital(c.to_owned())),
            _ => None,
        }
    }

    /// Its kind.
    pub fn kind(&self) -> ScopeKind {
        match self {
            TargetScope::National => ScopeKind::National,
            TargetScope::Region(_) => ScopeKind::Region,
            TargetScope::Hospital(_) => ScopeKind::Hospital,
        }
    }

    /// Its code: none for the national default.
    pub fn code(&self) -> Option<&str> {
        match self {
            TargetScope::National => None,
            TargetScope::Region(c) | TargetScope::Hospital(c) => Some(c),
        }
    }
}

/// A target: an indicator's value for a scope and a year, met in a
/// direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// What it is a target for.
    pub indicator: Indicator,
    /// Whom it is set for.
    pub scope: TargetScope,
    /// The calendar year it holds for.
    pub year: u16,
    /// The value.
    pub value: TargetValue,
    /// Which way it is met.
    pub direction: Direction,
}

/// Whether `value` meets `target`: at or above it when higher is better, at
/// or below it when lower is. A target is a level to reach (达标), so
/// reaching it exactly meets it — a 100 % target must be attainable. The
/// value is compared in hundredths, as figures are rounded (to two
/// decimals, half away from zero).
pub fn meets(target: &Target, value: f64) -> bool {
    let hundredths = (value * 100.0).round();
    let goal = f64::from(target.value.hundredths());
    match target.direction {
        Direction::Higher => hundredths >= goal,
        Direction::Lower => hundredths <= goal,
    }
}

/// The target of `indicator` that applies in `year` to `hospital` (if the
/// figure is a hospital's) in `regions` (its region chain, most specific
/// first; for a region's figure, that region and its parents): the
/// hospital's own, else the first region's that has one, else the
/// national one, else the built-in default. Where `targets` holds several
/// for the same scope (a history, in order), the last one holds.
pub fn resolve(
    targets: &[Target],
    indicator: Indicator,
    hospital: Option<&str>,
    regions: &[&str],
    year: u16,
) -> Option<Target> {
    let latest = |scope: &TargetScope| {
        targets
            .iter()
            .rev()
            .find(|t| t.indicator == indicator && t.year == year && &t.scope == scope)
            .cloned()
    };
    let own = hospital.and_then(|h| latest(&TargetScope::Hospital(h.to_owned())));
    own.or_else(|| {
        regions
            .iter()
            .find_map(|r| latest(&TargetScope::Region((*r).to_owned())))
    })
    .or_else(|| latest(&TargetScope::National))
    .or_else(|| indicator.built_in(year))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(indicator: Indicator, scope: TargetScope, value: f64) -> Target {
        Target {
            indicator,
            scope,
            year: 2026,
            value: TargetValue::from_f64(value).unwrap(),
            direction: indicator.natural_direction(),
        }
    }

    fn hospital(code: &str) -> TargetScope {
        TargetScope::Hospital(code.to_owned())
    }

    fn region(code: &str) -> TargetScope {
        TargetScope::Region(code.to_owned())
    }

    #[test]
    fn with_nothing_set_the_reporting_rate_has_the_built_in_default_and_nothing_else_has_one() {
        // Given no targets, when the reporting rate's is resolved, then it
        // is 2.5 nationally, higher is better.
        let t = resolve(&[], Indicator::ReportingRate, Some("H1"), &["R1"], 2026).unwrap();
        assert_eq!(
            (t.scope, t.value.get(), t.direction, t.year),
            (TargetScope::National, 2.5, Direction::Higher, 2026)
        );
        // Then every other indicator has none.
        for i in &Indicator::ALL[1..] {
            assert_eq!(resolve(&[], *i, Some("H1"), &["R1"], 2026), None, "{i}");
        }
    }

    #[test]
    fn the_hospital_s_own_beats_its_region_s_which_beats_the_national_one() {
        let rr = Indicator::ReportingRate;
        let set = [
            target(rr, TargetScope::National, 3.0),
            target(rr, region("R1"), 4.0),
            target(rr, hospital("H1"), 5.0),
        ];
        let value = |h: Option<&str>, regions: &[&str]| {
            resolve(&set, rr, h, regions, 2026).map(|t| t.value.get())
        };
        // When H1 (of R1) is judged, then its own target holds.
        assert_eq!(value(Some("H1"), &["R1"]), Some(5.0));
        // When H2 of the same region is, then the region's.
        assert_eq!(value(Some("H2"), &["R1"]), Some(4.0));
        // When H3 of another region is, then the national one.
        assert_eq!(value(Some("H3"), &["R2"]), Some(3.0));
        // When region R1 itself is judged, then the region's.
        assert_eq!(value(None, &["R1"]), Some(4.0));
        // When the national figure is, then the national one.
        assert_eq!(value(None, &[]), Some(3.0));
    }

    #[test]
    fn the_most_specific_region_of_the_chain_wins_and_the_last_set_of_a_scope_holds() {
        let rr = Indicator::ReportingRate;
        // Given a province, a city and two successive sets for the city.
        let set = [
            target(rr, region("PROV"), 3.0),
            target(rr, region("CITY"), 3.5),
            target(rr, region("CITY"), 3.2),
        ];
        // When a hospital of the city is judged (city first, then province),
        // then the city's latest set holds.
        let t = resolve(&set, rr, Some("H9"), &["CITY", "PROV"], 2026).unwrap();
        assert_eq!((t.scope, t.value.get()), (region("CITY"), 3.2));
        // When one of another city of the province is, then the province's.
        let t = resolve(&set, rr, Some("H8"), &["TOWN", "PROV"], 2026).unwrap();
        assert_eq!(t.value.get(), 3.0);
    }

    #[test]
    fn a_target_holds_for_its_year_only() {
        let set = [target(Indicator::DeathReviewOnTime, hospital("H1"), 95.0)];
        // When 2027 is asked for, then 2026's target does not apply.
        assert_eq!(
            resolve(&set, Indicator::DeathReviewOnTime, Some("H1"), &[], 2027),
            None
        );
        // And the reporting rate falls back to the built-in default of 2027.
        let t = resolve(&set, Indicator::ReportingRate, Some("H1"), &[], 2027).unwrap();
        assert_eq!((t.year, t.value.get()), (2027, 2.5));
    }

    #[test]
    fn a_target_is_met_by_reaching_it_in_its_direction() {
        let higher = target(Indicator::ReportingRate, TargetScope::National, 2.5);
        // Then reaching it exactly meets it; below does not.
        assert!(meets(&higher, 2.5));
        assert!(meets(&higher, 2.51));
        assert!(!meets(&higher, 2.49));
        // A 100 % target is met by 100 %.
        let all = target(
            Indicator::Cl14NotificationRate,
            TargetScope::National,
            100.0,
        );
        assert!(meets(&all, 100.0));
        assert!(!meets(&all, 99.99));
        // Lower is better: at or below.
        let share = target(Indicator::SeriousShare, TargetScope::National, 10.0);
        assert_eq!(share.direction, Direction::Lower);
        assert!(meets(&share, 10.0) && meets(&share, 3.0) && !meets(&share, 10.01));
    }

    #[test]
    fn values_have_two_decimals_and_a_range_and_are_written_as_typed() {
        assert_eq!(TargetValue::from_f64(2.55).unwrap().hundredths(), 255);
        assert_eq!(TargetValue::from_f64(0.0).unwrap().hundredths(), 0);
        assert_eq!(TargetValue::from_f64(100.0).unwrap().hundredths(), 10_000);
        assert_eq!(TargetValue::from_f64(-0.5), Err(ValueError::Negative));
        assert_eq!(TargetValue::from_f64(f64::NAN), Err(ValueError::Negative));
        assert_eq!(TargetValue::from_f64(100.01), Err(ValueError::TooLarge));
        assert_eq!(TargetValue::from_f64(2.555), Err(ValueError::Precision));
        for (text, back) in [
            ("2.5", "2.5"),
            ("90", "90"),
            ("90.0", "90"),
            ("2.55", "2.55"),
        ] {
            let v: TargetValue = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&v).unwrap(), back, "{text}");
        }
        assert!(serde_json::from_str::<TargetValue>("\"2.5\"").is_err());
        assert!(serde_json::from_str::<TargetValue>("-1").is_err());
    }

    #[test]
    fn codes_read_and_write_alike_and_scopes_need_their_code() {
        for i in Indicator::ALL {
            assert_eq!(Indicator::parse(i.as_str()), Some(i));
            assert_eq!(serde_json::to_value(i).unwrap(), i.as_str());
        }
        assert_eq!(Indicator::parse("mortality"), None);
        assert_eq!(Indicator::ReportingRate.unit(), Unit::Per100Discharges);
        assert_eq!(Indicator::HandlingTimeliness.unit(), Unit::Percent);
        for k in ScopeKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(
            TargetScope::of(ScopeKind::National, None),
            Some(TargetScope::National)
        );
        assert_eq!(TargetScope::of(ScopeKind::National, Some("R1")), None);
        assert_eq!(TargetScope::of(ScopeKind::Region, None), None);
        let h = TargetScope::of(ScopeKind::Hospital, Some("H1")).unwrap();
        assert_eq!((h.kind(), h.code()), (ScopeKind::Hospital, Some("H1")));
    }
}
