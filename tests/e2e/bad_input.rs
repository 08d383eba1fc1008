//! Bad input on every write endpoint: each case gets its documented status
//! as problem+json, and the stream does not change.

use crate::support::{ADMIN, Lantern};
use serde_json::{Value, json};

struct Endpoint {
    method: reqwest::Method,
    path: String,
    token: Option<String>,
    body: Value,
    /// A token that is valid but not for this (403), if the endpoint has one.
    out_of_scope: Option<String>,
    /// A time field (pointer) that must not be in the future.
    time: Option<&'static str>,
    /// An enumerated field (pointer).
    enumerated: Option<&'static str>,
}

/// What is sent, with which content type and token; the status expected;
/// the field the problem must name, if any.
type Case<'a> = (
    String,
    Vec<u8>,
    &'a str,
    Option<&'a str>,
    u16,
    Option<String>,
);

fn set(body: &Value, pointer: &str, value: Value) -> Value {
    let mut b = body.clone();
    *b.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} in {body}")) = value;
    b
}

#[tokio::test]
async fn every_write_endpoint_refuses_bad_input_with_problem_json_and_appends_nothing() {
    // Hundreds of refused writes from one client, some with bad tokens: the
    // rate limits would answer them first (they have tests of their own).
    let l = Lantern::start_with(&[("LANTERN_RATE_LIMITS", "off")]).await;
    l.hospital("H1", "R1", &["ICU"]).await;
    l.hospital("H2", "R2", &["ICU"]).await;
    let so = l.officer("H1").await;
    let so2 = l.officer("H2").await;
    let lis = l.token(json!({"role": "lis", "hospital": "H1"})).await;
    let lis2 = l.token(json!({"role": "lis", "hospital": "H2"})).await;
    let (_, filed) = l
        .post("/api/v1/reports", None, &json!({"hospital": "H1", "department": "ICU",
            "occurred_at": "2026-01-05T08:00:00+08:00", "grade": "III", "category": "fall", "harm": "mild", "treatment_needed": false,
            "description": "夜间跌倒"}))
        .await;
    let report = filed["report_id"].as_str().unwrap().to_owned();
    let receipt = filed["receipt"].as_str().unwrap().to_owned();
    let (_, cv) = l
        .post("/api/v1/critical-values", Some(&lis), &json!({"hospital": "H1", "department": "ICU", "source": "lab",
            "item": "K", "value": "6.9", "detected_at": "2026-10-05T08:00:00+08:00", "patient_setting": "inpatient"}))
        .await;
    let cv = cv["critical_value_id"].as_str().unwrap().to_owned();
    let (_, cv2) = l
        .post("/api/v1/critical-values", Some(&lis), &json!({"hospital": "H1", "department": "ICU", "source": "lab",
            "item": "Na", "value": "118", "detected_at": "2026-10-05T08:00:00+08:00", "patient_setting": "inpatient",
            "notified": {"notified_at": "2026-10-05T08:05:00+08:00", "channel": "phone", "notified_role": "nurse"}}))
        .await;
    let cv2 = cv2["critical_value_id"].as_str().unwrap().to_owned();
    let (_, death) = l
        .post("/api/v1/deaths", Some(&so), &json!({"hospital": "H1", "department": "ICU",
            "admitted_at": "2026-09-20T10:00:00+08:00", "died_at": "2026-10-05T08:00:00+08:00", "age_band": "60-69",
            "diagnosis_icd10": "I21.9", "low_risk": false, "autopsy": true}))
        .await;
    let death = death["death_id"].as_str().unwrap().to_owned();
    let (_, serious) = l
        .post("/api/v1/reports", None, &json!({"hospital": "H1", "department": "ICU",
            "occurred_at": "2026-01-05T08:00:00+08:00", "grade": "II", "category": "medication", "harm": "moderate",
            "description": "给药错误"}))
        .await;
    let serious = serious["report_id"].as_str().unwrap().to_owned();
    let (_, rca) = l
        .post(
            "/api/v1/rca",
            Some(&so),
            &json!({"hospital": "H1", "report_ids": [serious], "title": "给药错误",
            "team_roles": ["药师"]}),
        )
        .await;
    let rca = rca["rca_id"].as_str().unwrap().to_owned();
    let (_, factor) = l
        .post(
            &format!("/api/v1/rca/{rca}/factors"),
            Some(&so),
            &json!({"category": "methods", "statement": "核对流于形式"}),
        )
        .await;
    assert_eq!(factor["factor"], 1);
    let (_, action) = l
        .post(
            &format!("/api/v1/rca/{rca}/actions"),
            Some(&so),
            &json!({"what": "加硬限制", "owner_role": "药剂科",
            "due": "2026-12-31", "strength": "stronger", "measure": "月度抽查"}),
        )
        .await;
    assert_eq!(action["action"], 1);
    let qc = l.qc_centre("R1").await;
    let qc2 = l.qc_centre("R2").await;
    let (_, followup) = l
        .post(
            "/api/v1/follow-ups",
            Some(&qc),
            &json!({"hospital": "H1", "kind": "guidance",
            "title": "夜间巡视", "text": "请加强夜间巡视。", "due": "2099-12-31"}),
        )
        .await;
    let followup = followup["followup_id"].as_str().unwrap().to_owned();
    let post = reqwest::Method::POST;
    let e = |path: &str, token: Option<&str>, body: Value| Endpoint {
        method: post.clone(),
        path: path.into(),
        token: token.map(str::to_owned),
        body,
        out_of_scope: None,
        time: None,
        enumerated: None,
    };
    let endpoints = vec![
        Endpoint {
            out_of_scope: Some(so.clone()),
            enumerated: Some("/level"),
            ..e(
                "/api/v1/admin/hospitals",
                Some(ADMIN),
                json!({"code": "H9", "name": "新医院", "region": "R1", "level": "secondary"}),
            )
        },
        Endpoint {
            out_of_scope: Some(so.clone()),
            ..e(
                "/api/v1/admin/hospitals/H1/departments",
                Some(ADMIN),
                json!({"code": "ER", "name": "急诊科"}),
            )
        },
        Endpoint {
            out_of_scope: Some(so.clone()),
            enumerated: Some("/role"),
            ..e(
                "/api/v1/admin/tokens",
                Some(ADMIN),
                json!({"role": "his", "hospital": "H1"}),
            )
        },
        Endpoint {
            method: reqwest::Method::PUT,
            out_of_scope: Some(so2.clone()),
            time: Some("/effective_from"),
            enumerated: Some("/source"),
            ..e(
                "/api/v1/hospitals/H1/critical-catalogue/K",
                Some(&so),
                json!({"effective_from": "2026-01-01T00:00:00+08:00", "name": "血钾", "unit": "mmol/L",
                       "low": 2.5, "high": 6.5, "source": "lab"}),
            )
        },
        Endpoint {
            method: reqwest::Method::PUT,
            out_of_scope: Some(so.clone()),
            ..e(
                "/api/v1/admin/hospitals/H1/limits",
                Some(ADMIN),
                json!({"notification_limit_minutes": 10, "handling_limit_minutes": 20}),
            )
        },
        Endpoint {
            time: Some("/occurred_at"),
            enumerated: Some("/grade"),
            ..e(
                "/api/v1/reports",
                None,
                json!({"hospital": "H1", "department": "ICU", "occurred_at": "2026-01-05T08:00:00+08:00", "grade": "IV",
                   "category": "diet", "harm": "not_applicable", "description": "送错饮食"}),
            )
        },
        e(
            &format!("/api/v1/receipts/{receipt}/follow-ups"),
            None,
            json!({"text": "补充"}),
        ),
        Endpoint {
            out_of_scope: Some(so2.clone()),
            enumerated: Some("/category"),
            ..e(
                &format!("/api/v1/reports/{report}/triage"),
                Some(&so),
                json!({"grade": "III", "category": "fall"}),
            )
        },
        Endpoint {
            out_of_scope: Some(so2.clone()),
            ..e(
                &format!("/api/v1/reports/{report}/feedback"),
                Some(&so),
                json!({"text": "已改进"}),
            )
        },
        Endpoint {
            out_of_scope: Some(so2.clone()),
            ..e(
                "/api/v1/census",
                Some(&so),
                json!({"hospital": "H1", "department": "ICU", "month": "2026-10", "discharges": 10}),
            )
        },
        Endpoint {
            out_of_scope: Some(lis2.clone()),
            time: Some("/detected_at"),
            enumerated: Some("/source"),
            ..e(
                "/api/v1/critical-values",
                Some(&lis),
                json!({"hospital": "H1", "department": "ICU", "source": "lab", "item": "Ca", "value": "1.5",
                   "detected_at": "2026-10-05T08:00:00+08:00", "patient_setting": "inpatient"}),
            )
        },
        Endpoint {
            time: Some("/notified_at"),
            ..e(
                &format!("/api/v1/critical-values/{cv}/notified"),
                Some(&lis),
                json!({"notified_at": "2026-10-05T08:10:00+08:00", "channel": "phone", "notified_role": "nurse"}),
            )
        },
        Endpoint {
            time: Some("/acknowledged_at"),
            ..e(
                &format!("/api/v1/critical-values/{cv2}/acknowledged"),
                Some(&lis),
                json!({"acknowledged_at": "2026-10-05T08:10:00+08:00"}),
            )
        },
        Endpoint {
            time: Some("/handled_at"),
            ..e(
                &format!("/api/v1/critical-values/{cv2}/handled"),
                Some(&lis),
                json!({"handled_at": "2026-10-05T08:10:00+08:00", "disposition": "复查"}),
            )
        },
        Endpoint {
            out_of_scope: Some(so2.clone()),
            time: Some("/died_at"),
            enumerated: Some("/age_band"),
            ..e(
                "/api/v1/deaths",
                Some(&so),
                json!({"hospital": "H1", "department": "ICU", "admitted_at": "2026-09-20T10:00:00+08:00",
                   "died_at": "2026-10-06T08:00:00+08:00", "age_band": "70-79", "diagnosis_icd10": "J18.0",
                   "low_risk": true, "autopsy": false}),
            )
        },
        Endpoint {
            time: Some("/held_at"),
            enumerated: Some("/level"),
            ..e(
                &format!("/api/v1/deaths/{death}/reviews"),
                Some(&so),
                json!({"held_at": "2026-10-07T08:00:00+08:00", "level": "hospital", "attendee_roles": ["科主任"],
                   "preventability": "unavoidable", "defects": []}),
            )
        },
        Endpoint {
            time: Some("/reported_at"),
            ..e(
                &format!("/api/v1/deaths/{death}/autopsy"),
                Some(&so),
                json!({"reported_at": "2026-10-20T08:00:00+08:00", "findings": "肺栓塞"}),
            )
        },
        Endpoint {
            out_of_scope: Some(so2.clone()),
            ..e(
                "/api/v1/rca",
                Some(&so),
                json!({"hospital": "H1", "report_ids": [serious], "title": "第二次分析", "team_roles": ["护士长"]}),
            )
        },
        Endpoint {
            time: Some("/at"),
            ..e(
                &format!("/api/v1/rca/{rca}/timeline"),
                Some(&so),
                json!({"at": "2026-01-05T08:00:00+08:00", "text": "发药"}),
            )
        },
        Endpoint {
            enumerated: Some("/category"),
            ..e(
                &format!("/api/v1/rca/{rca}/factors"),
                Some(&so),
                json!({"category": "people", "statement": "疲劳"}),
            )
        },
        e(
            &format!("/api/v1/rca/{rca}/root-causes"),
            Some(&so),
            json!({"factors": [1]}),
        ),
        Endpoint {
            enumerated: Some("/strength"),
            ..e(
                &format!("/api/v1/rca/{rca}/actions"),
                Some(&so),
                json!({"what": "培训", "owner_role": "护理部", "due": "2026-12-31", "strength": "weaker", "measure": "考核"}),
            )
        },
        Endpoint {
            time: Some("/completed_at"),
            ..e(
                &format!("/api/v1/rca/{rca}/actions/1/complete"),
                Some(&so),
                json!({"completed_at": "2026-10-20T10:00:00+08:00", "evidence": "系统截图"}),
            )
        },
        e(
            &format!("/api/v1/rca/{rca}/close"),
            Some(&so),
            json!({"lessons": "系统性限制优于培训"}),
        ),
        e(
            &format!("/api/v1/deaths/{death}/close"),
            Some(&so),
            json!({}),
        ),
        Endpoint {
            out_of_scope: Some(so.clone()),
            ..e(
                "/api/v1/admin/regions",
                Some(ADMIN),
                json!({"code": "RX", "name": "某市", "parent": "R1"}),
            )
        },
        Endpoint {
            out_of_scope: Some(qc2.clone()),
            enumerated: Some("/indicator"),
            ..e(
                "/api/v1/targets",
                Some(&qc),
                json!({"indicator": "reporting_rate", "scope": "region", "code": "R1", "year": 2026, "value": 3}),
            )
        },
        Endpoint {
            out_of_scope: Some(qc2.clone()),
            enumerated: Some("/indicator"),
            ..e(
                "/api/v1/references",
                Some(&qc),
                json!({"indicator": "reporting_rate", "scope": "region", "code": "R1", "year": 2026,
                       "value": 2.5, "source": "省医疗质量安全报告"}),
            )
        },
        Endpoint {
            out_of_scope: Some(qc2.clone()),
            enumerated: Some("/kind"),
            ..e(
                "/api/v1/follow-ups",
                Some(&qc),
                json!({"hospital": "H1", "kind": "rectification", "title": "整改", "text": "请整改。", "due": "2099-12-31"}),
            )
        },
        Endpoint {
            out_of_scope: Some(so2.clone()),
            ..e(
                &format!("/api/v1/follow-ups/{followup}/answers"),
                Some(&so),
                json!({"text": "已整改"}),
            )
        },
        Endpoint {
            out_of_scope: Some(qc2.clone()),
            ..e(
                &format!("/api/v1/follow-ups/{followup}/carry"),
                Some(&qc),
                json!({"to_meeting": "2099-01"}),
            )
        },
        Endpoint {
            out_of_scope: Some(qc2.clone()),
            enumerated: Some("/outcome"),
            ..e(
                &format!("/api/v1/follow-ups/{followup}/close"),
                Some(&qc),
                json!({"outcome": "resolved"}),
            )
        },
    ];

    let before = l.stream_count().await;
    let send = |ep: &Endpoint, token: Option<&str>, body: Vec<u8>, content_type: &str| {
        let mut r = l.request(ep.method.clone(), &ep.path, token).body(body);
        if !content_type.is_empty() {
            r = r.header("content-type", content_type.to_owned());
        }
        r
    };
    for ep in &endpoints {
        let token = ep.token.as_deref();
        let valid = serde_json::to_vec(&ep.body).unwrap();
        let first_key = ep.body.as_object().unwrap().keys().next().cloned();
        let mut cases: Vec<Case> = vec![
            (
                "empty object".into(),
                b"{}".to_vec(),
                "application/json",
                token,
                422,
                None,
            ),
            (
                "not an object".into(),
                b"[]".to_vec(),
                "application/json",
                token,
                422,
                None,
            ),
            (
                "broken JSON".into(),
                valid[..valid.len() - 1].to_vec(),
                "application/json",
                token,
                400,
                None,
            ),
            (
                "trailing garbage".into(),
                [valid.clone(), b"}".to_vec()].concat(),
                "application/json",
                token,
                400,
                None,
            ),
            (
                "invalid UTF-8".into(),
                b"{\"x\": \"\xff\xfe\"}".to_vec(),
                "application/json",
                token,
                400,
                None,
            ),
            (
                "deeply nested".into(),
                format!("{{\"x\": {}", "[".repeat(100_000)).into_bytes(),
                "application/json",
                token,
                400,
                None,
            ),
            (
                "1 MiB + 1 byte".into(),
                vec![b' '; 1024 * 1024 + 1],
                "application/json",
                token,
                413,
                None,
            ),
            (
                "wrong content type".into(),
                valid.clone(),
                "text/plain",
                token,
                415,
                None,
            ),
            (
                "no content type".into(),
                valid.clone(),
                "",
                token,
                415,
                None,
            ),
            (
                "unknown field".into(),
                serde_json::to_vec(&{
                    let mut b = ep.body.clone();
                    b["zz_unknown"] = json!(1);
                    b
                })
                .unwrap(),
                "application/json",
                token,
                422,
                Some("/zz_unknown".into()),
            ),
        ];
        // A body with fields: none of them, the first repeated, or of the wrong type.
        if first_key.is_none() {
            cases.retain(|c| c.0 != "empty object");
        }
        if let Some(first_key) = first_key {
            let text = String::from_utf8(valid.clone()).unwrap();
            let dup = format!("{{\"{first_key}\": {}, {}", ep.body[&first_key], &text[1..]);
            cases.push((
                "duplicate key".into(),
                dup.into_bytes(),
                "application/json",
                token,
                422,
                Some(format!("/{first_key}")),
            ));
            cases.push((
                format!("wrong type for /{first_key}"),
                serde_json::to_vec(&set(&ep.body, &format!("/{first_key}"), json!([1, 2])))
                    .unwrap(),
                "application/json",
                token,
                422,
                Some(format!("/{first_key}")),
            ));
        }
        if let Some(t) = ep.time {
            for (what, at) in [
                ("far future", "2999-01-01T00:00:00+08:00"),
                ("far past", "1899-01-01T00:00:00+08:00"),
                ("no offset", "2026-01-01T00:00:00"),
            ] {
                cases.push((
                    format!("{what} {t}"),
                    serde_json::to_vec(&set(&ep.body, t, json!(at))).unwrap(),
                    "application/json",
                    token,
                    422,
                    Some(t.into()),
                ));
            }
        }
        if let Some(f) = ep.enumerated {
            cases.push((
                format!("unknown value of {f}"),
                serde_json::to_vec(&set(&ep.body, f, json!("no-such-value"))).unwrap(),
                "application/json",
                token,
                422,
                Some(f.into()),
            ));
        }
        if token.is_some() {
            cases.push((
                "no token".into(),
                valid.clone(),
                "application/json",
                None,
                401,
                None,
            ));
            cases.push((
                "wrong token".into(),
                valid.clone(),
                "application/json",
                Some("lt_not-a-real-token"),
                401,
                None,
            ));
        }
        if let Some(other) = &ep.out_of_scope {
            cases.push((
                "out-of-scope token".into(),
                valid.clone(),
                "application/json",
                Some(other.as_str()),
                403,
                None,
            ));
        }
        for (what, body, content_type, token, status, pointer) in cases {
            let r = send(ep, token, body, content_type).send().await.unwrap();
            let got = r.status().as_u16();
            let ct = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            let p: Value = r.json().await.unwrap_or(Value::Null);
            assert_eq!(got, status, "{} {} — {what}: {p}", ep.method, ep.path);
            assert_eq!(
                ct.as_deref(),
                Some("application/problem+json"),
                "{} — {what}",
                ep.path
            );
            assert_eq!(p["status"], status, "{} — {what}", ep.path);
            assert!(
                p["title"].is_string() && p["detail"].is_string(),
                "{} — {what}: {p}",
                ep.path
            );
            if let Some(pointer) = pointer {
                let pointers: Vec<&str> = p["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["pointer"].as_str().unwrap())
                    .collect();
                assert!(
                    pointers
                        .iter()
                        .any(|p| *p == pointer || p.starts_with(&format!("{pointer}/"))),
                    "{} — {what}: {pointer} not in {pointers:?}",
                    ep.path
                );
            }
        }
        assert_eq!(
            l.stream_count().await,
            before,
            "{} appended on bad input",
            ep.path
        );
    }
}
