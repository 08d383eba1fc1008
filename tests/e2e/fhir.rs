//! FHIR R4 out (issue 28 item 3): the reports as `AdverseEvent`s at
//! `/fhir/r4`, in the caller's scope, paged with `next` links, errors as
//! `OperationOutcome`s.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::Lantern;

fn report(hospital: &str, day: &str, grade: &str, harm: &str, description: &str) -> Value {
    json!({"hospital": hospital, "department": "ICU", "occurred_at": format!("{day}T08:00:00+08:00"),
           "grade": grade, "category": "fall", "harm": harm, "description": description,
           "patient_age_band": "70-79", "reporter_role": "nurse"})
}

/// GETs a FHIR path; asserts the media type; returns status and body.
async fn fhir(l: &Lantern, path: &str, token: Option<&str>) -> (u16, Value) {
    let r = l.request(Method::GET, path, token).send().await.unwrap();
    let status = r.status().as_u16();
    let media = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(media, "application/fhir+json", "{path}");
    assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
    (status, r.json().await.unwrap())
}

fn ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|x| x["resource"]["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn reports_read_as_adverse_events_in_scope_paged_and_never_with_the_reporter() {
    let l = Lantern::with_hospitals(&["H1", "H2"]).await;
    let mut filed = Vec::new();
    for (day, grade, harm, text) in [
        ("2026-01-03", "II", "moderate", "夜班跌倒 fell at night"),
        ("2026-01-10", "IV", "not_applicable", "险些跌倒 near miss"),
        ("2026-01-20", "III", "none", "跌倒无伤 no harm"),
    ] {
        let (s, b) = l
            .post(
                "/api/v1/reports",
                None,
                &report("H1", day, grade, harm, text),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        filed.push(b["report_id"].as_str().unwrap().to_owned());
    }
    let (s, b) = l
        .post(
            "/api/v1/reports",
            None,
            &report("H2", "2026-01-05", "II", "severe", "另一家医院"),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let other = b["report_id"].as_str().unwrap().to_owned();
    let (h1, h2, qc) = (
        l.officer("H1").await,
        l.officer("H2").await,
        l.qc_centre("R1").await,
    );

    let (s, cap) = fhir(&l, "/fhir/r4/metadata", None).await;
    assert_eq!(s, 200);
    assert_eq!(cap["resourceType"], "CapabilityStatement");
    assert_eq!(cap["fhirVersion"], "4.0.1");

    // The officer of H1: its three, newest event first, two to a page.
    let (s, page1) = fhir(&l, "/fhir/r4/AdverseEvent?_count=2", Some(&h1)).await;
    assert_eq!(s, 200, "{page1}");
    assert_eq!(
        (&page1["resourceType"], &page1["type"], &page1["total"]),
        (&json!("Bundle"), &json!("searchset"), &json!(3))
    );
    assert_eq!(ids(&page1), [filed[2].clone(), filed[1].clone()]);
    let next = page1["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["relation"] == "next")
        .expect("a next link")["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let next_path = next.strip_prefix(&l.base).expect("the server's own URL");
    let (s, page2) = fhir(&l, next_path, Some(&h1)).await;
    assert_eq!(s, 200, "{page2}");
    assert_eq!(ids(&page2), [filed[0].clone()]);
    assert!(
        !page2["link"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["relation"] == "next"),
        "{page2}"
    );
    let first = &page2["entry"][0]["resource"];
    assert_eq!(first["event"]["text"], "夜班跌倒 fell at night");
    assert_eq!(first["actuality"], "actual");
    assert_eq!(first["severity"]["coding"][0]["code"], "moderate");
    assert_eq!(first["contained"][0]["extension"][0]["valueCode"], "70-79");
    assert!(
        first["recordedDate"].as_str().unwrap().len() == 10,
        "{first}"
    );
    assert!(!page1.to_string().contains("nurse") && !page2.to_string().contains("nurse"));
    let near_miss = &page1["entry"][1]["resource"];
    assert_eq!(near_miss["actuality"], "potential");

    // A range of days.
    let (_, ranged) = fhir(
        &l,
        "/fhir/r4/AdverseEvent?date=ge2026-01-04&date=le2026-01-15",
        Some(&h1),
    )
    .await;
    assert_eq!(ids(&ranged), [filed[1].clone()]);

    // The QC centre of R1: both hospitals, codes and no narrative.
    let (s, region) = fhir(&l, "/fhir/r4/AdverseEvent?_count=200", Some(&qc)).await;
    assert_eq!(s, 200, "{region}");
    assert_eq!(region["total"], 4);
    assert!(ids(&region).contains(&other));
    for e in region["entry"].as_array().unwrap() {
        assert!(e["resource"]["event"].get("text").is_none(), "{e}");
    }
    let (_, one) = fhir(&l, "/fhir/r4/AdverseEvent?hospital=H2", Some(&qc)).await;
    assert_eq!(ids(&one), [other]);

    // Read: its own, yes; another hospital's is not found, as an unknown id.
    let (s, read) = fhir(
        &l,
        &format!("/fhir/r4/AdverseEvent/{}", filed[0]),
        Some(&h1),
    )
    .await;
    assert_eq!((s, &read["id"]), (200, &json!(filed[0])));
    for path in [
        format!("/fhir/r4/AdverseEvent/{}", filed[0]),
        "/fhir/r4/AdverseEvent/00000000-0000-4000-8000-000000000000".to_owned(),
        "/fhir/r4/AdverseEvent/not-an-id".to_owned(),
    ] {
        let (s, outcome) = fhir(&l, &path, Some(&h2)).await;
        assert_eq!(s, 404, "{path}: {outcome}");
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        assert_eq!(outcome["issue"][0]["code"], "not-found");
    }
}

#[tokio::test]
async fn bad_searches_and_missing_tokens_are_operation_outcomes() {
    let l = Lantern::with_hospitals(&["H1", "H2"]).await;
    let h1 = l.officer("H1").await;
    let admin_of_nothing = l.token(json!({"role": "lis", "hospital": "H1"})).await;
    for (query, param) in [
        ("date=2026-1-1", "date"),
        ("_count=0", "_count"),
        ("_page=x", "_page"),
        ("patient=1", "patient"),
        ("hospital=H2", "hospital"),
    ] {
        let (s, o) = fhir(&l, &format!("/fhir/r4/AdverseEvent?{query}"), Some(&h1)).await;
        assert_eq!(s, 400, "{query}: {o}");
        assert_eq!(o["resourceType"], "OperationOutcome");
        assert_eq!(o["issue"][0]["code"], "invalid");
        assert_eq!(o["issue"][0]["expression"][0], param, "{o}");
    }
    let (s, o) = fhir(&l, "/fhir/r4/AdverseEvent", None).await;
    assert_eq!((s, &o["issue"][0]["code"]), (401, &json!("login")));
    let (s, o) = fhir(&l, "/fhir/r4/AdverseEvent", Some("not-a-token")).await;
    assert_eq!((s, &o["issue"][0]["code"]), (401, &json!("login")));
    let (s, o) = fhir(&l, "/fhir/r4/AdverseEvent", Some(&admin_of_nothing)).await;
    assert_eq!((s, &o["issue"][0]["code"]), (403, &json!("forbidden")));
}

fn potassium(code: &str) -> Value {
    json!({
        "resourceType": "Observation",
        "status": "final",
        "extension": [
            {"url": "urn:lantern:fhir:StructureDefinition:department", "valueCode": "ICU"},
            {"url": "urn:lantern:fhir:StructureDefinition:patient-setting", "valueCode": "inpatient"}
        ],
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}], "text": "血钾 K"},
        "subject": {"reference": "Patient/123", "display": "张三"},
        "issued": "2026-03-01T08:00:00+08:00",
        "valueQuantity": {"value": 6.9, "unit": "mmol/L"},
        "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": code}]}],
        "specimen": {"identifier": {"value": "S-77"}}
    })
}

