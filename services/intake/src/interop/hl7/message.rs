//! Reading an HL7 v2 message (parsed by the `hl7-parser` crate) into what
//! Lantern records, pure: an `ORU^R01`'s critical results as critical-value
//! detections, an `ADT^A03` as a discharge (and a death). Every refusal
//! names the field it is about, as an ACK's ERR segment does.
//!
//! The contract (issue 28): the hospital is MSH-4; a repeat is the same
//! MSH-4 + MSH-3 + MSH-10. ORU^R01: item OBX-3 (text, code kept), value
//! OBX-5, unit OBX-6, flag OBX-8, detected_at OBX-14 (else OBR-7, else
//! MSH-7), specimen SPM-2 (else OBR-3), source OBR-24 (table 0074; else the
//! sender's configuration, else the catalogue's item, else other),
//! department PV1-3, setting PV1-2. ADT^A03: department PV1-3, month of
//! PV1-45 (else EVN-2, else MSH-7) in the hospital's zone; a death is
//! PV1-36 = 20 (table 0112) or 5 (病案首页 离院方式), or PID-30 = Y.
//! PID's identifiers and names are never read.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use hl7_parser::Message;
use hl7_parser::datetime::TimeStamp;
use hl7_parser::message::{Field, Segment, Separators};

use lantern_api::checks::{CLOCK_SKEW, earliest};
use lantern_directory::HospitalRecord;
use lantern_domain::Month;
use lantern_domain::critical::catalogue::{CatalogueHistory, recognise};
use lantern_domain::critical::{Setting, Source};
use lantern_domain::zone::zone;

use crate::critical::api::Detect;

/// Where a field is: ERR-2 (HL7 2.5 ERL) as `segment^sequence^field`,
/// the sequence counting the segments of that name from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Segment name, e.g. `OBX`.
    pub segment: &'static str,
    /// Which of the message's segments of that name, from 1.
    pub sequence: usize,
    /// Field number.
    pub field: usize,
}

impl Location {
    fn of(segment: &'static str, sequence: usize, field: usize) -> Location {
        Location {
            segment,
            sequence,
            field,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}^{}^{}", self.segment, self.sequence, self.field)
    }
}

/// HL7 table 0357 (message error condition codes), the ones Lantern sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 100: segment sequence error.
    SegmentSequence,
    /// 101: required field missing.
    RequiredMissing,
    /// 102: data type error.
    DataType,
    /// 103: table value not found.
    TableValue,
    /// 200: unsupported message type.
    UnsupportedType,
    /// 202: unsupported processing id.
    UnsupportedProcessing,
    /// 204: unknown key identifier.
    UnknownKey,
    /// 207: application internal error.
    Internal,
}

impl ErrorCode {
    /// The code and its table text.
    pub fn code(self) -> (&'static str, &'static str) {
        match self {
            ErrorCode::SegmentSequence => ("100", "Segment sequence error"),
            ErrorCode::RequiredMissing => ("101", "Required field missing"),
            ErrorCode::DataType => ("102", "Data type error"),
            ErrorCode::TableValue => ("103", "Table value not found"),
            ErrorCode::UnsupportedType => ("200", "Unsupported message type"),
            ErrorCode::UnsupportedProcessing => ("202", "Unsupported processing id"),
            ErrorCode::UnknownKey => ("204", "Unknown key identifier"),
            ErrorCode::Internal => ("207", "Application internal error"),
        }
    }
}

/// A message Lantern does not take, and how the ACK says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not an HL7 v2 message Lantern can read at all, or one it does not
    /// take (type, processing id, sender): `AR`.
    #[error("{message}")]
    Rejected {
        /// The field, where there is one.
        location: Option<Location>,
        /// Table 0357.
        code: ErrorCode,
        /// What is wrong, for the interface engineer.
        message: String,
    },
    /// A field is missing or wrong: `AE`, nothing appended; the sender
    /// fixes the message (or Lantern's configuration) and sends it again.
    #[error("{location}: {message}")]
    Error {
        /// The field.
        location: Location,
        /// Table 0357.
        code: ErrorCode,
        /// What is wrong.
        message: String,
    },
}

impl Refusal {
    fn field(location: Location, code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal::Error {
            location,
            code,
            message: message.into(),
        }
    }

