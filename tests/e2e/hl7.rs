//! HL7 v2 over MLLP (issue 28 item 1) against a running `lantern serve`:
//! messages over a real TCP connection in MLLP frames, each answered with
//! an ACK; critical results in the worklist, a repeat appending nothing.

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::Lantern;

/// An HL7 time `minutes` ago, in UTC with its offset.
fn hl7_time(minutes_ago: i64) -> String {
    (Utc::now() - TimeDelta::minutes(minutes_ago))
        .format("%Y%m%d%H%M%S+0000")
        .to_string()
}

/// Sends one message framed in MLLP and reads the framed answer.
async fn send(stream: &mut TcpStream, message: &str) -> String {
    let mut frame = vec![0x0b];
    frame.extend_from_slice(message.as_bytes());
    frame.extend_from_slice(&[0x1c, 0x0d]);
    stream.write_all(&frame).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(&[0x1c, 0x0d]) {
        let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf))
            .await
            .expect("an ACK within 30 s")
            .unwrap();
        assert!(n > 0, "the connection closed before the ACK");
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got[0], 0x0b, "an MLLP frame");
    String::from_utf8(got[1..got.len() - 2].to_vec()).unwrap()
}

/// The field `n` of the segment `name` of an ACK (MSH counted as HL7 does).
fn field(ack: &str, name: &str, n: usize) -> String {
    let segment = ack
        .split('\r')
        .find(|s| s.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in {ack:?}"));
    let fields: Vec<&str> = segment.split('|').collect();
    let index = if name == "MSH" { n - 1 } else { n };
    fields.get(index).copied().unwrap_or_default().to_owned()
}

/// An ORU^R01 whose orders (OBR, OBX…, SPM) are `orders`.
fn oru(control_id: &str, facility: &str, department: &str, orders: &[String]) -> String {
    let mut m = vec![
        format!(
            "MSH|^~\\&|LIS|{facility}|LANTERN|LANTERN|{}||ORU^R01^ORU_R01|{control_id}|P|2.5",
            hl7_time(5)
        ),
        "PID|1||MRN0042^^^H1^MR||王五||19600101|F".to_owned(),
        format!("PV1|1|I|{department}^12^3"),
    ];
    m.extend(orders.iter().cloned());
    m.join("\r") + "\r"
}

/// An order of the chemistry section on specimen `specimen`.
fn order(n: usize, specimen: &str, results: &[String]) -> Vec<String> {
    let mut m = vec![format!(
        "OBR|{n}|P{n}|F{n}|PANEL^电解质|||{}|||||||||||||||||CH",
        hl7_time(12)
    )];
    m.extend(results.iter().cloned());
    m.push(format!("SPM|{n}|{specimen}&LIS||SER"));
    m
}

/// The hospital's open critical values once `n` are there (the worklist is
/// a read model: it catches up within seconds).
async fn worklist(l: &Lantern, token: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (s, r) = l
            .get("/api/v1/critical-values?hospital=H1", Some(token))
            .await;
        assert_eq!(s, 200, "{r}");
        let rows = r["rows"].as_array().unwrap().clone();
        if rows.len() >= n || Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn critical_results_over_mllp_are_acknowledged_recorded_once_and_refused_by_field() {
    let port = lantern_testkit::free_port();
    let addr = format!("127.0.0.1:{port}");
    let l = Lantern::start_with(&[
        ("LANTERN_MLLP_ADDR", addr.as_str()),
        ("LANTERN_MLLP_SOURCES", "LIS=lab,PACS=imaging"),
    ])
    .await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let so = l.officer("H1").await;
    // The hospital's catalogue: potassium above 6.2 mmol/L is critical.
    let r = l
        .request(
            reqwest::Method::PUT,
            "/api/v1/hospitals/H1/critical-catalogue/K",
            Some(&so),
        )
        .json(
            &json!({"name": "血钾", "unit": "mmol/L", "low": 2.8, "high": 6.2,
                       "source": "lab", "effective_from": "2026-01-01T00:00:00+08:00"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let set: Value = r.json().await.unwrap();
    // The catalogue is read by the feed as the critical-values model has it.
    let (s, _) = l
        .get(
            &format!(
                "/api/v1/hospitals/H1/critical-catalogue?after={}",
                set["seq"]
            ),
            Some(&so),
        )
        .await;
    assert_eq!(s, 200);

    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let results = [
        order(
            1,
            "SP-0042",
            &[
                // Flagged panic high by the analyser.
                format!(
                    "OBX|1|NM|K^血钾^LN||6.9|mmol/L|3.5-5.5|HH|||F|||{}",
                    hl7_time(10)
                ),
                // Normal: read, not recorded.
                "OBX|2|NM|NA^血钠||140|mmol/L|135-145|N|||F".to_owned(),
            ],
        ),
        // Not flagged critical, but past the catalogue's limit; another
        // specimen (OBR-7's time).
        order(
            2,
            "SP-0043",
            &["OBX|3|NM|K^血钾||6.5|mmol/L||H|||F".to_owned()],
        ),
    ]
    .concat();
    let before = l.stream_count().await;
    let ack = send(&mut stream, &oru("ORU-1", "H1", "ICU", &results)).await;
    assert_eq!(field(&ack, "MSA", 1), "AA", "{ack}");
    assert_eq!(field(&ack, "MSA", 2), "ORU-1");
    assert_eq!(field(&ack, "MSH", 9), "ACK^R01^ACK");
    assert_eq!(
        (field(&ack, "MSH", 5), field(&ack, "MSH", 6)),
        ("LIS".into(), "H1".into())
    );
    assert_eq!(l.stream_count().await, before + 2, "two critical results");

    let rows = worklist(&l, &so, 2).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let mut values: Vec<(&str, &str, &str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["item"].as_str().unwrap(),
                r["value"].as_str().unwrap(),
                r["unit"].as_str().unwrap(),
                r["department"].as_str().unwrap(),
                r["source"].as_str().unwrap(),
                r["patient_setting"].as_str().unwrap(),
            )
        })
        .collect();
    values.sort();
    assert_eq!(
        values,
        [
            ("血钾 (K)", "6.5", "mmol/L", "ICU", "lab", "inpatient"),
            ("血钾 (K)", "6.9", "mmol/L", "ICU", "lab", "inpatient"),
        ]
    );
    let mut specimens: Vec<&str> = rows
        .iter()
        .map(|r| r["specimen_id"].as_str().unwrap())
        .collect();
    specimens.sort();
    assert_eq!(specimens, ["SP-0042", "SP-0043"], "SPM-2");
    // The patient never reaches the stream.
    let stream_text: String = l
        .stream_payloads()
        .await
        .iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    assert!(!stream_text.contains("MRN0042") && !stream_text.contains("王五"));

    // The same control id again: acknowledged, nothing appended.
    let again = send(&mut stream, &oru("ORU-1", "H1", "ICU", &results)).await;
    assert_eq!(
        (field(&again, "MSA", 1), field(&again, "MSA", 2)),
        ("AA".into(), "ORU-1".into()),
        "{again}"
    );
    assert_eq!(
        l.stream_count().await,
        before + 2,
        "a repeat appends nothing"
    );

    // A wrong field: AE naming it, nothing appended.
    let bad_department = send(&mut stream, &oru("ORU-2", "H1", "NOPE", &results)).await;
    assert_eq!(field(&bad_department, "MSA", 1), "AE", "{bad_department}");
    assert_eq!(field(&bad_department, "ERR", 2), "PV1^1^3");
    let not_a_number = order(
        1,
        "SP-0044",
        &[format!(
            "OBX|1|NM|K^血钾||six|mmol/L||HH|||F|||{}",
            hl7_time(3)
        )],
    );
    let bad_value = send(&mut stream, &oru("ORU-3", "H1", "ICU", &not_a_number)).await;
    assert_eq!(
        (field(&bad_value, "MSA", 1), field(&bad_value, "ERR", 2)),
        ("AE".into(), "OBX^1^5".into()),
        "{bad_value}"
    );
    assert_eq!(field(&bad_value, "ERR", 3), "102^Data type error^HL70357");
    // An unknown sender: AR.
    let unknown = send(&mut stream, &oru("ORU-4", "H9", "ICU", &results)).await;
    assert_eq!(
        (field(&unknown, "MSA", 1), field(&unknown, "ERR", 2)),
        ("AR".into(), "MSH^1^4".into()),
        "{unknown}"
    );
    // A frame that is no HL7 message: AR, and the connection goes on.
    let noise = send(&mut stream, "hello").await;
    assert_eq!(
        (field(&noise, "MSA", 1), field(&noise, "MSA", 2)),
        ("AR".into(), String::new())
    );
    assert_eq!(
        l.stream_count().await,
        before + 2,
        "refusals append nothing"
    );
    // A corrected result of an item on a specimen already recorded counts
    // once (acknowledged, nothing appended); a new specimen is recorded.
    let corrected = order(
        1,
        "SP-0042",
        &[format!(
            "OBX|1|NM|K^血钾||7.0|mmol/L||HH|||C|||{}",
            hl7_time(2)
        )],
    );
    let ack = send(&mut stream, &oru("ORU-5", "H1", "ICU", &corrected)).await;
    assert_eq!(field(&ack, "MSA", 1), "AA", "{ack}");
    assert_eq!(
        l.stream_count().await,
        before + 2,
        "the specimen counts once"
    );
    let later = order(
        1,
        "SP-0045",
        &[format!(
            "OBX|1|NM|K^血钾||7.1|mmol/L||HH|||F|||{}",
            hl7_time(1)
        )],
    );
    let ack = send(&mut stream, &oru("ORU-6", "H1", "ICU", &later)).await;
    assert_eq!(field(&ack, "MSA", 1), "AA", "{ack}");
    assert_eq!(worklist(&l, &so, 3).await.len(), 3);
}

/// An ADT^A03 of department `department`: discharged 10 minutes ago
/// (PV1-45), patient class `class` (PV1-2), disposition `disposition`
/// (PV1-36).
fn a03(control_id: &str, department: &str, class: &str, disposition: &str) -> String {
    let mut pv1 = vec![String::new(); 46];
    pv1[0] = "PV1".into();
    pv1[1] = "1".into();
    pv1[2] = class.into();
    pv1[3] = format!("{department}^05^2");
    pv1[36] = disposition.into();
    pv1[44] = hl7_time(60 * 24 * 3);
    pv1[45] = hl7_time(10);
    [
        format!(
            "MSH|^~\\&|HIS|H1|LANTERN|LANTERN|{}||ADT^A03^ADT_A03|{control_id}|P|2.5",
            hl7_time(5)
        ),
        format!("EVN|A03|{}", hl7_time(9)),
        "PID|1||MRN0077^^^H1^MR||赵六||19400101|M".to_owned(),
        pv1.join("|"),
        "DG1|1||I21.0^急性心肌梗死^I10".to_owned(),
    ]
    .join("\r")
        + "\r"
}

#[tokio::test]
async fn discharges_over_mllp_count_into_the_census_until_a_figure_is_recorded() {
    let port = lantern_testkit::free_port();
    let addr = format!("127.0.0.1:{port}");
    let l = Lantern::start_with(&[("LANTERN_MLLP_ADDR", addr.as_str())]).await;
    l.hospital("H1", "R1", &["ICU", "ER"]).await;
    let so = l.officer("H1").await;
    let his = l.token(json!({"role": "his", "hospital": "H1"})).await;
    // The month of a discharge 10 minutes ago, in the hospital's zone.
    let month = (Utc::now() - TimeDelta::minutes(10))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m")
        .to_string();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let before = l.stream_count().await;
    for (id, class, disposition) in [("A-1", "I", "01"), ("A-2", "I", "01"), ("A-3", "I", "20")] {
        let ack = send(&mut stream, &a03(id, "ICU", class, disposition)).await;
        assert_eq!(
            (
                field(&ack, "MSA", 1),
                field(&ack, "MSA", 2),
                field(&ack, "MSH", 9)
            ),
            ("AA".into(), id.to_owned(), "ACK^A03^ACK".into()),
            "{ack}"
        );
    }
    let counted = l.stream_count().await;
    assert_eq!(counted, before + 4, "three discharges and a death");
    // A repeat counts nothing more; the end of an outpatient visit is no
    // discharge; an unknown department is named.
    for (id, disposition) in [("A-2", "01"), ("A-3", "20")] {
        let again = send(&mut stream, &a03(id, "ICU", "I", disposition)).await;
        assert_eq!(field(&again, "MSA", 1), "AA", "{again}");
    }
    let visit = send(&mut stream, &a03("A-4", "ER", "O", "01")).await;
    assert_eq!(field(&visit, "MSA", 1), "AA", "{visit}");
    assert_eq!(l.stream_count().await, counted, "neither appends");
    let unknown = send(&mut stream, &a03("A-5", "NOPE", "I", "01")).await;
    assert_eq!(
        (field(&unknown, "MSA", 1), field(&unknown, "ERR", 2)),
        ("AE".into(), "PV1^1^3".into()),
        "{unknown}"
    );

    // The rates count them as the month's discharges, and say so.
    let path =
        format!("/api/v1/rates?from={month}&to={month}&by=department&department=ICU&hospital=H1");
    let deadline = Instant::now() + Duration::from_secs(20);
    let row = loop {
        let (s, r) = l.get(&path, Some(&so)).await;
        assert_eq!(s, 200, "{r}");
        let row = r["rows"][0].clone();
        if row["discharges"].as_u64().unwrap_or(0) >= 3 || Instant::now() > deadline {
            break row;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        (
            &row["discharges"],
            &row["discharges_counted"],
            &row["census_months"]
        ),
        (&json!(3), &json!(3), &json!(1)),
        "{row}"
    );
    // A census figure recorded for the month stands instead.
    let (s, r) = l
        .post(
            "/api/v1/census",
            Some(&his),
            &json!({"hospital": "H1", "department": "ICU", "month": month, "discharges": 50}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let (_, r) = l
        .get(
            &format!(
                "/api/v1/rates?from={month}&to={month}&by=department&department=ICU&hospital=H1&after={}",
                r["seq"]
            ),
            Some(&so),
        )
        .await;
    assert_eq!(
        (
            &r["rows"][0]["discharges"],
            &r["rows"][0]["discharges_counted"]
        ),
        (&json!(50), &json!(0)),
        "{r}"
    );

    // The death waits for the safety officer, who completes its record
    // (low-risk group, diagnosis, autopsy) on the same id.
    let deadline = Instant::now() + Duration::from_secs(20);
    let reported = loop {
        let (s, r) = l
            .get("/api/v1/deaths/reported?hospital=H1", Some(&so))
            .await;
        assert_eq!(s, 200, "{r}");
        if !r["rows"].as_array().unwrap().is_empty() || Instant::now() > deadline {
            break r["rows"].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(reported.as_array().unwrap().len(), 1, "{reported}");
    let death = &reported[0];
    assert_eq!(
        (
            &death["reported"]["department"],
            &death["reported"]["age_band"],
            &death["reported"]["diagnosis_icd10"]
        ),
        (&json!("ICU"), &json!("80-89"), &json!("I21.0")),
        "{death}"
    );
    let id = death["death_id"].as_str().unwrap();
    let (s, r) = l
        .post(
            "/api/v1/deaths",
            Some(&so),
            &json!({"hospital": "H1", "department": "ICU",
                    "admitted_at": death["reported"]["admitted_at"],
                    "died_at": death["reported"]["died_at"], "age_band": "80-89",
                    "diagnosis_icd10": "I21.0", "low_risk": true, "autopsy": false,
                    "reported": id}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["death_id"], id, "the record completes the reported death");
    let (s, trail) = l
        .get(
            &format!("/api/v1/deaths/{id}?after={}", r["seq"]),
            Some(&so),
        )
        .await;
    assert_eq!(
        (s.as_u16(), &trail["low_risk"]),
        (200, &json!(true)),
        "{trail}"
    );
    let (_, r) = l
        .get(
            &format!("/api/v1/deaths/reported?hospital=H1&after={}", r["seq"]),
            Some(&so),
        )
        .await;
    assert_eq!(r["rows"], json!([]), "completed: no longer waiting");
}

/// Builds an ORU^R01 with hl7apy (`build <control id> <facility> <time>`)
/// or reads an ACK from stdin with it (`ack`: its type, MSA-1 and MSA-2).
const HL7APY: &str = r#"import sys
from hl7apy.core import Message

def build(control_id, facility, when):
    m = Message("ORU_R01", version="2.5")
    m.msh.msh_3 = "LIS"
    m.msh.msh_4 = facility
    m.msh.msh_5 = "LANTERN"
    m.msh.msh_6 = "LANTERN"
    m.msh.msh_7 = when
    m.msh.msh_9 = "ORU^R01^ORU_R01"
    m.msh.msh_10 = control_id
    m.msh.msh_11 = "P"
    m.msh.msh_12 = "2.5"
    result = m.add_group("ORU_R01_PATIENT_RESULT")
    patient = result.add_group("ORU_R01_PATIENT")
    patient.pid.pid_1 = "1"
    patient.pid.pid_3 = "MRN0099^^^H1^MR"
    patient.pid.pid_5 = "QIAN^QI"
    visit = patient.add_group("ORU_R01_VISIT")
    visit.pv1.pv1_1 = "1"
    visit.pv1.pv1_2 = "I"
    visit.pv1.pv1_3 = "ICU^12^3"
    order = result.add_group("ORU_R01_ORDER_OBSERVATION")
    order.obr.obr_1 = "1"
    order.obr.obr_4 = "PANEL^Electrolytes"
    order.obr.obr_7 = when
    order.obr.obr_24 = "CH"
    observation = order.add_group("ORU_R01_OBSERVATION")
    obx = observation.obx
    obx.obx_1 = "1"
    obx.obx_2 = "NM"
    obx.obx_3 = "K^Potassium^LN"
    obx.obx_5 = "7.2"
    obx.obx_6 = "mmol/L"
    obx.obx_8 = "HH"
    obx.obx_11 = "F"
    obx.obx_14 = when
    specimen = order.add_group("ORU_R01_SPECIMEN")
    specimen.spm.spm_1 = "1"
    specimen.spm.spm_2 = "SP-PY1&LIS"
    return m

if sys.argv[1] == "build":
    sys.stdout.write(build(sys.argv[2], sys.argv[3], sys.argv[4]).to_er7())
else:
    from hl7apy.parser import parse_message
    ack = parse_message(sys.stdin.read(), find_groups=False)
    sys.stdout.write(" ".join([ack.name, ack.msa.msa_1.to_er7(), ack.msa.msa_2.to_er7()]))
"#;

/// Runs `program` with `args` (and `stdin`), at most `secs` seconds: its
/// stdout, or why not.
async fn run(
    program: &std::path::Path,
    args: &[&str],
    stdin: &str,
    secs: u64,
) -> Result<String, String> {
    use std::process::Stdio;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = tokio::time::timeout(Duration::from_secs(secs), child.wait_with_output())
        .await
        .map_err(|_| format!("{} {args:?}: more than {secs} s", program.display()))?
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{} {args:?}: {}\n{}",
            program.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// An ORU^R01 made by an independent implementation, the Python `hl7apy`
/// 1.3.5 (pinned, installed into a venv this test makes; skipped, saying
/// so, when it cannot be installed, e.g. offline), is recorded, and
/// Lantern's ACK reads in hl7apy.
#[tokio::test]
async fn a_message_built_by_hl7apy_is_recorded_and_its_ack_reads_there() {
    let dir = tempfile::Builder::new()
        .prefix("lantern-hl7apy-")
        .tempdir()
        .unwrap();
    let venv = dir.path().join("venv");
    let python = venv.join("bin/python");
    let installed = async {
        run(
            std::path::Path::new("python3"),
            &["-m", "venv", venv.to_str().unwrap()],
            "",
            60,
        )
        .await?;
        run(
            &python,
            &[
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "hl7apy==1.3.5",
            ],
            "",
            180,
        )
        .await
    }
    .await;
    if let Err(why) = installed {
        eprintln!(
            "a_message_built_by_hl7apy_is_recorded_and_its_ack_reads_there: skipped: hl7apy 1.3.5 not installed: {why}"
        );
        return;
    }
    let script = dir.path().join("hl7apy_messages.py");
    std::fs::write(&script, HL7APY).unwrap();
    let script = script.to_str().unwrap();

    let port = lantern_testkit::free_port();
    let addr = format!("127.0.0.1:{port}");
    let l = Lantern::start_with(&[("LANTERN_MLLP_ADDR", addr.as_str())]).await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let so = l.officer("H1").await;
    let message = run(
        &python,
        &[script, "build", "PY-1", "H1", &hl7_time(5)],
        "",
        60,
    )
    .await
    .unwrap();
    assert!(message.starts_with("MSH|^~\\&|LIS|H1|"), "{message:?}");
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let ack = send(&mut stream, &message).await;
    assert_eq!(
        run(&python, &[script, "ack"], &ack, 60).await.unwrap(),
        "ACK AA PY-1",
        "{ack}"
    );
    let rows = worklist(&l, &so, 1).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (
            &rows[0]["item"],
            &rows[0]["value"],
            &rows[0]["unit"],
            &rows[0]["source"],
            &rows[0]["specimen_id"]
        ),
        (
            &json!("Potassium (K)"),
            &json!("7.2"),
            &json!("mmol/L"),
            &json!("lab"),
            &json!("SP-PY1")
        )
    );
    // hl7apy reads an AE of Lantern's too.
    let wrong = message.replace("ICU^12^3", "NOPE");
    let ack = send(&mut stream, &wrong.replace("PY-1", "PY-2")).await;
    assert_eq!(
        run(&python, &[script, "ack"], &ack, 60).await.unwrap(),
        "ACK AE PY-2",
        "{ack}"
    );
}
