//! Published figures (信息公开): a year written to be attackable — four
//! single-department hospitals with counts of 1–4 in many cells across
//! quarters — is published for its quarters and the year with small cells
//! null, and a reader who combines every published table of the year by
//! bounds propagation (hospital and region, quarter and year, breakdowns
//! and totals) pins no null cell to fewer than k values.

use std::collections::BTreeMap;

use async_nats::jetstream;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::Lantern;

const GRADES: [&str; 4] = ["I", "II", "III", "IV"];

fn harm(grade: &str) -> &'static str {
    match grade {
        "I" => "severe",
        "II" => "moderate",
        "III" => "none",
        _ => "not_applicable",
    }
}

/// Files a report as recorded at `at` (a past day): the stream as it
/// would be had the report been filed then.
async fn file_at(l: &Lantern, hospital: &str, grade: &str, category: &str, at: &str) -> u64 {
    let js = jetstream::new(l.nats.client().await);
    let id = Uuid::new_v4();
    let envelope = json!({
        "id": Uuid::new_v4(), "type": "report.filed", "version": 2, "aggregate": id,
        "hospital": hospital, "recorded_at": at,
        "data": {"department": "ICU", "occurred_at": at, "grade": grade, "category": category,
                 "harm": harm(grade), "description": "过去的报告 / a report of that quarter",
                 "receipt_hash": format!("{:064x}", Uuid::new_v4().as_u128())},
    });
    js.publish(
        format!("lantern.{hospital}.report.{id}"),
        envelope.to_string().into(),
    )
    .await
    .unwrap()
    .await
    .unwrap()
    .sequence
}

/// Interval bounds of every cell from the published values and the sums a
/// reader knows, tightened to a fixpoint: what a reader can pin.
fn propagate(
    known: &BTreeMap<String, Option<u64>>,
    sums: &[(String, Vec<String>)],
) -> BTreeMap<String, (i64, i64)> {
    const INF: i64 = i64::MAX / 4;
    let mut b: BTreeMap<String, (i64, i64)> = known
        .iter()
        .map(|(k, v)| (k.clone(), v.map_or((0, INF), |v| (v as i64, v as i64))))
        .collect();
    loop {
        let mut changed = false;
        for (total, parts) in sums {
            let (tl, th) = b[total];
            let lo: i64 = parts.iter().map(|p| b[p].0).sum();
            let hi: i64 = parts
                .iter()
                .map(|p| b[p].1)
                .fold(0i64, |a, x| a.saturating_add(x).min(INF));
            let t = (tl.max(lo), th.min(hi));
            if t != (tl, th) {
                b.insert(total.clone(), t);
                changed = true;
            }
            for p in parts {
                let others_lo: i64 = parts.iter().filter(|q| *q != p).map(|q| b[q].0).sum();
                let others_hi: i64 = parts
                    .iter()
                    .filter(|q| *q != p)
                    .map(|q| b[q].1)
                    .fold(0i64, |a, x| a.saturating_add(x).min(INF));
                let (pl, ph) = b[p];
                let (tl, th) = b[total];
                let n = (
                    pl.max(tl.saturating_sub(others_hi)).max(0),
                    ph.min(th.saturating_sub(others_lo)),
                );
                if n != (pl, ph) {
                    b.insert(p.clone(), n);
                    changed = true;
                }
            }
        }
        if !changed {
            return b;
        }
    }
}

