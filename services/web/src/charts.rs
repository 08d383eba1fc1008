//! The QC charts: a u-chart per hospital, a funnel plot of hospitals and a
//! Pareto chart of categories, their formulas (docs/charts.md) and their SVG,
//! drawn on the server so they work without script and print.
//!
//! Rates are reports per 100 discharges, so the "unit" of exposure is 100
//! discharges: n = discharges / 100, u = reports / n.
//!
//! SVG is written by hand (as services/mortality/src/html.rs does) rather
//! than with plotters: see docs/charts.md for why.

use std::fmt::Write;

/// z for two-sided 95 % limits.
pub const Z95: f64 = 1.959_964;
/// z for two-sided 99.8 % limits.
pub const Z998: f64 = 3.090_232;

/// Which side of its limits a point lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Under the lower limit.
    Below,
    /// Between the limits.
    Within,
    /// Over the upper limit.
    Above,
}

impl Side {
    fn of(v: f64, lower: f64, upper: f64) -> Side {
        if v < lower {
            Side::Below
        } else if v > upper {
            Side::Above
        } else {
            Side::Within
        }
    }
}

/// Which way an indicator is better. The voluntary reporting rate is
/// higher-is-better: many reports mean a culture that reports, few mean
/// events go unreported. So the concern is the low tail ("低于下限：可能漏报"),
/// and a point above the upper limit is shown as such, not as a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// More is better (the reporting rate).
    HigherIsBetter,
    /// Less is better.
    LowerIsBetter,
}

impl Direction {
    /// Whether a point on `side` is a concern for an indicator of this direction.
    pub fn concern(self, side: Side) -> bool {
        matches!(
            (self, side),
            (Direction::HigherIsBetter, Side::Below) | (Direction::LowerIsBetter, Side::Above)
        )
    }
}

/// What the charts say of a point's side and of the target, in the page's
/// language.
pub struct Legend<'a> {
    /// Under the lower limit, e.g. "低于下限：可能漏报".
    pub below: &'a str,
    /// Over the upper limit.
    pub above: &'a str,
    /// Within the limits.
    pub within: &'a str,
    /// The target line's label, e.g. "目标".
    pub target: &'a str,
}

impl Legend<'_> {
    fn side(&self, side: Side) -> &str {
        match side {
            Side::Below => self.below,
            Side::Within => self.within,
            Side::Above => self.above,
        }
    }
}

/// One subgroup (a month, or a hospital): its label, reports and discharges.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Month `YYYY-MM` or hospital code.
    pub label: String,
    /// Reports filed.
    pub reports: u64,
    /// Discharges.
    pub discharges: u64,
}

impl Sample {
    fn exposure(&self) -> f64 {
        self.discharges as f64 / 100.0
    }
}

/// One point of a u-chart with its own limits.
#[derive(Debug, Clone, PartialEq)]
pub struct UPoint {
    /// Month.
    pub label: String,
    /// Reports per 100 discharges.
    pub u: f64,
    /// Upper control limit for this month's denominator.
    pub ucl: f64,
    /// Lower control limit (never below 0).
    pub lcl: f64,
    /// Which side of the limits it lies on.
    pub side: Side,
}

/// A u-chart: the centre line ū = Σc / Σn and, for each subgroup i,
/// ū ± 3·√(ū / nᵢ) (Montgomery, Introduction to Statistical Quality
/// Control, §7.3.2, variable sample size). Months without discharges have
/// no rate and are left out.
#[derive(Debug, Clone, PartialEq)]
pub struct UChart {
    /// ū.
    pub centre: f64,
    /// The months with discharges.
    pub points: Vec<UPoint>,
}

