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

    /// Whether a report of this grade may carry this harm (DESIGN.md).
    pub fn allows(self, harm: Harm) -> bool {
        use Harm::*;
        matches!(
            (self, harm),
            (_, Unknown)
                | (Grade::I, Death | Severe)
                | (Grade::II, Mild | Moderate | Severe)
                | (Grade::III, None | Mild)
                | (Grade::IV, None)
        )
    }

    /// Grades I and II are serious: they need a root-cause analysis.
    pub fn is_serious(self) -> bool {
        matches!(self, Grade::I | Grade::II)
    }
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
    /// Not known yet.
    Unknown,
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
        /// 伤害 (self-harm, assault)
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
    /// Ten-year age bands.
    AgeBand {
        /// 0–9
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
    fn grade_harm_agreement_follows_the_design() {
        use Harm::*;
        let allowed = |g: Grade| -> Vec<Harm> {
            [Death, Severe, Moderate, Mild, None, Unknown]
                .into_iter()
                .filter(|h| g.allows(*h))
                .collect()
        };
        assert_eq!(allowed(Grade::I), [Death, Severe, Unknown]);
        assert_eq!(allowed(Grade::II), [Severe, Moderate, Mild, Unknown]);
        assert_eq!(allowed(Grade::III), [Mild, None, Unknown]);
        assert_eq!(allowed(Grade::IV), [None, Unknown]);
    }

    #[test]
    fn codes_round_trip() {
        assert_eq!(Category::ALL.len(), 20);
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(*c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(AgeBand::parse("90+"), Some(AgeBand::A90));
        assert_eq!(
            serde_json::from_str::<Grade>("\"III\"").unwrap(),
            Grade::III
        );
        assert!(serde_json::from_str::<Grade>("\"V\"").is_err());
        assert!(serde_json::from_str::<Role>("\"root\"").is_err());
    }
}
