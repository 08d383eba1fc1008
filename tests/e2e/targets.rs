//! Targets as data (DESIGN "Figures"): set by an event for the country, a
//! region or a hospital and a year, with their history; the rates judge
//! each hospital against the one that applies to it; a caller sets only
//! what its scope holds; the staff page sets one too.

use crate::support::{ADMIN, Lantern, clock};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

fn this_year() -> u64 {
    clock::current_month()[..4].parse().unwrap()
}

fn report(hospital: &str) -> Value {
    json!({"hospital": hospital, "department": "ICU", "occurred_at": clock::rfc3339_in(-3600),
           "grade": "III", "category": "fall", "harm": "none", "description": "送错饮食"})
}

/// Sets a target; returns its stream sequence.
async fn set(l: &Lantern, token: &str, body: Value) -> u64 {
    let (s, b) = l.post("/api/v1/targets", Some(token), &body).await;
    assert_eq!(s, StatusCode::CREATED, "{body}: {b}");
    b["seq"].as_u64().unwrap()
}

/// The row of `code` (hospital or region) in a rates answer.
fn row<'a>(rates: &'a Value, key: &str, code: &str) -> &'a Value {
    rates["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[key] == code)
        .unwrap_or_else(|| panic!("no row of {code}: {rates}"))
}

/// The reporting rate's entry of a targets answer.
fn reporting_rate(targets: &Value) -> &Value {
    targets["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"] == "reporting_rate")
        .unwrap()
}