/// The u-chart of `samples`; None when no month has discharges.
pub fn u_chart(samples: &[Sample]) -> Option<UChart> {
    let with: Vec<&Sample> = samples.iter().filter(|s| s.discharges > 0).collect();
    let total_n: f64 = with.iter().map(|s| s.exposure()).sum();
    if total_n <= 0.0 {
        return None;
    }
    let centre = with.iter().map(|s| s.reports as f64).sum::<f64>() / total_n;
    let points = with
        .iter()
        .map(|s| {
            let n = s.exposure();
            let u = s.reports as f64 / n;
            let sigma = (centre / n).sqrt();
            let ucl = centre + 3.0 * sigma;
            let lcl = (centre - 3.0 * sigma).max(0.0);
            UPoint {
                label: s.label.clone(),
                u,
                ucl,
                lcl,
                side: Side::of(u, lcl, ucl),
            }
        })
        .collect();
    Some(UChart { centre, points })
}

/// Funnel limits around `target` for exposure `n` (hundreds of discharges):
/// target ± z·√(target / n), the normal approximation to the Poisson
/// (Spiegelhalter 2005, "Funnel plots for comparing institutional
/// performance", Stat Med 24:1185–1202), the lower limit not below 0.
pub fn funnel_limits(target: f64, n: f64, z: f64) -> (f64, f64) {
    let half = z * (target / n).sqrt();
    ((target - half).max(0.0), target + half)
}

/// One hospital on the funnel.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelPoint {
    /// Hospital code.
    pub label: String,
    /// Discharges (the x axis).
    pub discharges: u64,
    /// Reports per 100 discharges.
    pub rate: f64,
    /// Its side of the 95 % limits.
    pub side_95: Side,
    /// Its side of the 99.8 % limits.
    pub side_998: Side,
}

/// A funnel plot: the regional rate θ = Σc / Σn and the hospitals.
#[derive(Debug, Clone, PartialEq)]
pub struct Funnel {
    /// θ, the regional rate per 100 discharges.
    pub target: f64,
    /// Hospitals with discharges.
    pub points: Vec<FunnelPoint>,
}

/// The funnel of `hospitals`; None when none has discharges.
pub fn funnel(hospitals: &[Sample]) -> Option<Funnel> {
    let with: Vec<&Sample> = hospitals.iter().filter(|s| s.discharges > 0).collect();
    let total_n: f64 = with.iter().map(|s| s.exposure()).sum();
    if total_n <= 0.0 {
        return None;
    }
    let target = with.iter().map(|s| s.reports as f64).sum::<f64>() / total_n;
    let points = with
        .iter()
        .map(|s| {
            let n = s.exposure();
            let rate = s.reports as f64 / n;
            let side = |z| {
                let (lo, hi) = funnel_limits(target, n, z);
                Side::of(rate, lo, hi)
            };
            FunnelPoint {
                label: s.label.clone(),
                discharges: s.discharges,
                rate,
                side_95: side(Z95),
                side_998: side(Z998),
            }
        })
        .collect();
    Some(Funnel { target, points })
}

const W: f64 = 640.0;
const H: f64 = 260.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&#39;")
}

struct Frame {
    svg: String,
    ymax: f64,
}

impl Frame {
    fn new(label: &str, ymax: f64) -> Frame {
        let ymax = if ymax > 0.0 { ymax * 1.1 } else { 1.0 };
        let mut svg = format!(
            "<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' viewBox='0 0 {W} {H}' role='img' aria-label='{}'><title>{}</title>",
            escape(label),
            escape(label)
        );
        let _ = write!(
            svg,
            "<line x1='{LEFT}' y1='{TOP}' x2='{LEFT}' y2='{b}' stroke='#000'/><line x1='{LEFT}' y1='{b}' x2='{r}' y2='{b}' stroke='#000'/>",
            b = H - BOTTOM,
            r = W - RIGHT
        );
        let mut f = Frame { svg, ymax };
        for i in 0..=4 {
            let v = ymax * f64::from(i) / 4.0;
            let y = f.y(v);
            let _ = write!(
                f.svg,
                "<text x='{}' y='{:.1}' text-anchor='end'>{v:.2}</text><line x1='{}' y1='{y:.1}' x2='{LEFT}' y2='{y:.1}' stroke='#000'/>",
                LEFT - 6.0,
                y + 4.0,
                LEFT - 3.0
            );
        }
        f
    }

