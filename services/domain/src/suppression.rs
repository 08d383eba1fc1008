//! Small-cell suppression for the published figures (DESIGN.md "Figures",
//! "Published figures (anonymous)").
//!
//! A [`Table`] holds every count published for one year — per hospital and
//! region, per quarter and for the year, totals and breakdowns — with the
//! sums that tie them: a hospital's total is the sum of its grades and of its
//! categories, a region's cell the sum of its hospitals', a year's cell the
//! sum of its quarters'. [`suppress`] hides the small cells (1..k−1) and
//! enough others that no hidden cell can be narrowed to fewer than k whole
//! numbers by any linear reasoning over what stays published, with every
//! cell known to be ≥ 0. [`audit`] checks a pattern against that rule.
//!
//! The audit is exact for linear reasoning: each hidden cell's range is its
//! minimum and maximum over every real solution of the published sums
//! (a linear programme per cell), not only what one sum at a time reveals.
//! Interval propagation, one sum at a time, is the cheap first pass, and
//! misses what combinations reveal: in a table with margins, a hidden cell
//! can be the difference of two unions of rows and columns while every row
//! and column through it holds other hidden cells.
//!
//! Rates are not cells: the publisher shows a rate only where both its
//! counts are shown, since a rate beside a known count reveals the other.

mod simplex;

use std::collections::BTreeMap;
use std::fmt;

use simplex::{Outcome, Tableau};

/// What a cell is to the publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Published unless suppressed.
    Open,
    /// Never published, known only to be ≥ 0.
    Hidden,
    /// Already published (an earlier release); never suppressed.
    Public,
}

/// `total = Σ parts`, over cell indexes.
#[derive(Debug, Clone)]
struct Sum {
    total: usize,
    parts: Vec<usize>,
}

impl Sum {
    /// Every member with its sign in `total − Σ parts = 0`.
    fn terms(&self) -> impl Iterator<Item = (usize, i128)> + '_ {
        std::iter::once((self.total, 1)).chain(self.parts.iter().map(|&p| (p, -1)))
    }
}

/// Counts with names, and the sums that tie them.
///
/// Build it with [`Table::cell`] (and [`Table::hidden`], [`Table::public`])
/// and then [`Table::sum`] for each relation a reader of the publication
/// knows.
#[derive(Debug, Clone)]
pub struct Table<Id> {
    ids: Vec<Id>,
    values: Vec<u64>,
    kinds: Vec<Kind>,
    index: BTreeMap<Id, usize>,
    sums: Vec<Sum>,
    /// Per cell, the sums it is a member of.
    sums_of: Vec<Vec<usize>>,
}

/// Why a table could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError<Id: fmt::Debug> {
    /// The id names a cell already in the table.
    #[error("cell {0:?} is defined twice")]
    Duplicate(Id),
    /// The id names no cell of the table.
    #[error("cell {0:?} is not in the table")]
    Unknown(Id),
    /// The cell appears more than once in one sum.
    #[error("cell {0:?} appears twice in one sum")]
    Repeated(Id),
    /// The parts do not add up to the total.
    #[error("cell {total:?} is {value} but its parts add up to {parts}")]
    Mismatch {
        /// The total's id.
        total: Id,
        /// The total's value.
        value: u64,
        /// The parts' sum.
        parts: u128,
    },
}

impl<Id: Ord + Clone + fmt::Debug> Default for Table<Id> {
    fn default() -> Self {
        Table {
            ids: Vec::new(),
            values: Vec::new(),
            kinds: Vec::new(),
            index: BTreeMap::new(),
            sums: Vec::new(),
            sums_of: Vec::new(),
        }
    }
}

impl<Id: Ord + Clone + fmt::Debug> Table<Id> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A count to publish, or to suppress.
    pub fn cell(&mut self, id: Id, value: u64) -> Result<(), TableError<Id>> {
        self.add(id, value, Kind::Open)
    }

    /// A count that is never published but that a reader knows is ≥ 0: it
    /// turns "at most" into a sum, e.g. detected = notified + not notified,
    /// or deaths = reviewed on time + the rest. It is neither suppressed nor
    /// protected, only an unknown of the audit.
    pub fn hidden(&mut self, id: Id, value: u64) -> Result<(), TableError<Id>> {
        self.add(id, value, Kind::Hidden)
    }

    /// A count already out (an earlier release of the same year): never
    /// suppressed, and never available as a complement. A small one makes
    /// the table unprotectable.
    pub fn public(&mut self, id: Id, value: u64) -> Result<(), TableError<Id>> {
        self.add(id, value, Kind::Public)
    }

    fn add(&mut self, id: Id, value: u64, kind: Kind) -> Result<(), TableError<Id>> {
        if self.index.contains_key(&id) {
            return Err(TableError::Duplicate(id));
        }
        self.index.insert(id.clone(), self.ids.len());
        self.ids.push(id);
        self.values.push(value);
        self.kinds.push(kind);
        self.sums_of.push(Vec::new());
        Ok(())
    }

    /// `total = Σ parts`, a relation the reader knows. The values must
    /// agree.
    pub fn sum(&mut self, total: &Id, parts: &[Id]) -> Result<(), TableError<Id>> {
        let t = self.find(total)?;
        let mut ps = Vec::with_capacity(parts.len());
        for p in parts {
            let i = self.find(p)?;
            if i == t || ps.contains(&i) {
                return Err(TableError::Repeated(p.clone()));
            }
            ps.push(i);
        }
        let added: u128 = ps.iter().map(|&i| u128::from(self.values[i])).sum();
        if added != u128::from(self.values[t]) {
            return Err(TableError::Mismatch {
                total: total.clone(),
                value: self.values[t],
                parts: added,
            });
        }
        let s = self.sums.len();
        self.sums_of[t].push(s);
        for &p in &ps {
            self.sums_of[p].push(s);
        }
        self.sums.push(Sum {
            total: t,
            parts: ps,
        });
        Ok(())
    }

    fn find(&self, id: &Id) -> Result<usize, TableError<Id>> {
        self.index
            .get(id)
            .copied()
            .ok_or_else(|| TableError::Unknown(id.clone()))
    }

    /// A cell's value.
    pub fn value(&self, id: &Id) -> Option<u64> {
        self.index.get(id).map(|&i| self.values[i])
    }
}

