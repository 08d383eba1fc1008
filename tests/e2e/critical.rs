//! Critical values: the closed loop, its refusals, the worklist, the limits
//! and the national timeliness figures, against a hand computation.

use crate::support::{ADMIN, Lantern, clock};
use serde_json::{Value, json};

fn detect(dept: &str, at: &str) -> Value {
    json!({"hospital": "H1", "department": dept, "source": "lab", "item": "血钾 K", "value": "6.9",
           "unit": "mmol/L", "detected_at": at, "patient_setting": "inpatient"})
}

fn notified(at: &str) -> Value {
    json!({"notified_at": at, "channel": "phone", "notified_role": "nurse"})
}

#[tokio::test]
async fn the_closed_loop_its_refusals_and_its_figures() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU", "ER"]).await;
    l.hospital("H2", "R1", &["ICU"]).await;
    let lis = l.token(json!({"role": "lis", "hospital": "H1"})).await;
    let lis2 = l.token(json!({"role": "lis", "hospital": "H2"})).await;
    let so = l.officer("H1").await;
    let qc = l.qc_centre("R1").await;
    let post = |path: String, body: Value| {
        let token = lis.clone();
        let l = &l;
        async move { l.post(&path, Some(&token), &body).await }
    };

    // A: the whole loop after the fact, in one request: exactly at both limits.
    let mut a = detect("ICU", "2026-10-05T08:00:00+08:00");
    a["notified"] = notified("2026-10-05T08:15:00+08:00");
    a["handled"] =
        json!({"handled_at": "2026-10-05T08:45:00+08:00", "disposition": "葡萄糖酸钙静推"});
    let (s, ra) = post("/api/v1/critical-values".into(), a).await;
    assert_eq!(s, 201, "{ra}");
    let a_id = ra["critical_value_id"].as_str().unwrap().to_owned();
    // B: notified one second late, handled in time. C: handled late. D: never notified. E: not handled.
    let mut ids = vec![];
    for at in [
        "2026-10-05T09:00:00+08:00",
        "2026-10-05T10:00:00+08:00",
        "2026-10-05T11:00:00+08:00",
        "2026-10-05T12:00:00+08:00",
    ] {
        let (s, r) = post("/api/v1/critical-values".into(), detect("ICU", at)).await;
        assert_eq!(s, 201, "{r}");
        ids.push(r["critical_value_id"].as_str().unwrap().to_owned());
    }
    let (b, c, d, e) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    let step = |id: &str, what: &str, body: Value| {
        post(format!("/api/v1/critical-values/{id}/{what}"), body)
    };
    assert_eq!(
        step(b, "notified", notified("2026-10-05T09:15:01+08:00"))
            .await
            .0,
        201
    );
    assert_eq!(
        step(
            b,
            "handled",
            json!({"handled_at": "2026-10-05T09:30:00+08:00", "disposition": "复查"})
        )
        .await
        .0,
        201
    );
    assert_eq!(
        step(c, "notified", notified("2026-10-05T10:05:00+08:00"))
            .await
            .0,
        201
    );
    assert_eq!(
        step(
            c,
            "acknowledged",
            json!({"acknowledged_at": "2026-10-05T10:06:00+08:00"})
        )
        .await
        .0,
        201
    );
    assert_eq!(
        step(
            c,
            "handled",
            json!({"handled_at": "2026-10-05T10:40:00+08:00", "disposition": "补钾停用"})
        )
        .await
        .0,
        201
    );
    let (_, last) = step(e, "notified", notified("2026-10-05T12:10:00+08:00")).await;
    let after = last["seq"].as_u64().unwrap();

    // Refusals: each leaves the stream as it was.
    let count = l.stream_count().await;
    let (s, p) = step(
        d,
        "acknowledged",
        json!({"acknowledged_at": "2026-10-05T11:30:00+08:00"}),
    )
    .await;
    assert_eq!(s, 409, "acknowledged before notified: {p}");
    assert_eq!(
        step(&a_id, "notified", notified("2026-10-05T08:20:00+08:00"))
            .await
            .0,
        409,
        "repeated"
    );
    let (s, p) = step(
        e,
        "handled",
        json!({"handled_at": "2026-10-05T12:09:00+08:00", "disposition": "x"}),
    )
    .await;
    assert_eq!(
        (s.as_u16(), p["errors"][0]["pointer"].as_str()),
        (422, Some("/handled_at")),
        "{p}"
    );
    let mut bad = detect("ICU", "2026-10-05T08:00:00+08:00");
    bad["notified"] = notified("2026-10-05T07:59:00+08:00");
    let (s, p) = post("/api/v1/critical-values".into(), bad).await;
    assert_eq!(
        (s.as_u16(), p["errors"][0]["pointer"].as_str()),
        (422, Some("/notified/notified_at")),
        "{p}"
    );
    let (s, p) = post(
        "/api/v1/critical-values".into(),
        detect("ICU", "2099-01-01T00:00:00+08:00"),
    )
    .await;
    assert_eq!(
        (s.as_u16(), p["errors"][0]["pointer"].as_str()),
        (422, Some("/detected_at")),
        "{p}"
    );
    let mut bad = detect("ICU", "2026-10-05T08:00:00+08:00");
    bad["source"] = json!("telepathy");
    assert_eq!(post("/api/v1/critical-values".into(), bad).await.0, 422);
    let (s, _) = l
        .post(
            "/api/v1/critical-values",
            Some(&lis2),
            &detect("ICU", "2026-10-05T08:00:00+08:00"),
        )
        .await;
    assert_eq!(s, 403, "another hospital's LIS");
    let (s, _) = l
        .post(
            &format!("/api/v1/critical-values/{d}/notified"),
            Some(&lis2),
            &notified("2026-10-05T11:05:00+08:00"),
        )
        .await;
    assert_eq!(s, 404, "another hospital's critical value is not found");
    assert_eq!(
        step(
            "01900000-0000-7000-8000-000000000000",
            "notified",
            notified("2026-10-05T11:05:00+08:00")
        )
        .await
        .0,
        404
    );
    assert_eq!(l.stream_count().await, count, "refusals appended nothing");

    // The same specimen and item count once: the second is refused, naming the first.
    let mut g = detect("ER", "2026-10-06T08:00:00+08:00");
    g["specimen_id"] = json!("S-0001");
    let (s, first) = post("/api/v1/critical-values".into(), g.clone()).await;
    assert_eq!(s, 201, "{first}");
    let (s, p) = post("/api/v1/critical-values".into(), g).await;
    assert_eq!(s, 409, "{p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains(first["critical_value_id"].as_str().unwrap()),
        "{p}"
    );

    // The worklist: D waits for notification, E and G... by the clock, all long overdue.
    let (s, w) = l
        .get(
            &format!(
                "/api/v1/critical-values?hospital=H1&state=open&after={}",
                first["seq"]
            ),
            Some(&so),
        )
        .await;
    assert_eq!(s, 200, "{w}");
    let rows = w["rows"].as_array().unwrap();
    let stage = |id: &str| {
        rows.iter()
            .find(|r| r["critical_value_id"] == id)
            .map(|r| (r["stage"].clone(), r["overdue"].clone()))
    };
    assert_eq!(rows.len(), 3, "D, E and G are open: {w}");
    assert_eq!(
        stage(d),
        Some((json!("awaiting_notification"), json!(true)))
    );
    assert_eq!(stage(e), Some((json!("awaiting_handling"), json!(true))));
    assert_eq!(stage(&a_id), None, "handled loops leave the worklist");

    // Figures for October, by hand: detected 5; notified 4 (A B C E), in time 3 (A at
    // exactly 15:00, C, E; B is one second late); handled 3, in time 2 (A at exactly
    // 30:00, B; C took 35 min).
    let q =
        format!("/api/v1/rates?from=2026-10&to=2026-10&by=department&department=ICU&after={after}");
    let (s, r) = l.get(&q, Some(&so)).await;
    assert_eq!(s, 200, "{r}");
    let cv = &r["rows"][0]["critical_values"];
    assert_eq!(
        cv,
        &json!({"detected": 5, "notified": 4, "notified_in_time": 3, "handled": 3, "handled_in_time": 2,
                "notification_rate": 80.0, "notification_timeliness": 60.0, "handling_timeliness": 50.0})
    );
    // A QC centre sees the same exact figures (DESIGN v2: suppression is
    // for published figures only).
    let (_, r) = l.get(&q, Some(&qc)).await;
    let row = &r["rows"][0];
    assert_eq!(&row["critical_values"], cv);
    assert_eq!(row["suppressed"], json!([]));

    // Two clients notify the same critical value at once: exactly one wins.
    let (x, y) = tokio::join!(
        step(d, "notified", notified("2026-10-05T11:10:00+08:00")),
        step(d, "notified", notified("2026-10-05T11:11:00+08:00")),
    );
    let mut statuses = [x.0.as_u16(), y.0.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{x:?} {y:?}");

    // Stricter limits apply to what is detected after the change, never before.
    let r = l
        .request(
            reqwest::Method::PUT,
            "/api/v1/admin/hospitals/H1/limits",
            Some(ADMIN),
        )
        .json(&json!({"notification_limit_minutes": 1, "handling_limit_minutes": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut f = detect("ER", &clock::rfc3339_in(1));
    f["notified"] = notified(&clock::rfc3339_in(150));
    let (s, rf) = post("/api/v1/critical-values".into(), f).await;
    assert_eq!(s, 201, "{rf}");
    let (_, r) = l
        .get(
            &format!(
                "/api/v1/rates?from=2026-01&to=2030-12&by=department&department=ER&after={}",
                rf["seq"]
            ),
            Some(&so),
        )
        .await;
    let cv = &r["rows"][0]["critical_values"];
    assert_eq!(
        (cv["notified"].as_u64(), cv["notified_in_time"].as_u64()),
        (Some(1), Some(0)),
        "2.5 min > 1 min: {cv}"
    );
    let (_, r) = l
        .get(
            "/api/v1/rates?from=2026-10&to=2026-10&by=department&department=ICU",
            Some(&so),
        )
        .await;
    assert_eq!(
        r["rows"][0]["critical_values"]["notified_in_time"], 4,
        "October kept its 15-minute limit (D now in time too)"
    );

    // Rebuilt read models equal the live ones.
    let mut l = l;
    l.stop();
    for projector in ["critical_values", "rates"] {
        let fresh = l.data.path().join(format!("rebuilt-{projector}"));
        l.run(&["rebuild", projector, "--into", fresh.to_str().unwrap()]);
        assert_eq!(
            l.run(&["export", projector]),
            l.run(&["export", projector, "--from", fresh.to_str().unwrap()]),
            "{projector}"
        );
    }
}

/// The critical-value catalogue (issue 28 item 2): set by the hospital's
/// safety officer or the administrator, with its history; read as it held
/// at a moment by the hospital's systems and its QC centre; bad input
/// named field by field; a retried set appends nothing.
#[tokio::test]
async fn the_catalogue_is_set_with_its_history_and_read_at_a_moment() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    l.hospital("H2", "R2", &["ICU"]).await;
    let so = l.officer("H1").await;
    let so2 = l.officer("H2").await;
    let lis = l.token(json!({"role": "lis", "hospital": "H1"})).await;
    let qc = l.qc_centre("R1").await;
    let put = |path: &str, token: &str, key: Option<&str>, body: Value| {
        let mut r = l
            .request(reqwest::Method::PUT, path, Some(token))
            .json(&body);
        if let Some(k) = key {
            r = r.header("Idempotency-Key", k);
        }
        async move {
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let k = "/api/v1/hospitals/H1/critical-catalogue/K";
    let january = json!({"name": "血钾", "unit": "mmol/L", "low": 2.5, "high": 6.5,
                         "source": "lab", "effective_from": "2026-01-01T00:00:00+08:00"});

    // Who may set: not the LIS, not another hospital's officer.
    assert_eq!(put(k, &lis, None, january.clone()).await.0, 403);
    assert_eq!(put(k, &so2, None, january.clone()).await.0, 403);
    // Bad input, every field named; nothing appended.
    let before = l.stream_count().await;
    let (s, r) = put(
        "/api/v1/hospitals/H1/critical-catalogue/K%2F2",
        &so,
        None,
        json!({"name": "", "low": -1, "high": 6.00001, "source": "lab"}),
    )
    .await;
    assert_eq!(s, 422, "{r}");
    let mut pointers: Vec<&str> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    pointers.sort();
    assert_eq!(pointers, ["/high", "/item", "/low", "/name"], "{r}");
    let (s, r) = put(
        k,
        &so,
        None,
        json!({"name": "血钾", "low": 7, "high": 6, "source": "lab"}),
    )
    .await;
    assert_eq!(
        (s, r["errors"][0]["pointer"].as_str()),
        (422, Some("/low")),
        "{r}"
    );
    let (s, r) = put(
        k,
        &so,
        None,
        json!({"name": "血钾", "high": 6, "source": "x-ray"}),
    )
    .await;
    assert_eq!(
        (s, r["errors"][0]["pointer"].as_str()),
        (422, Some("/source")),
        "{r}"
    );
    assert_eq!(
        put(
            "/api/v1/hospitals/H9/critical-catalogue/K",
            ADMIN,
            None,
            january.clone()
        )
        .await
        .0,
        404
    );
    assert_eq!(l.stream_count().await, before, "refusals append nothing");

    // Set, and retried with its key: one event.
    let (s, first) = put(k, &so, Some("cat-1"), january.clone()).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["item"]["low"], 2.5);
    let (s, again) = put(k, &so, Some("cat-1"), january.clone()).await;
    assert_eq!((s, &again["seq"]), (200, &first["seq"]), "{again}");
    assert_eq!(l.stream_count().await, before + 1);
    let (s, r) = put(
        k,
        &so,
        Some("cat-1"),
        json!({"name": "钾", "high": 6, "source": "lab"}),
    )
    .await;
    assert_eq!(
        (s, r["errors"][0]["pointer"].as_str()),
        (422, Some("/headers/Idempotency-Key")),
        "{r}"
    );
    // Stricter from March, set by the administrator.
    let (s, march) = put(
        k,
        ADMIN,
        None,
        json!({"name": "血钾", "unit": "mmol/L", "low": 2.8, "high": 6.2,
               "source": "lab", "effective_from": "2026-03-01T00:00:00+08:00"}),
    )
    .await;
    assert_eq!(s, 200, "{march}");

    let at = |when: &str, token: &str| {
        let path = format!(
            "/api/v1/hospitals/H1/critical-catalogue?at={}&after={}",
            when.replace('+', "%2B"),
            march["seq"]
        );
        let (token, l) = (token.to_owned(), &l);
        async move { l.get(&path, Some(&token)).await }
    };
    let (s, feb) = at("2026-02-28T23:59:59+08:00", &lis).await;
    assert_eq!(s, 200, "{feb}");
    assert_eq!(feb["items"][0]["high"], 6.5, "{feb}");
    assert_eq!(feb["history"].as_array().unwrap().len(), 2);
    let (s, mar) = at("2026-03-01T00:00:00+08:00", &qc).await;
    assert_eq!(
        (s.as_u16(), &mar["items"][0]["high"]),
        (200, &json!(6.2)),
        "{mar}"
    );
    let (s, dec) = at("2025-12-31T00:00:00+08:00", &so).await;
    assert_eq!(
        (s.as_u16(), dec["items"].as_array().unwrap().len()),
        (200, 0)
    );
    assert_eq!(at("2026-03-01T00:00:00+08:00", &so2).await.0, 403);
}
