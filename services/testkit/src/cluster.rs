//! Three nats-servers as one JetStream cluster, for tests.
//!
//! Each node runs the configuration Lantern ships for it
//! (`deploy/nats/cluster-{1,2,3}.conf`, with the shipped `accounts.conf`
//! beside it), only its ports replaced by free ones on 127.0.0.1, so what
//! the tests prove holds for the files an operator installs: the same
//! accounts, the route and leaf node logins, `sync_interval: always`. The
//! credentials (Lantern's, the routes', the leaf nodes') are made up for
//! each cluster; every node has a store directory of its own in a temporary
//! directory removed with the cluster.
//!
//! A test can ask which node leads a stream (the JetStream API's stream
//! info, `cluster.leader`), kill a node with SIGKILL and start it again on
//! its ports and store, and hand `lantern` the three client URLs as the
//! comma-separated `NATS_URL` an operator writes. Nodes are numbered 0, 1, 2
//! (server names `lantern-n1` … `lantern-n3`, as in the shipped files).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{USER, find_binary, free_port, workspace_root};

/// How many nodes a cluster has: the shipped configs describe three.
pub const NODES: usize = 3;

/// How long a node may take to answer, and a cluster to elect its
/// JetStream meta leader or a restarted node to catch up. Generous: the
/// machine may be busy with other tests.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// The route login's user (cluster-*.conf's `NATS_ROUTE_USER`).
const ROUTE_USER: &str = "route";

/// The leaf node login's user (cluster-*.conf's `NATS_LEAF_USER`); no leaf
/// node connects in these tests, but the shipped config asks for one.
const LEAF_USER: &str = "leaf";

/// One node: its ports (kept across restarts), files and process.
struct Node {
    /// `lantern-n1` …: the name JetStream reports a stream's leader by.
    name: String,
    client_port: u16,
    monitor_port: u16,
    config: PathBuf,
    store: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

/// A running JetStream cluster of three nats-servers owned by a test;
/// dropping it kills every node and removes their stores.
pub struct NatsCluster {
    bin: PathBuf,
    nodes: Vec<Node>,
    password: String,
    /// The servers' environment besides each one's store: every
    /// credential the shipped configs read, and the route list.
    env: Vec<(&'static str, String)>,
    // Last: removed after the nodes are killed.
    dir: tempfile::TempDir,
}

impl NatsCluster {
    /// Starts the three nodes and waits until each answers and JetStream
    /// is ready on each (a meta leader elected).
    ///
    /// Panics when no nats-server can be found, a shipped config no longer
    /// holds what is replaced in it, or the cluster does not come up (with
    /// the nodes' logs): a test cannot go on without it.
    #[track_caller]
    pub fn start() -> NatsCluster {
        let dir = tempfile::Builder::new()
            .prefix("lantern-cluster-")
            .tempdir()
            .unwrap_or_else(|e| panic!("create a temp dir for the cluster: {e}"));
        let root = workspace_root().join("deploy/nats");
        let accounts = read(&root.join("accounts.conf"));
        write(&dir.path().join("accounts.conf"), &accounts);

        let mut ports = distinct_free_ports(4 * NODES).into_iter();
        let mut next_port = || ports.next().unwrap_or_else(|| panic!("too few free ports"));
        let mut nodes = Vec::new();
        let mut route_ports = Vec::new();
        for i in 0..NODES {
            let n = i as u16 + 1;
            let (client_port, route_port, leaf_port, monitor_port) =
                (next_port(), next_port(), next_port(), next_port());
            let shipped = root.join(format!("cluster-{n}.conf"));
            let text = node_config(
                &shipped,
                &read(&shipped),
                n,
                [client_port, route_port, leaf_port, monitor_port],
            );
            let config = dir.path().join(format!("cluster-{n}.conf"));
            write(&config, &text);
            route_ports.push(route_port);
            nodes.push(Node {
                name: format!("lantern-n{n}"),
                client_port,
                monitor_port,
                config,
                store: dir.path().join(format!("n{n}/store")),
                log: dir.path().join(format!("n{n}.log")),
                child: None,
            });
        }

        let route_password = made_up_password();
        // As the shipped files' comment says: every node lists every node,
        // the route credentials in each URL.
        let routes = route_ports
            .iter()
            .map(|p| format!("nats-route://{ROUTE_USER}:{route_password}@127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(", ");
        let password = made_up_password();
        let env = vec![
            ("NATS_USER", USER.to_owned()),
            ("NATS_PASSWORD", password.clone()),
            ("NATS_ROUTE_USER", ROUTE_USER.to_owned()),
            ("NATS_ROUTE_PASSWORD", route_password),
            ("NATS_ROUTES", format!("[{routes}]")),
            ("NATS_LEAF_USER", LEAF_USER.to_owned()),
            ("NATS_LEAF_PASSWORD", made_up_password()),
        ];
        let mut cluster = NatsCluster {
            bin: find_binary(),
            nodes,
            password,
            env,
            dir,
        };
        // All three first: a node waits for its peers to elect a leader.
        for i in 0..NODES {
            cluster.spawn(i);
        }
        for i in 0..NODES {
            cluster.wait_answers(i);
        }
        for i in 0..NODES {
            cluster.wait_healthy(i);
        }
        cluster
    }

    /// The three client URLs, comma-separated, in node order: `NATS_URL`.
    pub fn url(&self) -> String {
        self.urls().join(",")
    }

    /// Each node's client URL, in node order.
    pub fn urls(&self) -> Vec<String> {
        (0..NODES).map(|i| self.node_url(i)).collect()
    }

    /// Node `i`'s client URL, `nats://127.0.0.1:<port>` (kept across restarts).
    pub fn node_url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.node(i).client_port)
    }

