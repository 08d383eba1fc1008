//! Running a projector against the stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use lantern_ledger::{AggregateKind, Ledger, LedgerError, Read, trace};
use tokio::sync::watch;

use crate::tx::{FreshRun, Sealed};
use crate::{ProjectionError, Projector, Tx, checkpoint};

/// Events applied before a commit at most; under load this amortises the
/// commit, when idle every event is committed as soon as it is applied.
const MAX_BATCH: usize = 1000;

/// In a rebuild (or any run up to a given sequence) nobody waits for the
/// events in between: batches are larger, bounded by the bytes they hold,
/// and are not flushed one by one (the rebuild flushes at its end).
///
/// Large: a batch reaches sled in key order, so the larger it is the more
/// of its inserts land next to the one before, and the counters it updates
/// (a hospital-month's cells) are written once a batch. From 50 k to 250 k
/// events, over 1 M: rates rebuild 7.4 → 6.7 s, reports 8.0–8.5 → 7.5 s;
/// one batch for everything lost the overlap of applying one batch while
/// the next is read.
const REBUILD_MAX_BATCH: usize = 250_000;
const REBUILD_MAX_BYTES: usize = 128 * 1024 * 1024;

/// Writes held back by a rebuild ([`Tx::put_scattered`]) applied per batch
/// when they are released.
const RELEASE_BATCH: usize = 25_000;

/// Events decoded ahead of the projector in a rebuild, in chunks.
const READ_AHEAD_CHUNK: usize = 512;
const READ_AHEAD_CHUNKS: usize = 16;

/// A stored message as the runner takes it: read and checked, or rejected.
enum Checked {
    /// An event that matches its schema, or a message of another kind.
    Read(Read),
    /// A message that is not an event the append would have stored: it
    /// does not decode, or its data does not match its schema (or it has
    /// none). Skipped the same way live and in every rebuild, so state stays
    /// deterministic.
    Rejected {
        /// Its stream sequence.
        seq: u64,
        /// Why, without a word of its content.
        why: String,
    },
}

type Events = futures::stream::BoxStream<'static, Result<Checked, LedgerError>>;

/// Projectors trust no event blindly (DESIGN "Security"): whoever holds
/// credentials for NATS could publish to `lantern.>` without the append's
/// validation, so every event is validated again as it is read — an
/// `org.token_issued` with a role its schema forbids must grant nothing.
/// Messages that do not decode are rejected here too.
fn checked(
    events: impl futures::Stream<Item = Result<Read, LedgerError>> + Send + Unpin + 'static,
    ledger: Ledger,
) -> impl futures::Stream<Item = Result<Checked, LedgerError>> + Send + Unpin + 'static {
    events.map(move |item| match item {
        Ok(Read::Event(event)) => {
            let e = &event.envelope;
            match ledger
                .schemas()
                .check_stored(&e.event_type, e.version, &e.data)
            {
                Ok(()) => Ok(Checked::Read(Read::Event(event))),
                Err(error) => Ok(Checked::Rejected {
                    seq: event.seq,
                    why: rejection(ledger.schemas(), &e.event_type, e.version, &error),
                }),
            }
        }
        Ok(read) => Ok(Checked::Read(read)),
        Err(LedgerError::Decode { seq, .. }) => Ok(Checked::Rejected {
            seq,
            why: "not an event envelope that decodes".into(),
        }),
        Err(e) => Err(e),
    })
}

/// Why an event was rejected, in words that quote nothing of it: the type
/// only when it is one of ours, and the top-level fields of its data that
/// fail (names its schema declares; a field it does not know is counted,
/// not named), never a value.
fn rejection(
    schemas: &lantern_ledger::SchemaRegistry,
    event_type: &str,
    version: u32,
    error: &LedgerError,
) -> String {
    if !schemas.knows_type(event_type) {
        return "an event type that has no schema".into();
    }
    let LedgerError::Schema { violations, .. } = error else {
        return format!("{event_type} v{version} has no schema");
    };
    let unknown = violations
        .iter()
        .filter(|v| v.message == "is not a known field")
        .count();
    let mut fields: Vec<&str> = violations
        .iter()
        .filter(|v| v.message != "is not a known field")
        .map(|v| v.pointer.split('/').nth(1).unwrap_or(""))
        .map(|f| if f.is_empty() { "(the data)" } else { f })
        .collect();
    fields.sort_unstable();
    fields.dedup();
    let mut why = format!("{event_type} v{version} does not match its schema");
    if !fields.is_empty() {
        why.push_str(&format!(" at {}", fields.join(", ")));
    }
    if unknown > 0 {
        why.push_str(&format!(" ({unknown} unknown fields)"));
    }
    why
}

