//! A dense primal simplex for the audit: how far one unknown cell can move
//! while every published sum still holds. The systems are small (the
//! suppressed cells of one connected part of a table) and their
//! coefficients are ±1, so a dense tableau in `f64` is exact enough; the
//! caller rounds with a tolerance.

/// Below this a tableau entry counts as zero.
const EPS: f64 = 1e-9;

/// How many degenerate pivots in a row before Bland's rule takes over:
/// Dantzig's rule is faster but can cycle on the degenerate vertices that
/// zero cells make common.
const DEGENERATE_STREAK: usize = 16;

/// How one optimisation ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Outcome {
    /// The optimum, at the current vertex.
    Optimal,
    /// The caller's stop condition held at the current vertex.
    Stopped,
    /// The objective grows without bound.
    Unbounded,
    /// The pivot budget ran out (not seen in any test; the caller treats
    /// what it has not shown safe as unsafe).
    GaveUp,
}

/// `A x = b, x ≥ 0` with a feasible basis.
pub(super) struct Tableau {
    /// One row per independent equation: `n` coefficients, then the
    /// right-hand side (the basic variable's value).
    rows: Vec<Vec<f64>>,
    /// The basic variable of each row.
    basis: Vec<usize>,
    /// Each variable's row when basic, else `usize::MAX`.
    row_of: Vec<usize>,
    /// Number of variables.
    n: usize,
}

impl Tableau {
    /// Phase one: a basic feasible solution of the sparse rows `a` (pairs of
    /// variable and coefficient) with right-hand sides `b`, over `n`
    /// variables. `None` when the system is infeasible or the budget ran
    /// out.
    pub(super) fn feasible(a: &[Vec<(usize, f64)>], b: &[f64], n: usize) -> Option<Tableau> {
        let m = a.len();
        let width = n + m + 1;
        let mut rows = Vec::with_capacity(m);
        for (i, (row, &rhs)) in a.iter().zip(b).enumerate() {
            let sign = if rhs < 0.0 { -1.0 } else { 1.0 };
            let mut dense = vec![0.0; width];
            for &(j, c) in row {
                dense[j] += sign * c;
            }
            dense[n + i] = 1.0;
            dense[width - 1] = sign * rhs;
            rows.push(dense);
        }
        let mut row_of = vec![usize::MAX; n + m];
        for (i, r) in row_of.iter_mut().skip(n).enumerate() {
            *r = i;
        }
        let mut t = Tableau {
            rows,
            basis: (n..n + m).collect(),
            row_of,
            n: n + m,
        };
        let mut cost = vec![0.0; n + m];
        for c in cost.iter_mut().skip(n) {
            *c = -1.0;
        }
        if t.optimize(&cost, |_| false) != Outcome::Optimal {
            return None;
        }
        let infeasibility: f64 = t
            .basis
            .iter()
            .zip(&t.rows)
            .filter(|(j, _)| **j >= n)
            .map(|(_, row)| row[n + m])
            .sum();
        if infeasibility > 1e-7 {
            return None;
        }
        // Artificials still basic sit at zero: pivot each out on any real
        // column, or drop its row, which is then a combination of others.
        let mut r = 0;
        let mut none = Vec::new();
        while r < t.rows.len() {
            if t.basis[r] < n {
                r += 1;
                continue;
            }
            let col = (0..n)
                .filter(|&j| t.rows[r][j].abs() > EPS)
                .max_by(|&x, &y| t.rows[r][x].abs().total_cmp(&t.rows[r][y].abs()));
            match col {
                Some(j) => {
                    t.pivot(r, j, &mut none);
                    r += 1;
                }
                None => {
                    t.row_of[t.basis[r]] = usize::MAX;
                    t.rows.swap_remove(r);
                    t.basis.swap_remove(r);
                    if r < t.rows.len() {
                        t.row_of[t.basis[r]] = r;
                    }
                }
            }
        }
        for row in &mut t.rows {
            let rhs = row[width - 1];
            row.truncate(n);
            row.push(rhs);
        }
        t.row_of.truncate(n);
        t.n = n;
        Some(t)
    }

    /// Each variable's value at the current vertex.
    pub(super) fn value(&self, j: usize) -> f64 {
        match self.row_of[j] {
            usize::MAX => 0.0,
            r => self.rows[r][self.n].max(0.0),
        }
    }

    /// Maximises `Σ cost·x` from the current vertex. `visit` sees every
    /// vertex on the way, the first and the last included, and stops the
    /// walk by returning true.
    pub(super) fn maximize(
        &mut self,
        cost: &[f64],
        visit: impl FnMut(&Tableau) -> bool,
    ) -> Outcome {
        self.optimize(cost, visit)
    }