    /// Node `i`'s server name (`lantern-n<i+1>`).
    pub fn name(&self, i: usize) -> &str {
        &self.node(i).name
    }

    /// Node `i`'s monitoring address, `http://127.0.0.1:<port>`.
    pub fn monitor_url(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.node(i).monitor_port)
    }

    /// Node `i`'s JetStream store directory (kept across restarts).
    pub fn store_dir(&self, i: usize) -> &Path {
        &self.node(i).store
    }

    /// Everything node `i` logged, over all its runs.
    pub fn log_text(&self, i: usize) -> String {
        std::fs::read_to_string(&self.node(i).log).unwrap_or_default()
    }

    /// The user name Lantern connects with (`NATS_USER`).
    pub fn user(&self) -> &str {
        USER
    }

    /// Its password (`NATS_PASSWORD`), made up for this cluster.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// `NATS_URL` (all three), `NATS_USER` and `NATS_PASSWORD` for a
    /// `lantern` process.
    pub fn env(&self) -> [(&'static str, String); 3] {
        [
            ("NATS_URL", self.url()),
            ("NATS_USER", USER.to_owned()),
            ("NATS_PASSWORD", self.password.clone()),
        ]
    }

    /// A client connected with the credentials to the nodes that run, for
    /// a test that reads the stream itself.
    pub async fn client(&self) -> async_nats::Client {
        let running: Vec<String> = (0..NODES)
            .filter(|i| self.is_running(*i))
            .map(|i| self.node_url(i))
            .collect();
        let addrs: Vec<async_nats::ServerAddr> = running
            .iter()
            .map(|u| {
                u.parse()
                    .unwrap_or_else(|e| panic!("{u} is not a NATS URL: {e}"))
            })
            .collect();
        async_nats::ConnectOptions::with_user_and_password(USER.to_owned(), self.password.clone())
            .connect(addrs)
            .await
            .unwrap_or_else(|e| panic!("connect to {running:?} as {USER}: {e}"))
    }

    /// The node that leads `stream` now, by the JetStream API's stream
    /// info (`$JS.API.STREAM.INFO.<stream>` → `cluster.leader`); `None`
    /// while there is none (an election after a kill) or the stream does
    /// not exist.
    pub async fn stream_leader(&self, stream: &str) -> Option<usize> {
        let js = async_nats::jetstream::new(self.client().await);
        let mut stream = js.get_stream(stream).await.ok()?;
        let info = stream.info().await.ok()?;
        let leader = info.cluster.as_ref()?.leader.as_deref()?;
        self.nodes.iter().position(|n| n.name == leader)
    }

    /// Kills node `i` with SIGKILL, as a power cut or OOM kill would, and
    /// waits until the process is gone.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            // It may have exited already; either way it is gone after wait.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts node `i` again on its ports and store after
    /// [`kill`](Self::kill), and waits until it answers and its JetStream
    /// is current again (it has caught up with its peers).
    #[track_caller]
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
        self.wait_answers(i);
        self.wait_healthy(i);
    }

