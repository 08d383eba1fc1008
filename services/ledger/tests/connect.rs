//! Connecting with each kind of credential the configuration offers, against
//! a real nats-server: TLS with a CA (and a client certificate), an nkey seed
//! file. (User and password: every other test; a list of seeds with a dead
//! one: tests/e2e/security.rs.)

// A test panics on a broken expectation by design: it may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lantern_ledger::{Expect, Ledger, NatsConfig, NewEvent, SchemaRegistry, StreamSettings};
use lantern_testkit::NatsServer;
use serde_json::json;
use uuid::Uuid;

/// Opens the stream and appends one event: the connection works end to end.
async fn append_one(config: &NatsConfig) {
    let client = lantern_ledger::connect(config).await.unwrap();
    let ledger = Ledger::open(
        client,
        &StreamSettings::default(),
        Arc::new(SchemaRegistry::embedded().unwrap()),
    )
    .await
    .unwrap();
    let event = NewEvent {
        event_type: "census.recorded",
        version: 1,
        aggregate: Uuid::new_v4(),
        hospital: "H1".into(),
        data: json!({"department": "ICU", "month": "2026-01", "discharges": 3}),
    };
    let appended = ledger.append(event, Expect::New, None).await.unwrap();
    assert_eq!(appended.seq, 1);
}

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("this test makes its certificates with the openssl command");
    assert!(status.success(), "openssl {args:?}");
}

/// A CA, and a server and a client certificate it signed (the server's for
/// 127.0.0.1).
fn certificates(dir: &Path) {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=lantern test CA",
    ]);
    openssl(dir, &ca);
    for who in ["server", "client"] {
        let (key, csr, pem, ext, subj) = (
            format!("{who}.key"),
            format!("{who}.csr"),
            format!("{who}.pem"),
            format!("{who}.ext"),
            format!("/CN=lantern test {who}"),
        );
        let mut req = vec!["req"];
        req.extend(ec);
        req.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
        openssl(dir, &req);
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                &ext,
            ],
        );
    }
}

#[tokio::test]
async fn tls_with_a_ca_and_a_client_certificate() {
    let certs = tempfile::tempdir().unwrap();
    let dir = certs.path();
    certificates(dir);
    let file = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let (cert, key, ca) = (file("server.pem"), file("server.key"), file("ca.pem"));
    // TLS required, and a client certificate signed by the CA.
    let server = NatsServer::start_with_args(&[
        "--tls",
        "--tlscert",
        &cert,
        "--tlskey",
        &key,
        "--tlsverify",
        "--tlscacert",
        &ca,
    ]);

    let config = NatsConfig {
        tls_ca: Some(dir.join("ca.pem")),
        tls_cert: Some(dir.join("client.pem")),
        tls_key: Some(dir.join("client.key")),
        ..NatsConfig::new(server.url()).with_user(server.user(), server.password())
    };
    append_one(&config).await;

    // Without the client certificate the server does not let us in: what
    // worked above was the certificate.
    let refused = async_nats::ConnectOptions::with_user_and_password(
        server.user().to_owned(),
        server.password().to_owned(),
    )
    .add_root_certificates(dir.join("ca.pem"))
    .require_tls(true)
    .connect(server.url())
    .await;
    assert!(refused.is_err(), "connected without a client certificate");
}

/// A server whose only user is an nkey (the alternative accounts.conf
/// describes), and Lantern's seed in a file.
#[tokio::test]
async fn an_nkey_seed_file() {
    // A key pair made for this test only (`nk -gen user -pubout`).
    const SEED: &str = "SUAHPVL4JQ2WVERSQTLI5FPSVTW7F6YXDM24LQEAFLVAYQN2AYEN5FB46E";
    const PUBLIC: &str = "UANIKN6F6N3X3S2XK2TJNAHVVX3VQ6GNC2MIZZGII6GZOOCWT3MVPEA2";
    let dir = tempfile::tempdir().unwrap();
    let port = lantern_testkit::free_port();
    let conf = dir.path().join("nkey.conf");
    std::fs::write(
        &conf,
        format!(
            "listen: 127.0.0.1:{port}\n\
             accounts {{ LANTERN {{ jetstream: enabled, users: [ {{ nkey: {PUBLIC} }} ] }} }}\n\
             jetstream {{ store_dir: {:?}, sync_interval: always }}\n",
            dir.path().join("store").display().to_string()
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("nats.log")).unwrap();
    let mut child = Command::new(lantern_testkit::find_binary())
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let url = format!("nats://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nats-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    let seed_file = dir.path().join("lantern.nk");
    std::fs::write(&seed_file, format!("{SEED}\n")).unwrap();
    let config = NatsConfig {
        nkey_file: Some(seed_file),
        ..NatsConfig::new(&url)
    };
    append_one(&config).await;

    // Anyone else is refused.
    assert!(async_nats::connect(&url).await.is_err());
    let _ = child.kill();
    let _ = child.wait();
}
