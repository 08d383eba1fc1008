//! Harness for the end-to-end tests: a real nats-server and the real `lantern`
//! binary as a child process, so a test can stop, kill and restart either.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use lantern_testkit::NatsServer;
use reqwest::StatusCode;
use serde_json::Value;

/// The admin token every harness starts with.
pub const ADMIN: &str = "e2e-admin-token";

/// The `lantern` binary under test, built by Cargo for this test target.
pub fn lantern_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lantern"))
}

/// A running Lantern (`lantern serve`) on its own nats-server and data dir.
pub struct Lantern {
    /// The broker.
    pub nats: NatsServer,
    /// The data dir (read models, secret).
    pub data: tempfile::TempDir,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    port: u16,
    /// The operations address's port (`/metrics`).
    ops_port: u16,
    child: Option<Child>,
    log: PathBuf,
    http: reqwest::Client,
    /// Extra environment of `lantern` commands (see [`Lantern::start_with`]).
    env: Vec<(String, String)>,
}

impl Lantern {
    /// Starts nats-server and `lantern serve`, and waits until ready.
    pub async fn start() -> Lantern {
        Lantern::start_with(&[]).await
    }

    /// As [`Lantern::start`], with extra environment for every `lantern`
    /// command this instance runs.
    pub async fn start_with(env: &[(&str, &str)]) -> Lantern {
        Lantern::start_on(NatsServer::start(), env).await
    }

    /// As [`Lantern::start_with`], on a nats-server the caller started (a
    /// region's hub, a hospital's leaf node), which it then owns.
    pub async fn start_on(nats: NatsServer, env: &[(&str, &str)]) -> Lantern {
        let data = tempfile::Builder::new()
            .prefix("lantern-e2e-")
            .tempdir()
            .unwrap();
        let port = lantern_testkit::free_port();
        let ops_port = lantern_testkit::free_port();
        let log = data.path().join("lantern.log");
        let mut l = Lantern {
            nats,
            base: format!("http://127.0.0.1:{port}"),
            port,
            ops_port,
            data,
            child: None,
            log,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        l.spawn().await;
        l
    }

    /// Starts with hospitals `codes`, each in region R1 with an ICU: the
    /// usual ground for checking that one hospital's staff cannot reach
    /// another's records.
    pub async fn with_hospitals(codes: &[&str]) -> Lantern {
        let l = Lantern::start().await;
        for code in codes {
            l.hospital(code, "R1", &["ICU"]).await;
        }
        l
    }

    /// A `lantern` command with this instance's environment.
    pub fn command(&self) -> Command {
        let mut c = Command::new(lantern_bin());
        // NATS_URL, NATS_USER, NATS_PASSWORD: the server is not open.
        c.envs(self.nats.env())
            .env("LANTERN_DATA_DIR", self.data.path().join("var"))
            .env("LANTERN_HTTP_ADDR", format!("127.0.0.1:{}", self.port))
            .env("LANTERN_OPS_ADDR", format!("127.0.0.1:{}", self.ops_port))
            .env("LANTERN_ADMIN_TOKEN", ADMIN)
            .env("RUST_LOG", "info");
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = self
            .command()
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn lantern serve");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!("lantern exited with {status}:\n{}", self.log_text());
            }
            if let Ok(r) = self.http.get(format!("{}/readyz", self.base)).send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "lantern not ready in 60 s:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Everything the process logged.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the process gracefully (SIGTERM) and waits.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kills the process with SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the process again on the same broker and data dir.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().await;
    }

    /// Runs `lantern <args>` to completion and returns its stdout.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().expect("run lantern");
        assert!(
            out.status.success(),
            "lantern {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// A request builder with an optional bearer token.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r
    }

