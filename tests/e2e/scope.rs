//! Nothing crosses a scope and no input takes a query down: a death review
//! links only its own hospital's analysis; counts are bounded and summed
//! without wrapping.

use serde_json::{Value, json};

use crate::support::Lantern;

/// A grade II report of `hospital` and an RCA opened on it; the RCA's id.
async fn rca_of(l: &Lantern, hospital: &str, so: &str) -> String {
    let (s, r) = l
        .post(
            "/api/v1/reports",
            None,
            &json!({"hospital": hospital, "department": "ICU",
                    "occurred_at": "2026-10-01T08:00:00+08:00", "grade": "II",
                    "category": "medication", "harm": "moderate",
                    "description": "给药剂量错误 / wrong dose"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let (s, opened) = l
        .post(
            "/api/v1/rca",
            Some(so),
            &json!({"hospital": hospital, "report_ids": [r["report_id"]], "title": "剂量",
                    "team_roles": ["safety_officer"]}),
        )
        .await;
    assert_eq!(s, 201, "{opened}");
    opened["rca_id"].as_str().unwrap().to_owned()
}

fn review(rca_id: &str) -> Value {
    json!({"held_at": "2026-10-03T09:00:00+08:00", "level": "hospital",
           "attendee_roles": ["科主任"], "preventability": "possibly_avoidable",
           "defects": [], "rca_id": rca_id})
}

#[tokio::test]
async fn a_death_review_links_only_an_analysis_of_its_own_hospital() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    l.hospital("H2", "R2", &["ICU"]).await;
    let so1 = l.officer("H1").await;
    let so2 = l.officer("H2").await;
    let theirs = rca_of(&l, "H2", &so2).await;
    let ours = rca_of(&l, "H1", &so1).await;
    let (s, d) = l
        .post(
            "/api/v1/deaths",
            Some(&so1),
            &json!({"hospital": "H1", "department": "ICU",
                    "admitted_at": "2026-09-20T10:00:00+08:00",
                    "died_at": "2026-10-02T23:30:00+08:00", "age_band": "60-69",
                    "diagnosis_icd10": "I21.9", "low_risk": false, "autopsy": false}),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    let path = format!("/api/v1/deaths/{}/reviews", d["death_id"].as_str().unwrap());
    let before = l.stream_count().await;
    for bad in [
        theirs.clone(),
        "0192f3c0-0000-4000-8000-000000000009".to_owned(),
    ] {
        let (s, p) = l.post(&path, Some(&so1), &review(&bad)).await;
        assert_eq!(s, 422, "{p}");
        assert_eq!(p["errors"][0]["pointer"], "/rca_id", "{p}");
    }
    assert_eq!(l.stream_count().await, before, "a refused review appended");
    let (s, p) = l.post(&path, Some(&so1), &review(&ours)).await;
    assert_eq!(s, 201, "{p}");
    let (s, trail) = l
        .get(
            &format!(
                "/api/v1/deaths/{}?after={}",
                d["death_id"].as_str().unwrap(),
                p["seq"]
            ),
            Some(&so1),
        )
        .await;
    assert_eq!(s, 200, "{trail}");
    assert!(!trail.to_string().contains(&theirs), "{trail}");
}

#[tokio::test]
async fn a_census_beyond_its_bound_is_refused_and_region_figures_stay_up() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let so = l.officer("H1").await;
    let qc = l.qc_centre("R1").await;
    let before = l.stream_count().await;
    for discharges in [json!(9_223_372_036_854_775_808u64), json!(100_001)] {
        let (s, p) = l
            .post(
                "/api/v1/census",
                Some(&so),
                &json!({"hospital": "H1", "department": "ICU", "month": "2026-10",
                        "discharges": discharges}),
            )
            .await;
        assert_eq!(s, 422, "{p}");
        assert_eq!(p["errors"][0]["pointer"], "/discharges", "{p}");
    }
    assert_eq!(l.stream_count().await, before);
    let (s, p) = l
        .post(
            "/api/v1/census",
            Some(&so),
            &json!({"hospital": "H1", "department": "ICU", "month": "2026-10",
                    "discharges": 100_000}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let (s, rates) = l
        .get(
            &format!(
                "/api/v1/rates?from=2026-10&to=2026-10&by=region&after={}",
                p["seq"]
            ),
            Some(&qc),
        )
        .await;
    assert_eq!(s, 200, "{rates}");
    assert_eq!(rates["rows"][0]["discharges"], 100_000, "{rates}");
}
