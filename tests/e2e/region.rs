//! The QC centre's dispatch meeting (每月工作调度会): the region pack with
//! one row per hospital, worst first, beside last month and last year; the
//! case list it traces (grade I/II events and low-risk deaths with their
//! root causes, actions and lessons, never a narrative); and its printed page.

use crate::support::{Lantern, clock, print_to_pdf, short_ref};
use serde_json::{Value, json};

fn report(hospital: &str, grade: &str, harm: &str, description: &str) -> Value {
    json!({"hospital": hospital, "department": "ICU", "occurred_at": clock::rfc3339_in(-3600),
           "grade": grade, "category": "fall", "harm": harm, "description": description})
}

#[tokio::test]
async fn the_region_pack_ranks_hospitals_and_lists_the_cases_to_trace() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    l.hospital("H2", "R1", &["ICU"]).await;
    l.hospital("H3", "R2", &["ICU"]).await;
    let (so1, so2) = (l.officer("H1").await, l.officer("H2").await);
    let qc = l.qc_centre("R1").await;
    let month = clock::current_month();
    let ok = |s: reqwest::StatusCode, b: &Value| {
        assert_eq!(s, 201, "{b}");
        b["seq"].as_u64().unwrap_or(0)
    };

    // H1: one grade II fall over 100 discharges (1.0, below 2.5), analysed
    // and closed; a low-risk death. H2: five grade III over 100 (5.0).
    let secret = "患者张某某夜间如厕跌倒 / narrative that must not reach the case list";
    let (s, fall) = l
        .post(
            "/api/v1/reports",
            None,
            &report("H1", "II", "moderate", secret),
        )
        .await;
    ok(s, &fall);
    let fall_id = fall["report_id"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        let (s, b) = l
            .post(
                "/api/v1/reports",
                None,
                &report("H2", "III", "none", "送错饮食"),
            )
            .await;
        ok(s, &b);
    }
    for (so, h) in [(&so1, "H1"), (&so2, "H2")] {
        let (s, b) = l
            .post(
                "/api/v1/census",
                Some(so),
                &json!({"hospital": h, "department": "ICU", "month": month, "discharges": 100}),
            )
            .await;
        ok(s, &b);
    }
    let (s, rca) = l
        .post("/api/v1/rca", Some(&so1), &json!({"hospital": "H1", "report_ids": [fall_id], "title": "夜间跌倒", "team_roles": ["护士长"]}))
        .await;
    ok(s, &rca);
    let case = rca["rca_id"].as_str().unwrap().to_owned();
    let path = |tail: &str| format!("/api/v1/rca/{case}{tail}");
    let root_cause = "夜间照明不足";
    let lessons = "夜间巡视需包括床栏与照明。";
    for (tail, body) in [
        (
            "/factors",
            json!({"category": "environment", "statement": root_cause}),
        ),
        ("/root-causes", json!({"factors": [1]})),
        (
            "/actions",
            json!({"what": "加装夜灯", "owner_role": "后勤", "due": clock::date_in(30), "strength": "stronger", "measure": "每月巡查"}),
        ),
        ("/close", json!({"lessons": lessons})),
    ] {
        let (s, b) = l.post(&path(tail), Some(&so1), &body).await;
        ok(s, &b);
    }
    let (s, d) = l
        .post(
            "/api/v1/deaths",
            Some(&so1),
            &json!({"hospital": "H1", "department": "ICU",
            "admitted_at": clock::rfc3339_in(-3 * 86400), "died_at": clock::rfc3339_in(-7200),
            "age_band": "40-49", "diagnosis_icd10": "K35.8", "low_risk": true, "autopsy": false}),
        )
        .await;
    let after = ok(s, &d);

    // The region pack: H1 first (below target, a low-risk death), H2 after;
    // H3 is another region's.
    let (s, p) = l
        .get(
            &format!("/api/v1/meetings/{month}?region=R1&after={after}"),
            Some(&qc),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    let rows = p["hospitals"].as_array().unwrap();
    let codes: Vec<_> = rows
        .iter()
        .map(|r| r["hospital"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["H1", "H2"], "{p}");
    assert_eq!(rows[0]["month"]["per_100_discharges"], 1.0);
    assert_eq!(rows[0]["meets_target"], false);
    assert_eq!(
        rows[0]["concerns"],
        json!(["below_target", "low_risk_death"])
    );
    assert_eq!(
        (
            &rows[0]["month"]["serious"],
            &rows[0]["month"]["low_risk_deaths"]
        ),
        (&json!(1), &json!(1))
    );
    assert_eq!(rows[1]["month"]["per_100_discharges"], 5.0);
    assert_eq!(rows[1]["concerns"], json!([]));
    assert!(
        rows[0]["last_month"]["per_100_discharges"].is_null(),
        "no census last month"
    );

    // The case list: the grade II event with its analysis, the low-risk death.
    let events = p["cases"]["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{p}");
    let e = &events[0];
    assert_eq!(e["ref"], short_ref(&fall_id));
    assert_eq!(
        (&e["hospital"], &e["grade"], &e["category"]),
        (&json!("H1"), &json!("II"), &json!("fall"))
    );
    assert_eq!(e["rca_state"], "closed");
    assert_eq!(e["analyses"][0]["root_causes"], json!([root_cause]));
    assert_eq!(e["analyses"][0]["actions"][0]["what"], "加装夜灯");
    assert_eq!(e["analyses"][0]["lessons"], lessons);
    let deaths = p["cases"]["low_risk_deaths"].as_array().unwrap();
    assert_eq!((deaths.len(), &deaths[0]["hospital"]), (1, &json!("H1")));
    let cases = p["cases"].to_string();
    assert!(
        !cases.contains("张某某") && !cases.contains("narrative"),
        "{cases}"
    );
    assert!(
        !cases.contains(&fall_id),
        "named by its short reference: {cases}"
    );

    // The same list on its own, over a period; scope as the pack's.
    let q = format!("/api/v1/cases?region=R1&from={month}&to={month}");
    let (s, c) = l.get(&q, Some(&qc)).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["events"], p["cases"]["events"]);
    assert_eq!(
        l.get(&q, Some(&so1)).await.0,
        403,
        "a hospital reads its own"
    );
    let (s, own) = l
        .get(
            &format!("/api/v1/cases?hospital=H1&from={month}&to={month}"),
            Some(&so1),
        )
        .await;
    assert_eq!(
        (s.as_u16(), own["events"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    assert_eq!(
        l.get(
            &format!("/api/v1/cases?hospital=H2&from={month}&to={month}"),
            Some(&so1)
        )
        .await
        .0,
        403
    );
    assert_eq!(
        l.get(
            &format!("/api/v1/cases?region=R2&from={month}&to={month}"),
            Some(&qc)
        )
        .await
        .0,
        403
    );
    let (s, p) = l
        .get(&format!("/api/v1/cases?from={month}&to={month}"), Some(&qc))
        .await;
    assert_eq!(
        (s.as_u16(), &p["errors"][0]["pointer"]),
        (422, &json!("/hospital")),
        "{p}"
    );
    let (s, bad) = l
        .get(
            &format!("/api/v1/cases?region=R1&from={month}&to=2020-01"),
            Some(&qc),
        )
        .await;
    assert_eq!(
        (s.as_u16(), &bad["errors"][0]["pointer"]),
        (422, &json!("/to")),
        "{bad}"
    );

    // The printed region pack, from the browser's print.
    let page = l
        .get_html(&format!("/api/v1/meetings/{month}?region=R1"), Some(&qc))
        .await;
    let (pdf, text) = print_to_pdf(l.data.path(), "region-pack", &page);
    for shown in [
        "每月工作调度会",
        "各医院情况",
        "病例清单",
        root_cause,
        "报告率未达标",
        "H2",
    ] {
        assert!(
            text.contains(shown),
            "{shown:?} not in the printed region pack:\n{text}"
        );
    }
    crate::support::keep_printed(&pdf, "region-pack");
}
