//! The `LANTERN` stream: the configuration the design demands, how an
//! existing stream differs from it, and the one explicit way to change it.
//!
//! No process changes an existing stream as a side effect (DESIGN
//! "Deployment tiers"): [`ensure_stream`] creates the stream when it is
//! absent and otherwise only compares, refusing a difference that matters;
//! [`open_existing`] neither creates nor compares (rebuilds, which only
//! read); only [`apply`] — `lantern stream apply` — updates a stream.

use std::fmt;
use std::time::Duration;

use async_nats::jetstream::{
    self,
    stream::{self, RetentionPolicy, Source, StorageType},
};

use crate::{LedgerError, STREAM};

/// Settings of the stream that vary by deployment.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// Replicas: 1 on a laptop, 3 in a cluster.
    pub replicas: usize,
    /// How long JetStream remembers message ids for de-duplication (≥ 2 min).
    pub duplicate_window: Duration,
    /// Streams this one sources (a region's hub sources its hospitals);
    /// none for a standalone or hospital Lantern.
    pub sources: Vec<Source>,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
            sources: Vec::new(),
        }
    }
}

/// The stream configuration the design demands: every `lantern.>` subject,
/// file storage, no age or size limit, deletes and purges refused.
pub fn config(settings: &StreamSettings) -> stream::Config {
    stream::Config {
        name: STREAM.to_owned(),
        description: Some("Lantern: every fact, as an immutable event".to_owned()),
        subjects: vec!["lantern.>".to_owned()],
        storage: StorageType::File,
        retention: RetentionPolicy::Limits,
        num_replicas: settings.replicas.max(1),
        duplicate_window: settings.duplicate_window.max(Duration::from_secs(120)),
        deny_delete: true,
        deny_purge: true,
        allow_direct: true,
        // Several events of one command stored all or none (ADR-50, 2.12+).
        allow_atomic_publish: true,
        sources: (!settings.sources.is_empty()).then(|| settings.sources.clone()),
        ..Default::default()
    }
}

/// A limit that makes the server delete messages once it is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `max_age`, in seconds here.
    MaxAge,
    /// `max_bytes`.
    MaxBytes,
    /// `max_msgs`.
    MaxMessages,
    /// `max_msgs_per_subject`: one aggregate's history cut short.
    MaxMessagesPerSubject,
}

impl Limit {
    const ALL: [Limit; 4] = [
        Limit::MaxAge,
        Limit::MaxBytes,
        Limit::MaxMessages,
        Limit::MaxMessagesPerSubject,
    ];

    /// The limit in `config`, `None` when there is none (the server says
    /// "none" as -1 or 0).
    fn of(self, config: &stream::Config) -> Option<u64> {
        let positive = |v: i64| u64::try_from(v).ok().filter(|v| *v > 0);
        match self {
            Limit::MaxAge => Some(config.max_age.as_secs()).filter(|s| *s > 0),
            Limit::MaxBytes => positive(config.max_bytes),
            Limit::MaxMessages => positive(config.max_messages),
            Limit::MaxMessagesPerSubject => positive(config.max_messages_per_subject),
        }
    }

    /// Sets this limit in `config` to the one of `from`.
    fn copy(self, from: &stream::Config, config: &mut stream::Config) {
        match self {
            Limit::MaxAge => config.max_age = from.max_age,
            Limit::MaxBytes => config.max_bytes = from.max_bytes,
            Limit::MaxMessages => config.max_messages = from.max_messages,
            Limit::MaxMessagesPerSubject => {
                config.max_messages_per_subject = from.max_messages_per_subject;
            }
        }
    }

    fn describe(self, value: Option<u64>) -> String {
        match (self, value) {
            (_, None) => "no limit".to_owned(),
            (Limit::MaxAge, Some(secs)) => duration(Duration::from_secs(secs)),
            (Limit::MaxBytes, Some(n)) => format!("{n} bytes"),
            (Limit::MaxMessages | Limit::MaxMessagesPerSubject, Some(n)) => {
                format!("{n} messages")
            }
        }
    }
}

