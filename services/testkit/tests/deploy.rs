//! The nats-server configs Lantern ships (deploy/nats/) against the real
//! server: each parses with the variables its comments ask for and refuses
//! to start without them; the cluster and a hospital leaf node form with
//! every listener asking for credentials, and the hub still sources the
//! hospital's stream through the leaf connection, inside Lantern's account.

// A test panics on a broken expectation by design: it may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream};
use lantern_testkit::{find_binary, free_port, workspace_root};

fn deploy(name: &str) -> PathBuf {
    workspace_root().join("deploy/nats").join(name)
}

/// What each config needs in its environment (values shaped as the comments
/// ask: letters and digits, starting with a letter).
fn env_for(name: &str) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("NATS_STORE_DIR", "/nonexistent/store".to_owned()),
        ("NATS_USER", "lantern".to_owned()),
        ("NATS_PASSWORD", "pLantern1".to_owned()),
    ];
    if name.starts_with("cluster-") {
        env.extend([
            ("NATS_ROUTE_USER", "route".to_owned()),
            ("NATS_ROUTE_PASSWORD", "pRoute1".to_owned()),
            (
                "NATS_ROUTES",
                "[nats-route://route:pRoute1@127.0.0.1:6222, nats-route://route:pRoute1@127.0.0.1:6223]"
                    .to_owned(),
            ),
            ("NATS_LEAF_USER", "leaf".to_owned()),
            ("NATS_LEAF_PASSWORD", "pLeaf1".to_owned()),
        ]);
    }
    if name.starts_with("region-hub") || name.starts_with("province-") {
        env.extend([
            ("NATS_JS_DOMAIN", "r01".to_owned()),
            ("NATS_LEAF_USER", "leaf".to_owned()),
            ("NATS_LEAF_PASSWORD", "pLeaf1".to_owned()),
        ]);
    }
    if name == "province-region-hub.conf" {
        env.push((
            "NATS_PROVINCE_URLS",
            "[nats-leaf://leaf:pLeaf1@127.0.0.1:7442]".to_owned(),
        ));
    }
    if name.starts_with("leaf-") {
        env.extend([
            ("NATS_SERVER_NAME", "hospital-h0001".to_owned()),
            ("NATS_JS_DOMAIN", "h0001".to_owned()),
            (
                "NATS_HUB_URLS",
                "[nats-leaf://leaf:pLeaf1@127.0.0.1:7422]".to_owned(),
            ),
        ]);
    }
    env
}

