//! A local nats-server with the configuration Lantern ships: for the bench,
//! tests and tooling.
//!
//! The server runs `deploy/nats/single.conf`: JetStream on,
//! `sync_interval: always`, and NATS not open — only the account's user, with
//! a password made up for this server, may connect ([`NatsServer::user`],
//! [`NatsServer::password`], [`NatsServer::env`] for a child process,
//! [`NatsServer::client`] for the caller itself). Each server has a random
//! free port on 127.0.0.1 and a store directory of its own, so that its owner
//! can kill it (SIGKILL) and start it again on the same store, and never
//! depends on a server somebody left running.
//!
//! The binary is found, in order, at `$NATS_SERVER_BIN`, at the project-local
//! `.tools/nats/bin/nats-server` that `scripts/nats.sh` installs, and on `PATH`.
//!
//! Behind the feature `local-server`: the `lantern` binary connects to a
//! server it is given and never starts one, so it does not compile this.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::LedgerError;

/// The `jetstream { sync_interval }` every server started here runs with: an
/// acknowledged append is on disk, as in production.
pub const SYNC_INTERVAL: &str = "always";

/// The user every server started here lets in (its account is Lantern's).
pub const USER: &str = "lantern";

/// How long a server may take to answer after it was spawned.
const READY_WITHIN: Duration = Duration::from_secs(20);

fn local_error(what: impl Into<String>, source: Option<std::io::Error>) -> LedgerError {
    LedgerError::LocalServer {
        what: what.into(),
        source,
    }
}

/// A running (or stopped) nats-server owned by its caller; dropping it kills
/// the server and removes its store.
pub struct NatsServer {
    bin: PathBuf,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    password: String,
    args: Vec<String>,
    /// The configuration it runs: the shipped single-node one, or one
    /// derived from the shipped ones (a hub, a hospital's leaf node).
    config: PathBuf,
    /// More environment of the server process (a hub's leaf credentials, a
    /// leaf node's hub URLs), kept across restarts.
    env: Vec<(&'static str, String)>,
    /// On a hub: the port hospitals' leaf nodes connect to, and their
    /// password (user [`LEAF_USER`]).
    leafnodes: Option<(u16, String)>,
}

/// The user hospitals' leaf nodes log in to a hub with (cluster-*.conf's
/// `NATS_LEAF_USER`).
pub const LEAF_USER: &str = "leaf";

/// `text` with each `(from, to)` replaced once; an error naming the file
/// when `from` is not in it (the shipped file changed under the test kit).
fn derive(file: &Path, text: &str, replacements: &[(&str, &str)]) -> Result<String, LedgerError> {
    let mut out = text.to_owned();
    for (from, to) in replacements {
        if !out.contains(from) {
            return Err(local_error(
                format!(
                    "{} no longer holds {from:?}: the test kit derives its configs from it",
                    file.display()
                ),
                None,
            ));
        }
        out = out.replacen(from, to, 1);
    }
    Ok(out)
}

fn read_config(name: &str) -> Result<(PathBuf, String), LedgerError> {
    let path = workspace_root().join("deploy/nats").join(name);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| local_error(format!("read {}", path.display()), Some(e)))?;
    Ok((path, text))
}

impl NatsServer {
    /// Starts a fresh server on a free port with an empty store, and waits
    /// until it answers.
    ///
    /// An error when no nats-server can be found (it says what to do) or it
    /// does not come up (with its log).
    pub fn start() -> Result<Self, LedgerError> {
        NatsServer::start_with_args(&[])
    }

