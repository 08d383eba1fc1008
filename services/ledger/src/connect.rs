//! Connecting to NATS: the seed servers, the credentials and TLS.
//!
//! The NATS server is not open (DESIGN "Security"): its accounts let only
//! Lantern's user publish and read `lantern.>` and use JetStream. What this
//! process connects with comes in one [`NatsConfig`], which the binary fills
//! from its configuration (`NATS_URL`, `NATS_USER`, …); nothing here reads the
//! environment.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_nats::connection::State;
use async_nats::{ConnectOptions, Event, ServerAddr};

use crate::LedgerError;

/// Where NATS is and how to prove who we are to it.
///
/// Exactly one way of authenticating, or none (a server without accounts):
/// a user and password, an nkey seed file, or a credentials file.
#[derive(Clone, Default)]
pub struct NatsConfig {
    /// Seed servers, comma-separated (`nats://10.0.0.1:4222,nats://10.0.0.2:4222`):
    /// the client tries them (in a random order, one that is down passed
    /// over) and learns the rest of a cluster from the first that answers. A `user:password@` in them is taken as
    /// [`NatsConfig::user`] and [`NatsConfig::password`].
    pub url: String,
    /// User name (`NATS_USER`), with [`NatsConfig::password`].
    pub user: Option<String>,
    /// Password (`NATS_PASSWORD`).
    pub password: Option<String>,
    /// A file holding the user's nkey seed (`SU…`, as `nk -gen user` prints
    /// it): `NATS_NKEY`. A file, not the seed itself, so the secret is not
    /// in the environment of every process started from ours.
    pub nkey_file: Option<PathBuf>,
    /// A credentials file (a user JWT and its nkey seed) for servers in
    /// operator mode: `NATS_CREDS`.
    pub creds_file: Option<PathBuf>,
    /// The CA that signed the server's certificate (`NATS_TLS_CA`); when set,
    /// the connection must be TLS.
    pub tls_ca: Option<PathBuf>,
    /// Client certificate (`NATS_TLS_CERT`), with [`NatsConfig::tls_key`],
    /// for servers that verify clients.
    pub tls_cert: Option<PathBuf>,
    /// The client certificate's private key (`NATS_TLS_KEY`).
    pub tls_key: Option<PathBuf>,
}

impl std::fmt::Debug for NatsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("NatsConfig")
            .field("url", &redact_url_list(&self.url))
            .field("user", &self.user)
            .field("password", &secret(&self.password))
            .field("nkey_file", &self.nkey_file)
            .field("creds_file", &self.creds_file)
            .field("tls_ca", &self.tls_ca)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .finish()
    }
}

/// A user name and its password.
type UserPassword = (String, String);

/// How the client proves who it is.
#[derive(Debug, PartialEq, Eq)]
enum Auth {
    /// No credentials: a server without accounts (never a shipped config).
    None,
    UserPassword(String, String),
    Nkey(PathBuf),
    Creds(PathBuf),
}

impl NatsConfig {
    /// Seed servers `url` (comma-separated) and no credentials.
    pub fn new(url: impl Into<String>) -> NatsConfig {
        NatsConfig {
            url: url.into(),
            ..NatsConfig::default()
        }
    }

    /// This configuration with a user and password.
    pub fn with_user(self, user: impl Into<String>, password: impl Into<String>) -> NatsConfig {
        NatsConfig {
            user: Some(user.into()),
            password: Some(password.into()),
            ..self
        }
    }

    /// The seed servers, each parsed on its own, without the credentials
    /// some of them may carry (the client would ignore them, and logs its
    /// addresses).
    pub fn servers(&self) -> Result<Vec<ServerAddr>, LedgerError> {
        Ok(self.seeds()?.into_iter().map(|(addr, _)| addr).collect())
    }

