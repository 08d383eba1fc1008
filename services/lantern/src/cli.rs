//! Command line and configuration: one struct per command, every setting
//! also readable from the environment.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use lantern_projection::Projector;

use crate::config::{ServeArgs, StoreArgs, ledger_existing};
use crate::{serve, stream};

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
    Serve(Box<ServeArgs>),
    /// Drop a projector's read model and replay the stream into a new one.
    /// Only reads the stream: never creates or changes it.
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
    /// The event stream's configuration: show it, or change it explicitly
    /// (no other command changes an existing stream).
    Stream {
        #[command(subcommand)]
        action: StreamAction,
    },
}

#[derive(Subcommand)]
enum StreamAction {
    /// Print the stream's configuration and how it differs from the one the
    /// settings ask for (LANTERN_STREAM_REPLICAS, …); changes nothing.
    Show(StoreArgs),
    /// Create the stream, or change it to the configuration the settings ask
    /// for, printing what changed.
    Apply(StoreArgs),
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
        Arc::new(lantern_meeting::followups::FollowUpsProjector),
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
            Command::Serve(args) => serve::run(*args).await,
            Command::Rebuild {
                projector: name,
                into,
                store,
            } => {
                let p = projector(&name)?;
                let path = into.unwrap_or_else(|| store.data_dir.join(format!("{name}.sled")));
                let ledger = ledger_existing(&store).await?;
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
            Command::Stream {
                action: StreamAction::Show(store),
            } => stream::show(&store).await,
            Command::Stream {
                action: StreamAction::Apply(store),
            } => stream::apply(&store).await,
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