    /// POSTs JSON; returns status and body (JSON, or a string).
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let r = self
            .request(reqwest::Method::POST, path, token)
            .json(body)
            .send()
            .await
            .unwrap();
        decode(r).await
    }

    /// POSTs JSON with an Idempotency-Key.
    pub async fn post_key(
        &self,
        path: &str,
        token: Option<&str>,
        key: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        let r = self
            .request(reqwest::Method::POST, path, token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap();
        decode(r).await
    }

    /// A page as a browser asks for it (`Accept: text/html`): its text,
    /// after asserting a 200 in HTML.
    pub async fn get_html(&self, path: &str, token: Option<&str>) -> String {
        let r = self
            .request(reqwest::Method::GET, path, token)
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let html = r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html");
        assert!(html, "{path}: {:?}", r.headers()["content-type"]);
        r.text().await.unwrap()
    }

    /// GETs; returns status and body.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let r = self
            .request(reqwest::Method::GET, path, token)
            .send()
            .await
            .unwrap();
        decode(r).await
    }

    /// `/metrics`, from the operations address.
    pub async fn ops_metrics(&self) -> String {
        self.http
            .get(format!("http://127.0.0.1:{}/metrics", self.ops_port))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The number of events in the stream.
    pub async fn stream_count(&self) -> u64 {
        let client = self.nats.client().await;
        let js = async_nats::jetstream::new(client);
        let mut stream = js.get_stream("LANTERN").await.unwrap();
        stream.info().await.unwrap().state.messages
    }

    /// Every stored message payload, in order.
    pub async fn stream_payloads(&self) -> Vec<Vec<u8>> {
        let client = self.nats.client().await;
        let js = async_nats::jetstream::new(client);
        let stream = js.get_stream("LANTERN").await.unwrap();
        let n = self.stream_count().await;
        let mut out = Vec::new();
        for seq in 1..=n {
            out.push(stream.get_raw_message(seq).await.unwrap().payload.to_vec());
        }
        out
    }

    /// Where the events of these aggregates stand in the stream: sequence,
    /// time, `Nats-Msg-Id` and event id of each, one per line.
    pub async fn describe_in_stream(&self, aggregates: &[&String]) -> String {
        let client = self.nats.client().await;
        let js = async_nats::jetstream::new(client);
        let stream = js.get_stream("LANTERN").await.unwrap();
        let mut out = String::new();
        for seq in 1..=self.stream_count().await {
            let m = stream.get_raw_message(seq).await.unwrap();
            let e: serde_json::Value = serde_json::from_slice(&m.payload).unwrap_or_default();
            if aggregates.iter().any(|a| e["aggregate"] == a.as_str()) {
                let msg_id = m
                    .headers
                    .get(async_nats::header::NATS_MESSAGE_ID)
                    .map(|v| v.as_str().to_owned());
                out.push_str(&format!(
                    "\nseq {seq} at {} msg id {msg_id:?} event {} aggregate {}",
                    m.time, e["id"], e["aggregate"]
                ));
            }
        }
        out
    }

    /// Registers a hospital and its departments; returns the last seq.
    pub async fn hospital(&self, code: &str, region: &str, departments: &[&str]) -> u64 {
        let (s, b) = self
            .post(
                "/api/v1/admin/hospitals",
                Some(ADMIN),
                &serde_json::json!({"code": code, "name": format!("{code} 医院"), "region": region, "level": "tertiary"}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let mut seq = b["seq"].as_u64().unwrap();
        for d in departments {
            let (s, b) = self
                .post(
                    &format!("/api/v1/admin/hospitals/{code}/departments"),
                    Some(ADMIN),
                    &serde_json::json!({"code": d, "name": format!("{d} 科")}),
                )
                .await;
            assert_eq!(s, 201, "{b}");
            seq = b["seq"].as_u64().unwrap();
        }
        seq
    }

    /// Issues a token; returns it.
    pub async fn token(&self, body: Value) -> String {
        let (s, b) = self.post("/api/v1/admin/tokens", Some(ADMIN), &body).await;
        assert_eq!(s, 201, "{b}");
        b["token"].as_str().unwrap().to_owned()
    }

    /// A token of `hospital`'s safety officer.
    pub async fn officer(&self, hospital: &str) -> String {
        self.token(serde_json::json!({"role": "safety_officer", "hospital": hospital}))
            .await
    }

    /// A token of `region`'s QC centre.
    pub async fn qc_centre(&self, region: &str) -> String {
        self.token(serde_json::json!({"role": "qc_centre", "region": region}))
            .await
    }
}

impl Drop for Lantern {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn decode(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Prints `html` to a PDF with headless Chromium (Debian's package) as a
/// person would from the browser, in `dir/<name>.pdf`; returns the PDF's
/// path and its text (`pdftotext -layout`).
pub fn print_to_pdf(dir: &std::path::Path, name: &str, html: &str) -> (PathBuf, String) {
    let page = dir.join(format!("{name}.html"));
    std::fs::write(&page, html).unwrap();
    let pdf = dir.join(format!("{name}.pdf"));
    let chromium = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.join(format!("chromium-{name}")).display()
        ))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium (Debian's package; `make test` installs it via scripts/browser.sh)");
    assert!(
        pdf.exists(),
        "chromium printed no PDF: {}",
        String::from_utf8_lossy(&chromium.stderr)
    );
    let text = Command::new("pdftotext")
        .arg("-layout")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    // The first page as a picture too, kept beside the PDF in target/ by
    // the tests that keep theirs: what a reader of the test output sees.
    let _ = Command::new("pdftoppm")
        .args(["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&pdf)
        .arg(dir.join(name))
        .status();
    (pdf, String::from_utf8_lossy(&text.stdout).into_owned())
}

/// Keeps a printed document of a test in `target/` (its PDF and the PNG
/// of its first page), for the record of a run.
pub fn keep_printed(pdf: &std::path::Path, name: &str) {
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let _ = std::fs::copy(pdf, target.join(format!("{name}.pdf")));
    let _ = std::fs::copy(
        pdf.with_extension("png"),
        target.join(format!("{name}.png")),
    );
}

/// Dates as the hospitals of these tests count them: Asia/Shanghai.
pub mod clock {
    use chrono::{TimeDelta, Utc};

    fn now() -> chrono::DateTime<chrono_tz::Tz> {
        Utc::now().with_timezone(&chrono_tz::Asia::Shanghai)
    }

    /// This month, `YYYY-MM`.
    pub fn current_month() -> String {
        now().format("%Y-%m").to_string()
    }

    /// Today plus `days`, `YYYY-MM-DD`.
    pub fn date_in(days: i64) -> String {
        (now() + TimeDelta::days(days))
            .format("%Y-%m-%d")
            .to_string()
    }

    /// Now plus `secs`, RFC 3339.
    pub fn rfc3339_in(secs: i64) -> String {
        (Utc::now() + TimeDelta::seconds(secs)).to_rfc3339()
    }

    /// Now plus `secs`, RFC 3339 in the hospitals' zone (+08:00): its first
    /// seven characters are the month the hospital counts it in.
    pub fn local_rfc3339_in(secs: i64) -> String {
        (now() + TimeDelta::seconds(secs)).to_rfc3339()
    }
}

/// The short reference a pack or list names the report or case `id` by.
pub fn short_ref(id: &impl std::fmt::Display) -> String {
    lantern_domain::ids::short_ref(uuid::Uuid::parse_str(&id.to_string()).unwrap())
}