    /// Each seed, and the `user:password` it carried.
    fn seeds(&self) -> Result<Vec<(ServerAddr, Option<UserPassword>)>, LedgerError> {
        let mut seeds = Vec::new();
        for entry in self.url.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (bare, userinfo) = split_userinfo(entry);
            let addr: ServerAddr = bare.parse().map_err(|e| {
                invalid(format!(
                    "NATS URL {:?} (in {:?}): {e}",
                    bare,
                    redact_url_list(&self.url)
                ))
            })?;
            let creds = match userinfo {
                None => None,
                Some(info) => Some(match info.split_once(':') {
                    Some((u, p)) => (percent_decode(u), percent_decode(p)),
                    None => {
                        return Err(invalid(format!(
                            "NATS URL {bare:?} names a user but no password"
                        )));
                    }
                }),
            };
            seeds.push((addr, creds));
        }
        if seeds.is_empty() {
            return Err(invalid("no NATS server URL given".into()));
        }
        Ok(seeds)
    }

    /// The one way of authenticating that is configured.
    fn auth(&self) -> Result<Auth, LedgerError> {
        let mut from_urls = None;
        for (_, creds) in self.seeds()? {
            match (&from_urls, creds) {
                (_, None) => {}
                (None, Some(c)) => from_urls = Some(c),
                (Some(a), Some(b)) if *a == b => {}
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        "the NATS URLs carry different credentials; give them once, as NATS_USER and NATS_PASSWORD"
                            .into(),
                    ));
                }
            }
        }
        let user = match (&self.user, &self.password, from_urls) {
            (None, None, None) => None,
            (None, None, Some(c)) => Some(c),
            (Some(u), Some(p), None) => Some((u.clone(), p.clone())),
            (Some(_), Some(_), Some(_)) => {
                return Err(invalid(
                    "credentials both in the NATS URL and as NATS_USER/NATS_PASSWORD; give them once"
                        .into(),
                ));
            }
            (Some(_), None, _) => {
                return Err(invalid("NATS_USER is set but NATS_PASSWORD is not".into()));
            }
            (None, Some(_), _) => {
                return Err(invalid("NATS_PASSWORD is set but NATS_USER is not".into()));
            }
        };
        if let Some((u, p)) = &user
            && (u.is_empty() || p.is_empty())
        {
            return Err(invalid(
                "the NATS user name and password must not be empty".into(),
            ));
        }
        let ways = [
            user.is_some(),
            self.nkey_file.is_some(),
            self.creds_file.is_some(),
        ];
        if ways.iter().filter(|w| **w).count() > 1 {
            return Err(invalid(
                "more than one way to authenticate to NATS: set one of NATS_USER/NATS_PASSWORD, NATS_NKEY, NATS_CREDS"
                    .into(),
            ));
        }
        Ok(match (user, &self.nkey_file, &self.creds_file) {
            (Some((u, p)), _, _) => Auth::UserPassword(u, p),
            (_, Some(nkey), _) => Auth::Nkey(nkey.clone()),
            (_, _, Some(creds)) => Auth::Creds(creds.clone()),
            _ => Auth::None,
        })
    }

    /// The client options with the credentials and TLS, and a flag raised
    /// when the server refuses the credentials.
    async fn options(&self) -> Result<(ConnectOptions, Arc<AtomicBool>), LedgerError> {
        let mut options = ConnectOptions::new();
        match self.auth()? {
            Auth::None => {}
            Auth::UserPassword(user, password) => {
                options = options.user_and_password(user, password);
            }
            Auth::Nkey(path) => options = options.nkey(read_nkey_seed(&path)?),
            Auth::Creds(path) => {
                readable(&path, "NATS_CREDS")?;
                options = options
                    .credentials_file(&path)
                    .await
                    .map_err(|e| invalid(format!("NATS_CREDS {}: {e}", path.display())))?;
            }
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                readable(cert, "NATS_TLS_CERT")?;
                readable(key, "NATS_TLS_KEY")?;
                options = options
                    .add_client_certificate(cert.clone(), key.clone())
                    .require_tls(true);
            }
            (None, None) => {}
            _ => {
                return Err(invalid(
                    "NATS_TLS_CERT and NATS_TLS_KEY go together: set both or neither".into(),
                ));
            }
        }
        if let Some(ca) = &self.tls_ca {
            readable(ca, "NATS_TLS_CA")?;
            options = options.add_root_certificates(ca.clone()).require_tls(true);
        }
        // Say once, plainly, when the server refuses who we are: the
        // client's own messages do not say which setting to look at.
        let refused = Arc::new(AtomicBool::new(false));
        let told = refused.clone();
        options = options.event_callback(move |event| {
            let told = told.clone();
            async move { explain(&event, &told) }
        });
        Ok((options, refused))
    }
}

/// Logs what an operator should do about a refused connection or a denied
/// subject.
fn explain(event: &Event, told: &AtomicBool) {
    let text = event.to_string().to_lowercase();
    if text.contains("authorization violation")
        || text.contains("authentication")
        || text.contains("signing nonce")
    {
        if !told.swap(true, Ordering::Relaxed) {
            tracing::error!(
                "the NATS server refused Lantern's credentials: check NATS_USER/NATS_PASSWORD, NATS_NKEY or NATS_CREDS \
                 against the server's accounts (deploy/nats/)"
            );
        }
    } else if text.contains("permissions violation") {
        tracing::error!(event = %event, "the NATS server denied Lantern a subject: its user's permissions are too narrow");
    }
}

