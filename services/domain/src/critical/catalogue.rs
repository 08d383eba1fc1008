//! A hospital's critical-value catalogue (危急值项目表, national plan task
//! 17): the items its laboratory, imaging, ECG and pathology services treat
//! as critical, each with its unit and its low and high critical limits,
//! kept with their history (`org.critical_item_set` events). The HL7 and
//! FHIR feeds use it to recognise a critical result the sender did not
//! flag; [`recognise`] is that rule.
//!
//! A limit is a bound the result must pass: a result strictly below `low`
//! or strictly above `high` is critical, one equal to a limit is not —
//! lists are written "血钾 < 2.8 或 > 6.2 mmol/L", and a limit is the last
//! value that is still tolerated.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Source;

/// Decimals a limit keeps: enough for every unit in use (INR 0.1,
/// potassium 0.01, troponin 0.001 ng/mL, TSH 0.0001 mIU/L), few enough
/// that a limit is an integer and an event holding it is `Eq`.
const SCALE: u64 = 10_000;

/// The largest limit (cells per litre are written as 10^9/L counts).
pub const THRESHOLD_MAX: u64 = 1_000_000_000;

/// The longest item code, in characters.
pub const CODE_MAX: usize = 64;

/// The longest item name, in characters.
pub const NAME_MAX: usize = 200;

/// The longest unit, in characters.
pub const UNIT_MAX: usize = 50;

/// A critical limit: at least 0, at most [`THRESHOLD_MAX`], four decimals
/// at most, kept in ten-thousandths. Written as a JSON number — `2.8`,
/// `20` — and read from one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Threshold(u64);

/// Why a number is not a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    /// Below zero, not a number, or infinite.
    #[error("must be a number of at least 0")]
    Negative,
    /// More than [`THRESHOLD_MAX`].
    #[error("must be at most 1000000000")]
    TooLarge,
    /// A fifth decimal.
    #[error("has at most four decimals")]
    Precision,
}

impl Threshold {
    /// A number as a limit.
    pub fn from_f64(value: f64) -> Result<Threshold, ThresholdError> {
        if !value.is_finite() || value < 0.0 {
            return Err(ThresholdError::Negative);
        }
        if value > THRESHOLD_MAX as f64 {
            return Err(ThresholdError::TooLarge);
        }
        let scaled = value * SCALE as f64;
        let whole = scaled.round();
        // Relative: at 10^13 ten-thousandths a float's spacing is ~10^-3.
        if (scaled - whole).abs() > 1e-6 * whole.max(1.0) {
            return Err(ThresholdError::Precision);
        }
        // In 0..=10^13 and whole: the cast is exact.
        Ok(Threshold(whole as u64))
    }

    /// The limit as a number: the double nearest its decimal, as parsing
    /// its text would give.
    pub fn get(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}

impl Serialize for Threshold {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // A whole limit is written as an integer (`20`, not `20.0`), so
        // that what a person typed is what the event holds.
        if self.0.is_multiple_of(SCALE) {
            serializer.serialize_u64(self.0 / SCALE)
        } else {
            serializer.serialize_f64(self.get())
        }
    }
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        Threshold::from_f64(value).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Threshold {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Number)
            .minimum(Some(0.0))
            .maximum(Some(THRESHOLD_MAX as f64))
            .description(Some("At most four decimals"))
            .into()
    }
}

impl ToSchema for Threshold {}

/// Whether `code` can name a catalogue item: 1–64 of `A-Z a-z 0-9 . _ : -`,
/// starting with a letter or digit — what LIS codes and LOINC codes
/// (`2823-3`) look like, and safe in a URL path and a NATS subject's id.
pub fn valid_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && code.len() <= CODE_MAX
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

/// One item of a catalogue as set from a moment on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogueItem {
    /// The item's code, as the sending system names the test (OBX-3's
    /// identifier, an Observation's code).
    pub item: String,
    /// Its name, e.g. 血钾.
    pub name: String,
    /// The unit its limits are in, e.g. mmol/L.
    pub unit: Option<String>,
    /// Below this is critical.
    pub low: Option<Threshold>,
    /// Above this is critical.
    pub high: Option<Threshold>,
    /// Which service reports it.
    pub source: Source,
    /// From when it holds (results detected from then on).
    pub effective_from: DateTime<FixedOffset>,
}

