use crate::support::{ADMIN, Lantern, clock};
use serde_json::{Value, json};

fn report(hospital: &str, dept: &str, grade: &str, category: &str) -> Value {
    let harm = match grade {
        "I" => "severe",
        "II" => "moderate",
        "III" => "mild",
        _ => "not_applicable",
    };
    let mut body = json!({"hospital": hospital, "department": dept, "occurred_at": "2026-01-05T08:00:00+08:00",
           "grade": grade, "category": category, "harm": harm,
           "description": "输液泵报警未及时处理 / infusion pump alarm missed"});
    if harm == "mild" {
        body["treatment_needed"] = json!(false);
    }
    body
}

async fn file(l: &Lantern, body: &Value) -> Value {
    let (s, b) = l.post("/api/v1/reports", None, body).await;
    assert_eq!(s, 201, "{b}");
    b
}

fn row<'a>(rates: &'a Value, hospital: Option<&str>, dept: Option<&str>) -> &'a Value {
    rates["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["hospital"].as_str() == hospital && r["department"].as_str() == dept)
        .unwrap_or_else(|| panic!("no row {hospital:?}/{dept:?} in {rates}"))
}

#[tokio::test]
async fn rates_are_exact_for_officers_and_qc_centres_and_survive_restarts_and_rebuilds() {
    let mut l = Lantern::start().await;
    let month = clock::current_month();
    l.hospital("H1", "R1", &["ICU", "ER"]).await;
    l.hospital("H2", "R1", &["ICU"]).await;
    l.hospital("H3", "R2", &["ICU"]).await;
    let so = l.officer("H1").await;
    let his = l.token(json!({"role": "his", "hospital": "H1"})).await;
    let his2 = l.token(json!({"role": "his", "hospital": "H2"})).await;
    let qc = l.qc_centre("R1").await;

    // H1/ICU: I 0, II 1, III 5, IV 6; fall 4, medication 8.
    let mut icu_ids = vec![];
    for (grade, n) in [("II", 1), ("III", 5), ("IV", 6)] {
        for _ in 0..n {
            let category = if icu_ids.len() < 4 {
                "fall"
            } else {
                "medication"
            };
            icu_ids
                .push(file(&l, &report("H1", "ICU", grade, category)).await["report_id"].clone());
        }
    }
    for _ in 0..3 {
        file(&l, &report("H1", "ER", "II", "surgery")).await;
    }
    for _ in 0..2 {
        file(&l, &report("H2", "ICU", "III", "fall")).await;
    }
    file(&l, &report("H3", "ICU", "IV", "diet")).await;

    for (token, hospital, dept, discharges) in [
        (&his, "H1", "ICU", 400),
        (&his, "H1", "ER", 150),
        (&his2, "H2", "ICU", 90),
    ] {
        // A first, wrong figure is replaced by the later one.
        let body = json!({"hospital": hospital, "department": dept, "month": month, "discharges": discharges + 1});
        assert_eq!(l.post("/api/v1/census", Some(token), &body).await.0, 201);
        let body = json!({"hospital": hospital, "department": dept, "month": month, "discharges": discharges});
        assert_eq!(l.post("/api/v1/census", Some(token), &body).await.0, 201);
    }
    let (_, last) = l
        .post(
            "/api/v1/census",
            Some(&his),
            &json!({"hospital": "H1", "department": "ICU", "month": month, "discharges": 400}),
        )
        .await;
    let after = last["seq"].as_u64().unwrap();

    let q = |by: &str| format!("/api/v1/rates?from={month}&to={month}&by={by}&after={after}");

    // Safety officer: own hospital, nothing suppressed.
    let (s, r) = l.get(&q("department"), Some(&so)).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r["rows"].as_array().unwrap().len(),
        2,
        "H1's two departments only: {r}"
    );
    let icu = row(&r, Some("H1"), Some("ICU"));
    let officers_icu = icu.clone();
    assert_eq!(icu["reports"], 12);
    assert_eq!(icu["discharges"], 400);
    assert_eq!(icu["per_100_discharges"], 3.0);
    assert_eq!(icu["by_grade"], json!({"I": 0, "II": 1, "III": 5, "IV": 6}));
    assert_eq!(icu["by_category"]["fall"], 4);
    assert_eq!(icu["by_category"]["medication"], 8);
    assert_eq!(icu["by_category"]["surgery"], 0);
    assert_eq!(icu["suppressed"], json!([]));
    assert_eq!(icu["critical_values"]["detected"], 0);
    assert_eq!(icu["critical_values"]["notification_rate"], Value::Null);
    let er = row(&r, Some("H1"), Some("ER"));
    assert_eq!(
        (er["reports"].as_u64(), er["per_100_discharges"].as_f64()),
        (Some(3), Some(2.0))
    );
    assert_eq!(r["target_per_100_discharges"], 2.5);

    // QC centre: its region's hospitals, every count exact (DESIGN v2: a
    // supervisory body sees exact figures; suppression is for what is
    // published).
    let (s, r) = l.get(&q("department"), Some(&qc)).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r["rows"].as_array().unwrap().len(),
        3,
        "H1/ICU, H1/ER, H2/ICU: {r}"
    );
    let icu = row(&r, Some("H1"), Some("ICU"));
    assert_eq!(
        icu, &officers_icu,
        "the QC centre sees what the officer sees"
    );
    assert_eq!(icu["by_grade"], json!({"I": 0, "II": 1, "III": 5, "IV": 6}));
    assert_eq!(icu["suppressed"], json!([]));
    let h2 = row(&r, Some("H2"), Some("ICU"));
    assert_eq!(h2["per_100_discharges"], 2.22);
    assert_eq!(h2["suppressed"], json!([]), "{h2}");
    assert!(
        h2["by_grade"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v.is_u64()),
        "{h2}"
    );

    let (_, r) = l.get(&q("hospital"), Some(&qc)).await;
    let h1 = row(&r, Some("H1"), None);
    assert_eq!(
        (h1["reports"].as_u64(), h1["discharges"].as_u64()),
        (Some(15), Some(550))
    );
    assert_eq!(h1["per_100_discharges"], 2.73, "15/550 = 2.7272…");
    assert!(
        h1["by_grade"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v.is_u64()),
        "exact: {h1}"
    );
    assert_eq!(
        (h1["by_grade"]["III"].clone(), h1["by_grade"]["IV"].clone()),
        (json!(5), json!(6))
    );
    let (_, r) = l.get(&q("region"), Some(&qc)).await;
    assert_eq!(r["rows"].as_array().unwrap().len(), 1);
    let r1 = &r["rows"][0];
    assert_eq!(
        (
            r1["region"].as_str(),
            r1["reports"].as_u64(),
            r1["discharges"].as_u64()
        ),
        (Some("R1"), Some(17), Some(640))
    );
    assert_eq!(
        r1["per_100_discharges"], 2.66,
        "17/640 = 2.65625 rounds half away from zero"
    );

    // Scope.
    assert_eq!(l.get(&q("region"), Some(&so)).await.0, 403);
    assert_eq!(
        l.get(&format!("{}&hospital=H2", q("department")), Some(&so))
            .await
            .0,
        403
    );
    assert_eq!(
        l.get(&format!("{}&hospital=H3", q("department")), Some(&qc))
            .await
            .0,
        403
    );
    assert_eq!(
        l.get(&q("department"), Some(&his)).await.0,
        403,
        "his tokens do not read rates"
    );
    assert_eq!(l.get(&q("department"), None).await.0, 401);
    assert_eq!(l.get(&q("department"), Some("nope")).await.0, 401);
    let (s, p) = l
        .get(
            &format!("/api/v1/rates?from={month}&to=2020-01&by=department"),
            Some(&so),
        )
        .await;
    assert_eq!(
        (s.as_u16(), p["errors"][0]["pointer"].as_str()),
        (422, Some("/to"))
    );
    let (s, p) = l
        .get(
            &format!("/api/v1/rates?from=2026-13&to={month}&by=department"),
            Some(&so),
        )
        .await;
    assert_eq!(
        (s.as_u16(), p["errors"][0]["pointer"].as_str()),
        (422, Some("/from"))
    );
    let (s, p) = l
        .get(
            &format!("/api/v1/rates?from={month}&to={month}&by=ward"),
            Some(&so),
        )
        .await;
    assert_eq!(
        (s.as_u16(), p["errors"][0]["pointer"].as_str()),
        (422, Some("/by"))
    );

    // Triage moves a report between grade and category cells.
    let id = icu_ids.last().unwrap().as_str().unwrap();
    let (s, t) = l
        .post(
            &format!("/api/v1/reports/{id}/triage"),
            Some(&so),
            &json!({"grade": "III", "category": "fall", "harm": "none"}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let seq = t["seq"].as_u64().unwrap();
    let (_, r) = l
        .get(&format!("/api/v1/rates?from={month}&to={month}&by=department&hospital=H1&department=ICU&after={seq}"), Some(&so))
        .await;
    let icu = &r["rows"][0];
    assert_eq!(icu["reports"], 12);
    assert_eq!(icu["by_grade"], json!({"I": 0, "II": 1, "III": 6, "IV": 5}));
    assert_eq!(
        (
            icu["by_category"]["fall"].as_u64(),
            icu["by_category"]["medication"].as_u64()
        ),
        (Some(5), Some(7))
    );
    let expected = r.clone();

    // A graceful restart and a SIGKILL keep everything.
    l.restart().await;
    assert_eq!(l.get(&format!("/api/v1/rates?from={month}&to={month}&by=department&hospital=H1&department=ICU&after={seq}"), Some(&so)).await.1, expected);
    l.kill();
    l.restart().await;
    assert_eq!(l.get(&format!("/api/v1/rates?from={month}&to={month}&by=department&hospital=H1&department=ICU&after={seq}"), Some(&so)).await.1, expected);

    // A rebuild from the stream equals the live read model, byte for byte.
    l.stop();
    // rca keeps the queue of the grade II reports filed here.
    for projector in ["directory", "reports", "rates", "rca"] {
        let fresh = l.data.path().join(format!("rebuilt-{projector}"));
        let out = l.run(&["rebuild", projector, "--into", fresh.to_str().unwrap()]);
        assert!(out.contains("rebuilt"), "{out}");
        let live = l.run(&["export", projector]);
        let rebuilt = l.run(&["export", projector, "--from", fresh.to_str().unwrap()]);
        assert!(!live.is_empty());
        assert_eq!(live, rebuilt, "{projector}: rebuild differs from live");
    }
    // Rebuilding in place, then serving, gives the same figures.
    l.run(&["rebuild", "rates"]);
    l.restart().await;
    assert_eq!(l.get(&format!("/api/v1/rates?from={month}&to={month}&by=department&hospital=H1&department=ICU&after={seq}"), Some(&so)).await.1, expected);
    assert_eq!(
        month,
        clock::current_month(),
        "the month turned during the test; run it again"
    );
    let _ = ADMIN;
}

#[tokio::test]
async fn retries_append_once_and_bad_reports_append_nothing() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let so = l.officer("H1").await;
    let before = l.stream_count().await;

    // The same Idempotency-Key three times: one event, the same receipt.
    let body = report("H1", "ICU", "III", "medication");
    let (s1, a) = l.post_key("/api/v1/reports", None, "retry-1", &body).await;
    let (s2, b) = l.post_key("/api/v1/reports", None, "retry-1", &body).await;
    let (s3, c) = l.post_key("/api/v1/reports", None, "retry-1", &body).await;
    assert_eq!((s1.as_u16(), s2.as_u16(), s3.as_u16()), (201, 201, 201));
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(l.stream_count().await, before + 1);
    let receipt = a["receipt"].as_str().unwrap().to_owned();
    assert!(receipt.len() >= 26, "≥128 bits");

    // A different key is a different report.
    let (_, d) = l.post_key("/api/v1/reports", None, "retry-2", &body).await;
    assert_ne!(d["report_id"], a["report_id"]);
    assert_ne!(d["receipt"], a["receipt"]);
    assert_eq!(l.stream_count().await, before + 2);

    // Bad reports: each a 422 naming the field, nothing appended.
    let count = l.stream_count().await;
    let mut unknown_dept = body.clone();
    unknown_dept["department"] = json!("NOPE");
    let mut unknown_hospital = body.clone();
    unknown_hospital["hospital"] = json!("H9");
    let mut bad_grade = body.clone();
    bad_grade["grade"] = json!("V");
    let mut harm = body.clone();
    harm["grade"] = json!("IV");
    harm["harm"] = json!("severe");
    let mut future = body.clone();
    future["occurred_at"] = json!("2099-01-01T00:00:00+08:00");
    let mut no_offset = body.clone();
    no_offset["occurred_at"] = json!("2026-01-01T00:00:00");
    let mut empty = body.clone();
    empty["description"] = json!("   ");
    let mut extra = body.clone();
    extra["reporter_name"] = json!("张三");
    for (bad, pointer) in [
        (unknown_dept, "/department"),
        (unknown_hospital, "/hospital"),
        (bad_grade, "/grade"),
        (harm, "/harm"),
        (future, "/occurred_at"),
        (no_offset, "/occurred_at"),
        (empty, "/description"),
        (extra, "/reporter_name"),
    ] {
        let (s, p) = l.post("/api/v1/reports", None, &bad).await;
        assert_eq!(s, 422, "{bad} → {p}");
        let pointers: Vec<_> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["pointer"].as_str().unwrap())
            .collect();
        assert!(pointers.contains(&pointer), "{pointer} not in {pointers:?}");
        assert_eq!(p["status"], 422);
    }
    assert_eq!(
        l.stream_count().await,
        count,
        "refused reports appended nothing"
    );

    // Follow-up through the receipt, triage and feedback; the reporter sees them.
    let typed = format!(" {}-{} ", &receipt[..5].to_lowercase(), &receipt[5..]);
    let (s, f) = l
        .post_key(
            &format!("/api/v1/receipts/{typed}/follow-ups"),
            None,
            "fu-1",
            &json!({"text": "补充：当班护士已上报设备科"}),
        )
        .await;
    assert_eq!(s, 201, "{f}");
    assert_eq!(
        l.post_key(
            &format!("/api/v1/receipts/{receipt}/follow-ups"),
            None,
            "fu-1",
            &json!({"text": "补充：当班护士已上报设备科"})
        )
        .await
        .1,
        f
    );
    let id = a["report_id"].as_str().unwrap();
    let (s, _) = l
        .post(
            &format!("/api/v1/reports/{id}/triage"),
            Some(&so),
            &json!({"grade": "II", "category": "device", "harm": "moderate"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, fb) = l
        .post(
            &format!("/api/v1/reports/{id}/feedback"),
            Some(&so),
            &json!({"text": "已更换报警阈值"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, view) = l
        .get(
            &format!("/api/v1/receipts/{receipt}?after={}", fb["seq"]),
            None,
        )
        .await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["status"], "triaged");
    assert_eq!(view["grade"], "II");
    assert_eq!(view["category"], "device");
    assert_eq!(view["follow_ups"][0]["text"], "补充：当班护士已上报设备科");
    assert_eq!(view["feedback"][0]["text"], "已更换报警阈值");
    assert!(
        view.get("triage").is_none() && view.get("description").is_none(),
        "the receipt shows no staff notes: {view}"
    );
    assert_eq!(
        l.get("/api/v1/receipts/AAAAAAAAAAAAAAAAAAAAAAAAAA", None)
            .await
            .0,
        404
    );
    assert_eq!(l.get("/api/v1/receipts/not-a-receipt", None).await.0, 404);

    // The staff list: filing day only, never the time.
    let month = clock::current_month();
    let (s, page) = l
        .get(
            &format!("/api/v1/reports?hospital=H1&from={month}&to={month}"),
            Some(&so),
        )
        .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["total"], 2);
    let filed_on = page["rows"][0]["filed_on"].as_str().unwrap();
    assert_eq!(filed_on.len(), 10, "a date, not a time: {filed_on}");
    assert!(page["rows"][0].get("recorded_at").is_none());
    // Descriptions are read from the filing events; where one sits on the
    // stream is not shown (it would date the filing).
    let pump = "输液泵报警未及时处理 / infusion pump alarm missed";
    for row in page["rows"].as_array().unwrap() {
        assert_eq!(row["description"], pump, "{row}");
        assert!(row.get("filed_seq").is_none(), "{row}");
    }
    let (s, one) = l.get(&format!("/api/v1/reports/{id}"), Some(&so)).await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(one["description"], pump);
    assert_eq!(one["feedback"][0]["text"], "已更换报警阈值");
}

#[tokio::test]
async fn tokens_are_scoped_and_revocable() {
    let l = Lantern::with_hospitals(&["H1", "H2"]).await;
    let so = l.officer("H1").await;
    let month = clock::current_month();
    let census =
        |h: &str| json!({"hospital": h, "department": "ICU", "month": month, "discharges": 10});

    assert_eq!(
        l.post("/api/v1/census", Some(&so), &census("H1")).await.0,
        201
    );
    assert_eq!(
        l.post("/api/v1/census", Some(&so), &census("H2")).await.0,
        403,
        "out of scope"
    );
    assert_eq!(l.post("/api/v1/census", None, &census("H1")).await.0, 401);
    assert_eq!(
        l.post("/api/v1/census", Some("wrong"), &census("H1"))
            .await
            .0,
        401
    );
    assert_eq!(
        l.post(
            "/api/v1/admin/tokens",
            Some(&so),
            &json!({"role": "his", "hospital": "H1"})
        )
        .await
        .0,
        403,
        "only admin issues tokens"
    );
    let (s, p) = l
        .post(
            "/api/v1/admin/tokens",
            Some(ADMIN),
            &json!({"role": "qc_centre", "hospital": "H1"}),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    let (s, _) = l
        .post(
            "/api/v1/admin/tokens",
            Some(ADMIN),
            &json!({"role": "admin"}),
        )
        .await;
    assert_eq!(s, 422);
    let (s, _) = l
        .post(
            "/api/v1/admin/hospitals",
            Some(ADMIN),
            &json!({"code": "H1", "name": "again", "region": "R1", "level": "tertiary"}),
        )
        .await;
    assert_eq!(s, 409, "a hospital registers once");
    let (s, p) = l
        .post(
            "/api/v1/admin/hospitals",
            Some(ADMIN),
            &json!({"code": "H.3", "name": "x", "region": "R1", "level": "quaternary"}),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    let future =
        json!({"hospital": "H1", "department": "ICU", "month": "2999-01", "discharges": 10});
    let (s, p) = l.post("/api/v1/census", Some(&so), &future).await;
    assert_eq!(
        (s.as_u16(), p["errors"][0]["pointer"].as_str()),
        (422, Some("/month"))
    );

    // Revocation by hash prefix takes effect at once.
    let (_, issued) = l
        .post(
            "/api/v1/admin/tokens",
            Some(ADMIN),
            &json!({"role": "his", "hospital": "H1"}),
        )
        .await;
    let his = issued["token"].as_str().unwrap();
    let hash = issued["token_hash"].as_str().unwrap();
    assert_eq!(
        l.post("/api/v1/census", Some(his), &census("H1")).await.0,
        201
    );
    let r = l
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/tokens/{}", &hash[..12]),
            Some(ADMIN),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        l.post("/api/v1/census", Some(his), &census("H1")).await.0,
        401
    );
    let r = l
        .request(
            reqwest::Method::DELETE,
            "/api/v1/admin/tokens/00000000",
            Some(ADMIN),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