/// How long [`connect`] waits for its first connection before it goes on
/// and lets the client keep trying in the background.
const FIRST_CONNECTION: Duration = Duration::from_secs(5);

/// Connects to NATS and warns when the server is older than the design needs.
///
/// The client keeps reconnecting in the background for as long as it lives, so
/// a broker restart is ridden out; it also starts before its broker answers
/// (a seed that is down is passed over for the next). A setting that cannot
/// work (two ways of authenticating, a missing file, a URL that does not
/// parse) is an error here, before anything is tried, and so are
/// credentials the server refuses: a process that can never get in stops at
/// once, saying why, instead of timing out on its first request.
pub async fn connect(config: &NatsConfig) -> Result<async_nats::Client, LedgerError> {
    let servers = config.servers()?;
    let (options, refused) = config.options().await?;
    let client = options
        .name("lantern")
        .retry_on_initial_connect()
        // Reconnect quickly after a broker restart: a hospital's filing
        // waits on it.
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((attempts as u64 * 100).min(1000))
        })
        .connection_timeout(Duration::from_secs(5))
        .connect(servers)
        .await
        .map_err(|e| {
            LedgerError::Unavailable(format!("connect to {}: {e}", redact_url_list(&config.url)))
        })?;
    let deadline = Instant::now() + FIRST_CONNECTION;
    loop {
        if client.connection_state() == State::Connected {
            break;
        }
        if refused.load(Ordering::Relaxed) {
            return Err(invalid(format!(
                "the NATS server at {} refused the credentials",
                redact_url_list(&config.url)
            )));
        }
        if Instant::now() >= deadline {
            tracing::warn!(
                servers = %redact_url_list(&config.url),
                "NATS does not answer yet; going on, and connecting in the background"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let version = client.server_info().version;
    if !version.is_empty() && !crate::server_version_ok(&version) {
        tracing::warn!(
            %version,
            "nats-server is older than 2.10: sync_interval and filtered consumers are not supported; \
             acknowledged writes may be lost on power failure"
        );
    }
    Ok(client)
}

/// A setting that cannot work.
fn invalid(message: String) -> LedgerError {
    LedgerError::Config(message)
}

/// Fails, naming the setting, when `path` cannot be read: the client would
/// otherwise find out on every reconnect attempt, forever.
fn readable(path: &Path, setting: &str) -> Result<(), LedgerError> {
    std::fs::File::open(path)
        .map(drop)
        .map_err(|e| invalid(format!("{setting} {}: {e}", path.display())))
}

/// The nkey seed in a file: its first non-empty line that is not a comment
/// (`nk -gen user > user.nk` writes just the seed).
fn read_nkey_seed(path: &Path) -> Result<String, LedgerError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(format!("NATS_NKEY {}: {e}", path.display())))?;
    let seed = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"))
        .unwrap_or_default();
    // A user seed: "S" (seed) then "U" (user) in the nkeys encoding.
    if !seed.starts_with("SU") {
        return Err(invalid(format!(
            "NATS_NKEY {}: no user nkey seed (a line starting with SU) in the file",
            path.display()
        )));
    }
    Ok(seed.to_owned())
}

/// `scheme://user:pass@host:port/…` → (`scheme://host:port/…`, `Some("user:pass")`).
fn split_userinfo(entry: &str) -> (String, Option<String>) {
    let (scheme, rest) = match entry.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, entry),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some(at) = authority.rfind('@') else {
        return (entry.to_owned(), None);
    };
    let (userinfo, host) = (&authority[..at], &authority[at + 1..]);
    let bare = match scheme {
        Some(s) => format!("{s}://{host}{path}"),
        None => format!("{host}{path}"),
    };
    (bare, Some(userinfo.to_owned()))
}

