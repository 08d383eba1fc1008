//! The staff web over HTTP: sign-in, sessions, CSRF, scope, sign-out, a
//! triage through the page, and the QC dashboard.

use crate::support::{Lantern, clock};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

/// A browser-like client that does not follow redirects (we look at them)
/// and sends the session cookie we give it; once signed in it knows the
/// session's CSRF token, and watches `l`'s stream for what its posts append.
struct Browser<'l> {
    l: &'l Lantern,
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
    csrf: String,
}

impl<'l> Browser<'l> {
    fn new(l: &'l Lantern) -> Browser<'l> {
        Browser {
            l,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: l.base.clone(),
            cookie: None,
            csrf: String::new(),
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
        // Every page of the shell carries the token in its sign-out form;
        // the home page of a role without one (the admin) has none.
        let (_, _, home) = self.get("/staff").await;
        let (_, page, _) = self.get(&home.unwrap()).await;
        if page.contains(CSRF_FIELD) {
            self.csrf = csrf_of(&page);
        }
    }

    /// `form` with the session's CSRF token, as the page's form sends it.
    fn with_csrf<'a>(&'a self, form: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut v = vec![("csrf", self.csrf.as_str())];
        v.extend_from_slice(form);
        v
    }

    /// A form post that must land: 303, exactly one more event, of
    /// `event_type`; returns the event and where it redirected to.
    async fn lands(&self, path: &str, form: &[(&str, &str)], event_type: &str) -> (Value, String) {
        let before = self.l.stream_count().await;
        let (s, page, h) = self.post(path, &self.with_csrf(form)).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{path}: {page}");
        assert_eq!(self.l.stream_count().await, before + 1, "{path}: one event");
        let event = last_event(self.l).await;
        assert_eq!(event["type"], event_type, "{event}");
        let loc = h.get(LOCATION).unwrap().to_str().unwrap().to_owned();
        (event, loc)
    }

    /// A form post the API refuses: `status`, the pointer (or words) on
    /// the page in an alert, nothing appended.
    async fn refused(&self, path: &str, form: &[(&str, &str)], status: u16, shown: &str) {
        let before = self.l.stream_count().await;
        let (s, page, _) = self.post(path, &self.with_csrf(form)).await;
        assert_eq!(s.as_u16(), status, "{path}: {page}");
        assert!(
            page.contains("role=\"alert\"") && page.contains(shown),
            "{path}: {shown} on the page: {page}"
        );
        assert_eq!(
            self.l.stream_count().await,
            before,
            "{path}: nothing appended"
        );
    }

    /// A post, CSRF token and all, that the scope keeps out: `status` (the
    /// error page), nothing appended.
    async fn kept_out(&self, path: &str, form: &[(&str, &str)], status: u16) {
        let before = self.l.stream_count().await;
        let (s, page, _) = self.post(path, &self.with_csrf(form)).await;
        assert_eq!(s.as_u16(), status, "{path}: {page}");
        assert_eq!(
            self.l.stream_count().await,
            before,
            "{path}: nothing appended"
        );
    }
}

const CSRF_FIELD: &str = "name=\"csrf\" value=\"";

fn csrf_of(page: &str) -> String {
    let at = page.find(CSRF_FIELD).expect("a form with a CSRF token") + CSRF_FIELD.len();
    page[at..].split('"').next().unwrap().to_owned()
}

fn report_body(hospital: &str) -> Value {
    json!({"hospital": hospital, "department": "ICU", "occurred_at": "2026-01-05T08:00:00+08:00",
           "grade": "III", "category": "fall", "harm": "mild", "treatment_needed": false,
           "description": "患者夜间跌倒 / patient fell at night"})
}

#[tokio::test]
async fn staff_pages_sign_in_refuse_forged_forms_keep_scope_and_triage_through_the_api() {
    let l = Lantern::with_hospitals(&["H1", "H2"]).await;
    let so1 = l.officer("H1").await;
    let so2 = l.officer("H2").await;
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
    assert_eq!(csrf, web.csrf, "the page's forms carry the session's token");
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

    web.refused(
        &triage,
        &[("grade", "II"), ("category", "fall"), ("duplicate_of", &id)],
        422,
        "/duplicate_of",
    )
    .await;
    // A fall with moderate harm is not grade IV (DESIGN "Grades").
    web.refused(
        &triage,
        &[("grade", "IV"), ("category", "fall"), ("harm", "moderate")],
        422,
        "/harm",
    )
    .await;
    // Mild harm re-assessed as needing treatment is grade II.
    web.refused(
        &triage,
        &[
            ("grade", "II"),
            ("category", "fall"),
            ("harm", "mild"),
            ("treatment_needed", "no"),
        ],
        422,
        "/treatment_needed",
    )
    .await;
    let (last, loc) = web
        .lands(
            &triage,
            &[
                ("grade", "II"),
                ("category", "medication"),
                ("harm", "mild"),
                ("treatment_needed", "yes"),
                ("note", "核实"),
            ],
            "report.triaged",
        )
        .await;
    assert_eq!(last["data"]["category"], "medication");
    assert_eq!(last["version"], 2);
    assert_eq!(
        (&last["data"]["harm"], &last["data"]["treatment_needed"]),
        (&json!("mild"), &json!(true))
    );
    let (s, page, _) = web.get(&loc).await;
    assert!(s == 200 && page.contains("已保存"), "{page}");

    // Another hospital's officer cannot open it.
    let mut other = Browser::new(&l);
    other.sign_in(&so2).await;
    let (s, _, _) = other.get(&format!("/staff/reports/{id}")).await;
    assert_eq!(s, 403);
    other
        .kept_out(&triage, &[("grade", "II"), ("category", "fall")], 403)
        .await;

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
    let l = Lantern::with_hospitals(&["H1", "H2"]).await;
    let month = crate::support::clock::current_month();
    for h in ["H1", "H2"] {
        let so = l.officer(h).await;
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
    let qc = l.qc_centre("R1").await;
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
    // The strata and the periods DESIGN asks for.
    assert!(
        page.contains("id=\"by-region\"") && page.contains("id=\"by-level\""),
        "{page}"
    );
    assert!(page.contains("<th scope=\"row\">Tertiary</th>"), "{page}");
    for preset in ["This quarter", "Year to date", "Rolling 12 months"] {
        assert!(page.contains(preset), "{preset}: {page}");
    }
    // The Pareto chart of the region's categories: six falls, all of them.
    assert!(page.contains("id=\"pareto\""), "{page}");
    assert!(
        page.contains("<td>Fall</td><td class=\"n\">6</td><td class=\"n\">100.0</td>"),
        "{page}"
    );
    assert!(
        page.contains("suppressed"),
        "H2's and H1's small grade cells"
    );
    let (s, csv, _) = web
        .get(&format!("/staff/dashboard.csv?from={month}&to={month}"))
        .await;
    assert_eq!(s, 200);
    assert!(csv.contains("\"H1\",\"\",6,200,3.00"), "{csv}");
    let (s, csv, _) = web
        .get(&format!(
            "/staff/dashboard/categories.csv?from={month}&to={month}"
        ))
        .await;
    assert_eq!(s, 200);
    assert!(csv.contains("\"fall\",6,100.00"), "{csv}");
    // A QC centre has no report inbox.
    let (s, _, _) = web.get("/staff/reports").await;
    assert_eq!(s, 403);
}

/// A form's pairs as `reqwest` takes them.
fn pairs_of(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The last event in the stream.
async fn last_event(l: &Lantern) -> Value {
    let last = l.stream_payloads().await.pop().unwrap();
    serde_json::from_slice(&last).unwrap()
}

/// GETs `path` until `wanted` is on the page (projectors apply
/// asynchronously); returns the page.
async fn eventually(web: &Browser<'_>, path: &str, wanted: &str) -> String {
    let mut page = String::new();
    for _ in 0..50 {
        let (s, p, _) = web.get(path).await;
        assert_eq!(s, 200, "{path}: {p}");
        page = p;
        if page.contains(wanted) {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{wanted} never on {path}: {page}");
}

#[tokio::test]
async fn an_rca_case_file_is_run_from_the_staff_pages_through_the_rca_api() {
    let l = Lantern::with_hospitals(&["H1", "H2"]).await;
    let so1 = l.officer("H1").await;
    let so2 = l.officer("H2").await;
    let qc = l.qc_centre("R1").await;
    let mut serious = report_body("H1");
    serious["grade"] = json!("II");
    serious["harm"] = json!("moderate");
    serious.as_object_mut().unwrap().remove("treatment_needed");
    let (s, b) = l.post("/api/v1/reports", None, &serious).await;
    assert_eq!(s, 201, "{b}");
    let report = b["report_id"].as_str().unwrap().to_owned();

    let mut web = Browser::new(&l);
    web.sign_in(&so1).await;
    // The grade II report waits in the queue, with the form to open a case.
    let list = eventually(&web, "/staff/rca", &report).await;
    assert!(list.contains("name=\"report_ids\""), "{list}");
    // And its report page offers to open one.
    let (s, page, _) = web.get(&format!("/staff/reports/{report}")).await;
    assert!(s == 200 && page.contains("action=\"/staff/rca\""), "{page}");

    let open = |title: &str| -> Vec<(String, String)> {
        vec![
            ("report_ids".to_owned(), report.clone()),
            ("title".to_owned(), title.to_owned()),
            ("team_roles".to_owned(), "护士长\n药师, 医务处".to_owned()),
        ]
    };
    // No CSRF token: 403, nothing appended.
    let before = l.stream_count().await;
    let no_csrf = open("KCl");
    let (s, _, _) = web.post("/staff/rca", &pairs_of(&no_csrf)).await;
    assert_eq!(s, 403);
    assert_eq!(l.stream_count().await, before);
    // The API's 422, shown with its pointer.
    let untitled = open("");
    web.refused("/staff/rca", &pairs_of(&untitled), 422, "/title")
        .await;
    // Opened through the API's handler.
    let good = open("KCl 浓度错误");
    let (event, loc) = web
        .lands("/staff/rca", &pairs_of(&good), "rca.opened")
        .await;
    assert_eq!(event["data"]["report_ids"], json!([report]));
    assert_eq!(
        event["data"]["team_roles"],
        json!(["护士长", "药师", "医务处"])
    );
    let rca = event["aggregate"].as_str().unwrap().to_owned();
    assert!(
        loc.starts_with(&format!("/staff/rca/{rca}?after=")),
        "{loc}"
    );
    let (s, page, _) = web.get(&loc).await;
    assert!(
        s == 200 && page.contains("KCl 浓度错误") && page.contains("已保存"),
        "{page}"
    );
    let case = format!("/staff/rca/{rca}");

    // Timeline: a wall-clock time in the hospital's zone.
    let (event, _) = web
        .lands(
            &format!("{case}/timeline"),
            &[("at", "2026-01-05T08:10"), ("text", "发现输液浓度错误")],
            "rca.timeline_added",
        )
        .await;
    assert_eq!(event["data"]["at"], "2026-01-05T08:10:00+08:00");
    web.refused(
        &format!("{case}/timeline"),
        &[("at", "soon"), ("text", "x")],
        422,
        "/at",
    )
    .await;
    // A factor by fishbone category, with its why-chain.
    let (event, _) = web
        .lands(
            &format!("{case}/factors"),
            &[
                ("category", "methods"),
                ("statement", "高浓度电解质未单独存放"),
                ("whys", "为什么拿错？\n外观相同\n"),
            ],
            "rca.factor_added",
        )
        .await;
    assert_eq!(event["data"]["category"], "methods");
    assert_eq!(event["data"]["whys"], json!(["为什么拿错？", "外观相同"]));
    web.refused(
        &format!("{case}/factors"),
        &[("category", "machine"), ("statement", "s")],
        422,
        "/category",
    )
    .await;
    // Closing too early: the API's 409, on the page.
    web.refused(
        &format!("{case}/close"),
        &[("lessons", "分开存放")],
        409,
        "cannot close yet",
    )
    .await;
    // Root causes: an unknown factor is the API's 422 naming it.
    web.refused(
        &format!("{case}/root-causes"),
        &[("factors", "7")],
        422,
        "/factors/0",
    )
    .await;
    web.lands(
        &format!("{case}/root-causes"),
        &[("factors", "1")],
        "rca.root_cause_confirmed",
    )
    .await;
    // An action with strength, owner and due date; then completed.
    let due = crate::support::clock::date_in(30);
    let (event, _) = web
        .lands(
            &format!("{case}/actions"),
            &[
                ("what", "高浓度氯化钾移出病区"),
                ("strength", "stronger"),
                ("owner_role", "药剂科主任"),
                ("due", &due),
                ("measure", "每月抽查"),
            ],
            "rca.action_planned",
        )
        .await;
    assert_eq!(event["data"]["strength"], "stronger");
    assert_eq!(event["data"]["due"], json!(due));
    web.refused(
        &format!("{case}/actions"),
        &[
            ("what", "w"),
            ("strength", "stronger"),
            ("owner_role", "o"),
            ("due", "2026-1-5"),
            ("measure", "m"),
        ],
        422,
        "/due",
    )
    .await;
    let done_at = crate::support::clock::rfc3339_in(-60);
    web.lands(
        &format!("{case}/actions/1/complete"),
        &[("completed_at", &done_at), ("evidence", "病区已无库存")],
        "rca.action_completed",
    )
    .await;
    web.refused(
        &format!("{case}/actions/1/complete"),
        &[("completed_at", &done_at), ("evidence", "again")],
        409,
        "already completed",
    )
    .await;
    // Another hospital's officer can neither read nor write the case.
    let mut other = Browser::new(&l);
    other.sign_in(&so2).await;
    let (s, _, _) = other.get(&case).await;
    assert_eq!(s, 403);
    let factor = [("category", "people"), ("statement", "x")];
    other
        .kept_out(&format!("{case}/factors"), &factor, 403)
        .await;
    // A QC centre has no case files to run.
    let mut analyst = Browser::new(&l);
    analyst.sign_in(&qc).await;
    assert_eq!(analyst.get("/staff/rca").await.0, 403);

    // Closed with lessons; the case page shows them and no more forms.
    let (_, loc) = web
        .lands(
            &format!("{case}/close"),
            &[("lessons", "高浓度电解质不进病区")],
            "rca.closed",
        )
        .await;
    let (s, page, _) = web.get(&loc).await;
    assert!(s == 200 && page.contains("高浓度电解质不进病区"), "{page}");
    assert!(!page.contains("/factors\""), "no forms on a closed case");
    // A step posted from a stale page: the API's 409, shown at the top.
    web.refused(
        &format!("{case}/factors"),
        &[("category", "people"), ("statement", "late")],
        409,
        "closed",
    )
    .await;

    // Overdue: a case due in the past and an overdue action on it.
    let mut late = open("补录的分析");
    late.push(("due".into(), "2026-01-01".into()));
    let (event, _) = web
        .lands("/staff/rca", &pairs_of(&late), "rca.opened")
        .await;
    let late_case = format!("/staff/rca/{}", event["aggregate"].as_str().unwrap());
    web.lands(
        &format!("{late_case}/actions"),
        &[
            ("what", "双人核对"),
            ("strength", "weaker"),
            ("owner_role", "护士长"),
            ("due", "2026-01-02"),
            ("measure", "抽查"),
        ],
        "rca.action_planned",
    )
    .await;
    let list = eventually(&web, "/staff/rca?lang=en", "双人核对").await;
    assert!(
        list.contains("Cases past their due date") && list.contains("补录的分析"),
        "{list}"
    );
    let (_, closed_only, _) = web.get("/staff/rca?state=closed").await;
    let table = &closed_only[closed_only.find("id=\"h-cases\"").unwrap()..];
    assert!(
        table.contains("KCl 浓度错误") && !table.contains("补录的分析"),
        "{table}"
    );
}

#[tokio::test]
async fn death_trails_are_recorded_and_reviewed_from_the_staff_pages() {
    let l = Lantern::with_hospitals(&["H1", "H2"]).await;
    let so1 = l.officer("H1").await;
    let so2 = l.officer("H2").await;
    let mut web = Browser::new(&l);
    web.sign_in(&so1).await;
    let (s, page, _) = web.get("/staff/deaths").await;
    assert_eq!(s, 200, "{page}");
    let death = |icd: &str| -> Vec<(String, String)> {
        [
            ("department", "ICU"),
            ("admitted_at", "2026-01-01T08:00"),
            ("died_at", "2026-01-02T23:30"),
            ("age_band", "60-69"),
            ("diagnosis_icd10", icd),
            ("autopsy", "1"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    };
    web.refused(
        "/staff/deaths",
        &pairs_of(&death("heart")),
        422,
        "/diagnosis_icd10",
    )
    .await;
    let (event, loc) = web
        .lands(
            "/staff/deaths",
            &pairs_of(&death("I21.9")),
            "death.recorded",
        )
        .await;
    assert_eq!(event["data"]["died_at"], "2026-01-02T23:30:00+08:00");
    assert_eq!(event["data"]["autopsy"], true);
    assert_eq!(event["data"]["low_risk"], false);
    let id = event["aggregate"].as_str().unwrap().to_owned();
    let trail = format!("/staff/deaths/{id}");
    let (s, page, _) = web.get(&loc).await;
    assert!(s == 200 && page.contains("I21.9"), "{page}");
    // Never reviewed within 7 days of 2026-01-02: overdue on the worklist.
    let list = eventually(&web, "/staff/deaths?state=overdue&lang=en", &id).await;
    assert!(
        list.contains("class=\"overdue\"") && list.contains("UNMET"),
        "{list}"
    );

    web.lands(
        &format!("{trail}/reviews"),
        &[
            ("held_at", "2026-01-05T09:00"),
            ("level", "hospital"),
            ("attendee_roles", "科主任、主治医师"),
            ("preventability", "possibly_avoidable"),
            ("phase_0", "rescue"),
            ("defect_0", "抢救记录不完整"),
        ],
        "death.review_held",
    )
    .await;
    let event = last_event(&l).await;
    assert_eq!(
        event["data"]["defects"],
        json!([{"phase": "rescue", "text": "抢救记录不完整"}])
    );
    assert_eq!(
        event["data"]["attendee_roles"],
        json!(["科主任", "主治医师"])
    );
    web.refused(
        &format!("{trail}/reviews"),
        &[
            ("held_at", "2026-01-06T09:00"),
            ("level", "hospital"),
            ("attendee_roles", ""),
            ("preventability", "avoidable"),
        ],
        422,
        "/attendee_roles",
    )
    .await;
    // The autopsy review is still to come: the API's 409.
    web.refused(&format!("{trail}/close"), &[], 409, "409")
        .await;
    web.lands(
        &format!("{trail}/autopsy"),
        &[
            ("reported_at", "2026-01-10T10:00"),
            ("findings", "急性心肌梗死"),
        ],
        "death.autopsy_reported",
    )
    .await;
    web.lands(
        &format!("{trail}/reviews"),
        &[
            ("held_at", "2026-01-12T09:00"),
            ("level", "department"),
            ("attendee_roles", "科主任"),
            ("preventability", "unavoidable"),
        ],
        "death.review_held",
    )
    .await;
    // Another hospital's officer sees no such death and cannot write to it.
    let mut other = Browser::new(&l);
    other.sign_in(&so2).await;
    assert_eq!(other.get(&trail).await.0, 404);
    other.kept_out(&format!("{trail}/close"), &[], 404).await;
    // Forged: no CSRF token.
    let (s, _, _) = web.post(&format!("{trail}/close"), &[]).await;
    assert_eq!(s, 403);
    let (_, loc) = web
        .lands(&format!("{trail}/close"), &[], "death.review_closed")
        .await;
    let (s, page, _) = web.get(&format!("{loc}&lang=en")).await;
    assert!(
        s == 200 && page.contains("Autopsy report") && page.contains("急性心肌梗死"),
        "{page}"
    );
    assert!(!page.contains("/reviews\""), "no forms on a closed trail");
    web.refused(
        &format!("{trail}/autopsy"),
        &[("reported_at", "2026-01-11T10:00"), ("findings", "again")],
        409,
        "is closed",
    )
    .await;
}

#[tokio::test]
async fn the_monthly_pack_opens_for_the_sessions_scope() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    let so = l.officer("H1").await;
    let qc = l.qc_centre("R1").await;
    let month = crate::support::clock::current_month();
    let mut web = Browser::new(&l);
    web.sign_in(&so).await;
    let (s, nav, _) = web.get("/staff/reports").await;
    assert!(
        s == 200 && nav.contains("href=\"/staff/meeting\""),
        "linked from the nav"
    );
    let (s, _, loc) = web.get("/staff/meeting").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(loc.unwrap(), format!("/staff/meeting/{month}"));
    let r = web
        .http
        .get(format!("{}/staff/meeting/{month}", web.base))
        .header(COOKIE, web.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("style-src 'sha256-") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    let page = r.text().await.unwrap();
    assert!(
        page.contains("医疗质量安全月度分析") && page.contains("医院 Hospital H1"),
        "{page}"
    );
    assert!(page.contains("nav class=\"screen\""), "the on-screen bar");
    let (s, _, _) = web.get("/staff/meeting/2026-13").await;
    assert_eq!(s, 422);

    let mut analyst = Browser::new(&l);
    analyst.sign_in(&qc).await;
    let (s, page, _) = analyst.get(&format!("/staff/meeting/{month}")).await;
    assert!(s == 200 && page.contains("区域 Region R1"), "{page}");
    // Nobody else has a pack: the admin token reads nothing.
    let mut admin = Browser::new(&l);
    admin.sign_in(crate::support::ADMIN).await;
    assert_eq!(admin.get(&format!("/staff/meeting/{month}")).await.0, 403);
}

/// The four people's jobs in headless Chromium (tests/browser/flow.mjs):
/// screenshots under target/browser/, no console errors. Needs node and
/// `npm ci --prefix tests/browser`; `make e2e` does both and runs this.
#[tokio::test]
#[ignore = "needs node and tests/browser/node_modules: run `make e2e`"]
async fn browser_clinician_officer_and_analyst_do_their_jobs() {
    let l = Lantern::with_hospitals(&["H1", "H2"]).await;
    let so = l.officer("H1").await;
    let qc = l.qc_centre("R1").await;
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

/// Every staff form, fed what no page sends — a body past the limit, a body
/// that is not a form, no session — answers a clear
/// error page with the right status, and appends nothing.
#[tokio::test]
async fn every_staff_form_refuses_unreadable_input_and_appends_nothing() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let mut b = Browser::new(&l);
    b.sign_in(&l.officer("H1").await).await;
    let id = "0192f3a4-7b1c-7d2e-9f00-1a2b3c4d5e6f";
    let forms = [
        format!("/staff/reports/{id}/triage"),
        format!("/staff/reports/{id}/feedback"),
        "/staff/rca".to_owned(),
        format!("/staff/rca/{id}/timeline"),
        format!("/staff/rca/{id}/factors"),
        format!("/staff/rca/{id}/root-causes"),
        format!("/staff/rca/{id}/actions"),
        format!("/staff/rca/{id}/actions/1/complete"),
        format!("/staff/rca/{id}/close"),
        "/staff/deaths".to_owned(),
        format!("/staff/deaths/{id}/reviews"),
        format!("/staff/deaths/{id}/autopsy"),
        format!("/staff/deaths/{id}/close"),
        "/staff/follow-ups".to_owned(),
        format!("/staff/follow-ups/{id}/answer"),
        format!("/staff/follow-ups/{id}/carry"),
        format!("/staff/follow-ups/{id}/close"),
        "/staff/sign-out".to_owned(),
    ];
    let csrf = format!("csrf={}&", b.csrf);
    let oversized = format!("{csrf}note={}", "x".repeat(1024 * 1024 + 1));
    let cases: [(&str, &str, String, Option<&str>, u16); 4] = [
        (
            "past the body limit",
            "application/x-www-form-urlencoded",
            oversized,
            b.cookie.as_deref(),
            413,
        ),
        (
            "JSON, not a form",
            "application/json",
            format!("{{\"csrf\":\"{}\"}}", b.csrf),
            b.cookie.as_deref(),
            415,
        ),
        (
            "no content type",
            "",
            csrf.clone(),
            b.cookie.as_deref(),
            415,
        ),
        (
            "no session",
            "application/x-www-form-urlencoded",
            csrf.clone(),
            None,
            303,
        ),
    ];
    for path in &forms {
        for (what, content_type, body, cookie, status) in &cases {
            let before = l.stream_count().await;
            let mut r = b.http.post(format!("{}{path}", b.base)).body(body.clone());
            if !content_type.is_empty() {
                r = r.header(reqwest::header::CONTENT_TYPE, *content_type);
            }
            if let Some(c) = cookie {
                r = r.header(COOKIE, *c);
            }
            let r = r.send().await.unwrap();
            let got = r.status().as_u16();
            let text = r.text().await.unwrap();
            assert_eq!(got, *status, "{path}, {what}: {text}");
            if *status != 303 {
                assert!(
                    text.contains("role=\"alert\""),
                    "{path}, {what}: an error page: {text}"
                );
            }
            assert_eq!(
                l.stream_count().await,
                before,
                "{path}, {what}: nothing appended"
            );
        }
    }
}

/// A page's filters and period are read as strictly as the API reads them:
/// a month that is not one, a period the wrong way round, a grade or state
/// that does not exist, another hospital's department — each is a 422 page
/// naming the parameter, not a silently empty or silently different list.
#[tokio::test]
async fn staff_pages_refuse_bad_filters_by_name() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let mut officer = Browser::new(&l);
    officer.sign_in(&l.officer("H1").await).await;
    let mut qc = Browser::new(&l);
    qc.sign_in(&l.qc_centre("R1").await).await;
    let cases: [(&Browser, &str, &str); 12] = [
        (&officer, "/staff/reports?from=2026-13", "/from"),
        (&officer, "/staff/reports?from=2026-10&to=2026-01", "/to"),
        (&officer, "/staff/reports?grade=V", "/grade"),
        (&officer, "/staff/reports?category=gossip", "/category"),
        (&officer, "/staff/reports?state=lost", "/state"),
        (&officer, "/staff/reports?department=NOPE", "/department"),
        (&officer, "/staff/deaths?month=October", "/month"),
        (&officer, "/staff/deaths?state=asleep", "/state"),
        (&officer, "/staff/rca?state=asleep", "/state"),
        (&officer, "/staff/meeting?month=2026-1", "/month"),
        (&qc, "/staff/dashboard?to=20261", "/to"),
        (&qc, "/staff/dashboard.csv?from=2026-11&to=2026-01", "/to"),
    ];
    for (who, path, pointer) in cases {
        let (s, page, _) = who.get(path).await;
        assert_eq!(s.as_u16(), 422, "{path}: {page}");
        assert!(
            page.contains("role=\"alert\"") && page.contains(pointer),
            "{path}: {pointer} named on the page: {page}"
        );
    }
    // And a good filter still answers.
    let (s, _, _) = officer
        .get("/staff/reports?grade=I&state=received&department=ICU")
        .await;
    assert_eq!(s, StatusCode::OK);
}

/// QC actions from the staff pages: the QC centre sends a rectification
/// notice to a hospital of its region, the hospital's safety officer finds
/// it in its workspace and answers, the QC centre carries and closes it —
/// each form through the meeting service, each refusal shown on the page.
#[tokio::test]
async fn qc_actions_are_sent_answered_and_closed_from_the_staff_pages() {
    let l = Lantern::with_hospitals(&["H1", "H2"]).await;
    let mut qc = Browser::new(&l);
    qc.sign_in(&l.qc_centre("R1").await).await;
    let (s, page, _) = qc.get("/staff/follow-ups").await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("fu-hospital") && page.contains("H2"),
        "the region's hospitals: {page}"
    );
    let month = clock::current_month();
    let due = clock::date_in(14);
    qc.refused(
        "/staff/follow-ups",
        &[
            ("hospital", "H1"),
            ("kind", "rectification"),
            ("title", ""),
            ("text", "请整改"),
            ("due", &due),
        ],
        422,
        "/title",
    )
    .await;
    let (opened, loc) = qc
        .lands(
            "/staff/follow-ups",
            &[
                ("hospital", "H1"),
                ("kind", "rectification"),
                ("title", "夜间跌倒整改"),
                ("text", "请提交夜间巡视整改方案。"),
                ("due", &due),
                ("meeting", &month),
            ],
            "followup.opened",
        )
        .await;
    // Under the QC centre's scope, addressed to H1 (DESIGN "Deployment
    // tiers": the hospital's Lantern sources it from the hub).
    assert_eq!(opened["hospital"], "R1~H1");
    assert_eq!(opened["data"]["meeting"], month.as_str());
    let item = loc.split('?').next().unwrap().to_owned();

    // The hospital's officer: in its workspace, answers; H2's does not see it.
    let mut so = Browser::new(&l);
    so.sign_in(&l.officer("H1").await).await;
    let (s, page, _) = so.get("/staff/follow-ups").await;
    assert!(s == 200 && page.contains("夜间跌倒整改"), "{page}");
    assert!(
        !page.contains("fu-hospital"),
        "a hospital does not send items"
    );
    let mut other = Browser::new(&l);
    other.sign_in(&l.officer("H2").await).await;
    let (_, page, _) = other.get("/staff/follow-ups").await;
    assert!(!page.contains("夜间跌倒整改"), "{page}");
    assert_eq!(other.get(&item).await.0, 403);
    so.refused(&format!("{item}/answer"), &[("text", " ")], 422, "/text")
        .await;
    so.lands(
        &format!("{item}/answer"),
        &[("text", "已执行每 2 小时巡视")],
        "followup.answered",
    )
    .await;

    // The QC centre carries it on, then closes it.
    qc.refused(
        &format!("{item}/carry"),
        &[("to_meeting", &month)],
        422,
        "/to_meeting",
    )
    .await;
    let next = {
        let (y, m) = month.split_once('-').unwrap();
        let (y, m): (i32, u32) = (y.parse().unwrap(), m.parse().unwrap());
        if m == 12 {
            format!("{}-01", y + 1)
        } else {
            format!("{y}-{:02}", m + 1)
        }
    };
    qc.lands(
        &format!("{item}/carry"),
        &[("to_meeting", &next)],
        "followup.carried",
    )
    .await;
    let (closed, loc) = qc
        .lands(
            &format!("{item}/close"),
            &[("outcome", "resolved"), ("note", "已落实")],
            "followup.closed",
        )
        .await;
    assert_eq!(closed["data"]["outcome"], "resolved");
    let (s, page, _) = so.get(&loc).await;
    assert!(
        s == 200 && page.contains("已办结") && page.contains("已执行每 2 小时巡视"),
        "{page}"
    );
    assert!(!page.contains("fa-text"), "a closed item takes no answer");
}

/// A QC centre opens a low-risk death of its region from the region pack
/// and records its own review (level qc_centre) from the staff pages; the
/// hospital's own steps (autopsy, close) are not offered to it.
#[tokio::test]
async fn a_qc_centre_reviews_a_death_from_the_staff_pages() {
    let l = Lantern::with_hospitals(&["H1"]).await;
    let so = l.officer("H1").await;
    let (s, d) = l
        .post(
            "/api/v1/deaths",
            Some(&so),
            &json!({"hospital": "H1", "department": "ICU",
            "admitted_at": clock::rfc3339_in(-5 * 86400), "died_at": clock::rfc3339_in(-86400),
            "age_band": "40-49", "diagnosis_icd10": "K35.8", "low_risk": true, "autopsy": true}),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    let id = d["death_id"].as_str().unwrap().to_owned();
    let mut qc = Browser::new(&l);
    qc.sign_in(&l.qc_centre("R1").await).await;
    let (s, pack, _) = qc
        .get(&format!("/staff/meeting/{}", clock::current_month()))
        .await;
    assert_eq!(s, 200);
    assert!(
        pack.contains(&format!("/staff/deaths/{id}")),
        "the pack links the trail: {pack}"
    );
    let (s, page, _) = qc.get(&format!("/staff/deaths/{id}")).await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("value=\"qc_centre\"") && !page.contains("value=\"hospital\""),
        "its own level only"
    );
    assert!(
        !page.contains("/autopsy\"") && !page.contains("/close\""),
        "the hospital's steps are not offered"
    );
    let held = clock::local_rfc3339_in(-600);
    let (event, _) = qc
        .lands(
            &format!("/staff/deaths/{id}/reviews"),
            &[
                ("held_at", &held[..16]),
                ("level", "qc_centre"),
                ("attendee_roles", "质控中心专家"),
                ("preventability", "possibly_avoidable"),
                ("phase_0", "diagnosis"),
                ("defect_0", "腹痛鉴别不足"),
            ],
            "death.review_held",
        )
        .await;
    assert_eq!(event["data"]["level"], "qc_centre");
}