impl Limit {
    /// The setting's name, as the server and the `nats` tool call it.
    pub fn name(self) -> &'static str {
        match self {
            Limit::MaxAge => "max_age",
            Limit::MaxBytes => "max_bytes",
            Limit::MaxMessages => "max_msgs",
            Limit::MaxMessagesPerSubject => "max_msgs_per_subject",
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One way an existing stream differs from the configuration.
///
/// Each is either refused ([`Difference::is_refused`]: a process will not
/// start on it, because Lantern's promises would not hold or the operator's
/// configuration says something else than the stream) or harmless (noted,
/// and left for `lantern stream apply`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// The subjects the stream captures (compared as sets).
    Subjects {
        /// The stream's.
        have: Vec<String>,
        /// The configuration's.
        want: Vec<String>,
    },
    /// The number of replicas.
    Replicas {
        /// The stream's.
        have: usize,
        /// The configuration's.
        want: usize,
    },
    /// The streams sourced (compared as sets, by stream, filter, domain or
    /// API prefix and transforms; where each starts is not compared).
    Sources {
        /// The stream's.
        have: Vec<Source>,
        /// The configuration's.
        want: Vec<Source>,
    },
    /// The stream mirrors another.
    Mirror {
        /// The stream's.
        have: Option<Box<Source>>,
        /// The configuration's.
        want: Option<Box<Source>>,
    },
    /// File or memory.
    Storage {
        /// The stream's.
        have: StorageType,
        /// The configuration's.
        want: StorageType,
    },
    /// When the server removes messages.
    Retention {
        /// The stream's.
        have: RetentionPolicy,
        /// The configuration's.
        want: RetentionPolicy,
    },
    /// How long message ids are remembered for de-duplication.
    DuplicateWindow {
        /// The stream's.
        have: Duration,
        /// The configuration's.
        want: Duration,
    },
    /// Whether single messages may be deleted.
    DenyDelete {
        /// The stream's.
        have: bool,
        /// The configuration's.
        want: bool,
    },
    /// Whether the stream may be purged.
    DenyPurge {
        /// The stream's.
        have: bool,
        /// The configuration's.
        want: bool,
    },
    /// Whether atomic batches are allowed.
    AllowAtomic {
        /// The stream's.
        have: bool,
        /// The configuration's.
        want: bool,
    },
    /// Whether direct gets are allowed.
    AllowDirect {
        /// The stream's.
        have: bool,
        /// The configuration's.
        want: bool,
    },
    /// A limit at which the server deletes messages.
    Limit {
        /// Which.
        limit: Limit,
        /// The stream's (`None`: no limit).
        have: Option<u64>,
        /// The configuration's.
        want: Option<u64>,
    },
    /// The text shown to operators.
    Description {
        /// The stream's.
        have: Option<String>,
        /// The configuration's.
        want: Option<String>,
    },
}

impl Difference {
    /// Whether a process refuses to start on this difference.
    ///
    /// The reasons, field by field:
    /// - subjects: a subject the stream does not capture cannot be appended
    ///   to, and one it captures beyond the configuration's takes other
    ///   messages into the ledger;
    /// - replicas, either way: fewer loses the durability the operator asked
    ///   for, and more means the configuration is not the deployment's (a
    ///   later `apply` with it would cut the stream down);
    /// - sources and mirror: they decide which hospitals' events the stream
    ///   holds, and a mirror takes no writes at all;
    /// - storage in memory, or a retention other than limits, or any limit:
    ///   the server would lose or delete facts that are kept forever;
    /// - a shorter duplicate window: a retry after it is stored twice;
    /// - deletes or purges allowed: the stream is no longer append-only;
    /// - no atomic batches: group commit and multi-event commands fail.
    ///
    /// Harmless: a longer duplicate window (more memory, the same
    /// guarantee), direct gets (Lantern reads through the stream's own
    /// message API, never a direct get) and the description.
    pub fn is_refused(&self) -> bool {
        match self {
            Difference::Subjects { .. }
            | Difference::Replicas { .. }
            | Difference::Sources { .. }
            | Difference::Mirror { .. }
            | Difference::Storage { .. }
            | Difference::Retention { .. }
            | Difference::Limit { .. } => true,
            Difference::DuplicateWindow { have, want } => have < want,
            Difference::DenyDelete { have, want }
            | Difference::DenyPurge { have, want }
            | Difference::AllowAtomic { have, want } => *want && !*have,
            Difference::AllowDirect { .. } | Difference::Description { .. } => false,
        }
    }

