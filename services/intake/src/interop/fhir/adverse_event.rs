//! A report as a FHIR R4 `AdverseEvent`, for its audience.
//!
//! Pure: the report's record (and its description, for an audience that
//! reads narratives) in, the resource out. What the anonymity rules allow
//! and no more: the patient is a contained `Patient` with the age band
//! only, the recorded date is the day (in the hospital's zone, as the
//! record keeps it), the reporter appears nowhere.

use lantern_domain::vocab::{Grade, Harm};

use super::resources::{
    AdverseEvent, CodeableConcept, Coding, Extension, Identifier, Patient, Reference,
};
use crate::reports::{ReportRecord, Status};

/// Lantern's code system of event categories (the report's `category`
/// codes).
pub const CATEGORY_SYSTEM: &str = "urn:lantern:fhir:CodeSystem:event-category";
/// Lantern's short report references, as people read them.
pub const REFERENCE_SYSTEM: &str = "urn:lantern:fhir:NamingSystem:report-reference";
/// Extension: the report's grade (I–IV, 不良事件分级).
pub const GRADE_EXTENSION: &str = "urn:lantern:fhir:StructureDefinition:grade";
/// Extension: where the report stands (received, triaged, under analysis,
/// closed).
pub const STATUS_EXTENSION: &str = "urn:lantern:fhir:StructureDefinition:report-status";
/// Extension: the patient's age band.
pub const AGE_BAND_EXTENSION: &str = "urn:lantern:fhir:StructureDefinition:age-band";

const SERIOUSNESS: &str = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness";
const SEVERITY: &str = "http://terminology.hl7.org/CodeSystem/adverse-event-severity";
const OUTCOME: &str = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome";

/// Who reads the resource, which decides whether the narrative is in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience<'a> {
    /// The hospital's own safety office: the description as written
    /// (scrubbed before it was stored).
    Hospital {
        /// The description.
        description: &'a str,
    },
    /// A QC centre: codes only, never a narrative (DESIGN "Anonymity rules").
    Supervisor,
}

/// The report as an `AdverseEvent`, with the grade, category and harm that
/// stand (triaged if triaged).
pub fn adverse_event(record: &ReportRecord, audience: Audience<'_>) -> AdverseEvent {
    let grade = record.current_grade();
    let category = record.current_category();
    let (harm, _) = record.current_harm();
    let category_coding = Coding::new(CATEGORY_SYSTEM, category.as_str());
    let patient = Patient {
        resource_type: "Patient",
        id: "patient",
        extension: record
            .patient_age_band
            .map(|band| Extension {
                url: AGE_BAND_EXTENSION,
                value_code: band.as_str().to_owned(),
            })
            .into_iter()
            .collect(),
    };
    AdverseEvent {
        resource_type: "AdverseEvent",
        id: record.report_id.to_string(),
        contained: vec![patient],
        extension: vec![
            Extension {
                url: GRADE_EXTENSION,
                value_code: grade.as_str().to_owned(),
            },
            Extension {
                url: STATUS_EXTENSION,
                value_code: status_code(record.status).to_owned(),
            },
        ],
        identifier: Identifier {
            system: REFERENCE_SYSTEM,
            value: lantern_domain::ids::short_ref(record.report_id),
        },
        // A near miss (隐患事件/未遂事件) reached no patient: it could have.
        actuality: if grade == Grade::IV {
            "potential"
        } else {
            "actual"
        },
        category: vec![CodeableConcept::of(category_coding.clone())],
        event: CodeableConcept {
            coding: vec![category_coding],
            text: match audience {
                Audience::Hospital { description } => Some(description.to_owned()),
                Audience::Supervisor => None,
            },
        },
        subject: Reference {
            reference: "#patient".into(),
        },
        date: record.occurred_at.date_naive().to_string(),
        recorded_date: record.filed_on.to_string(),
        seriousness: CodeableConcept::of(if matches!(grade, Grade::I | Grade::II) {
            Coding {
                display: Some("Serious"),
                ..Coding::new(SERIOUSNESS, "serious")
            }
        } else {
            Coding {
                display: Some("Non-serious"),
                ..Coding::new(SERIOUSNESS, "non-serious")
            }
        }),
        severity: severity(harm).map(|code| CodeableConcept::of(Coding::new(SEVERITY, code))),
        outcome: outcome(harm).map(|code| CodeableConcept::of(Coding::new(OUTCOME, code))),
    }
}

/// FHIR's severity of a harm: mild, moderate and severe map one to one;
/// death is an outcome, not a severity, and no harm has none.
fn severity(harm: Harm) -> Option<&'static str> {
    match harm {
        Harm::Mild => Some("mild"),
        Harm::Moderate => Some("moderate"),
        Harm::Severe => Some("severe"),
        Harm::Death | Harm::None | Harm::Unknown | Harm::NotApplicable => None,
    }
}