/// What is wrong with an item, by the field it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    /// Neither limit: nothing could be critical.
    #[error("give low, high or both")]
    NoLimit,
    /// `low` is not below `high`: every value would be critical.
    #[error("low must be below high")]
    LowNotBelowHigh,
}

impl ItemError {
    /// The field the error names, as a JSON Pointer.
    pub fn pointer(self) -> &'static str {
        match self {
            ItemError::NoLimit | ItemError::LowNotBelowHigh => "/low",
        }
    }
}

impl CatalogueItem {
    /// Checks what a schema cannot say about the limits together.
    pub fn check(&self) -> Result<(), ItemError> {
        match (self.low, self.high) {
            (None, None) => Err(ItemError::NoLimit),
            (Some(low), Some(high)) if low >= high => Err(ItemError::LowNotBelowHigh),
            _ => Ok(()),
        }
    }
}

/// Every set of a hospital's catalogue items, in the order they were set:
/// the history [`CatalogueHistory::at`] reads a catalogue from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueHistory(Vec<CatalogueItem>);

impl CatalogueHistory {
    /// Records a set (after every earlier one).
    pub fn push(&mut self, item: CatalogueItem) {
        self.0.push(item);
    }

    /// Every set, in the order they were made.
    pub fn sets(&self) -> &[CatalogueItem] {
        &self.0
    }

    /// The catalogue in force at `at`: per item, the set with the latest
    /// `effective_from` no later than `at`; of two with the same one, the
    /// later set (a correction). An item set to hold from a later moment
    /// is not in force yet.
    pub fn at(&self, at: DateTime<Utc>) -> Catalogue {
        let mut items: BTreeMap<String, &CatalogueItem> = BTreeMap::new();
        for set in self.0.iter().filter(|s| s.effective_from.to_utc() <= at) {
            match items.get(&set.item) {
                Some(held) if held.effective_from > set.effective_from => {}
                _ => {
                    items.insert(set.item.clone(), set);
                }
            }
        }
        Catalogue(
            items
                .into_iter()
                .map(|(code, item)| (code, item.clone()))
                .collect(),
        )
    }
}

/// A catalogue at one moment: each item as it then held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalogue(BTreeMap<String, CatalogueItem>);

impl Catalogue {
    /// The item of `code`, if the catalogue has it.
    pub fn get(&self, code: &str) -> Option<&CatalogueItem> {
        self.0.get(code)
    }

    /// Its items, by code.
    pub fn items(&self) -> impl Iterator<Item = &CatalogueItem> {
        self.0.values()
    }

    /// How many items it has.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<CatalogueItem> for Catalogue {
    fn from_iter<I: IntoIterator<Item = CatalogueItem>>(items: I) -> Self {
        Catalogue(items.into_iter().map(|i| (i.item.clone(), i)).collect())
    }
}

/// How a result relates to the number it carries: laboratories report a
/// value beyond the measuring range as `>500` or `<0.01`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reading {
    Exactly(f64),
    Below(f64),
    AtMost(f64),
    Above(f64),
    AtLeast(f64),
}

fn reading(value: &str) -> Option<Reading> {
    let v = value.trim();
    let (make, rest): (fn(f64) -> Reading, &str) = if let Some(r) = v.strip_prefix("<=") {
        (Reading::AtMost, r)
    } else if let Some(r) = v.strip_prefix(">=") {
        (Reading::AtLeast, r)
    } else if let Some(r) = v.strip_prefix('<') {
        (Reading::Below, r)
    } else if let Some(r) = v.strip_prefix('>') {
        (Reading::Above, r)
    } else {
        (Reading::Exactly, v)
    };
    let rest = rest.trim();
    // Only plain decimals: `inf`, `NaN` and `1e3` are no lab's notation.
    let plain = !rest.is_empty()
        && rest
            .trim_start_matches(['+', '-'])
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.');
    let x: f64 = rest.parse().ok().filter(|_| plain)?;
    Some(make(x))
}

