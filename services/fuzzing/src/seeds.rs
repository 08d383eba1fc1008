//! Small, meaningful starting inputs for every target. `tests/corpora.rs`
//! runs them on every `cargo test`, and writes them under
//! `fuzz/corpus/<target>/seed-<name>` when `LANTERN_WRITE_SEEDS=1`.

use serde_json::{Value, json};

use crate::decode::registry;
use crate::scenario::{FIXTURES, ScenarioWriter, SeedData, fixture};

/// A seed: target, name, bytes.
pub type Seed = (&'static str, String, Vec<u8>);

/// Every seed of every target.
pub fn all() -> Vec<Seed> {
    let mut out = Vec::new();
    for (name, text) in SCRUB {
        out.push(("scrub", (*name).to_owned(), text.as_bytes().to_vec()));
    }
    for (name, bytes) in reports() {
        out.push(("decode_report", name.to_owned(), bytes));
    }
    out.extend(schemas());
    for (name, bytes) in scenarios() {
        for target in [
            "project_directory",
            "project_reports",
            "project_critical",
            "project_rates",
            "project_rca",
            "project_mortality",
        ] {
            out.push((target, name.to_owned(), bytes.clone()));
        }
    }
    out
}

const SCRUB: &[(&str, &str)] = &[
    (
        "zh-pii",
        "患者张某（身份证110101199003072316）静推氯化钾后血钾6.9 mmol/L，已电话通知家属13812345678，\
         并发邮件至 nurse.li@hospital.cn，住院号：ZY2026001。",
    ),
    (
        "full-width",
        "电话：１３８－１２３４－５６７８。身份证：１１０１０１１９９００３０７２３１６，邮箱zhang＠example．com",
    ),
    (
        "clinical",
        "T 36.5℃ P 110次/分 BP 180/110mmHg SpO2 95% 血钾 6.9 mmol/L 20261123 0815 202611230815 \
         3.14159265358979 订单号1234567890 12床 WBC 12.3×10^9/L",
    ),
    (
        "landlines",
        "科室电话010-12345678转，（0571）87654321，+86 10 12345678，0571-87654321-8012，给药时间 0800 1200 1600",
    ),
    (
        "labels",
        "[ID][PHONE][EMAIL][MRN] MRNA-1 MRN 12345 MR No. 889900 病案号：A123456 Tel. 8765 4321 hotel 12345678 手机号12345678901",
    ),
    (
        "long-runs",
        "卡号6222021234567890123 1732345678000 110101 19900307 2314 1234567.123456789012 身份证110101199003072316.13812345678",
    ),
];

fn report() -> Value {
    json!({
        "hospital": "H0001",
        "department": "ICU",
        "occurred_at": "2026-01-15T08:30:00+08:00",
        "grade": "III",
        "category": "medication",
        "harm": "none",
        "location": "ICU 12床",
        "description": "氯化钾浓度配错，床旁双人核对时发现。家属电话13812345678。",
        "immediate_actions": "停止输注，复查血钾",
        "reporter_role": "nurse",
        "patient_age_band": "70-79"
    })
}

fn reports() -> Vec<(&'static str, Vec<u8>)> {
    let with = |field: &str, value: Value| {
        let mut r = report();
        r[field] = value;
        r.to_string().into_bytes()
    };
    let without = |field: &str| {
        let mut r = report();
        r.as_object_mut().map(|o| o.remove(field));
        r.to_string().into_bytes()
    };
    let valid = report().to_string().into_bytes();
    vec![
        ("valid", valid.clone()),
        (
            "minimal",
            br#"{"hospital":"H0001","department":"ICU","occurred_at":"2026-01-15T08:30:00Z","grade":"IV","category":"fall","harm":"none","description":"x"}"#.to_vec(),
        ),
        ("missing-description", without("description")),
        ("unknown-field", with("departmnet", json!("ICU"))),
        ("wrong-enum", with("grade", json!("V"))),
        ("wrong-type", with("occurred_at", json!(20260115))),
        ("offset-less-time", with("occurred_at", json!("2026-01-15T08:30:00"))),
        ("grade-harm-mismatch", with("harm", json!("death"))),
        (
            "description-of-emails",
            with("description", json!("a@b.cc ".repeat(570))),
        ),
        (
            "duplicate-key",
            [br#"{"grade":"I","#.as_slice(), &valid[1..]].concat(),
        ),
        ("truncated", valid[..valid.len() - 1].to_vec()),
        ("trailing", [valid.as_slice(), b"}"].concat()),
        ("not-utf8", b"{\"hospital\":\"\xff\"}".to_vec()),
        ("array", b"[]".to_vec()),
        ("positional", br#"["H0001","ICU"]"#.to_vec()),
        ("deep", "[".repeat(200).into_bytes()),
        (
            "lone-surrogate",
            br#"{"hospital":"H0001","department":"ICU","occurred_at":"2026-01-15T08:30:00Z","grade":"IV","category":"fall","harm":"none","description":"\ud800"}"#.to_vec(),
        ),
    ]
}

fn schemas() -> Vec<Seed> {
    let known: Vec<(String, u32)> = registry().known().map(|(t, v)| (t.to_owned(), v)).collect();
    let index = |t: &str| known.iter().position(|(k, _)| k == t);
    let mut out = Vec::new();
    for (i, (t, _)) in known.iter().enumerate() {
        let mut bytes = vec![u8::try_from(i).unwrap_or(0)];
        bytes.extend(fixture(t).to_string().into_bytes());
        out.push(("schema_validate", t.clone(), bytes));
    }
    if let Some(invalid) = FIXTURES.get_dir("invalid") {
        for file in invalid.files() {
            let name = file
                .path()
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let t = name.split(".v1.").next().unwrap_or_default();
            let Some(i) = index(t) else { continue };
            let mut bytes = vec![u8::try_from(i).unwrap_or(0)];
            bytes.extend_from_slice(file.contents());
            out.push((
                "schema_validate",
                name.trim_end_matches(".json").to_owned(),
                bytes,
            ));
        }
    }
    out
}

fn scenarios() -> Vec<(&'static str, Vec<u8>)> {
    use SeedData::{Fixture, Mutated, Raw};
    let report_life = ScenarioWriter::new()
        .event("org.hospital_registered", 0, 0, 0, Fixture)
        .event("org.department_registered", 0, 0, 0, Fixture)
        .event("report.filed", 0, 0, 1, Fixture)
        .event(
            "report.triaged",
            0,
            0,
            2,
            Mutated(&[("grade", 1), ("category", 1)]),
        )
        .commit()
        .event("report.followed_up", 0, 0, 3, Fixture)
        .event("report.feedback_posted", 0, 0, 4, Fixture)
        .event("rca.opened", 2, 0, 5, Mutated(&[("report_ids", 4)]))
        .redeliver(2)
        .crash()
        .event("rca.closed", 2, 0, 20, Fixture)
        .event(
            "report.filed",
            4,
            0,
            6,
            Mutated(&[("grade", 0), ("harm", 0)]),
        )
        .finish();
    let critical_loop = ScenarioWriter::new()
        .event("org.hospital_registered", 0, 0, 0, Fixture)
        .event(
            "org.limits_set",
            0,
            0,
            0,
            Mutated(&[("notification_limit_minutes", 1)]),
        )
        .event("critical_value.detected", 0, 0, 1, Fixture)
        .event("critical_value.notified", 0, 0, 1, Fixture)
        .commit()
        .event("critical_value.acknowledged", 0, 0, 1, Fixture)
        .event("critical_value.handled", 0, 0, 1, Fixture)
        .event(
            "critical_value.detected",
            2,
            0,
            2,
            Mutated(&[("detected_at", 4)]),
        )
        .event("critical_value.handled", 2, 0, 2, Fixture)
        .event(
            "critical_value.notified",
            2,
            0,
            2,
            Mutated(&[("notified_at", 2)]),
        )
        .crash()
        .redeliver(1)
        .finish();
    let rates_months = ScenarioWriter::new()
        .event(
            "org.hospital_registered",
            0,
            0,
            0,
            Mutated(&[("timezone", 1)]),
        )
        .event("report.filed", 0, 0, 0, Fixture)
        .event("report.filed", 2, 0, 10, Mutated(&[("category", 2)]))
        .event("report.filed", 1, 1, 11, Fixture)
        .event("census.recorded", 0, 0, 12, Mutated(&[("month", 0)]))
        .commit()
        .event(
            "census.recorded",
            0,
            0,
            13,
            Mutated(&[("month", 0), ("discharges", 3)]),
        )
        .event("report.triaged", 2, 0, 14, Mutated(&[("grade", 0)]))
        .event("report.triaged", 2, 0, 15, Mutated(&[("grade", 0)]))
        .crash()
        .finish();
    let garbage = ScenarioWriter::new()
        .event("org.hospital_registered", 0, 0, 0, Raw(b"{\"timezone\":7}"))
        .event("report.filed", 0, 0, 0, Raw(b"[1,2,3]"))
        .event("critical_value.detected", 1, 0, 0, Raw(b"not json"))
        .event("census.recorded", 0, 2, 0, Mutated(&[("discharges", 5)]))
        .event("report.unknown", 3, 0, 0, Fixture)
        .event("org.token_issued", 0, 1, 0, Fixture)
        .event("org.token_revoked", 0, 1, 0, Fixture)
        .finish();
    let extreme_times = ScenarioWriter::new()
        .event(
            "org.hospital_registered",
            0,
            0,
            -127,
            Mutated(&[("timezone", 2)]),
        )
        .event("report.filed", 0, 0, 126, Mutated(&[("occurred_at", 7)]))
        .event(
            "critical_value.detected",
            0,
            0,
            -127,
            Mutated(&[("detected_at", 8)]),
        )
        .event(
            "critical_value.notified",
            0,
            0,
            126,
            Mutated(&[("notified_at", 7)]),
        )
        .event("org.limits_set", 0, 0, 126, Fixture)
        .finish();
    let rca_case = ScenarioWriter::new()
        .event("org.hospital_registered", 0, 0, 0, Fixture)
        .event("report.filed", 0, 0, 1, Mutated(&[("grade", 0)]))
        .event("report.filed", 1, 0, 1, Fixture)
        .event("rca.opened", 2, 0, 2, Fixture)
        .event("rca.timeline_added", 2, 0, 2, Fixture)
        .event("rca.factor_added", 2, 0, 3, Fixture)
        .commit()
        .event("rca.root_cause_confirmed", 2, 0, 3, Fixture)
        .event("rca.action_planned", 2, 0, 4, Fixture)
        .redeliver(3)
        .event("rca.action_completed", 2, 0, 30, Fixture)
        .crash()
        .event("rca.closed", 2, 0, 31, Fixture)
        .event("report.triaged", 0, 0, 32, Mutated(&[("grade", 3)]))
        .finish();
    let death_trail = ScenarioWriter::new()
        .event("org.hospital_registered", 0, 0, 0, Fixture)
        .event("death.recorded", 3, 0, 1, Fixture)
        .event("death.review_held", 3, 0, 2, Fixture)
        .commit()
        .event("death.autopsy_reported", 3, 0, 5, Fixture)
        .event("death.review_held", 3, 0, 6, Fixture)
        .crash()
        .event("death.review_closed", 3, 0, 7, Fixture)
        .redeliver(1)
        .event("death.recorded", 4, 0, 8, Fixture)
        .finish();
    vec![
        ("rca-case", rca_case),
        ("death-trail", death_trail),
        ("report-life", report_life),
        ("critical-loop", critical_loop),
        ("rates-months", rates_months),
        ("garbage", garbage),
        ("extreme-times", extreme_times),
    ]
}
