//! A report as the read model keeps it: its filing, triage, follow-ups,
//! feedback and analysis state, and where it stands for its reporter.
//!
//! Filing time is kept to the day (in the hospital's time zone): staff see
//! when a report was filed only to the day, so submission timing cannot
//! single out a reporter.

use chrono::{DateTime, NaiveDate};
use lantern_projection::{ProjectionError, Stored};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use lantern_domain::vocab::{AgeBand, Category, Grade, Harm, ReporterRole};

/// Where a report stands, as its reporter sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Filed, not yet looked at.
    Received,
    /// A safety officer verified grade and category.
    Triaged,
    /// A root-cause analysis of it is open.
    UnderAnalysis,
    /// Its analysis is closed.
    Closed,
}

/// A follow-up added by the reporter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FollowUp {
    /// Scrubbed text.
    pub text: String,
    /// Day added (hospital time zone).
    pub added_on: NaiveDate,
}

/// Feedback posted by a safety officer for the reporter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Feedback {
    /// What was learned or changed.
    pub text: String,
    /// Day posted (hospital time zone).
    pub posted_on: NaiveDate,
}

/// A safety officer's verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Triage {
    /// Verified grade.
    pub grade: Grade,
    /// Verified category.
    pub category: Category,
    /// Re-assessed harm (the filed harm where a version-1 triage did not
    /// assess it).
    pub harm: Harm,
    /// With harm `mild`: whether it needed treatment.
    pub treatment_needed: Option<bool>,
    /// The report this one duplicates.
    pub duplicate_of: Option<Uuid>,
    /// Note.
    pub note: Option<String>,
    /// Day triaged.
    pub on: NaiveDate,
}

/// What the read model keeps of a report: all staff see of it but its
/// description, which stays where it was filed, on the stream (see
/// [`Reports::describe`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportRecord {
    /// Report id.
    pub report_id: Uuid,
    /// Hospital code.
    pub hospital: String,
    /// Department code.
    pub department: String,
    /// When it happened, as reported.
    pub occurred_at: DateTime<chrono::FixedOffset>,
    /// Grade as filed.
    pub grade: Grade,
    /// Category as filed.
    pub category: Category,
    /// AHRQ harm as filed.
    pub harm: Harm,
    /// With harm `mild`: whether it needed treatment, as filed.
    pub treatment_needed: Option<bool>,
    /// Whether the grade is provisional: harm unknown when filed, and not
    /// triaged since.
    pub provisional: bool,
    /// Where.
    pub location: Option<String>,
    /// What was done at once (scrubbed).
    pub immediate_actions: Option<String>,
    /// Reporter's role, if given.
    pub reporter_role: Option<ReporterRole>,
    /// Patient's age band, if given.
    pub patient_age_band: Option<AgeBand>,
    /// Day filed (hospital time zone); never the time.
    pub filed_on: NaiveDate,
    /// Where it stands.
    pub status: Status,
    /// Triage, if done (the latest).
    pub triage: Option<Triage>,
    /// Reporter's follow-ups.
    pub follow_ups: Vec<FollowUp>,
    /// Feedback for the reporter.
    pub feedback: Vec<Feedback>,
    /// Open analyses of this report.
    pub rcas_open: Vec<Uuid>,
    /// Closed analyses of this report.
    pub rcas_closed: Vec<Uuid>,
    /// Lessons of closed analyses, for the reporter.
    pub lessons: Vec<String>,
    /// The stream sequence of its filing, which holds its description.
    /// Known from where it is stored; never shown (it would tell when the
    /// report was filed more precisely than the day).
    #[serde(skip)]
    pub filed_seq: u64,
}

/// A report as staff see it: the record and its description.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Report {
    /// What the read model keeps.
    #[serde(flatten)]
    pub record: ReportRecord,
    /// What happened (scrubbed).
    pub description: String,
}

// Stored in postcard form (field names were half of a record's bytes),
// with the sequence of its filing, which the JSON form never shows. A
// change to the record or its enums raises the projector's version.
impl Stored for ReportRecord {
    fn encode(&self) -> Vec<u8> {
        lantern_projection::to_postcard(&(self.filed_seq, self))
    }

    fn decode(key: &[u8], bytes: &[u8]) -> Result<ReportRecord, ProjectionError> {
        let (filed_seq, record): (u64, ReportRecord) =
            lantern_projection::from_postcard(key, bytes)?;
        Ok(ReportRecord {
            filed_seq,
            ..record
        })
    }
}

/// The reports of a hospital filed in one month (in its time zone), in
/// filing order.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    /// Report ids, oldest first.
    pub ids: Vec<Uuid>,
}

lantern_projection::stored_as_postcard!(Listing);

impl ReportRecord {
    /// The grade that stands: the triaged one if triaged.
    pub fn current_grade(&self) -> Grade {
        self.triage.as_ref().map_or(self.grade, |t| t.grade)
    }

    /// The category that stands.
    pub fn current_category(&self) -> Category {
        self.triage.as_ref().map_or(self.category, |t| t.category)
    }

    /// The harm that stands, and for `mild` whether it needed treatment.
    pub fn current_harm(&self) -> (Harm, Option<bool>) {
        self.triage
            .as_ref()
            .map_or((self.harm, self.treatment_needed), |t| {
                (t.harm, t.treatment_needed)
            })
    }

    /// Whether triage marked it a duplicate of another report: the same
    /// event, counted once (不良事件例次).
    pub fn is_duplicate(&self) -> bool {
        self.triage
            .as_ref()
            .is_some_and(|t| t.duplicate_of.is_some())
    }

    pub(super) fn refresh_status(&mut self) {
        self.status = if !self.rcas_open.is_empty() {
            Status::UnderAnalysis
        } else if !self.rcas_closed.is_empty() {
            Status::Closed
        } else if self.triage.is_some() {
            Status::Triaged
        } else {
            Status::Received
        };
    }
}
