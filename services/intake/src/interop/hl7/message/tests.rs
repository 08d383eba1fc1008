//! Messages as hospitals send them, read into what Lantern records.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lantern_directory::HospitalRecord;
use lantern_domain::critical::catalogue::{CatalogueHistory, CatalogueItem, Threshold};
use lantern_domain::critical::{Setting, Source};

use super::*;

fn hospital() -> HospitalRecord {
    HospitalRecord {
        code: "H1".into(),
        name: "H1".into(),
        region: "R1".into(),
        level: "tertiary".into(),
        timezone: "Asia/Shanghai".into(),
        departments: BTreeMap::from([("ICU".into(), "重症医学科".into())]),
        parents: vec![],
    }
}

fn now() -> DateTime<Utc> {
    "2026-10-06T00:00:00Z".parse().unwrap()
}

fn potassium() -> CatalogueHistory {
    let mut h = CatalogueHistory::default();
    h.push(CatalogueItem {
        item: "K".into(),
        name: "血钾".into(),
        unit: Some("mmol/L".into()),
        low: Threshold::from_f64(2.8).ok(),
        high: Threshold::from_f64(6.2).ok(),
        source: Source::Lab,
        effective_from: "2026-01-01T00:00:00+08:00".parse().unwrap(),
    });
    h
}

fn read<T>(
    text: &str,
    catalogue: &CatalogueHistory,
    sender_source: Option<Source>,
    f: impl FnOnce(&Parsed<'_>, &Context<'_>) -> T,
) -> T {
    let h = hospital();
    let parsed = parse(text).map_err(|e| e.1).unwrap();
    let ctx = Context {
        hospital: &h,
        catalogue,
        sender_source,
        now: now(),
    };
    f(&parsed, &ctx)
}

/// An ORU^R01 with the given OBX segments, an order from the chemistry
/// section and a specimen.
fn oru(obx: &[&str], pv1: &str) -> String {
    let mut m = vec![
        "MSH|^~\\&|LIS|H1|LANTERN|LANTERN|20261005081000||ORU^R01^ORU_R01|C1|P|2.5".to_owned(),
        "PID|1||MRN123^^^H1^MR||张三||19500101|M".into(),
        pv1.into(),
        "OBR|1|P1|F1|PANEL^电解质|||20261005075500|||||||||||||||||CH".into(),
    ];
    m.extend(obx.iter().map(|s| (*s).to_owned()));
    m.push("SPM|1|SP1&LIS^SP9&LAB||SER".into());
    m.join("\r") + "\r"
}

const PV1: &str = "PV1|1|I|ICU^12^3";

#[test]
fn flagged_and_catalogued_results_are_detected_and_the_rest_read_only() {
    let text = oru(
        &[
            "OBX|1|NM|K^血钾^LN||6.9|mmol/L|3.5-5.5|HH|||F|||20261005080000",
            "OBX|2|NM|NA^血钠||140|mmol/L|135-145|N|||F",
            // Not flagged, but past the catalogue's high limit.
            "OBX|3|NM|K^血钾||6.5|mmol/l||H|||F|||20261005080100+0800",
            // Flagged critical among other flags; no time of its own.
            "OBX|4|ST|GLU^血糖||<1.1|mmol/L||L~LL|||P",
            // Deleted: nothing to judge.
            "OBX|5|NM|K^血钾||9.9|mmol/L||HH|||D",
        ],
        PV1,
    );
    let detections = read(&text, &potassium(), None, results).unwrap();
    let got: Vec<_> = detections
        .iter()
        .map(|d| (d.obx, d.detect.item.as_str(), d.detect.value.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "血钾 (K)", "6.9"),
            (3, "血钾 (K)", "6.5"),
            (4, "血糖 (GLU)", "<1.1")
        ]
    );
    let first = &detections[0].detect;
    assert_eq!(
        (
            first.hospital.as_str(),
            first.department.as_str(),
            first.source,
            first.unit.as_deref(),
            first.patient_setting,
            first.specimen_id.as_deref(),
        ),
        (
            "H1",
            "ICU",
            Source::Lab,
            Some("mmol/L"),
            Setting::Inpatient,
            Some("SP9")
        )
    );
    // OBX-14 in the hospital's zone; with an offset as given; else OBR-7.
    assert_eq!(first.detected_at.to_rfc3339(), "2026-10-05T08:00:00+08:00");
    assert_eq!(
        detections[1].detect.detected_at.to_rfc3339(),
        "2026-10-05T08:01:00+08:00"
    );
    assert_eq!(
        detections[2].detect.detected_at.to_rfc3339(),
        "2026-10-05T07:55:00+08:00"
    );
    // Without the catalogue, only the flagged ones.
    let flagged = read(&text, &CatalogueHistory::default(), None, results).unwrap();
    assert_eq!(flagged.iter().map(|d| d.obx).collect::<Vec<_>>(), [1, 4]);
}

