//! Root-cause analyses over HTTP: a whole case from two reports, the case
//! file as officer and QC centre see it, lists, the queue, the figures, the
//! reporter's receipt, refusals that append nothing, and a rebuild equal to
//! the live read model.

use crate::support::{Lantern, clock, short_ref};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn report(hospital: &str, dept: &str, grade: &str, category: &str, description: &str) -> Value {
    let harm = if grade == "III" { "none" } else { "moderate" };
    json!({"hospital": hospital, "department": dept, "occurred_at": "2026-01-05T08:00:00+08:00",
           "grade": grade, "category": category, "harm": harm, "description": description})
}

/// Files a report; returns (report id, receipt).
async fn file(l: &Lantern, body: &Value) -> (String, String) {
    let (s, b) = l.post("/api/v1/reports", None, body).await;
    assert_eq!(s, 201, "{b}");
    (
        b["report_id"].as_str().unwrap().to_owned(),
        b["receipt"].as_str().unwrap().to_owned(),
    )
}

/// A 201's `seq`.
fn seq(status: StatusCode, body: &Value) -> u64 {
    assert_eq!(status, 201, "{body}");
    body["seq"].as_u64().unwrap()
}

fn pointers(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["pointer"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn ids(rows: &Value, field: &str) -> Vec<String> {
    rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_whole_rca_from_two_reports_through_http() {
    let mut l = Lantern::start().await;
    let today = clock::date_in(0);
    let month = today[..7].to_owned();
    l.hospital("H1", "R1", &["ICU", "ER"]).await;
    l.hospital("H2", "R1", &["ICU"]).await;
    l.hospital("H3", "R2", &["ICU"]).await;
    let so = l.officer("H1").await;
    let so2 = l.officer("H2").await;
    let qc = l.qc_centre("R1").await;
    let qc2 = l.qc_centre("R2").await;
    let so = so.as_str();

    // Two grade II reports, a grade III one that triage raises to I, and one of H2.
    let (r1, receipt1) = file(
        &l,
        &report(
            "H1",
            "ICU",
            "II",
            "medication",
            "KCl 浓度错误，家属电话13812345678",
        ),
    )
    .await;
    let (r2, _) = file(&l, &report("H1", "ER", "II", "medication", "KCl 外渗")).await;
    let (r3, receipt3) = file(&l, &report("H1", "ICU", "III", "fall", "夜间跌倒")).await;
    let (r9, _) = file(&l, &report("H2", "ICU", "II", "fall", "跌倒")).await;
    let (s, t) = l
        .post(
            &format!("/api/v1/reports/{r3}/triage"),
            Some(so),
            &json!({"grade": "I", "category": "fall", "harm": "severe"}),
        )
        .await;
    let after = seq(s, &t);

    // The queue: grade I and II as they stand, oldest first, none overdue yet.
    let (s, q) = l
        .get(
            &format!("/api/v1/rca/required?hospital=H1&after={after}"),
            Some(so),
        )
        .await;
    assert_eq!(s, 200, "{q}");
    assert_eq!(
        q,
        json!({"rows": [
            {"report_id": r1, "ref": short_ref(&r1), "grade": "II", "filed_on": today, "overdue": false},
            {"report_id": r2, "ref": short_ref(&r2), "grade": "II", "filed_on": today, "overdue": false},
            {"report_id": r3, "ref": short_ref(&r3), "grade": "I", "filed_on": today, "overdue": false},
        ]})
    );

    // Open a case from both grade II reports; a retry returns the first answer.
    let open = json!({"hospital": "H1", "report_ids": [r1, r2], "title": "KCl 浓度错误",
                      "team_roles": ["safety_officer", "head_nurse", "pharmacist"]});
    let before = l.stream_count().await;
    let (s, opened) = l.post_key("/api/v1/rca", Some(so), "open-a", &open).await;
    seq(s, &opened);
    let (s, again) = l.post_key("/api/v1/rca", Some(so), "open-a", &open).await;
    assert_eq!((s.as_u16(), &again), (201, &opened));
    assert_eq!(
        l.stream_count().await,
        before + 1,
        "a retry appends nothing"
    );
    let a = opened["rca_id"].as_str().unwrap().to_owned();
    let path = |tail: &str| format!("/api/v1/rca/{a}{tail}");

    // The timeline, the later entry first.
    let (s, b) = l
        .post(
            &path("/timeline"),
            Some(so),
            &json!({"at": "2026-01-05T09:00:00+08:00", "text": "泵报警被静音，家属电话13812345678"}),
        )
        .await;
    seq(s, &b);
    let (s, b) = l
        .post(
            &path("/timeline"),
            Some(so),
            &json!({"at": "2026-01-05T08:00:00+08:00", "text": "KCl 袋挂上"}),
        )
        .await;
    seq(s, &b);

    // Two officers add a factor at the same moment: both go in, numbered 1 and 2.
    let f1 = json!({"category": "equipment", "statement": "泵药库无 KCl 浓度上限",
                    "whys": ["为何泵未拦截？", "药库无上限"]});
    let f2 = json!({"category": "methods", "statement": "双人核对流于形式"});
    let factors_path = path("/factors");
    let (ra, rb) = tokio::join!(
        l.post(&factors_path, Some(so), &f1),
        l.post(&factors_path, Some(so), &f2)
    );
    seq(ra.0, &ra.1);
    seq(rb.0, &rb.1);
    let mut numbers = [ra.1["factor"].as_u64(), rb.1["factor"].as_u64()];
    numbers.sort();
    assert_eq!(numbers, [Some(1), Some(2)]);
    let equipment_factor = ra.1["factor"].as_u64().unwrap();

    // Refusals, each appending nothing.
    let count = l.stream_count().await;
    let unknown = "01900000-0000-7000-8000-000000000000";
    let h2_report =
        json!({"hospital": "H1", "report_ids": [r1, r9], "title": "t", "team_roles": ["so"]});
    // What, token, body, status, the pointer named.
    type Refusal<'a> = (&'a str, Option<&'a str>, Value, u16, Option<&'a str>);
    let cases: Vec<Refusal> = vec![
        (
            "close without root cause or action",
            Some(so),
            json!({"lessons": "x"}),
            409,
            None,
        ),
        (
            "unknown factor",
            Some(so),
            json!({"factors": [9]}),
            422,
            Some("/factors/0"),
        ),
        (
            "another hospital's officer",
            Some(&so2),
            json!({"at": "2026-01-05T10:00:00+08:00", "text": "x"}),
            403,
            None,
        ),
        (
            "a QC centre writes",
            Some(&qc),
            json!({"at": "2026-01-05T10:00:00+08:00", "text": "x"}),
            403,
            None,
        ),
        (
            "no token",
            None,
            json!({"at": "2026-01-05T10:00:00+08:00", "text": "x"}),
            401,
            None,
        ),
        (
            "bad token",
            Some("lt_nope"),
            json!({"at": "2026-01-05T10:00:00+08:00", "text": "x"}),
            401,
            None,
        ),
        (
            "in the future",
            Some(so),
            json!({"at": "2099-01-01T00:00:00+08:00", "text": "x"}),
            422,
            Some("/at"),
        ),
        (
            "no such fishbone category",
            Some(so),
            json!({"category": "machine", "statement": "x"}),
            422,
            Some("/category"),
        ),
    ];
    for (what, token, body, status, pointer) in cases {
        let tail = if body.get("lessons").is_some() {
            "/close"
        } else if body.get("factors").is_some() {
            "/root-causes"
        } else if body.get("category").is_some() {
            "/factors"
        } else {
            "/timeline"
        };
        let (s, p) = l.post(&path(tail), token, &body).await;
        assert_eq!(s.as_u16(), status, "{what}: {p}");
        if let Some(pointer) = pointer {
            assert_eq!(pointers(&p), [pointer], "{what}");
        }
        if status != 401 {
            assert_eq!(p["status"], status, "{what}: problem+json");
        }
    }
    for (what, path, token, body, status, pointer) in [
        (
            "unknown case",
            format!("/api/v1/rca/{unknown}/timeline"),
            so,
            json!({"at": "2026-01-05T10:00:00+08:00", "text": "x"}),
            404,
            None,
        ),
        (
            "not a case id",
            "/api/v1/rca/not-an-id/timeline".to_owned(),
            so,
            json!({"at": "2026-01-05T10:00:00+08:00", "text": "x"}),
            404,
            None,
        ),
        (
            "a report of another hospital",
            "/api/v1/rca".to_owned(),
            so,
            h2_report,
            422,
            Some("/report_ids/1"),
        ),
        (
            "no report",
            "/api/v1/rca".to_owned(),
            so,
            json!({"hospital": "H1", "report_ids": [], "title": "t", "team_roles": ["so"]}),
            422,
            Some("/report_ids"),
        ),
        (
            "an unknown report",
            "/api/v1/rca".to_owned(),
            so,
            json!({"hospital": "H1", "report_ids": [unknown], "title": "t", "team_roles": ["so"]}),
            422,
            Some("/report_ids/0"),
        ),
        (
            "an unknown hospital",
            "/api/v1/rca".to_owned(),
            so,
            json!({"hospital": "H9", "report_ids": [r1], "title": "t", "team_roles": ["so"]}),
            422,
            Some("/hospital"),
        ),
        (
            "opening in another hospital",
            "/api/v1/rca".to_owned(),
            so2.as_str(),
            json!({"hospital": "H1", "report_ids": [r1], "title": "t", "team_roles": ["so"]}),
            403,
            None,
        ),
        (
            "a loose date",
            "/api/v1/rca".to_owned(),
            so,
            json!({"hospital": "H1", "report_ids": [r1], "title": "t", "team_roles": ["so"], "due": "2026-2-1"}),
            422,
            Some("/due"),
        ),
    ] {
        let (s, p) = l.post(&path, Some(token), &body).await;
        assert_eq!(s.as_u16(), status, "{what}: {p}");
        if let Some(pointer) = pointer {
            assert_eq!(pointers(&p), [pointer], "{what}");
        }
    }
    assert_eq!(l.stream_count().await, count, "refusals appended nothing");

    // Root causes; two actions at once; one completed.
    let (s, b) = l
        .post(&path("/root-causes"), Some(so), &json!({"factors": [2, 1]}))
        .await;
    seq(s, &b);
    let due = clock::date_in(30);
    let act = |what: &str, strength: &str| {
        json!({"what": what, "owner_role": "biomedical_engineering", "due": due,
               "strength": strength, "measure": "每月泵药库审核"})
    };
    let (actions_path, a1, a2) = (
        path("/actions"),
        act("泵药库加硬限制", "stronger"),
        act("高警示药品清单", "intermediate"),
    );
    let (ra, rb) = tokio::join!(
        l.post(&actions_path, Some(so), &a1),
        l.post(&actions_path, Some(so), &a2)
    );
    seq(ra.0, &ra.1);
    seq(rb.0, &rb.1);
    let mut numbers = [ra.1["action"].as_u64(), rb.1["action"].as_u64()];
    numbers.sort();
    assert_eq!(numbers, [Some(1), Some(2)]);
    let stronger = ra.1["action"].as_u64().unwrap();
    let complete = json!({"completed_at": "2026-01-20T10:00:00+08:00",
                          "evidence": "38 台泵已更新药库", "effect": "四周内无浓度错误"});
    let (s, b) = l
        .post_key(
            &path(&format!("/actions/{stronger}/complete")),
            Some(so),
            "complete-1",
            &complete,
        )
        .await;
    seq(s, &b);
    let (s, b2) = l
        .post_key(
            &path(&format!("/actions/{stronger}/complete")),
            Some(so),
            "complete-1",
            &complete,
        )
        .await;
    assert_eq!(
        (s.as_u16(), &b2),
        (201, &b),
        "a retry is answered, not refused"
    );
    let count = l.stream_count().await;
    let (s, p) = l
        .post(
            &path(&format!("/actions/{stronger}/complete")),
            Some(so),
            &complete,
        )
        .await;
    assert_eq!(s, 409, "completed twice: {p}");
    let (s, p) = l
        .post(&path("/actions/7/complete"), Some(so), &complete)
        .await;
    assert_eq!(s, 409, "no action 7: {p}");
    assert_eq!(l.stream_count().await, count);

    // Close with the lessons; then nothing more goes in.
    let lessons = "高浓度电解质需要泵级硬限制，仅靠双人核对不够。";
    let (s, b) = l
        .post_key(
            &path("/close"),
            Some(so),
            "close-a",
            &json!({"lessons": lessons}),
        )
        .await;
    let closed = seq(s, &b);
    let (s, b2) = l
        .post_key(
            &path("/close"),
            Some(so),
            "close-a",
            &json!({"lessons": lessons}),
        )
        .await;
    assert_eq!((s.as_u16(), &b2), (201, &b), "a retried close is answered");
    let count = l.stream_count().await;
    let (s, p) = l
        .post(
            &path("/timeline"),
            Some(so),
            &json!({"at": "2026-01-05T10:00:00+08:00", "text": "x"}),
        )
        .await;
    assert_eq!(s, 409, "{p}");
    let (s, _) = l
        .post(&path("/close"), Some(so), &json!({"lessons": "again"}))
        .await;
    assert_eq!(s, 409);
    assert_eq!(l.stream_count().await, count);

    // Case B: the grade I report, due in the past, one weaker action overdue.
    let (s, b) = l
        .post(
            "/api/v1/rca",
            Some(so),
            &json!({"hospital": "H1", "report_ids": [r3], "title": "夜间跌倒",
                    "team_roles": ["head_nurse"], "due": "2026-01-10"}),
        )
        .await;
    seq(s, &b);
    let b_id = b["rca_id"].as_str().unwrap().to_owned();
    let (s, b) = l
        .post(
            &format!("/api/v1/rca/{b_id}/actions"),
            Some(so),
            &json!({"what": "床栏培训", "owner_role": "head_nurse", "due": "2026-01-15",
                    "strength": "weaker", "measure": "培训签到"}),
        )
        .await;
    let last = seq(s, &b);
    let (s, p) = l
        .post(
            &format!("/api/v1/rca/{b_id}/close"),
            Some(so),
            &json!({"lessons": "x"}),
        )
        .await;
    assert_eq!(s, 409, "an action but no root cause: {p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("no root cause is confirmed"),
        "{p}"
    );

    // Case A as its hospital's safety officer sees it.
    let (s, case) = l.get(&path(&format!("?after={last}")), Some(so)).await;
    assert_eq!(s, 200, "{case}");
    let other = 3 - equipment_factor;
    let intermediate = 3 - stronger;
    let mut factors = vec![
        json!({"factor": equipment_factor, "category": "equipment", "statement": "泵药库无 KCl 浓度上限",
               "whys": ["为何泵未拦截？", "药库无上限"]}),
        json!({"factor": other, "category": "methods", "statement": "双人核对流于形式", "whys": []}),
    ];
    factors.sort_by_key(|f| f["factor"].as_u64());
    let mut actions = vec![
        json!({"action": stronger, "what": "泵药库加硬限制", "owner_role": "biomedical_engineering",
               "due": due, "strength": "stronger", "measure": "每月泵药库审核",
               "completed_at": "2026-01-20T10:00:00+08:00", "evidence": "38 台泵已更新药库",
               "effect": "四周内无浓度错误", "overdue": false}),
        json!({"action": intermediate, "what": "高警示药品清单", "owner_role": "biomedical_engineering",
               "due": due, "strength": "intermediate", "measure": "每月泵药库审核",
               "completed_at": null, "evidence": null, "effect": null, "overdue": false}),
    ];
    actions.sort_by_key(|a| a["action"].as_u64());
    let opened_at = case["opened_at"].clone();
    assert!(opened_at.as_str().unwrap().starts_with("20"), "{opened_at}");
    assert_eq!(
        case,
        json!({
            "rca_id": a, "hospital": "H1", "title": "KCl 浓度错误", "state": "closed",
            "overdue": false, "opened_at": opened_at, "due": clock::date_in(45), "closed_on": today,
            "team_roles": ["safety_officer", "head_nurse", "pharmacist"],
            "reports": [
                {"report_id": r1, "grade": "II", "category": "medication", "department": "ICU",
                 "description": "KCl 浓度错误，家属电话[PHONE]"},
                {"report_id": r2, "grade": "II", "category": "medication", "department": "ER",
                 "description": "KCl 外渗"},
            ],
            "timeline": [
                {"at": "2026-01-05T08:00:00+08:00", "text": "KCl 袋挂上"},
                {"at": "2026-01-05T09:00:00+08:00", "text": "泵报警被静音，家属电话[PHONE]"},
            ],
            "factors": factors,
            "root_causes": [1, 2],
            "actions": actions,
            "lessons": lessons,
            "reason_no_action": null,
            "seq": closed,
        })
    );

    // The region's QC centre reads it without the narrative; another region's cannot.
    let (s, seen) = l.get(&path(""), Some(&qc)).await;
    assert_eq!(s, 200, "{seen}");
    assert!(seen["reports"][0].get("description").is_none(), "{seen}");
    assert_eq!(seen["reports"][0]["grade"], "II");
    assert!(seen["timeline"][0].get("text").is_none(), "{seen}");
    assert_eq!(seen["timeline"][0]["at"], "2026-01-05T08:00:00+08:00");
    assert!(seen["factors"][0].get("whys").is_none(), "{seen}");
    assert_eq!(
        seen["factors"][0]["statement"],
        case["factors"][0]["statement"]
    );
    let done = &seen["actions"][(stronger - 1) as usize];
    assert!(done.get("evidence").is_none(), "{seen}");
    assert_eq!(done["effect"], "四周内无浓度错误");
    assert_eq!(seen["lessons"], lessons);
    assert_eq!(l.get(&path(""), Some(&qc2)).await.0, 403);
    assert_eq!(l.get(&path(""), Some(&so2)).await.0, 403);
    assert_eq!(
        l.get(&format!("/api/v1/rca/{unknown}"), Some(so)).await.0,
        404
    );

    // Lists, newest first, by state.
    let list = |state: &str| format!("/api/v1/rca?hospital=H1{state}");
    let (s, all) = l.get(&list(""), Some(so)).await;
    assert_eq!(s, 200, "{all}");
    assert_eq!(ids(&all, "rca_id"), [b_id.as_str(), a.as_str()]);
    let row_b = &all["rows"][0];
    assert_eq!(
        (
            row_b["state"].as_str(),
            row_b["overdue"].as_bool(),
            row_b["actions"].as_u64(),
            row_b["actions_overdue"].as_u64()
        ),
        (Some("open"), Some(true), Some(1), Some(1))
    );
    assert_eq!(all["rows"][1]["actions_completed"], 1);
    assert_eq!(
        ids(&l.get(&list("&state=open"), Some(so)).await.1, "rca_id"),
        [b_id.as_str()]
    );
    assert_eq!(
        ids(&l.get(&list("&state=overdue"), Some(so)).await.1, "rca_id"),
        [b_id.as_str()]
    );
    assert_eq!(
        ids(&l.get(&list("&state=closed"), Some(&qc)).await.1, "rca_id"),
        [a.as_str()]
    );
    let (s, p) = l.get(&list("&state=late"), Some(so)).await;
    assert_eq!((s.as_u16(), pointers(&p)), (422, vec!["/state".to_owned()]));
    assert_eq!(l.get(&list(""), Some(&qc2)).await.0, 403);
    assert_eq!(l.get("/api/v1/rca?hospital=H2", Some(so)).await.0, 403);

    // The queue is empty until another serious report comes in.
    let (s, q) = l.get("/api/v1/rca/required?hospital=H1", Some(so)).await;
    assert_eq!((s.as_u16(), q), (200, json!({"rows": []})));
    let (r4, _) = file(&l, &report("H1", "ICU", "II", "tube", "管路滑脱")).await;
    let (_, q) = l
        .get(
            &format!(
                "/api/v1/rca/required?hospital=H1&after={}",
                l.stream_count().await
            ),
            Some(&qc),
        )
        .await;
    assert_eq!(ids(&q, "report_id"), [r4]);
    assert_eq!(q["rows"][0]["overdue"], false);

    // The month's figures, by hand: A and B opened; A closed the day it
    // opened (0 days); B overdue with its one action; of the 3 actions planned
    // this month, stronger + intermediate = 2 → 66.67 %.
    let (s, f) = l
        .get(
            &format!("/api/v1/rca/figures?hospital=H1&month={month}"),
            Some(so),
        )
        .await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(
        f,
        json!({"hospital": "H1", "month": month, "as_of": today, "rca": {
            "opened": 2, "closed": 1, "median_days_to_close": 0.0, "overdue": 1,
            "actions_overdue": 1, "stronger_or_intermediate_share": 66.67}})
    );
    assert_eq!(
        l.get(
            &format!("/api/v1/rca/figures?hospital=H1&month={month}"),
            Some(&qc)
        )
        .await
        .0,
        200
    );
    let (s, p) = l
        .get("/api/v1/rca/figures?hospital=H1&month=2026-13", Some(so))
        .await;
    assert_eq!((s.as_u16(), pointers(&p)), (422, vec!["/month".to_owned()]));

    // The reporters: a closed analysis shows its lessons, an open one "under analysis".
    let (s, view) = l
        .get(&format!("/api/v1/receipts/{receipt1}?after={closed}"), None)
        .await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["status"], "closed");
    assert_eq!(view["lessons"], lessons);
    assert!(
        view.get("team_roles").is_none() && view.get("rca").is_none(),
        "no team details: {view}"
    );
    let (_, view) = l
        .get(&format!("/api/v1/receipts/{receipt3}?after={last}"), None)
        .await;
    assert_eq!(view["status"], "under_analysis");
    assert_eq!(view["lessons"], Value::Null);

    // A rebuild of the read models from the stream equals the live ones.
    l.stop();
    for projector in ["rca", "reports"] {
        let fresh = l.data.path().join(format!("rebuilt-{projector}"));
        let out = l.run(&["rebuild", projector, "--into", fresh.to_str().unwrap()]);
        assert!(out.contains("rebuilt"), "{out}");
        let live = l.run(&["export", projector]);
        let rebuilt = l.run(&["export", projector, "--from", fresh.to_str().unwrap()]);
        assert!(!live.is_empty());
        assert_eq!(live, rebuilt, "{projector}: rebuild differs from live");
    }
    // And served from a rebuilt-in-place read model, the case file is the same.
    l.run(&["rebuild", "rca"]);
    l.restart().await;
    assert_eq!(l.get(&path(""), Some(so)).await.1, case);
    assert_eq!(
        clock::date_in(0),
        today,
        "the day turned during the test; run it again"
    );
}
