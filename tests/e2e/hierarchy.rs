//! Regions with parents (province → city → county): a province's QC
//! centre supervises every hospital below it, a city's only its own and its
//! counties', figures roll up the hierarchy and are stratified by level.

use crate::support::{ADMIN, Lantern, clock};
use serde_json::{Value, json};

fn rows_by<'a>(r: &'a Value, key: &str) -> Vec<(&'a str, u64)> {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x[key].as_str().unwrap(), x["reports"].as_u64().unwrap()))
        .collect()
}

#[tokio::test]
async fn a_province_supervises_its_cities_and_counties_and_figures_roll_up() {
    let l = Lantern::start().await;
    // 河南 (HN) → 郑州 (ZZ) → 中牟县 (ZM); 河南 → 洛阳 (LY).
    for (code, name, parent) in [
        ("HN", "河南省", None),
        ("ZZ", "郑州市", Some("HN")),
        ("LY", "洛阳市", Some("HN")),
        ("ZM", "中牟县", Some("ZZ")),
    ] {
        let mut body = json!({"code": code, "name": name});
        if let Some(p) = parent {
            body["parent"] = json!(p);
        }
        let (s, b) = l.post("/api/v1/admin/regions", Some(ADMIN), &body).await;
        assert_eq!(s, 201, "{b}");
    }
    // Refused: an unknown parent, a loop, a region under itself.
    for (body, pointer) in [
        (
            json!({"code": "KF", "name": "开封市", "parent": "NOPE"}),
            "/parent",
        ),
        (
            json!({"code": "HN", "name": "河南省", "parent": "ZM"}),
            "/parent",
        ),
        (
            json!({"code": "ZZ", "name": "郑州市", "parent": "ZZ"}),
            "/parent",
        ),
    ] {
        let (s, p) = l.post("/api/v1/admin/regions", Some(ADMIN), &body).await;
        assert_eq!(
            (s.as_u16(), &p["errors"][0]["pointer"]),
            (422, &json!(pointer)),
            "{body}: {p}"
        );
    }
    l.hospital("H1", "ZZ", &["ICU"]).await;
    l.hospital("H2", "LY", &["ICU"]).await;
    let (s, b) = l
        .post(
            "/api/v1/admin/hospitals",
            Some(ADMIN),
            &json!({"code": "H3", "name": "中牟县人民医院", "region": "ZM", "level": "secondary"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = l
        .post(
            "/api/v1/admin/hospitals/H3/departments",
            Some(ADMIN),
            &json!({"code": "ICU", "name": "ICU"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (province, city) = (l.qc_centre("HN").await, l.qc_centre("ZZ").await);
    let month = clock::current_month();
    let mut after = 0;
    for (h, n) in [("H1", 1), ("H2", 2), ("H3", 3)] {
        for _ in 0..n {
            let (s, b) = l
                .post("/api/v1/reports", None, &json!({"hospital": h, "department": "ICU",
                    "occurred_at": clock::rfc3339_in(-3600), "grade": "III", "category": "fall", "harm": "none", "description": "跌倒"}))
                .await;
            assert_eq!(s, 201, "{b}");
            after = b["seq"].as_u64().unwrap();
        }
    }
    let q = |by: &str| format!("/api/v1/rates?from={month}&to={month}&by={by}&after={after}");

    // The province sees all three; the city its own and its county's.
    let (_, r) = l.get(&q("hospital"), Some(&province)).await;
    assert_eq!(
        rows_by(&r, "hospital"),
        [("H1", 1), ("H2", 2), ("H3", 3)],
        "{r}"
    );
    let (_, r) = l.get(&q("hospital"), Some(&city)).await;
    assert_eq!(rows_by(&r, "hospital"), [("H1", 1), ("H3", 3)], "{r}");

    // By region, rolled up: 郑州 = its hospital + 中牟's; 河南 = all.
    let (_, r) = l.get(&q("region"), Some(&province)).await;
    assert_eq!(
        rows_by(&r, "region"),
        [("HN", 6), ("LY", 2), ("ZM", 3), ("ZZ", 4)],
        "{r}"
    );
    let (_, r) = l.get(&q("region"), Some(&city)).await;
    assert_eq!(
        rows_by(&r, "region"),
        [("ZM", 3), ("ZZ", 4)],
        "never above the city: {r}"
    );

    // By level (二级/三级).
    let (_, r) = l.get(&q("level"), Some(&province)).await;
    assert_eq!(
        rows_by(&r, "level"),
        [("secondary", 3), ("tertiary", 3)],
        "{r}"
    );
    assert_eq!(
        l.get(&q("level"), Some(&l.officer("H1").await)).await.0,
        403
    );

    // The region pack and the case scope follow the hierarchy too.
    let (s, p) = l
        .get(
            &format!("/api/v1/meetings/{month}?region=HN&after={after}"),
            Some(&province),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["hospitals"].as_array().unwrap().len(), 3);
    let (s, _) = l
        .get(
            &format!("/api/v1/meetings/{month}?region=ZZ"),
            Some(&province),
        )
        .await;
    assert_eq!(s, 200, "a province reads a city's pack");
    assert_eq!(
        l.get(&format!("/api/v1/meetings/{month}?region=HN"), Some(&city))
            .await
            .0,
        403
    );
    assert_eq!(
        l.get(&format!("/api/v1/meetings/{month}?region=LY"), Some(&city))
            .await
            .0,
        403
    );

    // A province's QC centre may address a county hospital; a city's may
    // not address another city's.
    let notice = |h: &str| json!({"hospital": h, "kind": "guidance", "title": "夜间巡视", "text": "请加强夜间巡视。", "due": clock::date_in(10)});
    let (s, b) = l
        .post("/api/v1/follow-ups", Some(&province), &notice("H3"))
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(
        l.post("/api/v1/follow-ups", Some(&city), &notice("H2"))
            .await
            .0,
        403
    );
    let (_, list) = l
        .get(
            &format!("/api/v1/follow-ups?region=ZZ&after={}", b["seq"]),
            Some(&city),
        )
        .await;
    assert_eq!(
        list["rows"].as_array().unwrap().len(),
        1,
        "the city sees what its county hospital was sent: {list}"
    );
    assert_eq!(list["rows"][0]["region"], "HN", "opened by the province");
}