    fn rejected(
        location: Option<Location>,
        code: ErrorCode,
        message: impl Into<String>,
    ) -> Refusal {
        Refusal::Rejected {
            location,
            code,
            message: message.into(),
        }
    }
}

/// The message types Lantern takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `ORU^R01`: observation results.
    Results,
    /// `ADT^A03`: a discharge or the end of a visit.
    Discharge,
}

impl Kind {
    /// The trigger event, as the ACK's MSH-9 repeats it.
    pub fn trigger(self) -> &'static str {
        match self {
            Kind::Results => "R01",
            Kind::Discharge => "A03",
        }
    }
}

/// What the ACK needs of a message's MSH, and who sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    /// MSH-3: the sending application (its configured source).
    pub application: String,
    /// MSH-4: the sending facility, a registered hospital's code.
    pub facility: String,
    /// MSH-5: the receiving application.
    pub receiving_application: String,
    /// MSH-6: the receiving facility.
    pub receiving_facility: String,
    /// MSH-7: when the message was made (raw).
    pub sent_at: String,
    /// MSH-9.2: the trigger event, echoed in the ACK.
    pub trigger: String,
    /// MSH-10: the control id the ACK's MSA-2 returns.
    pub control_id: String,
}

/// A parsed message: its header and its segments.
pub struct Parsed<'m> {
    message: Message<'m>,
    /// The header.
    pub header: Header,
    /// Its type, when Lantern takes it.
    pub kind: Kind,
}

/// A field's first component as text, escapes decoded; empty when absent.
fn text(field: Option<&Field<'_>>, component: usize, separators: &Separators) -> String {
    field
        .and_then(|f| f.component(component))
        .map(|c| c.display(separators).to_string())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn field<'a, 'm>(segment: Option<&'a Segment<'m>>, n: usize) -> Option<&'a Field<'m>> {
    segment.and_then(|s| s.field(n))
}

/// Reads the header of `text`; a frame that is not an HL7 v2 message is
/// rejected, as is a message whose type Lantern does not take (the
/// header then comes with the refusal, for the ACK).
pub fn parse(input: &str) -> Result<Parsed<'_>, Box<(Header, Refusal)>> {
    let not_hl7 = |why: &str| {
        Box::new((
            Header::default(),
            Refusal::rejected(None, ErrorCode::SegmentSequence, why),
        ))
    };
    if !input.starts_with("MSH") {
        return Err(not_hl7("not an HL7 v2 message: it does not begin with MSH"));
    }
    // Interface engines write segments ending in \n or \r\n as often as \r.
    let message = Message::parse_with_lenient_newlines(input, true)
        .map_err(|e| not_hl7(&format!("not an HL7 v2 message: {e}")))?;
    let s = &message.separators;
    let msh = message.segment("MSH");
    let header = Header {
        application: text(field(msh, 3), 1, s),
        facility: text(field(msh, 4), 1, s),
        receiving_application: text(field(msh, 5), 1, s),
        receiving_facility: text(field(msh, 6), 1, s),
        sent_at: text(field(msh, 7), 1, s),
        trigger: text(field(msh, 9), 2, s),
        control_id: text(field(msh, 10), 1, s),
    };
    let refuse = |r: Refusal| Err(Box::new((header.clone(), r)));
    let kind = match (text(field(msh, 9), 1, s).as_str(), header.trigger.as_str()) {
        ("ORU", "R01") => Kind::Results,
        ("ADT", "A03") => Kind::Discharge,
        (t, e) => {
            return refuse(Refusal::rejected(
                Some(Location::of("MSH", 1, 9)),
                ErrorCode::UnsupportedType,
                format!("Lantern takes ORU^R01 and ADT^A03, not {t}^{e}"),
            ));
        }
    };
    let processing = text(field(msh, 11), 1, s);
    if processing != "P" {
        return refuse(Refusal::rejected(
            Some(Location::of("MSH", 1, 11)),
            ErrorCode::UnsupportedProcessing,
            format!("processing id {processing:?}: Lantern records production (P) messages only"),
        ));
    }
    if header.control_id.is_empty() {
        return refuse(Refusal::field(
            Location::of("MSH", 1, 10),
            ErrorCode::RequiredMissing,
            "the message control id is required: a repeat is known by it",
        ));
    }
    if header.facility.is_empty() {
        return refuse(Refusal::rejected(
            Some(Location::of("MSH", 1, 4)),
            ErrorCode::UnknownKey,
            "the sending facility (a registered hospital's code) is required",
        ));
    }
    Ok(Parsed {
        message,
        header,
        kind,
    })
}

