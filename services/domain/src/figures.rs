//! The formulas of DESIGN.md "Figures", exactly.

/// `num ÷ den × 100`, rounded half away from zero to 2 decimals; `None` when
/// the denominator is zero. Integer arithmetic, so 2.675 is 2.68, not the
/// 2.67 binary floating point would give.
pub fn rate(num: u64, den: u64) -> Option<f64> {
    if den == 0 {
        return None;
    }
    let (num, den) = (u128::from(num), u128::from(den));
    // Hundredths of a percent: num × 100 (percent) × 100 (two decimals).
    let scaled = num * 10_000;
    let hundredths = (2 * scaled + den) / (2 * den);
    Some(hundredths as f64 / 100.0)
}

/// Small-cell suppression of one breakdown (by grade, by category).
///
/// Counts from 1 to k−1 are suppressed. Where exactly one cell would be
/// suppressed and the total is shown, the smallest other cell (even a zero;
/// on ties the first in order) is suppressed too, so the first cannot be
/// recovered by subtraction. Returns the indexes to suppress, ascending.
pub fn suppress(counts: &[u64], k: u64) -> Vec<usize> {
    let mut hidden: Vec<usize> = counts
        .iter()
        .enumerate()
        .filter(|(_, n)| **n >= 1 && **n < k)
        .map(|(i, _)| i)
        .collect();
    if hidden.len() == 1 {
        let complement = counts
            .iter()
            .enumerate()
            .filter(|(i, _)| !hidden.contains(i))
            .min_by_key(|(i, n)| (**n, *i))
            .map(|(i, _)| i);
        if let Some(i) = complement {
            hidden.push(i);
            hidden.sort_unstable();
        }
    }
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_half_away_from_zero() {
        assert_eq!(rate(12, 400), Some(3.0));
        assert_eq!(rate(1, 3), Some(33.33));
        assert_eq!(rate(2, 3), Some(66.67));
        assert_eq!(
            rate(2675, 100_000),
            Some(2.68),
            "half rounds up, not to even"
        );
        assert_eq!(rate(1, 8), Some(12.5));
        assert_eq!(rate(1, 80_000), Some(0.0));
        assert_eq!(rate(1, 40_000), Some(0.0), "0.0025 rounds to 0.00");
        assert_eq!(rate(1, 20_000), Some(0.01), "0.005 rounds up");
        assert_eq!(rate(40, 49), Some(81.63));
        assert_eq!(rate(5, 0), None);
        assert_eq!(rate(0, 7), Some(0.0));
        assert_eq!(rate(u64::MAX, u64::MAX), Some(100.0));
    }

    #[test]
    fn suppression_hides_small_cells() {
        assert_eq!(suppress(&[0, 0, 0, 0], 5), Vec::<usize>::new());
        assert_eq!(
            suppress(&[10, 5, 7, 9], 5),
            Vec::<usize>::new(),
            "5 is not small"
        );
        assert_eq!(
            suppress(&[10, 2, 3, 9], 5),
            [1, 2],
            "two small cells protect each other"
        );
    }

    #[test]
    fn a_lone_small_cell_takes_a_complement() {
        // I=0, II=1, III=5, IV=6: II is small; the next smallest other is I (0).
        assert_eq!(suppress(&[0, 1, 5, 6], 5), [0, 1]);
        // No zero: the smallest other cell.
        assert_eq!(suppress(&[7, 4, 6, 9], 5), [1, 2]);
        // Ties go to the first.
        assert_eq!(suppress(&[8, 8, 4, 9], 5), [0, 2]);
        // k = 1 suppresses nothing.
        assert_eq!(suppress(&[0, 1, 2], 1), Vec::<usize>::new());
    }
}