async fn post_observation(
    l: &Lantern,
    token: &str,
    key: &str,
    media: &str,
    body: &Value,
) -> (u16, Option<String>, Value) {
    let r = l
        .request(Method::POST, "/fhir/r4/Observation", Some(token))
        .header("Idempotency-Key", key)
        .header("content-type", media)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(r.headers()["content-type"], "application/fhir+json");
    (status, location, r.json().await.unwrap())
}

#[tokio::test]
async fn a_critical_observation_is_recorded_as_a_critical_value_once_and_without_the_patient() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let lis = l.token(json!({"role": "lis", "hospital": "H1"})).await;
    let officer = l.officer("H1").await;
    let before = l.stream_count().await;

    // Not critical, or not FHIR JSON: refused, nothing appended.
    let (s, _, o) =
        post_observation(&l, &lis, "k0", "application/fhir+json", &potassium("H")).await;
    assert_eq!(s, 400, "{o}");
    assert_eq!(o["issue"][0]["expression"][0], "interpretation", "{o}");
    let (s, _, o) = post_observation(&l, &lis, "k0", "text/plain", &potassium("HH")).await;
    assert_eq!(s, 415, "{o}");
    let (s, _, o) =
        post_observation(&l, &officer, "k0", "application/fhir+json", &json!([1])).await;
    assert_eq!(s, 400, "{o}");
    // Too large: refused before anything is read (with an Idempotency-Key
    // the kernel's guard answers it, as problem+json, before the handler).
    let r = l
        .request(Method::POST, "/fhir/r4/Observation", Some(&lis))
        .header("content-type", "application/fhir+json")
        .body(vec![b' '; 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["content-type"], "application/fhir+json");
    let mut bidi = potassium("HH");
    bidi["code"]["text"] = json!("血钾\u{202e}K");
    let (s, _, o) = post_observation(&l, &lis, "k0", "application/fhir+json", &bidi).await;
    assert_eq!(s, 400, "{o}");
    assert_eq!(o["issue"][0]["expression"][0], "code/text", "{o}");
    assert_eq!(l.stream_count().await, before);

    // Critical: recorded, and a retry records nothing more.
    let (s, location, o) =
        post_observation(&l, &lis, "k1", "application/fhir+json", &potassium("HH")).await;
    assert_eq!(s, 201, "{o}");
    let location = location.expect("a Location");
    assert!(
        location.starts_with("/api/v1/critical-values/"),
        "{location}"
    );
    let after = l.stream_count().await;
    assert_eq!(after, before + 1);
    let (s, again, _) =
        post_observation(&l, &lis, "k1", "application/fhir+json", &potassium("HH")).await;
    assert_eq!((s, again.as_deref()), (201, Some(location.as_str())));
    assert_eq!(l.stream_count().await, after);

    // Flagged only high (H), but past the hospital's catalogue limit for
    // its code: critical all the same.
    let r = l
        .request(
            Method::PUT,
            "/api/v1/hospitals/H1/critical-catalogue/2823-3",
            Some(&officer),
        )
        .json(
            &json!({"name": "血钾", "unit": "mmol/L", "low": 2.8, "high": 6.2,
                      "source": "lab", "effective_from": "2026-01-01T00:00:00+08:00"}),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let set: Value = r.json().await.unwrap();
    // The catalogue in force once the critical values' read model has it.
    let (s, _) = l
        .get(
            &format!(
                "/api/v1/hospitals/H1/critical-catalogue?after={}",
                set["seq"]
            ),
            Some(&officer),
        )
        .await;
    assert_eq!(s, 200, "{set}");
    let mut flagged_high = potassium("H");
    flagged_high["specimen"]["identifier"]["value"] = json!("S-78");
    let (s, by_catalogue, o) =
        post_observation(&l, &lis, "k2", "application/fhir+json", &flagged_high).await;
    assert_eq!(s, 201, "{o}");
    assert_ne!(by_catalogue.as_deref(), Some(location.as_str()));

    let (s, cv) = l.get(&location, Some(&officer)).await;
    assert_eq!(s, 200, "{cv}");
    assert_eq!(cv["item"], "血钾 K");
    assert_eq!(cv["value"], "6.9");
    assert_eq!(cv["source"], "lab");
    let stored: String = l
        .stream_payloads()
        .await
        .iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    assert!(
        !stored.contains("张三") && !stored.contains("Patient/123"),
        "{stored}"
    );
}