/// The URL list with any password replaced, for messages and logs.
pub fn redact_url_list(urls: &str) -> String {
    urls.split(',')
        .map(|entry| match split_userinfo(entry.trim()) {
            (bare, Some(info)) => {
                let user = info.split_once(':').map_or(info.as_str(), |(u, _)| u);
                match bare.split_once("://") {
                    Some((scheme, rest)) => format!("{scheme}://{user}:<redacted>@{rest}"),
                    None => format!("{user}:<redacted>@{bare}"),
                }
            }
            (bare, None) => bare,
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `%XX` escapes of a URL's user or password, decoded (bytes that do not
/// make UTF-8 are replaced).
fn percent_decode(s: &str) -> String {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(h), Some(l)) => {
                // Two hex digits: at most 255.
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_seeds_is_parsed_one_by_one() {
        let c = NatsConfig::new("nats://127.0.0.1:4222, nats://10.0.0.2:4223,,tls://h3");
        let servers = c.servers().unwrap();
        let ports: Vec<_> = servers
            .iter()
            .map(|s| (s.host().to_owned(), s.port()))
            .collect();
        assert_eq!(
            ports,
            [
                ("127.0.0.1".to_owned(), 4222),
                ("10.0.0.2".to_owned(), 4223),
                ("h3".to_owned(), 4222)
            ]
        );
        assert!(servers[2].tls_required());
    }

    #[test]
    fn a_bad_seed_is_named() {
        let e = NatsConfig::new("nats://a:4222,nats://b:notaport")
            .servers()
            .unwrap_err();
        assert!(matches!(e, LedgerError::Config(_)), "{e:?}");
        assert!(e.to_string().contains("nats://b:notaport"), "{e}");
        assert!(NatsConfig::new(" , ").servers().is_err());
    }

    #[test]
    fn credentials_in_urls_are_taken_out_of_them_and_never_shown() {
        let c =
            NatsConfig::new("nats://lantern:s%40cret@127.0.0.1:4222,nats://lantern:s%40cret@h2");
        for s in c.servers().unwrap() {
            assert!(!s.as_url_str().contains("cret"), "{s:?}");
            assert!(!s.has_user_pass());
        }
        assert_eq!(
            c.auth().unwrap(),
            Auth::UserPassword("lantern".into(), "s@cret".into())
        );
        assert!(!format!("{c:?}").contains("cret"));
        assert_eq!(
            redact_url_list("nats://u:p@h:1,h2"),
            "nats://u:<redacted>@h:1,h2"
        );
        let differ = NatsConfig::new("nats://a:1@h1,nats://b:2@h2");
        assert!(differ.auth().is_err());
        let twice = NatsConfig::new("nats://a:1@h1").with_user("a", "1");
        assert!(twice.auth().is_err());
    }

    #[test]
    fn one_way_of_authenticating() {
        let base = NatsConfig::new("nats://127.0.0.1:4222");
        assert_eq!(base.auth().unwrap(), Auth::None);
        let user = base.clone().with_user("lantern", "pw");
        assert_eq!(
            user.auth().unwrap(),
            Auth::UserPassword("lantern".into(), "pw".into())
        );
        let both = NatsConfig {
            nkey_file: Some("/x".into()),
            ..user.clone()
        };
        assert!(both.auth().is_err());
        let half = NatsConfig {
            password: None,
            ..user.clone()
        };
        assert!(half.auth().is_err());
        assert!(base.clone().with_user("lantern", "").auth().is_err());
        assert!(!format!("{user:?}").contains("pw"));
    }

    #[tokio::test]
    async fn files_that_are_not_there_are_named() {
        let c = NatsConfig {
            tls_ca: Some("/no/such/ca.pem".into()),
            ..NatsConfig::new("nats://127.0.0.1:4222")
        };
        let e = c.options().await.err().unwrap();
        assert!(e.to_string().contains("NATS_TLS_CA"), "{e}");
        let c = NatsConfig {
            tls_cert: Some("/no/such/cert.pem".into()),
            ..NatsConfig::new("nats://127.0.0.1:4222")
        };
        let e = c.options().await.err().unwrap();
        assert!(e.to_string().contains("NATS_TLS_KEY"), "{e}");
        let c = NatsConfig {
            nkey_file: Some("/no/such/user.nk".into()),
            ..NatsConfig::new("nats://127.0.0.1:4222")
        };
        let e = c.options().await.err().unwrap();
        assert!(e.to_string().contains("NATS_NKEY"), "{e}");
    }

    #[test]
    fn an_nkey_file_holds_a_user_seed() {
        let dir = std::env::temp_dir().join(format!("lantern-nkey-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("user.nk");
        std::fs::write(
            &good,
            "# lantern\nSUAAVWRZG6M5FA5VRRGWSCIHKTOJC7EWNIT4JV3FTOIPO4OBFR5WA7X5TE\n",
        )
        .unwrap();
        assert!(read_nkey_seed(&good).unwrap().starts_with("SUAA"));
        let bad = dir.join("public.nk");
        std::fs::write(
            &bad,
            "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4\n",
        )
        .unwrap();
        assert!(read_nkey_seed(&bad).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
