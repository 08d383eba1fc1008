//! Reference values (参考值; issue 26 item 6): the nation's and a
//! province's means of an indicator in a year, with their source, set by
//! the administrator and the province's QC centre, kept with their
//! history, and shown beside a region's own figures in its periodic
//! reports — JSON, the printed page and the workbook's References sheet.

use crate::support::{ADMIN, Lantern, clock};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The entries of `indicator` in a report's `references`, as (scope
/// code, value, own, difference).
fn compared(report: &Value, indicator: &str) -> Vec<(Value, Value, Value, Value)> {
    report["references"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["indicator"] == indicator)
        .map(|r| {
            (
                r["code"].clone(),
                r["value"].clone(),
                r["own"].clone(),
                r["difference"].clone(),
            )
        })
        .collect()
}

/// The entry of `indicator` in a references answer.
fn of<'a>(answer: &'a Value, indicator: &str) -> &'a Value {
    answer["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"] == indicator)
        .unwrap_or_else(|| panic!("no {indicator}: {answer}"))
}

#[tokio::test]
async fn national_and_provincial_means_stand_beside_a_region_s_own_figures() {
    let l = Lantern::start().await;
    // 河南 (HN) → 郑州 (ZZ); 山东 (SD) beside it.
    for (code, name, parent) in [
        ("HN", "河南省", None),
        ("ZZ", "郑州市", Some("HN")),
        ("SD", "山东省", None),
    ] {
        let mut body = json!({"code": code, "name": name});
        if let Some(p) = parent {
            body["parent"] = json!(p);
        }
        let (s, b) = l.post("/api/v1/admin/regions", Some(ADMIN), &body).await;
        assert_eq!(s, 201, "{b}");
    }
    l.hospital("H1", "ZZ", &["ICU"]).await;
    let so = l.officer("H1").await;
    let lis = l.token(json!({"role": "lis", "hospital": "H1"})).await;
    let (qc_hn, qc_zz, qc_sd) = (
        l.qc_centre("HN").await,
        l.qc_centre("ZZ").await,
        l.qc_centre("SD").await,
    );
    let month = clock::current_month();
    let year: u64 = month[..4].parse().unwrap();

    // Given H1 at 3 reports per 100 discharges and two lab critical
    // values, one notified in 10 minutes, one in 20 (CL-15: 50 %).
    for _ in 0..3 {
        let body = json!({"hospital": "H1", "department": "ICU",
            "occurred_at": clock::rfc3339_in(-3600), "grade": "III", "category": "fall",
            "harm": "none", "description": "跌倒"});
        assert_eq!(l.post("/api/v1/reports", None, &body).await.0, 201);
    }
    let (s, b) = l
        .post(
            "/api/v1/census",
            Some(&so),
            &json!({"hospital": "H1", "department": "ICU", "month": month, "discharges": 100}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    for minutes in [10, 20] {
        let body = json!({"hospital": "H1", "department": "ICU", "source": "lab", "item": "K",
            "value": "6.9", "detected_at": clock::rfc3339_in(-7200),
            "patient_setting": "inpatient",
            "notified": {"notified_at": clock::rfc3339_in(-7200 + minutes * 60),
                         "channel": "phone", "notified_role": "nurse"}});
        let (s, b) = l.post("/api/v1/critical-values", Some(&lis), &body).await;
        assert_eq!(s, 201, "{b}");
    }

    // When the administrator sets the national reporting rate (first 2.5,
    // then corrected to 2.31), …
    let source = format!("国家医疗服务与质量安全报告（{year}年数据）");
    let national = |value: f64| {
        json!({"indicator": "reporting_rate", "scope": "national", "year": year,
               "value": value, "source": source})
    };
    for value in [2.5, 2.31] {
        let (s, b) = l
            .post("/api/v1/references", Some(ADMIN), &national(value))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    // … the province's QC centre its CL-15 mean, …
    let (s, cl15) = l
        .post(
            "/api/v1/references",
            Some(&qc_hn),
            &json!({"indicator": "cl15_notification_timeliness", "scope": "region",
                    "code": "HN", "year": year, "value": 92.35,
                    "source": "河南省医疗质量安全报告", "note": "全省二级及以上医院"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{cl15}");
    assert_eq!(
        cl15["reference"],
        json!({"indicator": "cl15_notification_timeliness", "scope": "region", "code": "HN",
               "year": year, "value": 92.35, "source": "河南省医疗质量安全报告",
               "note": "全省二级及以上医院"})
    );
    // … and, for a city below it, the city's reporting rate.
    let (s, b) = l
        .post(
            "/api/v1/references",
            Some(&qc_hn),
            &json!({"indicator": "reporting_rate", "scope": "region", "code": "ZZ",
                    "year": year, "value": 2.8, "source": "郑州市质控中心年报"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let after = b["seq"].as_u64().unwrap();

    // Refused for a scope not the caller's: 403, nothing appended.
    let region_hn = json!({"indicator": "cl15_notification_timeliness", "scope": "region",
        "code": "HN", "year": year, "value": 90, "source": "某报告"});
    for (who, token, body) in [
        ("another province's QC centre", qc_sd.as_str(), &region_hn),
        (
            "a city's QC centre, for its province",
            qc_zz.as_str(),
            &region_hn,
        ),
        ("a QC centre, nationally", qc_hn.as_str(), &national(2.0)),
        ("a safety officer", so.as_str(), &region_hn),
    ] {
        let before = l.stream_count().await;
        let (s, b) = l.post("/api/v1/references", Some(token), body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}: {b}");
        assert_eq!(l.stream_count().await, before, "{who}: nothing appended");
    }
    // Refused for a bad field: 422 naming it, nothing appended.
    let with = |field: &str, value: Value| {
        let mut b = region_hn.clone();
        b[field] = value;
        b
    };
    let mut without_code = region_hn.clone();
    without_code.as_object_mut().unwrap().remove("code");
    for (why, body, pointer) in [
        ("a per cent over 100", with("value", json!(100.5)), "/value"),
        ("three decimals", with("value", json!(92.355)), "/value"),
        ("a negative value", with("value", json!(-1)), "/value"),
        ("no source", with("source", json!("  ")), "/source"),
        (
            "a long source",
            with("source", json!("报".repeat(201))),
            "/source",
        ),
        ("a year out of range", with("year", json!(1999)), "/year"),
        ("a region without its code", without_code, "/code"),
    ] {
        let before = l.stream_count().await;
        let (s, p) = l.post("/api/v1/references", Some(&qc_hn), &body).await;
        assert_eq!(
            (s.as_u16(), &p["errors"][0]["pointer"]),
            (422, &json!(pointer)),
            "{why}: {p}"
        );
        assert_eq!(l.stream_count().await, before, "{why}: nothing appended");
    }

    // Then the city's references: its own mean, its province's, the
    // nation's latest, with the history in order.
    let (s, refs) = l
        .get(
            &format!("/api/v1/references?region=ZZ&year={year}&after={after}"),
            Some(&qc_hn),
        )
        .await;
    assert_eq!(s, 200, "{refs}");
    assert_eq!(refs["regions"], json!(["ZZ", "HN"]));
    let rr = of(&refs, "reporting_rate");
    let latest: Vec<_> = rr["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["code"].clone(), r["value"].clone()))
        .collect();
    assert_eq!(
        latest,
        [(json!("ZZ"), json!(2.8)), (Value::Null, json!(2.31))],
        "{rr}"
    );
    let history: Vec<_> = rr["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["value"].clone(), r["current"].clone()))
        .collect();
    assert_eq!(
        history,
        [
            (json!(2.5), json!(false)),
            (json!(2.31), json!(true)),
            (json!(2.8), json!(true))
        ]
    );
    assert_eq!(rr["references"][1]["source"], json!(source));
    // The hospital's safety officer reads its own regions' means, not
    // another's; another province's centre does not read this one's.
    let (s, own) = l.get("/api/v1/references", Some(&so)).await;
    assert_eq!((s.as_u16(), &own["region"]), (200, &json!("ZZ")), "{own}");
    assert_eq!(
        l.get("/api/v1/references?region=SD", Some(&so)).await.0,
        403
    );
    assert_eq!(
        l.get("/api/v1/references?region=ZZ", Some(&qc_sd)).await.0,
        403
    );

    // And the city's annual report shows each mean beside its own figure.
    let (s, report) = l
        .get(
            &format!("/api/v1/quality-reports/{year}?region=ZZ&after={after}"),
            Some(&qc_hn),
        )
        .await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["total"]["figures"]["per_100_discharges"], 3.0);
    assert_eq!(report["total"]["figures"]["notification_timeliness"], 50.0);
    assert_eq!(
        compared(&report, "reporting_rate"),
        [
            (json!("ZZ"), json!(2.8), json!(3.0), json!(0.2)),
            (Value::Null, json!(2.31), json!(3.0), json!(0.69)),
        ],
        "{report}"
    );
    assert_eq!(
        compared(&report, "cl15_notification_timeliness"),
        [(json!("HN"), json!(92.35), json!(50.0), json!(-42.35))]
    );
    assert_eq!(report["references"].as_array().unwrap().len(), 3);
    let national_entry = &report["references"][1];
    assert_eq!(
        (&national_entry["scope"], &national_entry["source"]),
        (&json!("national"), &json!(source))
    );
    // The hospital's own report is compared with the same means.
    let (s, own) = l
        .get(
            &format!("/api/v1/quality-reports/{year}?hospital=H1"),
            Some(&so),
        )
        .await;
    assert_eq!(s, 200, "{own}");
    assert_eq!(own["references"], report["references"]);

    // The printed page has the comparison.
    let page = l
        .get_html(
            &format!("/api/v1/quality-reports/{year}?region=ZZ"),
            Some(&qc_hn),
        )
        .await;
    for shown in [
        "参考值比较",
        "全国均值",
        "HN 均值",
        "92.35",
        "-42.35",
        "+0.69",
    ] {
        assert!(page.contains(shown), "{shown:?} not on the page");
    }

    // The workbook has a References sheet, numbers as numbers.
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let r = l
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/quality-reports/{year}?region=ZZ"),
            Some(&qc_hn),
        )
        .header("Accept", xlsx)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let file = l.data.path().join("references.xlsx");
    std::fs::write(&file, r.bytes().await.unwrap()).unwrap();
    let read = |part: &str| {
        let out = std::process::Command::new("python3")
            .args(["-c", "import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())"])
            .arg(&file)
            .arg(part)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let workbook = read("xl/workbook.xml");
    assert!(
        workbook.contains("参考值 References"),
        "a References sheet in {workbook}"
    );
    let sheet = read("xl/worksheets/sheet4.xml");
    for number in [
        "<v>2.31</v>",
        "<v>0.69</v>",
        "<v>-42.35</v>",
        "<v>92.35</v>",
    ] {
        assert!(sheet.contains(number), "{number} as a number: {sheet}");
    }
}