    /// Whether node `i`'s process runs (not killed by the test).
    pub fn is_running(&self, i: usize) -> bool {
        self.node(i).child.is_some()
    }

    /// Node `i`'s process id while it runs.
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.node(i).child.as_ref().map(Child::id)
    }

    #[track_caller]
    fn node(&self, i: usize) -> &Node {
        self.nodes
            .get(i)
            .unwrap_or_else(|| panic!("a cluster has nodes 0..{NODES}, not {i}"))
    }

    #[track_caller]
    fn spawn(&mut self, i: usize) {
        let node = &self.nodes[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log)
            .unwrap_or_else(|e| panic!("open {}: {e}", node.log.display()));
        // The store directory and credentials come from the environment,
        // as the shipped files' comments tell an operator to pass them.
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(&node.config)
            .env("NATS_STORE_DIR", &node.store)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .current_dir(self.dir.path())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.bin.display()));
        self.nodes[i].child = Some(child);
    }

    /// Panics, with the node's log, when its process has exited.
    #[track_caller]
    fn check_alive(&mut self, i: usize) {
        if let Some(child) = self.nodes[i].child.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            self.nodes[i].child = None;
            panic!(
                "nats-server {} exited with {status}:\n{}",
                self.nodes[i].name,
                self.log_text(i)
            );
        }
    }

    /// Waits for the node's INFO line: it accepts clients.
    #[track_caller]
    fn wait_answers(&mut self, i: usize) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.nodes[i].client_port));
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            self.check_alive(i);
            if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 4];
                if s.read_exact(&mut buf).is_ok() && &buf == b"INFO" {
                    return;
                }
            }
            self.give_up_after(i, deadline, &format!("answered on {addr}"));
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the node's `/healthz` is 200 (JetStream on, the meta
    /// leader known, the node's streams current) and its `/routez` lists a
    /// route to every other running node. Health alone is not enough: it
    /// can be 200 while two nodes reach each other only through the third,
    /// and a stream placed on them then fails to elect a leader (seen as a
    /// create that timed out).
    #[track_caller]
    fn wait_healthy(&mut self, i: usize) {
        let deadline = Instant::now() + READY_WITHIN;
        let peers: Vec<String> = (0..NODES)
            .filter(|j| *j != i && self.is_running(*j))
            .map(|j| format!("\"remote_name\":\"{}\"", self.nodes[j].name))
            .collect();
        let port = self.nodes[i].monitor_port;
        loop {
            self.check_alive(i);
            let healthy = http_get(port, "/healthz").is_some_and(|(status, _)| status == 200);
            let routed = healthy
                && http_get(port, "/routez").is_some_and(|(_, body)| {
                    let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                    peers.iter().all(|p| body.contains(p.as_str()))
                });
            if routed {
                return;
            }
            self.give_up_after(
                i,
                deadline,
                "was healthy (/healthz 200) with a route to every other node",
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    #[track_caller]
    fn give_up_after(&self, i: usize, deadline: Instant, what: &str) {
        if Instant::now() >= deadline {
            let logs: String = (0..NODES)
                .map(|n| format!("\n--- {}:\n{}", self.name(n), self.log_text(n)))
                .collect();
            panic!(
                "nats-server {} never {what} within {} s{logs}",
                self.name(i),
                READY_WITHIN.as_secs()
            );
        }
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

/// The status and body of `GET path` on the monitoring port, or `None`
/// when it does not answer.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .ok()?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).ok()?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n")?;
    // "HTTP/1.x 200 OK"
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

#[track_caller]
fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[track_caller]
fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Node `n`'s shipped config (`cluster-<n>.conf`) on `ports`: clients,
/// routes, leaf nodes, monitoring. The shipped files put node n's on
/// 4221+n, 6221+n, 7421+n and 8221+n.
#[track_caller]
fn node_config(file: &Path, text: &str, n: u16, ports: [u16; 4]) -> String {
    let [client, route, leaf, monitor] = ports;
    derive(
        file,
        text,
        &[
            (
                format!("\nlisten: 127.0.0.1:{}\n", 4221 + n),
                format!("\nlisten: 127.0.0.1:{client}\n"),
            ),
            (
                format!("\nhttp: 127.0.0.1:{}\n", 8221 + n),
                format!("\nhttp: 127.0.0.1:{monitor}\n"),
            ),
            (
                format!("  listen: 127.0.0.1:{}\n", 6221 + n),
                format!("  listen: 127.0.0.1:{route}\n"),
            ),
            (
                format!("  listen: 127.0.0.1:{}\n", 7421 + n),
                format!("  listen: 127.0.0.1:{leaf}\n"),
            ),
        ],
    )
}

/// `text` with each `(from, to)` replaced once; panics naming the file
/// when `from` is not in it (the shipped file changed under the test kit).
#[track_caller]
fn derive(file: &Path, text: &str, replacements: &[(String, String)]) -> String {
    let mut out = text.to_owned();
    for (from, to) in replacements {
        assert!(
            out.contains(from.as_str()),
            "{} no longer holds {from:?}: the test kit derives its cluster configs from it",
            file.display()
        );
        out = out.replacen(from.as_str(), to, 1);
    }
    out
}

/// `n` ports, each free a moment ago and none twice: the kernel may hand
/// out a port again once its probe socket is closed.
#[track_caller]
fn distinct_free_ports(n: usize) -> Vec<u16> {
    let mut ports: Vec<u16> = Vec::with_capacity(n);
    while ports.len() < n {
        let p = free_port();
        if !ports.contains(&p) {
            ports.push(p);
        }
    }
    ports
}

/// A password for one cluster: letters and digits, starting with a letter,
/// as nats-server reads an unquoted `$VAR` as a string only then (see
/// deploy/nats/accounts.conf). Unpredictable enough for servers that listen
/// on 127.0.0.1 only and live as long as their test.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_cluster_config_gets_its_ports_replaced() {
        let root = workspace_root().join("deploy/nats");
        for n in 1..=NODES as u16 {
            let file = root.join(format!("cluster-{n}.conf"));
            let derived = node_config(&file, &read(&file), n, [11, 12, 13, 14]);
            for line in [
                "\nlisten: 127.0.0.1:11\n",
                "\n  listen: 127.0.0.1:12\n",
                "\n  listen: 127.0.0.1:13\n",
                "\nhttp: 127.0.0.1:14\n",
            ] {
                assert!(derived.contains(line), "cluster-{n}.conf: {line:?}");
            }
            for shipped in [4221 + n, 6221 + n, 7421 + n, 8221 + n] {
                assert!(
                    !derived.contains(&format!("listen: 127.0.0.1:{shipped}\n"))
                        && !derived.contains(&format!("http: 127.0.0.1:{shipped}\n")),
                    "cluster-{n}.conf still listens on {shipped}"
                );
            }
        }
    }

    #[test]
    fn a_config_without_what_is_replaced_is_named() {
        let caught = std::panic::catch_unwind(|| {
            derive(
                Path::new("cluster-9.conf"),
                "listen: 1",
                &[("absent".to_owned(), "x".to_owned())],
            )
        });
        let message = caught
            .err()
            .and_then(|p| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert!(
            message.contains("cluster-9.conf no longer holds"),
            "{message}"
        );
    }

    #[test]
    fn passwords_are_unquoted_nats_strings() {
        let p = made_up_password();
        assert!(p.starts_with('t') && p.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(p, made_up_password());
    }

    #[test]
    fn ports_are_distinct() {
        let ports = distinct_free_ports(12);
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ports.len());
    }
}
