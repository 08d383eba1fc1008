//! Deaths: trails, rules, worklist, refusals, rebuild.

use crate::support::Lantern;
use serde_json::{Value, json};

fn death(died_at: &str, low_risk: bool, autopsy: bool) -> Value {
    json!({"hospital": "H1", "department": "ICU", "admitted_at": "2026-09-20T10:00:00+08:00",
           "died_at": died_at, "age_band": "60-69", "diagnosis_icd10": "I21.9",
           "low_risk": low_risk, "autopsy": autopsy})
}

fn review(held_at: &str, level: &str, preventability: &str) -> Value {
    json!({"held_at": held_at, "level": level, "attendee_roles": ["科主任", "主治医师"],
           "preventability": preventability,
           "defects": [{"phase": "rescue", "text": "抢救记录不完整，电话13812345678"}]})
}

#[tokio::test]
async fn trails_rules_and_refusals() {
    let mut l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let so = l.officer("H1").await;
    let qc = l.qc_centre("R1").await;
    let record = |body: Value| {
        let so = so.clone();
        let l = &l;
        async move {
            let (s, r) = l.post("/api/v1/deaths", Some(&so), &body).await;
            assert_eq!(s, 201, "{r}");
            r["death_id"].as_str().unwrap().to_owned()
        }
    };
    // Low risk, died Oct 2 at 23:30 Shanghai time: reviewed on day 3 at department level only.
    let low = record(death("2026-10-02T23:30:00+08:00", true, false)).await;
    // Autopsied: reviewed on day 1, report on Oct 20, reviewed again on Oct 27 (day 7 after the report).
    let autopsied = record(death("2026-10-05T08:00:00+08:00", false, true)).await;
    // Never reviewed.
    let overdue = record(death("2026-10-10T08:00:00+08:00", false, false)).await;

    let step = |id: &str, what: &str, body: Value| {
        let (so, path) = (so.clone(), format!("/api/v1/deaths/{id}/{what}"));
        let l = &l;
        async move { l.post(&path, Some(&so), &body).await }
    };
    assert_eq!(
        step(
            &low,
            "reviews",
            review("2026-10-05T09:00:00+08:00", "department", "avoidable")
        )
        .await
        .0,
        201
    );
    assert_eq!(
        step(
            &autopsied,
            "reviews",
            review("2026-10-06T09:00:00+08:00", "department", "unavoidable")
        )
        .await
        .0,
        201
    );
    assert_eq!(
        step(
            &autopsied,
            "autopsy",
            json!({"reported_at": "2026-10-20T09:00:00+08:00", "findings": "急性心肌梗死"})
        )
        .await
        .0,
        201
    );
    let (s, last) = step(
        &autopsied,
        "reviews",
        review(
            "2026-10-27T18:00:00+08:00",
            "hospital",
            "possibly_avoidable",
        ),
    )
    .await;
    assert_eq!(s, 201, "{last}");
    let after = last["seq"].as_u64().unwrap();

    // Refusals leave the stream as it was.
    let count = l.stream_count().await;
    let (s, p) = step(
        &overdue,
        "reviews",
        review("2026-10-09T09:00:00+08:00", "hospital", "unavoidable"),
    )
    .await;
    assert_eq!(
        (s.as_u16(), p["errors"][0]["pointer"].as_str()),
        (422, Some("/held_at")),
        "{p}"
    );
    assert_eq!(
        step(
            &low,
            "autopsy",
            json!({"reported_at": "2026-10-20T09:00:00+08:00", "findings": "x"})
        )
        .await
        .0,
        409,
        "no autopsy planned"
    );
    assert_eq!(
        step(&overdue, "close", json!({})).await.0,
        409,
        "no review yet"
    );
    let (s, p) = l
        .post(
            "/api/v1/deaths",
            Some(&so),
            &death("2099-01-01T00:00:00+08:00", false, false),
        )
        .await;
    assert_eq!(
        (s.as_u16(), p["errors"][0]["pointer"].as_str()),
        (422, Some("/died_at"))
    );
    let mut bad = death("2026-10-10T08:00:00+08:00", false, false);
    bad["diagnosis_icd10"] = json!("heart attack");
    assert_eq!(l.post("/api/v1/deaths", Some(&so), &bad).await.0, 422);
    assert_eq!(
        l.post(
            "/api/v1/deaths",
            Some(&qc),
            &death("2026-10-10T08:00:00+08:00", false, false)
        )
        .await
        .0,
        403
    );
    assert_eq!(l.stream_count().await, count);

    // The trails.
    let (s, t) = l
        .get(&format!("/api/v1/deaths/{low}?after={after}"), Some(&so))
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(
        t["state"], "overdue",
        "low-risk death without a hospital-level review: {t}"
    );
    let rules: Vec<(String, Value, Value)> = t["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rule"].as_str().unwrap().to_owned(),
                r["due"].clone(),
                r["met"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rules,
        vec![
            ("first_review".into(), json!("2026-10-09"), json!(true)),
            (
                "low_risk_hospital_review".into(),
                json!("2026-10-09"),
                json!(false)
            ),
        ]
    );
    assert_eq!(t["steps"][1]["type"], "review");
    assert_eq!(t["steps"][1]["days_after_death"], 3);
    assert_eq!(t["preventability"], "avoidable");
    assert_eq!(
        t["steps"][1]["defects"][0]["text"], "抢救记录不完整，电话[PHONE]",
        "scrubbed before append"
    );

    let (_, t) = l
        .get(&format!("/api/v1/deaths/{autopsied}"), Some(&so))
        .await;
    assert_eq!(t["state"], "open");
    assert_eq!(
        t["rules"][1],
        json!({"rule": "autopsy_review", "due": "2026-10-27", "met": true})
    );
    assert_eq!(
        t["preventability"], "possibly_avoidable",
        "the latest review stands"
    );
    let types: Vec<&str> = t["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["recorded", "review", "autopsy_reported", "review"]);
    assert_eq!(t["steps"][3]["days_after_death"], 22);

    // A QC centre reads the trail without free text.
    let (s, t) = l
        .get(&format!("/api/v1/deaths/{autopsied}"), Some(&qc))
        .await;
    assert_eq!(s, 200);
    assert!(t["steps"][1]["defects"][0].get("text").is_none(), "{t}");
    assert!(t["steps"][2].get("findings").is_none(), "{t}");

    // The worklist.
    let (_, list) = l
        .get(
            "/api/v1/deaths?hospital=H1&month=2026-10&state=overdue",
            Some(&so),
        )
        .await;
    let ids: Vec<&str> = list["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["death_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [low.as_str(), overdue.as_str()]);
    let (_, list) = l
        .get("/api/v1/deaths?hospital=H1&month=2026-09", Some(&so))
        .await;
    assert_eq!(list["rows"].as_array().unwrap().len(), 0);

    // Close: allowed once every rule has had its review; then nothing more.
    let (s, c) = step(&autopsied, "close", json!({})).await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(
        step(
            &autopsied,
            "reviews",
            review("2026-10-28T09:00:00+08:00", "hospital", "avoidable")
        )
        .await
        .0,
        409
    );
    let (_, t) = l
        .get(
            &format!("/api/v1/deaths/{autopsied}?after={}", c["seq"]),
            Some(&so),
        )
        .await;
    assert_eq!(t["state"], "closed");

    l.stop();
    let fresh = l.data.path().join("rebuilt-mortality");
    l.run(&["rebuild", "mortality", "--into", fresh.to_str().unwrap()]);
    assert_eq!(
        l.run(&["export", "mortality"]),
        l.run(&["export", "mortality", "--from", fresh.to_str().unwrap()])
    );
}

#[tokio::test]
async fn the_his_records_deaths_and_other_systems_cannot() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let his = l.token(json!({"role": "his", "hospital": "H1"})).await;
    let lis = l.token(json!({"role": "lis", "hospital": "H1"})).await;
    let body = death("2026-10-02T23:30:00+08:00", false, false);
    let (s, r) = l.post("/api/v1/deaths", Some(&his), &body).await;
    assert_eq!(s, 201, "{r}");
    let before = l.stream_count().await;
    let (s, p) = l.post("/api/v1/deaths", Some(&lis), &body).await;
    assert_eq!(s, 403, "{p}");
    assert_eq!(l.stream_count().await, before);
    // The HIS records; reviewing stays the safety officer's.
    let path = format!("/api/v1/deaths/{}/reviews", r["death_id"].as_str().unwrap());
    let (s, p) = l
        .post(
            &path,
            Some(&his),
            &review("2026-10-03T09:00:00+08:00", "department", "unavoidable"),
        )
        .await;
    assert_eq!(s, 403, "{p}");
}