    /// [`NatsServer::start`] with more nats-server flags, kept across
    /// restarts: e.g. `--tls --tlscert <file> --tlskey <file>`.
    pub fn start_with_args(args: &[&str]) -> Result<Self, LedgerError> {
        let bin = find_binary()?;
        let dir = tempfile::Builder::new()
            .prefix("lantern-nats-")
            .tempdir()
            .map_err(|e| local_error("create a temp dir for the nats store", Some(e)))?;
        let port = free_port()?;
        let mut server = NatsServer {
            bin,
            port,
            dir,
            child: None,
            password: made_up_password(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            config: config_file(),
            env: Vec::new(),
            leafnodes: None,
        };
        server.spawn()?;
        Ok(server)
    }

    /// A server that is not started yet, in a fresh store directory.
    fn unstarted() -> Result<Self, LedgerError> {
        let dir = tempfile::Builder::new()
            .prefix("lantern-nats-")
            .tempdir()
            .map_err(|e| local_error("create a temp dir for the nats store", Some(e)))?;
        Ok(NatsServer {
            bin: find_binary()?,
            port: free_port()?,
            dir,
            child: None,
            password: made_up_password(),
            args: Vec::new(),
            config: config_file(),
            env: Vec::new(),
            leafnodes: None,
        })
    }

    /// Writes `text` as this server's configuration, beside a copy of the
    /// shipped accounts.conf it includes.
    fn write_config(&mut self, name: &str, text: &str) -> Result<(), LedgerError> {
        let (_, accounts) = read_config("accounts.conf")?;
        for (file, content) in [("accounts.conf", accounts.as_str()), (name, text)] {
            let path = self.dir.path().join(file);
            std::fs::write(&path, content)
                .map_err(|e| local_error(format!("write {}", path.display()), Some(e)))?;
        }
        self.config = self.dir.path().join(name);
        Ok(())
    }

    /// Starts a region's hub on one node: the shipped region-hub.conf with
    /// the JetStream domain `domain` (the region's code in lower case), its
    /// client and leaf node listeners on free ports, hospitals logging in
    /// as [`LEAF_USER`] with a password made up for this hub.
    pub fn start_hub(domain: &str) -> Result<Self, LedgerError> {
        let mut server = NatsServer::unstarted()?;
        let leaf_port = free_port()?;
        let (file, text) = read_config("region-hub.conf")?;
        let hub = derive(
            &file,
            &text,
            &[(
                "listen: 127.0.0.1:7422",
                &format!("listen: 127.0.0.1:{leaf_port}"),
            )],
        )?;
        server.write_config("region-hub.conf", &hub)?;
        let leaf_password = made_up_password();
        server.env = vec![
            ("NATS_JS_DOMAIN", domain.to_owned()),
            ("NATS_LEAF_USER", LEAF_USER.to_owned()),
            ("NATS_LEAF_PASSWORD", leaf_password.clone()),
        ];
        server.leafnodes = Some((leaf_port, leaf_password));
        server.spawn()?;
        Ok(server)
    }

    /// Starts a province's hub on one node: the shipped province-hub.conf
    /// with the JetStream domain `domain` (the province's code in lower
    /// case), its client and leaf node listeners on free ports, regions'
    /// hubs logging in as [`LEAF_USER`] with a password made up for it.
    pub fn start_province(domain: &str) -> Result<Self, LedgerError> {
        let mut server = NatsServer::unstarted()?;
        let leaf_port = free_port()?;
        let (file, text) = read_config("province-hub.conf")?;
        let hub = derive(
            &file,
            &text,
            &[(
                "listen: 127.0.0.1:7442",
                &format!("listen: 127.0.0.1:{leaf_port}"),
            )],
        )?;
        server.write_config("province-hub.conf", &hub)?;
        let leaf_password = made_up_password();
        server.env = vec![
            ("NATS_JS_DOMAIN", domain.to_owned()),
            ("NATS_LEAF_USER", LEAF_USER.to_owned()),
            ("NATS_LEAF_PASSWORD", leaf_password.clone()),
        ];
        server.leafnodes = Some((leaf_port, leaf_password));
        server.spawn()?;
        Ok(server)
    }

    /// Starts a region's hub in a province: the shipped
    /// province-region-hub.conf with the JetStream domain `domain`, a leaf
    /// node listener for its hospitals on a free port (hospitals log in as
    /// with [`NatsServer::start_hub`]), and a leaf node of `province`.
    pub fn start_region_in(domain: &str, province: &NatsServer) -> Result<Self, LedgerError> {
        let Some((province_port, province_password)) = &province.leafnodes else {
            return Err(local_error(
                "a region's hub in a province needs a province started with NatsServer::start_province",
                None,
            ));
        };
        let mut server = NatsServer::unstarted()?;
        let leaf_port = free_port()?;
        let (file, text) = read_config("province-region-hub.conf")?;
        let hub = derive(
            &file,
            &text,
            &[
                (
                    "server_name: region-hub",
                    &format!("server_name: region-hub-{domain}"),
                ),
                (
                    "listen: 127.0.0.1:7422",
                    &format!("listen: 127.0.0.1:{leaf_port}"),
                ),
            ],
        )?;
        server.write_config("province-region-hub.conf", &hub)?;
        let leaf_password = made_up_password();
        server.env = vec![
            ("NATS_JS_DOMAIN", domain.to_owned()),
            ("NATS_LEAF_USER", LEAF_USER.to_owned()),
            ("NATS_LEAF_PASSWORD", leaf_password.clone()),
            (
                "NATS_PROVINCE_URLS",
                format!("[nats-leaf://{LEAF_USER}:{province_password}@127.0.0.1:{province_port}]"),
            ),
        ];
        server.leafnodes = Some((leaf_port, leaf_password));
        server.spawn()?;
        Ok(server)
    }

    /// Starts a hospital's nats-server as a leaf node of `hub`: the shipped
    /// leaf-hospital.conf with the JetStream domain `domain` (the
    /// hospital's code in lower case), on a free port, without its fixed
    /// monitoring port. It need not wait for the hub: the leaf connection
    /// is made (and remade, every 2 s) in the background.
    pub fn start_leaf(domain: &str, hub: &NatsServer) -> Result<Self, LedgerError> {
        let Some((leaf_port, leaf_password)) = &hub.leafnodes else {
            return Err(local_error(
                "a leaf node needs a hub started with NatsServer::start_hub",
                None,
            ));
        };
        let mut server = NatsServer::unstarted()?;
        let (file, text) = read_config("leaf-hospital.conf")?;
        let leaf = derive(&file, &text, &[("\nhttp: 127.0.0.1:8230\n", "\n")])?;
        server.write_config("leaf.conf", &leaf)?;
        server.env = vec![
            ("NATS_SERVER_NAME", format!("hospital-{domain}")),
            ("NATS_JS_DOMAIN", domain.to_owned()),
            (
                "NATS_HUB_URLS",
                format!("[nats-leaf://{LEAF_USER}:{leaf_password}@127.0.0.1:{leaf_port}]"),
            ),
        ];
        server.spawn()?;
        Ok(server)
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

    /// A client connected with the credentials, for a caller that reads or
    /// writes the stream itself.
    pub async fn client(&self) -> Result<async_nats::Client, LedgerError> {
        async_nats::ConnectOptions::with_user_and_password(USER.to_owned(), self.password.clone())
            .connect(self.url())
            .await
            .map_err(|e| {
                local_error(
                    format!("connect to {} as {USER}", self.url()),
                    Some(std::io::Error::other(e)),
                )
            })
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
            // It may have exited already; either way it is gone after wait.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and store after
    /// [`kill`](Self::kill), and waits until it answers.
    pub fn restart(&mut self) -> Result<(), LedgerError> {
        self.kill();
        self.spawn()
    }

    /// The server's process id while it runs (to watch it: RSS, syscalls).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the server process is running (not killed by its owner).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    fn spawn(&mut self) -> Result<(), LedgerError> {
        let store = self.store_dir();
        let log = self.dir.path().join("nats.log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| local_error(format!("open {}", log.display()), Some(e)))?;
        // The shipped configuration, on this server's port: its store
        // directory and credentials come from the environment, as
        // scripts/run.sh, systemd and compose pass them.
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(&self.config)
            .args(["-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .args(&self.args)
            .env("NATS_STORE_DIR", &store)
            .env("NATS_USER", USER)
            .env("NATS_PASSWORD", &self.password)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| local_error(format!("start {}", self.bin.display()), Some(e)))?;
        self.child = Some(child);
        let ready = self.wait_ready(&log);
        if ready.is_err() {
            // A server that did not come up is not left behind.
            self.kill();
        }
        ready
    }

    fn wait_ready(&mut self, log: &Path) -> Result<(), LedgerError> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + READY_WITHIN;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(local_error(
                    format!(
                        "nats-server exited with {status}: {}",
                        std::fs::read_to_string(log).unwrap_or_default()
                    ),
                    None,
                ));
            }
            // Wait for the INFO line, not just the socket: JetStream is set up
            // before the server starts accepting clients.
            if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 4];
                if s.read_exact(&mut buf).is_ok() && &buf == b"INFO" {
                    let _ = s.write_all(b"");
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(local_error(
            format!(
                "nats-server did not answer on {addr} within {} s: {}",
                READY_WITHIN.as_secs(),
                std::fs::read_to_string(log).unwrap_or_default()
            ),
            None,
        ))
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The nats-server binary to use (see the module docs for the search order).
pub fn find_binary() -> Result<PathBuf, LedgerError> {
    if let Some(p) = std::env::var_os("NATS_SERVER_BIN") {
        return Ok(PathBuf::from(p));
    }
    let local = workspace_root().join(".tools/nats/bin/nats-server");
    if local.exists() {
        return Ok(local);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("nats-server");
            if candidate.exists() {
                return Ok(candidate);
            }
        }
    }
    Err(local_error(
        "no nats-server found: run `make test` (it installs one with scripts/nats.sh), \
         or set NATS_SERVER_BIN",
        None,
    ))
}

/// The configuration every server started here runs with: the one Lantern
/// ships for a single node.
pub fn config_file() -> PathBuf {
    workspace_root().join("deploy/nats/single.conf")
}

/// A password for one server: letters and digits, starting with a letter,
/// as nats-server reads an unquoted `$VAR` as a string only then (see
/// deploy/nats/single.conf). Unpredictable enough for a server that listens
/// on 127.0.0.1 only and lives as long as its owner.
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

/// The workspace root: two levels above this crate (`services/ledger`), as
/// it was built.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("."))
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> Result<u16, LedgerError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| local_error("bind 127.0.0.1:0", Some(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_holds_the_shipped_configuration() {
        assert!(config_file().is_file(), "{}", config_file().display());
    }

    #[test]
    fn passwords_are_unquoted_nats_strings() {
        let p = made_up_password();
        assert!(p.starts_with('t'));
        assert!(p.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(p, made_up_password());
    }

    #[test]
    fn a_missing_binary_says_what_to_do_and_keeps_the_cause() {
        let e = local_error(
            "start /nowhere/nats-server",
            Some(std::io::Error::from(std::io::ErrorKind::NotFound)),
        );
        assert!(e.to_string().starts_with("start /nowhere/nats-server: "));
        assert!(std::error::Error::source(&e).is_some());
        assert!(!e.is_transient());
    }
}