    fn optimize(&mut self, cost: &[f64], mut visit: impl FnMut(&Tableau) -> bool) -> Outcome {
        let rhs = self.n;
        // Reduced costs c_j − c_B·B⁻¹A_j, kept up to date by each pivot.
        let mut reduced = cost.to_vec();
        reduced.push(0.0);
        for (row, &b) in self.rows.iter().zip(&self.basis) {
            if cost[b] != 0.0 {
                for (d, &a) in reduced.iter_mut().zip(row) {
                    *d -= cost[b] * a;
                }
            }
        }
        let mut streak = 0;
        // Bland's rule cannot cycle in exact arithmetic; this bounds what
        // rounding might still do.
        let mut budget = 50 * (self.n + self.rows.len()) + 1_000;
        loop {
            if visit(self) {
                return Outcome::Stopped;
            }
            let candidates =
                (0..self.n).filter(|&j| self.row_of[j] == usize::MAX && reduced[j] > EPS);
            let entering = if streak < DEGENERATE_STREAK {
                candidates.max_by(|&x, &y| reduced[x].total_cmp(&reduced[y]).then(y.cmp(&x)))
            } else {
                candidates.min()
            };
            let Some(j) = entering else {
                return Outcome::Optimal;
            };
            let mut leaving: Option<(usize, f64)> = None;
            for (r, row) in self.rows.iter().enumerate() {
                if row[j] > EPS {
                    let ratio = row[rhs].max(0.0) / row[j];
                    let better = match leaving {
                        None => true,
                        Some((l, best)) => {
                            ratio < best - EPS
                                || (ratio <= best + EPS && self.basis[r] < self.basis[l])
                        }
                    };
                    if better {
                        leaving = Some((r, ratio));
                    }
                }
            }
            let Some((r, ratio)) = leaving else {
                return Outcome::Unbounded;
            };
            if budget == 0 {
                return Outcome::GaveUp;
            }
            budget -= 1;
            streak = if ratio <= EPS { streak + 1 } else { 0 };
            self.pivot(r, j, &mut reduced);
        }
    }

    /// Makes `j` basic in row `r`, and updates `reduced` (when not empty)
    /// with the other rows.
    fn pivot(&mut self, r: usize, j: usize, reduced: &mut [f64]) {
        let p = self.rows[r][j];
        for a in self.rows[r].iter_mut() {
            *a /= p;
        }
        self.rows[r][j] = 1.0;
        // The tableaux of these ±1 systems stay sparse: only the pivot
        // row's non-zero columns change.
        let pivot_row = std::mem::take(&mut self.rows[r]);
        let nonzero: Vec<usize> = (0..pivot_row.len())
            .filter(|&c| pivot_row[c] != 0.0)
            .collect();
        let eliminate = |row: &mut [f64]| {
            let f = row[j];
            if f.abs() <= f64::EPSILON {
                row[j] = 0.0;
                return;
            }
            for &c in &nonzero {
                row[c] -= f * pivot_row[c];
            }
            row[j] = 0.0;
        };
        for (i, row) in self.rows.iter_mut().enumerate() {
            if i != r {
                eliminate(row);
            }
        }
        if !reduced.is_empty() {
            eliminate(reduced);
        }
        self.rows[r] = pivot_row;
        self.row_of[self.basis[r]] = usize::MAX;
        self.basis[r] = j;
        self.row_of[j] = r;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_in_a_two_by_two_table_moves_by_the_smaller_diagonal() {
        // given x0 + x1 = 12, x2 + x3 = 52, x0 + x2 = 14, x1 + x3 = 50
        // (x = 2, 10, 12, 40: the unknown corners of a 2 × 2 box)
        let a = vec![
            vec![(0, 1.0), (1, 1.0)],
            vec![(2, 1.0), (3, 1.0)],
            vec![(0, 1.0), (2, 1.0)],
            vec![(1, 1.0), (3, 1.0)],
        ];
        let b = [12.0, 52.0, 14.0, 50.0];
        let mut t = Tableau::feasible(&a, &b, 4).unwrap();
        // when x0 is pushed down and then up
        assert_eq!(
            t.maximize(&[-1.0, 0.0, 0.0, 0.0], |_| false),
            Outcome::Optimal
        );
        let min = t.value(0);
        assert_eq!(
            t.maximize(&[1.0, 0.0, 0.0, 0.0], |_| false),
            Outcome::Optimal
        );
        let max = t.value(0);
        // then it spans 0 ..= min(12, 14)
        assert!(min.abs() < 1e-9, "{min}");
        assert!((max - 12.0).abs() < 1e-9, "{max}");
    }

    #[test]
    fn an_unknown_only_bounded_below_is_unbounded_above() {
        // given x0 − x1 = 3
        let mut t = Tableau::feasible(&[vec![(0, 1.0), (1, -1.0)]], &[3.0], 2).unwrap();
        // then x0 ≥ 3 and grows without bound
        assert_eq!(t.maximize(&[-1.0, 0.0], |_| false), Outcome::Optimal);
        assert!((t.value(0) - 3.0).abs() < 1e-9);
        assert_eq!(t.maximize(&[1.0, 0.0], |_| false), Outcome::Unbounded);
    }

    #[test]
    fn an_infeasible_system_has_no_tableau() {
        assert!(Tableau::feasible(&[vec![(0, 1.0)]], &[-1.0], 1).is_none());
    }

    #[test]
    fn redundant_rows_are_dropped() {
        // given the same equation twice
        let a = vec![vec![(0, 1.0), (1, 1.0)], vec![(0, 1.0), (1, 1.0)]];
        let mut t = Tableau::feasible(&a, &[4.0, 4.0], 2).unwrap();
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.maximize(&[0.0, 1.0], |_| false), Outcome::Optimal);
        assert!((t.value(1) - 4.0).abs() < 1e-9);
    }
}
