//! Domain types: the closed vocabularies of DESIGN.md as enums, so that a
//! bad grade or role cannot exist past the request decoder.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The Chinese four-level adverse-event grade.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum Grade {
    /// 警告事件（警讯事件）: unexpected death, or permanent loss of a limb or organ function not caused by the disease.
    I,
    /// 不良后果事件: harm caused by care, not by the disease.
    II,
    /// 未造成后果事件: reached the patient without harm, or minor harm needing no treatment.
    III,
    /// 隐患事件 / 未遂事件（临界差错）: caught before it reached the patient, or a latent hazard.
    IV,
}

impl Grade {
    /// All grades, in order.
    pub const ALL: [Grade; 4] = [Grade::I, Grade::II, Grade::III, Grade::IV];

    /// The grade as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::I => "I",
            Grade::II => "II",
            Grade::III => "III",
            Grade::IV => "IV",
        }
    }

    /// Whether an event of this grade may have done this harm (DESIGN.md
    /// "Grades", v2): `treatment_needed` says, for harm `mild`, whether it
    /// needed treatment (grade II) or not (grade III), and is given exactly
    /// then. The same rule holds a filing and a triage.
    pub fn agrees(self, harm: Harm, treatment_needed: Option<bool>) -> bool {
        use Harm::*;
        match (self, harm, treatment_needed) {
            (_, Mild, Option::None) => false,
            (_, Death | Severe | Moderate | None | Unknown | NotApplicable, Some(_)) => false,
            (Grade::I | Grade::II | Grade::III, Unknown, _) => true,
            (Grade::I, Death | Severe, _) => true,
            (Grade::II, Mild, Some(true)) | (Grade::II, Moderate | Severe, _) => true,
            (Grade::III, None, _) | (Grade::III, Mild, Some(false)) => true,
            (Grade::IV, NotApplicable, _) => true,
            _ => false,
        }
    }

    /// [`agrees`](Self::agrees), saying what is wrong and where: the
    /// request field (`/harm` or `/treatment_needed`) and a message naming
    /// what would agree.
    pub fn check(self, harm: Harm, treatment_needed: Option<bool>) -> Result<(), Disagreement> {
        if self.agrees(harm, treatment_needed) {
            return Ok(());
        }
        let allowed = || {
            self.harms()
                .iter()
                .map(|h| match (self, h) {
                    (Grade::II, Harm::Mild) => "mild (treatment needed)",
                    (Grade::III, Harm::Mild) => "mild (no treatment needed)",
                    _ => h.as_str(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.harms().contains(&harm) {
            return Err(Disagreement {
                pointer: "/harm",
                message: format!(
                    "{} does not agree with grade {}: allowed are {}",
                    harm.as_str(),
                    self.as_str(),
                    allowed()
                ),
            });
        }
        Err(Disagreement {
            pointer: "/treatment_needed",
            message: match (harm, treatment_needed) {
                (Harm::Mild, None) => "is required with harm mild: did it need additional \
                                       treatment, monitoring or a longer stay (grade II) or not \
                                       (grade III)?"
                    .to_owned(),
                (Harm::Mild, Some(true)) => {
                    format!(
                        "mild harm that needed treatment is grade II, not {}",
                        self.as_str()
                    )
                }
                (Harm::Mild, Some(false)) => {
                    format!(
                        "mild harm that needed no treatment is grade III, not {}",
                        self.as_str()
                    )
                }
                (h, _) => format!("applies to harm mild only, not {}", h.as_str()),
            },
        })
    }

    /// The harms an event of this grade may have done, in the order of
    /// [`Harm::ALL`] (for messages and forms).
    pub fn harms(self) -> Vec<Harm> {
        Harm::ALL
            .into_iter()
            .filter(|&h| self.agrees(h, (h == Harm::Mild).then_some(self == Grade::II)))
            .collect()
    }

    /// Grades I and II are serious: they need a root-cause analysis.
    pub fn is_serious(self) -> bool {
        matches!(self, Grade::I | Grade::II)
    }
}

/// Why a grade and a harm disagree, for a problem+json error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// The request field at fault: `/harm` or `/treatment_needed`.
    pub pointer: &'static str,
    /// What is wrong and what would agree.
    pub message: String,
}

/// The AHRQ Harm Scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Harm {
    /// Death.
    Death,
    /// Severe harm.
    Severe,
    /// Moderate harm.
    Moderate,
    /// Mild harm.
    Mild,
    /// No harm.
    None,
    /// Not known yet: the grade stays provisional until triage.
    Unknown,
    /// The event did not reach the patient (grade IV): AHRQ applies harm
    /// only to incidents that reached the patient.
    NotApplicable,
}

impl Harm {
    /// Every harm level, most severe first.
    pub const ALL: [Harm; 7] = [
        Harm::Death,
        Harm::Severe,
        Harm::Moderate,
        Harm::Mild,
        Harm::None,
        Harm::Unknown,
        Harm::NotApplicable,
    ];

    /// The harm as written in the API and the events.
    pub fn as_str(self) -> &'static str {
        match self {
            Harm::Death => "death",
            Harm::Severe => "severe",
            Harm::Moderate => "moderate",
            Harm::Mild => "mild",
            Harm::None => "none",
            Harm::Unknown => "unknown",
            Harm::NotApplicable => "not_applicable",
        }
    }
}

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $code)] $variant),+
        }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The code as written in the API and the events.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            /// Parses a code.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($code => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

