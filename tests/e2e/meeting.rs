//! The monthly dispatch pack: a month built through the API and checked
//! field by field, the QC centre's view of its region, and the printable page
//! rendered by headless Chromium to a PDF whose text holds the key figures.

use crate::support::{Lantern, clock};
use serde_json::{Value, json};

fn death(dept: &str, died_at: &str, low_risk: bool, autopsy: bool) -> Value {
    json!({"hospital": "H1", "department": dept, "admitted_at": "2026-09-20T10:00:00+08:00",
           "died_at": died_at, "age_band": "60-69", "diagnosis_icd10": "I21.9",
           "low_risk": low_risk, "autopsy": autopsy})
}

fn review(held_at: &str, level: &str, preventability: &str) -> Value {
    json!({"held_at": held_at, "level": level, "attendee_roles": ["科主任"], "preventability": preventability, "defects": []})
}

#[tokio::test]
async fn the_pack_of_a_month_field_by_field_and_printed() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU", "ER"]).await;
    l.hospital("H2", "R1", &["ICU"]).await;
    let so = l.officer("H1").await;
    let lis = l.token(json!({"role": "lis", "hospital": "H1"})).await;
    let qc = l.qc_centre("R1").await;
    let post = |path: String, token: String, body: Value| {
        let l = &l;
        async move {
            let (s, r) = l.post(&path, Some(&token), &body).await;
            assert_eq!(s, 201, "{path}: {r}");
            r
        }
    };

    // October: four deaths of H1.
    let low = post(
        "/api/v1/deaths".into(),
        so.clone(),
        death("ICU", "2026-10-02T23:30:00+08:00", true, false),
    )
    .await;
    let aut = post(
        "/api/v1/deaths".into(),
        so.clone(),
        death("ICU", "2026-10-05T08:00:00+08:00", false, true),
    )
    .await;
    let late = post(
        "/api/v1/deaths".into(),
        so.clone(),
        death("ICU", "2026-10-10T08:00:00+08:00", false, false),
    )
    .await;
    let er = post(
        "/api/v1/deaths".into(),
        so.clone(),
        death("ER", "2026-10-12T08:00:00+08:00", false, false),
    )
    .await;
    let id = |v: &Value| v["death_id"].as_str().unwrap().to_owned();
    let (low, aut, late, er) = (id(&low), id(&aut), id(&late), id(&er));
    post(
        format!("/api/v1/deaths/{low}/reviews"),
        so.clone(),
        review("2026-10-05T09:00:00+08:00", "department", "avoidable"),
    )
    .await;
    post(
        format!("/api/v1/deaths/{aut}/reviews"),
        so.clone(),
        review("2026-10-06T09:00:00+08:00", "department", "unavoidable"),
    )
    .await;
    post(
        format!("/api/v1/deaths/{aut}/autopsy"),
        so.clone(),
        json!({"reported_at": "2026-10-20T09:00:00+08:00", "findings": "心梗"}),
    )
    .await;
    post(
        format!("/api/v1/deaths/{aut}/reviews"),
        so.clone(),
        review(
            "2026-10-27T18:00:00+08:00",
            "hospital",
            "possibly_avoidable",
        ),
    )
    .await;
    post(
        format!("/api/v1/deaths/{er}/reviews"),
        so.clone(),
        review("2026-10-13T09:00:00+08:00", "department", "unavoidable"),
    )
    .await;

    // October: two critical values, one notified in time, one late; census.
    let cv = |at: &str, notified: &str| {
        json!({"hospital": "H1", "department": "ICU", "source": "lab", "item": "K",
        "value": "6.9", "detected_at": at, "patient_setting": "inpatient",
        "notified": {"notified_at": notified, "channel": "phone", "notified_role": "nurse"}})
    };
    post(
        "/api/v1/critical-values".into(),
        lis.clone(),
        cv("2026-10-05T08:00:00+08:00", "2026-10-05T08:10:00+08:00"),
    )
    .await;
    post(
        "/api/v1/critical-values".into(),
        lis.clone(),
        cv("2026-10-06T08:00:00+08:00", "2026-10-06T08:30:00+08:00"),
    )
    .await;
    post(
        "/api/v1/census".into(),
        so.clone(),
        json!({"hospital": "H1", "department": "ICU", "month": "2026-10", "discharges": 100}),
    )
    .await;

    // This month: two reports (a grade II under analysis, a grade IV), census 80.
    let month = clock::current_month();
    let report = |grade: &str, harm: &str| {
        json!({"hospital": "H1", "department": "ICU", "occurred_at": "2026-01-05T08:00:00+08:00",
        "grade": grade, "category": "medication", "harm": harm, "description": "给药错误"})
    };
    let (_, serious) = l
        .post("/api/v1/reports", None, &report("II", "moderate"))
        .await;
    let (_, minor) = l
        .post("/api/v1/reports", None, &report("IV", "not_applicable"))
        .await;
    assert!(minor["report_id"].is_string());
    let serious_id = serious["report_id"].as_str().unwrap().to_owned();
    post(
        "/api/v1/census".into(),
        so.clone(),
        json!({"hospital": "H1", "department": "ICU", "month": month, "discharges": 80}),
    )
    .await;
    let rca = post("/api/v1/rca".into(), so.clone(), json!({"hospital": "H1", "report_ids": [serious_id], "title": "给药错误分析", "team_roles": ["药师", "护士长"]})).await;
    let after = rca["seq"].as_u64().unwrap();

    // October's pack, for the safety officer.
    let (s, p) = l
        .get(
            &format!("/api/v1/meetings/2026-10?hospital=H1&after={after}"),
            Some(&so),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    let d = &p["deaths"];
    assert_eq!(d["total"], 4);
    assert_eq!(d["by_department"], json!({"ER": 1, "ICU": 3}));
    assert_eq!(d["reviewed_on_time"], 3, "all but the never-reviewed one");
    assert_eq!(d["review_on_time_rate"], 75.0);
    let mut overdue: Vec<&str> = d["overdue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    overdue.sort();
    let mut expected = vec![low.as_str(), late.as_str()];
    expected.sort();
    assert_eq!(
        overdue, expected,
        "the low-risk death lacks its hospital-level review; one was never reviewed"
    );
    assert_eq!(d["low_risk"].as_array().unwrap().len(), 1);
    assert_eq!(d["low_risk"][0]["death_id"], low.as_str());
    assert_eq!(d["low_risk"][0]["rules"][1]["met"], false);
    assert_eq!(d["avoidable"], json!([low]));
    assert_eq!(d["possibly_avoidable"], json!([aut]));
    assert_eq!(p["critical_values"]["detected"], 2);
    assert_eq!(p["critical_values"]["notification_timeliness"], 50.0);
    assert_eq!(
        p["adverse_events"]["total"], 0,
        "reports count in their filing month"
    );
    assert_eq!(
        p["reporting_rate"]["per_100_discharges"], 0.0,
        "100 discharges, no report filed in October"
    );
    assert_eq!(p["scope"], json!({"hospital": "H1"}));

    // This month's pack: the reports, their analysis, the rate, twelve months.
    let (_, p) = l
        .get(&format!("/api/v1/meetings/{month}?hospital=H1"), Some(&so))
        .await;
    assert_eq!(p["adverse_events"]["total"], 2);
    assert_eq!(
        p["adverse_events"]["by_grade"],
        json!({"I": 0, "II": 1, "III": 0, "IV": 1})
    );
    assert_eq!(
        p["adverse_events"]["serious"],
        json!([{"report_id": serious_id, "ref": crate::support::short_ref(&serious_id),
                "grade": "II", "rca_state": "open"}])
    );
    assert_eq!(p["rca"]["opened"], 1);
    assert_eq!(p["reporting_rate"]["per_100_discharges"], 2.5);
    assert_eq!(p["reporting_rate"]["target"], 2.5);
    let months = p["reporting_rate"]["last_12_months"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!(months[11]["month"], month.as_str());

    // The QC centre's region pack: the same exact figures (DESIGN v2: a
    // supervisory body sees exact counts; suppression is for what is published).
    let (s, q) = l.get("/api/v1/meetings/2026-10?region=R1", Some(&qc)).await;
    assert_eq!(s, 200, "{q}");
    assert_eq!(q["deaths"]["total"], 4);
    assert_eq!(q["deaths"]["by_department"], json!({"ER": 1, "ICU": 3}));
    assert_eq!(q["deaths"]["reviewed_on_time"], 3);
    assert_eq!(q["deaths"]["review_on_time_rate"], 75.0);
    assert_eq!(
        q["critical_values"]["detected"], 2,
        "exact, as the officer's"
    );
    assert_eq!(q["critical_values"]["notification_timeliness"], 50.0);
    assert!(
        q["deaths"]["low_risk"][0]["steps"][1]
            .get("defects")
            .is_some()
    );
    // Scope.
    assert_eq!(
        l.get("/api/v1/meetings/2026-10?region=R1", Some(&so))
            .await
            .0,
        403
    );
    assert_eq!(
        l.get("/api/v1/meetings/2026-10?region=R2", Some(&qc))
            .await
            .0,
        403
    );
    assert_eq!(l.get("/api/v1/meetings/2026-10", Some(&so)).await.0, 422);
    assert_eq!(
        l.get("/api/v1/meetings/2026-13?hospital=H1", Some(&so))
            .await
            .0,
        422
    );

    // The printable page, rendered by Chromium to PDF.
    // A 200 in text/html (asserted by get_html).
    let page = l
        .get_html("/api/v1/meetings/2026-10?hospital=H1", Some(&so))
        .await;
    assert!(page.contains("<svg") && page.contains("75.00"), "{page}");
    let (pdf, text) = crate::support::print_to_pdf(l.data.path(), "pack", &page);
    for figure in [
        "医疗质量安全月度分析",
        "2026-10",
        "75.00",
        "50.00",
        "死亡病例讨论",
        "Low-risk deaths",
    ] {
        assert!(
            text.contains(figure),
            "{figure:?} not in the printed pack:\n{text}"
        );
    }
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/meeting-pack-2026-10.pdf");
    let _ = std::fs::copy(&pdf, target);
}

/// A death still inside its 7 days is pending, not late: the on-time rate
/// divides by the deaths whose first review is due (issue 25 item 5).
#[tokio::test]
async fn deaths_not_yet_due_are_pending_not_late() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let so = l.officer("H1").await;
    let day = 24 * 3600;
    let record = |died_at: String| {
        let so = so.clone();
        let l = &l;
        async move {
            let body = json!({"hospital": "H1", "department": "ICU",
                "admitted_at": clock::rfc3339_in(-20 * day), "died_at": died_at,
                "age_band": "60-69", "diagnosis_icd10": "I21.9", "low_risk": false, "autopsy": false});
            let (s, r) = l.post("/api/v1/deaths", Some(&so), &body).await;
            assert_eq!(s, 201, "{r}");
            r["death_id"].as_str().unwrap().to_owned()
        }
    };
    // Died yesterday, no review yet: pending.
    let recent = clock::local_rfc3339_in(-day);
    record(recent.clone()).await;
    // Died ten days ago, reviewed the next day: due and met.
    let old = record(clock::local_rfc3339_in(-10 * day)).await;
    let (s, r) = l
        .post(
            &format!("/api/v1/deaths/{old}/reviews"),
            Some(&so),
            &json!({"held_at": clock::rfc3339_in(-9 * day), "level": "department",
                    "attendee_roles": ["科主任"], "preventability": "unavoidable", "defects": []}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let month_of = |t: &str| t[..7].to_owned();
    let same_month = month_of(&recent) == month_of(&clock::local_rfc3339_in(-10 * day));
    let (s, p) = l
        .get(
            &format!(
                "/api/v1/meetings/{}?hospital=H1&after={}",
                month_of(&recent),
                r["seq"]
            ),
            Some(&so),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    let d = &p["deaths"];
    assert_eq!(d["pending"], 1, "{d}");
    if same_month {
        assert_eq!(d["total"], 2, "{d}");
        assert_eq!(
            d["review_on_time_rate"], 100.0,
            "1 of 1 due, not 1 of 2: {d}"
        );
    } else {
        assert_eq!(d["total"], 1, "{d}");
        assert_eq!(d["review_on_time_rate"], Value::Null, "none due yet: {d}");
    }
}