    fn y(&self, v: f64) -> f64 {
        TOP + (H - TOP - BOTTOM) * (1.0 - (v / self.ymax).clamp(0.0, 1.05))
    }

    fn polyline(&mut self, pts: &[(f64, f64)], dash: Option<&str>, width: f64) {
        if pts.is_empty() {
            return;
        }
        let points: Vec<String> = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        let _ = write!(
            self.svg,
            "<polyline points='{}' fill='none' stroke='#000' stroke-width='{width}'{}/>",
            points.join(" "),
            dash.map(|d| format!(" stroke-dasharray='{d}'"))
                .unwrap_or_default()
        );
    }

    /// A point: a filled circle inside the limits; a hollow square with
    /// "!" on the side of concern; a hollow circle outside on the other
    /// side (shape and mark, not colour, tell them apart).
    fn point(&mut self, x: f64, y: f64, side: Side, direction: Direction, title: &str) {
        if side != Side::Within && !direction.concern(side) {
            let _ = write!(
                self.svg,
                "<g><title>{t}</title><circle cx='{x:.1}' cy='{y:.1}' r='5' fill='#fff' stroke='#000' stroke-width='2'/></g>",
                t = escape(title)
            );
        } else if direction.concern(side) {
            let _ = write!(
                self.svg,
                "<g><title>{t}</title><rect x='{:.1}' y='{:.1}' width='9' height='9' fill='#fff' stroke='#000' stroke-width='2'/><text x='{:.1}' y='{:.1}' font-weight='bold'>!</text></g>",
                x - 4.5,
                y - 4.5,
                x + 7.0,
                y - 5.0,
                t = escape(title)
            );
        } else {
            let _ = write!(
                self.svg,
                "<g><title>{t}</title><circle cx='{x:.1}' cy='{y:.1}' r='4' fill='#000'/></g>",
                t = escape(title)
            );
        }
    }

    /// The target as a dash-dot line across the plot, labelled at the left.
    fn target(&mut self, target: Option<f64>, label: &str) {
        if let Some(t) = target {
            let y = self.y(t);
            self.polyline(&[(LEFT, y), (W - RIGHT, y)], Some("10 3 2 3"), 1.5);
            self.text(LEFT + 4.0, y - 4.0, "start", &format!("{label} {t:.2}"));
        }
    }

    fn text(&mut self, x: f64, y: f64, anchor: &str, s: &str) {
        let _ = write!(
            self.svg,
            "<text x='{x:.1}' y='{y:.1}' text-anchor='{anchor}'>{}</text>",
            escape(s)
        );
    }

    fn finish(mut self) -> String {
        self.svg.push_str("</svg>");
        self.svg
    }
}

/// The u-chart as SVG: points, the centre line (dashed), each month's
/// limits as steps (solid) and the target (dash-dot); each point says which
/// side of its limits it is on, and only the side of concern for
/// `direction` is marked "!".
pub fn u_chart_svg(
    chart: &UChart,
    label: &str,
    target: Option<f64>,
    direction: Direction,
    legend: &Legend<'_>,
) -> String {
    let ymax = chart
        .points
        .iter()
        .map(|p| p.ucl.max(p.u))
        .fold(chart.centre.max(target.unwrap_or(0.0)), f64::max);
    let mut f = Frame::new(label, ymax);
    let slot = (W - LEFT - RIGHT) / chart.points.len().max(1) as f64;
    let x = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let mut ucl = Vec::new();
    let mut lcl = Vec::new();
    for (i, p) in chart.points.iter().enumerate() {
        let (a, b) = (x(i) - slot / 2.0, x(i) + slot / 2.0);
        ucl.extend([(a, f.y(p.ucl)), (b, f.y(p.ucl))]);
        lcl.extend([(a, f.y(p.lcl)), (b, f.y(p.lcl))]);
    }
    f.polyline(&ucl, None, 1.0);
    f.polyline(&lcl, None, 1.0);
    let c = f.y(chart.centre);
    f.polyline(&[(LEFT, c), (W - RIGHT, c)], Some("6 4"), 1.5);
    f.text(
        W - RIGHT,
        c - 4.0,
        "end",
        &format!("ū = {:.2}", chart.centre),
    );
    f.target(target, legend.target);
    let line: Vec<(f64, f64)> = chart
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| (x(i), f.y(p.u)))
        .collect();
    f.polyline(&line, Some("1 3"), 1.0);
    for (i, p) in chart.points.iter().enumerate() {
        let (px, py) = (x(i), f.y(p.u));
        f.point(
            px,
            py,
            p.side,
            direction,
            &format!(
                "{}: {:.2} [{:.2}, {:.2}] {}",
                p.label,
                p.u,
                p.lcl,
                p.ucl,
                legend.side(p.side)
            ),
        );
        let short = p.label.get(2..).unwrap_or(&p.label);
        f.text(px, H - BOTTOM + 16.0, "middle", short);
    }
    f.finish()
}