code_enum! {
    /// Event categories (DESIGN.md), the list Chinese hospitals use plus AHRQ modules.
    Category {
        /// 药物
        Medication = "medication",
        /// 跌倒/坠床
        Fall = "fall",
        /// 手术
        Surgery = "surgery",
        /// 输血
        Transfusion = "transfusion",
        /// 医疗处置
        Procedure = "procedure",
        /// 管路
        Tube = "tube",
        /// 院内不预期心跳呼吸停止
        UnexpectedArrest = "unexpected_arrest",
        /// 伤害: 自伤/自杀 (self-harm, suicide) and 伤人 (assault)
        Injury = "injury",
        /// 公共意外
        PublicAccident = "public_accident",
        /// 饮食
        Diet = "diet",
        /// 麻醉
        Anesthesia = "anesthesia",
        /// 检查/检验/病理标本
        LabSpecimen = "lab_specimen",
        /// 压力性损伤
        PressureInjury = "pressure_injury",
        /// 职业暴露
        OccupationalExposure = "occupational_exposure",
        /// 医疗器械
        Device = "device",
        /// 院内感染
        Infection = "infection",
        /// 身份识别
        Identification = "identification",
        /// 信息系统
        Information = "information",
        /// 治安
        Security = "security",
        /// 其他
        Other = "other",
        /// 围产期 (maternal, neonatal); schema version 2 on
        Perinatal = "perinatal",
        /// 静脉血栓栓塞症; schema version 2 on
        Vte = "vte",
        /// 走失; schema version 2 on
        Elopement = "elopement",
        /// 危急值报告缺陷; schema version 2 on
        CriticalValueProcess = "critical_value_process",
    }
}

code_enum! {
    /// The reporter's role, if they choose to give it.
    ReporterRole {
        /// Doctor.
        Doctor = "doctor",
        /// Nurse.
        Nurse = "nurse",
        /// Pharmacist.
        Pharmacist = "pharmacist",
        /// Technician.
        Technician = "technician",
        /// Other.
        Other = "other",
    }
}

code_enum! {
    /// Age bands: neonatal and early-childhood bands, then ten-year bands.
    AgeBand {
        /// 0–28 days (新生儿); schema version 2 on
        D0 = "0-28d",
        /// 29 days to under 1 year; schema version 2 on
        D29 = "29d-11m",
        /// 1–4 years; schema version 2 on
        A1 = "1-4",
        /// 5–9 years; schema version 2 on
        A5 = "5-9",
        /// 0–9 years: version 1's first band, read but no longer offered
        A0 = "0-9",
        /// 10–19
        A10 = "10-19",
        /// 20–29
        A20 = "20-29",
        /// 30–39
        A30 = "30-39",
        /// 40–49
        A40 = "40-49",
        /// 50–59
        A50 = "50-59",
        /// 60–69
        A60 = "60-69",
        /// 70–79
        A70 = "70-79",
        /// 80–89
        A80 = "80-89",
        /// 90 and over
        A90 = "90+",
    }
}

impl AgeBand {
    /// The bands a new report or death may carry: a partition of ages
    /// (version 1's coarse `0-9` overlaps the finer ones, so it is read but
    /// not offered).
    pub fn offered() -> impl Iterator<Item = AgeBand> {
        AgeBand::ALL.iter().copied().filter(|b| *b != AgeBand::A0)
    }

    /// The band of someone born on `born` at `on` (the date is not kept,
    /// only the band); none for a birth after `on`.
    pub fn at(born: chrono::NaiveDate, on: chrono::NaiveDate) -> Option<AgeBand> {
        let days = (on - born).num_days();
        let years = on.years_since(born)?;
        Some(match (days, years) {
            (..0, _) => return None,
            (0..=28, _) => AgeBand::D0,
            (_, 0) => AgeBand::D29,
            (_, 1..=4) => AgeBand::A1,
            (_, 5..=9) => AgeBand::A5,
            (_, 10..=19) => AgeBand::A10,
            (_, 20..=29) => AgeBand::A20,
            (_, 30..=39) => AgeBand::A30,
            (_, 40..=49) => AgeBand::A40,
            (_, 50..=59) => AgeBand::A50,
            (_, 60..=69) => AgeBand::A60,
            (_, 70..=79) => AgeBand::A70,
            (_, 80..=89) => AgeBand::A80,
            _ => AgeBand::A90,
        })
    }

