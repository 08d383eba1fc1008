//! The `lantern` binary the bench measures; `lantern serve` as a child
//! process of the bench: its address, readiness, catch-up, peak memory and
//! disk use; and `lantern rebuild` and `lantern projectors` as ones.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lantern_ledger::local::NatsServer;
use serde_json::Value;

/// The `lantern` binary to run: `explicit` (`--lantern`, `LANTERN_BIN`),
/// else the `lantern` beside this executable, where `cargo build` puts both.
/// An error that says how to get one when there is no such file.
pub fn lantern_binary(explicit: Option<&Path>) -> Result<PathBuf, String> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None => std::env::current_exe()
            .map_err(|e| format!("cannot locate this executable to find `lantern` beside it: {e}"))?
            .with_file_name("lantern"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "no lantern binary at {}: build it (`cargo build --release -p lantern`, \
             as `make bench` does) or name it with --lantern <PATH> or LANTERN_BIN",
            path.display()
        ))
    }
}

/// The projectors' names, as `lantern projectors` lists them: the bench
/// rebuilds and measures every projector the binary has, and knows none of
/// them itself.
pub async fn projectors(lantern: &Path) -> Result<Vec<String>, String> {
    let mut command = Command::new(lantern);
    command.arg("projectors").stdin(Stdio::null());
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("spawn lantern projectors: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "lantern projectors exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err("lantern projectors listed none".to_owned());
    }
    Ok(names)
}

/// A running `lantern serve`.
pub struct Serve {
    child: Option<Child>,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Its data directory.
    pub data_dir: PathBuf,
    log: PathBuf,
}

/// The admin token the bench starts `serve` with.
pub const ADMIN: &str = "bench-admin-token";

impl Serve {
    /// Starts `lantern serve` (the binary `lantern`) on `nats` with its
    /// read models in `data_dir`, and waits until it answers.
    pub async fn start(
        http: &reqwest::Client,
        lantern: &Path,
        nats: &NatsServer,
        data_dir: &Path,
    ) -> Result<Serve, String> {
        Serve::start_with(http, lantern, nats, data_dir, &[]).await
    }

    /// [`Serve::start`] with extra environment (e.g. `LANTERN_GROUP_COMMIT`).
    pub async fn start_with(
        http: &reqwest::Client,
        lantern: &Path,
        nats: &NatsServer,
        data_dir: &Path,
        env: &[(&str, &str)],
    ) -> Result<Serve, String> {
        std::fs::create_dir_all(data_dir).map_err(|e| e.to_string())?;
        let port = lantern_ledger::local::free_port().map_err(|e| e.to_string())?;
        let log = data_dir.with_extension("log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| e.to_string())?;
        let child = Command::new(lantern)
            .arg("serve")
            // The server's address and Lantern's credentials for it.
            .envs(nats.env())
            .env("LANTERN_DATA_DIR", data_dir)
            .env("LANTERN_HTTP_ADDR", format!("127.0.0.1:{port}"))
            // /metrics on a port of its own: never a fixed one another
            // process may hold.
            .env("LANTERN_OPS_ADDR", "127.0.0.1:0")
            .env("LANTERN_ADMIN_TOKEN", ADMIN)
            .env("LANTERN_RATE_LIMITS", "off")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("spawn lantern serve: {e}"))?;
        let mut serve = Serve {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            data_dir: data_dir.to_owned(),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(c) = serve.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                return Err(format!(
                    "lantern serve exited with {status}: {}",
                    serve.log_tail()
                ));
            }
            if let Ok(r) = http.get(format!("{}/healthz", serve.base)).send().await
                && r.status().is_success()
            {
                return Ok(serve);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "lantern serve did not answer: {}",
                    serve.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The end of its log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(2000);
        text.get(start..).unwrap_or_default().to_owned()
    }

    /// Its process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Waits until every projector has applied the stream's last sequence
    /// (as `/readyz` reports it); returns that sequence.
    pub async fn caught_up(&self, http: &reqwest::Client, at_least: u64) -> Result<u64, String> {
        loop {
            let v: Value = http
                .get(format!("{}/readyz", self.base))
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            let last = v["stream_last_sequence"].as_u64().unwrap_or(0);
            let projectors = v["projectors"].as_array().cloned().unwrap_or_default();
            if projectors
                .iter()
                .any(|p| p["running"] == Value::Bool(false))
            {
                return Err(format!("a projector stopped: {v}\n{}", self.log_tail()));
            }
            if last >= at_least
                && projectors
                    .iter()
                    .all(|p| p["applied"].as_u64().unwrap_or(0) >= last)
            {
                return Ok(last);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Peak resident set size (VmHWM), in MiB.
    pub fn peak_rss_mb(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        let kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    }

    /// Current resident set size (VmRSS), in MiB.
    pub fn rss_mb(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        let kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    }

    /// Stops it with SIGTERM (graceful: projectors finish their batch).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Bytes a directory takes on disk (allocated blocks), recursively.
pub fn disk_bytes(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_dir() {
        std::fs::read_dir(path)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| disk_bytes(&e.path()))
                    .sum()
            })
            .unwrap_or(0)
    } else {
        meta.blocks() * 512
    }
}

/// Counts a process's fsync and fdatasync calls with `perf stat` on the
/// syscall tracepoints (cheap, unlike ptrace): how many durable writes a
/// phase cost the server. `None` where perf is missing or not permitted.
pub struct Fsyncs {
    child: Child,
    out: PathBuf,
}

impl Fsyncs {
    /// Starts counting the syscalls of `pid`; the result goes to `out`.
    pub fn start(pid: u32, out: &Path) -> Option<Fsyncs> {
        let child = Command::new("perf")
            .args([
                "stat",
                "-x,",
                "-e",
                "syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync",
                "-p",
                &pid.to_string(),
                "-o",
            ])
            .arg(out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        // Give perf a moment to attach before the phase starts.
        std::thread::sleep(Duration::from_millis(300));
        Some(Fsyncs {
            child,
            out: out.to_owned(),
        })
    }

    /// Stops counting; the number of fsync + fdatasync calls.
    pub fn stop(mut self) -> Option<u64> {
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let text = std::fs::read_to_string(&self.out).ok()?;
        let counts: Vec<u64> = text
            .lines()
            .filter(|l| l.contains("syscalls:sys_enter_"))
            .filter_map(|l| l.split(',').next()?.trim().parse().ok())
            .collect();
        (!counts.is_empty()).then(|| counts.iter().sum())
    }
}

/// Runs `lantern rebuild <projector> --into <into>` (the binary `lantern`)
/// over the stream on `nats` and waits for it to finish: the command an
/// operator runs, in a process of its own.
pub async fn rebuild(
    lantern: &Path,
    nats: &NatsServer,
    projector: &str,
    into: &Path,
) -> Result<(), String> {
    let mut command = Command::new(lantern);
    command
        .arg("rebuild")
        .arg(projector)
        .arg("--into")
        .arg(into)
        .envs(nats.env())
        .stdin(Stdio::null());
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("spawn lantern rebuild: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail = err
            .get(err.len().saturating_sub(2000)..)
            .unwrap_or_default();
        Err(format!(
            "lantern rebuild {projector} exited with {}: {tail}",
            out.status
        ))
    }
}