#[tokio::test]
async fn targets_set_for_the_country_a_region_and_a_hospital_judge_each_hospital_s_rate() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    l.hospital("H2", "R1", &["ICU"]).await;
    l.hospital("H3", "R2", &["ICU"]).await;
    let (so1, so2) = (l.officer("H1").await, l.officer("H2").await);
    let (qc1, qc2) = (l.qc_centre("R1").await, l.qc_centre("R2").await);
    let year = this_year();
    let month = clock::current_month();

    // Given H1 and H2 at 3 reports per 100 discharges this month.
    for (so, h) in [(&so1, "H1"), (&so2, "H2")] {
        for _ in 0..3 {
            let (s, b) = l.post("/api/v1/reports", None, &report(h)).await;
            assert_eq!(s, 201, "{b}");
        }
        let (s, b) = l
            .post(
                "/api/v1/census",
                Some(so),
                &json!({"hospital": h, "department": "ICU", "month": month, "discharges": 100}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }

    // Nothing set: the built-in 2.5, higher is better, met by 3.0.
    let (s, t) = l.get("/api/v1/targets?hospital=H1", Some(&so1)).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["year"], year);
    assert_eq!(
        reporting_rate(&t)["applies"],
        json!({"scope": "national", "code": null, "value": 2.5, "direction": "higher", "built_in": true})
    );
    let others = &t["indicators"].as_array().unwrap()[1..];
    assert_eq!(others.len(), 7, "{t}");
    assert!(others.iter().all(|i| i["applies"].is_null()), "{t}");

    // When the administrator sets a national default of 2.0, the QC centre
    // of R1 its region's 3.5 (first 4.0, then corrected) and H1's safety
    // officer H1's own 2.8 …
    set(
        &l,
        ADMIN,
        json!({"indicator": "reporting_rate", "scope": "national", "year": year, "value": 2.0}),
    )
    .await;
    set(&l, &qc1, json!({"indicator": "reporting_rate", "scope": "region", "code": "R1", "year": year, "value": 4}))
        .await;
    set(&l, &qc1, json!({"indicator": "reporting_rate", "scope": "region", "code": "R1", "year": year, "value": 3.5}))
        .await;
    let (s, h1) = l
        .post(
            "/api/v1/targets",
            Some(&so1),
            &json!({"indicator": "reporting_rate", "scope": "hospital", "code": "H1", "year": year, "value": 2.8}),
        )
        .await;
    assert_eq!(s, 201, "{h1}");
    assert_eq!(
        h1["target"],
        json!({"indicator": "reporting_rate", "scope": "hospital", "code": "H1", "year": year,
               "value": 2.8, "direction": "higher"}),
        "the direction defaults to the indicator's"
    );
    let after = h1["seq"].as_u64().unwrap();
    // … and a lower-is-better share for the region.
    let (s, share) = l
        .post(
            "/api/v1/targets",
            Some(&qc1),
            &json!({"indicator": "serious_share", "scope": "region", "code": "R1", "year": year, "value": 10}),
        )
        .await;
    assert_eq!(s, 201, "{share}");
    assert_eq!(share["target"]["direction"], "lower");

    // Then H1's rate is judged against its own target, H2's against the
    // region's, H3's against the national one; a department row carries
    // its hospital's target and is not judged.
    let q = format!("/api/v1/rates?from={month}&to={month}&by=hospital&after={after}");
    let (s, rates) = l.get(&q, Some(&qc1)).await;
    assert_eq!(s, 200, "{rates}");
    assert_eq!(rates["target_per_100_discharges"], 2.0, "the national one");
    let h1 = row(&rates, "hospital", "H1");
    assert_eq!(
        (
            h1["per_100_discharges"].clone(),
            h1["target_per_100_discharges"].clone(),
            h1["meets_target"].clone()
        ),
        (json!(3.0), json!(2.8), json!(true)),
        "{h1}"
    );
    let h2 = row(&rates, "hospital", "H2");
    assert_eq!(
        (
            h2["target_per_100_discharges"].clone(),
            h2["meets_target"].clone()
        ),
        (json!(3.5), json!(false)),
        "{h2}"
    );
    let (s, rates) = l
        .get(&q.replace("by=hospital", "by=department"), Some(&so2))
        .await;
    assert_eq!(s, 200, "{rates}");
    let icu = row(&rates, "hospital", "H2");
    assert_eq!(icu["target_per_100_discharges"], 3.5, "{icu}");
    assert_eq!(icu["meets_target"], Value::Null, "{icu}");
    let (s, rates) = l
        .get(&q.replace("by=hospital", "by=region"), Some(&qc1))
        .await;
    assert_eq!(s, 200, "{rates}");
    let r1 = row(&rates, "region", "R1");
    assert_eq!(
        (
            r1["per_100_discharges"].clone(),
            r1["target_per_100_discharges"].clone(),
            r1["meets_target"].clone()
        ),
        (json!(3.0), json!(3.5), json!(false)),
        "{r1}"
    );
    let (s, rates) = l.get(&q, Some(&qc2)).await;
    assert_eq!(s, 200, "{rates}");
    let h3 = row(&rates, "hospital", "H3");
    assert_eq!(h3["target_per_100_discharges"], 2.0, "{h3}");
    assert_eq!(h3["meets_target"], Value::Null, "no census, no rate: {h3}");

    // The monthly packs judge likewise: H1's pack against H1's target, the
    // region pack against the region's, each hospital's row against its own.
    let (s, pack) = l
        .get(
            &format!("/api/v1/meetings/{month}?hospital=H1&after={after}"),
            Some(&so1),
        )
        .await;
    assert_eq!(s, 200, "{pack}");
    assert_eq!(pack["reporting_rate"]["target"], 2.8, "{pack}");
    let (s, pack) = l
        .get(
            &format!("/api/v1/meetings/{month}?region=R1&after={after}"),
            Some(&qc1),
        )
        .await;
    assert_eq!(s, 200, "{pack}");
    assert_eq!(pack["reporting_rate"]["target"], 3.5);
    let rows: Vec<_> = pack["hospitals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["hospital"].as_str().unwrap(),
                h["target"].as_f64().unwrap(),
                h["meets_target"].as_bool(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [("H2", 3.5, Some(false)), ("H1", 2.8, Some(true))],
        "worst first"
    );

    // The history of H1's reporting-rate target lists every set of its
    // scopes, in order; the replaced region set is not current; the one
    // that applies is H1's.
    let (s, t) = l.get("/api/v1/targets?hospital=H1", Some(&so1)).await;
    assert_eq!(s, 200, "{t}");
    let rr = reporting_rate(&t);
    assert_eq!(
        rr["applies"],
        json!({"scope": "hospital", "code": "H1", "value": 2.8, "direction": "higher", "built_in": false})
    );
    let history: Vec<_> = rr["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["scope"].as_str().unwrap(),
                h["value"].as_f64().unwrap(),
                h["current"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("national", 2.0, true),
            ("region", 4.0, false),
            ("region", 3.5, true),
            ("hospital", 2.8, true)
        ]
    );
    // H2 sees the region's, never H1's own.
    let (s, t) = l.get("/api/v1/targets", Some(&so2)).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["hospital"], "H2");
    assert_eq!(reporting_rate(&t)["applies"]["value"], 3.5);
    assert_eq!(reporting_rate(&t)["history"].as_array().unwrap().len(), 3);
    // A year nobody set has the built-in default again.
    let (s, t) = l
        .get(
            &format!("/api/v1/targets?hospital=H1&year={}", year + 1),
            Some(&qc1),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(reporting_rate(&t)["applies"]["built_in"], true);
}

#[tokio::test]
async fn a_caller_sets_only_targets_of_its_scope_and_bad_values_append_nothing() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    l.hospital("H2", "R1", &["ICU"]).await;
    l.hospital("H3", "R2", &["ICU"]).await;
    let so1 = l.officer("H1").await;
    let (qc1, qc2) = (l.qc_centre("R1").await, l.qc_centre("R2").await);
    let lis = l.token(json!({"role": "lis", "hospital": "H1"})).await;
    let year = this_year();
    let body = |scope: &str, code: Option<&str>| {
        let mut b =
            json!({"indicator": "death_review_on_time", "scope": scope, "year": year, "value": 95});
        if let Some(c) = code {
            b["code"] = json!(c);
        }
        b
    };

    // Refused for scope: 403, nothing appended.
    for (who, token, b) in [
        (
            "a QC centre, for another region",
            &qc2,
            body("region", Some("R1")),
        ),
        (
            "a QC centre, for another region's hospital",
            &qc2,
            body("hospital", Some("H1")),
        ),
        ("a QC centre, nationally", &qc1, body("national", None)),
        (
            "a safety officer, for another hospital",
            &so1,
            body("hospital", Some("H2")),
        ),
        (
            "a safety officer, for its region",
            &so1,
            body("region", Some("R1")),
        ),
        ("a lab system", &lis, body("hospital", Some("H1"))),
    ] {
        let before = l.stream_count().await;
        let (s, b) = l.post("/api/v1/targets", Some(token), &b).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}: {b}");
        assert_eq!(l.stream_count().await, before, "{who}: nothing appended");
    }
    let (s, _) = l
        .post("/api/v1/targets", None, &body("national", None))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Refused for a bad field: 422 naming it, nothing appended.
    let with = |field: &str, value: Value| {
        let mut b = body("hospital", Some("H1"));
        b[field] = value;
        b
    };
    let qc1 = qc1.as_str();
    for (why, token, b, pointer) in [
        (
            "a per cent over 100",
            qc1,
            with("value", json!(100.5)),
            "/value",
        ),
        (
            "a negative per cent",
            qc1,
            with("value", json!(-1)),
            "/value",
        ),
        (
            "a negative rate",
            qc1,
            json!({"indicator": "reporting_rate", "scope": "hospital", "code": "H1", "year": year, "value": -0.5}),
            "/value",
        ),
        ("three decimals", qc1, with("value", json!(2.555)), "/value"),
        (
            "a year before 2000",
            qc1,
            with("year", json!(1999)),
            "/year",
        ),
        ("a year after 2100", qc1, with("year", json!(2101)), "/year"),
        (
            "an unknown hospital",
            ADMIN,
            body("hospital", Some("H9")),
            "/code",
        ),
        (
            "an unknown region",
            ADMIN,
            body("region", Some("R9")),
            "/code",
        ),
        (
            "a region without its code",
            ADMIN,
            body("region", None),
            "/code",
        ),
        (
            "a national target with a code",
            ADMIN,
            body("national", Some("R1")),
            "/code",
        ),
        (
            "an unknown indicator",
            ADMIN,
            with("indicator", json!("mortality")),
            "/indicator",
        ),
        (
            "an unknown direction",
            ADMIN,
            with("direction", json!("up")),
            "/direction",
        ),
    ] {
        let before = l.stream_count().await;
        let (s, b) = l.post("/api/v1/targets", Some(token), &b).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {b}");
        let pointers: Vec<_> = b["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["pointer"].as_str().unwrap())
            .collect();
        assert_eq!(pointers, [pointer], "{why}: {b}");
        assert_eq!(l.stream_count().await, before, "{why}: nothing appended");
    }

    // Allowed: the QC centre for a hospital of its region, the safety
    // officer for its own, the administrator for another region; a retry
    // with the same Idempotency-Key appends nothing more.
    set(&l, qc1, body("hospital", Some("H2"))).await;
    set(&l, &so1, body("hospital", Some("H1"))).await;
    set(&l, ADMIN, body("region", Some("R2"))).await;
    let before = l.stream_count().await;
    let b = body("region", Some("R1"));
    let (s, first) = l.post_key("/api/v1/targets", Some(qc1), "t-1", &b).await;
    assert_eq!(s, 201, "{first}");
    let (s, again) = l.post_key("/api/v1/targets", Some(qc1), "t-1", &b).await;
    assert_eq!(s, 201, "{again}");
    assert_eq!(first, again);
    assert_eq!(l.stream_count().await, before + 1);

    // Reading is scoped the same way.
    for (who, token, q) in [
        ("a safety officer, another hospital", &so1, "?hospital=H2"),
        ("a QC centre, another region", &qc2, "?region=R1"),
        (
            "a QC centre, another region's hospital",
            &qc2,
            "?hospital=H1",
        ),
        ("a lab system", &lis, ""),
    ] {
        let (s, b) = l.get(&format!("/api/v1/targets{q}"), Some(token)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}: {b}");
    }
    let (s, b) = l.get("/api/v1/targets?year=1999", Some(qc1)).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["pointer"], "/year");
    let (s, b) = l.get("/api/v1/targets?hospital=H9", Some(ADMIN)).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["pointer"], "/hospital");
    let (s, t) = l.get("/api/v1/targets?region=R1", Some(qc1)).await;
    assert_eq!(s, 200, "{t}");
    let death = t["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"] == "death_review_on_time")
        .unwrap();
    assert_eq!(death["applies"]["scope"], "region", "{death}");
    assert_eq!(death["unit"], "percent");
}