/// Why a cell is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// A small count, 1..k−1.
    Primary,
    /// A complement: left published, it would let a suppressed cell be
    /// narrowed to fewer than k values.
    Secondary,
}

/// The cells to show as `null`, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed<Id> {
    cells: BTreeMap<Id, Reason>,
}

impl<Id: Ord> Suppressed<Id> {
    /// Whether the cell is suppressed.
    pub fn contains(&self, id: &Id) -> bool {
        self.cells.contains_key(id)
    }

    /// Why the cell is suppressed; `None` when it is published.
    pub fn reason(&self, id: &Id) -> Option<Reason> {
        self.cells.get(id).copied()
    }

    /// The suppressed cells in id order, with why.
    pub fn iter(&self) -> impl Iterator<Item = (&Id, Reason)> {
        self.cells.iter().map(|(id, r)| (id, *r))
    }

    /// The suppressed cells' ids, in order: what [`audit`] takes.
    pub fn ids(&self) -> impl Iterator<Item = &Id> {
        self.cells.keys()
    }

    /// Number of suppressed cells.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Nothing suppressed.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

/// A cell a reader can narrow to fewer than k whole numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding<Id> {
    /// The cell.
    pub id: Id,
    /// Its true value.
    pub value: u64,
    /// The least value the published figures allow.
    pub min: u64,
    /// The greatest value they allow. (Should the solver ever give up, the
    /// range is the widest it showed possible, and the cell counts as not
    /// shown safe.)
    pub max: u64,
}

/// Cells no suppression can protect: small counts already published, or
/// cells every complement left is public.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} cells cannot be protected", .findings.len())]
pub struct Unprotectable<Id: fmt::Debug> {
    /// What the audit found when no complement was left to add.
    pub findings: Vec<Finding<Id>>,
}

/// Suppresses every small count (1..k−1) and the complements that keep each
/// suppressed cell's range at k or more whole numbers, so that [`audit`] of
/// the result finds nothing.
///
/// Deterministic, in cell order. While a suppressed cell is too narrow —
/// first by one sum at a time, then by the exact audit — a complement is
/// added for it: in the sum through it that leaves it least room, the
/// published member that is not zero (a zero can only absorb an increase),
/// then that leaves fewest sums with a single unknown, then the smallest;
/// when that sum has none, the nearest sum that has one, through other
/// suppressed cells. Each round adds a cell, so it ends. Then complements
/// the rule turns out not to need are published again, the largest first,
/// each after an audit of the cells it could affect.
///
/// Fails only when no complement is left: small public cells, public cells
/// all around, or sums that force a cell to stay as it is whatever is
/// hidden (a table whose sums all add up non-negative base counts has
/// none).
pub fn suppress<Id: Ord + Clone + fmt::Debug>(
    table: &Table<Id>,
    k: u64,
) -> Result<Suppressed<Id>, Unprotectable<Id>> {
    let n = table.len();
    let mut reasons: Vec<Option<Reason>> = vec![None; n];
    let mut hidden: Vec<bool> = table.kinds.iter().map(|&k| k == Kind::Hidden).collect();
    let small = |v: u64| v >= 1 && v < k;
    let exposed: Vec<usize> = (0..n)
        .filter(|&i| table.kinds[i] == Kind::Public && small(table.values[i]))
        .collect();
    if !exposed.is_empty() {
        return Err(Unprotectable {
            findings: exposed
                .into_iter()
                .map(|i| table.finding(i, table.values[i], table.values[i]))
                .collect(),
        });
    }
    for i in 0..n {
        if table.kinds[i] == Kind::Open && small(table.values[i]) {
            hidden[i] = true;
            reasons[i] = Some(Reason::Primary);
        }
    }
    protect(table, &mut hidden, &mut reasons, k)?;
    give_back(table, &mut hidden, &mut reasons, k);
    // Giving back is checked part by part; the whole is audited once more.
    protect(table, &mut hidden, &mut reasons, k)?;
    Ok(Suppressed {
        cells: reasons
            .into_iter()
            .enumerate()
            .filter_map(|(i, r)| r.map(|r| (table.ids[i].clone(), r)))
            .collect(),
    })
}

/// Adds complements until the audit finds nothing.
fn protect<Id: Clone + fmt::Debug>(
    table: &Table<Id>,
    hidden: &mut [bool],
    reasons: &mut [Option<Reason>],
    k: u64,
) -> Result<(), Unprotectable<Id>> {
    let n = table.len();
    loop {
        let bounds = intervals(table, hidden);
        // One sum at a time first: cheap, and what it finds is real.
        let mut failing: Vec<usize> = (0..n)
            .filter(|&i| reasons[i].is_some() && count(bounds[i]) < u128::from(k))
            .collect();
        let mut exact = Vec::new();
        if failing.is_empty() {
            exact = extremes(table, hidden, &bounds, k, None);
            failing = exact.iter().map(|f| f.0).collect();
        }
        if failing.is_empty() {
            break;
        }
        let added = complements(table, hidden, &bounds, &failing);
        if added.is_empty() {
            if exact.is_empty() {
                exact = extremes(table, hidden, &bounds, k, None);
            }
            return Err(Unprotectable {
                findings: exact
                    .into_iter()
                    .map(|(i, min, max)| table.finding(i, min, max))
                    .collect(),
            });
        }
        for i in added {
            hidden[i] = true;
            reasons[i] = Some(Reason::Secondary);
        }
    }
    Ok(())
}

