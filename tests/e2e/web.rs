//! The staff web over HTTP: sign-in, sessions, CSRF, scope, sign-out, a
//! triage through the page, and the QC dashboard.

use crate::support::Lantern;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

/// A browser-like client that does not follow redirects (we look at them)
/// and sends the session cookie we give it.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

impl Browser {
    fn new(l: &Lantern) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: l.base.clone(),
            cookie: None,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String, Option<String>) {
        let mut r = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            r = r.header(COOKIE, c);
        }
        let r = r.send().await.unwrap();
        let loc = r
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        (r.status(), r.text().await.unwrap(), loc)
    }

    async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String, reqwest::header::HeaderMap) {
        let mut r = self.http.post(format!("{}{path}", self.base)).form(form);
        if let Some(c) = &self.cookie {
            r = r.header(COOKIE, c);
        }
        let r = r.send().await.unwrap();
        let h = r.headers().clone();
        (r.status(), r.text().await.unwrap(), h)
    }

    async fn sign_in(&mut self, token: &str) {
        let (s, _, h) = self.post("/staff/sign-in", &[("token", token)]).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let set = h.get(SET_COOKIE).unwrap().to_str().unwrap().to_owned();
        for attr in ["HttpOnly", "SameSite=Strict", "Path=/staff"] {
            assert!(set.contains(attr), "{set}");
        }
        self.cookie = Some(set.split(';').next().unwrap().to_owned());
    }
}

fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

fn report_body(hospital: &str) -> Value {
    json!({"hospital": hospital, "department": "ICU", "occurred_at": "2026-01-05T08:00:00+08:00",
           "grade": "III", "category": "fall", "harm": "mild",
           "description": "患者夜间跌倒 / patient fell at night"})
}

