//! Driving load: raw JetStream publishes, the history loader, the HTTP
//! clients, the raw reader and the query loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use futures::StreamExt;
use lantern_ledger::Envelope;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::workload::{Item, Org, RawEvent};

/// A fake W3C traceparent of the size the intake attaches to every event.
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// A message ready to publish.
#[derive(Clone)]
pub struct Msg {
    /// Subject.
    pub subject: String,
    /// Msg id (de-duplication).
    pub id: String,
    /// Envelope bytes.
    pub payload: Bytes,
}

/// Wraps a raw event in an envelope as the ledger would; `now` replaces its
/// recorded_at (what an append through the intake would stamp).
pub fn seal(e: &RawEvent, now: bool) -> Msg {
    let envelope = Envelope {
        id: Uuid::now_v7(),
        event_type: e.event_type.to_owned(),
        // As the services write it today (report.filed is at version 2).
        version: lantern_domain::events::version_of(e.event_type).unwrap_or(1),
        aggregate: e.aggregate,
        hospital: e.hospital.clone(),
        recorded_at: if now {
            chrono::Utc::now()
        } else {
            e.recorded_at
        },
        trace: Some(TRACEPARENT.to_owned()),
        data: lantern_ledger::Data::from_value(&e.data),
    };
    Msg {
        subject: e.subject.clone(),
        id: envelope.id.to_string(),
        payload: serde_json::to_vec(&envelope).unwrap_or_default().into(),
    }
}

/// What a timed run measured.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// Events stored.
    pub events: u64,
    /// Wall time.
    pub secs: f64,
    /// Per-operation latencies, in milliseconds, sorted.
    pub latencies_ms: Vec<f64>,
    /// Refused or failed operations.
    pub errors: u64,
    /// The first few error messages.
    pub error_samples: Vec<String>,
}

impl Run {
    /// Events per second.
    pub fn per_s(&self) -> f64 {
        self.events as f64 / self.secs.max(1e-9)
    }

    /// The `q` quantile of the latencies (0 with none).
    pub fn quantile(&self, q: f64) -> f64 {
        quantile(&self.latencies_ms, q)
    }
}

/// The `q` quantile of sorted values (nearest rank).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn headers(id: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("traceparent", TRACEPARENT);
    h.insert(async_nats::header::NATS_MESSAGE_ID, id);
    h
}

/// A: `concurrency` publishers, each awaiting every PublishAck before its next.
pub async fn raw_publish(js: &jetstream::Context, msgs: Arc<Vec<Msg>>, concurrency: usize) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (js, msgs, next) = (js.clone(), msgs.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(m) = msgs.get(i) else { break };
                let t = Instant::now();
                let publish = PublishMessage::build()
                    .headers(headers(&m.id))
                    .payload(m.payload.clone());
                match async { js.send_publish(m.subject.clone(), publish).await?.await }.await {
                    Ok(_) => lat.push(t.elapsed().as_secs_f64() * 1e3),
                    Err(e) => errors.push(e.to_string()),
                }
            }
            (lat, errors)
        }));
    }
    collect(tasks, started).await
}

async fn collect(
    tasks: Vec<tokio::task::JoinHandle<(Vec<f64>, Vec<String>)>>,
    started: Instant,
) -> Run {
    let mut run = Run::default();
    for t in tasks {
        if let Ok((lat, errors)) = t.await {
            run.latencies_ms.extend(lat);
            run.errors += errors.len() as u64;
            for e in errors {
                if run.error_samples.len() < 5 {
                    run.error_samples.push(e);
                }
            }
        }
    }
    run.secs = started.elapsed().as_secs_f64();
    run.events = run.latencies_ms.len() as u64;
    run.latencies_ms.sort_by(f64::total_cmp);
    run
}

/// Publishes messages as atomic batches of up to `batch` (ADR-50): the
/// history loader, as a migration import would. Intermediate messages go
/// without a reply; the commit is acknowledged after the batch is stored.
pub async fn load_batches(
    client: &async_nats::Client,
    msgs: Vec<Msg>,
    batch: usize,
    in_flight: usize,
) -> Result<(), String> {
    let mut chunks = futures::stream::iter(
        msgs.chunks(batch.clamp(1, 1000))
            .map(<[Msg]>::to_vec)
            .collect::<Vec<_>>(),
    )
    .map(|chunk| {
        let client = client.clone();
        async move { publish_batch(&client, chunk).await }
    })
    .buffer_unordered(in_flight.max(1));
    while let Some(r) = chunks.next().await {
        r?;
    }
    Ok(())
}