/// Polls `events` on a task of its own, passing them on in chunks of what
/// is ready, at most [`READ_AHEAD_CHUNKS`] chunks ahead. The task ends when
/// the stream does or the reader is dropped, whichever comes first.
fn read_ahead(
    events: impl futures::Stream<Item = Result<Checked, LedgerError>> + Send + Unpin + 'static,
) -> Events {
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<_>>(READ_AHEAD_CHUNKS);
    tokio::spawn(async move {
        let mut events = events;
        loop {
            // The stream never ends by itself (it waits for new events):
            // stop as soon as the reader is gone.
            let first = tokio::select! {
                item = events.next() => item,
                () = tx.closed() => return,
            };
            let Some(first) = first else { return };
            let mut chunk = Vec::with_capacity(READ_AHEAD_CHUNK);
            chunk.push(first);
            let mut ended = false;
            while chunk.len() < READ_AHEAD_CHUNK {
                match events.next().now_or_never() {
                    Some(Some(item)) => chunk.push(item),
                    Some(None) => {
                        ended = true;
                        break;
                    }
                    None => break,
                }
            }
            if tx.send(chunk).await.is_err() || ended {
                return;
            }
        }
    });
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    })
    .flat_map(futures::stream::iter)
    .boxed()
}

/// What queries need of a running projector: its database and its position.
#[derive(Clone)]
pub struct Handle {
    name: &'static str,
    db: sled::Db,
    applied: watch::Receiver<u64>,
    running: Arc<AtomicBool>,
    rejected: Arc<AtomicU64>,
}

impl Handle {
    /// The projector's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The committed read model. Only committed state is visible here.
    pub fn db(&self) -> &sled::Db {
        &self.db
    }

    /// The last stream sequence applied and committed.
    pub fn applied(&self) -> u64 {
        *self.applied.borrow()
    }

    /// Events this runner skipped since it started because they do not
    /// decode or do not match their schema (`lantern_events_rejected_total`).
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Whether the runner is alive (it stops only on a storage failure or shutdown).
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// Waits until the projector has committed `seq`, at most `timeout`.
    /// Returns whether it got there: read-your-writes for `?after=<seq>`.
    pub async fn wait_for(&self, seq: u64, timeout: Duration) -> bool {
        let mut rx = self.applied.clone();
        let reached = tokio::time::timeout(timeout, rx.wait_for(|applied| *applied >= seq)).await;
        matches!(reached, Ok(Ok(_)))
    }
}

/// A sealed batch being applied to the database on a blocking thread, and
/// the position it commits.
struct Committing {
    sealed: Sealed,
    position: u64,
    task: tokio::task::JoinHandle<Result<(), ProjectionError>>,
}

/// Applies the stream to one projector's database.
pub struct Runner {
    projector: Arc<dyn Projector>,
    ledger: Ledger,
    db: sled::Db,
    applied: watch::Sender<u64>,
    running: Arc<AtomicBool>,
    rejected: Arc<AtomicU64>,
}

impl Runner {
    /// A runner and the handle its queries use.
    pub fn new(
        ledger: Ledger,
        projector: Arc<dyn Projector>,
        db: sled::Db,
    ) -> Result<(Runner, Handle), ProjectionError> {
        let position = checkpoint(&db)?;
        let (tx, rx) = watch::channel(position);
        let running = Arc::new(AtomicBool::new(true));
        let rejected = Arc::new(AtomicU64::new(0));
        let handle = Handle {
            name: projector.name(),
            db: db.clone(),
            applied: rx,
            running: running.clone(),
            rejected: rejected.clone(),
        };
        Ok((
            Runner {
                projector,
                ledger,
                db,
                applied: tx,
                running,
                rejected,
            },
            handle,
        ))
    }

