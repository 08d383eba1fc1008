//! Every string the staff pages show, in zh-CN (the default) and English.
//! One table, so a translator edits one file; each string is a [`Key`]
//! variant, so a page that asks for a string the table lacks does not
//! compile. Strings named by a code (a grade, a category, a rule …) are
//! functions of the vocabulary ([`Lang::grade`], [`Lang::category`] …),
//! exhaustive over it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::cookie::CookieJar;
use lantern_domain::events::death::{Phase, Preventability, ReviewLevel};
use lantern_domain::events::followup::{ActionKind, Outcome};
use lantern_domain::targets::{Direction, Indicator, ScopeKind, Unit};
use lantern_domain::vocab::{Category, Grade, Harm, Role};
use lantern_intake::critical::Stage;
use lantern_intake::reports::Status;
use lantern_meeting::followup::State as FollowUpState;
use lantern_mortality::death::State as TrailState;
use lantern_rca::case::CaseState;
use lantern_rca::vocab::{Fishbone, Strength};

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

    /// The string for `key`.
    pub fn t(self, key: Key) -> &'static str {
        let (zh, en) = key.text();
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// A role's name.
    pub fn role(self, role: Role) -> &'static str {
        self.t(match role {
            Role::SafetyOfficer => Key::RoleSafetyOfficer,
            Role::QcCentre => Key::RoleQcCentre,
            Role::Admin => Key::RoleAdmin,
            Role::Lis => Key::RoleLis,
            Role::His => Key::RoleHis,
        })
    }

    /// A report's state.
    pub fn status(self, status: Status) -> &'static str {
        self.t(match status {
            Status::Received => Key::StatusReceived,
            Status::Triaged => Key::StatusTriaged,
            Status::UnderAnalysis => Key::StatusUnderAnalysis,
            Status::Closed => Key::StatusClosed,
        })
    }

    /// A grade with its name (`I 级 警告事件（警讯事件）`).
    pub fn grade(self, grade: Grade) -> &'static str {
        self.t(match grade {
            Grade::I => Key::GradeI,
            Grade::II => Key::GradeII,
            Grade::III => Key::GradeIII,
            Grade::IV => Key::GradeIV,
        })
    }

    /// A harm on the AHRQ scale.
    pub fn harm(self, harm: Harm) -> &'static str {
        self.t(match harm {
            Harm::Death => Key::HarmDeath,
            Harm::Severe => Key::HarmSevere,
            Harm::Moderate => Key::HarmModerate,
            Harm::Mild => Key::HarmMild,
            Harm::None => Key::HarmNone,
            Harm::Unknown => Key::HarmUnknown,
            Harm::NotApplicable => Key::HarmNotApplicable,
        })
    }

    /// An event category.
    pub fn category(self, category: Category) -> &'static str {
        self.t(match category {
            Category::Medication => Key::CatMedication,
            Category::Fall => Key::CatFall,
            Category::Surgery => Key::CatSurgery,
            Category::Transfusion => Key::CatTransfusion,
            Category::Procedure => Key::CatProcedure,
            Category::Tube => Key::CatTube,
            Category::UnexpectedArrest => Key::CatUnexpectedArrest,
            Category::Injury => Key::CatInjury,
            Category::PublicAccident => Key::CatPublicAccident,
            Category::Diet => Key::CatDiet,
            Category::Anesthesia => Key::CatAnesthesia,
            Category::LabSpecimen => Key::CatLabSpecimen,
            Category::PressureInjury => Key::CatPressureInjury,
            Category::OccupationalExposure => Key::CatOccupationalExposure,
            Category::Device => Key::CatDevice,
            Category::Infection => Key::CatInfection,
            Category::Identification => Key::CatIdentification,
            Category::Information => Key::CatInformation,
            Category::Security => Key::CatSecurity,
            Category::Other => Key::CatOther,
            Category::Perinatal => Key::CatPerinatal,
            Category::Vte => Key::CatVte,
            Category::Elopement => Key::CatElopement,
            Category::CriticalValueProcess => Key::CatCriticalValueProcess,
        })
    }

    /// Where a critical value's loop waits.
    pub fn stage(self, stage: Stage) -> &'static str {
        self.t(match stage {
            Stage::AwaitingNotification => Key::StageAwaitingNotification,
            Stage::AwaitingHandling => Key::StageAwaitingHandling,
        })
    }

    /// A bone of the fishbone.
    pub fn fishbone(self, bone: Fishbone) -> &'static str {
        self.t(match bone {
            Fishbone::People => Key::FishbonePeople,
            Fishbone::Equipment => Key::FishboneEquipment,
            Fishbone::Materials => Key::FishboneMaterials,
            Fishbone::Methods => Key::FishboneMethods,
            Fishbone::Environment => Key::FishboneEnvironment,
            Fishbone::Measurement => Key::FishboneMeasurement,
            Fishbone::Management => Key::FishboneManagement,
        })
    }

    /// An action's RCA² strength.
    pub fn strength(self, strength: Strength) -> &'static str {
        self.t(match strength {
            Strength::Stronger => Key::StrengthStronger,
            Strength::Intermediate => Key::StrengthIntermediate,
            Strength::Weaker => Key::StrengthWeaker,
        })
    }

    /// A case file's state.
    pub fn case_state(self, state: CaseState) -> &'static str {
        self.t(match state {
            CaseState::Open => Key::RcaStateOpen,
            CaseState::Closed => Key::RcaStateClosed,
        })
    }

    /// A death trail's state.
    pub fn trail_state(self, state: TrailState) -> &'static str {
        self.t(match state {
            TrailState::Open => Key::DeathsStateOpen,
            TrailState::Overdue => Key::DeathsStateOverdue,
            TrailState::Closed => Key::DeathsStateClosed,
        })
    }

    /// What a QC action asks.
    pub fn action_kind(self, kind: ActionKind) -> &'static str {
        self.t(match kind {
            ActionKind::Guidance => Key::KindGuidance,
            ActionKind::Rectification => Key::KindRectification,
            ActionKind::FollowUp => Key::KindFollowUp,
        })
    }

    /// A hospital level's name (`secondary` → 二级).
    pub fn level_name(self, code: &str) -> &'static str {
        match (code, self) {
            ("secondary", Lang::Zh) => "二级",
            ("secondary", Lang::En) => "Secondary",
            ("tertiary", Lang::Zh) => "三级",
            ("tertiary", Lang::En) => "Tertiary",
            _ => "—",
        }
    }

    /// Where a QC action stands.
    pub fn followup_state(self, state: FollowUpState) -> &'static str {
        self.t(match state {
            FollowUpState::Open => Key::FuOpen,
            FollowUpState::Answered => Key::FuAnswered,
            FollowUpState::Overdue => Key::FuOverdue,
            FollowUpState::Closed => Key::FuClosed,
        })
    }

    /// How a QC action was closed.
    pub fn outcome(self, outcome: Outcome) -> &'static str {
        self.t(match outcome {
            Outcome::Resolved => Key::OutcomeResolved,
            Outcome::Unresolved => Key::OutcomeUnresolved,
        })
    }

    /// Who held a death-case review.
    pub fn level(self, level: ReviewLevel) -> &'static str {
        self.t(match level {
            ReviewLevel::Department => Key::LevelDepartment,
            ReviewLevel::Hospital => Key::LevelHospital,
            ReviewLevel::QcCentre => Key::LevelQcCentre,
        })
    }

    /// Whether a death was preventable.
    pub fn preventability(self, p: Preventability) -> &'static str {
        self.t(match p {
            Preventability::Unavoidable => Key::PrevUnavoidable,
            Preventability::PossiblyAvoidable => Key::PrevPossiblyAvoidable,
            Preventability::Avoidable => Key::PrevAvoidable,
        })
    }

    /// The phase of care a defect was found in.
    pub fn phase(self, phase: Phase) -> &'static str {
        self.t(match phase {
            Phase::Diagnosis => Key::PhaseDiagnosis,
            Phase::Treatment => Key::PhaseTreatment,
            Phase::Rescue => Key::PhaseRescue,
            Phase::Nursing => Key::PhaseNursing,
            Phase::Communication => Key::PhaseCommunication,
            Phase::System => Key::PhaseSystem,
        })
    }

    /// An indicator a target is set for.
    pub fn indicator(self, indicator: Indicator) -> &'static str {
        self.t(match indicator {
            Indicator::ReportingRate => Key::IndReportingRate,
            Indicator::SeriousShare => Key::IndSeriousShare,
            Indicator::RcaClosedIn45Days => Key::IndRcaClosedIn45Days,
            Indicator::DeathReviewOnTime => Key::IndDeathReviewOnTime,
            Indicator::LowRiskDeathsReviewed => Key::IndLowRiskDeathsReviewed,
            Indicator::Cl14NotificationRate => Key::IndCl14NotificationRate,
            Indicator::Cl15NotificationTimeliness => Key::IndCl15NotificationTimeliness,
            Indicator::HandlingTimeliness => Key::IndHandlingTimeliness,
        })
    }

    /// What an indicator's value counts.
    pub fn unit(self, unit: Unit) -> &'static str {
        self.t(match unit {
            Unit::Per100Discharges => Key::UnitPer100Discharges,
            Unit::Percent => Key::UnitPercent,
        })
    }

    /// Which way a target is met.
    pub fn target_direction(self, direction: Direction) -> &'static str {
        self.t(match direction {
            Direction::Higher => Key::DirHigher,
            Direction::Lower => Key::DirLower,
        })
    }

    /// Whom a target is set for.
    pub fn scope_kind(self, scope: ScopeKind) -> &'static str {
        self.t(match scope {
            ScopeKind::National => Key::ScopeNational,
            ScopeKind::Region => Key::ScopeRegion,
            ScopeKind::Hospital => Key::ScopeHospital,
        })
    }

    /// A death-review rule by its code (`RuleState::rule`); an unknown
    /// code is shown as it is.
    pub fn rule(self, code: &'static str) -> &'static str {
        match code {
            "first_review" => self.t(Key::RuleFirstReview),
            "autopsy_review" => self.t(Key::RuleAutopsyReview),
            "low_risk_hospital_review" => self.t(Key::RuleLowRiskHospitalReview),
            other => other,
        }
    }

    /// A step of a death trail by its type (`TrailStep::type_`); an
    /// unknown one is shown as it is.
    pub fn trail_step(self, step: &'static str) -> &'static str {
        match step {
            "recorded" => self.t(Key::StepRecorded),
            "review" => self.t(Key::StepReview),
            "autopsy_reported" => self.t(Key::StepAutopsyReported),
            "closed" => self.t(Key::StepClosed),
            other => other,
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
        let remembered = || {
            CookieJar::from_headers(&parts.headers)
                .get(LANG_COOKIE)
                .and_then(|c| Lang::parse(c.value()))
        };
        Ok(lang_in_query(parts.uri.query())
            .or_else(remembered)
            .unwrap_or(Lang::Zh))
    }
}

/// Declares [`Key`], one variant per string, with its 中文 and English text
/// (the English is the variant's doc).
macro_rules! strings {
    ($($key:ident => $zh:literal, $en:literal;)+) => {
        /// A string the staff pages show.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Key {
            $(#[doc = $en] $key,)+
        }

        impl Key {
            /// Every key, in the table's order.
            pub const ALL: &'static [Key] = &[$(Key::$key),+];

            /// (中文, English).
            fn text(self) -> (&'static str, &'static str) {
                match self {
                    $(Key::$key => ($zh, $en),)+
                }
            }
        }
    };
}

strings! {
    App => "Lantern 医疗安全", "Lantern patient safety";
    Switch => "English", "中文";
    Skip => "跳到主要内容", "Skip to main content";
    NavReports => "报告收件箱", "Report inbox";
    NavCritical => "危急值工作列表", "Critical-value worklist";
    NavDashboard => "质控看板", "QC dashboard";
    SigninH1 => "工作人员登录", "Staff sign-in";
    SigninToken => "访问令牌", "Access token";
    SigninHint => "粘贴管理员发给您的令牌。令牌只用于本次验证，不会显示在页面上或保存在浏览器中。", "Paste the token your administrator issued. It is used only to sign you in; it is never shown on a page or kept in the browser.";
    SigninSubmit => "登录", "Sign in";
    SigninBad => "令牌无效或已被撤销。", "The token is not valid or was revoked.";
    Signout => "退出登录", "Sign out";
    SignedInAs => "当前身份", "Signed in as";
    RoleSafetyOfficer => "质量管理部门", "Safety officer";
    RoleQcCentre => "质控中心", "QC centre";
    RoleAdmin => "管理员", "Administrator";
    RoleLis => "检验/影像系统", "Lab/imaging system";
    RoleHis => "医院信息系统", "Hospital information system";
    ReportsH1 => "报告收件箱", "Report inbox";
    Filter => "筛选", "Filter";
    From => "起始月份", "From month";
    To => "截止月份", "To month";
    Any => "全部", "Any";
    Grade => "分级", "Grade";
    Category => "类别", "Category";
    Department => "科室", "Department";
    Hospital => "医院", "Hospital";
    State => "状态", "State";
    Harm => "伤害程度", "Harm";
    OccurredAt => "发生时间", "Occurred";
    FiledOn => "上报日期", "Filed on";
    Location => "地点", "Location";
    Description => "经过（已去除个人信息）", "What happened (personal data removed)";
    ImmediateActions => "即时处置", "Immediate actions";
    NoneFound => "没有符合条件的报告。", "No reports match.";
    Open => "查看", "Open";
    Count => "条", "shown";
    StatusReceived => "已接收", "Received";
    StatusTriaged => "已核实", "Triaged";
    StatusUnderAnalysis => "分析中", "Under analysis";
    StatusClosed => "已结案", "Closed";
    ReportH1 => "不良事件报告", "Adverse-event report";
    ReportAsFiled => "上报时", "As filed";
    ReportTriage => "核实", "Triage";
    ReportTriagedAs => "核实结果", "Triaged as";
    ReportDuplicateOf => "重复报告（填写原报告编号）", "Duplicate of (report id)";
    ReportNote => "备注", "Note";
    ReportTriageSubmit => "保存核实", "Save triage";
    ReportFeedback => "给上报人的反馈", "Feedback for the reporter";
    ReportFeedbackHint => "上报人通过回执码看到这段文字。请勿写入个人信息。", "The reporter reads this through their receipt code. Do not write personal data.";
    ReportFeedbackSubmit => "发布反馈", "Post feedback";
    ReportFollowUps => "上报人补充", "Reporter's follow-ups";
    ReportSaved => "已保存。", "Saved.";
    Refused => "未保存：", "Not saved:";
    CriticalH1 => "危急值工作列表", "Critical-value worklist";
    CriticalNone => "没有未闭环的危急值。", "No open critical values.";
    CriticalItem => "项目", "Item";
    CriticalValue => "结果", "Value";
    CriticalDetectedAt => "发现时间", "Detected";
    CriticalStage => "环节", "Stage";
    CriticalWaited => "已等待（分钟）", "Waited (min)";
    CriticalLimit => "时限（分钟）", "Limit (min)";
    CriticalOverdue => "超时", "OVERDUE";
    CriticalInTime => "未超时", "in time";
    StageAwaitingNotification => "待通报", "Awaiting notification";
    StageAwaitingHandling => "待处置", "Awaiting handling";
    DashH1 => "质控看板", "QC dashboard";
    DashPeriod => "统计期间", "Period";
    DashShow => "显示", "Show";
    DashHospitals => "各医院", "Hospitals";
    DashRegions => "按地区（逐级汇总）", "By region (rolled up)";
    DashLevels => "按医院级别", "By hospital level";
    DashThisMonth => "本月", "This month";
    DashQuarter => "本季度", "This quarter";
    DashYearToDate => "年初至今", "Year to date";
    DashRolling12 => "近12个月", "Rolling 12 months";
    DashDepartments => "各科室", "Departments";
    DashReports => "报告数", "Reports";
    DashDischarges => "出院人次", "Discharges";
    DashRate => "每百出院人次报告数", "Reports per 100 discharges";
    DashTarget => "目标（达到即达标）", "Target (met when reached)";
    DashEventRate => "按发生科室的事件率（每百出院人次）", "Event rate by occurrence department (per 100 discharges)";
    DashNotJudged => "不评判（目标按医院评判）", "not judged (the target is judged per hospital)";
    DashIncomplete => "不完整：有出院数据的月份", "incomplete: months with a census";
    DashWithoutCensus => "无出院数据月份的报告", "reports in months without a census";
    DashMet => "达标", "met";
    DashBelow => "未达标", "below";
    DashNoDenominator => "无出院数据", "no discharges";
    DashCvNotify => "危急值通报及时率 %", "CV notification timeliness %";
    DashCvHandle => "危急值处置及时率 %", "CV handling timeliness %";
    DashByGrade => "按分级", "By grade";
    DashSuppressed => "已抑制", "suppressed";
    DashSuppressedNote => "“已抑制”：1 至 k−1 的小数值不向质控中心显示，以免识别个人。", "\u{201c}suppressed\u{201d}: counts from 1 to k−1 are hidden from QC centres so nobody can be singled out.";
    DashCsv => "导出 CSV", "Export CSV";
    DashUchart => "u 控制图（每月每百出院人次报告数）", "u-chart (reports per 100 discharges, monthly)";
    DashFunnel => "漏斗图（各医院与全区比较）", "Funnel plot (hospitals against the region)";
    DashFunnelNote => "虚线：95% 控制限；实线：99.8% 控制限；横线：全区率。点越靠右，出院人次越多。", "Dashed: 95% limits; solid: 99.8% limits; horizontal: regional rate. Further right means more discharges.";
    DashOutside => "报告率越高越好：低于下限的点（可能漏报）以空心方块和“!”标出；高于上限的点以空心圆标出，不作为问题；点划线为目标值。", "A higher reporting rate is better: points below the lower limit (possible under-reporting) are hollow squares marked \u{201c}!\u{201d}; points above the upper limit are hollow circles, not a fault; the dash-dot line is the target.";
    DashSideBelow => "低于下限：可能漏报", "below the lower limit: possible under-reporting";
    DashSideAbove => "高于上限：报告积极", "above the upper limit: active reporting";
    DashSideWithin => "在控制限内", "within the limits";
    DashTargetLine => "目标", "target";
    DashNoData => "本期没有出院数据，无法作图。", "No discharges in this period: nothing to chart.";
    DashCentre => "中心线", "centre line";
    DashMonth => "月份", "Month";
    ErrorH1 => "出错了", "Something went wrong";
    GradeI => "I 级 警告事件（警讯事件）", "I sentinel event";
    GradeII => "II 级 不良后果事件", "II adverse outcome";
    GradeIII => "III 级 未造成后果事件", "III no-harm event";
    GradeIV => "IV 级 隐患事件 / 未遂事件（临界差错）", "IV near miss / latent hazard";
    HarmDeath => "死亡", "death";
    HarmSevere => "重度", "severe";
    HarmModerate => "中度", "moderate";
    HarmMild => "轻度", "mild";
    HarmNone => "无伤害", "none";
    HarmUnknown => "未知", "unknown";
    HarmNotApplicable => "不适用（未到达患者）", "not applicable (did not reach the patient)";
    TreatmentNeeded => "是否需要额外治疗", "Treatment needed";
    TreatmentYes => "需要（额外治疗、监测或延长住院）", "yes (treatment, monitoring or a longer stay)";
    TreatmentNo => "不需要", "no";
    GradeProvisional => "分级待核定（伤害程度未知）", "grade provisional (harm unknown)";
    CatMedication => "药物", "Medication";
    CatFall => "跌倒/坠床", "Fall";
    CatSurgery => "手术", "Surgery";
    CatTransfusion => "输血", "Transfusion";
    CatProcedure => "医疗处置", "Procedure";
    CatTube => "管路", "Tube / line";
    CatUnexpectedArrest => "院内不预期心跳呼吸停止", "Unexpected arrest";
    CatInjury => "伤害（自伤/自杀、伤人）", "Injury (self-harm/suicide, assault)";
    CatPublicAccident => "公共意外", "Public accident";
    CatDiet => "饮食", "Diet";
    CatAnesthesia => "麻醉", "Anaesthesia";
    CatLabSpecimen => "检查/检验/病理标本", "Lab / specimen";
    CatPressureInjury => "压力性损伤", "Pressure injury";
    CatOccupationalExposure => "职业暴露", "Occupational exposure";
    CatDevice => "医疗器械", "Device";
    CatInfection => "院内感染", "Infection";
    CatIdentification => "身份识别", "Identification";
    CatInformation => "信息系统", "Information systems";
    CatSecurity => "治安", "Security";
    CatPerinatal => "围产期", "Perinatal (maternal, neonatal)";
    CatVte => "静脉血栓栓塞症", "VTE";
    CatElopement => "走失", "Elopement";
    CatCriticalValueProcess => "危急值报告缺陷", "Critical-value reporting failure";
    CatOther => "其他", "Other";
    Back => "返回", "Back";
    NavRca => "根因分析", "Root-cause analyses";
    NavDeaths => "死亡病例讨论", "Death reviews";
    NavMeeting => "月度调度会资料", "Monthly pack";
    NavFollowUps => "督办与通知", "Follow-ups";
    NavReportsPeriodic => "季报与年报", "Quarterly and annual reports";
    ReportPeriod => "期间（年或季度，如 2026-Q3）", "Period (a year, or a quarter such as 2026-Q3)";
    ReportXlsx => "下载 Excel", "Download Excel";
    FollowUpsH1 => "督办事项与通知", "Follow-up items and notices";
    FollowUpsHint => "质控中心向医院发出的指导意见、整改通知和调度会督办事项；医院回复，质控中心办结或转入下次调度会。", "Guidance, rectification notices and meeting follow-up items the QC centre sends a hospital; the hospital answers, and the QC centre closes them or carries them to the next meeting.";
    FollowUpsNone => "暂无事项。", "No items.";
    FollowUpH1 => "督办事项", "Follow-up item";
    FollowUpKind => "类型", "Kind";
    FollowUpTitle => "事项", "Title";
    FollowUpText => "要求", "What is asked";
    FollowUpDue => "回复期限", "Due";
    FollowUpMeeting => "调度会（月份）", "Meeting (month)";
    FollowUpMeetings => "所在调度会", "On the agenda of";
    FollowUpOpenH => "发出新事项", "Send a new item";
    FollowUpOpenSubmit => "发出", "Send";
    FollowUpAnswers => "医院回复", "The hospital's answers";
    FollowUpAnswerH => "回复", "Answer";
    FollowUpAnswerSubmit => "提交回复", "Send the answer";
    FollowUpCarryH => "转入下次调度会", "Carry to a later meeting";
    FollowUpCarryTo => "转入月份", "To the meeting of";
    FollowUpNewDue => "新的期限（可不填）", "New due date (optional)";
    FollowUpCarrySubmit => "转入", "Carry";
    FollowUpCloseH => "办结", "Close";
    FollowUpOutcome => "结果", "Outcome";
    FollowUpNote => "说明（可不填）", "Note (optional)";
    FollowUpCloseSubmit => "办结", "Close it";
    FollowUpClosed => "已办结", "Closed";
    KindGuidance => "指导意见", "Guidance";
    KindRectification => "整改通知", "Rectification notice";
    KindFollowUp => "督办事项", "Follow-up item";
    FuOpen => "待回复", "Open";
    FuAnswered => "已回复", "Answered";
    FuOverdue => "逾期", "Overdue";
    FuClosed => "已办结", "Closed";
    OutcomeResolved => "已落实", "Resolved";
    OutcomeUnresolved => "未落实", "Unresolved";
    RcaH1 => "根因分析", "Root-cause analyses";
    RcaCaseH1 => "根因分析案例", "RCA case file";
    RcaOverdueH => "逾期事项", "Overdue";
    RcaNothingOverdue => "没有逾期事项。", "Nothing is overdue.";
    RcaQueueOverdue => "I/II 级事件上报超过 72 小时仍未开展根因分析", "Grade I/II reports without an analysis after 72 hours";
    RcaCasesOverdue => "逾期未结案的根因分析", "Cases past their due date";
    RcaActionsOverdue => "逾期未完成的改进措施", "Overdue actions";
    RcaOpenH => "开展根因分析", "Open a root-cause analysis";
    RcaQueueHint => "勾选一份或多份报告一起分析。列表为尚未开展根因分析的 I/II 级事件（按核实后的分级）。", "Tick one or more reports to analyse together. Listed: grade I/II reports (as triaged) with no analysis yet.";
    RcaQueueEmpty => "没有待分析的 I/II 级事件。", "No grade I/II reports are waiting for an analysis.";
    RcaReports => "分析的报告", "Reports analysed";
    RcaTitle => "标题", "Title";
    RcaTeamRoles => "小组成员（岗位，不写姓名）", "Team (roles, never names)";
    RcaTeamHint => "每行一个岗位，或用逗号分隔。", "One role per line, or separated by commas.";
    RcaDue => "截止日期", "Due";
    RcaDueHint => "可不填：默认为 45 天后。", "Optional: 45 days from today by default.";
    RcaOpenSubmit => "开展分析", "Open the analysis";
    RcaCasesH => "本院根因分析", "The hospital's analyses";
    RcaNoCases => "没有符合条件的根因分析。", "No analyses match.";
    RcaStateOpen => "进行中", "Open";
    RcaStateClosed => "已结案", "Closed";
    RcaOpenedOn => "开始日期", "Opened";
    RcaClosedOn => "结案日期", "Closed on";
    RcaTimeline => "时间线", "Timeline";
    RcaNoneYet => "暂无。", "None yet.";
    RcaAt => "时间", "When";
    RcaWhatHappened => "经过", "What happened";
    RcaAddTimeline => "添加时间线条目", "Add to the timeline";
    RcaFactors => "原因因素（鱼骨图）", "Causal factors (fishbone)";
    RcaFactorsHint => "按人、机、料、法、环、测、管理分类。", "By people, equipment, materials, methods, environment, measurement, management.";
    RcaCategory => "鱼骨图类别", "Fishbone category";
    RcaStatement => "因素描述", "Causal statement";
    RcaWhys => "五问（为什么）", "Why-chain";
    RcaWhysHint => "每行一个“为什么”的回答，按顺序。", "One answer to “why?” per line, in order.";
    RcaAddFactor => "添加因素", "Add the factor";
    RcaRootCause => "根本原因", "root cause";
    RcaRootCauses => "根本原因", "Root causes";
    RcaConfirmHint => "勾选确认为根本原因的因素", "Tick the factors confirmed as root causes";
    RcaConfirmRootCauses => "确认根本原因", "Confirm root causes";
    RcaActions => "改进措施", "Actions";
    RcaWhat => "措施", "Action";
    RcaStrength => "措施强度", "Strength";
    RcaStrengthHint => "强：不依赖记忆和警觉的设计或强制功能；中：核查表、冗余、信息系统改进；弱：培训、制度、提醒。", "Stronger: design or forcing functions that do not rely on memory; intermediate: checklists, redundancy, software; weaker: training, policies, warnings.";
    RcaOwnerRole => "负责岗位", "Owner (role)";
    RcaMeasure => "效果评价指标", "How the effect is measured";
    RcaCompleted => "完成", "Completed";
    RcaPlanH => "制定改进措施", "Plan an action";
    RcaPlanSubmit => "添加措施", "Add the action";
    RcaCompleteH => "完成措施", "Complete an action";
    RcaCompletedAt => "完成时间", "Completed at";
    RcaEvidence => "完成证据", "Evidence";
    RcaEffect => "实际效果（可选）", "Effect (optional)";
    RcaCompleteSubmit => "标记为完成", "Mark completed";
    RcaCloseH => "结案", "Close the case";
    RcaCloseHint => "结案需要至少一个根本原因和一项措施，或写明原因。经验教训会通过回执码告知上报人。", "Closing needs a root cause and an action, or a reason why not. The reporters read the lessons through their receipts.";
    RcaLessons => "经验教训", "Lessons learned";
    RcaReasonNoAction => "无根本原因或措施的理由（可选）", "Why there is no root cause or action (optional)";
    RcaCloseSubmit => "结案", "Close";
    FishbonePeople => "人员", "People";
    FishboneEquipment => "设备", "Equipment";
    FishboneMaterials => "物料/药品", "Materials";
    FishboneMethods => "方法/流程", "Methods";
    FishboneEnvironment => "环境", "Environment";
    FishboneMeasurement => "测量/监测", "Measurement";
    FishboneManagement => "管理", "Management";
    StrengthStronger => "强", "Stronger";
    StrengthIntermediate => "中", "Intermediate";
    StrengthWeaker => "弱", "Weaker";
    DeathsH1 => "死亡病例讨论", "Death-case reviews";
    DeathsRulesHint => "规则：死亡后 7 日内讨论；尸检病例在报告后 7 日内再讨论；低风险组死亡须在 7 日内由医院或质控中心讨论。", "Rules: a review within 7 days of death; for an autopsy, a review within 7 days of its report; a low-risk death reviewed at hospital or QC-centre level within 7 days.";
    DeathsMonth => "死亡月份", "Month of death";
    DeathsNone => "没有符合条件的死亡病例。", "No deaths match.";
    DeathsDiedAt => "死亡时间", "Died";
    DeathsAdmittedAt => "入院时间", "Admitted";
    DeathsAgeBand => "年龄段", "Age band";
    DeathsDiagnosis => "主要诊断（ICD-10）", "Principal diagnosis (ICD-10)";
    DeathsFlags => "标记", "Flags";
    DeathsLowRisk => "低风险组", "Low-risk group";
    DeathsAutopsy => "尸检", "Autopsy";
    DeathsRules => "规则", "Rules";
    DeathsRule => "规则", "Rule";
    DeathsMetH => "是否达到", "Met";
    DeathsMet => "已达到", "met";
    DeathsUnmet => "未达到", "UNMET";
    DeathsPending => "待完成", "pending";
    DeathsStateOpen => "进行中", "Open";
    DeathsStateOverdue => "逾期", "Overdue";
    DeathsStateClosed => "已结束", "Closed";
    DeathsRecordH => "登记死亡病例", "Record a death";
    DeathsRecordSubmit => "登记", "Record";
    DeathsTrailH1 => "死亡病例讨论记录", "Death-case trail";
    DeathsPreventability => "可避免性", "Preventability";
    DeathsSteps => "过程", "Steps";
    DeathsStep => "环节", "Step";
    DeathsDaysAfter => "死亡后天数", "Days after death";
    DeathsDetail => "内容", "Detail";
    DeathsReviewH => "记录讨论", "Record a review";
    DeathsHeldAt => "讨论时间", "Held at";
    DeathsLevel => "层级", "Level";
    DeathsAttendees => "参加人员（岗位）", "Attendees (roles)";
    DeathsDefects => "发现的缺陷", "Defects found";
    DeathsPhase => "环节", "Phase";
    DeathsDefectText => "缺陷描述", "Defect";
    DeathsLinkedRca => "关联的根因分析（可选）", "Linked root-cause analysis (optional)";
    DeathsReviewSubmit => "保存讨论", "Save the review";
    DeathsAutopsyH => "尸检报告", "Autopsy report";
    DeathsReportedAt => "报告时间", "Reported at";
    DeathsFindings => "主要发现", "Findings";
    DeathsAutopsySubmit => "保存尸检报告", "Save the autopsy report";
    DeathsCloseH => "结束", "Close the trail";
    DeathsCloseHint => "每条规则都有讨论后才能结束。", "Every rule needs its review before the trail closes.";
    DeathsCloseSubmit => "结束讨论记录", "Close the trail";
    RuleFirstReview => "7 日内首次讨论", "First review within 7 days";
    RuleAutopsyReview => "尸检报告后 7 日内讨论", "Review within 7 days of the autopsy report";
    RuleLowRiskHospitalReview => "低风险死亡：院级讨论", "Low-risk death: hospital-level review";
    LevelDepartment => "科室", "Department";
    LevelHospital => "医院", "Hospital";
    LevelQcCentre => "质控中心", "QC centre";
    PrevUnavoidable => "不可避免", "Unavoidable";
    PrevPossiblyAvoidable => "可能可避免", "Possibly avoidable";
    PrevAvoidable => "可避免", "Avoidable";
    PhaseDiagnosis => "诊断", "Diagnosis";
    PhaseTreatment => "治疗", "Treatment";
    PhaseRescue => "抢救", "Rescue";
    PhaseNursing => "护理", "Nursing";
    PhaseCommunication => "沟通", "Communication";
    PhaseSystem => "制度/系统", "System";
    StepRecorded => "死亡", "Death";
    StepReview => "讨论", "Review";
    StepAutopsyReported => "尸检报告", "Autopsy report";
    StepClosed => "结束", "Closed";
    MeetingH1 => "月度分析与调度会资料", "Monthly analysis and dispatch pack";
    MeetingPrintHint => "用浏览器打印即可得到 A4 版本。", "Print from the browser for an A4 copy.";
    DashPareto => "帕累托图（事件类别）", "Pareto chart (report categories)";
    DashParetoNote => "柱：各类别报告数，从多到少；折线：累计百分比（右轴）；虚线：80%。被抑制的小数值合并为最后一根柱。", "Bars: reports per category, largest first; line: cumulative percentage (right axis); dashed: 80%. Suppressed cells are one last bar.";
    DashCumulative => "累计 %", "Cumulative %";
    DashSuppressedCells => "已抑制的类别", "suppressed cells";
    DashNoReports => "本期没有报告。", "No reports in this period.";
    NavTargets => "目标值", "Targets";
    TargetsH1 => "目标值", "Targets";
    TargetsHint => "每项指标采用最具体的目标：本院的，否则所在地区的，否则全国的；每百出院人次报告数未设定时为 2.5（越高越好）。达到目标值即为达标。目标按年度设定，每次设定都保留。", "Each indicator takes the most specific target: the hospital's own, else its region's, else the national one; the reporting rate is 2.5 per 100 discharges (higher is better) when none is set. Reaching the target meets it. Targets are set per year, and every set is kept.";
    TargetsYear => "年度", "Year";
    TargetsIndicator => "指标", "Indicator";
    TargetsApplies => "目标值", "Target";
    TargetsDirection => "方向", "Direction";
    TargetsSetBy => "设定范围", "Set for";
    TargetsHistory => "设定记录", "History";
    TargetsBuiltIn => "默认值（未设定）", "built-in default (none set)";
    TargetsNone => "未设定目标", "no target set";
    TargetsReplaced => "已被替换", "replaced";
    TargetsSetH => "设定目标值", "Set a target";
    TargetsSetHint => "全国目标由管理员设定；质控中心设定本地区及辖区医院的目标；质量管理部门设定本院的目标。百分比指标取 0–100，最多两位小数。", "The administrator sets national targets; a QC centre its region's and its hospitals'; a safety officer its own hospital's. Per-cent indicators take 0–100, at most two decimals.";
    TargetsScope => "范围", "Scope";
    TargetsCode => "地区或医院代码", "Region or hospital code";
    TargetsValue => "目标值", "Value";
    TargetsDirectionNatural => "按指标默认", "the indicator's own";
    TargetsSubmit => "保存目标值", "Save target";
    ScopeNational => "全国", "National";
    ScopeRegion => "地区", "Region";
    ScopeHospital => "医院", "Hospital";
    DirHigher => "越高越好", "higher is better";
    DirLower => "越低越好", "lower is better";
    UnitPer100Discharges => "每百出院人次", "per 100 discharges";
    UnitPercent => "%", "%";
    IndReportingRate => "每百出院人次主动报告不良事件例次", "Voluntary reports per 100 discharges";
    IndSeriousShare => "I、II 级事件占比", "Grade I/II share of reports";
    IndRcaClosedIn45Days => "根因分析 45 天内结案率", "RCAs closed within 45 days";
    IndDeathReviewOnTime => "死亡病例按时讨论率", "Death reviews on time";
    IndLowRiskDeathsReviewed => "低风险组死亡病例讨论率", "Low-risk deaths reviewed";
    IndCl14NotificationRate => "危急值通报率（CL-14）", "Critical-value notification rate (CL-14)";
    IndCl15NotificationTimeliness => "危急值通报及时率（CL-15）", "Critical-value notification timeliness (CL-15)";
    IndHandlingTimeliness => "危急值处置及时率", "Critical-value handling timeliness";
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::pages::rca::{FISHBONE, STRENGTHS};

    #[test]
    fn keys_are_unique_and_translated() {
        let keys: HashSet<_> = Key::ALL.iter().collect();
        assert_eq!(keys.len(), Key::ALL.len(), "duplicate key");
        for k in Key::ALL {
            assert!(
                !Lang::Zh.t(*k).is_empty() && !Lang::En.t(*k).is_empty(),
                "{k:?}"
            );
        }
        assert_eq!(Lang::En.t(Key::Signout), "Sign out");
        assert_eq!(Lang::Zh.t(Key::Signout), "退出登录");
    }

    #[test]
    fn every_category_grade_and_status_has_a_name() {
        for c in Category::ALL {
            assert!(!Lang::En.category(*c).is_empty(), "{c:?}");
        }
        for g in Grade::ALL {
            assert!(!Lang::Zh.grade(g).is_empty());
        }
        assert_eq!(Lang::Zh.grade(Grade::II), "II 级 不良后果事件");
        for s in [
            Status::Received,
            Status::Triaged,
            Status::UnderAnalysis,
            Status::Closed,
        ] {
            assert!(!Lang::Zh.status(s).is_empty());
        }
    }

    #[test]
    fn every_rca_and_death_vocabulary_has_a_name() {
        for f in FISHBONE {
            assert!(!Lang::En.fishbone(f).is_empty());
        }
        for s in STRENGTHS {
            assert!(!Lang::Zh.strength(s).is_empty());
        }
        for code in ["first_review", "autopsy_review", "low_risk_hospital_review"] {
            assert_ne!(Lang::Zh.rule(code), code, "{code}");
        }
        for step in ["recorded", "review", "autopsy_reported", "closed"] {
            assert_ne!(Lang::Zh.trail_step(step), step, "{step}");
        }
        assert_eq!(Lang::En.level(ReviewLevel::QcCentre), "QC centre");
        assert_eq!(Lang::Zh.preventability(Preventability::Avoidable), "可避免");
        assert_eq!(Lang::En.phase(Phase::System), "System");
        assert_eq!(Lang::Zh.trail_state(TrailState::Overdue), "逾期");
    }

    /// The pages ask for strings by key; the compiler checks that each is
    /// in the table, and this that the table is the whole vocabulary.
    #[test]
    fn every_key_the_pages_use_is_in_the_table() {
        let checked = Key::ALL.len();
        assert!(checked > 150, "{checked} keys found");
    }

    #[test]
    fn the_query_wins() {
        assert_eq!(lang_in_query(Some("a=1&lang=en")), Some(Lang::En));
        assert_eq!(lang_in_query(Some("lang=xx")), None);
        assert_eq!(lang_in_query(None), None);
    }
}