    /// Whether `lantern stream apply` can bring the stream to the
    /// configuration in place: the server changes neither the storage nor a
    /// mirror of an existing stream, nor a retention to or from work queue.
    /// (Replicas beyond the cluster's servers are refused by the server
    /// itself, with its reason.)
    pub fn is_changeable(&self) -> bool {
        match self {
            Difference::Storage { .. } | Difference::Mirror { .. } => false,
            Difference::Retention { have, want } => {
                *have != RetentionPolicy::WorkQueue && *want != RetentionPolicy::WorkQueue
            }
            _ => true,
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// `30 d`, `2 min`, `90 s`, `250 ms`.
fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0 => format!("{} ms", d.as_millis()),
        s if d.subsec_nanos() != 0 => format!("{} ms", s * 1000 + u64::from(d.subsec_millis())),
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3_600 == 0 => format!("{} h", s / 3_600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

fn storage(s: StorageType) -> &'static str {
    match s {
        StorageType::File => "file",
        StorageType::Memory => "memory",
    }
}

fn retention(r: RetentionPolicy) -> &'static str {
    match r {
        RetentionPolicy::Limits => "limits",
        RetentionPolicy::Interest => "interest",
        RetentionPolicy::WorkQueue => "workqueue",
    }
}

/// `H0001 (lantern.H0001.>, domain h0001)`.
pub fn describe_source(s: &Source) -> String {
    let key = SourceKey::of(s);
    let mut details = Vec::new();
    if let Some(f) = &key.filter {
        details.push(f.clone());
    }
    match (&s.domain, &key.api) {
        (Some(d), _) if !d.is_empty() => details.push(format!("domain {d}")),
        (_, Some(api)) => details.push(format!("API {api}")),
        _ => {}
    }
    for (from, to) in &key.transforms {
        details.push(format!("{from} → {to}"));
    }
    if details.is_empty() {
        key.name
    } else {
        format!("{} ({})", key.name, details.join(", "))
    }
}

fn sources(list_: &[Source]) -> String {
    list(&list_.iter().map(describe_source).collect::<Vec<_>>())
}

fn allowed(b: bool) -> &'static str {
    if b { "allows" } else { "does not allow" }
}

fn quoted(d: Option<&String>) -> String {
    d.map_or("nothing".to_owned(), |d| format!("{d:?}"))
}

impl fmt::Display for Difference {
    /// What the stream has against what the configuration asks, to follow
    /// "stream LANTERN ".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Subjects { have, want } => write!(
                f,
                "captures {}, the configuration asks for {}",
                list(have),
                list(want)
            ),
            Difference::Replicas { have, want } => write!(
                f,
                "has {}, the configuration asks for {want}",
                plural(*have, "replica", "replicas")
            ),
            Difference::Sources { have, want } => write!(
                f,
                "sources {}, the configuration asks for {}",
                sources(have),
                sources(want)
            ),
            Difference::Mirror { have, want } => write!(
                f,
                "mirrors {}, the configuration asks for {}",
                have.as_deref()
                    .map_or("nothing".to_owned(), describe_source),
                want.as_deref()
                    .map_or("no mirror".to_owned(), describe_source)
            ),
            Difference::Storage { have, want } => write!(
                f,
                "is stored in {}, the configuration asks for {}",
                storage(*have),
                storage(*want)
            ),
            Difference::Retention { have, want } => write!(
                f,
                "has {} retention, the configuration asks for {}",
                retention(*have),
                retention(*want)
            ),
            Difference::DuplicateWindow { have, want } => write!(
                f,
                "has a duplicate window of {}, the configuration asks for {}",
                duration(*have),
                duration(*want)
            ),
            Difference::DenyDelete { have, .. } => write!(
                f,
                "{} deleting messages, the configuration {}",
                allowed(!*have),
                if *have { "allows it" } else { "denies it" }
            ),
            Difference::DenyPurge { have, .. } => write!(
                f,
                "{} purging, the configuration {}",
                allowed(!*have),
                if *have { "allows it" } else { "denies it" }
            ),
            Difference::AllowAtomic { have, .. } => write!(
                f,
                "{} atomic batches, the configuration {}",
                allowed(*have),
                if *have {
                    "does not"
                } else {
                    "needs them (nats-server 2.12 or later)"
                }
            ),
            Difference::AllowDirect { have, .. } => write!(
                f,
                "{} direct gets, the configuration {}",
                allowed(*have),
                if *have { "does not" } else { "does" }
            ),
            Difference::Limit { limit, have, want } => write!(
                f,
                "has {limit} {}, the configuration asks for {}",
                limit.describe(*have),
                limit.describe(*want)
            ),
            Difference::Description { have, want } => write!(
                f,
                "is described as {}, the configuration says {}",
                quoted(have.as_ref()),
                quoted(want.as_ref())
            ),
        }
    }
}

/// The error message for differences a process refuses, or that `apply`
/// cannot make: each named, then what to do about them.
pub(crate) fn mismatch_message(stream: &str, differences: &[Difference]) -> String {
    let named = |d: &Difference| {
        if d.is_changeable() {
            d.to_string()
        } else {
            format!("{d} (this cannot be changed in place: the stream must be recreated)")
        }
    };
    let hint = if differences.iter().any(Difference::is_changeable) {
        "; run `lantern stream apply` to change it"
    } else {
        ""
    };
    match differences {
        [one] => format!("stream {stream} {}{hint}", named(one)),
        many => format!(
            "stream {stream} differs from the configuration:\n{}\n{}",
            many.iter()
                .map(|d| format!("  - {}", named(d)))
                .collect::<Vec<_>>()
                .join("\n"),
            hint.trim_start_matches("; ")
        ),
    }
}