    /// The projector's name.
    pub fn name(&self) -> &'static str {
        self.projector.name()
    }

    /// Runs until `shutdown` resolves or the database fails.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), ProjectionError> {
        let result = tokio::select! {
            r = self.apply_stream(None) => r,
            () = shutdown => self.db.flush_async().await.map(drop).map_err(Into::into),
        };
        self.running.store(false, Ordering::Relaxed);
        if let Err(e) = &result {
            tracing::error!(projector = self.projector.name(), error = %e, "projector stopped");
        }
        result
    }

    /// The events of the projector's kinds after `position`, and the
    /// sequence of the last of them up to `stop_at`.
    async fn read_kinds(
        &self,
        position: u64,
        stop_at: u64,
    ) -> Result<
        (
            impl futures::Stream<Item = Result<Read, LedgerError>> + Send + Unpin + 'static,
            u64,
        ),
        LedgerError,
    > {
        let kinds = self.projector.kinds();
        let end = if AggregateKind::all_in(kinds) {
            stop_at
        } else {
            self.ledger.last_sequence_of(kinds).await?.min(stop_at)
        };
        let events = self
            .ledger
            .read_kinds_from(position + 1, kinds, true)
            .await?;
        Ok((events, end))
    }

    /// Waits until `committing` (if any) is in the database, then tells
    /// waiters its position.
    async fn landed(&self, committing: Option<Committing>) -> Result<(), ProjectionError> {
        let Some(c) = committing else {
            return Ok(());
        };
        match c.task.await {
            Ok(applied) => applied?,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => return Err(std::io::Error::other(e).into()),
        }
        self.applied.send_replace(c.position);
        Ok(())
    }

    /// Starts applying `sealed` to the database on a blocking thread.
    fn commit_behind(&self, sealed: Sealed, position: u64) -> Committing {
        let (db, batch) = (self.db.clone(), sealed.clone());
        Committing {
            sealed,
            position,
            task: tokio::task::spawn_blocking(move || batch.apply(&db)),
        }
    }

    /// Applies events until `stop_at` (or forever), resuming from the
    /// checkpoint after every stream failure.
    async fn apply_stream(&self, stop_at: Option<u64>) -> Result<(), ProjectionError> {
        let name = self.projector.name();
        let mut backoff = Duration::from_millis(100);
        // A run up to a known sequence that begins on an empty database (a
        // rebuild) knows every key there is: those it writes.
        let mut fresh = (stop_at.is_some() && checkpoint(&self.db)? == 0).then(FreshRun::default);
        // Up to a known sequence, a batch is applied to the database on
        // another thread while the next one is applied to its buffer,
        // reading through it: sled's inserts were a third to a half of a
        // rebuild's wall time, with the reader idle behind them. One at a
        // time, in order, so that a crash still keeps a prefix of batches.
        let mut committing: Option<Committing> = None;
        loop {
            self.landed(committing.take()).await?;
            let mut position = checkpoint(&self.db)?;
            if stop_at.is_some_and(|s| position >= s) {
                return Ok(());
            }
            let read = match stop_at {
                // Up to a known sequence, read only the kinds the projector
                // reads (the server skips the rest), up to the last of them;
                // nobody waits between events, so read and decode ahead on
                // another task while this one applies.
                Some(stop_at) => self
                    .read_kinds(position, stop_at)
                    .await
                    .map(|(events, end)| {
                        (read_ahead(checked(events, self.ledger.clone())), Some(end))
                    }),
                // Live, every event moves the checkpoint (those of other
                // kinds undecoded), so that a reader waiting for a sequence
                // of a kind it does not read is answered at once.
                None => self
                    .ledger
                    .read_kinds_from(position + 1, self.projector.kinds(), false)
                    .await
                    .map(|events| (checked(events, self.ledger.clone()).boxed(), None)),
            };
            let (mut events, end) = match read {
                Ok(read) => read,
                Err(e) => {
                    tracing::warn!(projector = name, error = %e, "cannot read the stream; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            // Nothing of the projector's kinds is left before `stop_at`.
            if let (Some(end), Some(stop_at)) = (end, stop_at)
                && position >= end
            {
                match fresh.take() {
                    Some(mut run) => {
                        Tx::over_fresh(&self.db, &mut run).commit(stop_at)?;
                        while let Some(held) = run.release(stop_at, RELEASE_BATCH) {
                            held.apply(&self.db)?;
                        }
                        run.finish(stop_at).apply(&self.db)?;
                    }
                    None => Tx::new(&self.db).commit(stop_at)?,
                }
                self.applied.send_replace(stop_at);
                return Ok(());
            }
            'batches: while let Some(first) = events.next().await {
                let mut tx = match fresh.as_mut() {
                    Some(written) => Tx::over_fresh(&self.db, written),
                    None => Tx::new(&self.db),
                };
                if let Some(c) = &committing {
                    tx = tx.reading_through(c.sealed.clone());
                }
                let committed = position;
                let mut next = Some(first);
                let mut broken = false;
                let mut n = 0;
                while let Some(item) = next.take() {
                    match item {
                        // A rebuild's events were traced when they were
                        // live; a span per event would cost as much as
                        // applying it.
                        Ok(Checked::Read(Read::Event(event))) => {
                            let traced = stop_at.is_none();
                            let p = self.projector.as_ref();
                            apply(p, &mut tx, &mut position, &event, traced)?;
                        }
                        // Of a kind the projector does not read.
                        Ok(Checked::Read(Read::Passed(seq))) => position = position.max(seq),
                        // Skipped, counted, logged by its sequence only.
                        Ok(Checked::Rejected { seq, why }) => {
                            if seq > position {
                                self.rejected.fetch_add(1, Ordering::Relaxed);
                                tracing::warn!(
                                    projector = name,
                                    seq,
                                    "event rejected and skipped: {why}"
                                );
                            }
                            position = position.max(seq);
                        }
                        Err(e) => {
                            tracing::warn!(projector = name, error = %e, "stream interrupted; resuming from checkpoint");
                            broken = true;
                            break;
                        }
                    }
                    n += 1;
                    if end.is_some_and(|e| position >= e) {
                        break;
                    }
                    if stop_at.is_some() {
                        if n >= REBUILD_MAX_BATCH || tx.written_bytes() >= REBUILD_MAX_BYTES {
                            break;
                        }
                        // Up to a known sequence, wait for the next event
                        // rather than commit a small batch.
                        next = events.next().await;
                        continue;
                    }
                    if n >= MAX_BATCH {
                        break;
                    }
                    next = events.next().now_or_never().flatten();
                }
                let done = end.is_some_and(|e| position >= e);
                if done && let Some(stop_at) = stop_at {
                    // The events after the last one of the projector's
                    // kinds are of other kinds: passed over, as `apply`
                    // would have.
                    position = position.max(stop_at);
                }
                if position > committed {
                    if stop_at.is_some() {
                        let sealed = tx.seal(position);
                        self.landed(committing.take()).await?;
                        committing = Some(self.commit_behind(sealed, position));
                    } else {
                        // Visible at once (read-your-writes needs no more);
                        // durable within sled's flush interval. A crash
                        // before that keeps a prefix of batches, each with
                        // its own checkpoint, so the runner resumes
                        // consistently from there — and under load the
                        // projectors' fsyncs no longer compete with the
                        // broker's for the disk.
                        tx.commit(position)?;
                        self.applied.send_replace(position);
                    }
                }
                // The writes a run over a fresh database held back, in key
                // order, in batches of their own.
                if let Some(run) = fresh.as_mut()
                    && (done || run.holds_too_much())
                {
                    while let Some(held) = run.release(position, RELEASE_BATCH) {
                        self.landed(committing.take()).await?;
                        committing = Some(self.commit_behind(held, position));
                    }
                }
                backoff = Duration::from_millis(100);
                if done {
                    if let Some(run) = fresh.take() {
                        self.landed(committing.take()).await?;
                        committing = Some(self.commit_behind(run.finish(position), position));
                    }
                    return self.landed(committing.take()).await;
                }
                if broken {
                    break 'batches;
                }
            }
            tokio::time::sleep(backoff).await;
        }
    }
}

/// Applies `event` unless it is at or below `position` (a re-delivery,
/// already in the checkpoint: it must not count twice), and moves `position`
/// on, in a span that continues the event's trace.
pub fn apply_once(
    projector: &dyn Projector,
    tx: &mut Tx<'_>,
    position: &mut u64,
    event: &lantern_ledger::Recorded,
) -> Result<bool, ProjectionError> {
    apply(projector, tx, position, event, true)
}

/// The one place an event reaches a projector.
fn apply(
    projector: &dyn Projector,
    tx: &mut Tx<'_>,
    position: &mut u64,
    event: &lantern_ledger::Recorded,
    traced: bool,
) -> Result<bool, ProjectionError> {
    if event.seq <= *position {
        return Ok(false);
    }
    // Events of kinds the projector does not read do not reach it, here as
    // in a rebuild, which never receives them.
    let kind = AggregateKind::of_event_type(&event.envelope.event_type);
    if !kind.is_some_and(|k| projector.kinds().contains(&k)) {
        *position = event.seq;
        return Ok(true);
    }
    if traced {
        let span = tracing::info_span!(
            "projector.apply",
            projector = projector.name(),
            seq = event.seq,
            event_type = %event.envelope.event_type,
        );
        trace::set_parent(&span, event.traceparent.as_deref());
        span.in_scope(|| projector.apply(tx, event))?;
    } else {
        projector.apply(tx, event)?;
    }
    *position = event.seq;
    Ok(true)
}

/// Applies every event up to the stream's last sequence at the time of the
/// call, then returns that sequence: what `lantern rebuild` runs.
pub async fn run_until_caught_up(
    ledger: Ledger,
    projector: Arc<dyn Projector>,
    db: sled::Db,
) -> Result<u64, ProjectionError> {
    let last = ledger.last_sequence().await?;
    let (runner, _handle) = Runner::new(ledger, projector, db)?;
    if last > 0 {
        runner.apply_stream(Some(last)).await?;
    }
    Ok(last)
}