/// The funnel plot as SVG: hospitals by discharges (x) and rate (y), the
/// regional rate, 95 % limits dashed, 99.8 % limits solid, the target
/// dash-dot; each hospital says which side of the 95 % limits it is on, and
/// only the side of concern for `direction` is marked "!".
pub fn funnel_svg(
    funnel: &Funnel,
    label: &str,
    target: Option<f64>,
    direction: Direction,
    legend: &Legend<'_>,
) -> String {
    let xmax = funnel
        .points
        .iter()
        .map(|p| p.discharges)
        .max()
        .unwrap_or(1) as f64
        * 1.1;
    let xmin = xmax / 60.0;
    let ymax = funnel.points.iter().map(|p| p.rate).fold(
        (funnel_limits(funnel.target, xmax / 100.0, Z998).1 * 1.5).max(target.unwrap_or(0.0)),
        f64::max,
    );
    let mut f = Frame::new(label, ymax);
    let x = |d: f64| LEFT + (W - LEFT - RIGHT) * d / xmax;
    for (z, dash) in [(Z95, Some("6 4")), (Z998, None)] {
        let mut hi = Vec::new();
        let mut lo = Vec::new();
        for i in 0..=60 {
            let d = xmin + (xmax - xmin) * f64::from(i) / 60.0;
            let (l, h) = funnel_limits(funnel.target, d / 100.0, z);
            hi.push((x(d), f.y(h)));
            lo.push((x(d), f.y(l)));
        }
        f.polyline(&hi, dash, 1.0);
        f.polyline(&lo, dash, 1.0);
    }
    let t = f.y(funnel.target);
    f.polyline(&[(LEFT, t), (W - RIGHT, t)], None, 2.0);
    f.text(
        W - RIGHT,
        t - 4.0,
        "end",
        &format!("θ = {:.2}", funnel.target),
    );
    f.target(target, legend.target);
    for p in &funnel.points {
        let (px, py) = (x(p.discharges as f64), f.y(p.rate));
        f.point(
            px,
            py,
            p.side_95,
            direction,
            &format!(
                "{}: {:.2} / {} {}",
                p.label,
                p.rate,
                p.discharges,
                legend.side(p.side_95)
            ),
        );
        f.text(px + 8.0, py + 4.0, "start", &p.label);
    }
    for i in 0..=4 {
        let d = xmax * f64::from(i) / 4.0;
        f.text(x(d), H - BOTTOM + 16.0, "middle", &format!("{d:.0}"));
    }
    f.finish()
}

/// One bar of a Pareto chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoBar {
    /// Category code (or the label of the remainder).
    pub label: String,
    /// Reports in it.
    pub count: u64,
    /// Share of all reports in this bar and every bar before it, in %.
    pub cumulative_pct: f64,
}

/// A Pareto chart of report categories: bars in descending order with the
/// cumulative percentage (docs/charts.md, worked example 3).
#[derive(Debug, Clone, PartialEq)]
pub struct Pareto {
    /// All reports counted (the bars' sum).
    pub total: u64,
    /// Bars, largest first; the remainder last.
    pub bars: Vec<ParetoBar>,
}

