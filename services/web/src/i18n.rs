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
        "超出控制限的点以空心方块和“!”标出。",
        "Points outside the limits are drawn as hollow squares marked \u{201c}!\u{201d}.",
    ),
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
        use lantern_intake::domain::{Category, Grade};
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
    fn the_query_wins() {
        assert_eq!(lang_in_query(Some("a=1&lang=en")), Some(Lang::En));
        assert_eq!(lang_in_query(Some("lang=xx")), None);
        assert_eq!(lang_in_query(None), None);
    }
}
