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
    password: String,
    args: Vec<String>,
}

/// The user every server of this kit lets in (its account is Lantern's).
pub const USER: &str = "lantern";

impl NatsServer {
    /// Starts a fresh server on a free port with an empty store.
    ///
    /// Panics when no nats-server can be found or it does not come up: a test
    /// cannot go on without it, and the message says what to do.
    pub fn start() -> Self {
        NatsServer::start_with_args(&[])
    }

    /// [`NatsServer::start`] with more nats-server flags, kept across
    /// restarts: e.g. `--tls --tlscert <file> --tlskey <file>`.
    pub fn start_with_args(args: &[&str]) -> Self {
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
            password: made_up_password(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        };
        server.spawn();
        server
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The user name Lantern connects with (`NATS_USER`).
    pub fn user(&self) -> &str {
        USER
    }

    /// Its password (`NATS_PASSWORD`), made up for this server.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// `NATS_URL`, `NATS_USER` and `NATS_PASSWORD` for a `lantern` process.
    pub fn env(&self) -> [(&'static str, String); 3] {
        [
            ("NATS_URL", self.url()),
            ("NATS_USER", USER.to_owned()),
            ("NATS_PASSWORD", self.password.clone()),
        ]
    }

    /// A client connected with the credentials, for a test that reads or
    /// writes the stream itself.
    pub async fn client(&self) -> async_nats::Client {
        async_nats::ConnectOptions::with_user_and_password(USER.to_owned(), self.password.clone())
            .connect(self.url())
            .await
            .unwrap_or_else(|e| panic!("connect to {} as {USER}: {e}", self.url()))
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
        let store = self.store_dir();
        let log = self.dir.path().join("nats.log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("open nats.log");
        // The shipped configuration, on this server's port: its store
        // directory and credentials come from the environment, as
        // scripts/run.sh, systemd and compose pass them.
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(config_file())
            .args(["-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .args(&self.args)
            .env("NATS_STORE_DIR", &store)
            .env("NATS_USER", USER)
            .env("NATS_PASSWORD", &self.password)
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

/// The configuration every server of this kit runs with: the one Lantern
/// ships for a single node.
pub fn config_file() -> PathBuf {
    workspace_root().join("deploy/nats/single.conf")
}

/// A password for one server: letters and digits, starting with a letter,
/// as nats-server reads an unquoted `$VAR` as a string only then (see
/// deploy/nats/single.conf). Unpredictable enough for a test.
fn made_up_password() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::from("t");
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.write_u32(std::process::id());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
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