    /// Why a new report or death may not carry this band, if it may not.
    pub fn refusal(self) -> Option<&'static str> {
        (self == AgeBand::A0)
            .then_some("0-9 is no longer a band: choose 0-28d, 29d-11m, 1-4 or 5-9")
    }
}

code_enum! {
    /// Hospital level.
    Level {
        /// 二级
        Secondary = "secondary",
        /// 三级
        Tertiary = "tertiary",
    }
}

code_enum! {
    /// What a staff token may do.
    Role {
        /// Configuration: hospitals, departments, tokens.
        Admin = "admin",
        /// A hospital's safety officer (质量管理部门).
        SafetyOfficer = "safety_officer",
        /// A region's or specialty's QC centre (质控中心): aggregates only.
        QcCentre = "qc_centre",
        /// A laboratory or imaging system.
        Lis = "lis",
        /// A hospital information system.
        His = "his",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grade_harm_agreement_follows_design_v2() {
        use Harm::*;
        // Given each grade, when asked which harms agree, then DESIGN's
        // table comes back (mild with treatment for II, without for III).
        assert_eq!(Grade::I.harms(), [Death, Severe, Unknown]);
        assert_eq!(Grade::II.harms(), [Severe, Moderate, Mild, Unknown]);
        assert_eq!(Grade::III.harms(), [Mild, None, Unknown]);
        assert_eq!(Grade::IV.harms(), [NotApplicable]);
    }

    #[test]
    fn mild_harm_says_whether_it_needed_treatment() {
        use Harm::*;
        assert!(Grade::II.agrees(Mild, Some(true)));
        assert!(!Grade::II.agrees(Mild, Some(false)));
        assert!(Grade::III.agrees(Mild, Some(false)));
        assert!(
            !Grade::III.agrees(Mild, Some(true)),
            "mild needing treatment is grade II"
        );
        assert!(
            !Grade::III.agrees(Mild, Option::None),
            "mild must say which"
        );
        assert!(!Grade::II.agrees(Moderate, Some(true)), "only mild says it");
        assert!(
            !Grade::IV.agrees(None, Option::None),
            "IV did not reach the patient"
        );
        assert!(!Grade::IV.agrees(Unknown, Option::None));
        assert!(!Grade::I.agrees(NotApplicable, Option::None));
    }

    #[test]
    fn a_disagreement_names_the_field_and_what_would_agree() {
        use Harm::*;
        let e = Grade::IV.check(Moderate, Option::None).unwrap_err();
        assert_eq!(e.pointer, "/harm");
        assert!(e.message.contains("not_applicable"), "{}", e.message);
        let e = Grade::III.check(Mild, Option::None).unwrap_err();
        assert_eq!(e.pointer, "/treatment_needed");
        let e = Grade::III.check(Mild, Some(true)).unwrap_err();
        assert!(e.message.contains("grade II"), "{}", e.message);
        let e = Grade::I.check(Mild, Some(true)).unwrap_err();
        assert_eq!(e.pointer, "/harm");
        assert!(
            e.message.contains("death, severe, unknown"),
            "{}",
            e.message
        );
        assert!(Grade::II.check(Mild, Some(true)).is_ok());
    }

    #[test]
    fn codes_round_trip() {
        assert_eq!(Category::ALL.len(), 24);
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(*c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(AgeBand::parse("90+"), Some(AgeBand::A90));
        assert_eq!(AgeBand::parse("0-28d"), Some(AgeBand::D0));
        assert!(!AgeBand::offered().any(|b| b == AgeBand::A0));
        for h in Harm::ALL {
            assert_eq!(serde_json::to_value(h).unwrap(), h.as_str());
        }
        assert_eq!(
            serde_json::from_str::<Grade>("\"III\"").unwrap(),
            Grade::III
        );
        assert!(serde_json::from_str::<Grade>("\"V\"").is_err());
        assert!(serde_json::from_str::<Role>("\"root\"").is_err());
    }

    #[test]
    fn an_age_band_at_a_date_counts_days_then_whole_years() {
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let born = d("2020-02-29");
        for (on, want) in [
            ("2020-02-29", Some(AgeBand::D0)),
            ("2020-03-28", Some(AgeBand::D0)),
            ("2020-03-29", Some(AgeBand::D29)),
            ("2021-02-27", Some(AgeBand::D29)),
            ("2021-03-01", Some(AgeBand::A1)),
            ("2025-02-28", Some(AgeBand::A1)),
            ("2025-03-01", Some(AgeBand::A5)),
            ("2020-02-28", None),
        ] {
            assert_eq!(AgeBand::at(born, d(on)), want, "{on}");
        }
        assert_eq!(
            AgeBand::at(d("1940-01-01"), d("2026-10-01")),
            Some(AgeBand::A80)
        );
        assert_eq!(
            AgeBand::at(d("1926-10-01"), d("2026-10-01")),
            Some(AgeBand::A90)
        );
        assert_eq!(
            AgeBand::at(d("1996-10-02"), d("2026-10-01")),
            Some(AgeBand::A20)
        );
    }
}
