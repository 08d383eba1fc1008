//! QC actions that reach hospitals: a QC centre opens a rectification
//! notice for a hospital of its region at its dispatch meeting, the
//! hospital's safety officer answers, the QC centre carries it to the next
//! meeting and closes it — every step an event, each scope held, and the
//! packs show it.

use crate::support::{Lantern, clock};
use serde_json::{Value, json};

fn next_month(month: &str) -> String {
    let (y, m) = month.split_once('-').unwrap();
    let (y, m): (i32, u32) = (y.parse().unwrap(), m.parse().unwrap());
    if m == 12 {
        format!("{}-01", y + 1)
    } else {
        format!("{y}-{:02}", m + 1)
    }
}

fn pointers(p: &Value) -> Vec<&str> {
    p["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["pointer"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_rectification_notice_is_answered_carried_and_closed() {
    let mut l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    l.hospital("H2", "R1", &["ICU"]).await;
    l.hospital("H3", "R2", &["ICU"]).await;
    let (so1, so2) = (l.officer("H1").await, l.officer("H2").await);
    let (qc, qc2) = (l.qc_centre("R1").await, l.qc_centre("R2").await);
    let month = clock::current_month();
    let notice = json!({"hospital": "H1", "kind": "rectification", "title": "跌倒高发：夜间巡视整改",
        "text": "请于期限前提交夜间巡视与床栏检查的整改方案。", "due": clock::date_in(10), "meeting": month});

    // Refused: not a QC centre, another region's, a past due date, no title.
    let before = l.stream_count().await;
    let mut past = notice.clone();
    past["due"] = json!(clock::date_in(-1));
    let mut untitled = notice.clone();
    untitled["title"] = json!("  ");
    let mut unknown = notice.clone();
    unknown["kind"] = json!("order");
    for (token, body, status, pointer) in [
        (&so1, &notice, 403, None),
        (&qc2, &notice, 403, None),
        (&qc, &past, 422, Some("/due")),
        (&qc, &untitled, 422, Some("/title")),
        (&qc, &unknown, 422, Some("/kind")),
    ] {
        let (s, p) = l.post("/api/v1/follow-ups", Some(token), body).await;
        assert_eq!(s.as_u16(), status, "{body} → {p}");
        if let Some(pointer) = pointer {
            assert_eq!(pointers(&p), [pointer], "{p}");
        }
    }
    assert_eq!(l.stream_count().await, before, "refusals appended nothing");

    // Opened; the hospital sees it in its workspace, another does not.
    let (s, opened) = l.post("/api/v1/follow-ups", Some(&qc), &notice).await;
    assert_eq!(s, 201, "{opened}");
    let id = opened["followup_id"].as_str().unwrap().to_owned();
    let after = opened["seq"].as_u64().unwrap();
    let (s, list) = l
        .get(
            &format!("/api/v1/follow-ups?hospital=H1&after={after}"),
            Some(&so1),
        )
        .await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["rows"].as_array().unwrap().len(), 1);
    assert_eq!(
        (&list["rows"][0]["state"], &list["rows"][0]["ref"]),
        (&json!("open"), &opened["ref"])
    );
    assert_eq!(
        l.get("/api/v1/follow-ups?hospital=H1", Some(&so2)).await.0,
        403
    );
    assert_eq!(
        l.get(&format!("/api/v1/follow-ups/{id}"), Some(&so2))
            .await
            .0,
        403
    );
    assert_eq!(
        l.get("/api/v1/follow-ups?region=R1", Some(&so1)).await.0,
        403
    );
    // Bad lists and steps on nothing: named, nothing appended.
    let count = l.stream_count().await;
    for (path, pointer) in [
        ("/api/v1/follow-ups?hospital=H1&region=R1", "/hospital"),
        ("/api/v1/follow-ups?hospital=H1&state=bogus", "/state"),
    ] {
        let (s, p) = l.get(path, Some(&qc)).await;
        assert_eq!(
            (s.as_u16(), &p["errors"][0]["pointer"]),
            (422, &json!(pointer)),
            "{path}: {p}"
        );
    }
    let nothing = uuid::Uuid::new_v4();
    let (s, p) = l
        .post(
            &format!("/api/v1/follow-ups/{nothing}/answers"),
            Some(&so1),
            &json!({"text": "x"}),
        )
        .await;
    assert_eq!(s, 404, "{p}");
    assert_eq!(l.stream_count().await, count);

    // The hospital answers (once, however often the request is retried);
    // only it may.
    let answer = json!({"text": "已制定夜间每 2 小时巡视并检查床栏，本月起执行。"});
    let path = |tail: &str| format!("/api/v1/follow-ups/{id}{tail}");
    assert_eq!(l.post(&path("/answers"), Some(&qc), &answer).await.0, 403);
    assert_eq!(l.post(&path("/answers"), Some(&so2), &answer).await.0, 403);
    let count = l.stream_count().await;
    let (s1, a1) = l
        .post_key(&path("/answers"), Some(&so1), "answer-1", &answer)
        .await;
    let (s2, a2) = l
        .post_key(&path("/answers"), Some(&so1), "answer-1", &answer)
        .await;
    assert_eq!((s1.as_u16(), s2.as_u16(), &a1), (201, 201, &a2));
    assert_eq!(
        l.stream_count().await,
        count + 1,
        "a retried answer appends once"
    );
    let (_, v) = l
        .get(&format!("{}?after={}", path(""), a1["seq"]), Some(&qc))
        .await;
    assert_eq!(v["state"], "answered", "{v}");
    assert_eq!(v["answers"][0]["text"], answer["text"]);

    // Carried to next month's meeting, not to this one again.
    let (s, p) = l
        .post(&path("/carry"), Some(&qc), &json!({"to_meeting": month}))
        .await;
    assert_eq!(
        (s.as_u16(), pointers(&p)),
        (422, vec!["/to_meeting"]),
        "{p}"
    );
    let next = next_month(&month);
    let (s, carried) = l
        .post(&path("/carry"), Some(&qc), &json!({"to_meeting": next}))
        .await;
    assert_eq!(s, 201, "{carried}");

    // Both meetings' packs show it, the region's and the hospital's.
    let seq = carried["seq"].as_u64().unwrap();
    for (query, token) in [("region=R1", &qc), ("hospital=H1", &so1)] {
        for m in [&month, &next] {
            let (s, p) = l
                .get(
                    &format!("/api/v1/meetings/{m}?{query}&after={seq}"),
                    Some(token),
                )
                .await;
            assert_eq!(s, 200, "{p}");
            let items = p["follow_ups"].as_array().unwrap();
            assert_eq!(items.len(), 1, "{m} {query}: {p}");
            assert_eq!(items[0]["meetings"], json!([month, next]));
        }
    }
    let (_, other) = l
        .get(
            &format!("/api/v1/meetings/{month}?hospital=H2&after={seq}"),
            Some(&so2),
        )
        .await;
    assert_eq!(other["follow_ups"], json!([]), "H2's pack holds only H2's");

    // Closed by the QC centre; then nothing more goes in.
    assert_eq!(
        l.post(&path("/close"), Some(&so1), &json!({"outcome": "resolved"}))
            .await
            .0,
        403
    );
    let (s, closed) = l
        .post(
            &path("/close"),
            Some(&qc),
            &json!({"outcome": "resolved", "note": "本月跌倒降至 1 例"}),
        )
        .await;
    assert_eq!(s, 201, "{closed}");
    let (s, p) = l.post(&path("/answers"), Some(&so1), &answer).await;
    assert_eq!(s, 409, "{p}");
    let (_, list) = l
        .get(
            &format!(
                "/api/v1/follow-ups?region=R1&state=closed&after={}",
                closed["seq"]
            ),
            Some(&qc),
        )
        .await;
    assert_eq!(list["rows"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["rows"][0]["closed"]["outcome"], "resolved");

    // Rebuilt from the stream, the read model is the live one.
    l.stop();
    let fresh = l.data.path().join("rebuilt-followups");
    l.run(&["rebuild", "followups", "--into", fresh.to_str().unwrap()]);
    assert_eq!(
        l.run(&["export", "followups"]),
        l.run(&["export", "followups", "--from", fresh.to_str().unwrap()])
    );
}