async fn publish_batch(client: &async_nats::Client, chunk: Vec<Msg>) -> Result<(), String> {
    let batch_id = Uuid::now_v7().simple().to_string();
    let n = chunk.len();
    for (i, m) in chunk.into_iter().enumerate() {
        let mut h = headers(&m.id);
        h.insert(async_nats::header::NATS_BATCH_ID, batch_id.as_str());
        h.insert(
            async_nats::header::NATS_BATCH_SEQUENCE,
            (i + 1).to_string().as_str(),
        );
        if i + 1 < n {
            client
                .publish_with_headers(m.subject, h, m.payload)
                .await
                .map_err(|e| e.to_string())?;
        } else {
            h.insert(async_nats::header::NATS_BATCH_COMMIT, "1");
            let reply = tokio::time::timeout(
                Duration::from_secs(30),
                client.request_with_headers(m.subject, h, m.payload),
            )
            .await
            .map_err(|_| "batch commit timed out".to_owned())?
            .map_err(|e| e.to_string())?;
            let ack: Value = serde_json::from_slice(&reply.payload).map_err(|e| e.to_string())?;
            if ack.get("error").is_some() || ack.get("seq").is_none() {
                return Err(format!("batch refused: {ack}"));
            }
        }
    }
    Ok(())
}

/// C: reads the whole stream with an ordered consumer, payloads untouched.
pub async fn raw_read(stream: &jetstream::stream::Stream, last: u64) -> Result<Run, String> {
    use async_nats::jetstream::consumer::{DeliverPolicy, pull};
    let started = Instant::now();
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
    let mut n = 0u64;
    let mut bytes = 0usize;
    while n < last {
        match messages.next().await {
            Some(Ok(m)) => {
                bytes += m.payload.len();
                n += 1;
            }
            Some(Err(e)) => return Err(e.to_string()),
            None => break,
        }
    }
    std::hint::black_box(bytes);
    Ok(Run {
        events: n,
        secs: started.elapsed().as_secs_f64(),
        ..Run::default()
    })
}

/// The tokens the HTTP load uses.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    /// A `lis` token per hospital (critical values and census).
    pub lis: Vec<String>,
    /// A `qc_centre` token per region.
    pub qc: Vec<String>,
}

/// An HTTP client for `concurrency` parallel requests.
pub fn http_client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency + 8)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap_or_default()
}

async fn post(
    http: &reqwest::Client,
    url: String,
    token: Option<&str>,
    key: Option<String>,
    body: &Value,
) -> Result<Value, String> {
    let mut r = http.post(url).json(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    let resp = r.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| e.to_string())?;
    if status.as_u16() != 201 {
        return Err(format!(
            "{status}: {}",
            text.chars().take(300).collect::<String>()
        ));
    }
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// Registers every hospital and department and issues the tokens, through
/// the admin API (not timed).
pub async fn setup_org(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    org: &Org,
) -> Result<Tokens, String> {
    let org = Arc::new(org.clone());
    let results = futures::stream::iter(0..org.hospitals)
        .map(|h| {
            let (http, org) = (http.clone(), org.clone());
            let base = base.to_owned();
            let admin = admin.to_owned();
            async move {
                let code = org.hospital(h);
                post(
                    &http,
                    format!("{base}/api/v1/admin/hospitals"),
                    Some(&admin),
                    None,
                    &json!({"code": code, "name": format!("第{}人民医院", h + 1),
                            "region": org.region_of(h),
                            "level": if h % 3 == 0 { "tertiary" } else { "secondary" }}),
                )
                .await?;
                for d in 0..org.departments {
                    post(
                        &http,
                        format!("{base}/api/v1/admin/hospitals/{code}/departments"),
                        Some(&admin),
                        None,
                        &json!({"code": org.department(d), "name": org.department_name(d)}),
                    )
                    .await?;
                }
                let t = post(
                    &http,
                    format!("{base}/api/v1/admin/tokens"),
                    Some(&admin),
                    None,
                    &json!({"role": "lis", "hospital": code}),
                )
                .await?;
                Ok::<_, String>((h, t["token"].as_str().unwrap_or_default().to_owned()))
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    let mut tokens = Tokens {
        lis: vec![String::new(); org.hospitals],
        qc: Vec::new(),
    };
    for r in results {
        let (h, t) = r?;
        tokens.lis[h] = t;
    }
    for r in 0..org.regions() {
        let t = post(
            http,
            format!("{base}/api/v1/admin/tokens"),
            Some(admin),
            None,
            &json!({"role": "qc_centre", "region": format!("R{:02}", r + 1)}),
        )
        .await?;
        tokens
            .qc
            .push(t["token"].as_str().unwrap_or_default().to_owned());
    }
    Ok(tokens)
}

/// B: the items through the HTTP API, `concurrency` clients; each client
/// posts an item's requests in order (a loop's steps need its id).
pub async fn intake(
    http: &reqwest::Client,
    base: &str,
    tokens: &Tokens,
    items: Arc<Vec<Item>>,
    concurrency: usize,
) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let tokens = Arc::new(tokens.clone());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (http, items, next, tokens) =
            (http.clone(), items.clone(), next.clone(), tokens.clone());
        let base = base.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                if let Err(e) = post_item(&http, &base, &tokens, item, &mut lat).await {
                    errors.push(e);
                }
            }
            (lat, errors)
        }));
    }
    collect(tasks, started).await
}

