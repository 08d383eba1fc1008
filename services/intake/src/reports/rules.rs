//! The reports' rules, apart from HTTP and storage: what a filing, a
//! triage and a feedback must satisfy, and the event each records.
//!
//! Pure: what needs the outside world comes in resolved (the duplicate's
//! hospital, the scrubber), like the `rca` crate's `decide`.

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::record::ReportRecord;
use lantern_api::checks::{check_optional, check_text, check_time};
use lantern_api::error::FieldError;
use lantern_domain::events::report;
use lantern_domain::vocab::{AgeBand, Category, Grade, Harm, ReporterRole};

/// An anonymous adverse-event report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileReport {
    /// Registered hospital code.
    pub hospital: String,
    /// Registered department code of that hospital.
    pub department: String,
    /// When it happened (RFC 3339 with offset; not in the future).
    pub occurred_at: DateTime<FixedOffset>,
    /// I 警告事件（警讯事件）, II 不良后果事件, III 未造成后果事件, IV 隐患事件 / 未遂事件（临界差错）.
    pub grade: Grade,
    /// Category code.
    pub category: Category,
    /// AHRQ harm (physical or psychological, after any intervention); must
    /// agree with the grade: I death, severe; II mild needing treatment,
    /// moderate, severe; III none, mild needing none; IV not_applicable;
    /// unknown with I–III leaves the grade provisional until triage.
    pub harm: Harm,
    /// With harm `mild` only: whether it needed additional treatment,
    /// monitoring or a longer stay (grade II) or not (grade III).
    pub treatment_needed: Option<bool>,
    /// Where.
    pub location: Option<String>,
    /// What happened (personal data is removed before it is stored).
    pub description: String,
    /// What was done at once.
    pub immediate_actions: Option<String>,
    /// The reporter's role, if they wish.
    pub reporter_role: Option<ReporterRole>,
    /// The patient's age band.
    pub patient_age_band: Option<AgeBand>,
}

impl FileReport {
    /// The checks that need no directory: time, grade against harm, text
    /// lengths. (The hospital and department are checked against the
    /// directory by the handler.)
    pub fn check(&self, errors: &mut Vec<FieldError>) {
        check_time("/occurred_at", &self.occurred_at, errors);
        if let Err(d) = self.grade.check(self.harm, self.treatment_needed) {
            errors.push(FieldError::new(d.pointer, d.message));
        }
        if let Some(why) = self.patient_age_band.and_then(AgeBand::refusal) {
            errors.push(FieldError::new("/patient_age_band", why));
        }
        check_text("/description", &self.description, 4000, errors);
        check_optional("/location", self.location.as_deref(), 200, errors);
        check_optional(
            "/immediate_actions",
            self.immediate_actions.as_deref(),
            2000,
            errors,
        );
    }

    /// The `report.filed` payload of a checked report, its free text passed
    /// through `scrub` (events are immutable: nothing personal may reach one).
    pub fn filed(&self, scrub: impl Fn(&str) -> String, receipt_hash: &str) -> report::Filed {
        report::Filed {
            department: self.department.clone(),
            occurred_at: self.occurred_at,
            grade: self.grade,
            category: self.category,
            harm: self.harm,
            treatment_needed: self.treatment_needed,
            location: self.location.as_deref().map(&scrub),
            description: scrub(self.description.trim()),
            immediate_actions: self.immediate_actions.as_deref().map(&scrub),
            reporter_role: self.reporter_role,
            patient_age_band: self.patient_age_band,
            receipt_hash: receipt_hash.to_owned(),
        }
    }
}

/// A safety officer's verification of a report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageReport {
    /// Verified grade.
    pub grade: Grade,
    /// Verified category.
    pub category: Category,
    /// Re-assessed harm, held to the same agreement with the grade as a
    /// filing; left out, the harm as filed (or as last triaged) stands and
    /// must agree with the verified grade.
    pub harm: Option<Harm>,
    /// With harm `mild` only: whether it needed treatment.
    pub treatment_needed: Option<bool>,
    /// Another report of the same hospital this one duplicates.
    pub duplicate_of: Option<Uuid>,
    /// Note.
    pub note: Option<String>,
}

