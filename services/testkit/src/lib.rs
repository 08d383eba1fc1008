//! A real nats-server for tests.
//!
//! Every integration and end-to-end test starts its own server with the
//! configuration Lantern ships (`deploy/nats/single.conf`): JetStream on,
//! `sync_interval: always`, and NATS not open — only the account's user, with
//! a password made up for this server, may connect ([`NatsServer::user`],
//! [`NatsServer::password`], [`NatsServer::env`] for a child process,
//! [`NatsServer::client`] for the test itself). Each server has a random free
//! port on 127.0.0.1 and a store directory of its own, so that a test can kill
//! it (SIGKILL) and start it again on the same store, and never depends on a
//! server somebody left running.
//!
//! The binary is found, in order, at `$NATS_SERVER_BIN`, at the project-local
//! `.tools/nats/bin/nats-server` that `scripts/nats.sh` installs, and on `PATH`.
//!
//! A region of hospitals too: [`NatsServer::start_hub`] starts a hub (its
//! own JetStream domain, a leaf node listener) and
//! [`NatsServer::start_leaf`] a hospital's server connected to it as a leaf
//! node, each from the shipped configurations.
//!
//! The server itself is the ledger's `local` one (feature `local-server`),
//! which the bench uses too; this kit turns its errors into panics.

use std::path::PathBuf;

use lantern_ledger::LedgerError;
use lantern_ledger::local;

mod cluster;
pub use cluster::NatsCluster;

pub use lantern_ledger::local::{SYNC_INTERVAL, USER, config_file, workspace_root};

/// A test kit that cannot start its server has nothing to test with: it
/// panics, which fails the test that asked, with the ledger's message (what
/// to do when there is no nats-server; the server's log when it died).
#[track_caller]
fn or_panic<T>(result: Result<T, LedgerError>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{e}"),
    }
}

/// A running (or stopped) nats-server owned by a test.
pub struct NatsServer(local::NatsServer);

impl NatsServer {
    /// Starts a fresh server on a free port with an empty store.
    ///
    /// Panics when no nats-server can be found or it does not come up: a test
    /// cannot go on without it, and the message says what to do.
    #[track_caller]
    pub fn start() -> Self {
        NatsServer(or_panic(local::NatsServer::start()))
    }

    /// [`NatsServer::start`] with more nats-server flags, kept across
    /// restarts: e.g. `--tls --tlscert <file> --tlskey <file>`.
    #[track_caller]
    pub fn start_with_args(args: &[&str]) -> Self {
        NatsServer(or_panic(local::NatsServer::start_with_args(args)))
    }

    /// Starts a region's hub on one node (the shipped region-hub.conf)
    /// with the JetStream domain `domain` (the region's code in lower case)
    /// and a leaf node listener for hospitals, on free ports; killable and
    /// restartable on the same ports and store like any other.
    #[track_caller]
    pub fn start_hub(domain: &str) -> Self {
        NatsServer(or_panic(local::NatsServer::start_hub(domain)))
    }

    /// Starts a province's hub on one node (the shipped province-hub.conf)
    /// with the JetStream domain `domain` and a leaf node listener for its
    /// regions' hubs, on free ports.
    #[track_caller]
    pub fn start_province(domain: &str) -> Self {
        NatsServer(or_panic(local::NatsServer::start_province(domain)))
    }

    /// Starts a region's hub in `province` (the shipped
    /// province-region-hub.conf): a hub for its hospitals' leaf nodes
    /// ([`NatsServer::start_leaf`] takes it) and a leaf node of the
    /// province's hub, in the JetStream domain `domain`.
    #[track_caller]
    pub fn start_region_in(domain: &str, province: &NatsServer) -> Self {
        NatsServer(or_panic(local::NatsServer::start_region_in(
            domain,
            &province.0,
        )))
    }

    /// Starts a hospital's nats-server, a leaf node of `hub` in the
    /// JetStream domain `domain` (the hospital's code in lower case), from
    /// the shipped leaf-hospital.conf; it connects to the hub in the
    /// background and again after the hub comes back.
    #[track_caller]
    pub fn start_leaf(domain: &str, hub: &NatsServer) -> Self {
        NatsServer(or_panic(local::NatsServer::start_leaf(domain, &hub.0)))
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        self.0.url()
    }

    /// The user name Lantern connects with (`NATS_USER`).
    pub fn user(&self) -> &str {
        self.0.user()
    }

    /// Its password (`NATS_PASSWORD`), made up for this server.
    pub fn password(&self) -> &str {
        self.0.password()
    }

    /// `NATS_URL`, `NATS_USER` and `NATS_PASSWORD` for a `lantern` process.
    pub fn env(&self) -> [(&'static str, String); 3] {
        self.0.env()
    }

    /// A client connected with the credentials, for a test that reads or
    /// writes the stream itself.
    pub async fn client(&self) -> async_nats::Client {
        or_panic(self.0.client().await)
    }

    /// The port the server listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.0.port()
    }

    /// The JetStream store directory (kept across restarts).
    pub fn store_dir(&self) -> PathBuf {
        self.0.store_dir()
    }

    /// Kills the server with SIGKILL, as a power cut or OOM kill would, and
    /// waits until the process is gone.
    pub fn kill(&mut self) {
        self.0.kill();
    }

    /// Starts the server again on the same port and store after [`kill`](Self::kill).
    #[track_caller]
    pub fn restart(&mut self) {
        or_panic(self.0.restart());
    }

    /// The server's process id while it runs (to watch it: RSS, syscalls).
    pub fn pid(&self) -> Option<u32> {
        self.0.pid()
    }

    /// Whether the server process is running (not killed by the test).
    pub fn is_running(&self) -> bool {
        self.0.is_running()
    }
}

/// The nats-server binary to use (see the crate docs for the search order).
#[track_caller]
pub fn find_binary() -> PathBuf {
    or_panic(local::find_binary())
}

/// A port that was free a moment ago on 127.0.0.1.
#[track_caller]
pub fn free_port() -> u16 {
    or_panic(local::free_port())
}