async fn timed(
    lat: &mut Vec<f64>,
    f: impl std::future::Future<Output = Result<Value, String>>,
) -> Result<Value, String> {
    let t = Instant::now();
    let v = f.await?;
    lat.push(t.elapsed().as_secs_f64() * 1e3);
    Ok(v)
}

async fn post_item(
    http: &reqwest::Client,
    base: &str,
    tokens: &Tokens,
    item: &Item,
    lat: &mut Vec<f64>,
) -> Result<(), String> {
    match item {
        Item::Report(r) => {
            timed(
                lat,
                post(
                    http,
                    format!("{base}/api/v1/reports"),
                    None,
                    Some(r.id.to_string()),
                    &r.body,
                ),
            )
            .await?;
        }
        Item::Census(c) => {
            timed(
                lat,
                post(
                    http,
                    format!("{base}/api/v1/census"),
                    Some(&tokens.lis[c.hospital]),
                    Some(c.id.to_string()),
                    &c.body,
                ),
            )
            .await?;
        }
        Item::Loop(l) => {
            let token = &tokens.lis[l.hospital];
            let v = timed(
                lat,
                post(
                    http,
                    format!("{base}/api/v1/critical-values"),
                    Some(token),
                    Some(l.id.to_string()),
                    &l.detected,
                ),
            )
            .await?;
            let id = v["critical_value_id"]
                .as_str()
                .ok_or("no critical_value_id")?
                .to_owned();
            for (segment, _, body, _) in &l.steps {
                timed(
                    lat,
                    post(
                        http,
                        format!("{base}/api/v1/critical-values/{id}/{segment}"),
                        Some(token),
                        Some(format!("{}-{segment}", l.id)),
                        body,
                    ),
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// E: `n` sequential reads of `what` over `from..=to`, rotating over the
/// regions' QC-centre tokens (token `i` is region `R{i+1:02}`'s): the rates
/// by department, hospital or region, the region's dispatch pack of `to`
/// (`region_pack`) or its annual report of `to`'s year (`annual_report`).
pub async fn queries(
    http: &reqwest::Client,
    base: &str,
    tokens: &Tokens,
    what: &str,
    from: &str,
    to: &str,
    n: usize,
) -> Result<Run, String> {
    let started = Instant::now();
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let r = i % tokens.qc.len().max(1);
        let token = &tokens.qc[r];
        let region = format!("R{:02}", r + 1);
        let url = match what {
            "region_pack" => format!("{base}/api/v1/meetings/{to}?region={region}"),
            "annual_report" => {
                format!("{base}/api/v1/quality-reports/{}?region={region}", &to[..4])
            }
            by => format!("{base}/api/v1/rates?from={from}&to={to}&by={by}"),
        };
        let t = Instant::now();
        let resp = http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        lat.push(t.elapsed().as_secs_f64() * 1e3);
        if status.as_u16() != 200 {
            return Err(format!(
                "{what}: {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        if i == 0 {
            let v: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            let rows = match what {
                "region_pack" | "annual_report" => &v["hospitals"],
                _ => &v["rows"],
            };
            if rows.as_array().is_none_or(Vec::is_empty) {
                return Err(format!("{what}: no rows"));
            }
        }
    }
    lat.sort_by(f64::total_cmp);
    Ok(Run {
        events: n as u64,
        secs: started.elapsed().as_secs_f64(),
        latencies_ms: lat,
        ..Run::default()
    })
}
