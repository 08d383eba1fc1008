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

/// A grade IV report of H1's ICU, filed this month; its 201 body.
async fn file_diet_report(l: &Lantern) -> Value {
    let (s, r) = l
        .post(
            "/api/v1/reports",
            None,
            &json!({"hospital": "H1", "department": "ICU",
                    "occurred_at": "2026-10-01T08:00:00+08:00", "grade": "IV",
                    "category": "diet", "harm": "not_applicable", "description": "送错饮食"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    r
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

/// Issue 25 item 4: over a period, the rate sums reports and discharges of
/// the months that have a census; reports of months without one are shown
/// apart and the row is marked incomplete. Item 7: a department's figure is
/// an event rate by occurrence department, not judged against the target.
#[tokio::test]
async fn a_rate_over_months_counts_only_months_with_a_census() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let so = l.officer("H1").await;
    let this = crate::support::clock::current_month();
    let last = {
        let (y, m): (i32, u32) = (this[..4].parse().unwrap(), this[5..].parse().unwrap());
        if m == 1 {
            format!("{}-12", y - 1)
        } else {
            format!("{y}-{:02}", m - 1)
        }
    };
    let (s, p) = l
        .post(
            "/api/v1/census",
            Some(&so),
            &json!({"hospital": "H1", "department": "ICU", "month": last, "discharges": 400}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let mut seq = p["seq"].clone();
    for _ in 0..2 {
        seq = file_diet_report(&l).await["seq"].clone();
    }
    for by in ["hospital", "department"] {
        let (s, rates) = l
            .get(
                &format!("/api/v1/rates?from={last}&to={this}&by={by}&after={seq}"),
                Some(&so),
            )
            .await;
        assert_eq!(s, 200, "{rates}");
        let row = &rates["rows"][0];
        assert_eq!(row["reports"], 2, "{row}");
        assert_eq!(row["discharges"], 400, "{row}");
        assert_eq!(row["per_100_discharges"], 0.0, "not 2 ÷ 400 × 100: {row}");
        assert_eq!(row["reports_without_census"], 2, "{row}");
        assert_eq!(
            (row["census_months"].clone(), row["months"].clone()),
            (json!(1), json!(2))
        );
        assert_eq!(row["incomplete"], true, "{row}");
        assert_eq!(row["target_per_100_discharges"], 2.5, "{row}");
        if by == "hospital" {
            assert_eq!(row["basis"], "reporting_rate", "{row}");
            assert_eq!(row["meets_target"], false, "{row}");
        } else {
            assert_eq!(row["basis"], "event_rate_by_occurrence_department", "{row}");
            assert_eq!(row["meets_target"], Value::Null, "{row}");
        }
    }
}

/// Issue 25 items 3 and 6: a report triaged as a duplicate leaves the
/// numerator and is shown apart; CL-14/CL-15 count lab critical values
/// only, the other sources beside them.
#[tokio::test]
async fn duplicates_count_once_and_critical_value_indicators_are_the_labs() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let so = l.officer("H1").await;
    let lis = l.token(json!({"role": "lis", "hospital": "H1"})).await;
    let month = crate::support::clock::current_month();
    let mut ids = Vec::new();
    for _ in 0..2 {
        ids.push(
            file_diet_report(&l).await["report_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let (s, t) = l
        .post(
            &format!("/api/v1/reports/{}/triage", ids[1]),
            Some(&so),
            &json!({"grade": "IV", "category": "diet", "duplicate_of": ids[0]}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let mut seq = t["seq"].clone();
    for source in ["lab", "imaging"] {
        let (s, cv) = l
            .post(
                "/api/v1/critical-values",
                Some(&lis),
                &json!({"hospital": "H1", "department": "ICU", "source": source,
                        "item": format!("{source} item"), "value": "x",
                        "detected_at": crate::support::clock::rfc3339_in(-60),
                        "patient_setting": "inpatient"}),
            )
            .await;
        assert_eq!(s, 201, "{cv}");
        seq = cv["seq"].clone();
    }
    let (s, rates) = l
        .get(
            &format!("/api/v1/rates?from={month}&to={month}&by=hospital&after={seq}"),
            Some(&so),
        )
        .await;
    assert_eq!(s, 200, "{rates}");
    let row = &rates["rows"][0];
    assert_eq!(
        (row["reports"].clone(), row["duplicates"].clone()),
        (json!(1), json!(1)),
        "{row}"
    );
    assert_eq!(row["by_grade"]["IV"], 1, "{row}");
    assert_eq!(row["critical_values"]["detected"], 1, "lab only: {row}");
    assert_eq!(
        row["critical_values_other_sources"]["imaging"]["detected"], 1,
        "{row}"
    );
    assert_eq!(
        row["critical_values_other_sources"]["ecg"]["detected"], 0,
        "{row}"
    );
}
