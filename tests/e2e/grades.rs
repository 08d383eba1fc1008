//! DESIGN.md "Grades" (v2): grade and harm agree on filing and on triage,
//! triage re-assesses harm, `unknown` leaves the grade provisional — and a
//! stream written before v2 reads, live and rebuilt, with v2's meaning.

use async_nats::jetstream;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Lantern, clock};

fn filing(grade: &str, harm: &str, category: &str) -> Value {
    json!({"hospital": "H1", "department": "ICU", "occurred_at": clock::rfc3339_in(-3600),
           "grade": grade, "category": category, "harm": harm,
           "description": "夜间跌倒，X 线示髋部骨折 / fell at night, hip fracture on X-ray"})
}

fn pointers(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["pointer"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn grade_and_harm_agree_on_filing_as_design_v2_says() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let before = l.stream_count().await;
    let mut mild = filing("III", "mild", "fall");
    let mut mild_treated = mild.clone();
    mild_treated["treatment_needed"] = json!(true);
    let mut moderate_with_treatment = filing("II", "moderate", "fall");
    moderate_with_treatment["treatment_needed"] = json!(true);
    let mut coarse_band = filing("III", "none", "fall");
    coarse_band["patient_age_band"] = json!("0-9");
    for (body, pointer, why) in [
        (
            mild.clone(),
            "/treatment_needed",
            "mild must say whether it needed treatment",
        ),
        (
            mild_treated,
            "/treatment_needed",
            "mild needing treatment is grade II",
        ),
        (
            moderate_with_treatment,
            "/treatment_needed",
            "only mild says it",
        ),
        (
            filing("IV", "none", "fall"),
            "/harm",
            "IV did not reach the patient",
        ),
        (
            filing("IV", "unknown", "fall"),
            "/harm",
            "IV's harm is not_applicable",
        ),
        (
            filing("I", "not_applicable", "fall"),
            "/harm",
            "not_applicable is IV's alone",
        ),
        (filing("II", "none", "fall"), "/harm", "II is harm"),
        (
            coarse_band,
            "/patient_age_band",
            "v1's 0-9 overlaps the newborn bands",
        ),
    ] {
        let (s, p) = l.post("/api/v1/reports", None, &body).await;
        assert_eq!(s, 422, "{why}: {p}");
        assert!(pointers(&p).contains(&pointer.to_owned()), "{why}: {p}");
    }
    assert_eq!(
        l.stream_count().await,
        before,
        "refused filings appended nothing"
    );

    // What agrees is filed as version 2, with the new vocabulary.
    mild["treatment_needed"] = json!(false);
    let mut newborn = filing("II", "mild", "perinatal");
    newborn["treatment_needed"] = json!(true);
    newborn["patient_age_band"] = json!("0-28d");
    for body in [
        mild,
        newborn,
        filing("IV", "not_applicable", "critical_value_process"),
        filing("I", "unknown", "elopement"),
        filing("III", "none", "vte"),
    ] {
        let (s, r) = l.post("/api/v1/reports", None, &body).await;
        assert_eq!(s, 201, "{body} → {r}");
    }
    let payloads = l.stream_payloads().await;
    let filed: Vec<Value> = payloads
        .iter()
        .map(|p| serde_json::from_slice::<Value>(p).unwrap())
        .filter(|e| e["type"] == "report.filed")
        .collect();
    assert_eq!(filed.len(), 5);
    assert!(
        filed.iter().all(|e| e["version"] == 2),
        "every new filing is v2"
    );
    assert_eq!(filed[0]["data"]["treatment_needed"], false);
    assert_eq!(filed[2]["data"]["harm"], "not_applicable");
    assert!(filed[2]["data"].get("treatment_needed").is_none());
}

#[tokio::test]
async fn triage_re_assesses_harm_and_is_held_to_the_same_rule() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let so = l.officer("H1").await;
    // The case: a fall with moderate harm (fracture), filed as II.
    let (_, fall) = l
        .post("/api/v1/reports", None, &filing("II", "moderate", "fall"))
        .await;
    let fall = fall["report_id"].as_str().unwrap().to_owned();
    let triage = format!("/api/v1/reports/{fall}/triage");
    let before = l.stream_count().await;

    // Triaged to IV with its harm as filed: refused, naming harm.
    let (s, p) = l
        .post(
            &triage,
            Some(&so),
            &json!({"grade": "IV", "category": "fall"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), pointers(&p)),
        (422, vec!["/harm".to_owned()]),
        "{p}"
    );
    assert!(p.to_string().contains("re-assess"), "{p}");
    // Triaged to IV with a harm that disagrees: refused.
    let (s, p) = l
        .post(
            &triage,
            Some(&so),
            &json!({"grade": "IV", "category": "fall", "harm": "moderate"}),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    let (s, p) = l
        .post(
            &triage,
            Some(&so),
            &json!({"grade": "III", "category": "fall", "harm": "mild", "treatment_needed": true}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), pointers(&p)),
        (422, vec!["/treatment_needed".to_owned()]),
        "{p}"
    );
    assert_eq!(
        l.stream_count().await,
        before,
        "refused triages appended nothing"
    );

    // Re-assessed as severe, grade I: accepted, and it stands.
    let (s, t) = l
        .post(
            &triage,
            Some(&so),
            &json!({"grade": "I", "category": "fall", "harm": "severe"}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let after = t["seq"].as_u64().unwrap();
    let (_, r) = l
        .get(&format!("/api/v1/reports/{fall}?after={after}"), Some(&so))
        .await;
    assert_eq!(
        (&r["triage"]["grade"], &r["triage"]["harm"]),
        (&json!("I"), &json!("severe")),
        "{r}"
    );
    assert_eq!(r["harm"], "moderate", "the filing is kept as filed");

    // Harm unknown leaves the grade provisional until triage.
    let (_, unknown) = l
        .post("/api/v1/reports", None, &filing("I", "unknown", "fall"))
        .await;
    let unknown = unknown["report_id"].as_str().unwrap().to_owned();
    let (_, r) = l
        .get(
            &format!("/api/v1/reports/{unknown}?after={}", after + 1),
            Some(&so),
        )
        .await;
    assert_eq!(r["provisional"], true, "{r}");
    let (s, t) = l
        .post(
            &format!("/api/v1/reports/{unknown}/triage"),
            Some(&so),
            &json!({"grade": "II", "category": "fall", "harm": "mild", "treatment_needed": true}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let (_, r) = l
        .get(
            &format!("/api/v1/reports/{unknown}?after={}", t["seq"]),
            Some(&so),
        )
        .await;
    assert_eq!(r["provisional"], false, "{r}");
    assert_eq!(r["triage"]["treatment_needed"], true, "{r}");
}

/// Appends an event as the v1 build wrote it: the envelope with `version`
/// 1 on its aggregate's subject. Returns the stream sequence.
async fn append_v1(l: &Lantern, kind: &str, aggregate: Uuid, event_type: &str, data: Value) -> u64 {
    let js = jetstream::new(l.nats.client().await);
    let envelope = json!({
        "id": Uuid::new_v4(), "type": event_type, "version": 1, "aggregate": aggregate,
        "hospital": "H1", "recorded_at": chrono::Utc::now().to_rfc3339(), "data": data,
    });
    let ack = js
        .publish(
            format!("lantern.H1.{kind}.{aggregate}"),
            envelope.to_string().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    ack.sequence
}

#[tokio::test]
async fn a_stream_written_before_v2_reads_and_rebuilds_with_the_v2_rule() {
    let mut l = Lantern::with_hospitals(&["H1"]).await;
    let so = l.officer("H1").await;
    let month = clock::current_month();
    let v1 = |grade: &str, harm: &str, category: &str| {
        json!({"department": "ICU", "occurred_at": clock::rfc3339_in(-7200), "grade": grade,
               "category": category, "harm": harm, "description": "v1 时代的报告 / a v1 report",
               "receipt_hash": format!("{:064x}", rand_u128())})
    };
    let (a, b, c, d) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    append_v1(&l, "report", a, "report.filed", v1("III", "mild", "fall")).await;
    append_v1(&l, "report", b, "report.filed", v1("IV", "none", "diet")).await;
    append_v1(
        &l,
        "report",
        c,
        "report.filed",
        v1("II", "mild", "medication"),
    )
    .await;
    append_v1(&l, "report", d, "report.filed", v1("III", "none", "fall")).await;
    append_v1(
        &l,
        "report",
        d,
        "report.triaged",
        json!({"grade": "IV", "category": "fall"}),
    )
    .await;
    let last = append_v1(
        &l,
        "report",
        c,
        "report.triaged",
        json!({"grade": "II", "category": "medication", "duplicate_of": a}),
    )
    .await;

    // Read live with the v2 meaning; nothing in the stream is rewritten.
    let report = |id: Uuid| format!("/api/v1/reports/{id}?after={last}");
    let (_, ra) = l.get(&report(a), Some(&so)).await;
    assert_eq!(
        (&ra["harm"], &ra["treatment_needed"]),
        (&json!("mild"), &json!(false)),
        "{ra}"
    );
    let (_, rb) = l.get(&report(b), Some(&so)).await;
    assert_eq!(rb["harm"], "not_applicable", "{rb}");
    let (_, rc) = l.get(&report(c), Some(&so)).await;
    assert_eq!(rc["treatment_needed"], true, "{rc}");
    assert_eq!(
        rc["triage"]["harm"], "mild",
        "a v1 triage leaves the filed harm: {rc}"
    );
    let (_, rd) = l.get(&report(d), Some(&so)).await;
    assert_eq!(
        rd["triage"]["harm"], "not_applicable",
        "triaged to IV: {rd}"
    );
    let stored: Vec<Value> = l
        .stream_payloads()
        .await
        .iter()
        .map(|p| serde_json::from_slice(p).unwrap())
        .filter(|e: &Value| e["type"] == "report.filed")
        .collect();
    assert!(
        stored
            .iter()
            .all(|e| e["version"] == 1 && e["data"].get("treatment_needed").is_none())
    );

    // The v2 figures: the duplicate leaves the count, grade as triaged.
    let (_, r) = l
        .get(
            &format!(
                "/api/v1/rates?from={month}&to={month}&by=department&hospital=H1&after={last}"
            ),
            Some(&so),
        )
        .await;
    let row = &r["rows"][0];
    assert_eq!(
        (&row["reports"], &row["duplicates"]),
        (&json!(3), &json!(1)),
        "{r}"
    );
    assert_eq!(
        row["by_grade"],
        json!({"I": 0, "II": 0, "III": 1, "IV": 2}),
        "{r}"
    );

    // A rebuild from the stream gives the same read models.
    l.stop();
    for projector in ["reports", "rates", "rca"] {
        let fresh = l.data.path().join(format!("rebuilt-{projector}"));
        l.run(&["rebuild", projector, "--into", fresh.to_str().unwrap()]);
        assert_eq!(
            l.run(&["export", projector]),
            l.run(&["export", projector, "--from", fresh.to_str().unwrap()]),
            "{projector}"
        );
    }
}

fn rand_u128() -> u128 {
    Uuid::new_v4().as_u128()
}

#[tokio::test]
async fn deaths_take_the_newborn_bands_and_not_the_coarse_0_9() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let so = l.officer("H1").await;
    let death = |band: &str| {
        json!({"hospital": "H1", "department": "ICU", "admitted_at": clock::rfc3339_in(-5 * 86400),
               "died_at": clock::rfc3339_in(-86400), "age_band": band, "diagnosis_icd10": "P07.2",
               "low_risk": true, "autopsy": false})
    };
    let before = l.stream_count().await;
    let (s, p) = l.post("/api/v1/deaths", Some(&so), &death("0-9")).await;
    assert_eq!(
        (s.as_u16(), pointers(&p)),
        (422, vec!["/age_band".to_owned()]),
        "{p}"
    );
    assert_eq!(l.stream_count().await, before);
    let (s, d) = l.post("/api/v1/deaths", Some(&so), &death("0-28d")).await;
    assert_eq!(s, 201, "{d}");
    let last: Value = serde_json::from_slice(l.stream_payloads().await.last().unwrap()).unwrap();
    assert_eq!(
        (&last["type"], &last["version"]),
        (&json!("death.recorded"), &json!(2))
    );
}