/// What the message is read against.
pub struct Context<'a> {
    /// The hospital of MSH-4.
    pub hospital: &'a HospitalRecord,
    /// Its critical-value catalogue, with its history.
    pub catalogue: &'a CatalogueHistory,
    /// The sending application's configured source, if it has one.
    pub sender_source: Option<Source>,
    /// Now (times later than this and the allowed skew are refused).
    pub now: DateTime<Utc>,
}

/// A critical result to record, and where each of its fields came from
/// (to name the field when the command path refuses one).
#[derive(Debug)]
pub struct Detection {
    /// Which of the message's results (the OBX's sequence): with the
    /// message's control id, the request's idempotency key.
    pub obx: usize,
    /// The detection, as the API takes it.
    pub detect: Detect,
    /// The field of each of the detection's JSON Pointers.
    pub fields: Vec<(&'static str, Location)>,
}

/// A discharge to count, and the death it may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discharge {
    /// PV1-3's department.
    pub department: String,
    /// The month it counts in, in the hospital's zone.
    pub month: Month,
    /// Whether it counts as a discharge (出院): an inpatient's (PV1-2 I or
    /// empty), not the end of an outpatient or emergency visit.
    pub inpatient: bool,
    /// The death, when the disposition says so.
    pub death: Option<Death>,
}

/// What an A03 tells of a death, for the safety officer to complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Death {
    /// PV1-45 (else EVN-2, else MSH-7).
    pub died_at: DateTime<FixedOffset>,
    /// PV1-44, when given.
    pub admitted_at: Option<DateTime<FixedOffset>>,
    /// PID-7's age at death as a band, when given (the date is not kept).
    pub birth_date: Option<chrono::NaiveDate>,
    /// DG1-3's code when it reads as ICD-10.
    pub diagnosis_icd10: Option<String>,
}

/// Reads an HL7 time (DTM/TS): with its offset when it has one, else in
/// the hospital's zone.
fn time(raw: &str, zone_name: &str) -> Option<DateTime<FixedOffset>> {
    let ts: TimeStamp = raw.parse().ok()?;
    let local = NaiveDateTime::try_from(ts).ok()?;
    match ts.offset {
        Some(o) => {
            let secs =
                i32::from(o.hours) * 3600 + i32::from(o.hours.signum()) * i32::from(o.minutes) * 60;
            FixedOffset::east_opt(secs)?
                .from_local_datetime(&local)
                .single()
        }
        None => zone(Some(zone_name))
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.fixed_offset()),
    }
}

/// A time field, checked: readable, not before 2000, not in the future.
fn checked_time(
    raw: &str,
    at: Location,
    ctx: &Context<'_>,
) -> Result<DateTime<FixedOffset>, Refusal> {
    let t = time(raw, &ctx.hospital.timezone).ok_or_else(|| {
        Refusal::field(
            at.clone(),
            ErrorCode::DataType,
            format!("{raw:?} is not an HL7 date/time (YYYYMMDD[HHMM[SS]][+ZZZZ])"),
        )
    })?;
    if t.to_utc() > ctx.now + CLOCK_SKEW {
        return Err(Refusal::field(at, ErrorCode::DataType, "is in the future"));
    }
    if t.to_utc() < earliest() {
        return Err(Refusal::field(at, ErrorCode::DataType, "is before 2000"));
    }
    Ok(t)
}

/// The first time of `candidates` that is given, with where it was.
fn first_given(
    candidates: impl IntoIterator<Item = Option<(String, Location)>>,
) -> Option<(String, Location)> {
    candidates
        .into_iter()
        .flatten()
        .find(|(raw, _)| !raw.is_empty())
}