/// The Pareto chart of `counts` (category, reports): empty categories are
/// left out, the rest sorted by count descending, ties by category code so
/// the order does not depend on the language; `rest` (the reports of
/// suppressed cells, which cannot be told apart) comes last whatever its
/// size, as "other" does on a Pareto chart. None when there is nothing.
pub fn pareto(counts: &[(String, u64)], rest: Option<(String, u64)>) -> Option<Pareto> {
    let mut bars: Vec<(String, u64)> = counts.iter().filter(|(_, n)| *n > 0).cloned().collect();
    bars.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    bars.extend(rest.filter(|(_, n)| *n > 0));
    let total: u64 = bars.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let mut running = 0;
    let bars = bars
        .into_iter()
        .map(|(label, count)| {
            running += count;
            ParetoBar {
                label,
                count,
                cumulative_pct: running as f64 * 100.0 / total as f64,
            }
        })
        .collect();
    Some(Pareto { total, bars })
}

/// The Pareto chart as SVG: outlined bars with their counts (left axis),
/// the cumulative percentage as a line with points (right axis, 0–100 %),
/// and a dashed line at 80 %. Labels are turned so that long category
/// names fit; `name` turns a bar's label into what is shown.
pub fn pareto_svg(p: &Pareto, label: &str, name: &dyn Fn(&str) -> String) -> String {
    const PH: f64 = 340.0;
    const PB: f64 = 110.0;
    const PR: f64 = 44.0;
    // Whole-number ticks: at most 4 steps of a whole step, up to the
    // first tick at or above the tallest bar.
    let max = p.bars.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    let step = max.div_ceil(4).max(1);
    let ticks = max.div_ceil(step);
    let axis = (step * ticks) as f64;
    let bottom = PH - PB;
    let plot = bottom - TOP;
    let y_count = |v: f64| TOP + plot * (1.0 - v / axis);
    let y_pct = |v: f64| TOP + plot * (1.0 - v / 100.0);
    let slot = (W - LEFT - PR) / p.bars.len().max(1) as f64;
    let mut svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{PH}' viewBox='0 0 {W} {PH}' role='img' aria-label='{l}'><title>{l}</title>",
        l = escape(label)
    );
    let _ = write!(
        svg,
        "<line x1='{LEFT}' y1='{TOP}' x2='{LEFT}' y2='{bottom}' stroke='#000'/><line x1='{LEFT}' y1='{bottom}' x2='{r}' y2='{bottom}' stroke='#000'/><line x1='{r}' y1='{TOP}' x2='{r}' y2='{bottom}' stroke='#000'/>",
        r = W - PR
    );
    for i in 0..=ticks {
        let count = step * i;
        let _ = write!(
            svg,
            "<text x='{:.1}' y='{:.1}' text-anchor='end'>{count}</text>",
            LEFT - 6.0,
            y_count(count as f64) + 4.0,
        );
    }
    for i in 0..=4u32 {
        let pct = 25.0 * f64::from(i);
        let _ = write!(
            svg,
            "<text x='{:.1}' y='{:.1}'>{pct:.0}%</text>",
            W - PR + 4.0,
            y_pct(pct) + 4.0
        );
    }
    let y80 = y_pct(80.0);
    let _ = write!(
        svg,
        "<line x1='{LEFT}' y1='{y80:.1}' x2='{r}' y2='{y80:.1}' stroke='#000' stroke-dasharray='6 4'/>",
        r = W - PR
    );
    let mut line = Vec::new();
    for (i, b) in p.bars.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        let top = y_count(b.count as f64);
        let mid = x + slot / 2.0;
        let shown = name(&b.label);
        // The count inside a tall bar's top, above a short one, so it
        // never meets the cumulative line's label.
        let count_y = if bottom - top > 18.0 {
            top + 13.0
        } else {
            top - 3.0
        };
        let _ = write!(
            svg,
            "<g><title>{t}: {} ({:.1}%)</title><rect x='{:.1}' y='{top:.1}' width='{:.1}' height='{:.1}' fill='#ccc' stroke='#000'/></g><text x='{mid:.1}' y='{:.1}' text-anchor='middle'>{}</text><text transform='translate({mid:.1},{:.1}) rotate(-45)' text-anchor='end'>{t}</text>",
            b.count,
            b.cumulative_pct,
            x + slot * 0.15,
            slot * 0.7,
            bottom - top,
            count_y,
            b.count,
            bottom + 12.0,
            t = escape(&shown)
        );
        line.push((mid, y_pct(b.cumulative_pct)));
    }
    let points: Vec<String> = line.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let _ = write!(
        svg,
        "<polyline points='{}' fill='none' stroke='#000' stroke-width='2'/>",
        points.join(" ")
    );
    for ((x, y), b) in line.iter().zip(&p.bars) {
        let _ = write!(
            svg,
            "<circle cx='{x:.1}' cy='{y:.1}' r='3.5' fill='#fff' stroke='#000' stroke-width='2'/><text x='{:.1}' y='{:.1}'>{:.0}%</text>",
            x + 6.0,
            y - 5.0,
            b.cumulative_pct
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(label: &str, reports: u64, discharges: u64) -> Sample {
        Sample {
            label: label.into(),
            reports,
            discharges,
        }
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-6, "{a} != {b}");
    }

    /// docs/charts.md, worked example 1.
    #[test]
    fn u_chart_matches_the_hand_computed_example() {
        let months = [
            s("2026-01", 4, 400),
            s("2026-02", 4, 400),
            s("2026-03", 4, 400),
            s("2026-04", 16, 400),
            s("2026-05", 0, 100),
            s("2026-06", 3, 0),
        ];
        let c = u_chart(&months).unwrap();
        close(c.centre, 28.0 / 17.0);
        assert_eq!(c.points.len(), 5, "a month without discharges has no point");
        close(c.points[0].u, 1.0);
        close(c.points[0].ucl, 3.572_125_667);
        close(c.points[0].lcl, 0.0);
        assert_eq!(c.points[0].side, Side::Within);
        close(c.points[3].u, 4.0);
        assert_eq!(c.points[3].side, Side::Above, "4.0 > 3.5721");
        close(c.points[4].ucl, 5.497_192_511);
        assert_eq!(c.points[4].side, Side::Within);
        assert!(u_chart(&[s("x", 1, 0)]).is_none());
    }

    /// docs/charts.md, worked example 2.
    #[test]
    fn funnel_matches_the_hand_computed_example() {
        let f = funnel(&[s("A", 10, 1000), s("B", 45, 1000), s("C", 5, 200)]).unwrap();
        close(f.target, 60.0 / 22.0);
        let (lo, hi) = funnel_limits(f.target, 10.0, Z95);
        close(lo, 1.703_714_911);
        close(hi, 3.750_830_544);
        let (lo, hi) = funnel_limits(f.target, 10.0, Z998);
        close(lo, 1.113_451_699);
        close(hi, 4.341_093_756);
        let (lo, hi) = funnel_limits(f.target, 2.0, Z998);
        close(lo, 0.0);
        close(hi, 6.335_886_251);
        let by = |l: &str| f.points.iter().find(|p| p.label == l).unwrap().clone();
        assert_eq!(
            (by("A").side_95, by("A").side_998),
            (Side::Below, Side::Below),
            "1.0 below both"
        );
        assert_eq!(
            (by("B").side_95, by("B").side_998),
            (Side::Above, Side::Above),
            "4.5 above both"
        );
        assert_eq!(
            by("C").side_95,
            Side::Within,
            "a small hospital at 2.5 is not flagged"
        );
    }

    const LEGEND: Legend<'static> = Legend {
        below: "低于下限：可能漏报",
        above: "高于上限",
        within: "在控制限内",
        target: "目标",
    };

    #[test]
    fn svg_is_well_formed_enough() {
        let c = u_chart(&[s("2026-01", 4, 400), s("2026-02", 16, 400)]).unwrap();
        let svg = u_chart_svg(&c, "H1 <u>", Some(2.5), Direction::HigherIsBetter, &LEGEND);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("H1 &lt;u&gt;"));
        let f = funnel(&[s("A", 10, 1000), s("B", 45, 1000)]).unwrap();
        let svg = funnel_svg(&f, "funnel", Some(2.5), Direction::HigherIsBetter, &LEGEND);
        assert!(svg.contains("<polyline"));
    }

    /// docs/charts.md, worked example 2 drawn: for a higher-is-better rate
    /// the low hospital is the concern ("!"), the high one is shown above
    /// its limit but not flagged, and the target is drawn and labelled.
    #[test]
    fn the_low_tail_is_flagged_for_a_higher_is_better_rate_and_the_target_is_drawn() {
        let f = funnel(&[s("A", 10, 1000), s("B", 45, 1000), s("C", 5, 200)]).unwrap();
        let svg = funnel_svg(&f, "funnel", Some(2.5), Direction::HigherIsBetter, &LEGEND);
        let marked = |label: &str| {
            let at = svg.find(&format!("<title>{label}:")).unwrap();
            let group = &svg[at..at + svg[at..].find("</g>").unwrap()];
            (group.contains("<rect"), group.to_owned())
        };
        let (a_flag, a) = marked("A");
        assert!(a_flag && a.contains("低于下限：可能漏报"), "{a}");
        let (b_flag, b) = marked("B");
        assert!(!b_flag && b.contains("高于上限"), "{b}");
        let (c_flag, c) = marked("C");
        assert!(!c_flag && c.contains("在控制限内"), "{c}");
        assert!(svg.contains("目标 2.50"), "the target line is labelled");
        // The same points for a lower-is-better indicator: the high one is flagged.
        let svg = funnel_svg(&f, "funnel", None, Direction::LowerIsBetter, &LEGEND);
        let at = svg.find("<title>B:").unwrap();
        assert!(svg[at..at + svg[at..].find("</g>").unwrap()].contains("<rect"));
        assert!(!svg.contains("目标"), "no target, no line");
        assert!(Direction::HigherIsBetter.concern(Side::Below));
        assert!(!Direction::HigherIsBetter.concern(Side::Above));
    }

    /// docs/charts.md, worked example 3.
    #[test]
    fn pareto_matches_the_hand_computed_example() {
        let counts: Vec<(String, u64)> = [
            ("medication", 8),
            ("fall", 12),
            ("identification", 3),
            ("device", 3),
            ("tube", 5),
            ("other", 2),
            ("diet", 0),
        ]
        .iter()
        .map(|(c, n)| ((*c).to_owned(), *n))
        .collect();
        let p = pareto(&counts, None).unwrap();
        assert_eq!(p.total, 33);
        let order: Vec<_> = p.bars.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(
            order,
            [
                "fall",
                "medication",
                "tube",
                "device",
                "identification",
                "other"
            ],
            "descending; a tie by code; an empty category left out"
        );
        let cumulative: Vec<f64> = p.bars.iter().map(|b| b.cumulative_pct).collect();
        for (got, want) in cumulative.iter().zip([
            36.363_636, 60.606_061, 75.757_576, 84.848_485, 93.939_394, 100.0,
        ]) {
            assert!((got - want).abs() < 1e-5, "{got} != {want}");
        }
        // Worked example 3b: suppressed cells go last as one bar.
        let p = pareto(
            &[("fall".into(), 20), ("medication".into(), 12)],
            Some(("suppressed".into(), 8)),
        )
        .unwrap();
        let bars: Vec<_> = p
            .bars
            .iter()
            .map(|b| (b.label.as_str(), b.count, b.cumulative_pct))
            .collect();
        assert_eq!(
            bars,
            [
                ("fall", 20, 50.0),
                ("medication", 12, 80.0),
                ("suppressed", 8, 100.0)
            ]
        );
        assert!(pareto(&[("fall".into(), 0)], Some(("suppressed".into(), 0))).is_none());
        let svg = pareto_svg(&p, "Pareto <x>", &|c| format!("{c}!"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("fall!") && svg.contains("Pareto &lt;x&gt;") && svg.contains(">80%<"));
    }
}