/// A QC centre records its own review of a low-risk death of its region
/// (DESIGN: `level: qc_centre`), which meets the low-risk rule; it may not
/// record another level's review, nor review another region's death.
#[tokio::test]
async fn a_qc_centre_reviews_a_low_risk_death_of_its_region() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    l.hospital("H2", "R2", &["ICU"]).await;
    let so = l.officer("H1").await;
    let (qc, qc2) = (l.qc_centre("R1").await, l.qc_centre("R2").await);
    let died = crate::support::clock::rfc3339_in(-2 * 86400);
    let body = json!({"hospital": "H1", "department": "ICU", "admitted_at": crate::support::clock::rfc3339_in(-5 * 86400),
        "died_at": died, "age_band": "40-49", "diagnosis_icd10": "K35.8", "low_risk": true, "autopsy": false});
    let (s, d) = l.post("/api/v1/deaths", Some(&so), &body).await;
    assert_eq!(s, 201, "{d}");
    let id = d["death_id"].as_str().unwrap();
    let path = format!("/api/v1/deaths/{id}/reviews");
    let review = |level: &str| {
        json!({"held_at": crate::support::clock::rfc3339_in(-3600), "level": level, "attendee_roles": ["质控中心专家"],
               "preventability": "possibly_avoidable", "defects": [{"phase": "diagnosis", "text": "腹痛鉴别不足"}]})
    };
    let before = l.stream_count().await;
    assert_eq!(
        l.post(&path, Some(&qc), &review("hospital")).await.0,
        403,
        "only its own level"
    );
    assert_eq!(
        l.post(&path, Some(&qc2), &review("qc_centre")).await.0,
        403,
        "another region's"
    );
    assert_eq!(l.stream_count().await, before);
    let (s, r) = l.post(&path, Some(&qc), &review("qc_centre")).await;
    assert_eq!(s, 201, "{r}");
    let (_, t) = l
        .get(
            &format!("/api/v1/deaths/{id}?after={}", r["seq"]),
            Some(&so),
        )
        .await;
    let rule = t["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule"] == "low_risk_hospital_review")
        .unwrap();
    assert_eq!(rule["met"], true, "{t}");
}