/// A browser-like client that does not follow redirects and keeps the
/// session cookie and the page's CSRF token (as `web::Browser` does).
struct Page<'l> {
    l: &'l Lantern,
    http: reqwest::Client,
    cookie: String,
    csrf: String,
}

impl<'l> Page<'l> {
    async fn signed_in(l: &'l Lantern, token: &str) -> Page<'l> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http
            .post(format!("{}/staff/sign-in", l.base))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let set = r.headers()[SET_COOKIE].to_str().unwrap();
        let mut page = Page {
            l,
            http,
            cookie: set.split(';').next().unwrap().to_owned(),
            csrf: String::new(),
        };
        let (s, body, _) = page.get("/staff/targets").await;
        assert_eq!(s, 200, "{body}");
        let field = "name=\"csrf\" value=\"";
        let at = body.find(field).unwrap() + field.len();
        page.csrf = body[at..].split('"').next().unwrap().to_owned();
        page
    }

    async fn get(&self, path: &str) -> (StatusCode, String, Option<String>) {
        let r = self
            .http
            .get(format!("{}{path}", self.l.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        let to = r
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        (r.status(), r.text().await.unwrap(), to)
    }

    /// Posts the form with the session's CSRF token (unless `forged`);
    /// returns the status, the page and where it redirects, and checks how
    /// many events it appended.
    async fn post(
        &self,
        form: &[(&str, &str)],
        forged: bool,
        appends: u64,
    ) -> (StatusCode, String, Option<String>) {
        let before = self.l.stream_count().await;
        let mut pairs = vec![("csrf", if forged { "forged" } else { self.csrf.as_str() })];
        pairs.extend_from_slice(form);
        let r = self
            .http
            .post(format!("{}/staff/targets", self.l.base))
            .header(COOKIE, &self.cookie)
            .form(&pairs)
            .send()
            .await
            .unwrap();
        let to = r
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let out = (r.status(), r.text().await.unwrap(), to);
        assert_eq!(
            self.l.stream_count().await,
            before + appends,
            "{form:?}: {}",
            out.1
        );
        out
    }
}

#[tokio::test]
async fn the_staff_page_shows_the_targets_that_apply_and_sets_one() {
    let l = Lantern::start().await;
    l.hospital("H1", "R1", &["ICU"]).await;
    l.hospital("H2", "R1", &["ICU"]).await;
    l.hospital("H3", "R2", &["ICU"]).await;
    let qc = Page::signed_in(&l, &l.qc_centre("R1").await).await;
    let year = this_year().to_string();

    // The QC centre's page: its region's targets, the built-in reporting
    // rate, a link in the navigation, the form.
    let (s, page, _) = qc.get("/staff/targets?lang=en").await;
    assert_eq!(s, 200, "{page}");
    for shown in [
        "href=\"/staff/targets\"",
        "Targets — Region R1",
        "built-in default (none set)",
        "id=\"t-cl14_notification_rate\"",
        "action=\"/staff/targets\"",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }

    // When it sets 95 % for H2's CL-14 rate, the page of H2 shows it.
    let form = |code: &'static str, value: &'static str| {
        vec![
            ("indicator", "cl14_notification_rate"),
            ("scope", "hospital"),
            ("code", code),
            ("year", year.as_str()),
            ("value", value),
            ("direction", ""),
        ]
    };
    let (s, page, to) = qc.post(&form("H2", "95"), false, 1).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{page}");
    let to = to.unwrap();
    assert!(
        to.starts_with(&format!("/staff/targets?year={year}&hospital=H2&after=")),
        "{to}"
    );
    let (s, page, _) = qc.get(&format!("{to}&lang=en")).await;
    assert_eq!(s, 200, "{page}");
    let row = page
        .split("id=\"t-cl14_notification_rate\"")
        .nth(1)
        .unwrap();
    let row = row.split("</tr>").next().unwrap();
    assert!(row.contains(">95<") && row.contains("Hospital H2"), "{row}");
    assert!(page.contains("Saved."), "{page}");
    let (s, stored) = l
        .get(
            &format!("/api/v1/targets?hospital=H2&year={year}"),
            Some(ADMIN),
        )
        .await;
    assert_eq!(s, 200);
    let cl14 = &stored["indicators"][5];
    assert_eq!(cl14["indicator"], "cl14_notification_rate");
    assert_eq!(cl14["applies"]["value"], 95);

    // A value the API refuses is shown on the page, naming the field; a
    // hospital of another region is out of scope; a forged form is refused.
    let (s, page, _) = qc.post(&form("H2", "101"), false, 0).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(
        page.contains("role=\"alert\"") && page.contains("/value"),
        "{page}"
    );
    let (s, page, _) = qc.post(&form("H2", "abc"), false, 0).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    let (s, page, _) = qc.post(&form("H3", "95"), false, 0).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{page}");
    let (s, page, _) = qc.post(&form("H2", "96"), true, 0).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{page}");

    // The safety officer of H1 sets its own hospital's from its page; the
    // administrator a national target from theirs.
    let so = Page::signed_in(&l, &l.officer("H1").await).await;
    let (s, page, _) = so.post(&form("H1", "90.5"), false, 1).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{page}");
    let admin = Page::signed_in(&l, ADMIN).await;
    let national = vec![
        ("indicator", "reporting_rate"),
        ("scope", "national"),
        ("code", ""),
        ("year", year.as_str()),
        ("value", "3,0"),
        ("direction", ""),
    ];
    let (s, page, to) = admin.post(&national, false, 1).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{page}");
    let (s, page, _) = admin.get(&format!("{}&lang=en", to.unwrap())).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Targets — National"), "{page}");
    let row = page.split("id=\"t-reporting_rate\"").nth(1).unwrap();
    let row = row.split("</tr>").next().unwrap();
    assert!(
        row.contains(">3<") && row.contains("higher is better"),
        "{row}"
    );
}