/// The most cells joined to a complement for which giving it back is
/// tried. Each try is a linear programme over those cells, and the first
/// try in a large joined part costs about what a whole audit does: in a
/// year of 10 hospitals × 29 counts, trying them all took 5 s to give back
/// 23 of 653 cells, while in small tables it gives back about a quarter.
const GIVE_BACK_SCOPE: usize = 200;

/// Publishes again, the largest first, each complement the rule turns out
/// not to need: complements are chosen for one failing cell at a time, and
/// a later one often covers for an earlier one.
fn give_back<Id>(table: &Table<Id>, hidden: &mut [bool], reasons: &mut [Option<Reason>], k: u64) {
    let n = table.len();
    let mut complements: Vec<usize> = (0..n)
        .filter(|&i| reasons[i] == Some(Reason::Secondary))
        .collect();
    complements.sort_by_key(|&i| (std::cmp::Reverse(table.values[i]), i));
    for i in complements {
        // Only the cells joined to i through suppressed ones can change.
        let scope = table.reach(hidden, i);
        if scope.iter().filter(|&&c| c).count() > GIVE_BACK_SCOPE {
            continue;
        }
        hidden[i] = false;
        let bounds = intervals(table, hidden);
        let safe = (0..n)
            .all(|j| !scope[j] || !table.protected(hidden, j) || count(bounds[j]) >= u128::from(k))
            && extremes(table, hidden, &bounds, k, Some(&scope)).is_empty();
        if safe {
            reasons[i] = None;
        } else {
            hidden[i] = true;
        }
    }
}

/// Every cell a reader can narrow to fewer than k whole numbers when the
/// cells `suppressed` are shown as `null`: a published small count (its
/// range is itself), or a suppressed cell whose minimum and maximum over
/// all real solutions of the published sums, with every cell ≥ 0, hold
/// fewer than k whole numbers. Ids not in the table, and public cells,
/// change nothing. In cell order.
pub fn audit<'a, Id: Ord + Clone + fmt::Debug + 'a>(
    table: &Table<Id>,
    suppressed: impl IntoIterator<Item = &'a Id>,
    k: u64,
) -> Vec<Finding<Id>> {
    let mut hidden: Vec<bool> = table.kinds.iter().map(|&k| k == Kind::Hidden).collect();
    for id in suppressed {
        if let Some(&i) = table.index.get(id)
            && table.kinds[i] == Kind::Open
        {
            hidden[i] = true;
        }
    }
    let mut found: Vec<(usize, u64, u64)> = (0..table.len())
        .filter(|&i| !hidden[i] && table.values[i] >= 1 && table.values[i] < k)
        .map(|i| (i, table.values[i], table.values[i]))
        .collect();
    let bounds = intervals(table, &hidden);
    found.extend(extremes(table, &hidden, &bounds, k, None));
    found.sort_unstable();
    found
        .into_iter()
        .map(|(i, min, max)| table.finding(i, min, max))
        .collect()
}

impl<Id: Clone> Table<Id> {
    fn finding(&self, i: usize, min: u64, max: u64) -> Finding<Id> {
        Finding {
            id: self.ids[i].clone(),
            value: self.values[i],
            min,
            max,
        }
    }
}

impl<Id> Table<Id> {
    /// Number of cells, hidden ones included.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// No cells.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The cells joined to `i` through sums and unknown cells, `i` included.
    fn reach(&self, hidden: &[bool], i: usize) -> Vec<bool> {
        let mut seen = vec![false; self.ids.len()];
        seen[i] = true;
        let mut todo = vec![i];
        while let Some(c) = todo.pop() {
            for &s in &self.sums_of[c] {
                for (m, _) in self.sums[s].terms() {
                    if hidden[m] && !seen[m] {
                        seen[m] = true;
                        todo.push(m);
                    }
                }
            }
        }
        seen
    }

    /// Suppressed cells that must be protected (hidden ones need not).
    fn protected(&self, hidden: &[bool], i: usize) -> bool {
        hidden[i] && self.kinds[i] == Kind::Open
    }
}

/// A cell's bounds: least, and greatest when known.
type Bounds = (i128, Option<i128>);

/// Whole numbers in a range; `u128::MAX` when unbounded above.
fn count((lo, hi): Bounds) -> u128 {
    hi.map_or(u128::MAX, |hi| u128::try_from(hi - lo + 1).unwrap_or(0))
}

/// Rounds of interval propagation before stopping short of a fixpoint.
/// Bounds can creep down a cycle of sums by a little each round; every
/// round's bounds are sound, and the exact pass follows anyway.
const ROUNDS: usize = 256;