/// A source as compared: two that deliver the same messages are equal.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SourceKey {
    name: String,
    filter: Option<String>,
    /// The API prefix, which the server derives from a domain.
    api: Option<String>,
    transforms: Vec<(String, String)>,
}

impl SourceKey {
    fn of(s: &Source) -> SourceKey {
        let domain_api = s
            .domain
            .as_ref()
            .filter(|d| !d.is_empty())
            .map(|d| format!("$JS.{d}.API"));
        SourceKey {
            name: s.name.clone(),
            filter: s
                .filter_subject
                .clone()
                .filter(|f| !f.is_empty() && f != ">"),
            api: s
                .external
                .as_ref()
                .map(|e| e.api_prefix.clone())
                .filter(|a| !a.is_empty())
                .or(domain_api),
            transforms: s
                .subject_transforms
                .iter()
                .map(|t| (t.source.clone(), t.destination.clone()))
                .collect(),
        }
    }
}

fn source_keys(s: Option<&Vec<Source>>) -> Vec<SourceKey> {
    let mut keys: Vec<SourceKey> = s.into_iter().flatten().map(SourceKey::of).collect();
    keys.sort();
    keys
}

fn subject_set(subjects: &[String]) -> Vec<String> {
    let mut s = subjects.to_vec();
    s.sort();
    s.dedup();
    s
}

fn description(d: &Option<String>) -> Option<String> {
    d.clone().filter(|d| !d.is_empty())
}

/// Every way the stream's configuration `have` differs from `want`, in the
/// order an operator would look at them. Settings Lantern does not set
/// (metadata the server adds, placement, compression, …) are not compared.
pub fn compare(have: &stream::Config, want: &stream::Config) -> Vec<Difference> {
    let mut out = Vec::new();
    let (hs, ws) = (subject_set(&have.subjects), subject_set(&want.subjects));
    if hs != ws {
        out.push(Difference::Subjects { have: hs, want: ws });
    }
    if have.num_replicas.max(1) != want.num_replicas.max(1) {
        out.push(Difference::Replicas {
            have: have.num_replicas.max(1),
            want: want.num_replicas.max(1),
        });
    }
    if source_keys(have.sources.as_ref()) != source_keys(want.sources.as_ref()) {
        out.push(Difference::Sources {
            have: have.sources.clone().unwrap_or_default(),
            want: want.sources.clone().unwrap_or_default(),
        });
    }
    if have.mirror.as_ref().map(SourceKey::of) != want.mirror.as_ref().map(SourceKey::of) {
        out.push(Difference::Mirror {
            have: have.mirror.clone().map(Box::new),
            want: want.mirror.clone().map(Box::new),
        });
    }
    if have.storage != want.storage {
        out.push(Difference::Storage {
            have: have.storage,
            want: want.storage,
        });
    }
    if have.retention != want.retention {
        out.push(Difference::Retention {
            have: have.retention,
            want: want.retention,
        });
    }
    for limit in Limit::ALL {
        let (h, w) = (limit.of(have), limit.of(want));
        if h != w {
            out.push(Difference::Limit {
                limit,
                have: h,
                want: w,
            });
        }
    }
    if have.duplicate_window != want.duplicate_window {
        out.push(Difference::DuplicateWindow {
            have: have.duplicate_window,
            want: want.duplicate_window,
        });
    }
    if have.deny_delete != want.deny_delete {
        out.push(Difference::DenyDelete {
            have: have.deny_delete,
            want: want.deny_delete,
        });
    }
    if have.deny_purge != want.deny_purge {
        out.push(Difference::DenyPurge {
            have: have.deny_purge,
            want: want.deny_purge,
        });
    }
    if have.allow_atomic_publish != want.allow_atomic_publish {
        out.push(Difference::AllowAtomic {
            have: have.allow_atomic_publish,
            want: want.allow_atomic_publish,
        });
    }
    if have.allow_direct != want.allow_direct {
        out.push(Difference::AllowDirect {
            have: have.allow_direct,
            want: want.allow_direct,
        });
    }
    let (hd, wd) = (
        description(&have.description),
        description(&want.description),
    );
    if hd != wd {
        out.push(Difference::Description { have: hd, want: wd });
    }
    out
}

/// `have` with every setting [`compare`] looks at taken from `want`, the
/// rest (metadata the server keeps, placement, …) left as it is: what
/// `apply` asks the server for.
fn patched(have: &stream::Config, want: &stream::Config) -> stream::Config {
    let mut c = have.clone();
    c.subjects = want.subjects.clone();
    c.num_replicas = want.num_replicas;
    c.sources = want.sources.clone();
    c.retention = want.retention;
    for limit in Limit::ALL {
        limit.copy(want, &mut c);
    }
    c.duplicate_window = want.duplicate_window;
    c.deny_delete = want.deny_delete;
    c.deny_purge = want.deny_purge;
    c.allow_atomic_publish = want.allow_atomic_publish;
    c.allow_direct = want.allow_direct;
    c.description = want.description.clone();
    c
}

