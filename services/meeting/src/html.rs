//! The pack as a printable A4 page: plain tables, one SVG chart drawn on the
//! server, readable in black and white (values are written out, the target
//! is a dashed line, bars are outlined), no script, nothing loaded from
//! elsewhere.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::followup::State;
use crate::pack::{MonthRate, Pack, Scope};
use lantern_domain::events::followup::ActionKind;

fn num(n: Option<u64>) -> String {
    n.map_or_else(|| "—".to_owned(), |n| n.to_string())
}

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{r:.2}"))
}

const STYLE: &str = "
@page { size: A4; margin: 15mm; }
body { font-family: 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif; color: #000; font-size: 10.5pt; margin: 0; }
h1 { font-size: 16pt; margin: 0 0 2mm; } h2 { font-size: 12pt; margin: 6mm 0 2mm; border-bottom: 1px solid #000; }
table { border-collapse: collapse; margin: 1mm 0 3mm; } th, td { border: 1px solid #000; padding: 1mm 2mm; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #333; font-size: 9pt; } .bad { font-weight: bold; text-decoration: underline; }
section { break-inside: avoid; } svg text { font-size: 9px; font-family: sans-serif; }
nav.screen { border-bottom: 1px solid #000; padding: 2mm 0; margin-bottom: 3mm; } nav.screen a { margin-right: 4mm; } nav.screen form, nav.screen label { display: inline; }
@media print { nav.screen { display: none; } }
table.wide { font-size: 8pt; width: 100%; } table.wide th, table.wide td { padding: 0.5mm 1mm; } td.words { min-width: 24mm; }
";

/// The twelve-month reporting rate against the target, as SVG.
pub fn rate_chart(months: &[MonthRate], target: f64) -> String {
    let (w, h, left, bottom, top) = (640.0, 200.0, 36.0, 24.0, 10.0);
    let max = months
        .iter()
        .filter_map(|m| m.per_100_discharges)
        .fold(target, f64::max)
        * 1.2;
    let plot_h = h - bottom - top;
    let y = |v: f64| top + plot_h * (1.0 - v / max);
    let slot = (w - left) / months.len().max(1) as f64;
    let mut svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' viewBox='0 0 {w} {h}' role='img' aria-label='reports per 100 discharges, last 12 months'>"
    );
    svg.push_str(&format!(
        "<line x1='{left}' y1='{top}' x2='{left}' y2='{}' stroke='#000'/>",
        h - bottom
    ));
    svg.push_str(&format!(
        "<line x1='{left}' y1='{0}' x2='{w}' y2='{0}' stroke='#000'/>",
        h - bottom
    ));
    for (i, m) in months.iter().enumerate() {
        let x = left + slot * i as f64 + slot * 0.2;
        let label = m.month.get(5..).unwrap_or(&m.month);
        if let Some(v) = m.per_100_discharges {
            svg.push_str(&format!(
                "<rect x='{x:.1}' y='{:.1}' width='{:.1}' height='{:.1}' fill='#bbb' stroke='#000'/><text x='{:.1}' y='{:.1}' text-anchor='middle'>{v:.2}</text>",
                y(v),
                slot * 0.6,
                (h - bottom) - y(v),
                x + slot * 0.3,
                y(v) - 2.0
            ));
        } else {
            svg.push_str(&format!(
                "<text x='{:.1}' y='{:.1}' text-anchor='middle'>—</text>",
                x + slot * 0.3,
                h - bottom - 3.0
            ));
        }
        svg.push_str(&format!(
            "<text x='{:.1}' y='{:.1}' text-anchor='middle'>{label}</text>",
            x + slot * 0.3,
            h - 8.0
        ));
    }
    svg.push_str(&format!(
        "<line x1='{left}' y1='{0:.1}' x2='{w}' y2='{0:.1}' stroke='#000' stroke-dasharray='6 4' stroke-width='1.5'/><text x='2' y='{1:.1}'>{target}</text>",
        y(target),
        y(target) + 3.0
    ));
    svg.push_str("</svg>");
    svg
}

/// The page.
pub fn render(p: &Pack) -> Markup {
    let scope = match &p.scope {
        Scope::Hospital(h) => format!("医院 Hospital {h}"),
        Scope::Region(r) => format!("区域 Region {r}"),
    };
    // A hospital's pack is its monthly quality and safety analysis; the
    // dispatch meeting (每月工作调度会) is the QC centre's, over a region.
    let title = match &p.scope {
        Scope::Hospital(_) => "医疗质量安全月度分析 Monthly quality and safety analysis",
        Scope::Region(_) => "每月工作调度会资料 Monthly dispatch meeting pack",
    };
    let d = &p.deaths;
    let a = &p.adverse_events;
    let c = &p.critical_values;
    let r = &p.rca;
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                title { (title) " " (p.month) " — " (scope) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (title) " · " (p.month) }
                p.muted { (scope) " · 统计口径：死亡按死亡日期，不良事件按上报月份，危急值按发现时间（医院时区）" }

                @if !p.hospitals.is_empty() {
                    section {
                        h2 { "各医院情况（问题多者在前）Hospitals, worst first" }
                        table.wide id="hospitals" {
                            tr {
                                th { "医院" } th { "级别" } th { "报告数" } th { "每百出院" } th { "目标" } th { "上月" } th { "去年同月" }
                                th { "Ⅰ/Ⅱ级" } th { "RCA 进行/逾期" } th { "死亡" } th { "低风险死亡" } th { "按时讨论率%" } th { "危急值通报及时率%" } th { "关注事项" }
                            }
                            @for h in &p.hospitals {
                                tr {
                                    td { (h.hospital) " " (h.name) }
                                    td { (h.level.map_or("—", |l| match l { lantern_domain::vocab::Level::Secondary => "二级", lantern_domain::vocab::Level::Tertiary => "三级" })) }
                                    td.n { (h.month.reports) @if h.month.reports_without_census > 0 { " (+" (h.month.reports_without_census) " 无出院数)" } }
                                    td.n class=@if h.meets_target == Some(false) { "bad" } { (pct(h.month.per_100_discharges)) }
                                    td.n { (h.target) }
                                    td.n { (pct(h.last_month.per_100_discharges)) }
                                    td.n { (pct(h.last_year.per_100_discharges)) }
                                    td.n { (h.month.serious) }
                                    td.n { (h.rca_open) " / " (h.rca_overdue) }
                                    td.n { (h.month.deaths) }
                                    td.n { (h.month.low_risk_deaths) }
                                    td.n { (pct(h.month.review_on_time_rate)) }
                                    td.n { (pct(h.month.notification_timeliness)) }
                                    td.words { @for c in &h.concerns { (concern(c)) br; } }
                                }
                            }
                        }
                        p.muted { "目标 Target: 每百出院人次报告数，达到即达标 (reached = met)；各医院按其适用的目标（本院、所在地区或全国）" }
                    }
                }

                section {
                    h2 { "一、死亡病例讨论 Deaths and their reviews" }
                    table {
                        tr { th { "死亡总数 Deaths" } td.n id="deaths-total" { (d.total) } th { "按时讨论 Reviewed on time" } td.n { (num(d.reviewed_on_time)) } th { "按时讨论率 On-time rate %" } td.n id="review-rate" { (pct(d.review_on_time_rate)) } }
                    }
                    @if !d.by_department.is_empty() {
                        table {
                            tr { th { "科室 Department" } th { "死亡 Deaths" } }
                            @for (dept, n) in &d.by_department { tr { td { (dept) } td.n { (num(*n)) } } }
                        }
                    }
                    p { "逾期未讨论 Overdue: " span.bad { (d.overdue.len()) } " · 可避免 Avoidable: " (d.avoidable.len()) " · 可能可避免 Possibly avoidable: " (d.possibly_avoidable.len()) }
                    @if !d.low_risk.is_empty() {
                        h2 { "低风险组死亡 Low-risk deaths" }
                        table {
                            tr { th { "病例 Death" } th { "科室" } th { "诊断 ICD-10" } th { "状态 State" } th { "规则 Rules (due → met)" } }
                            @for t in &d.low_risk {
                                tr {
                                    // The staff web's trail page (a QC centre records its own review there).
                                    td { a href={ "/staff/deaths/" (t.death_id) } { (lantern_domain::ids::short_ref(t.death_id)) } }
                                    td { (t.department) }
                                    td { (t.diagnosis_icd10) }
                                    td { (format!("{:?}", t.state).to_lowercase()) }
                                    td { @for rule in &t.rules { (rule.rule) " " (rule.due.map(|d| d.to_string()).unwrap_or_default()) " → " (match rule.met { Some(true) => "met", Some(false) => "UNMET", None => "pending" }) br; } }
                                }
                            }
                        }
                    }
                }

                section {
                    h2 { "二、不良事件 Adverse events" }
                    table {
                        tr { th { "上报 Reports" } @for g in a.by_grade.keys() { th { (g) "级 Grade " (g) } } }
                        tr { td.n id="reports-total" { (a.total) } @for n in a.by_grade.values() { td.n { (num(*n)) } } }
                    }
                    @if !a.serious.is_empty() {
                        table {
                            tr { th { "Ⅰ/Ⅱ级事件 Serious report" } th { "级别 Grade" } th { "根因分析 RCA" } }
                            @for s in &a.serious { tr { td { (s.reference) } td { (format!("{:?}", s.grade)) } td { (s.rca_state) } } }
                        }
                    }
                }

                section {
                    h2 { "三、根因分析 Root-cause analyses" }
                    table {
                        tr { th { "新开 Opened" } th { "结案 Closed" } th { "结案中位天数 Median days" } th { "逾期 Overdue" } th { "措施逾期 Actions overdue" } th { "强/中效措施占比 %" } }
                        tr { td.n { (r.opened) } td.n { (r.closed) } td.n { (r.median_days_to_close.map_or("—".into(), |v| format!("{v:.1}"))) } td.n { (r.overdue) } td.n { (r.actions_overdue) } td.n { (pct(r.stronger_or_intermediate_share)) } }
                    }
                }

                section {
                    h2 { "四、危急值 Critical values" }
                    table {
                        tr { th { "发现 Detected" } th { "通报 Notified" } th { "通报率 %" } th { "通报及时率 %" } th { "处置及时率 %" } }
                        tr { td.n { (num(c.detected)) } td.n { (num(c.notified)) } td.n { (pct(c.notification_rate)) } td.n { (pct(c.notification_timeliness)) } td.n { (pct(c.handling_timeliness)) } }
                    }
                }

                section {
                    h2 { "病例清单（溯源）Case list" }
                    @if p.cases.events.is_empty() && p.cases.low_risk_deaths.is_empty() {
                        p { "本月无Ⅰ/Ⅱ级事件和低风险组死亡 None this month." }
                    }
                    @if !p.cases.events.is_empty() {
                        table.wide id="case-events" {
                            tr { th { "编号 Ref" } th { "医院" } th { "科室" } th { "类别" } th { "级别" } th { "上报日" } th { "RCA" } th { "根本原因 Root causes" } th { "措施 Actions" } th { "经验教训 Lessons" } }
                            @for c in &p.cases.events {
                                tr {
                                    td { (c.reference) } td { (c.hospital) } td { (c.department) } td { (c.category.as_str()) } td { (c.grade.as_str()) } td { (c.filed_on) } td { (c.rca_state) }
                                    td { @for a in &c.analyses { @for r in &a.root_causes { (r) br; } } }
                                    td { @for a in &c.analyses { @for x in &a.actions { (x.what) (if x.completed { " ✓" } else if x.overdue { " (逾期)" } else { "" }) br; } } }
                                    td { @for a in &c.analyses { @if let Some(l) = &a.lessons { (l) br; } } }
                                }
                            }
                        }
                    }
                    @if !p.cases.low_risk_deaths.is_empty() {
                        table.wide id="case-deaths" {
                            tr { th { "编号 Ref" } th { "医院" } th { "科室" } th { "死亡日" } th { "诊断" } th { "7日内讨论" } th { "院级讨论" } th { "可避免性" } th { "根本原因 Root causes" } }
                            @for c in &p.cases.low_risk_deaths {
                                tr {
                                    td { (c.reference) } td { (c.hospital) } td { (c.department) } td { (c.died_on) } td { (c.diagnosis_icd10) }
                                    td { (met(c.first_review_met)) } td { (met(c.hospital_review_met)) }
                                    td { (c.preventability.map_or("—".to_owned(), |v| serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())) }
                                    td { @for a in &c.analyses { @for r in &a.root_causes { (r) br; } } }
                                }
                            }
                        }
                    }
                }

                section {
                    h2 { "督办事项与通知 Follow-up items and notices" }
                    @if p.follow_ups.is_empty() {
                        p { "无 None." }
                    } @else {
                        table.wide id="follow-ups" {
                            tr { th { "编号 Ref" } th { "医院" } th { "类型" } th { "事项" } th { "期限" } th { "状态" } th { "医院回复" } }
                            @for v in &p.follow_ups {
                                tr {
                                    td { (v.followup.reference) } td { (v.followup.hospital) }
                                    td { (match v.followup.kind { ActionKind::Guidance => "指导意见", ActionKind::Rectification => "整改通知", ActionKind::FollowUp => "督办事项" }) }
                                    td { (v.followup.title) }
                                    td { (v.followup.due) }
                                    td class=@if v.state == State::Overdue { "bad" } { (match v.state { State::Open => "待回复 open", State::Answered => "已回复 answered", State::Overdue => "逾期 overdue", State::Closed => "已办结 closed" }) }
                                    td { @for a in &v.followup.answers { (a.on) " " (a.text) br; } }
                                }
                            }
                        }
                    }
                }

                section {
                    h2 { "五、每百出院人次主动报告 Reports per 100 discharges" }
                    p { "本月 This month: " strong id="reporting-rate" { (pct(p.reporting_rate.per_100_discharges)) } " · 目标 Target ≥ " (p.reporting_rate.target) " (虚线 dashed line)" }
                    (PreEscaped(rate_chart(&p.reporting_rate.last_12_months, p.reporting_rate.target)))
                }
            }
        }
    }
}

/// A concern of the region table, in words.
fn concern(code: &str) -> &'static str {
    match code {
        "below_target" => "报告率未达标",
        "no_census" => "缺出院人数",
        "rca_overdue" => "RCA 逾期",
        "review_late" => "死亡讨论不及时",
        "low_risk_death" => "低风险组死亡",
        "critical_value_late" => "危急值通报不及时",
        _ => "其他",
    }
}

fn met(m: Option<bool>) -> &'static str {
    match m {
        Some(true) => "是 met",
        Some(false) => "否 UNMET",
        None => "待定 pending",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_draws_each_month_and_the_target() {
        let months: Vec<MonthRate> = (1..=12)
            .map(|m| MonthRate {
                month: format!("2026-{m:02}"),
                per_100_discharges: (m != 3).then_some(m as f64 / 4.0),
            })
            .collect();
        let svg = rate_chart(&months, 2.5);
        assert_eq!(
            svg.matches("<rect").count(),
            11,
            "no bar for a month without discharges"
        );
        assert!(svg.contains("stroke-dasharray"), "the target line");
        assert!(svg.contains(">3.00<"), "values are written out");
        assert!(svg.contains(">12<"));
    }
}
