//! The FHIR R4 resources Lantern writes, as typed data: only the elements
//! it fills, each named and shaped as the specification has it, so that a
//! misspelt element is a compile error rather than a resource other
//! systems silently misread.

use serde::Serialize;

/// A code from a code system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coding {
    /// The code system's canonical URI.
    pub system: &'static str,
    /// The code.
    pub code: String,
    /// Its display, where the code system gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<&'static str>,
}

impl Coding {
    /// `code` of `system`, without a display.
    pub fn new(system: &'static str, code: impl Into<String>) -> Coding {
        Coding {
            system,
            code: code.into(),
            display: None,
        }
    }
}

/// Codes and/or text for one concept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeableConcept {
    /// The codes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    /// Text as the person who entered it wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl CodeableConcept {
    /// One coding, no text.
    pub fn of(coding: Coding) -> CodeableConcept {
        CodeableConcept {
            coding: vec![coding],
            text: None,
        }
    }
}

/// A reference to another resource (here: a contained one, `#id`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    /// `#<id>` of a contained resource.
    pub reference: String,
}

/// An extension with a code value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    /// What the extension means (its definition's URL).
    pub url: &'static str,
    /// Its value.
    pub value_code: String,
}

/// A business identifier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identifier {
    /// Where the value is unique.
    pub system: &'static str,
    /// The value.
    pub value: String,
}

/// The anonymous patient of an event: an id to refer to and the age band,
/// nothing else (as LFPSE shares a patient).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    /// Always `Patient`.
    pub resource_type: &'static str,
    /// The id a reference inside the container uses.
    pub id: &'static str,
    /// The age band, where the reporter gave one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
}

/// `AdverseEvent` (R4): an event that caused, or could have caused, harm.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdverseEvent {
    /// Always `AdverseEvent`.
    pub resource_type: &'static str,
    /// The report's id.
    pub id: String,
    /// The anonymous patient, referred to as the subject.
    pub contained: Vec<Patient>,
    /// The grade and where the report stands (Lantern's extensions).
    pub extension: Vec<Extension>,
    /// The short reference people read.
    pub identifier: Identifier,
    /// `actual`, or `potential` for a near miss (grade IV).
    pub actuality: &'static str,
    /// The event's category in Lantern's code system.
    pub category: Vec<CodeableConcept>,
    /// What happened: the category again, with the description as text
    /// where the audience reads narratives.
    pub event: CodeableConcept,
    /// The contained patient.
    pub subject: Reference,
    /// The day it happened.
    pub date: String,
    /// The day it was reported (never the time: it would single out the
    /// reporter).
    pub recorded_date: String,
    /// Serious (grades I and II) or not.
    pub seriousness: CodeableConcept,
    /// Mild, moderate or severe harm, where there was such harm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<CodeableConcept>,
    /// Fatal, where the harm was death; unknown, where it is not known yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<CodeableConcept>,
}

/// A link of a search result page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleLink {
    /// `self` or `next`.
    pub relation: &'static str,
    /// The page's URL.
    pub url: String,
}

/// How an entry came into a search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntrySearch {
    /// Always `match`.
    pub mode: &'static str,
}

/// One resource of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    /// The resource's URL.
    pub full_url: String,
    /// The resource.
    pub resource: AdverseEvent,
    /// Why it is here.
    pub search: EntrySearch,
}

/// A `searchset` bundle: one page of a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// Always `Bundle`.
    pub resource_type: &'static str,
    /// Always `searchset`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Matches in the whole search.
    pub total: usize,
    /// This page, and the next if there is one.
    pub link: Vec<BundleLink>,
    /// This page's matches.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entry: Vec<BundleEntry>,
}

/// One problem of an `OperationOutcome`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    /// `error` or `fatal`.
    pub severity: &'static str,
    /// FHIR's issue type (`invalid`, `not-found`, `forbidden`, …).
    pub code: &'static str,
    /// What went wrong, for a person.
    pub diagnostics: String,
    /// The parameter or element at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<String>,
}

/// `OperationOutcome`: how FHIR answers an error.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    /// Always `OperationOutcome`.
    pub resource_type: &'static str,
    /// The problems.
    pub issue: Vec<Issue>,
}