/// Each cell's bounds from one sum at a time, tightened to a fixpoint:
/// published cells are their value, unknown ones start at [0, ∞), and each
/// sum bounds each unknown member by the others' bounds. Sound (the true
/// values stay inside) but weaker than [`extremes`].
fn intervals<Id>(table: &Table<Id>, hidden: &[bool]) -> Vec<Bounds> {
    let mut b: Vec<Bounds> = (0..table.ids.len())
        .map(|i| {
            if hidden[i] {
                (0, None)
            } else {
                let v = i128::from(table.values[i]);
                (v, Some(v))
            }
        })
        .collect();
    for _ in 0..ROUNDS {
        let mut changed = false;
        for sum in &table.sums {
            if !sum.terms().any(|(i, _)| hidden[i]) {
                continue;
            }
            // Σ sign·x = 0; the extremes of each term sign·x.
            let term = |b: &[Bounds], i: usize, sign: i128| -> (i128, Option<i128>) {
                let (lo, hi) = b[i];
                // (least, greatest); an absent greatest is +∞, and an
                // absent least (only for sign −1) is −∞, kept as None.
                if sign > 0 {
                    (lo, hi)
                } else {
                    (hi.map_or(i128::MIN, |h| -h), Some(-lo))
                }
            };
            let mut most = 0i128;
            let mut most_inf = 0usize;
            let mut least = 0i128;
            let mut least_inf = 0usize;
            for (i, s) in sum.terms() {
                let (l, g) = term(&b, i, s);
                match g {
                    Some(g) => most += g,
                    None => most_inf += 1,
                }
                if l == i128::MIN {
                    least_inf += 1;
                } else {
                    least += l;
                }
            }
            for (j, s) in sum.terms() {
                if !hidden[j] {
                    continue;
                }
                let (l, g) = term(&b, j, s);
                let others_most = match g {
                    Some(g) if most_inf == 0 => Some(most - g),
                    None if most_inf == 1 => Some(most),
                    _ => None,
                };
                let others_least = if l == i128::MIN {
                    (least_inf == 1).then_some(least)
                } else {
                    (least_inf == 0).then_some(least - l)
                };
                // s·x_j = −(others), so x_j lies in s·[−most, −least].
                let (new_lo, new_hi) = if s > 0 {
                    (others_most.map(|m| -m), others_least.map(|l| -l))
                } else {
                    (others_least, others_most)
                };
                let (lo, hi) = &mut b[j];
                if let Some(nl) = new_lo
                    && nl > *lo
                {
                    *lo = nl;
                    changed = true;
                }
                if let Some(nh) = new_hi
                    && hi.is_none_or(|h| nh < h)
                {
                    *hi = Some(nh);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    b
}

/// Slack when rounding the solver's vertices to whole numbers.
const ROUNDING: f64 = 1e-6;

/// Whether a witnessed range `[lo, hi]` holds k whole numbers.
fn holds(lo: f64, hi: f64, k: u64) -> bool {
    hi.is_infinite() || ((hi + ROUNDING).floor() - (lo - ROUNDING).ceil() + 1.0) >= k as f64
}

/// The protected cells whose exact range, over all real solutions of the
/// published sums with cells ≥ 0, holds fewer than k whole numbers: (cell,
/// min, max).
///
/// Unknowns that `bounds` already pin are constants; the rest split into
/// parts joined by sums, one linear programme each. Every vertex the solver
/// visits is a solution, so it widens the witnessed range of every unknown
/// at once; a cell whose witnessed range holds k is done without solving
/// for it.
fn extremes<Id>(
    table: &Table<Id>,
    hidden: &[bool],
    bounds: &[Bounds],
    k: u64,
    scope: Option<&[bool]>,
) -> Vec<(usize, u64, u64)> {
    let n = table.ids.len();
    let checked = |i: usize| table.protected(hidden, i) && scope.is_none_or(|s| s[i]);
    let unknown = |i: usize| hidden[i] && bounds[i].1 != Some(bounds[i].0);
    let mut found: Vec<(usize, u64, u64)> = (0..n)
        .filter(|&i| checked(i) && !unknown(i) && k > 1)
        .map(|i| (i, table.values[i], table.values[i]))
        .collect();

    // Parts: unknowns joined through sums.
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for sum in &table.sums {
        let mut first = None;
        for (i, _) in sum.terms().filter(|&(i, _)| unknown(i)) {
            match first {
                None => first = Some(i),
                Some(f) => {
                    let (a, b) = (root(&mut parent, f), root(&mut parent, i));
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
    }
    let mut parts: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in (0..n).filter(|&i| unknown(i)) {
        parts.entry(root(&mut parent, i)).or_default().push(i);
    }

    let mut local = vec![usize::MAX; n];
    let mut in_rows = vec![false; table.sums.len()];
    for cells in parts.values() {
        if !cells.iter().any(|&i| checked(i)) {
            continue;
        }
        for (j, &i) in cells.iter().enumerate() {
            local[i] = j;
        }
        let mut rows = Vec::new();
        let mut rhs = Vec::new();
        for &i in cells {
            for &s in &table.sums_of[i] {
                if in_rows[s] {
                    continue;
                }
                in_rows[s] = true;
                let mut row = Vec::new();
                let mut b = 0f64;
                for (m, sign) in table.sums[s].terms() {
                    if unknown(m) {
                        row.push((local[m], sign as f64));
                    } else {
                        b -= sign as f64 * table.values[m] as f64;
                    }
                }
                rows.push(row);
                rhs.push(b);
            }
        }
        let size = cells.len();
        let mut lo: Vec<f64> = cells.iter().map(|&i| table.values[i] as f64).collect();
        let mut hi = lo.clone();
        let Some(mut t) = Tableau::feasible(&rows, &rhs, size) else {
            found.extend(
                cells
                    .iter()
                    .filter(|&&i| checked(i))
                    .map(|&i| (i, table.values[i], table.values[i])),
            );
            continue;
        };
        let see = |t: &Tableau, lo: &mut [f64], hi: &mut [f64]| {
            for j in 0..size {
                let x = t.value(j);
                lo[j] = lo[j].min(x);
                hi[j] = hi[j].max(x);
            }
        };
        // Pushing every unsettled cell down together, then up, settles
        // most of them for the price of two solves.
        for sign in [-1.0, 1.0] {
            let cost: Vec<f64> = (0..size)
                .map(|j| {
                    if checked(cells[j]) && !holds(lo[j], hi[j], k) {
                        sign
                    } else {
                        0.0
                    }
                })
                .collect();
            if cost.iter().all(|&c| c == 0.0) {
                break;
            }
            t.maximize(&cost, |t| {
                see(t, &mut lo, &mut hi);
                false
            });
        }
        for (j, &i) in cells.iter().enumerate() {
            if !checked(i) || holds(lo[j], hi[j], k) {
                continue;
            }
            let mut outcomes = [Outcome::Stopped; 2];
            for (o, sign) in outcomes.iter_mut().zip([-1.0, 1.0]) {
                let mut cost = vec![0.0; size];
                cost[j] = sign;
                *o = t.maximize(&cost, |t| {
                    see(t, &mut lo, &mut hi);
                    holds(lo[j], hi[j], k)
                });
                if *o == Outcome::Stopped {
                    break;
                }
            }
            if outcomes[1] == Outcome::Unbounded {
                hi[j] = f64::INFINITY;
            }
            if !holds(lo[j], hi[j], k) {
                let min = (lo[j] - ROUNDING).ceil().max(0.0) as u64;
                let max = (hi[j] + ROUNDING).floor().max(0.0) as u64;
                found.push((i, min, max));
            }
        }
    }
    found.sort_unstable();
    found
}

/// One complement for each failing cell, skipping a cell whose sums were
/// just widened for another: (what to suppress next), in cell order.
fn complements<Id>(
    table: &Table<Id>,
    hidden: &[bool],
    bounds: &[Bounds],
    failing: &[usize],
) -> Vec<usize> {
    let mut touched = vec![false; table.sums.len()];
    let mut added: Vec<usize> = Vec::new();
    for &c in failing {
        if table.sums_of[c].iter().any(|&s| touched[s]) {
            continue;
        }
        if let Some((s, p)) = complement(table, hidden, bounds, c, &added) {
            touched[s] = true;
            added.push(p);
        }
    }
    added
}

/// The sum to widen for cell `c`, and the cell to suppress in it.
///
/// The sums through `c` come first, the one that leaves `c` least room
/// (the others' greatest values added up: 0 when `c` is the only unknown,
/// small when the unknowns' sum is small) before the rest; when none has
/// a published open member, the sums one suppressed cell further away,
/// and so on.
fn complement<Id>(
    table: &Table<Id>,
    hidden: &[bool],
    bounds: &[Bounds],
    c: usize,
    taken: &[usize],
) -> Option<(usize, usize)> {
    let n = table.ids.len();
    let mut seen_sum = vec![false; table.sums.len()];
    let mut seen_cell = vec![false; n];
    seen_cell[c] = true;
    let mut frontier = vec![c];
    while !frontier.is_empty() {
        let mut level: Vec<usize> = Vec::new();
        for &i in &frontier {
            for &s in &table.sums_of[i] {
                if !seen_sum[s] {
                    seen_sum[s] = true;
                    level.push(s);
                }
            }
        }
        let room = |s: usize| -> (u128, usize, usize) {
            let mut room: u128 = 0;
            let mut unknowns = 0;
            for (i, _) in table.sums[s].terms() {
                if i != c && hidden[i] {
                    unknowns += 1;
                    room = room.saturating_add(match bounds[i].1 {
                        Some(h) => u128::try_from(h).unwrap_or(0),
                        None => u128::MAX,
                    });
                }
            }
            (room, unknowns, s)
        };
        level.sort_by_key(|&s| room(s));
        for &s in &level {
            let best = table.sums[s]
                .terms()
                .map(|(i, _)| i)
                .filter(|&i| table.kinds[i] == Kind::Open && !hidden[i] && !taken.contains(&i))
                .min_by_key(|&i| {
                    let unknown = |m: usize| hidden[m] || taken.contains(&m);
                    let alone = table.sums_of[i]
                        .iter()
                        .filter(|&&o| {
                            o != s && !table.sums[o].terms().any(|(m, _)| m != i && unknown(m))
                        })
                        .count();
                    (table.values[i] == 0, alone, table.values[i], i)
                });
            if let Some(p) = best {
                return Some((s, p));
            }
        }
        frontier = Vec::new();
        for &s in &level {
            for (i, _) in table.sums[s].terms() {
                if hidden[i] && !seen_cell[i] {
                    seen_cell[i] = true;
                    frontier.push(i);
                }
            }
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::collections::BTreeSet;

    use minilp::{ComparisonOp, OptimizationDirection, Problem};

    use super::*;

    const K: u64 = 5;

    /// Cells and sums as plain data, so the attacker reads the same
    /// publication as `suppress` without going through `Table`.
    #[derive(Debug, Clone, Default)]
    struct Publication {
        cells: Vec<(String, u64)>,
        hidden: Vec<(String, u64)>,
        sums: Vec<(String, Vec<String>)>,
    }

    impl Publication {
        fn value(&self, id: &str) -> u64 {
            self.cells
                .iter()
                .chain(&self.hidden)
                .find(|(c, _)| c == id)
                .map(|(_, v)| *v)
                .unwrap()
        }

        fn table(&self) -> Table<String> {
            let mut t = Table::new();
            for (id, v) in &self.cells {
                t.cell(id.clone(), *v).unwrap();
            }
            for (id, v) in &self.hidden {
                t.hidden(id.clone(), *v).unwrap();
            }
            for (total, parts) in &self.sums {
                t.sum(total, parts).unwrap();
            }
            t
        }

        /// A row × column table with row totals `r{i}T`, column totals
        /// `Tc{j}` and the grand total `TT`.
        fn grid(rows: &[&[u64]]) -> Publication {
            let mut p = Publication::default();
            let width = rows[0].len();
            for (i, row) in rows.iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    p.cells.push((format!("r{i}c{j}"), *v));
                }
                p.cells.push((format!("r{i}T"), row.iter().sum()));
                p.sums.push((
                    format!("r{i}T"),
                    (0..width).map(|j| format!("r{i}c{j}")).collect(),
                ));
            }
            for j in 0..width {
                p.cells
                    .push((format!("Tc{j}"), rows.iter().map(|r| r[j]).sum()));
                p.sums.push((
                    format!("Tc{j}"),
                    (0..rows.len()).map(|i| format!("r{i}c{j}")).collect(),
                ));
            }
            let all: u64 = rows.iter().flat_map(|r| r.iter()).sum();
            p.cells.push(("TT".into(), all));
            p.sums.push((
                "TT".into(),
                (0..rows.len()).map(|i| format!("r{i}T")).collect(),
            ));
            p.sums
                .push(("TT".into(), (0..width).map(|j| format!("Tc{j}")).collect()));
            p
        }
    }

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn secondary(s: &Suppressed<String>) -> BTreeSet<String> {
        s.iter()
            .filter(|(_, r)| *r == Reason::Secondary)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The attacker: for each suppressed cell, its least and greatest value
    /// over every real solution of the published sums with all cells ≥ 0,
    /// by a solver that shares nothing with the audit. Returns the cells
    /// left with fewer than k whole numbers, with their range.
    fn attack(p: &Publication, suppressed: &BTreeSet<String>, k: u64) -> Vec<(String, f64, f64)> {
        let unknown = |id: &str| suppressed.contains(id) || p.hidden.iter().any(|(h, _)| h == id);
        let mut broken = Vec::new();
        for target in suppressed {
            let mut range = [0.0; 2];
            for (slot, direction) in [
                (0, OptimizationDirection::Minimize),
                (1, OptimizationDirection::Maximize),
            ] {
                let mut lp = Problem::new(direction);
                let mut vars = BTreeMap::new();
                for (id, v) in p.cells.iter().chain(&p.hidden) {
                    let objective = if id == target { 1.0 } else { 0.0 };
                    let bounds = if unknown(id) {
                        (0.0, f64::INFINITY)
                    } else {
                        (*v as f64, *v as f64)
                    };
                    vars.insert(id.clone(), lp.add_var(objective, bounds));
                }
                for (total, parts) in &p.sums {
                    let mut expr = vec![(vars[total], 1.0)];
                    expr.extend(parts.iter().map(|q| (vars[q], -1.0)));
                    lp.add_constraint(expr.as_slice(), ComparisonOp::Eq, 0.0);
                }
                range[slot] = match lp.solve() {
                    Ok(solution) => solution.objective(),
                    Err(minilp::Error::Unbounded) => f64::INFINITY,
                    Err(e) => panic!("{target}: {e}"),
                };
            }
            let whole = (range[1] + 1e-6).floor() - (range[0] - 1e-6).ceil() + 1.0;
            if whole < k as f64 {
                broken.push((target.clone(), range[0], range[1]));
            }
        }
        for (id, v) in &p.cells {
            if !suppressed.contains(id) && *v >= 1 && *v < k {
                broken.push((id.clone(), *v as f64, *v as f64));
            }
        }
        broken
    }

    /// splitmix64: reproducible without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Hospitals × quarters × grades, with every margin: per hospital and
    /// quarter its total, per hospital and grade its year, the region per
    /// quarter and grade, and the totals of those. Values 0..=20, mostly
    /// small or zero.
    fn hospitals_quarters_grades(rng: &mut Rng) -> Publication {
        let hospitals: Vec<String> = (1..=2 + rng.below(2)).map(|h| format!("H{h}")).collect();
        let quarters = ["Q1", "Q2", "Q3", "Q4"];
        let grades = ["I", "II", "III", "IV"];
        let mut base = BTreeMap::new();
        for h in &hospitals {
            for q in quarters {
                for g in grades {
                    let v = match rng.below(10) {
                        0..=2 => 0,
                        3..=6 => 1 + rng.below(6),
                        _ => rng.below(21),
                    };
                    base.insert((h.clone(), q, g), v);
                }
            }
        }
        let hs: Vec<Option<&String>> = hospitals.iter().map(Some).chain([None]).collect();
        let qs: Vec<Option<&str>> = quarters.iter().copied().map(Some).chain([None]).collect();
        let gs: Vec<Option<&str>> = grades.iter().copied().map(Some).chain([None]).collect();
        let id = |h: Option<&String>, q: Option<&str>, g: Option<&str>| {
            format!(
                "{}/{}/{}",
                h.map_or("R", |h| h.as_str()),
                q.unwrap_or("Y"),
                g.unwrap_or("all")
            )
        };
        let mut p = Publication::default();
        for &h in &hs {
            for &q in &qs {
                for &g in &gs {
                    let v = base
                        .iter()
                        .filter(|((bh, bq, bg), _)| {
                            h.is_none_or(|h| h == bh)
                                && q.is_none_or(|q| q == *bq)
                                && g.is_none_or(|g| g == *bg)
                        })
                        .map(|(_, v)| v)
                        .sum();
                    p.cells.push((id(h, q, g), v));
                    if h.is_none() {
                        let parts = hospitals.iter().map(|x| id(Some(x), q, g)).collect();
                        p.sums.push((id(h, q, g), parts));
                    }
                    if q.is_none() {
                        let parts = quarters.iter().map(|x| id(h, Some(x), g)).collect();
                        p.sums.push((id(h, q, g), parts));
                    }
                    if g.is_none() {
                        let parts = grades.iter().map(|x| id(h, q, Some(x))).collect();
                        p.sums.push((id(h, q, g), parts));
                    }
                }
            }
        }
        p
    }

    fn primaries(p: &Publication, k: u64) -> BTreeSet<String> {
        p.cells
            .iter()
            .filter(|(_, v)| *v >= 1 && *v < k)
            .map(|(id, _)| id.clone())
            .collect()
    }

    #[test]
    fn a_table_without_small_cells_suppresses_nothing() {
        // given counts of 0 and ≥ k only
        let p = Publication::grid(&[&[0, 12, 5], &[30, 0, 0]]);
        // when suppressed
        let s = suppress(&p.table(), K).unwrap();
        // then nothing is: zero is not small
        assert!(s.is_empty(), "{s:?}");
    }

    #[test]
    fn a_single_small_cell_takes_a_complement_in_its_row_and_its_column() {
        // given one small cell, r0c0 = 2
        let p = Publication::grid(&[&[2, 10, 30], &[12, 40, 50], &[20, 60, 70]]);
        let t = p.table();
        // when suppressed
        let s = suppress(&t, K).unwrap();
        // then it is primary, and the cheapest box through it completes it:
        // the smallest other cell of its row, of its column, and where
        // their column and row cross
        assert_eq!(s.reason(&"r0c0".into()), Some(Reason::Primary));
        assert_eq!(secondary(&s), set(&["r0c1", "r1c0", "r1c1"]));
        assert!(audit(&t, s.ids(), K).is_empty());
        assert!(attack(&p, &s.ids().cloned().collect(), K).is_empty());
    }

    #[test]
    fn the_small_cell_alone_is_recovered_by_subtraction() {
        // given the same table with only the small cell suppressed
        let p = Publication::grid(&[&[2, 10, 30], &[12, 40, 50], &[20, 60, 70]]);
        // when audited
        let findings = audit(&p.table(), &["r0c0".to_string()], K);
        // then its row gives it away
        assert_eq!(
            findings,
            [Finding {
                id: "r0c0".to_string(),
                value: 2,
                min: 2,
                max: 2
            }]
        );
    }

    #[test]
    fn a_small_hospital_takes_its_sibling_not_the_region() {
        // given a region of two hospitals, one with 3 reports
        let p = Publication {
            cells: vec![("R".into(), 43), ("H1".into(), 3), ("H2".into(), 40)],
            hidden: vec![],
            sums: vec![("R".into(), vec!["H1".into(), "H2".into()])],
        };
        let t = p.table();
        // when suppressed
        let s = suppress(&t, K).unwrap();
        // then the other hospital is suppressed too (the smaller complement;
        // the region would do as well), else R − H2 = H1
        assert_eq!(s.reason(&"H1".into()), Some(Reason::Primary));
        assert_eq!(s.reason(&"H2".into()), Some(Reason::Secondary));
        assert!(!s.contains(&"R".into()));
        assert!(audit(&t, s.ids(), K).is_empty());
        assert_eq!(audit(&t, &["H1".to_string()], K)[0].min, 3);
    }

    #[test]
    fn a_small_quarter_takes_the_smallest_other_quarter() {
        // given Q1..Q4 and their year, Q4 small
        let quarters = [("Q1", 12), ("Q2", 9), ("Q3", 15), ("Q4", 2)];
        let mut p = Publication::default();
        for (q, v) in quarters {
            p.cells.push((q.into(), v));
        }
        p.cells.push(("Y".into(), 38));
        p.sums.push((
            "Y".into(),
            quarters.iter().map(|(q, _)| q.to_string()).collect(),
        ));
        let t = p.table();
        // when suppressed
        let s = suppress(&t, K).unwrap();
        // then Q2, the smallest published quarter, hides with it
        assert_eq!(s.reason(&"Q4".into()), Some(Reason::Primary));
        assert_eq!(secondary(&s), set(&["Q2"]));
        assert!(audit(&t, s.ids(), K).is_empty());
        // and Q4 alone would be the year less the other three
        let alone = audit(&t, &["Q4".to_string()], K);
        assert_eq!((alone[0].min, alone[0].max), (2, 2));
    }

    #[test]
    fn a_zero_is_no_complement_while_a_non_zero_is_there() {
        // given a row 2 + 0 + 50 = 52 (a zero beside the small cell)
        let p = Publication {
            cells: vec![
                ("T".into(), 52),
                ("a".into(), 2),
                ("b".into(), 0),
                ("c".into(), 50),
            ],
            hidden: vec![],
            sums: vec![("T".into(), vec!["a".into(), "b".into(), "c".into()])],
        };
        let t = p.table();
        // when suppressed
        let s = suppress(&t, K).unwrap();
        // then the complement is the 50: with the zero, a + b = 2 is known
        // and a lies in 0..=2
        assert_eq!(secondary(&s), set(&["c"]));
        let with_zero = audit(&t, &["a".to_string(), "b".to_string()], K);
        assert_eq!((with_zero[0].min, with_zero[0].max), (0, 2));
    }

    #[test]
    fn small_cells_that_add_up_to_a_small_sum_take_a_third() {
        // given a row 2 + 1 + 40 = 43: both small cells are primary, but
        // their sum, 3, is known
        let p = Publication::grid(&[&[2, 1, 40], &[30, 30, 30]]);
        let t = p.table();
        // when suppressed
        let s = suppress(&t, K).unwrap();
        // then more is hidden, and nothing can be narrowed
        assert!(s.len() > 2, "{s:?}");
        assert!(audit(&t, s.ids(), K).is_empty());
        assert!(attack(&p, &s.ids().cloned().collect(), K).is_empty());
        assert!(!attack(&p, &set(&["r0c0", "r0c1"]), K).is_empty());
    }

    #[test]
    fn a_count_that_is_at_most_another_is_bounded_by_it() {
        // given deaths and deaths reviewed on time for two hospitals and
        // their region; reviewed ≤ deaths is known, as deaths = reviewed +
        // late with late never published
        let mut p = Publication::default();
        for (h, deaths, on_time) in [("H1", 5, 3), ("H2", 40, 40), ("R", 45, 43)] {
            p.cells.push((format!("{h}/deaths"), deaths));
            p.cells.push((format!("{h}/on_time"), on_time));
            p.hidden.push((format!("{h}/late"), deaths - on_time));
            p.sums.push((
                format!("{h}/deaths"),
                vec![format!("{h}/on_time"), format!("{h}/late")],
            ));
        }
        for m in ["deaths", "on_time", "late"] {
            p.sums
                .push((format!("R/{m}"), vec![format!("H1/{m}"), format!("H2/{m}")]));
        }
        let t = p.table();
        // when only the region sum is considered, H2's on-time count is the
        // complement; but H2 has no late deaths and H1 only 5 deaths, so
        // H1 is 43 − H2 ≥ 43 − 40 = 3 and at most 5
        let naive = audit(&t, &["H1/on_time".to_string(), "H2/on_time".to_string()], K);
        assert_eq!((naive[0].min, naive[0].max), (3, 5));
        // then suppression goes further, and holds
        let s = suppress(&t, K).unwrap();
        assert!(audit(&t, s.ids(), K).is_empty());
        assert!(attack(&p, &s.ids().cloned().collect(), K).is_empty());
        assert!(s.iter().all(|(id, _)| !id.ends_with("/late")));
    }

    #[test]
    fn a_combination_of_sums_reveals_what_no_single_sum_does() {
        // given two 2 × 2 boxes of hidden cells joined by one hidden cell,
        // r1c2: every row and column through it holds other hidden cells
        let p = Publication::grid(&[
            &[10, 20, 30, 40],
            &[15, 25, 3, 35],
            &[30, 30, 12, 14],
            &[40, 40, 16, 18],
        ]);
        let t = p.table();
        let pattern = set(&[
            "r0c0", "r0c1", "r1c0", "r1c1", "r1c2", "r2c2", "r2c3", "r3c2", "r3c3",
        ]);
        let hidden: Vec<bool> = (0..t.len()).map(|i| pattern.contains(&t.ids[i])).collect();
        // when audited one sum at a time, it looks safe
        let bounds = intervals(&t, &hidden);
        assert!(
            pattern
                .iter()
                .all(|id| count(bounds[t.index[id]]) >= u128::from(K))
        );
        // then the attacker, adding rows 0 and 1 and taking away columns 0
        // and 1, finds r1c2 exactly — and so does the audit
        let broken = attack(&p, &pattern, K);
        assert_eq!(broken.len(), 1);
        assert_eq!(broken[0].0, "r1c2");
        let findings = audit(&t, &pattern, K);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            (findings[0].id.as_str(), findings[0].min, findings[0].max),
            ("r1c2", 3, 3)
        );
    }

    #[test]
    fn published_small_cells_are_findings() {
        let p = Publication::grid(&[&[2, 10], &[12, 40]]);
        let findings = audit(&p.table(), &[], K);
        assert_eq!(findings.len(), 1);
        assert_eq!((findings[0].min, findings[0].max), (2, 2));
    }

    #[test]
    fn public_cells_are_never_suppressed() {
        // given a small hospital whose sibling and region are already out
        let mut t = Table::new();
        t.cell("H1", 3).unwrap();
        t.public("H2", 40).unwrap();
        t.public("R", 43).unwrap();
        t.sum(&"R", &["H1", "H2"]).unwrap();
        // then no complement is left
        let e = suppress(&t, K).unwrap_err();
        assert_eq!(e.findings.len(), 1);
        assert_eq!((e.findings[0].id, e.findings[0].min), ("H1", 3));
        // and a small public cell is unprotectable from the start
        let mut t = Table::new();
        t.public("H1", 3).unwrap();
        assert_eq!(suppress(&t, K).unwrap_err().findings[0].id, "H1");
    }

    #[test]
    fn a_table_refuses_what_it_cannot_mean() {
        let mut t = Table::new();
        t.cell("a", 1).unwrap();
        t.cell("b", 2).unwrap();
        t.cell("T", 4).unwrap();
        assert_eq!(t.cell("a", 5), Err(TableError::Duplicate("a")));
        assert_eq!(t.sum(&"T", &["a", "c"]), Err(TableError::Unknown("c")));
        assert_eq!(t.sum(&"T", &["a", "a"]), Err(TableError::Repeated("a")));
        assert_eq!(
            t.sum(&"T", &["a", "b"]),
            Err(TableError::Mismatch {
                total: "T",
                value: 4,
                parts: 3
            })
        );
        assert!(t.sum(&"b", &["a", "a"]).is_err());
    }

    #[test]
    fn k_of_one_or_less_suppresses_nothing() {
        let p = Publication::grid(&[&[2, 10], &[12, 40]]);
        assert!(suppress(&p.table(), 1).unwrap().is_empty());
        assert!(suppress(&p.table(), 0).unwrap().is_empty());
        assert!(audit(&p.table(), &[], 1).is_empty());
    }

    /// 200 seeded hospitals × quarters × grades tables: whatever
    /// `suppress` leaves, an LP attacker over everything published can
    /// narrow no suppressed cell below k values.
    #[test]
    fn no_suppressed_cell_of_random_tables_falls_to_the_attacker() {
        let mut rng = Rng(0x4C61_6E74_6572_6E00);
        for n in 0..200 {
            let p = hospitals_quarters_grades(&mut rng);
            let t = p.table();
            let s = suppress(&t, K).unwrap();
            let hidden: BTreeSet<String> = s.ids().cloned().collect();
            assert!(primaries(&p, K).is_subset(&hidden), "instance {n}");
            let broken = attack(&p, &hidden, K);
            assert!(broken.is_empty(), "instance {n}: {broken:?}");
            assert!(audit(&t, s.ids(), K).is_empty(), "instance {n}");
            if n % 10 == 0 {
                assert_eq!(suppress(&t, K).unwrap(), s, "instance {n}: deterministic");
            }
            for (id, _) in s.iter().filter(|(_, r)| *r == Reason::Secondary) {
                let v = p.value(id);
                assert!(v == 0 || v >= K, "instance {n}: secondary {id} = {v}");
            }
        }
    }

    /// The attacker above can fail: suppressing the small cells alone
    /// leaves some of them recoverable in these very tables.
    #[test]
    fn the_attacker_breaks_primary_only_suppression() {
        let mut rng = Rng(0x4C61_6E74_6572_6E00);
        let mut broken = 0;
        for _ in 0..200 {
            let p = hospitals_quarters_grades(&mut rng);
            if !attack(&p, &primaries(&p, K), K).is_empty() {
                broken += 1;
            }
        }
        assert!(broken > 100, "{broken}");
    }
}
