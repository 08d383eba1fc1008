//! Configuration: one struct per concern, every setting also readable from
//! the environment; and the stream they open. Read by the command line and
//! by `serve` alike, so neither reads the other.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use lantern_api::tier::{Tier, TierError};
use lantern_ledger::{Ledger, SchemaRegistry, StreamSettings};

/// Where events and read models live.
#[derive(Args, Clone)]
pub struct StoreArgs {
    /// NATS seed servers, comma-separated; one that is down is passed over.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// NATS user (with --nats-password); the shipped server configs ask for one.
    #[arg(long, env = "NATS_USER")]
    pub nats_user: Option<String>,
    /// NATS password.
    #[arg(long, env = "NATS_PASSWORD", hide_env_values = true)]
    pub nats_password: Option<String>,
    /// File holding the NATS user's nkey seed (SU…), instead of a password.
    #[arg(long, env = "NATS_NKEY")]
    pub nats_nkey: Option<PathBuf>,
    /// NATS credentials file (JWT and seed, operator mode), instead of a password.
    #[arg(long, env = "NATS_CREDS")]
    pub nats_creds: Option<PathBuf>,
    /// CA of the NATS server's certificate; when set, the connection must be TLS.
    #[arg(long, env = "NATS_TLS_CA")]
    pub nats_tls_ca: Option<PathBuf>,
    /// Client certificate for NATS (with --nats-tls-key).
    #[arg(long, env = "NATS_TLS_CERT")]
    pub nats_tls_cert: Option<PathBuf>,
    /// Private key of the NATS client certificate.
    #[arg(long, env = "NATS_TLS_KEY")]
    pub nats_tls_key: Option<PathBuf>,
    /// Directory of the read models and the server secret.
    #[arg(long, env = "LANTERN_DATA_DIR", default_value = "./var")]
    pub data_dir: PathBuf,
    /// Stream replicas: 1 on one server, 3 in a cluster. `serve` refuses a
    /// stream with another number; `lantern stream apply` changes it.
    #[arg(long, env = "LANTERN_STREAM_REPLICAS", default_value_t = 1)]
    pub replicas: usize,
    /// Group commit: most concurrent appends stored as one atomic batch
    /// (one durable write); 1 appends each event on its own.
    #[arg(long, env = "LANTERN_GROUP_COMMIT", default_value_t = 500)]
    pub group_commit: usize,
    /// Deployment tier: `standalone`; `hospital`, a hospital's own Lantern
    /// (with LANTERN_HOSPITAL and its hub's LANTERN_REGION); `region`, a QC
    /// centre's hub that sources its linked hospitals (with LANTERN_REGION).
    #[arg(long, env = "LANTERN_TIER", default_value = "standalone")]
    pub tier: String,
    /// The hospital a `hospital` tier belongs to.
    #[arg(long, env = "LANTERN_HOSPITAL")]
    pub hospital: Option<String>,
    /// The region a `region` tier (hub) belongs to; at a `hospital` tier,
    /// the region whose hub its nats-server is a leaf node of.
    #[arg(long, env = "LANTERN_REGION")]
    pub region: Option<String>,
}

impl std::fmt::Debug for StoreArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreArgs")
            .field("nats", &self.nats())
            .field("data_dir", &self.data_dir)
            .field("replicas", &self.replicas)
            .field("group_commit", &self.group_commit)
            .field("tier", &self.tier())
            .finish()
    }
}

impl StoreArgs {
    /// The deployment tier, checked: a hospital tier without its hospital,
    /// or a code of another tier, is refused at start.
    pub fn tier(&self) -> Result<Tier, TierError> {
        Tier::parse(&self.tier, self.hospital.as_deref(), self.region.as_deref())
    }

    /// The stream's configuration these settings ask for: what `serve`
    /// compares the stream with and `lantern stream apply` makes it.
    pub fn stream_settings(&self) -> StreamSettings {
        StreamSettings {
            replicas: self.replicas,
            ..StreamSettings::default()
        }
    }

    /// How to reach NATS, as the ledger takes it.
    pub fn nats(&self) -> lantern_ledger::NatsConfig {
        lantern_ledger::NatsConfig {
            url: self.nats_url.clone(),
            user: self.nats_user.clone(),
            password: self.nats_password.clone(),
            nkey_file: self.nats_nkey.clone(),
            creds_file: self.nats_creds.clone(),
            tls_ca: self.nats_tls_ca.clone(),
            tls_cert: self.nats_tls_cert.clone(),
            tls_key: self.nats_tls_key.clone(),
        }
    }
}