/// `nats-server -t`: does the config parse?
fn check(conf: &Path, env: &[(&str, String)]) -> (bool, String) {
    let out = Command::new(find_binary())
        .arg("-t")
        .arg("-c")
        .arg(conf)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run nats-server -t");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

const CONFIGS: [&str; 8] = [
    "single.conf",
    "cluster-1.conf",
    "cluster-2.conf",
    "cluster-3.conf",
    "leaf-hospital.conf",
    "region-hub.conf",
    "province-hub.conf",
    "province-region-hub.conf",
];

#[test]
fn every_shipped_config_parses_and_needs_its_credentials() {
    for name in CONFIGS {
        let env = env_for(name);
        let (ok, text) = check(&deploy(name), &env);
        assert!(ok, "{name}: {text}");
        // Without Lantern's password the server does not start: NATS is
        // never open by a forgotten setting.
        let without: Vec<_> = env
            .iter()
            .filter(|(k, _)| *k != "NATS_PASSWORD")
            .cloned()
            .collect();
        let (ok, text) = check(&deploy(name), &without);
        assert!(!ok, "{name} starts without NATS_PASSWORD");
        assert!(text.contains("NATS_PASSWORD"), "{name}: {text}");
    }
}

/// A copy of the deploy directory with every fixed port replaced by a free
/// one (so this test runs beside anything else), and the ports used.
fn with_free_ports(dir: &Path) -> BTreeMap<u16, u16> {
    let fixed = [
        4222, 4223, 4224, 6222, 6223, 6224, 7422, 7423, 7424, 8222, 8223, 8224, 4230, 8230, 4240,
        7442,
    ];
    let ports: BTreeMap<u16, u16> = fixed.iter().map(|&p| (p, free_port())).collect();
    for name in CONFIGS.iter().chain(&["accounts.conf"]) {
        let mut text = std::fs::read_to_string(deploy(name)).unwrap();
        for (from, to) in &ports {
            text = text.replace(&format!("127.0.0.1:{from}"), &format!("127.0.0.1:{to}"));
        }
        std::fs::write(dir.join(name), text).unwrap();
    }
    ports
}

struct Servers(Vec<Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn(conf: &Path, store: &Path, env: &[(&str, String)], log: &Path) -> Child {
    Command::new(find_binary())
        .arg("-c")
        .arg(conf)
        .env("NATS_STORE_DIR", store)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

async fn lantern_client(port: u16) -> async_nats::Client {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match async_nats::ConnectOptions::with_user_and_password(
            "lantern".into(),
            "pLantern1".into(),
        )
        .connect(format!("nats://127.0.0.1:{port}"))
        .await
        {
            Ok(c) => return c,
            Err(e) => assert!(Instant::now() < deadline, "port {port}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_cluster_and_a_hospital_leaf_source_through_lantern_s_account() {
    let dir = tempfile::tempdir().unwrap();
    let p = with_free_ports(dir.path());
    let routes = [6222, 6223, 6224]
        .map(|r| format!("nats-route://route:pRoute1@127.0.0.1:{}", p[&r]))
        .join(", ");
    let mut env = env_for("cluster-1.conf");
    env.retain(|(k, _)| *k != "NATS_ROUTES" && *k != "NATS_STORE_DIR");
    env.push(("NATS_ROUTES", format!("[{routes}]")));
    let mut servers = Servers(Vec::new());
    for i in 1..=3 {
        servers.0.push(spawn(
            &dir.path().join(format!("cluster-{i}.conf")),
            &dir.path().join(format!("n{i}")),
            &env,
            &dir.path().join(format!("n{i}.log")),
        ));
    }
    let leaf_env = vec![
        ("NATS_SERVER_NAME", "hospital-h0001".to_owned()),
        ("NATS_JS_DOMAIN", "h0001".to_owned()),
        ("NATS_USER", "lantern".to_owned()),
        ("NATS_PASSWORD", "pLantern1".to_owned()),
        (
            "NATS_HUB_URLS",
            format!("[nats-leaf://leaf:pLeaf1@127.0.0.1:{}]", p[&7422]),
        ),
    ];
    servers.0.push(spawn(
        &dir.path().join("leaf-hospital.conf"),
        &dir.path().join("leaf"),
        &leaf_env,
        &dir.path().join("leaf.log"),
    ));

    // No credentials: refused by the hub and by the hospital's server.
    for port in [p[&4222], p[&4230]] {
        let _ = lantern_client(port).await;
        let e = async_nats::connect(format!("nats://127.0.0.1:{port}"))
            .await
            .expect_err("an anonymous client must be refused");
        assert_eq!(
            e.kind(),
            async_nats::ConnectErrorKind::AuthorizationViolation
        );
    }
    // A process posing as a route without the route password is refused.
    {
        use std::io::{BufRead, BufReader, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", p[&6222])).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        s.write_all(b"CONNECT {\"verbose\":false}\r\nPING\r\n")
            .unwrap();
        line.clear();
        r.read_line(&mut line).unwrap();
        assert!(line.contains("Authorization Violation"), "route: {line}");
    }

    // The hospital's stream, on its own server, in its domain.
    let leaf = jetstream::new(lantern_client(p[&4230]).await);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match leaf
            .create_stream(stream::Config {
                name: "LANTERN".into(),
                subjects: vec!["lantern.>".into()],
                ..Default::default()
            })
            .await
        {
            Ok(_) => break,
            Err(e) => assert!(Instant::now() < deadline, "leaf stream: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for i in 0..3 {
        leaf.publish(format!("lantern.H0001.report.{i}"), "x".into())
            .await
            .unwrap()
            .await
            .unwrap();
    }

    // The hub sources it through the leaf connection by its domain.
    let hub = jetstream::new(lantern_client(p[&4222]).await);
    let config = stream::Config {
        name: "LANTERN_H0001".into(),
        sources: Some(vec![stream::Source {
            name: "LANTERN".into(),
            external: Some(stream::External {
                api_prefix: "$JS.h0001.API".into(),
                delivery_prefix: None,
            }),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut sourced = loop {
        match hub.create_stream(config.clone()).await {
            Ok(s) => break s,
            Err(e) => assert!(Instant::now() < deadline, "hub stream: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = sourced.info().await.unwrap().state.messages;
        if n == 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the hub sourced {n} of 3; leaf log:\n{}",
            std::fs::read_to_string(dir.path().join("leaf.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
