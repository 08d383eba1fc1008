//! Reference values (参考值): the nation's or a province's (any region's)
//! mean of an indicator in a year, as a published source gives it — e.g.
//! 国家医疗服务与质量安全报告 — so that a region's periodic report can
//! show its own figure beside it. A reference is set by an
//! `org.reference_set` event; the latest set of an indicator, scope and
//! year holds, the earlier ones are its history.
//!
//! A reference is not a target: nothing is met or missed by it. It is the
//! yardstick the annual report is asked to compare with (与全省、全国均值
//! 比较), so the comparison is a signed difference, not a verdict.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Indicator, TargetValue};

/// The longest source a reference may name, in characters.
pub const SOURCE_MAX: usize = 200;

/// The longest note on a reference, in characters.
pub const NOTE_MAX: usize = 1000;

/// Whose mean a reference is, as events and requests name it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceKind {
    /// The national mean.
    National,
    /// A region's mean (a province's, usually).
    Region,
}

impl ReferenceKind {
    /// Both kinds, from the widest.
    pub const ALL: [ReferenceKind; 2] = [ReferenceKind::National, ReferenceKind::Region];

    /// The kind as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReferenceKind::National => "national",
            ReferenceKind::Region => "region",
        }
    }
}

/// Whose mean a reference is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReferenceScope {
    /// The nation's.
    National,
    /// A region's, by code.
    Region(String),
}

impl ReferenceScope {
    /// A scope from its kind and code: national takes no code, a region
    /// needs one.
    pub fn of(kind: ReferenceKind, code: Option<&str>) -> Option<ReferenceScope> {
        match (kind, code) {
            (ReferenceKind::National, None) => Some(ReferenceScope::National),
            (ReferenceKind::Region, Some(c)) => Some(ReferenceScope::Region(c.to_owned())),
            _ => None,
        }
    }

    /// Its kind.
    pub fn kind(&self) -> ReferenceKind {
        match self {
            ReferenceScope::National => ReferenceKind::National,
            ReferenceScope::Region(_) => ReferenceKind::Region,
        }
    }

    /// Its code: none for the nation.
    pub fn code(&self) -> Option<&str> {
        match self {
            ReferenceScope::National => None,
            ReferenceScope::Region(c) => Some(c),
        }
    }
}

/// A reference value: an indicator's mean for a scope and a year, and
/// where it was published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The indicator.
    pub indicator: Indicator,
    /// Whose mean it is.
    pub scope: ReferenceScope,
    /// The calendar year it is the mean of.
    pub year: u16,
    /// The value, in the indicator's unit, with at most two decimals.
    pub value: TargetValue,
    /// Where it was published (free text, scrubbed).
    pub source: String,
    /// A remark, e.g. which hospitals the mean is over.
    pub note: Option<String>,
}

/// `own − reference` in the indicator's unit, two decimals; none when the
/// own figure is none (nothing to compare). Computed in hundredths, as
/// both are kept to two decimals, so that 2.31 − 2.5 is −0.19 and not
/// −0.18999999999999995.
pub fn difference(own: Option<f64>, reference: TargetValue) -> Option<f64> {
    let own = own.filter(|v| v.is_finite())?;
    let hundredths = (own * 100.0).round() - f64::from(reference.hundredths());
    Some(hundredths / 100.0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_difference_is_own_minus_reference_in_hundredths_and_none_without_a_figure() {
        let r = |v: f64| TargetValue::from_f64(v).unwrap();
        // Below the mean: negative, exact to two decimals.
        assert_eq!(difference(Some(2.31), r(2.5)), Some(-0.19));
        // Above it: positive.
        assert_eq!(difference(Some(96.67), r(92.35)), Some(4.32));
        // At it: zero.
        assert_eq!(difference(Some(100.0), r(100.0)), Some(0.0));
        // No figure of its own (a zero denominator): nothing to compare.
        assert_eq!(difference(None, r(2.5)), None);
        assert_eq!(difference(Some(f64::NAN), r(2.5)), None);
    }

    #[test]
    fn a_scope_needs_its_code_and_only_a_region_has_one() {
        assert_eq!(
            ReferenceScope::of(ReferenceKind::National, None),
            Some(ReferenceScope::National)
        );
        assert_eq!(
            ReferenceScope::of(ReferenceKind::National, Some("HN")),
            None
        );
        assert_eq!(ReferenceScope::of(ReferenceKind::Region, None), None);
        let hn = ReferenceScope::of(ReferenceKind::Region, Some("HN")).unwrap();
        assert_eq!((hn.kind(), hn.code()), (ReferenceKind::Region, Some("HN")));
        for k in ReferenceKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
