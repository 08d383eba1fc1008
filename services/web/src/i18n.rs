//! Every string the staff pages show, in zh-CN (the default) and English.
//! One table, so a translator edits one file and a missing key is caught
//! by a test rather than by a user.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::session::cookie;

/// The page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文 (default).
    Zh,
    /// English.
    En,
}

/// The cookie that remembers the language switch.
pub const LANG_COOKIE: &str = "lantern_lang";

impl Lang {
    /// `zh-CN` or `en`, for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The cookie / query value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Parses `zh` or `en`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language (for the switch link).
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// The string for `key`; the key itself if the table lacks it (a test
    /// checks every key used in the pages is present).
    pub fn t(self, key: &str) -> &'static str {
        match STRINGS.iter().find(|(k, _, _)| *k == key) {
            Some((_, zh, en)) => match self {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => "?",
        }
    }
}

/// `?lang=` in the query, if any.
pub fn lang_in_query(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(lang_in_query(parts.uri.query())
            .or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(|v| Lang::parse(&v)))
            .unwrap_or(Lang::Zh))
    }
}

/// (key, 中文, English).
static STRINGS: &[(&str, &str, &str)] = &[
    ("app", "Lantern 医疗安全", "Lantern patient safety"),
    ("switch", "English", "中文"),
    ("skip", "跳到主要内容", "Skip to main content"),
    ("nav.reports", "报告收件箱", "Report inbox"),
    ("nav.critical", "危急值工作列表", "Critical-value worklist"),
    ("nav.dashboard", "质控看板", "QC dashboard"),
    ("signin.h1", "工作人员登录", "Staff sign-in"),
    ("signin.token", "访问令牌", "Access token"),
    (
        "signin.hint",
        "粘贴管理员发给您的令牌。令牌只用于本次验证，不会显示在页面上或保存在浏览器中。",
        "Paste the token your administrator issued. It is used only to sign you in; it is never shown on a page or kept in the browser.",
    ),
    ("signin.submit", "登录", "Sign in"),
    (
        "signin.bad",
        "令牌无效或已被撤销。",
        "The token is not valid or was revoked.",
    ),
    ("signout", "退出登录", "Sign out"),
    ("signed_in_as", "当前身份", "Signed in as"),
    ("role.safety_officer", "质量管理部门", "Safety officer"),
    ("role.qc_centre", "质控中心", "QC centre"),
    ("role.admin", "管理员", "Administrator"),
    ("role.lis", "检验/影像系统", "Lab/imaging system"),
    ("role.his", "医院信息系统", "Hospital information system"),
    ("reports.h1", "报告收件箱", "Report inbox"),
    ("filter", "筛选", "Filter"),
    ("from", "起始月份", "From month"),
    ("to", "截止月份", "To month"),
    ("any", "全部", "Any"),
    ("grade", "分级", "Grade"),
    ("category", "类别", "Category"),
    ("department", "科室", "Department"),
    ("hospital", "医院", "Hospital"),
    ("state", "状态", "State"),
    ("harm", "伤害程度", "Harm"),
    ("occurred_at", "发生时间", "Occurred"),
    ("filed_on", "上报日期", "Filed on"),
    ("location", "地点", "Location"),
    (
        "description",
        "经过（已去除个人信息）",
        "What happened (personal data removed)",
    ),
    ("immediate_actions", "即时处置", "Immediate actions"),
    ("none_found", "没有符合条件的报告。", "No reports match."),
    ("open", "查看", "Open"),
    ("count", "条", "shown"),
    ("status.received", "已接收", "Received"),
    ("status.triaged", "已核实", "Triaged"),
    ("status.under_analysis", "分析中", "Under analysis"),
    ("status.closed", "已结案", "Closed"),
    ("report.h1", "不良事件报告", "Adverse-event report"),
    ("report.as_filed", "上报时", "As filed"),
    ("report.triage", "核实", "Triage"),
    ("report.triaged_as", "核实结果", "Triaged as"),
    (
        "report.duplicate_of",
        "重复报告（填写原报告编号）",
        "Duplicate of (report id)",
    ),
    ("report.note", "备注", "Note"),
    ("report.triage_submit", "保存核实", "Save triage"),
    (
        "report.feedback",
        "给上报人的反馈",
        "Feedback for the reporter",
    ),
    (
        "report.feedback_hint",
        "上报人通过回执码看到这段文字。请勿写入个人信息。",
        "The reporter reads this through their receipt code. Do not write personal data.",
    ),
    ("report.feedback_submit", "发布反馈", "Post feedback"),
    ("report.follow_ups", "上报人补充", "Reporter's follow-ups"),
    ("report.saved", "已保存。", "Saved."),
    ("refused", "未保存：", "Not saved:"),
    ("critical.h1", "危急值工作列表", "Critical-value worklist"),
    (
        "critical.none",
        "没有未闭环的危急值。",
        "No open critical values.",
    ),
    ("critical.item", "项目", "Item"),
    ("critical.value", "结果", "Value"),
    ("critical.detected_at", "发现时间", "Detected"),
    ("critical.stage", "环节", "Stage"),
    ("critical.waited", "已等待（分钟）", "Waited (min)"),
    ("critical.limit", "时限（分钟）", "Limit (min)"),
    ("critical.overdue", "超时", "OVERDUE"),
    ("critical.in_time", "未超时", "in time"),
    (
        "stage.awaiting_notification",
        "待通报",
        "Awaiting notification",
    ),
    ("stage.awaiting_handling", "待处置", "Awaiting handling"),
    ("dash.h1", "质控看板", "QC dashboard"),
    ("dash.period", "统计期间", "Period"),
    ("dash.show", "显示", "Show"),
    ("dash.hospitals", "各医院", "Hospitals"),
    ("dash.departments", "各科室", "Departments"),
    ("dash.reports", "报告数", "Reports"),
    ("dash.discharges", "出院人次", "Discharges"),
    (
        "dash.rate",
        "每百出院人次报告数",
        "Reports per 100 discharges",
    ),
    ("dash.target", "目标 > 2.5", "Target > 2.5"),
    (
        "dash.event_rate",
        "按发生科室的事件率（每百出院人次）",
        "Event rate by occurrence department (per 100 discharges)",
    ),
    (
        "dash.not_judged",
        "不评判（目标按医院评判）",
        "not judged (the target is judged per hospital)",
    ),
    (
        "dash.incomplete",
        "不完整：有出院数据的月份",
        "incomplete: months with a census",
    ),
    (
        "dash.without_census",
        "无出院数据月份的报告",
        "reports in months without a census",
    ),
    ("dash.met", "达标", "met"),
    ("dash.below", "未达标", "below"),
    ("dash.no_denominator", "无出院数据", "no discharges"),
    (
        "dash.cv_notify",
        "危急值通报及时率 %",
        "CV notification timeliness %",
    ),
    (
        "dash.cv_handle",
        "危急值处置及时率 %",
        "CV handling timeliness %",
    ),
    ("dash.by_grade", "按分级", "By grade"),
    ("dash.suppressed", "已抑制", "suppressed"),
    (
        "dash.suppressed_note",
        "“已抑制”：1 至 k−1 的小数值不向质控中心显示，以免识别个人。",
        "\u{201c}suppressed\u{201d}: counts from 1 to k−1 are hidden from QC centres so nobody can be singled out.",
    ),
    ("dash.csv", "导出 CSV", "Export CSV"),
    (
        "dash.uchart",
        "u 控制图（每月每百出院人次报告数）",
        "u-chart (reports per 100 discharges, monthly)",
    ),
    (
        "dash.funnel",
        "漏斗图（各医院与全区比较）",
        "Funnel plot (hospitals against the region)",
    ),
    (
        "dash.funnel_note",
        "虚线：95% 控制限；实线：99.8% 控制限；横线：全区率。点越靠右，出院人次越多。",
        "Dashed: 95% limits; solid: 99.8% limits; horizontal: regional rate. Further right means more discharges.",
    ),
    (
        "dash.outside",
        "报告率越高越好：低于下限的点（可能漏报）以空心方块和“!”标出；高于上限的点以空心圆标出，不作为问题；点划线为目标值。",
        "A higher reporting rate is better: points below the lower limit (possible under-reporting) are hollow squares marked \u{201c}!\u{201d}; points above the upper limit are hollow circles, not a fault; the dash-dot line is the target.",
    ),
    (
        "dash.side_below",
        "低于下限：可能漏报",
        "below the lower limit: possible under-reporting",
    ),
    (
        "dash.side_above",
        "高于上限：报告积极",
        "above the upper limit: active reporting",
    ),
    ("dash.side_within", "在控制限内", "within the limits"),
    ("dash.target_line", "目标", "target"),
    (
        "dash.no_data",
        "本期没有出院数据，无法作图。",
        "No discharges in this period: nothing to chart.",
    ),
    ("dash.centre", "中心线", "centre line"),
    ("dash.month", "月份", "Month"),
    ("error.h1", "出错了", "Something went wrong"),
    ("grade.I", "I 级 警讯事件", "I sentinel event"),
    ("grade.II", "II 级 不良后果事件", "II adverse outcome"),
    ("grade.III", "III 级 未造成后果事件", "III no-harm event"),
    ("grade.IV", "IV 级 隐患事件", "IV near miss / hazard"),
    ("harm.death", "死亡", "death"),
    ("harm.severe", "重度", "severe"),
    ("harm.moderate", "中度", "moderate"),
    ("harm.mild", "轻度", "mild"),
    ("harm.none", "无伤害", "none"),
    ("harm.unknown", "未知", "unknown"),
    ("cat.medication", "药物", "Medication"),
    ("cat.fall", "跌倒/坠床", "Fall"),
    ("cat.surgery", "手术", "Surgery"),
    ("cat.transfusion", "输血", "Transfusion"),
    ("cat.procedure", "医疗处置", "Procedure"),
    ("cat.tube", "管路", "Tube / line"),
    (
        "cat.unexpected_arrest",
        "院内不预期心跳呼吸停止",
        "Unexpected arrest",
    ),
    ("cat.injury", "伤害", "Injury"),
    ("cat.public_accident", "公共意外", "Public accident"),
    ("cat.diet", "饮食", "Diet"),
    ("cat.anesthesia", "麻醉", "Anaesthesia"),
    ("cat.lab_specimen", "检查/检验/病理标本", "Lab / specimen"),
    ("cat.pressure_injury", "压力性损伤", "Pressure injury"),
    (
        "cat.occupational_exposure",
        "职业暴露",
        "Occupational exposure",
    ),
    ("cat.device", "医疗器械", "Device"),
    ("cat.infection", "院内感染", "Infection"),
    ("cat.identification", "身份识别", "Identification"),
    ("cat.information", "信息系统", "Information systems"),
    ("cat.security", "治安", "Security"),
    ("cat.other", "其他", "Other"),
    ("back", "返回", "Back"),
    ("nav.rca", "根因分析", "Root-cause analyses"),
    ("nav.deaths", "死亡病例讨论", "Death reviews"),
    ("nav.meeting", "月度调度会资料", "Monthly pack"),
    ("rca.h1", "根因分析", "Root-cause analyses"),
    ("rca.case_h1", "根因分析案例", "RCA case file"),
    ("rca.overdue_h", "逾期事项", "Overdue"),
    (
        "rca.nothing_overdue",
        "没有逾期事项。",
        "Nothing is overdue.",
    ),
    (
        "rca.queue_overdue",
        "I/II 级事件上报超过 72 小时仍未开展根因分析",
        "Grade I/II reports without an analysis after 72 hours",
    ),
    (
        "rca.cases_overdue",
        "逾期未结案的根因分析",
        "Cases past their due date",
    ),
    (
        "rca.actions_overdue",
        "逾期未完成的改进措施",
        "Overdue actions",
    ),
    ("rca.open_h", "开展根因分析", "Open a root-cause analysis"),
    (
        "rca.queue_hint",
        "勾选一份或多份报告一起分析。列表为尚未开展根因分析的 I/II 级事件（按核实后的分级）。",
        "Tick one or more reports to analyse together. Listed: grade I/II reports (as triaged) with no analysis yet.",
    ),
    (
        "rca.queue_empty",
        "没有待分析的 I/II 级事件。",
        "No grade I/II reports are waiting for an analysis.",
    ),
    ("rca.reports", "分析的报告", "Reports analysed"),
    ("rca.title", "标题", "Title"),
    (
        "rca.team_roles",
        "小组成员（岗位，不写姓名）",
        "Team (roles, never names)",
    ),
    (
        "rca.team_hint",
        "每行一个岗位，或用逗号分隔。",
        "One role per line, or separated by commas.",
    ),
    ("rca.due", "截止日期", "Due"),
    (
        "rca.due_hint",
        "可不填：默认为 45 天后。",
        "Optional: 45 days from today by default.",
    ),
    ("rca.open_submit", "开展分析", "Open the analysis"),
    ("rca.cases_h", "本院根因分析", "The hospital's analyses"),
    (
        "rca.no_cases",
        "没有符合条件的根因分析。",
        "No analyses match.",
    ),
    ("rca.state.open", "进行中", "Open"),
    ("rca.state.closed", "已结案", "Closed"),
    ("rca.opened_on", "开始日期", "Opened"),
    ("rca.closed_on", "结案日期", "Closed on"),
    ("rca.timeline", "时间线", "Timeline"),
    ("rca.none_yet", "暂无。", "None yet."),
    ("rca.at", "时间", "When"),
    ("rca.what_happened", "经过", "What happened"),
    ("rca.add_timeline", "添加时间线条目", "Add to the timeline"),
    (
        "rca.factors",
        "原因因素（鱼骨图）",
        "Causal factors (fishbone)",
    ),
    (
        "rca.factors_hint",
        "按人、机、料、法、环、测、管理分类。",
        "By people, equipment, materials, methods, environment, measurement, management.",
    ),
    ("rca.category", "鱼骨图类别", "Fishbone category"),
    ("rca.statement", "因素描述", "Causal statement"),
    ("rca.whys", "五问（为什么）", "Why-chain"),
    (
        "rca.whys_hint",
        "每行一个“为什么”的回答，按顺序。",
        "One answer to “why?” per line, in order.",
    ),
    ("rca.add_factor", "添加因素", "Add the factor"),
    ("rca.root_cause", "根本原因", "root cause"),
    ("rca.root_causes", "根本原因", "Root causes"),
    (
        "rca.confirm_hint",
        "勾选确认为根本原因的因素",
        "Tick the factors confirmed as root causes",
    ),
    (
        "rca.confirm_root_causes",
        "确认根本原因",
        "Confirm root causes",
    ),
    ("rca.actions", "改进措施", "Actions"),
    ("rca.what", "措施", "Action"),
    ("rca.strength", "措施强度", "Strength"),
    (
        "rca.strength_hint",
        "强：不依赖记忆和警觉的设计或强制功能；中：核查表、冗余、信息系统改进；弱：培训、制度、提醒。",
        "Stronger: design or forcing functions that do not rely on memory; intermediate: checklists, redundancy, software; weaker: training, policies, warnings.",
    ),
    ("rca.owner_role", "负责岗位", "Owner (role)"),
    ("rca.measure", "效果评价指标", "How the effect is measured"),
    ("rca.completed", "完成", "Completed"),
    ("rca.plan_h", "制定改进措施", "Plan an action"),
    ("rca.plan_submit", "添加措施", "Add the action"),
    ("rca.complete_h", "完成措施", "Complete an action"),
    ("rca.completed_at", "完成时间", "Completed at"),
    ("rca.evidence", "完成证据", "Evidence"),
    ("rca.effect", "实际效果（可选）", "Effect (optional)"),
    ("rca.complete_submit", "标记为完成", "Mark completed"),
    ("rca.close_h", "结案", "Close the case"),
    (
        "rca.close_hint",
        "结案需要至少一个根本原因和一项措施，或写明原因。经验教训会通过回执码告知上报人。",
        "Closing needs a root cause and an action, or a reason why not. The reporters read the lessons through their receipts.",
    ),
    ("rca.lessons", "经验教训", "Lessons learned"),
    (
        "rca.reason_no_action",
        "无根本原因或措施的理由（可选）",
        "Why there is no root cause or action (optional)",
    ),
    ("rca.close_submit", "结案", "Close"),
    ("fishbone.people", "人员", "People"),
    ("fishbone.equipment", "设备", "Equipment"),
    ("fishbone.materials", "物料/药品", "Materials"),
    ("fishbone.methods", "方法/流程", "Methods"),
    ("fishbone.environment", "环境", "Environment"),
    ("fishbone.measurement", "测量/监测", "Measurement"),
    ("fishbone.management", "管理", "Management"),
    ("strength.stronger", "强", "Stronger"),
    ("strength.intermediate", "中", "Intermediate"),
    ("strength.weaker", "弱", "Weaker"),
    ("deaths.h1", "死亡病例讨论", "Death-case reviews"),
    (
        "deaths.rules_hint",
        "规则：死亡后 7 日内讨论；尸检病例在报告后 7 日内再讨论；低风险组死亡须在 7 日内由医院或质控中心讨论。",
        "Rules: a review within 7 days of death; for an autopsy, a review within 7 days of its report; a low-risk death reviewed at hospital or QC-centre level within 7 days.",
    ),
    ("deaths.month", "死亡月份", "Month of death"),
    (
        "deaths.none",
        "没有符合条件的死亡病例。",
        "No deaths match.",
    ),
    ("deaths.died_at", "死亡时间", "Died"),
    ("deaths.admitted_at", "入院时间", "Admitted"),
    ("deaths.age_band", "年龄段", "Age band"),
    (
        "deaths.diagnosis",
        "主要诊断（ICD-10）",
        "Principal diagnosis (ICD-10)",
    ),
    ("deaths.flags", "标记", "Flags"),
    ("deaths.low_risk", "低风险组", "Low-risk group"),
    ("deaths.autopsy", "尸检", "Autopsy"),
    ("deaths.rules", "规则", "Rules"),
    ("deaths.rule", "规则", "Rule"),
    ("deaths.met_h", "是否达到", "Met"),
    ("deaths.met", "已达到", "met"),
    ("deaths.unmet", "未达到", "UNMET"),
    ("deaths.pending", "待完成", "pending"),
    ("deaths.state.open", "进行中", "Open"),
    ("deaths.state.overdue", "逾期", "Overdue"),
    ("deaths.state.closed", "已结束", "Closed"),
    ("deaths.record_h", "登记死亡病例", "Record a death"),
    ("deaths.record_submit", "登记", "Record"),
    ("deaths.trail_h1", "死亡病例讨论记录", "Death-case trail"),
    ("deaths.preventability", "可避免性", "Preventability"),
    ("deaths.steps", "过程", "Steps"),
    ("deaths.step", "环节", "Step"),
    ("deaths.days_after", "死亡后天数", "Days after death"),
    ("deaths.detail", "内容", "Detail"),
    ("deaths.review_h", "记录讨论", "Record a review"),
    ("deaths.held_at", "讨论时间", "Held at"),
    ("deaths.level", "层级", "Level"),
    ("deaths.attendees", "参加人员（岗位）", "Attendees (roles)"),
    ("deaths.defects", "发现的缺陷", "Defects found"),
    ("deaths.phase", "环节", "Phase"),
    ("deaths.defect_text", "缺陷描述", "Defect"),
    (
        "deaths.linked_rca",
        "关联的根因分析（可选）",
        "Linked root-cause analysis (optional)",
    ),
    ("deaths.review_submit", "保存讨论", "Save the review"),
    ("deaths.autopsy_h", "尸检报告", "Autopsy report"),
    ("deaths.reported_at", "报告时间", "Reported at"),
    ("deaths.findings", "主要发现", "Findings"),
    (
        "deaths.autopsy_submit",
        "保存尸检报告",
        "Save the autopsy report",
    ),
    ("deaths.close_h", "结束", "Close the trail"),
    (
        "deaths.close_hint",
        "每条规则都有讨论后才能结束。",
        "Every rule needs its review before the trail closes.",
    ),
    ("deaths.close_submit", "结束讨论记录", "Close the trail"),
    (
        "rule.first_review",
        "7 日内首次讨论",
        "First review within 7 days",
    ),
    (
        "rule.autopsy_review",
        "尸检报告后 7 日内讨论",
        "Review within 7 days of the autopsy report",
    ),
    (
        "rule.low_risk_hospital_review",
        "低风险死亡：院级讨论",
        "Low-risk death: hospital-level review",
    ),
    ("level.department", "科室", "Department"),
    ("level.hospital", "医院", "Hospital"),
    ("level.qc_centre", "质控中心", "QC centre"),
    ("prev.unavoidable", "不可避免", "Unavoidable"),
    (
        "prev.possibly_avoidable",
        "可能可避免",
        "Possibly avoidable",
    ),
    ("prev.avoidable", "可避免", "Avoidable"),
    ("phase.diagnosis", "诊断", "Diagnosis"),
    ("phase.treatment", "治疗", "Treatment"),
    ("phase.rescue", "抢救", "Rescue"),
    ("phase.nursing", "护理", "Nursing"),
    ("phase.communication", "沟通", "Communication"),
    ("phase.system", "制度/系统", "System"),
    ("step.recorded", "死亡", "Death"),
    ("step.review", "讨论", "Review"),
    ("step.autopsy_reported", "尸检报告", "Autopsy report"),
    ("step.closed", "结束", "Closed"),
    (
        "meeting.h1",
        "月度分析与调度会资料",
        "Monthly analysis and dispatch pack",
    ),
    (
        "meeting.print_hint",
        "用浏览器打印即可得到 A4 版本。",
        "Print from the browser for an A4 copy.",
    ),
    (
        "dash.pareto",
        "帕累托图（事件类别）",
        "Pareto chart (report categories)",
    ),
    (
        "dash.pareto_note",
        "柱：各类别报告数，从多到少；折线：累计百分比（右轴）；虚线：80%。被抑制的小数值合并为最后一根柱。",
        "Bars: reports per category, largest first; line: cumulative percentage (right axis); dashed: 80%. Suppressed cells are one last bar.",
    ),
    ("dash.cumulative", "累计 %", "Cumulative %"),
    ("dash.suppressed_cells", "已抑制的类别", "suppressed cells"),
    (
        "dash.no_reports",
        "本期没有报告。",
        "No reports in this period.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_translated() {
        let mut keys: Vec<_> = STRINGS.iter().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "duplicate key");
        for (k, zh, en) in STRINGS {
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
        assert_eq!(Lang::En.t("signout"), "Sign out");
        assert_eq!(Lang::Zh.t("signout"), "退出登录");
    }

    #[test]
    fn every_category_grade_and_status_has_a_name() {
        use lantern_domain::vocab::{Category, Grade};
        for c in Category::ALL {
            assert_ne!(Lang::En.t(&format!("cat.{}", c.as_str())), "?", "{c:?}");
        }
        for g in Grade::ALL {
            assert_ne!(Lang::Zh.t(&format!("grade.{}", g.as_str())), "?");
        }
        for s in ["received", "triaged", "under_analysis", "closed"] {
            assert_ne!(Lang::Zh.t(&format!("status.{s}")), "?");
        }
    }

    #[test]
    fn every_rca_and_death_vocabulary_has_a_name() {
        use crate::pages::rca::{FISHBONE, STRENGTHS, code};
        for f in FISHBONE {
            assert_ne!(Lang::En.t(&format!("fishbone.{}", code(&f))), "?");
        }
        for s in STRENGTHS {
            assert_ne!(Lang::Zh.t(&format!("strength.{}", code(&s))), "?");
        }
        for k in [
            "rule.first_review",
            "rule.autopsy_review",
            "rule.low_risk_hospital_review",
            "level.department",
            "level.hospital",
            "level.qc_centre",
            "prev.unavoidable",
            "prev.possibly_avoidable",
            "prev.avoidable",
            "phase.diagnosis",
            "phase.treatment",
            "phase.rescue",
            "phase.nursing",
            "phase.communication",
            "phase.system",
            "step.recorded",
            "step.review",
            "step.autopsy_reported",
            "step.closed",
            "deaths.state.open",
            "deaths.state.overdue",
            "deaths.state.closed",
        ] {
            assert_ne!(Lang::Zh.t(k), "?", "{k}");
        }
    }

    /// Every literal key a page asks for is in the table, in both languages.
    #[test]
    fn every_key_the_pages_use_is_in_the_table() {
        let sources = [
            include_str!("layout.rs"),
            include_str!("pages/critical.rs"),
            include_str!("pages/dashboard.rs"),
            include_str!("pages/deaths.rs"),
            include_str!("pages/meeting.rs"),
            include_str!("pages/rca.rs"),
            include_str!("pages/reports.rs"),
            include_str!("pages/signin.rs"),
        ];
        let mut checked = 0;
        for source in sources {
            for piece in source.split("lang.t(\"").skip(1) {
                let key = piece.split('"').next().unwrap_or_default();
                assert_ne!(Lang::Zh.t(key), "?", "{key} is missing");
                checked += 1;
            }
        }
        assert!(checked > 150, "{checked} keys found");
    }

    #[test]
    fn the_query_wins() {
        assert_eq!(lang_in_query(Some("a=1&lang=en")), Some(Lang::En));
        assert_eq!(lang_in_query(Some("lang=xx")), None);
        assert_eq!(lang_in_query(None), None);
    }
}