#[test]
fn the_source_is_obr_24_else_the_senders_else_the_catalogues_else_other() {
    let obx = "OBX|1|NM|K^血钾||6.9|mmol/L||HH|||F";
    let without_section = |text: String| text.replace("||||CH\r", "||||\r");
    let source = |text: &str, sender, catalogue: &CatalogueHistory| {
        read(text, catalogue, sender, results).unwrap()[0]
            .detect
            .source
    };
    let with_ct = oru(&[obx], PV1).replace("||||CH\r", "||||CT\r");
    assert_eq!(
        source(&with_ct, Some(Source::Lab), &potassium()),
        Source::Imaging
    );
    let bare = without_section(oru(&[obx], PV1));
    assert_eq!(source(&bare, Some(Source::Ecg), &potassium()), Source::Ecg);
    assert_eq!(source(&bare, None, &potassium()), Source::Lab);
    assert_eq!(
        source(&bare, None, &CatalogueHistory::default()),
        Source::Other
    );
    for (section, want) in [
        ("HM", Source::Lab),
        ("MR", Source::Imaging),
        ("EC", Source::Ecg),
        ("PAT", Source::Pathology),
        ("XYZ", Source::Other),
    ] {
        assert_eq!(source_of_section(section), Some(want), "{section}");
    }
    assert_eq!(source_of_section(""), None);
}

fn refusal(text: &str) -> Refusal {
    read(text, &potassium(), None, results).unwrap_err()
}

fn location(r: &Refusal) -> String {
    match r {
        Refusal::Error { location, .. } => location.to_string(),
        Refusal::Rejected { location, .. } => {
            format!(
                "AR {}",
                location
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            )
        }
    }
}