/// Text for the reporter, or from them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextBody {
    /// 1–4000 characters; personal data is removed before it is stored.
    pub text: String,
}

/// The report named as the original of a duplicate, as the caller found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Original {
    /// The id given.
    pub report_id: Uuid,
    /// That report's hospital; `None` when there is no such report.
    pub hospital: Option<String>,
}

/// The `report.triaged` event a safety officer's verification of `report`
/// (id `id`) records, or the fields that refuse it. `original` is the
/// report named in `duplicate_of`, resolved by the caller (not resolved
/// when it names the report itself).
pub fn triage(
    report: &ReportRecord,
    id: Uuid,
    body: &TriageReport,
    original: Option<&Original>,
    scrub: impl Fn(&str) -> String,
) -> Result<report::Triaged, Vec<FieldError>> {
    let mut errors = Vec::new();
    // Left out, the harm that stands is the last one assessed.
    let (harm, treatment_needed) = match body.harm {
        Some(harm) => (harm, body.treatment_needed),
        None => {
            let (harm, treatment_needed) = report.current_harm();
            (harm, body.treatment_needed.or(treatment_needed))
        }
    };
    if let Err(d) = body.grade.check(harm, treatment_needed) {
        let message = match body.harm {
            Some(_) => d.message,
            None => format!(
                "{} (the harm as assessed so far): re-assess harm with the grade",
                d.message
            ),
        };
        errors.push(FieldError::new(d.pointer, message));
    }
    if let Some(dup) = body.duplicate_of {
        let same_hospital = original
            .filter(|o| o.report_id == dup)
            .and_then(|o| o.hospital.as_deref())
            == Some(report.hospital.as_str());
        if dup == id {
            errors.push(FieldError::new(
                "/duplicate_of",
                "a report cannot duplicate itself",
            ));
        } else if !same_hospital {
            errors.push(FieldError::new(
                "/duplicate_of",
                "is not a report of this hospital",
            ));
        }
    }
    check_optional("/note", body.note.as_deref(), 2000, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(report::Triaged {
        grade: body.grade,
        category: body.category,
        harm: Some(harm),
        treatment_needed,
        duplicate_of: body.duplicate_of,
        note: body.note.as_deref().map(scrub),
    })
}

/// The `report.feedback_posted` event of a safety officer's text for the
/// reporter, or the field that refuses it.
pub fn feedback(
    body: &TextBody,
    scrub: impl Fn(&str) -> String,
) -> Result<report::FeedbackPosted, Vec<FieldError>> {
    let mut errors = Vec::new();
    check_text("/text", &body.text, 4000, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(report::FeedbackPosted {
        text: scrub(body.text.trim()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::record::{Status, Triage};
    use chrono::NaiveDate;

    const ID: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);

    /// Given a report filed at H1 as a fall of grade II with moderate harm.
    fn filed() -> ReportRecord {
        ReportRecord {
            report_id: ID,
            hospital: "H1".into(),
            department: "ICU".into(),
            occurred_at: "2026-03-01T08:00:00+08:00".parse().unwrap(),
            grade: Grade::II,
            category: Category::Fall,
            harm: Harm::Moderate,
            treatment_needed: None,
            provisional: false,
            location: None,
            immediate_actions: None,
            reporter_role: None,
            patient_age_band: None,
            filed_on: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            status: Status::Received,
            triage: None,
            follow_ups: vec![],
            feedback: vec![],
            rcas_open: vec![],
            rcas_closed: vec![],
            lessons: vec![],
            filed_seq: 1,
        }
    }

    fn asking(grade: Grade, harm: Option<Harm>) -> TriageReport {
        TriageReport {
            grade,
            category: Category::Fall,
            harm,
            treatment_needed: None,
            duplicate_of: None,
            note: None,
        }
    }

    fn pointers(refused: Result<report::Triaged, Vec<FieldError>>) -> Vec<String> {
        refused
            .expect_err("refused")
            .into_iter()
            .map(|e| e.pointer)
            .collect()
    }

    #[test]
    fn a_triage_that_leaves_harm_out_is_held_to_the_harm_as_filed() {
        let refused = triage(&filed(), ID, &asking(Grade::IV, None), None, str::to_owned);
        assert_eq!(pointers(refused), ["/harm"]);
        let kept = triage(&filed(), ID, &asking(Grade::II, None), None, str::to_owned).unwrap();
        assert_eq!(
            kept.harm,
            Some(Harm::Moderate),
            "the event records the harm that stands"
        );
    }

    #[test]
    fn a_triage_that_leaves_harm_out_after_a_re_assessment_keeps_the_last_one() {
        let mut report = filed();
        report.triage = Some(Triage {
            grade: Grade::III,
            category: Category::Fall,
            harm: Harm::Mild,
            treatment_needed: Some(false),
            duplicate_of: None,
            note: None,
            on: report.filed_on,
        });
        let kept = triage(&report, ID, &asking(Grade::III, None), None, str::to_owned).unwrap();
        assert_eq!(
            (kept.harm, kept.treatment_needed),
            (Some(Harm::Mild), Some(false))
        );
        // Grade II would need the mild harm to have needed treatment.
        assert_eq!(
            pointers(triage(
                &report,
                ID,
                &asking(Grade::II, None),
                None,
                str::to_owned
            )),
            ["/treatment_needed"]
        );
    }

    #[test]
    fn a_re_assessed_harm_is_held_to_the_verified_grade() {
        let raised = triage(
            &filed(),
            ID,
            &asking(Grade::I, Some(Harm::Severe)),
            None,
            str::to_owned,
        )
        .unwrap();
        assert_eq!((raised.grade, raised.harm), (Grade::I, Some(Harm::Severe)));
        let refused = triage(
            &filed(),
            ID,
            &asking(Grade::IV, Some(Harm::Moderate)),
            None,
            str::to_owned,
        );
        assert_eq!(pointers(refused), ["/harm"]);
    }

    #[test]
    fn a_duplicate_names_another_report_of_the_same_hospital() {
        let of = |hospital: Option<&str>| Original {
            report_id: OTHER,
            hospital: hospital.map(str::to_owned),
        };
        let dup = |id| TriageReport {
            duplicate_of: Some(id),
            ..asking(Grade::II, None)
        };
        let same = triage(
            &filed(),
            ID,
            &dup(OTHER),
            Some(&of(Some("H1"))),
            str::to_owned,
        )
        .unwrap();
        assert_eq!(same.duplicate_of, Some(OTHER));
        for original in [of(Some("H2")), of(None)] {
            let refused = triage(&filed(), ID, &dup(OTHER), Some(&original), str::to_owned);
            assert_eq!(pointers(refused), ["/duplicate_of"]);
        }
        assert_eq!(
            pointers(triage(&filed(), ID, &dup(ID), None, str::to_owned)),
            ["/duplicate_of"],
            "itself"
        );
    }

    #[test]
    fn the_note_is_bounded_and_scrubbed_and_every_refusal_is_named_at_once() {
        let noted = TriageReport {
            note: Some("call 13812345678".into()),
            ..asking(Grade::II, None)
        };
        let triaged = triage(&filed(), ID, &noted, None, |t| {
            t.replace("13812345678", "[phone]")
        })
        .unwrap();
        assert_eq!(triaged.note.as_deref(), Some("call [phone]"));
        let refused = TriageReport {
            note: Some("x".repeat(2001)),
            duplicate_of: Some(ID),
            ..asking(Grade::IV, None)
        };
        assert_eq!(
            pointers(triage(&filed(), ID, &refused, None, str::to_owned)),
            ["/harm", "/duplicate_of", "/note"]
        );
    }

    #[test]
    fn feedback_is_one_to_four_thousand_characters_scrubbed() {
        let text = |t: &str| TextBody { text: t.into() };
        let posted = feedback(&text("  thanks, 13812345678  "), |t| {
            t.replace("13812345678", "[phone]")
        })
        .unwrap();
        assert_eq!(posted.text, "thanks, [phone]");
        for bad in ["", "   ", &"x".repeat(4001)] {
            let refused = feedback(&text(bad), str::to_owned).expect_err(bad);
            assert_eq!(refused[0].pointer, "/text");
        }
    }
}