#[tokio::test]
async fn a_year_built_to_be_attacked_publishes_no_recoverable_cell() {
    let l = Lantern::start().await;
    let hospitals = ["H1", "H2", "H3", "H4"];
    for h in hospitals {
        l.hospital(h, "R1", &["ICU"]).await;
    }
    // 2025, an ended year: per hospital and quarter, 1–4 reports of a few
    // grades (a deterministic spread), a census each month.
    let mut last = 0;
    let mut n = 0u64;
    for (hi, h) in hospitals.iter().enumerate() {
        let so = l.officer(h).await;
        for q in 1..=4u32 {
            for (gi, grade) in GRADES.iter().enumerate() {
                let count = ((hi as u32 * 7 + q * 3 + gi as u32 * 5) % 5) as usize; // 0..4
                for i in 0..count {
                    let month = 3 * q - 2 + (i as u32 % 3);
                    let at = format!("2025-{month:02}-1{}T10:00:00+08:00", i % 9);
                    let category = if n.is_multiple_of(3) {
                        "fall"
                    } else {
                        "medication"
                    };
                    last = file_at(&l, h, grade, category, &at).await;
                    n += 1;
                }
            }
            for m in 3 * q - 2..=3 * q {
                let (s, b) = l
                    .post(
                        "/api/v1/census",
                        Some(&so),
                        &json!({"hospital": h, "department": "ICU",
                        "month": format!("2025-{m:02}"), "discharges": 150 + 10 * hi as u64}),
                    )
                    .await;
                assert_eq!(s, 201, "{b}");
                last = last.max(b["seq"].as_u64().unwrap());
            }
        }
    }
    // Let the rates catch up with the last event.
    let (s, _) = l
        .get(
            &format!("/api/v1/rates?from=2025-01&to=2025-12&by=hospital&after={last}"),
            Some(&l.qc_centre("R1").await),
        )
        .await;
    assert_eq!(s, 200);

    // The year and each quarter, as anyone reads them.
    let mut tables: BTreeMap<String, Value> = BTreeMap::new();
    for when in ["", "&quarter=1", "&quarter=2", "&quarter=3", "&quarter=4"] {
        let (s, f) = l
            .get(&format!("/api/v1/public/figures?year=2025{when}"), None)
            .await;
        assert_eq!(s, 200, "{f}");
        tables.insert(
            if when.is_empty() {
                "Y".into()
            } else {
                format!("Q{}", &when[9..])
            },
            f,
        );
    }
    let k = tables["Y"]["k"].as_u64().unwrap();
    assert!(k >= 2);
    // The reader's cells: (period, unit, field) → value or null.
    let mut known: BTreeMap<String, Option<u64>> = BTreeMap::new();
    let key = |p: &str, unit: &str, f: &str| format!("{p}|{unit}|{f}");
    let mut fields = vec!["reports".to_owned()];
    fields.extend(GRADES.iter().map(|g| format!("grade.{g}")));
    for (p, t) in &tables {
        for row in t["rows"].as_array().unwrap() {
            let unit = row["hospital"].as_str().map_or_else(
                || format!("region:{}", row["region"].as_str().unwrap()),
                str::to_owned,
            );
            known.insert(key(p, &unit, "reports"), row["reports"].as_u64());
            for g in GRADES {
                known.insert(
                    key(p, &unit, &format!("grade.{g}")),
                    row["by_grade"][g].as_u64(),
                );
            }
            for (c, v) in row["by_category"].as_object().unwrap() {
                known.insert(key(p, &unit, &format!("cat.{c}")), v.as_u64());
            }
        }
    }
    // Nothing small is shown.
    for (cell, v) in &known {
        if let Some(v) = v {
            assert!(
                *v == 0 || *v >= k,
                "{cell} = {v} is a small cell, published"
            );
        }
    }
    let nulls = known.values().filter(|v| v.is_none()).count();
    assert!(
        nulls > 10,
        "the year was built to need suppression: {nulls} null cells"
    );

    // The sums a reader knows.
    let periods: Vec<String> = tables.keys().cloned().collect();
    let units: Vec<String> = hospitals
        .iter()
        .map(|h| h.to_string())
        .chain(["region:R1".to_owned()])
        .collect();
    let categories: Vec<String> = tables["Y"]["rows"][0]["by_category"]
        .as_object()
        .unwrap()
        .keys()
        .map(|c| format!("cat.{c}"))
        .collect();
    let mut sums: Vec<(String, Vec<String>)> = Vec::new();
    for p in &periods {
        for u in &units {
            sums.push((
                key(p, u, "reports"),
                GRADES
                    .iter()
                    .map(|g| key(p, u, &format!("grade.{g}")))
                    .collect(),
            ));
            sums.push((
                key(p, u, "reports"),
                categories.iter().map(|c| key(p, u, c)).collect(),
            ));
        }
        for f in fields.iter().chain(&categories) {
            sums.push((
                key(p, "region:R1", f),
                hospitals.iter().map(|h| key(p, h, f)).collect(),
            ));
        }
    }
    for u in &units {
        for f in fields.iter().chain(&categories) {
            sums.push((
                key("Y", u, f),
                ["Q1", "Q2", "Q3", "Q4"]
                    .iter()
                    .map(|q| key(q, u, f))
                    .collect(),
            ));
        }
    }
    let bounds = propagate(&known, &sums);
    for (cell, v) in &known {
        if v.is_none() {
            let (lo, hi) = bounds[cell];
            assert!(
                hi.saturating_sub(lo).saturating_add(1) >= k as i64,
                "{cell} pinned to [{lo}, {hi}] (fewer than k = {k} values)"
            );
        }
    }

    // The page anyone reads: suppressed counts as *.
    let page = l
        .get_html("/api/v1/public/figures?year=2025&quarter=2", None)
        .await;
    assert!(
        page.contains("医疗质量安全信息公开") && page.contains("<td class=\"n\">*</td>"),
        "{page}"
    );

    // Only ended periods; bad parameters named.
    let (s, p) = l
        .get("/api/v1/public/figures?year=2099&quarter=1", None)
        .await;
    assert_eq!(
        (s.as_u16(), &p["errors"][0]["pointer"]),
        (422, &json!("/quarter")),
        "{p}"
    );
    let (s, p) = l
        .get("/api/v1/public/figures?year=2025&quarter=5", None)
        .await;
    assert_eq!(
        (s.as_u16(), &p["errors"][0]["pointer"]),
        (422, &json!("/quarter")),
        "{p}"
    );
    let (s, p) = l
        .get("/api/v1/public/figures?year=2025&region=NOPE", None)
        .await;
    assert_eq!(
        (s.as_u16(), &p["errors"][0]["pointer"]),
        (422, &json!("/region")),
        "{p}"
    );
}