/// The stream's settings that [`compare`] looks at, one `(name, value)` per
/// line, for `lantern stream show`.
pub fn describe(c: &stream::Config) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("name", c.name.clone()),
        ("description", quoted(description(&c.description).as_ref())),
        ("subjects", list(&subject_set(&c.subjects))),
        ("replicas", c.num_replicas.max(1).to_string()),
        ("sources", sources(c.sources.as_deref().unwrap_or_default())),
        (
            "mirror",
            c.mirror.as_ref().map_or("none".to_owned(), describe_source),
        ),
        ("storage", storage(c.storage).to_owned()),
        ("retention", retention(c.retention).to_owned()),
    ];
    for limit in Limit::ALL {
        out.push((limit.name(), limit.describe(limit.of(c))));
    }
    out.extend([
        ("duplicate_window", duration(c.duplicate_window)),
        ("deny_delete", c.deny_delete.to_string()),
        ("deny_purge", c.deny_purge.to_string()),
        ("allow_atomic", c.allow_atomic_publish.to_string()),
        ("allow_direct", c.allow_direct.to_string()),
    ]);
    out
}

fn unavailable(e: &dyn fmt::Display) -> LedgerError {
    LedgerError::Unavailable(e.to_string())
}

/// The stream, or `None` when the server has none by that name.
async fn existing(js: &jetstream::Context) -> Result<Option<stream::Stream>, LedgerError> {
    match js.get_stream(STREAM).await {
        Ok(s) => Ok(Some(s)),
        Err(e)
            if matches!(
                e.kind(),
                jetstream::context::GetStreamErrorKind::JetStream(ref j)
                    if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(unavailable(&e)),
    }
}

/// Reads the configuration back after a create or an update and checks the
/// server kept every setting that matters: a server silently drops settings
/// it does not know (`allow_atomic` before 2.12), and running without them
/// would break a promise (append-only, atomic commands).
async fn verify(
    mut stream: stream::Stream,
    want: &stream::Config,
) -> Result<stream::Stream, LedgerError> {
    let info = stream.info().await.map_err(|e| unavailable(&e))?;
    let (refused, harmless): (Vec<_>, Vec<_>) = compare(&info.config, want)
        .into_iter()
        .partition(Difference::is_refused);
    for d in &harmless {
        tracing::warn!(
            stream = STREAM,
            "the server did not keep a setting: the stream {d}"
        );
    }
    if !refused.is_empty() {
        return Err(LedgerError::Misconfigured {
            stream: STREAM.to_owned(),
            message: format!(
                "the server did not keep what was asked: it {}",
                refused
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; it ")
            ),
        });
    }
    Ok(stream)
}

/// Creates the stream when it is absent; otherwise compares it with the
/// configuration and refuses ([`LedgerError::StreamMismatch`]) a difference
/// that matters, logging the harmless ones. It never changes an existing
/// stream: `lantern serve` with a stale setting must not rewrite the
/// production stream (issue 27).
pub async fn ensure_stream(
    js: &jetstream::Context,
    settings: &StreamSettings,
) -> Result<stream::Stream, LedgerError> {
    let wanted = config(settings);
    match existing(js).await? {
        Some(stream) => {
            let (refused, harmless): (Vec<_>, Vec<_>) =
                compare(&stream.cached_info().config, &wanted)
                    .into_iter()
                    .partition(Difference::is_refused);
            if !refused.is_empty() {
                return Err(LedgerError::StreamMismatch {
                    stream: STREAM.to_owned(),
                    differences: refused,
                });
            }
            for d in &harmless {
                tracing::warn!(
                    stream = STREAM,
                    "stream {STREAM} {d}; harmless, left as it is (`lantern stream apply` changes it)"
                );
            }
            Ok(stream)
        }
        None => {
            let created = js
                .create_stream(wanted.clone())
                .await
                .map_err(|e| LedgerError::Nats(format!("create stream: {e}")))?;
            verify(created, &wanted).await
        }
    }
}

/// Adds each of `sources` the stream does not source yet (compared as
/// [`compare`] compares them), every other setting left as the server
/// reports it; returns what was added. For a hub's link
/// ([`crate::Ledger::add_sources`]): the one change to an existing stream
/// besides [`apply`], and like it an explicit act of an operator.
pub(crate) async fn add_sources(
    js: &jetstream::Context,
    sources: &[Source],
) -> Result<Vec<Source>, LedgerError> {
    let mut stream = open_existing(js).await?;
    let mut config = stream
        .info()
        .await
        .map_err(|e| unavailable(&e))?
        .config
        .clone();
    let have = source_keys(config.sources.as_ref());
    let mut missing: Vec<Source> = Vec::new();
    for s in sources {
        let key = SourceKey::of(s);
        if !have.contains(&key) && !missing.iter().any(|m| SourceKey::of(m) == key) {
            missing.push(s.clone());
        }
    }
    if missing.is_empty() {
        return Ok(missing);
    }
    config
        .sources
        .get_or_insert_with(Vec::new)
        .extend(missing.iter().cloned());
    js.update_stream(&config)
        .await
        .map_err(|e| LedgerError::Nats(format!("update stream {STREAM}: {e}")))?;
    let mut updated = js.get_stream(STREAM).await.map_err(|e| unavailable(&e))?;
    let kept = source_keys(
        updated
            .info()
            .await
            .map_err(|e| unavailable(&e))?
            .config
            .sources
            .as_ref(),
    );
    let lost: Vec<String> = missing
        .iter()
        .filter(|s| !kept.contains(&SourceKey::of(s)))
        .map(describe_source)
        .collect();
    if !lost.is_empty() {
        return Err(LedgerError::Misconfigured {
            stream: STREAM.to_owned(),
            message: format!(
                "the server did not keep the sources added: {}",
                lost.join(", ")
            ),
        });
    }
    Ok(missing)
}

/// The stream as it is, neither created nor compared: for commands that
/// only read it (`lantern rebuild`).
pub async fn open_existing(js: &jetstream::Context) -> Result<stream::Stream, LedgerError> {
    existing(js)
        .await?
        .ok_or_else(|| LedgerError::StreamMissing {
            stream: STREAM.to_owned(),
        })
}

/// The stream's configuration, its message count and how it differs from
/// the configuration `settings` make.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The stream's configuration as the server reports it.
    pub config: stream::Config,
    /// Messages stored.
    pub messages: u64,
    /// Every difference from the configuration, refused or harmless.
    pub differences: Vec<Difference>,
}