/// Two units the same: case aside (`mmol/L`, `mmol/l`), as senders write
/// them inconsistently.
fn same_unit(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Whether a result of `item` with `value` in `unit` is critical by the
/// catalogue: the item is in it, the result's unit (when it has one) is
/// the item's, and the value is certainly past a limit. A value that is
/// not a number (`阳性`, `see comment`) is not recognised, nor is a value
/// in another unit: a number cannot be compared across units, and the
/// sender's own flag still marks it. A result without a unit is read in
/// the catalogue's. `<x` and `>x` count only when every value they admit
/// is past the limit.
pub fn recognise(catalogue: &Catalogue, item: &str, value: &str, unit: Option<&str>) -> bool {
    let Some(entry) = catalogue.get(item.trim()) else {
        return false;
    };
    if let (Some(want), Some(got)) = (entry.unit.as_deref(), unit.filter(|u| !u.trim().is_empty()))
        && !same_unit(want, got)
    {
        return false;
    }
    let Some(reading) = reading(value) else {
        return false;
    };
    let low = entry.low.map(Threshold::get);
    let high = entry.high.map(Threshold::get);
    let below = |f: &dyn Fn(f64) -> bool| low.is_some_and(f);
    let above = |f: &dyn Fn(f64) -> bool| high.is_some_and(f);
    match reading {
        Reading::Exactly(x) => below(&|l| x < l) || above(&|h| x > h),
        Reading::Below(x) => below(&|l| x <= l),
        Reading::AtMost(x) => below(&|l| x < l),
        Reading::Above(x) => above(&|h| x >= h),
        Reading::AtLeast(x) => above(&|h| x > h),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn limit(v: f64) -> Option<Threshold> {
        Some(Threshold::from_f64(v).unwrap())
    }

    fn potassium(low: f64, high: f64, from: &str) -> CatalogueItem {
        CatalogueItem {
            item: "K".into(),
            name: "血钾".into(),
            unit: Some("mmol/L".into()),
            low: limit(low),
            high: limit(high),
            source: Source::Lab,
            effective_from: t(from),
        }
    }

    fn catalogue(items: impl IntoIterator<Item = CatalogueItem>) -> Catalogue {
        items.into_iter().collect()
    }

    #[test]
    fn a_limit_is_four_decimals_at_least_zero_and_writes_as_typed() {
        assert_eq!(Threshold::from_f64(2.8).unwrap().get(), 2.8);
        assert_eq!(Threshold::from_f64(0.0001).unwrap().get(), 0.0001);
        assert_eq!(Threshold::from_f64(0.00001), Err(ThresholdError::Precision));
        assert_eq!(Threshold::from_f64(-0.1), Err(ThresholdError::Negative));
        assert_eq!(Threshold::from_f64(f64::NAN), Err(ThresholdError::Negative));
        assert_eq!(
            Threshold::from_f64(1e9 + 1.0),
            Err(ThresholdError::TooLarge)
        );
        assert_eq!(Threshold::from_f64(1e9).unwrap().get(), 1e9);
        for (typed, written) in [("20", "20"), ("2.8", "2.8"), ("7.125", "7.125")] {
            let l: Threshold = serde_json::from_str(typed).unwrap();
            assert_eq!(serde_json::to_string(&l).unwrap(), written);
        }
        assert!(serde_json::from_str::<Threshold>("\"2.8\"").is_err());
    }

    #[test]
    fn past_a_limit_is_critical_and_at_it_is_not() {
        let c = catalogue([potassium(2.8, 6.2, "2026-01-01T00:00:00+08:00")]);
        assert!(recognise(&c, "K", "2.7", Some("mmol/L")));
        assert!(recognise(&c, "K", "6.3", Some("mmol/L")));
        assert!(!recognise(&c, "K", "2.8", Some("mmol/L")), "at the limit");
        assert!(!recognise(&c, "K", "6.2", Some("mmol/L")), "at the limit");
        assert!(!recognise(&c, "K", "4.1", Some("mmol/L")));
        assert!(
            recognise(&c, " K ", " 6.90 ", Some(" mmol/l ")),
            "case and spaces"
        );
    }

    #[test]
    fn an_item_not_in_the_catalogue_another_unit_or_no_number_is_not_recognised() {
        let c = catalogue([potassium(2.8, 6.2, "2026-01-01T00:00:00+08:00")]);
        assert!(!recognise(&c, "NA", "99", Some("mmol/L")), "not in it");
        assert!(
            !recognise(&c, "k", "6.9", Some("mmol/L")),
            "codes are exact"
        );
        assert!(!recognise(&c, "K", "6.9", Some("mg/dL")), "another unit");
        assert!(recognise(&c, "K", "6.9", None), "no unit: the catalogue's");
        assert!(recognise(&c, "K", "6.9", Some("")), "an empty unit is none");
        for v in ["阳性", "", "NaN", "inf", "1e3", "6.9.1", "--7", "<"] {
            assert!(!recognise(&c, "K", v, None), "{v:?}");
        }
        assert!(!recognise(&Catalogue::default(), "K", "9", None));
    }

    #[test]
    fn one_sided_items_and_values_beyond_the_measuring_range() {
        let troponin = CatalogueItem {
            item: "TNI".into(),
            name: "肌钙蛋白I".into(),
            unit: Some("ng/mL".into()),
            low: None,
            high: limit(0.5),
            source: Source::Lab,
            effective_from: t("2026-01-01T00:00:00Z"),
        };
        let platelets = CatalogueItem {
            item: "PLT".into(),
            name: "血小板".into(),
            unit: None,
            low: limit(20.0),
            high: None,
            source: Source::Lab,
            effective_from: t("2026-01-01T00:00:00Z"),
        };
        let c = catalogue([troponin, platelets]);
        assert!(recognise(&c, "TNI", ">50", None));
        assert!(recognise(&c, "TNI", ">0.5", None), "above 0.5 is past it");
        assert!(!recognise(&c, "TNI", ">=0.5", None), "0.5 itself is not");
        assert!(recognise(&c, "TNI", ">= 0.6", None));
        assert!(!recognise(&c, "TNI", ">0.4", None), "maybe 0.45");
        assert!(!recognise(&c, "TNI", "<0.01", None), "no low limit");
        assert!(
            recognise(&c, "PLT", "<20", Some("10^9/L")),
            "item without a unit"
        );
        assert!(!recognise(&c, "PLT", "<=20", None));
        assert!(recognise(&c, "PLT", "<=19", None));
        assert!(!recognise(&c, "PLT", "<25", None), "maybe 22");
        assert!(
            recognise(&c, "PLT", "-1", None),
            "a negative reading is below"
        );
        assert!(!recognise(&c, "PLT", "5000", None), "no high limit");
    }

    #[test]
    fn the_catalogue_at_a_moment_holds_each_items_latest_set_in_force() {
        let mut h = CatalogueHistory::default();
        h.push(potassium(2.5, 6.5, "2026-01-01T00:00:00+08:00"));
        // Set later, holding from March: stricter.
        h.push(potassium(2.8, 6.2, "2026-03-01T00:00:00+08:00"));
        // A correction of January's limits, set later with the same start.
        h.push(potassium(2.6, 6.5, "2026-01-01T00:00:00+08:00"));
        let at = |s: &str| h.at(t(s).to_utc());
        assert!(at("2025-12-31T23:59:59+08:00").is_empty(), "before any");
        let jan = at("2026-02-28T23:59:59+08:00");
        assert_eq!(jan.get("K").unwrap().low, limit(2.6), "the correction");
        assert!(!recognise(&jan, "K", "6.4", None));
        let march = at("2026-03-01T00:00:00+08:00");
        assert_eq!(march.len(), 1);
        assert_eq!(march.get("K").unwrap().low, limit(2.8));
        assert!(recognise(&march, "K", "6.4", None));
        assert_eq!(h.sets().len(), 3, "the history keeps every set");
    }

    #[test]
    fn an_item_needs_a_limit_and_low_below_high() {
        let mut k = potassium(2.8, 6.2, "2026-01-01T00:00:00Z");
        assert_eq!(k.check(), Ok(()));
        k.high = k.low;
        assert_eq!(k.check(), Err(ItemError::LowNotBelowHigh));
        k.low = None;
        assert_eq!(k.check(), Ok(()), "high alone");
        k.high = None;
        assert_eq!(k.check(), Err(ItemError::NoLimit));
        assert_eq!(ItemError::NoLimit.pointer(), "/low");
    }

    #[test]
    fn item_codes_are_what_lis_and_loinc_use() {
        for ok in ["K", "2823-3", "GLU_FBS", "LOINC:2951-2", "a.b"] {
            assert!(valid_code(ok), "{ok}");
        }
        for bad in ["", "-K", "血钾", "K K", "K/2", &"A".repeat(65)] {
            assert!(!valid_code(bad), "{bad}");
        }
    }
}