/// FHIR's outcome of a harm, where the harm tells it: a death is fatal, a
/// harm not assessed yet is unknown; for the rest Lantern does not record
/// how the patient fared.
fn outcome(harm: Harm) -> Option<&'static str> {
    match harm {
        Harm::Death => Some("fatal"),
        Harm::Unknown => Some("unknown"),
        _ => None,
    }
}

fn status_code(status: Status) -> &'static str {
    match status {
        Status::Received => "received",
        Status::Triaged => "triaged",
        Status::UnderAnalysis => "under_analysis",
        Status::Closed => "closed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::Triage;
    use chrono::NaiveDate;
    use lantern_domain::vocab::{AgeBand, Category, ReporterRole};
    use serde_json::{Value, json};
    use uuid::Uuid;

    /// Given a fall of grade II, moderate harm, filed on 3 March by a nurse
    /// about a patient aged 70–79.
    fn filed() -> ReportRecord {
        ReportRecord {
            report_id: Uuid::from_u128(0x1234),
            hospital: "H1".into(),
            department: "ICU".into(),
            occurred_at: "2026-03-02T23:30:00+08:00".parse().unwrap(),
            grade: Grade::II,
            category: Category::Fall,
            harm: Harm::Moderate,
            treatment_needed: None,
            provisional: false,
            location: Some("3床".into()),
            immediate_actions: None,
            reporter_role: Some(ReporterRole::Nurse),
            patient_age_band: Some(AgeBand::parse("70-79").unwrap()),
            filed_on: NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
            status: Status::Received,
            triage: None,
            follow_ups: vec![],
            feedback: vec![],
            rcas_open: vec![],
            rcas_closed: vec![],
            lessons: vec![],
            filed_seq: 7,
        }
    }

    fn json_of(record: &ReportRecord, audience: Audience<'_>) -> Value {
        serde_json::to_value(adverse_event(record, audience)).unwrap()
    }

    #[test]
    fn an_officer_reads_the_event_with_its_description_and_nothing_of_the_reporter() {
        let v = json_of(
            &filed(),
            Audience::Hospital {
                description: "跌倒",
            },
        );
        assert_eq!(v["resourceType"], "AdverseEvent");
        assert_eq!(v["actuality"], "actual");
        assert_eq!(v["event"]["text"], "跌倒");
        assert_eq!(v["category"][0]["coding"][0]["code"], "fall");
        assert_eq!(v["seriousness"]["coding"][0]["code"], "serious");
        assert_eq!(v["severity"]["coding"][0]["code"], "moderate");
        assert!(v.get("outcome").is_none());
        assert_eq!(v["recordedDate"], "2026-03-03", "the day, never the time");
        assert_eq!(v["date"], "2026-03-02");
        assert_eq!(v["subject"], json!({"reference": "#patient"}));
        assert_eq!(
            v["contained"],
            json!([{"resourceType": "Patient", "id": "patient",
                    "extension": [{"url": AGE_BAND_EXTENSION, "valueCode": "70-79"}]}])
        );
        let text = v.to_string();
        for private in ["nurse", "3床", "recorder", "reporter"] {
            assert!(!text.contains(private), "{private} in {text}");
        }
    }

    #[test]
    fn a_qc_centre_reads_codes_and_never_the_narrative() {
        let v = json_of(&filed(), Audience::Supervisor);
        assert!(v["event"].get("text").is_none(), "{v}");
        assert_eq!(v["event"]["coding"][0]["code"], "fall");
    }

    #[test]
    fn a_near_miss_is_potential_and_a_death_fatal_as_triaged() {
        let mut near_miss = filed();
        near_miss.grade = Grade::IV;
        near_miss.harm = Harm::NotApplicable;
        let v = json_of(&near_miss, Audience::Supervisor);
        assert_eq!(v["actuality"], "potential");
        assert_eq!(v["seriousness"]["coding"][0]["code"], "non-serious");
        assert!(v.get("severity").is_none() && v.get("outcome").is_none());

        // Triaged to grade I, death: what stands is what is shown.
        let mut died = filed();
        died.status = Status::Triaged;
        died.triage = Some(Triage {
            grade: Grade::I,
            category: Category::Medication,
            harm: Harm::Death,
            treatment_needed: None,
            duplicate_of: None,
            note: None,
            on: died.filed_on,
        });
        let v = json_of(&died, Audience::Supervisor);
        assert_eq!(v["actuality"], "actual");
        assert_eq!(v["category"][0]["coding"][0]["code"], "medication");
        assert_eq!(v["outcome"]["coding"][0]["code"], "fatal");
        assert!(v.get("severity").is_none());
        assert_eq!(v["extension"][0]["valueCode"], "I");
        assert_eq!(v["extension"][1]["valueCode"], "triaged");
    }

    #[test]
    fn without_an_age_band_the_patient_is_only_a_reference() {
        let mut r = filed();
        r.patient_age_band = None;
        let v = json_of(&r, Audience::Supervisor);
        assert_eq!(
            v["contained"],
            json!([{"resourceType": "Patient", "id": "patient"}])
        );
    }
}