/// Settings of a running service.
#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "LANTERN_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,
    /// Operations address (`/metrics`); never the public one.
    #[arg(long, env = "LANTERN_OPS_ADDR", default_value = "127.0.0.1:9464")]
    pub ops_addr: SocketAddr,
    /// The administrator's bearer token.
    #[arg(long, env = "LANTERN_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: String,
    /// File of the server secret (derived receipts and tokens); created if
    /// missing on the stream's first replica, the same file on every other.
    #[arg(long, env = "LANTERN_SECRET_FILE")]
    pub secret_file: Option<PathBuf>,
    /// Small-cell threshold: counts 1..k−1 are hidden from QC centres.
    #[arg(long, env = "LANTERN_SUPPRESSION_K", default_value_t = 5)]
    pub k: u64,
    /// /readyz fails while a projector is more than this many events behind.
    #[arg(long, env = "LANTERN_READY_LAG", default_value_t = 10_000)]
    pub ready_lag: u64,
    /// Per-client rate limits: `on`, or `off` for load tests and behind a
    /// proxy that limits.
    #[arg(long, env = "LANTERN_RATE_LIMITS", default_value = "on", value_parser = ["on", "off"])]
    pub rate_limits: String,
    /// Anonymous writes per client per minute (0: no limit).
    #[arg(long, env = "LANTERN_RATE_LIMIT_ANON_WRITES", default_value_t = 30)]
    pub rate_limit_anon_writes: u32,
    /// Anonymous reads per client per minute (0: no limit).
    #[arg(long, env = "LANTERN_RATE_LIMIT_ANON_READS", default_value_t = 120)]
    pub rate_limit_anon_reads: u32,
    /// Failed bearer tokens and staff sign-ins per client per minute (0: no limit).
    #[arg(long, env = "LANTERN_RATE_LIMIT_AUTH_FAILURES", default_value_t = 10)]
    pub rate_limit_auth_failures: u32,
    /// Proxies (comma-separated addresses) whose X-Forwarded-For names the
    /// client; from anyone else the header is ignored.
    #[arg(long, env = "LANTERN_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<std::net::IpAddr>,
    /// Seconds a client has to send a request's headers.
    #[arg(long, env = "LANTERN_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,
    /// Seconds a request body may stall before the request is dropped (408).
    #[arg(long, env = "LANTERN_BODY_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_secs: u64,
    /// Connections served at once; more wait to be accepted.
    #[arg(long, env = "LANTERN_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,
    /// Address of the HL7 v2 MLLP listener (e.g. 0.0.0.0:2575); off unless
    /// set. MLLP carries no credentials: bind it where only the hospital's
    /// interface engine reaches it.
    #[arg(long, env = "LANTERN_MLLP_ADDR")]
    pub mllp_addr: Option<SocketAddr>,
    /// The source of each sending application's results where OBR-24 does
    /// not say: `<MSH-3>=<lab|imaging|ecg|pathology|other>`, comma-separated.
    #[arg(long, env = "LANTERN_MLLP_SOURCES", default_value = "")]
    pub mllp_sources: String,
}

impl ServeArgs {
    /// The server secret's file; every replica on one stream needs the
    /// same secret (`crate::shared_secret`).
    pub fn secret_path(&self) -> PathBuf {
        self.secret_file
            .clone()
            .unwrap_or_else(|| self.store.data_dir.join("secret.key"))
    }
}

/// The stream's configuration for this deployment, as `serve` compares it
/// and `lantern stream apply` makes it: the settings', on a hub the
/// sources of the hospitals it linked, read from the stream itself, and at
/// a hospital the source of what its hub's QC centre addresses to it (see
/// docs/decisions.md, issue 27 item 6). A tier that does not fit its codes
/// is refused here, before anything reads or changes the stream.
pub async fn stream_settings(
    store: &StoreArgs,
    client: &async_nats::Client,
) -> Result<StreamSettings, Box<dyn std::error::Error>> {
    let tier = store.tier()?;
    let mut settings = store.stream_settings();
    if let Some(region) = tier.region() {
        settings.sources = lantern_ledger::federation::wanted_sources(
            client.clone(),
            Arc::new(SchemaRegistry::embedded()?),
            region,
        )
        .await?;
    }
    if let (Some(hospital), Some(hub)) = (tier.hospital(), tier.hub()) {
        settings.sources = vec![lantern_ledger::federation::addressed_source(hub, hospital)];
    }
    Ok(settings)
}

/// Connects and opens the stream: creates it when it is absent, and refuses
/// to go on when it differs from the configuration (it is never changed
/// here; `lantern stream apply` does that).
pub async fn ledger(store: &StoreArgs) -> Result<Ledger, Box<dyn std::error::Error>> {
    let client = lantern_ledger::connect(&store.nats()).await?;
    if let Some(region) = store.tier()?.region() {
        // A hub follows what its linked regions linked (their explicit
        // acts), also what reached it while it was down; the rest of its
        // stream is compared, never changed, below.
        let added = lantern_ledger::federation::follow_links(
            client.clone(),
            Arc::new(SchemaRegistry::embedded()?),
            region,
        )
        .await?;
        for source in &added {
            tracing::info!(
                source = %lantern_ledger::stream::describe_source(source),
                "now sourcing what a linked region linked"
            );
        }
    }
    let settings = stream_settings(store, &client).await?;
    let ledger = Ledger::open(client, &settings, Arc::new(SchemaRegistry::embedded()?)).await?;
    Ok(if store.group_commit > 1 {
        ledger.with_group_commit(lantern_ledger::GroupCommit {
            max_batch: store.group_commit,
            ..Default::default()
        })
    } else {
        ledger
    })
}

/// Connects to the stream as it is, for a command that only reads it
/// (`lantern rebuild`): never created nor compared, so a rebuild started
/// with stale settings cannot touch the stream (issue 27).
pub async fn ledger_existing(store: &StoreArgs) -> Result<Ledger, Box<dyn std::error::Error>> {
    let client = lantern_ledger::connect(&store.nats()).await?;
    Ok(Ledger::open_existing(client, Arc::new(SchemaRegistry::embedded()?)).await?)
}