/// PV1-3's department: a registered department of the hospital.
fn department(parsed: &Parsed<'_>, ctx: &Context<'_>) -> Result<String, Refusal> {
    let s = &parsed.message.separators;
    let at = Location::of("PV1", 1, 3);
    let pv1 = parsed.message.segment("PV1").ok_or_else(|| {
        Refusal::field(
            at.clone(),
            ErrorCode::RequiredMissing,
            "a PV1 segment with the patient's department (PV1-3) is required",
        )
    })?;
    let code = text(pv1.field(3), 1, s);
    if code.is_empty() {
        return Err(Refusal::field(
            at,
            ErrorCode::RequiredMissing,
            "the patient's department (PV1-3.1) is required",
        ));
    }
    if !ctx.hospital.departments.contains_key(&code) {
        return Err(Refusal::field(
            at,
            ErrorCode::TableValue,
            format!(
                "{code:?} is not a registered department of hospital {}",
                ctx.hospital.code
            ),
        ));
    }
    Ok(code)
}

/// HL7 table 0074 (diagnostic service section, OBR-24) as a source.
pub fn source_of_section(section: &str) -> Option<Source> {
    Some(match section {
        "LAB" | "CH" | "HM" | "BLB" | "MB" | "SR" | "CG" | "IMM" | "SP_LAB" => Source::Lab,
        "RAD" | "CT" | "MR" | "US" | "NMR" | "NMS" | "RX" | "XRC" | "VUS" => Source::Imaging,
        "EC" | "CUS" => Source::Ecg,
        "PAT" | "SP" | "CP" => Source::Pathology,
        "" => return None,
        _ => Source::Other,
    })
}

/// OBX-8 flags that mean critical: panic high, panic low, critically
/// abnormal.
const CRITICAL_FLAGS: [&str; 3] = ["HH", "LL", "AA"];

/// One OBR group's order: what its results inherit.
#[derive(Default)]
struct Order {
    observed_at: Option<(String, Location)>,
    placer: String,
    section: String,
    specimen: String,
}

