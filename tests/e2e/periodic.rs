//! The periodic reports: a region's quarterly report (季报) and annual
//! quality and safety report (年度医疗质量安全报告) — every indicator by
//! hospital, level and region, rates from summed counts — as JSON, a
//! printed page and an Excel workbook.

use crate::support::{ADMIN, Lantern, clock, print_to_pdf};
use serde_json::json;

#[tokio::test]
async fn a_region_reports_its_quarter_and_year_by_hospital_level_and_region() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    // A secondary hospital beside the tertiary one.
    let (s, b) = l
        .post(
            "/api/v1/admin/hospitals",
            Some(ADMIN),
            &json!({"code": "H2", "name": "H2 县医院", "region": "R1", "level": "secondary"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = l
        .post(
            "/api/v1/admin/hospitals/H2/departments",
            Some(ADMIN),
            &json!({"code": "ICU", "name": "ICU 科"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (so1, so2) = (l.officer("H1").await, l.officer("H2").await);
    let qc = l.qc_centre("R1").await;
    let month = clock::current_month();
    let report = |h: &str, grade: &str, harm: &str| {
        json!({"hospital": h, "department": "ICU", "occurred_at": clock::rfc3339_in(-3600),
               "grade": grade, "category": "fall", "harm": harm, "description": "跌倒"})
    };
    for body in [
        report("H1", "II", "moderate"),
        report("H1", "III", "none"),
        report("H1", "III", "none"),
        report("H2", "III", "none"),
    ] {
        assert_eq!(l.post("/api/v1/reports", None, &body).await.0, 201);
    }
    let mut after = 0;
    for (so, h, n) in [(&so1, "H1", 100), (&so2, "H2", 200)] {
        let (s, b) = l
            .post(
                "/api/v1/census",
                Some(so),
                &json!({"hospital": h, "department": "ICU", "month": month, "discharges": n}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        after = b["seq"].as_u64().unwrap();
    }
    let year = &month[..4];
    // The region's own target for the serious share (lower is better).
    let (s, t) = l
        .post(
            "/api/v1/targets",
            Some(&qc),
            &json!({"indicator": "serious_share", "scope": "region", "code": "R1",
                    "year": year.parse::<u16>().unwrap(), "value": 30}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    after = after.max(t["seq"].as_u64().unwrap());
    let quarter = format!(
        "{year}-Q{}",
        (month[5..].parse::<u32>().unwrap() - 1) / 3 + 1
    );

    for period in [year.to_owned(), quarter.clone()] {
        let (s, r) = l
            .get(
                &format!("/api/v1/quality-reports/{period}?region=R1&after={after}"),
                Some(&qc),
            )
            .await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["period"], period.as_str());
        assert_eq!(r["complete"], false, "the period has not ended");
        assert_eq!(r["hospitals"].as_array().unwrap().len(), 2);
        let total = &r["total"];
        assert_eq!(
            (&total["counts"]["reports"], &total["counts"]["discharges"]),
            (&json!(4), &json!(300))
        );
        assert_eq!(
            total["figures"]["per_100_discharges"], 1.33,
            "4 over 300: from summed counts"
        );
        let h1 = r["hospitals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["key"] == "H1")
            .unwrap();
        assert_eq!(h1["figures"]["per_100_discharges"], 3.0);
        assert_eq!(h1["figures"]["serious_share"], 33.33);
        let levels: Vec<_> = r["by_level"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["key"].as_str().unwrap(),
                    x["counts"]["reports"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            levels,
            [("三级", 3), ("二级", 1)]
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_iter()
                .collect::<Vec<_>>()
        );
        assert_eq!(r["by_region"][0]["key"], "R1");
        // Every indicator with a target is judged: here the reporting
        // rate's built-in 2.5 (higher is better) against 4 ÷ 300.
        let reporting = r["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["indicator"] == "reporting_rate")
            .unwrap();
        assert_eq!(
            (&reporting["target"], &reporting["own"], &reporting["meets"]),
            (&json!(2.5), &json!(1.33), &json!(false)),
            "{r}"
        );
        // The region's serious-share target (lower is better): 1 of 4 = 25.0 ≤ 30.
        let serious = r["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["indicator"] == "serious_share")
            .unwrap();
        assert_eq!(
            (&serious["target"], &serious["own"], &serious["meets"]),
            (&json!(30.0), &json!(25.0), &json!(true)),
            "{r}"
        );
    }

    // Scope and period refusals.
    assert_eq!(
        l.get(
            &format!("/api/v1/quality-reports/{year}?region=R1"),
            Some(&so1)
        )
        .await
        .0,
        403
    );
    assert_eq!(
        l.get(
            &format!("/api/v1/quality-reports/{year}?region=R2"),
            Some(&qc)
        )
        .await
        .0,
        403
    );
    let (s, p) = l
        .get(
            &format!("/api/v1/quality-reports/{year}-Q5?region=R1"),
            Some(&qc),
        )
        .await;
    assert_eq!(
        (s.as_u16(), &p["errors"][0]["pointer"]),
        (422, &json!("/period")),
        "{p}"
    );
    let (s, own) = l
        .get(
            &format!("/api/v1/quality-reports/{year}?hospital=H1"),
            Some(&so1),
        )
        .await;
    assert_eq!(
        (s.as_u16(), own["hospitals"].as_array().map(Vec::len)),
        (200, Some(1))
    );

    // The printed annual report.
    let page = l
        .get_html(
            &format!("/api/v1/quality-reports/{year}?region=R1"),
            Some(&qc),
        )
        .await;
    let (pdf, text) = print_to_pdf(l.data.path(), "annual-report", &page);
    for shown in [
        "Against targets",
        "年度医疗质量安全报告",
        "By hospital",
        "By level",
        "1.33",
        "H2 县医院",
    ] {
        assert!(
            text.contains(shown),
            "{shown:?} not in the printed report:\n{text}"
        );
    }
    crate::support::keep_printed(&pdf, "annual-report");

    // The workbook: a sheet per table, numbers as numbers.
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let r = l
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/quality-reports/{quarter}?region=R1"),
            Some(&qc),
        )
        .header("Accept", xlsx)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], xlsx);
    let bytes = r.bytes().await.unwrap();
    let file = l.data.path().join("quarter.xlsx");
    std::fs::write(&file, &bytes).unwrap();
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
    for sheet in ["医院 Hospitals", "级别 Levels", "地区 Regions"] {
        assert!(workbook.contains(sheet), "{sheet} in {workbook}");
    }
    let first = read("xl/worksheets/sheet1.xml");
    assert!(
        first.contains("<v>300</v>") && first.contains("<v>1.33</v>"),
        "numbers as numbers: {first}"
    );
}