#[tokio::test]
async fn staff_pages_sign_in_refuse_forged_forms_keep_scope_and_triage_through_the_api() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    l.hospital("H2", "R1", &["ICU"]).await;
    let so1 = l
        .token(json!({"role": "safety_officer", "hospital": "H1"}))
        .await;
    let so2 = l
        .token(json!({"role": "safety_officer", "hospital": "H2"}))
        .await;
    let (s, b) = l.post("/api/v1/reports", None, &report_body("H1")).await;
    assert_eq!(s, 201, "{b}");
    let id = b["report_id"].as_str().unwrap().to_owned();

    let mut web = Browser::new(&l);
    let (s, page, _) = web.get("/staff/sign-in").await;
    assert_eq!(s, 200);
    assert!(page.contains("工作人员登录"), "zh-CN by default");
    let (s, page, _) = web.get("/staff/sign-in?lang=en").await;
    assert!(s == 200 && page.contains("Staff sign-in"));
    let (s, _, h) = web
        .post("/staff/sign-in", &[("token", "not-a-token")])
        .await;
    assert_eq!(s, 401);
    assert!(h.get(SET_COOKIE).is_none());
    let (s, _, loc) = web.get("/staff/reports").await;
    assert_eq!(
        (s, loc.as_deref()),
        (StatusCode::SEE_OTHER, Some("/staff/sign-in"))
    );

    web.sign_in(&so1).await;
    let (s, inbox, _) = web.get("/staff/reports").await;
    assert_eq!(s, 200, "{inbox}");
    assert!(inbox.contains(&id), "the report is in the inbox");
    assert!(!inbox.contains(&so1), "the token never appears in a page");
    let (s, inbox, _) = web.get("/staff/reports?grade=I").await;
    assert!(s == 200 && !inbox.contains(&id), "filtered out");

    let (s, page, _) = web.get(&format!("/staff/reports/{id}")).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("patient fell at night"));
    let csrf = csrf_of(&page);
    let triage = format!("/staff/reports/{id}/triage");

    let before = l.stream_count().await;
    let (s, _, _) = web
        .post(&triage, &[("grade", "II"), ("category", "fall")])
        .await;
    assert_eq!(s, 403, "no CSRF token");
    let (s, _, _) = web
        .post(
            &triage,
            &[("csrf", "0000"), ("grade", "II"), ("category", "fall")],
        )
        .await;
    assert_eq!(s, 403, "wrong CSRF token");
    assert_eq!(l.stream_count().await, before, "nothing appended");

    let (s, page, _) = web
        .post(
            &triage,
            &[
                ("csrf", &csrf),
                ("grade", "II"),
                ("category", "fall"),
                ("duplicate_of", &id),
            ],
        )
        .await;
    assert_eq!(s, 422, "the API's refusal, shown on the page");
    assert!(
        page.contains("/duplicate_of") && page.contains("role=\"alert\""),
        "{page}"
    );
    assert_eq!(l.stream_count().await, before);

    let (s, _, h) = web
        .post(
            &triage,
            &[
                ("csrf", &csrf),
                ("grade", "II"),
                ("category", "medication"),
                ("note", "核实"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(l.stream_count().await, before + 1, "exactly one event");
    let last = l.stream_payloads().await.pop().unwrap();
    let last: Value = serde_json::from_slice(&last).unwrap();
    assert_eq!(last["type"], "report.triaged");
    assert_eq!(last["data"]["category"], "medication");
    let loc = h.get(LOCATION).unwrap().to_str().unwrap().to_owned();
    let (s, page, _) = web.get(&loc).await;
    assert!(s == 200 && page.contains("已保存"), "{page}");

    // Another hospital's officer cannot open it.
    let mut other = Browser::new(&l);
    other.sign_in(&so2).await;
    let (s, _, _) = other.get(&format!("/staff/reports/{id}")).await;
    assert_eq!(s, 403);
    let other_csrf = csrf_of(&other.get("/staff/reports").await.1);
    let (s, _, _) = other
        .post(
            &triage,
            &[("csrf", &other_csrf), ("grade", "II"), ("category", "fall")],
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(l.stream_count().await, before + 1);

    // Sign-out needs the CSRF token, then ends the session.
    let (s, _, _) = web.post("/staff/sign-out", &[]).await;
    assert_eq!(s, 403);
    let (s, _, h) = web.post("/staff/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(
        h.get(SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (s, _, loc) = web.get("/staff/reports").await;
    assert_eq!(
        (s, loc.as_deref()),
        (StatusCode::SEE_OTHER, Some("/staff/sign-in"))
    );
}

#[tokio::test]
async fn the_qc_dashboard_shows_rates_charts_and_csv() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    l.hospital("H2", "R1", &["ICU"]).await;
    let month = crate::support::clock::current_month();
    for h in ["H1", "H2"] {
        let so = l
            .token(json!({"role": "safety_officer", "hospital": h}))
            .await;
        let (s, b) = l
            .post(
                "/api/v1/census",
                Some(&so),
                &json!({"hospital": h, "department": "ICU", "month": month, "discharges": 200}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    for _ in 0..6 {
        let (s, _) = l.post("/api/v1/reports", None, &report_body("H1")).await;
        assert_eq!(s, 201);
    }
    let qc = l.token(json!({"role": "qc_centre", "region": "R1"})).await;
    let mut web = Browser::new(&l);
    web.sign_in(&qc).await;
    let mut page = String::new();
    for _ in 0..50 {
        // The rates projector applies asynchronously.
        let (s, p, _) = web.get("/staff/dashboard?lang=en").await;
        assert_eq!(s, 200, "{p}");
        page = p;
        if page.contains(">3.00<") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        page.contains(">3.00<"),
        "H1: 6 reports / 200 discharges: {page}"
    );
    assert!(page.contains("id=\"funnel\"") && page.matches("class=\"uchart\"").count() == 2);
    assert!(
        page.contains("suppressed"),
        "H2's and H1's small grade cells"
    );
    let (s, csv, _) = web
        .get(&format!("/staff/dashboard.csv?from={month}&to={month}"))
        .await;
    assert_eq!(s, 200);
    assert!(csv.contains("\"H1\",\"\",6,200,3.00"), "{csv}");
    // A QC centre has no report inbox.
    let (s, _, _) = web.get("/staff/reports").await;
    assert_eq!(s, 403);
}

/// The four people's jobs in headless Chromium (tests/browser/flow.mjs):
/// screenshots under target/browser/, no console errors. Needs node and
/// `npm ci --prefix tests/browser`; `make e2e` does both and runs this.
#[tokio::test]
#[ignore = "needs node and tests/browser/node_modules: run `make e2e`"]
async fn browser_clinician_officer_and_analyst_do_their_jobs() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    l.hospital("H2", "R1", &["ICU"]).await;
    let so = l
        .token(json!({"role": "safety_officer", "hospital": "H1"}))
        .await;
    let qc = l.token(json!({"role": "qc_centre", "region": "R1"})).await;
    let month = crate::support::clock::current_month();
    for h in ["H1", "H2"] {
        let his = l.token(json!({"role": "his", "hospital": h})).await;
        let (s, b) = l
            .post(
                "/api/v1/census",
                Some(&his),
                &json!({"hospital": h, "department": "ICU", "month": month, "discharges": 150}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::process::Command::new("node")
        .arg("tests/browser/flow.mjs")
        .current_dir(&root)
        .env("LANTERN_URL", &l.base)
        .env("SO_TOKEN", &so)
        .env("QC_TOKEN", &qc)
        .env("SHOTS", root.join("target/browser"))
        .output()
        .expect("node (tests/browser/flow.mjs)");
    assert!(
        out.status.success(),
        "browser flow failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