/// The critical results of an `ORU^R01`: each OBX flagged HH, LL or AA, or
/// recognised by the hospital's catalogue as it held when the result was
/// observed. Results that are not critical are read (and refused when
/// malformed) but not recorded: Lantern keeps critical values, not results.
pub fn results(parsed: &Parsed<'_>, ctx: &Context<'_>) -> Result<Vec<Detection>, Refusal> {
    let s = &parsed.message.separators;
    let sent_at = (parsed.header.sent_at.clone(), Location::of("MSH", 1, 7));
    // Orders and their results in message order: an SPM follows its
    // order's results, so a result's specimen is known at the group's end.
    let mut orders: Vec<Order> = Vec::new();
    let mut pending: Vec<(usize, usize, &Segment<'_>)> = Vec::new();
    let (mut obr_seq, mut obx_seq) = (0, 0);
    for segment in parsed.message.segments() {
        match segment.name {
            "OBR" => {
                obr_seq += 1;
                let observed = text(segment.field(7), 1, s);
                orders.push(Order {
                    observed_at: (!observed.is_empty())
                        .then(|| (observed, Location::of("OBR", obr_seq, 7))),
                    placer: text(segment.field(3), 1, s),
                    section: text(segment.field(24), 1, s),
                    specimen: String::new(),
                });
            }
            "SPM" => {
                if let Some(order) = orders.last_mut()
                    && order.specimen.is_empty()
                {
                    // SPM-2 is placer^filler, each an EI whose first
                    // subcomponent is the identifier: the filler's, else
                    // the placer's.
                    let id = |n| {
                        segment
                            .field(2)
                            .and_then(|f| f.component(n))
                            .and_then(|c| c.subcomponent(1))
                            .map(|sc| sc.display(s).to_string())
                            .unwrap_or_default()
                    };
                    let filler = id(2);
                    order.specimen = if filler.trim().is_empty() {
                        id(1).trim().to_owned()
                    } else {
                        filler.trim().to_owned()
                    };
                }
            }
            "OBX" => {
                obx_seq += 1;
                if orders.is_empty() {
                    return Err(Refusal::field(
                        Location::of("OBX", obx_seq, 1),
                        ErrorCode::SegmentSequence,
                        "an OBX before any OBR: a result belongs to an order",
                    ));
                }
                pending.push((orders.len() - 1, obx_seq, segment));
            }
            _ => {}
        }
    }
    let mut detections = Vec::new();
    for (order_index, n, obx) in pending {
        let order = &orders[order_index];
        let at = |field| Location::of("OBX", n, field);
        let status = text(obx.field(11), 1, s);
        // Deleted, wrong or not obtained: no value to judge.
        if matches!(status.as_str(), "D" | "W" | "X") {
            continue;
        }
        let code = text(obx.field(3), 1, s);
        let name = text(obx.field(3), 2, s);
        let item = match (name.is_empty(), code.is_empty()) {
            (false, false) => format!("{name} ({code})"),
            (false, true) => name,
            (true, false) => code.clone(),
            (true, true) => {
                return Err(Refusal::field(
                    at(3),
                    ErrorCode::RequiredMissing,
                    "the observation identifier (OBX-3) is required",
                ));
            }
        };
        let value_type = text(obx.field(2), 1, s);
        let value = match value_type.as_str() {
            // Structured numeric: comparator^number (e.g. >^500).
            "SN" => format!("{}{}", text(obx.field(5), 1, s), text(obx.field(5), 2, s)),
            // Coded: the text, else the code.
            "CE" | "CWE" | "CNE" => {
                let t = text(obx.field(5), 2, s);
                if t.is_empty() {
                    text(obx.field(5), 1, s)
                } else {
                    t
                }
            }
            _ => obx
                .field(5)
                .map(|f| f.display(s).to_string())
                .unwrap_or_default()
                .trim()
                .to_owned(),
        };
        if value.is_empty() {
            return Err(Refusal::field(
                at(5),
                ErrorCode::RequiredMissing,
                "the observation value (OBX-5) is required",
            ));
        }
        if value_type == "NM" && value.parse::<f64>().map_or(true, |v| !v.is_finite()) {
            return Err(Refusal::field(
                at(5),
                ErrorCode::DataType,
                format!("{value:?} is not a number, as value type NM (OBX-2) says"),
            ));
        }
        if value.chars().count() > 100 {
            return Err(Refusal::field(
                at(5),
                ErrorCode::DataType,
                "is longer than 100 characters",
            ));
        }
        let unit = {
            let u = text(obx.field(6), 1, s);
            if u.is_empty() {
                text(obx.field(6), 2, s)
            } else {
                u
            }
        };
        if unit.chars().count() > 50 {
            return Err(Refusal::field(
                at(6),
                ErrorCode::DataType,
                "is longer than 50 characters",
            ));
        }
        let observed = first_given([
            Some((text(obx.field(14), 1, s), at(14))),
            order.observed_at.clone(),
            Some(sent_at.clone()),
        ])
        .ok_or_else(|| {
            Refusal::field(
                at(14),
                ErrorCode::RequiredMissing,
                "no time: OBX-14, OBR-7 or MSH-7 is required",
            )
        })?;
        let detected_at = checked_time(&observed.0, observed.1.clone(), ctx)?;
        let flagged = obx
            .field(8)
            .into_iter()
            .flat_map(|f| f.repeats())
            .any(|r| CRITICAL_FLAGS.contains(&r.raw_value().trim()));
        let catalogue = ctx.catalogue.at(detected_at.to_utc());
        let unit = (!unit.is_empty()).then_some(unit);
        let recognised = !code.is_empty() && recognise(&catalogue, &code, &value, unit.as_deref());
        if !(flagged || recognised) {
            continue;
        }
        let source = source_of_section(&order.section)
            .or(ctx.sender_source)
            .or_else(|| catalogue.get(&code).map(|i| i.source))
            .unwrap_or(Source::Other);
        let (specimen, specimen_at) = if order.specimen.is_empty() {
            (
                order.placer.clone(),
                Location::of("OBR", order_index + 1, 3),
            )
        } else {
            (
                order.specimen.clone(),
                Location::of("SPM", order_index + 1, 2),
            )
        };
        detections.push(Detection {
            obx: n,
            fields: vec![
                ("/department", Location::of("PV1", 1, 3)),
                ("/item", at(3)),
                ("/value", at(5)),
                ("/unit", at(6)),
                ("/detected_at", observed.1),
                ("/specimen_id", specimen_at),
            ],
            detect: Detect {
                hospital: ctx.hospital.code.clone(),
                // The patient's, read below once a result is critical.
                department: String::new(),
                source,
                item,
                value,
                unit,
                detected_at,
                patient_setting: Setting::Inpatient,
                specimen_id: (!specimen.is_empty()).then_some(specimen),
                notified: None,
                acknowledged: None,
                handled: None,
            },
        });
    }
    // Where the patient is matters only for what is recorded: a feed of
    // every result carries departments Lantern does not know, and their
    // normal results are acknowledged, not refused.
    if detections.is_empty() {
        return Ok(detections);
    }
    let department = department(parsed, ctx)?;
    let setting = match text(field(parsed.message.segment("PV1"), 2), 1, s).as_str() {
        "I" => Setting::Inpatient,
        "O" => Setting::Outpatient,
        "E" => Setting::Emergency,
        other => {
            return Err(Refusal::field(
                Location::of("PV1", 1, 2),
                ErrorCode::TableValue,
                format!("patient class {other:?}: I, O or E (inpatient, outpatient, emergency)"),
            ));
        }
    };
    for d in &mut detections {
        d.detect.department.clone_from(&department);
        d.detect.patient_setting = setting;
    }
    Ok(detections)
}

/// Disposition codes that mean the patient died: HL7 table 0112's
/// "expired", and 病案首页 离院方式 5 (死亡).
const DIED: [&str; 2] = ["20", "5"];

/// An `ADT^A03`: the discharge it counts, in its department and month, and
/// the death it reports when its disposition (PV1-36) or the death
/// indicator (PID-30) says so.
pub fn discharge(parsed: &Parsed<'_>, ctx: &Context<'_>) -> Result<Discharge, Refusal> {
    let s = &parsed.message.separators;
    let department = department(parsed, ctx)?;
    let pv1 = parsed.message.segment("PV1");
    let evn = parsed.message.segment("EVN");
    let pid = parsed.message.segment("PID");
    let class = text(field(pv1, 2), 1, s);
    let when = first_given([
        Some((text(field(pv1, 45), 1, s), Location::of("PV1", 1, 45))),
        Some((text(field(evn, 2), 1, s), Location::of("EVN", 1, 2))),
        Some((parsed.header.sent_at.clone(), Location::of("MSH", 1, 7))),
    ])
    .ok_or_else(|| {
        Refusal::field(
            Location::of("PV1", 1, 45),
            ErrorCode::RequiredMissing,
            "no time: PV1-45, EVN-2 or MSH-7 is required",
        )
    })?;
    let discharged_at = checked_time(&when.0, when.1, ctx)?;
    let month = Month::of(
        discharged_at
            .with_timezone(&zone(Some(&ctx.hospital.timezone)))
            .date_naive(),
    );
    let died = DIED.contains(&text(field(pv1, 36), 1, s).as_str())
        || text(field(pid, 30), 1, s).eq_ignore_ascii_case("Y");
    let death = if died {
        let admitted = text(field(pv1, 44), 1, s);
        let admitted_at = if admitted.is_empty() {
            None
        } else {
            Some(checked_time(&admitted, Location::of("PV1", 1, 44), ctx)?)
        };
        if admitted_at.is_some_and(|a| a > discharged_at) {
            return Err(Refusal::field(
                Location::of("PV1", 1, 44),
                ErrorCode::DataType,
                "the admission is after the discharge",
            ));
        }
        // PID-7 is read for the age band only; never kept.
        let birth_date = {
            let raw = text(field(pid, 7), 1, s);
            raw.parse::<TimeStamp>()
                .ok()
                .and_then(|ts| chrono::NaiveDate::try_from(ts).ok())
        };
        let dg1 = parsed.message.segment("DG1");
        let diagnosis = text(field(dg1, 3), 1, s).to_ascii_uppercase();
        Some(Death {
            died_at: discharged_at,
            admitted_at,
            birth_date,
            diagnosis_icd10: icd10(&diagnosis).then_some(diagnosis),
        })
    } else {
        None
    };
    Ok(Discharge {
        department,
        month,
        inpatient: matches!(class.as_str(), "I" | ""),
        death,
    })
}

/// Whether `code` reads as an ICD-10 code (`I21.0`, `J18.9`, `C34`): the
/// death record's schema pattern.
fn icd10(code: &str) -> bool {
    let b = code.as_bytes();
    let head =
        b.len() >= 3 && b[0].is_ascii_uppercase() && b[1].is_ascii_digit() && b[2].is_ascii_digit();
    let tail = match b.get(3..) {
        None | Some([]) => true,
        Some([b'.', rest @ ..]) => {
            (1..=4).contains(&rest.len())
                && rest
                    .iter()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        }
        Some(_) => false,
    };
    head && tail
}

#[cfg(test)]
mod tests;