/// Reads the stream and compares it; changes nothing (`lantern stream show`).
pub async fn inspect(
    client: async_nats::Client,
    settings: &StreamSettings,
) -> Result<Inspection, LedgerError> {
    let js = jetstream::new(client);
    let mut stream = open_existing(&js).await?;
    let info = stream.info().await.map_err(|e| unavailable(&e))?;
    Ok(Inspection {
        differences: compare(&info.config, &config(settings)),
        config: info.config.clone(),
        messages: info.state.messages,
    })
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// There was no stream; it was created.
    Created,
    /// The stream was updated; these were the differences.
    Changed(Vec<Difference>),
    /// The stream already matched the configuration.
    Unchanged,
}

/// Brings the stream to the configuration `settings` make: the one place
/// Lantern changes an existing stream (`lantern stream apply`). A
/// difference the server cannot change in place is refused, naming it,
/// before anything is asked of the server; what is changed is read back and
/// compared again.
pub async fn apply(
    client: async_nats::Client,
    settings: &StreamSettings,
) -> Result<Applied, LedgerError> {
    let js = jetstream::new(client);
    let wanted = config(settings);
    let Some(stream) = existing(&js).await? else {
        let created = js
            .create_stream(wanted.clone())
            .await
            .map_err(|e| LedgerError::Nats(format!("create stream: {e}")))?;
        verify(created, &wanted).await?;
        return Ok(Applied::Created);
    };
    let have = stream.cached_info().config.clone();
    let differences = compare(&have, &wanted);
    if differences.is_empty() {
        return Ok(Applied::Unchanged);
    }
    let fixed: Vec<_> = differences
        .iter()
        .filter(|d| !d.is_changeable())
        .cloned()
        .collect();
    if !fixed.is_empty() {
        return Err(LedgerError::StreamMismatch {
            stream: STREAM.to_owned(),
            differences: fixed,
        });
    }
    js.update_stream(&patched(&have, &wanted))
        .await
        .map_err(|e| LedgerError::Nats(format!("update stream {STREAM}: {e}")))?;
    let updated = js.get_stream(STREAM).await.map_err(|e| unavailable(&e))?;
    let left = compare(
        &verify(updated, &wanted).await?.cached_info().config,
        &wanted,
    );
    if !left.is_empty() {
        return Err(LedgerError::Misconfigured {
            stream: STREAM.to_owned(),
            message: format!(
                "after the update the stream still {}",
                left.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; it ")
            ),
        });
    }
    Ok(Applied::Changed(differences))
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_nats::jetstream::stream::External;

    fn want() -> stream::Config {
        config(&StreamSettings::default())
    }

    /// What a 2.12 server reports for a stream created with [`config`]:
    /// limits as -1, metadata of its own.
    fn as_server_reports(c: stream::Config) -> stream::Config {
        stream::Config {
            max_bytes: -1,
            max_messages: -1,
            max_messages_per_subject: -1,
            max_consumers: -1,
            max_message_size: -1,
            metadata: [("_nats.req.level".to_owned(), "0".to_owned())].into(),
            ..c
        }
    }

    fn source(name: &str) -> Source {
        Source {
            name: name.to_owned(),
            filter_subject: Some(format!("lantern.{name}.>")),
            ..Default::default()
        }
    }

    #[test]
    fn a_stream_as_created_matches_its_configuration() {
        assert_eq!(compare(&as_server_reports(want()), &want()), []);
    }

    #[test]
    fn replicas_either_way_are_refused_and_named() {
        let three = config(&StreamSettings {
            replicas: 3,
            ..Default::default()
        });
        let d = compare(&as_server_reports(want()), &three);
        assert_eq!(d, [Difference::Replicas { have: 1, want: 3 }]);
        assert!(d[0].is_refused() && d[0].is_changeable());
        assert_eq!(
            mismatch_message("LANTERN", &d),
            "stream LANTERN has 1 replica, the configuration asks for 3; \
             run `lantern stream apply` to change it"
        );
        let d = compare(&three, &want());
        assert_eq!(d, [Difference::Replicas { have: 3, want: 1 }]);
        assert!(d[0].is_refused());
    }

    #[test]
    fn subjects_are_compared_as_sets() {
        let mut have = want();
        have.subjects = vec!["lantern.>".into(), "lantern.>".into()];
        assert_eq!(compare(&have, &want()), []);
        have.subjects = vec!["lantern.H0001.>".into()];
        let d = compare(&have, &want());
        assert_eq!(
            d,
            [Difference::Subjects {
                have: vec!["lantern.H0001.>".into()],
                want: vec!["lantern.>".into()]
            }]
        );
        assert!(d[0].is_refused());
        assert!(d[0].to_string().contains("lantern.H0001.>"), "{}", d[0]);
    }

    #[test]
    fn sources_are_compared_by_what_they_deliver() {
        let with = |sources: Vec<Source>| {
            config(&StreamSettings {
                sources,
                ..Default::default()
            })
        };
        let d = compare(&with(vec![source("H0001")]), &want());
        assert!(matches!(&d[..], [Difference::Sources { .. }]), "{d:?}");
        assert!(d[0].is_refused() && d[0].is_changeable());
        assert_eq!(
            d[0].to_string(),
            "sources H0001 (lantern.H0001.>), the configuration asks for none"
        );
        // Order does not matter, nor where a source starts.
        let (a, mut b) = (source("A"), source("B"));
        b.start_sequence = Some(42);
        assert_eq!(
            compare(
                &with(vec![a.clone(), b.clone()]),
                &with(vec![source("B"), a])
            ),
            []
        );
        // The server turns a domain into an API prefix.
        let asked = Source {
            domain: Some("h0001".into()),
            ..source("LANTERN")
        };
        let kept = Source {
            domain: None,
            external: Some(External {
                api_prefix: "$JS.h0001.API".into(),
                delivery_prefix: None,
            }),
            ..source("LANTERN")
        };
        assert_eq!(compare(&with(vec![kept]), &with(vec![asked.clone()])), []);
        let elsewhere = Source {
            domain: Some("h0002".into()),
            ..asked.clone()
        };
        assert_eq!(compare(&with(vec![elsewhere]), &with(vec![asked])).len(), 1);
    }

    #[test]
    fn what_would_lose_or_delete_facts_is_refused() {
        let base = as_server_reports(want());
        let cases: Vec<(stream::Config, &str)> = vec![
            (
                stream::Config {
                    storage: StorageType::Memory,
                    ..base.clone()
                },
                "is stored in memory, the configuration asks for file",
            ),
            (
                stream::Config {
                    retention: RetentionPolicy::Interest,
                    ..base.clone()
                },
                "has interest retention, the configuration asks for limits",
            ),
            (
                stream::Config {
                    max_age: Duration::from_secs(30 * 86_400),
                    ..base.clone()
                },
                "has max_age 30 d, the configuration asks for no limit",
            ),
            (
                stream::Config {
                    max_messages_per_subject: 1,
                    ..base.clone()
                },
                "has max_msgs_per_subject 1 messages, the configuration asks for no limit",
            ),
            (
                stream::Config {
                    deny_delete: false,
                    ..base.clone()
                },
                "allows deleting messages, the configuration denies it",
            ),
            (
                stream::Config {
                    deny_purge: false,
                    ..base.clone()
                },
                "allows purging, the configuration denies it",
            ),
            (
                stream::Config {
                    allow_atomic_publish: false,
                    ..base.clone()
                },
                "does not allow atomic batches, the configuration needs them (nats-server 2.12 or later)",
            ),
            (
                stream::Config {
                    duplicate_window: Duration::from_secs(60),
                    ..base.clone()
                },
                "has a duplicate window of 1 min, the configuration asks for 2 min",
            ),
            (
                stream::Config {
                    mirror: Some(source("ELSEWHERE")),
                    ..base.clone()
                },
                "mirrors ELSEWHERE (lantern.ELSEWHERE.>), the configuration asks for no mirror",
            ),
        ];
        for (have, text) in cases {
            let d = compare(&have, &want());
            assert_eq!(d.len(), 1, "{text}: {d:?}");
            assert!(d[0].is_refused(), "{text}");
            assert_eq!(d[0].to_string(), text);
        }
    }

    #[test]
    fn what_changes_no_promise_is_harmless() {
        let base = as_server_reports(want());
        for have in [
            stream::Config {
                duplicate_window: Duration::from_secs(600),
                ..base.clone()
            },
            stream::Config {
                allow_direct: false,
                ..base.clone()
            },
            stream::Config {
                description: Some("ours".into()),
                ..base.clone()
            },
        ] {
            let d = compare(&have, &want());
            assert_eq!(d.len(), 1, "{d:?}");
            assert!(!d[0].is_refused(), "{}", d[0]);
            assert!(d[0].is_changeable(), "{}", d[0]);
        }
    }

    #[test]
    fn storage_mirror_and_work_queues_cannot_be_changed_in_place() {
        let base = as_server_reports(want());
        let storage = compare(
            &stream::Config {
                storage: StorageType::Memory,
                ..base.clone()
            },
            &want(),
        );
        assert!(!storage[0].is_changeable());
        let message = mismatch_message("LANTERN", &storage);
        assert!(message.contains("must be recreated"), "{message}");
        assert!(!message.contains("stream apply"), "{message}");
        let queue = compare(
            &stream::Config {
                retention: RetentionPolicy::WorkQueue,
                ..base.clone()
            },
            &want(),
        );
        assert!(!queue[0].is_changeable());
        let interest = compare(
            &stream::Config {
                retention: RetentionPolicy::Interest,
                ..base
            },
            &want(),
        );
        assert!(interest[0].is_changeable());
    }

    #[test]
    fn several_differences_are_each_named() {
        let have = stream::Config {
            subjects: vec!["lantern.H0001.>".into()],
            sources: Some(vec![source("H0002")]),
            ..as_server_reports(want())
        };
        let three = config(&StreamSettings {
            replicas: 3,
            ..Default::default()
        });
        let d = compare(&have, &three);
        assert_eq!(d.len(), 3, "{d:?}");
        let message = mismatch_message("LANTERN", &d);
        for part in [
            "stream LANTERN differs from the configuration:",
            "captures lantern.H0001.>",
            "has 1 replica, the configuration asks for 3",
            "sources H0002",
            "run `lantern stream apply` to change it",
        ] {
            assert!(message.contains(part), "{part:?} in {message}");
        }
    }

    #[test]
    fn apply_asks_for_the_configuration_and_keeps_the_rest() {
        let have = stream::Config {
            subjects: vec!["lantern.H0001.>".into(), "other.>".into()],
            sources: Some(vec![source("H0002")]),
            max_age: Duration::from_secs(86_400),
            deny_purge: false,
            allow_direct: false,
            description: None,
            placement: Some(stream::Placement {
                cluster: Some("hub".into()),
                tags: vec![],
            }),
            ..as_server_reports(want())
        };
        let p = patched(&have, &want());
        assert_eq!(compare(&p, &want()), []);
        assert_eq!(p.metadata, have.metadata);
        assert_eq!(p.placement, have.placement);
        assert_eq!(p.max_consumers, have.max_consumers);
    }

    #[test]
    fn durations_read_as_an_operator_writes_them() {
        assert_eq!(duration(Duration::from_secs(120)), "2 min");
        assert_eq!(duration(Duration::from_secs(90)), "90 s");
        assert_eq!(duration(Duration::from_secs(7_200)), "2 h");
        assert_eq!(duration(Duration::from_secs(86_400 * 365)), "365 d");
        assert_eq!(duration(Duration::from_millis(1_500)), "1500 ms");
    }

    #[test]
    fn show_lists_every_compared_setting() {
        let lines = describe(&as_server_reports(want()));
        let names: Vec<_> = lines.iter().map(|(n, _)| *n).collect();
        for n in ["subjects", "replicas", "sources", "max_age", "deny_purge"] {
            assert!(names.contains(&n), "{n}");
        }
        assert!(lines.contains(&("max_bytes", "no limit".to_owned())));
        assert!(lines.contains(&("sources", "none".to_owned())));
    }
}
