//! A region of hospitals (DESIGN "Deployment tiers", issue 27 item 6): two
//! hospitals, each with its own Lantern (`LANTERN_TIER=hospital`) on its
//! own nats-server, a leaf node of the region's hub in its own JetStream
//! domain; the QC centre's hub (`LANTERN_TIER=region`) links them and
//! sources their events. The hub's figures equal the hospitals' own,
//! through an outage of the hub's nats-server while the hospitals keep
//! filing; the hub refuses a hospital's writes and its staff tokens. What
//! the QC centre addresses to a hospital (follow-up items, its reviews of
//! the hospital's deaths) reaches the hospital's Lantern after an outage of
//! the link, and the hospital's answers reach the hub.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ADMIN, Lantern, NatsServer, clock};

/// How long the hub may take to converge: sourcing across a leaf
/// connection resumes ≈ 40 s after a hub restart (TECH-NOTES).
const CONVERGE_WITHIN: Duration = Duration::from_secs(90);

fn hospital_tier(code: &str) -> [(&'static str, String); 4] {
    hospital_tier_in(code, "R01")
}

fn hospital_tier_in(code: &str, region: &str) -> [(&'static str, String); 4] {
    [
        ("LANTERN_TIER", "hospital".to_owned()),
        ("LANTERN_HOSPITAL", code.to_owned()),
        ("LANTERN_REGION", region.to_owned()),
        ("LANTERN_RATE_LIMITS", "off".to_owned()),
    ]
}

fn region_tier(code: &str) -> [(&'static str, String); 3] {
    [
        ("LANTERN_TIER", "region".to_owned()),
        ("LANTERN_REGION", code.to_owned()),
        ("LANTERN_RATE_LIMITS", "off".to_owned()),
    ]
}

async fn start(nats: NatsServer, env: &[(&'static str, String)]) -> Lantern {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Lantern::start_on(nats, &env).await
}

fn report(hospital: &str, n: usize) -> Value {
    let (grade, harm) = [
        ("II", "moderate"),
        ("III", "none"),
        ("IV", "not_applicable"),
    ][n % 3];
    json!({"hospital": hospital, "department": "ICU", "occurred_at": clock::rfc3339_in(-3600),
           "grade": grade, "category": "fall", "harm": harm,
           "description": format!("第{n}例 跌倒")})
}

/// Files `n` anonymous reports at `l` (its hospital's Lantern), numbered
/// from `from`.
async fn file(l: &Lantern, hospital: &str, from: usize, n: usize) {
    for i in from..from + n {
        let (s, b) = l.post("/api/v1/reports", None, &report(hospital, i)).await;
        assert_eq!(s, 201, "{hospital} report {i}: {b}");
    }
}

async fn census(l: &Lantern, token: &str, hospital: &str, discharges: u32) {
    let (s, b) = l
        .post(
            "/api/v1/census",
            Some(token),
            &json!({"hospital": hospital, "department": "ICU",
                    "month": clock::current_month(), "discharges": discharges}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

/// A hospital's row of this month's rates by hospital, as `token` reads
/// them at `l`: what must agree between a hospital and its hub.
async fn row(l: &Lantern, token: &str, hospital: &str) -> Option<Value> {
    let month = clock::current_month();
    let (s, b) = l
        .get(
            &format!("/api/v1/rates?from={month}&to={month}&by=hospital&hospital={hospital}"),
            Some(token),
        )
        .await;
    if s != 200 {
        return None;
    }
    b["rows"]
        .as_array()?
        .iter()
        .find(|r| r["hospital"] == hospital)
        .map(|r| {
            json!({"reports": r["reports"], "discharges": r["discharges"],
               "per_100_discharges": r["per_100_discharges"], "by_grade": r["by_grade"]})
        })
}

/// The messages of `nats`'s stream on subjects matching `filter`.
async fn count(nats: &NatsServer, filter: &str) -> u64 {
    let js = async_nats::jetstream::new(nats.client().await);
    let stream = js.get_stream("LANTERN").await.unwrap();
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            filter_subject: filter.to_owned(),
            inactive_threshold: Duration::from_secs(5),
            ..Default::default()
        })
        .await
        .unwrap();
    consumer.cached_info().num_pending
}

/// Waits until the hub's row of every hospital equals the hospital's own
/// and the hub holds exactly the hospital's events: nothing lost, nothing
/// doubled.
async fn converge(hub: &Lantern, qc: &str, hospitals: &[(&Lantern, &str, &str)], what: &str) {
    let started = Instant::now();
    loop {
        let mut differences = Vec::new();
        for (l, token, code) in hospitals {
            let own = row(l, token, code).await;
            let seen = row(hub, qc, code).await;
            let subjects = format!("lantern.{code}.>");
            let (held, kept) = (
                count(&hub.nats, &subjects).await,
                count(&l.nats, &subjects).await,
            );
            if own.is_none() || own != seen || held != kept {
                differences.push(format!(
                    "{code}: hospital {own:?} ({kept} events), hub {seen:?} ({held} events)"
                ));
            }
        }
        if differences.is_empty() {
            eprintln!(
                "{what}: converged in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            return;
        }
        assert!(
            started.elapsed() < CONVERGE_WITHIN,
            "{what}: the hub did not converge in {} s: {}\nhub log:\n{}",
            CONVERGE_WITHIN.as_secs(),
            differences.join("; "),
            hub.log_text()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Links `hospital` at the hub, waiting for its leaf node to be connected
/// (until then its domain does not answer: 422 naming `/domain`).
async fn link(hub: &Lantern, hospital: &str, domain: &str) -> Value {
    link_site(hub, json!({"hospital": hospital, "domain": domain})).await
}

/// Links `body`'s hospital or region at the hub, as [`link`].
async fn link_site(hub: &Lantern, body: Value) -> Value {
    let domain = body["domain"].clone();
    let started = Instant::now();
    loop {
        let (s, b) = hub.post("/api/v1/admin/links", Some(ADMIN), &body).await;
        if s == 201 {
            return b;
        }
        assert!(
            s == 422 && b["errors"][0]["pointer"] == "/domain",
            "{s} {b}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "domain {domain} never answered: {b}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_region_of_two_hospitals_converges_exactly_at_its_hub_through_an_outage() {
    let hub_nats = NatsServer::start_hub("r01");
    let h1_nats = NatsServer::start_leaf("h0001", &hub_nats);
    let h2_nats = NatsServer::start_leaf("h0002", &hub_nats);
    let h1 = start(h1_nats, &hospital_tier("H0001")).await;
    let h2 = start(h2_nats, &hospital_tier("H0002")).await;
    h1.hospital("H0001", "R01", &["ICU"]).await;
    h2.hospital("H0002", "R01", &["ICU"]).await;
    // A hospital's Lantern is its hospital's only.
    let (s, b) = h1
        .post(
            "/api/v1/admin/hospitals",
            Some(ADMIN),
            &json!({"code": "H0002", "name": "二院", "region": "R01", "level": "tertiary"}),
        )
        .await;
    assert_eq!(
        (s, &b["errors"][0]["pointer"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("/code")),
        "{b}"
    );
    let hub = start(hub_nats, &region_tier("R01")).await;

    // Linking: an admin act of the hub, recorded under the region's code.
    let linked = link(&hub, "H0001", "h0001").await;
    assert_eq!(
        linked["source"], "LANTERN (lantern.H0001.>, API $JS.h0001.API)",
        "{linked}"
    );
    link(&hub, "H0002", "h0002").await;
    let own_facts = count(&hub.nats, "lantern.R01.>").await;
    assert_eq!(own_facts, 2, "the two links");
    for (body, status, field) in [
        (
            json!({"hospital": "H0001", "domain": "h0001"}),
            409,
            "/hospital",
        ),
        (
            json!({"hospital": "H0003", "domain": "h0002"}),
            409,
            "/domain",
        ),
        (
            json!({"hospital": "H0003", "domain": "h0009"}),
            422,
            "/domain",
        ),
        (
            json!({"hospital": "H0003", "domain": "h0001"}),
            409,
            "/domain",
        ),
    ] {
        let (s, b) = hub.post("/api/v1/admin/links", Some(ADMIN), &body).await;
        assert_eq!(s.as_u16(), status, "{body}: {b}");
        let named =
            b["detail"].as_str().unwrap().contains(field) || b["errors"][0]["pointer"] == field;
        assert!(named, "{body}: {b}");
    }
    let (s, _) = hub
        .post(
            "/api/v1/admin/links",
            None,
            &json!({"hospital": "H0003", "domain": "h0003"}),
        )
        .await;
    assert_eq!(s, 401);
    assert_eq!(
        count(&hub.nats, "lantern.R01.>").await,
        own_facts,
        "refused links append nothing"
    );

    let (s, b) = hub
        .post(
            "/api/v1/admin/regions",
            Some(ADMIN),
            &json!({"code": "R01", "name": "一区"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let qc = hub.qc_centre("R01").await;
    let so1 = h1.officer("H0001").await;
    let so2 = h2.officer("H0002").await;
    file(&h1, "H0001", 0, 12).await;
    file(&h2, "H0002", 0, 7).await;
    // Two hospitals' reporters happen to send the same Idempotency-Key:
    // two reports, at each hospital and at the hub (JetStream
    // de-duplicates sourced messages by their message id too); a retry at
    // a hospital is still its first response, appending nothing.
    for (l, code) in [(&h1, "H0001"), (&h2, "H0002")] {
        let (mut first, body) = (None, report(code, 50));
        for _ in 0..2 {
            let (s, b) = l
                .post_key("/api/v1/reports", None, "same-key-at-two-sites", &body)
                .await;
            assert_eq!(s, 201, "{b}");
            let id = b["report_id"].clone();
            assert_eq!(first.get_or_insert(id.clone()), &id, "{code}: {b}");
        }
    }
    census(&h1, &so1, "H0001", 400).await;
    census(&h2, &so2, "H0002", 250).await;
    let region = [(&h1, so1.as_str(), "H0001"), (&h2, so2.as_str(), "H0002")];
    converge(&hub, &qc, &region, "linked").await;
    // The hub learnt each hospital's name and departments from its events.
    let (_, listed) = hub.get("/api/v1/hospitals", None).await;
    let h = listed["hospitals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["code"] == "H0001")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (&h["name"], &h["departments"][0]["code"]),
        (&json!("H0001 医院"), &json!("ICU")),
        "{listed}"
    );

    // The hub's nats-server dies; the hospitals keep filing.
    let mut hub = hub;
    hub.nats.kill();
    file(&h1, "H0001", 12, 10).await;
    file(&h2, "H0002", 7, 6).await;
    census(&h2, &so2, "H0002", 300).await;
    hub.nats.restart();
    converge(&hub, &qc, &region, "after the hub's outage").await;

    // A write that belongs to a hospital: refused at the hub, naming the
    // hospital and where its Lantern is, with nothing appended.
    let before = (
        count(&hub.nats, "lantern.H0001.>").await,
        count(&hub.nats, "lantern.R01.>").await,
    );
    let r = hub
        .request(reqwest::Method::POST, "/api/v1/reports", None)
        .json(&report("H0001", 99))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("H0001") && detail.contains("h0001"),
        "{detail}"
    );
    let (s, b) = hub
        .post(
            "/api/v1/admin/hospitals/H0001/departments",
            Some(ADMIN),
            &json!({"code": "ER", "name": "急诊科"}),
        )
        .await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(
        (
            count(&hub.nats, "lantern.H0001.>").await,
            count(&hub.nats, "lantern.R01.>").await,
        ),
        before
    );
    assert_eq!(before.0, count(&h1.nats, "lantern.H0001.>").await);

    // A hospital's staff token grants nothing at the hub (it came with the
    // hospital's events), though it does at the hospital.
    let month = clock::current_month();
    let rates = format!("/api/v1/rates?from={month}&to={month}&by=hospital");
    assert_eq!(hub.get(&rates, Some(&so1)).await.0, 401);
    assert_eq!(h1.get(&rates, Some(&so1)).await.0, 200);

    // The hub starts again on its stream: the sources it has are the
    // links it recorded, so the start-time comparison agrees.
    hub.restart().await;
    let shown = hub.run(&["stream", "show"]);
    assert!(
        shown.contains("differences from the configuration: none"),
        "{shown}"
    );
    assert!(
        shown.contains("lantern.H0002.>, API $JS.h0002.API"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_tier_without_its_code_or_with_another_tiers_code_does_not_start() {
    let l = Lantern::start().await;
    for (env, named) in [
        (vec![("LANTERN_TIER", "hospital")], "LANTERN_HOSPITAL"),
        (
            vec![("LANTERN_TIER", "hospital"), ("LANTERN_HOSPITAL", "H1")],
            "LANTERN_REGION",
        ),
        (vec![("LANTERN_TIER", "region")], "LANTERN_REGION"),
        (vec![("LANTERN_HOSPITAL", "H1")], "LANTERN_HOSPITAL"),
        (
            vec![("LANTERN_TIER", "region"), ("LANTERN_REGION", "R 1")],
            "LANTERN_REGION",
        ),
    ] {
        let out = l
            .command()
            .envs(env.iter().copied())
            .env("LANTERN_HTTP_ADDR", "127.0.0.1:0")
            .env("LANTERN_OPS_ADDR", "127.0.0.1:0")
            .arg("serve")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{env:?} started");
        assert!(stderr.contains(named), "{env:?}: {stderr}");
    }
}

/// Waits until `check` holds of what `token` reads at `path` on `l`, within
/// [`CONVERGE_WITHIN`]; returns the body.
async fn eventually(
    l: &Lantern,
    token: &str,
    path: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let (s, b) = l.get(path, Some(token)).await;
        if s == 200 && check(&b) {
            eprintln!("{what}: in {:.1} s", started.elapsed().as_secs_f64());
            return b;
        }
        assert!(
            started.elapsed() < CONVERGE_WITHIN,
            "{what}: not within {} s: {s} {b}\nlog:\n{}",
            CONVERGE_WITHIN.as_secs(),
            l.log_text()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn what_the_qc_centre_addresses_to_a_hospital_reaches_it_after_an_outage_and_its_answer_the_hub()
 {
    let hub_nats = NatsServer::start_hub("r01");
    let h1_nats = NatsServer::start_leaf("h0001", &hub_nats);
    let mut h1 = start(h1_nats, &hospital_tier("H0001")).await;
    h1.hospital("H0001", "R01", &["ICU"]).await;
    let so = h1.officer("H0001").await;
    let hub = start(hub_nats, &region_tier("R01")).await;
    link(&hub, "H0001", "h0001").await;
    let (s, b) = hub
        .post(
            "/api/v1/admin/regions",
            Some(ADMIN),
            &json!({"code": "R01", "name": "一区"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let qc = hub.qc_centre("R01").await;

    // A death recorded at the hospital reaches the hub.
    let (s, d) = h1
        .post(
            "/api/v1/deaths",
            Some(&so),
            &json!({"hospital": "H0001", "department": "ICU",
                    "admitted_at": clock::rfc3339_in(-5 * 86400), "died_at": clock::rfc3339_in(-2 * 86400),
                    "age_band": "40-49", "diagnosis_icd10": "K35.8", "low_risk": true, "autopsy": false}),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    let death = format!("/api/v1/deaths/{}", d["death_id"].as_str().unwrap());
    eventually(&hub, &qc, &death, "the death at the hub", |_| true).await;

    // The link is down (the hospital's nats-server dies); the QC centre
    // opens an item for the hospital and reviews its death at the hub.
    h1.nats.kill();
    let (s, opened) = hub
        .post(
            "/api/v1/follow-ups",
            Some(&qc),
            &json!({"hospital": "H0001", "kind": "rectification", "title": "低风险死亡病例整改",
                    "text": "请提交低风险组死亡病例的整改方案。", "due": clock::date_in(10)}),
        )
        .await;
    assert_eq!(s, 201, "{opened}");
    let item = format!(
        "/api/v1/follow-ups/{}",
        opened["followup_id"].as_str().unwrap()
    );
    let review = json!({"held_at": clock::rfc3339_in(-3600), "level": "qc_centre",
        "attendee_roles": ["质控中心专家"], "preventability": "possibly_avoidable",
        "defects": [{"phase": "diagnosis", "text": "腹痛鉴别不足"}]});
    let (s, r) = hub
        .post(&format!("{death}/reviews"), Some(&qc), &review)
        .await;
    assert_eq!(s, 201, "{r}");
    // The hub writes them under the region's scope addressed to H0001, not
    // under the hospital's own subjects (which are the hospital's source's).
    assert_eq!(count(&hub.nats, "lantern.R01~H0001.>").await, 2);

    // The link returns: both reach the hospital's Lantern.
    h1.nats.restart();
    let seen = eventually(&h1, &so, &item, "the item at the hospital", |_| true).await;
    assert_eq!(
        (&seen["state"], &seen["region"], &seen["hospital"]),
        (&json!("open"), &json!("R01"), &json!("H0001")),
        "{seen}"
    );
    let listed = h1
        .get("/api/v1/follow-ups?hospital=H0001", Some(&so))
        .await
        .1;
    assert_eq!(listed["rows"].as_array().map(Vec::len), Some(1), "{listed}");
    let trail = eventually(&h1, &so, &death, "the QC review at the hospital", |t| {
        t["steps"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["type"] == "review"))
    })
    .await;
    let reviews: Vec<&Value> = trail["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["type"] == "review")
        .collect();
    assert_eq!(reviews.len(), 1, "{trail}");
    assert_eq!(
        (&reviews[0]["level"], &reviews[0]["defects"][0]["text"]),
        (&json!("qc_centre"), &json!("腹痛鉴别不足")),
        "{trail}"
    );

    // The hospital answers at its own Lantern; the answer reaches the hub.
    let (s, b) = h1
        .post(
            &format!("{item}/answers"),
            Some(&so),
            &json!({"text": "已制定低风险病例复盘制度。"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    eventually(&hub, &qc, &item, "the answer at the hub", |f| {
        f["state"] == "answered" && f["answers"][0]["text"] == "已制定低风险病例复盘制度。"
    })
    .await;
    // The QC centre closes it at the hub, and the hospital sees it closed.
    let (s, b) = hub
        .post(
            &format!("{item}/close"),
            Some(&qc),
            &json!({"outcome": "resolved"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    eventually(&h1, &so, &item, "the closure at the hospital", |f| {
        f["state"] == "closed" && f["answers"].as_array().map(Vec::len) == Some(1)
    })
    .await;

    // Exactly once each way: the hub's copy of the hospital's subjects and
    // the hospital's copy of the addressed scope equal their origins.
    for filter in ["lantern.H0001.>", "lantern.R01~H0001.>"] {
        let started = Instant::now();
        loop {
            let (at_hub, at_hospital) = (
                count(&hub.nats, filter).await,
                count(&h1.nats, filter).await,
            );
            if at_hub == at_hospital {
                break;
            }
            assert!(
                started.elapsed() < CONVERGE_WITHIN,
                "{filter}: {at_hub} at the hub, {at_hospital} at the hospital"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    assert_eq!(count(&h1.nats, "lantern.R01~H0001.>").await, 3);

    // What the QC centre addresses is written at its hub only: the
    // hospital's Lantern refuses it, naming the hub, and appends nothing.
    let local_qc = h1.qc_centre("R01").await;
    let before = h1.stream_count().await;
    let (s, b) = h1
        .post(
            "/api/v1/follow-ups",
            Some(&local_qc),
            &json!({"hospital": "H0001", "kind": "guidance", "title": "x",
                    "text": "y", "due": clock::date_in(10)}),
        )
        .await;
    assert_eq!(s, 409, "{b}");
    let detail = b["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("R01") && detail.contains("r01"), "{b}");
    assert_eq!(h1.stream_count().await, before);
}

/// Waits until `hub`'s stream holds exactly `origin`'s events on `filter`.
async fn same_events(hub: &NatsServer, origin: &NatsServer, filter: &str) {
    let started = Instant::now();
    loop {
        let (held, kept) = (count(hub, filter).await, count(origin, filter).await);
        if held == kept && kept > 0 {
            return;
        }
        assert!(
            started.elapsed() < CONVERGE_WITHIN,
            "{filter}: {held} at the hub, {kept} at their origin"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A province is a hub of regions by the same mechanism: two regions' hubs
/// (each a hub of one hospital and a leaf node of the province's hub)
/// linked at the province, whose stream sources each region's own events
/// and, following the links each region recorded, the region's hospitals'
/// events and its QC centre's items to them; the province's figures equal
/// each hospital's own.
#[tokio::test]
async fn a_province_over_two_regions_holds_exactly_their_hospitals_figures() {
    let p_nats = NatsServer::start_province("p01");
    let r1_nats = NatsServer::start_region_in("r01", &p_nats);
    let r2_nats = NatsServer::start_region_in("r02", &p_nats);
    let h1_nats = NatsServer::start_leaf("h0001", &r1_nats);
    let h2_nats = NatsServer::start_leaf("h0002", &r2_nats);
    let h1 = start(h1_nats, &hospital_tier_in("H0001", "R01")).await;
    let h2 = start(h2_nats, &hospital_tier_in("H0002", "R02")).await;
    h1.hospital("H0001", "R01", &["ICU"]).await;
    h2.hospital("H0002", "R02", &["ICU"]).await;
    let r1 = start(r1_nats, &region_tier("R01")).await;
    let r2 = start(r2_nats, &region_tier("R02")).await;
    link(&r1, "H0001", "h0001").await;
    link(&r2, "H0002", "h0002").await;
    let mut p = start(p_nats, &region_tier("P01")).await;
    let linked = link_site(&p, json!({"region": "R01", "domain": "r01"})).await;
    assert_eq!(
        (&linked["region"], &linked["source"]),
        (
            &json!("R01"),
            &json!("LANTERN (lantern.R01.>, API $JS.r01.API)")
        ),
        "{linked}"
    );
    link_site(&p, json!({"region": "R02", "domain": "r02"})).await;
    for (code, parent) in [("P01", None), ("R01", Some("P01")), ("R02", Some("P01"))] {
        let (s, b) = p
            .post(
                "/api/v1/admin/regions",
                Some(ADMIN),
                &json!({"code": code, "name": code, "parent": parent}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let qc = p.qc_centre("P01").await;
    let (so1, so2) = (h1.officer("H0001").await, h2.officer("H0002").await);
    file(&h1, "H0001", 0, 9).await;
    file(&h2, "H0002", 0, 5).await;
    census(&h1, &so1, "H0001", 300).await;
    census(&h2, &so2, "H0002", 200).await;
    // A region's QC centre's item to its hospital reaches the province too.
    let qc1 = r1.qc_centre("R01").await;
    let (s, b) = r1
        .post(
            "/api/v1/follow-ups",
            Some(&qc1),
            &json!({"hospital": "H0001", "kind": "guidance", "title": "跌倒",
                    "text": "请关注夜间跌倒。", "due": clock::date_in(10)}),
        )
        .await;
    assert_eq!(s, 201, "{b}");

    let province = [(&h1, so1.as_str(), "H0001"), (&h2, so2.as_str(), "H0002")];
    converge(&p, &qc, &province, "the province").await;
    same_events(&p.nats, &r1.nats, "lantern.R01~H0001.>").await;
    same_events(&p.nats, &r1.nats, "lantern.R01.>").await;
    same_events(&p.nats, &r2.nats, "lantern.R02.>").await;

    // The province refuses what belongs below it, naming where it belongs,
    // and appends nothing; a region's QC token grants nothing there.
    let before = p.stream_count().await;
    let (s, b) = p.post("/api/v1/reports", None, &report("H0002", 99)).await;
    assert_eq!(s, 409, "{b}");
    assert!(
        b["detail"].as_str().unwrap_or_default().contains("h0002"),
        "{b}"
    );
    assert_eq!(p.stream_count().await, before);
    let month = clock::current_month();
    let rates = format!("/api/v1/rates?from={month}&to={month}&by=hospital");
    assert_eq!(p.get(&rates, Some(&qc1)).await.0, 401);

    // The province starts again on its stream: its sources are what its
    // links and its regions' links make.
    p.restart().await;
    let shown = p.run(&["stream", "show"]);
    assert!(
        shown.contains("differences from the configuration: none")
            && shown.contains("lantern.H0002.>, API $JS.r02.API")
            && shown.contains("lantern.R01~H0001.>, API $JS.r01.API"),
        "{shown}"
    );
}
