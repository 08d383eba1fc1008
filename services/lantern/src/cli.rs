//! Command line and configuration: one struct per command, every setting
//! also readable from the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use lantern_api::secrets::ServerSecret;
use lantern_ledger::{Ledger, SchemaRegistry, StreamSettings};
use lantern_projection::Projector;

use crate::serve;

/// Lantern: non-punitive adverse-event and critical-value reporting.
#[derive(Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every service and projector in one process, on one port.
    Serve(ServeArgs),
    /// Drop a projector's read model and replay the stream into a new one.
    Rebuild {
        /// directory, reports, critical_values, rates, rca or mortality.
        projector: String,
        /// Build into this directory instead of the projector's own.
        #[arg(long)]
        into: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print a projector's database, one `hex(key) TAB hex(value)` per line.
    Export {
        /// directory, reports, critical_values, rates, rca or mortality.
        projector: String,
        /// Read this directory instead of the projector's own.
        #[arg(long)]
        from: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the projectors.
    Projectors,
}

/// Where events and read models live.
#[derive(Args, Clone, Debug)]
pub struct StoreArgs {
    /// NATS server URL(s), comma-separated.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// Directory of the read models and the server secret.
    #[arg(long, env = "LANTERN_DATA_DIR", default_value = "./var")]
    pub data_dir: PathBuf,
    /// Stream replicas: 1 on one server, 3 in a cluster.
    #[arg(long, env = "LANTERN_STREAM_REPLICAS", default_value_t = 1)]
    pub replicas: usize,
    /// Group commit: most concurrent appends stored as one atomic batch
    /// (one durable write); 1 appends each event on its own.
    #[arg(long, env = "LANTERN_GROUP_COMMIT", default_value_t = 500)]
    pub group_commit: usize,
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
    /// File of the server secret (derived receipts and tokens); created if missing.
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
}

impl ServeArgs {
    /// The server secret, from its file (created on first start).
    pub fn secret(&self) -> Result<ServerSecret, Box<dyn std::error::Error>> {
        let path = self
            .secret_file
            .clone()
            .unwrap_or_else(|| self.store.data_dir.join("secret.key"));
        Ok(ServerSecret::load_or_create(&path)?)
    }
}

/// Connects and opens the stream.
pub async fn ledger(store: &StoreArgs) -> Result<Ledger, Box<dyn std::error::Error>> {
    let client = lantern_ledger::connect(&store.nats_url).await?;
    let settings = StreamSettings {
        replicas: store.replicas,
        ..StreamSettings::default()
    };
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

/// Every projector, by name.
pub fn projectors() -> Vec<Arc<dyn Projector>> {
    vec![
        Arc::new(lantern_directory::DirectoryProjector),
        Arc::new(lantern_intake::reports::ReportsProjector),
        Arc::new(lantern_intake::critical::CriticalValuesProjector),
        Arc::new(lantern_rates::RatesProjector),
        Arc::new(lantern_mortality::MortalityProjector),
        Arc::new(lantern_rca::RcaProjector),
    ]
}

fn projector(name: &str) -> Result<Arc<dyn Projector>, Box<dyn std::error::Error>> {
    projectors()
        .into_iter()
        .find(|p| p.name() == name)
        .ok_or_else(|| {
            let names: Vec<_> = projectors().iter().map(|p| p.name()).collect();
            format!("no projector {name:?}; there are: {}", names.join(", ")).into()
        })
}

impl Cli {
    /// Whether the command rebuilds a read model: a batch job that ends
    /// when its work does, rather than a server that lives on.
    pub fn is_rebuild(&self) -> bool {
        matches!(self.command, Command::Rebuild { .. })
    }

    /// Runs the command.
    pub async fn run(self) -> Result<(), Box<dyn std::error::Error>> {
        match self.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Rebuild {
                projector: name,
                into,
                store,
            } => {
                let p = projector(&name)?;
                let path = into.unwrap_or_else(|| store.data_dir.join(format!("{name}.sled")));
                let ledger = ledger(&store).await?;
                let started = std::time::Instant::now();
                let last = lantern_projection::rebuild(ledger, p, &path).await?;
                let secs = started.elapsed().as_secs_f64();
                println!(
                    "rebuilt {name} into {} up to sequence {last} in {secs:.2} s ({:.0} events/s)",
                    path.display(),
                    last as f64 / secs.max(1e-9)
                );
                Ok(())
            }
            Command::Export {
                projector: name,
                from,
                store,
            } => {
                projector(&name)?;
                let path = from.unwrap_or_else(|| store.data_dir.join(format!("{name}.sled")));
                let db = sled::open(&path)?;
                let stdout = std::io::stdout();
                lantern_projection::export(&db, &mut stdout.lock())?;
                Ok(())
            }
            Command::Projectors => {
                for p in projectors() {
                    println!("{}", p.name());
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::projectors;
    use lantern_ledger::Recorded;
    use lantern_projection::export;
    use uuid::Uuid;

    /// Every v1 fixture in `schemas/fixtures`, as stored events of one
    /// hospital, in an order where each step finds its aggregate.
    fn fixture_events() -> Vec<Recorded> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/fixtures");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".v1.json"))
            .collect();
        // Registration first, then first events of aggregates, then their steps.
        let rank = |n: &str| match n {
            n if n.starts_with("org.hospital_registered") => 0,
            n if n.starts_with("org.") => 1,
            n if n.contains(".filed.")
                || n.contains(".detected.")
                || n.contains(".opened.")
                || n.contains(".recorded.") =>
            {
                2
            }
            _ => 3,
        };
        names.sort_by_key(|n| (rank(n), n.clone()));
        assert!(names.len() >= 25, "fixtures missing: {names:?}");
        let mut aggregates = std::collections::HashMap::new();
        names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let event_type = name.trim_end_matches(".v1.json").to_owned();
                let data: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap())
                        .unwrap();
                let hospital = data
                    .get("code")
                    .filter(|_| event_type == "org.hospital_registered")
                    .and_then(|c| c.as_str())
                    .unwrap_or("H0001")
                    .to_owned();
                let kind = event_type.split('.').next().unwrap().to_owned();
                let aggregate = *aggregates.entry(kind).or_insert_with(Uuid::now_v7);
                Recorded::new(
                    i as u64 + 1,
                    &event_type,
                    &hospital,
                    aggregate,
                    "2026-10-05T02:00:00Z".parse().unwrap(),
                    data,
                )
            })
            .collect()
    }

    fn project(name: &str, events: &[Recorded]) -> Vec<u8> {
        let projector = projectors().into_iter().find(|p| p.name() == name).unwrap();
        let db = lantern_projection::given(projector.as_ref(), events).unwrap();
        let mut out = Vec::new();
        export(&db, &mut out).unwrap();
        out
    }

    /// Old (v1) events of every type still project, in every projector, and
    /// deterministically: the stream is kept forever.
    #[test]
    fn every_v1_fixture_projects_in_every_projector() {
        let events = fixture_events();
        for p in projectors() {
            let a = project(p.name(), &events);
            let b = project(p.name(), &events);
            assert_eq!(a, b, "{}: not deterministic", p.name());
            assert!(
                a.split(|c| *c == b'\n').count() > 2,
                "{}: projected nothing from the fixtures",
                p.name()
            );
        }
    }
}
