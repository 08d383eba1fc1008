//! A real nats-server for tests.
//!
//! Every integration and end-to-end test starts its own server: JetStream on,
//! `sync_interval: always` as in production, a random free port on 127.0.0.1
//! and a store directory of its own, so that a test can kill it (SIGKILL) and
//! start it again on the same store, and never depends on a server somebody
//! left running.
//!
//! The binary is found, in order, at `$NATS_SERVER_BIN`, at the project-local
//! `.tools/nats/bin/nats-server` that `scripts/nats.sh` installs, and on `PATH`.

// A test kit that cannot start its server has nothing to test with:
// it panics, which fails the test that asked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `jetstream { sync_interval }` every server of this kit runs with: an
/// acknowledged append is on disk, as in production.
pub const SYNC_INTERVAL: &str = "always";

/// A running (or stopped) nats-server owned by a test.
pub struct NatsServer {
    bin: PathBuf,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a fresh server on a free port with an empty store.
    ///
    /// Panics when no nats-server can be found or it does not come up: a test
    /// cannot go on without it, and the message says what to do.
    pub fn start() -> Self {
        let bin = find_binary();
        let dir = tempfile::Builder::new()
            .prefix("lantern-nats-")
            .tempdir()
            .expect("create a temp dir for the nats store");
        let port = free_port();
        let mut server = NatsServer {
            bin,
            port,
            dir,
            child: None,
        };
        server.spawn();
        server
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The port the server listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The JetStream store directory (kept across restarts).
    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// Kills the server with SIGKILL, as a power cut or OOM kill would, and
    /// waits until the process is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and store after [`kill`](Self::kill).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// The server's process id while it runs (to watch it: RSS, syscalls).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the server process is running (not killed by the test).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    fn spawn(&mut self) {
        let conf = self.dir.path().join("nats.conf");
        let store = self.store_dir();
        let log = self.dir.path().join("nats.log");
        let conf_text = format!(
            "listen: 127.0.0.1:{port}\n\
             max_payload: 2MB\n\
             jetstream {{\n  store_dir: {store:?}\n  sync_interval: {sync}\n}}\n",
            port = self.port,
            sync = SYNC_INTERVAL,
            store = store.display().to_string(),
        );
        std::fs::write(&conf, conf_text).expect("write nats.conf");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("open nats.log");
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.bin.display()));
        self.child = Some(child);
        self.wait_ready(&log);
    }

    fn wait_ready(&mut self, log: &Path) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "nats-server exited with {status}: {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            // Wait for the INFO line, not just the socket: JetStream is set up
            // before the server starts accepting clients.
            if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 4];
                if s.read_exact(&mut buf).is_ok() && &buf == b"INFO" {
                    let _ = s.write_all(b"");
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "nats-server did not answer on {addr} within 20 s: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The nats-server binary to use (see the crate docs for the search order).
pub fn find_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("NATS_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let local = workspace_root().join(".tools/nats/bin/nats-server");
    if local.exists() {
        return local;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("nats-server");
            if candidate.exists() {
                return candidate;
            }
        }
    }
    panic!(
        "no nats-server found: run `make test` (it installs one with scripts/nats.sh), \
         or set NATS_SERVER_BIN"
    );
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("."))
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}