#[test]
fn a_wrong_field_is_named_as_segment_sequence_field() {
    let ok = "OBX|1|NM|K^血钾||6.9|mmol/L||HH|||F";
    let cases = [
        (
            oru(&[ok, "OBX|2|NM|K^血钾||abc|mmol/L||HH|||F"], PV1),
            "OBX^2^5",
        ),
        (oru(&[ok], "PV1|1|I|NOPE"), "PV1^1^3"),
        (oru(&[ok], "PV1|1|I|"), "PV1^1^3"),
        (oru(&[ok], "PV1|1|X|ICU"), "PV1^1^2"),
        (oru(&["OBX|1|NM|||6.9|mmol/L||HH|||F"], PV1), "OBX^1^3"),
        (oru(&["OBX|1|NM|K^血钾|||mmol/L||HH|||F"], PV1), "OBX^1^5"),
        (
            oru(&["OBX|1|NM|K^血钾||6.9|mmol/L||HH|||F|||2026133"], PV1),
            "OBX^1^14",
        ),
        (
            oru(&["OBX|1|NM|K^血钾||6.9|mmol/L||HH|||F|||20991231"], PV1),
            "OBX^1^14",
        ),
        (oru(&[ok], PV1).replace("PV1|1|I|ICU^12^3\r", ""), "PV1^1^3"),
    ];
    for (text, want) in cases {
        assert_eq!(location(&refusal(&text)), want, "{text:?}");
    } // Normal results of a department Lantern does not know are read, not
    // refused: only what is recorded needs the patient's department.
    let normal = oru(&["OBX|1|NM|NA^血钠||140|mmol/L||N|||F"], "PV1|1|X|NOPE");
    assert!(
        read(&normal, &potassium(), None, results)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_frame_that_is_not_a_message_or_not_one_lantern_takes_is_rejected() {
    let reject = |text: &str| match parse(text) {
        Err(e) => location(&e.1),
        Ok(_) => "accepted".into(),
    };
    assert_eq!(reject("hello"), "AR ");
    assert_eq!(reject(""), "AR ");
    assert_eq!(
        reject("MSH|^~\\&|LIS|H1|||20261005||ADT^A01|C1|P|2.5\r"),
        "AR MSH^1^9"
    );
    assert_eq!(
        reject("MSH|^~\\&|LIS|H1|||20261005||ORU^R01|C1|T|2.5\r"),
        "AR MSH^1^11"
    );
    assert_eq!(
        reject("MSH|^~\\&|LIS||||20261005||ORU^R01|C1|P|2.5\r"),
        "AR MSH^1^4"
    );
    assert_eq!(
        reject("MSH|^~\\&|LIS|H1|||20261005||ORU^R01||P|2.5\r"),
        "MSH^1^10"
    );
    // Segments ending in LF, as files of them do, read alike.
    let lf = oru(&["OBX|1|NM|K^血钾||6.9|mmol/L||HH|||F"], PV1).replace('\r', "\n");
    let parsed = parse(&lf).map_err(|e| e.1).unwrap();
    assert_eq!(
        (
            parsed.kind,
            parsed.header.control_id.as_str(),
            parsed.header.facility.as_str()
        ),
        (Kind::Results, "C1", "H1")
    );
}

/// A PV1 segment with the given fields set.
fn pv1(fields: &[(usize, &str)]) -> String {
    let mut f = vec![String::new(); 46];
    f[0] = "PV1".into();
    f[1] = "1".into();
    for (n, v) in fields {
        f[*n] = (*v).into();
    }
    f.join("|")
}

fn a03(pv1: &str, pid30: &str) -> String {
    [
        "MSH|^~\\&|HIS|H1|LANTERN|LANTERN|20261005090000||ADT^A03^ADT_A03|D1|P|2.5".to_owned(),
        "EVN|A03|20261005085900".into(),
        format!("PID|1||MRN123^^^H1^MR||张三||19500101|M{}", pid30),
        pv1.into(),
        "DG1|1||I21.0^急性心肌梗死^I10".into(),
    ]
    .join("\r")
}

#[test]
fn a_discharge_counts_in_its_department_and_month_and_a_death_is_reported() {
    let plain = a03(
        &pv1(&[
            (2, "I"),
            (3, "ICU^12^3"),
            (36, "01"),
            (44, "20260930080000"),
            (45, "20261001003000"),
        ]),
        "",
    );
    let d = read(&plain, &potassium(), None, discharge).unwrap();
    // 00:30 on 1 October in Shanghai: October, not September (UTC).
    assert_eq!(
        (d.department.as_str(), d.month.to_string()),
        ("ICU", "2026-10".into())
    );
    assert!(d.inpatient && d.death.is_none());

    let died = plain.replace("|01|||", "|20|||");
    let d = read(&died, &potassium(), None, discharge).unwrap();
    let death = d.death.unwrap();
    assert_eq!(death.died_at.to_rfc3339(), "2026-10-01T00:30:00+08:00");
    assert_eq!(
        death.admitted_at.map(|t| t.to_rfc3339()),
        Some("2026-09-30T08:00:00+08:00".into())
    );
    assert_eq!(death.diagnosis_icd10.as_deref(), Some("I21.0"));
    assert_eq!(
        death.birth_date.map(|d| d.to_string()),
        Some("1950-01-01".into())
    );
    // 离院方式 5, and the death indicator, say so too.
    let five = plain.replace("|01|||", "|5|||");
    assert!(
        read(&five, &potassium(), None, discharge)
            .unwrap()
            .death
            .is_some()
    );
    let pid30 = a03("PV1|1|I|ICU", "||||||||||||||||||||||Y");
    let d = read(&pid30, &potassium(), None, discharge).unwrap();
    assert!(d.death.is_some());
    // Without PV1-45, EVN-2's time.
    assert_eq!(
        d.death.unwrap().died_at.to_rfc3339(),
        "2026-10-05T08:59:00+08:00"
    );
    // The end of an outpatient visit is not a discharge.
    let visit = a03("PV1|1|O|ICU", "");
    assert!(
        !read(&visit, &potassium(), None, discharge)
            .unwrap()
            .inpatient
    );
    let unknown = a03("PV1|1|I|ER", "");
    assert_eq!(
        location(&read(&unknown, &potassium(), None, discharge).unwrap_err()),
        "PV1^1^3"
    );
}

#[test]
fn icd10_codes_are_what_the_death_record_takes() {
    for ok in ["I21.0", "J18.9", "C34", "U07.1", "S06.0X1A"] {
        assert!(icd10(ok), "{ok}");
    }
    for bad in ["", "I2", "21.0", "I21.", "I21.00000", "i21.0", "I21-0"] {
        assert!(!icd10(bad), "{bad}");
    }
}
