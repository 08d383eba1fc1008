//! Group commit: concurrent appends, of any aggregates, stored as one atomic
//! JetStream batch, so that one durable write (one fsync under
//! `sync_interval: always`) serves many callers.
//!
//! Appends queue up while earlier batches are in flight; a batch takes
//! whatever is queued (up to `max_batch`), so one append under light load
//! goes out at once as a plain publish and pays nothing extra, and a burst
//! of concurrent appends shares its writes. Each message keeps its own
//! `Nats-Msg-Id` and `Nats-Expected-Last-Subject-Sequence`, which the server
//! checks per message inside an atomic batch (nats-server ≥ 2.12); a caller
//! is answered only after the commit's PublishAck, i.e. once the whole batch
//! is stored. If the batch is refused for any reason (a conflict or
//! duplicate of one member, a server limit, a timeout), nothing of it was
//! stored and every member is published again on its own, with the same
//! message id and expectation: each caller gets exactly the answer a lone
//! append would have got.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::HeaderMap;
use bytes::Bytes;
use tokio::sync::{Semaphore, mpsc, oneshot};
use uuid::Uuid;

use crate::{Appended, Envelope, Expect, Ledger, LedgerError};

/// How appends are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommit {
    /// Most messages in one batch (the server allows 1000).
    pub max_batch: usize,
    /// Batches in flight at once (the server allows 50 per stream).
    pub max_in_flight: usize,
}

impl Default for GroupCommit {
    fn default() -> Self {
        GroupCommit {
            max_batch: 500,
            max_in_flight: 2,
        }
    }
}

/// One sealed append waiting for its batch.
pub(crate) struct Pending {
    pub subject: String,
    pub headers: HeaderMap,
    pub payload: Bytes,
    pub id: String,
    pub expect: Expect,
    pub envelope: Envelope,
    pub done: oneshot::Sender<Result<Appended, LedgerError>>,
}

/// What group commit has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupStats {
    /// Atomic batches of two or more stored.
    pub batches: u64,
    /// Events stored in those batches.
    pub batched: u64,
    /// Batches refused, whose members were appended one by one.
    pub refused: u64,
    /// Events appended alone (nothing else was waiting).
    pub alone: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    batches: AtomicU64,
    batched: AtomicU64,
    refused: AtomicU64,
    alone: AtomicU64,
}

/// The queue in front of the batcher task.
#[derive(Clone)]
pub(crate) struct Group {
    tx: mpsc::UnboundedSender<Pending>,
    counters: Arc<Counters>,
}

impl Group {
    /// Starts the batcher over `ledger` (which must not group itself); it
    /// stops when the last handle is dropped.
    pub fn start(ledger: Ledger, settings: GroupCommit) -> Group {
        let (tx, mut rx) = mpsc::unbounded_channel::<Pending>();
        let max_batch = settings.max_batch.clamp(1, 1000);
        let permits = Arc::new(Semaphore::new(settings.max_in_flight.clamp(1, 50)));
        let counters = Arc::new(Counters::default());
        let shared = counters.clone();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                // While every slot is busy, appends queue up and join the
                // next batch.
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let mut batch = vec![first];
                while batch.len() < max_batch {
                    match rx.try_recv() {
                        Ok(p) => batch.push(p),
                        Err(_) => break,
                    }
                }
                let (ledger, counters) = (ledger.clone(), counters.clone());
                tokio::spawn(async move {
                    ledger.commit_group(batch, &counters).await;
                    drop(permit);
                });
            }
        });
        Group {
            tx,
            counters: shared,
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> GroupStats {
        let c = &self.counters;
        GroupStats {
            batches: c.batches.load(Ordering::Relaxed),
            batched: c.batched.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            alone: c.alone.load(Ordering::Relaxed),
        }
    }

    /// Queues a sealed append and waits for its outcome.
    pub async fn append(
        &self,
        subject: String,
        headers: HeaderMap,
        payload: Bytes,
        id: String,
        expect: Expect,
        envelope: Envelope,
    ) -> Result<Appended, LedgerError> {
        let (done, rx) = oneshot::channel();
        let stopped = || LedgerError::Unavailable("the group-commit task stopped".into());
        self.tx
            .send(Pending {
                subject,
                headers,
                payload,
                id,
                expect,
                envelope,
                done,
            })
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

impl Ledger {
    /// Stores a group: one message alone, several as one atomic batch, and
    /// each member alone when the batch is refused.
    async fn commit_group(&self, batch: Vec<Pending>, counters: &Counters) {
        if batch.len() > 1 {
            match self.publish_atomic(&batch).await {
                Ok(last) => {
                    counters.batches.fetch_add(1, Ordering::Relaxed);
                    counters
                        .batched
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    let first = last + 1 - batch.len() as u64;
                    for (i, p) in batch.into_iter().enumerate() {
                        let _ = p.done.send(Ok(Appended {
                            seq: first + i as u64,
                            duplicate: false,
                            envelope: p.envelope,
                        }));
                    }
                    return;
                }
                Err(reason) => {
                    counters.refused.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(size = batch.len(), %reason, "group batch refused; appending its members one by one");
                }
            }
        }
        counters
            .alone
            .fetch_add(u64::from(batch.len() == 1), Ordering::Relaxed);
        futures::future::join_all(batch.into_iter().map(|p| async move {
            let result = self
                .publish_one(p.subject, p.headers, p.payload, &p.id, p.expect, p.envelope)
                .await;
            let _ = p.done.send(result);
        }))
        .await;
    }

    /// Publishes the group as one atomic batch; the last message's sequence.
    async fn publish_atomic(&self, batch: &[Pending]) -> Result<u64, String> {
        let client = self.js.client();
        let batch_id = Uuid::now_v7().simple().to_string();
        let n = batch.len();
        for (i, p) in batch.iter().enumerate() {
            let mut headers = p.headers.clone();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, p.id.as_str());
            match p.expect {
                Expect::Any => {}
                Expect::New => {
                    headers.insert(async_nats::header::NATS_EXPECTED_LAST_SUBJECT_SEQUENCE, "0")
                }
                Expect::LastAt(seq) => headers.insert(
                    async_nats::header::NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
                    seq.to_string().as_str(),
                ),
            }
            headers.insert(async_nats::header::NATS_BATCH_ID, batch_id.as_str());
            headers.insert(
                async_nats::header::NATS_BATCH_SEQUENCE,
                (i + 1).to_string().as_str(),
            );
            if i + 1 < n {
                // Intermediate messages go without a reply: the commit's
                // answer covers the batch (a gap makes the server refuse it).
                client
                    .publish_with_headers(p.subject.clone(), headers, p.payload.clone())
                    .await
                    .map_err(|e| e.to_string())?;
            } else {
                headers.insert(async_nats::header::NATS_BATCH_COMMIT, "1");
                let reply = tokio::time::timeout(
                    Duration::from_secs(5),
                    client.request_with_headers(p.subject.clone(), headers, p.payload.clone()),
                )
                .await
                .map_err(|_| "batch commit timed out".to_owned())?
                .map_err(|e| e.to_string())?;
                return batch_ack(&reply.payload, n);
            }
        }
        Err("empty batch".to_owned())
    }
}

/// The last sequence of a committed batch of `n` from its PublishAck.
fn batch_ack(payload: &[u8], n: usize) -> Result<u64, String> {
    #[derive(serde::Deserialize)]
    struct Ack {
        seq: Option<u64>,
        count: Option<usize>,
        error: Option<serde_json::Value>,
    }
    let ack: Ack = serde_json::from_slice(payload)
        .map_err(|e| format!("{e}: {}", String::from_utf8_lossy(payload)))?;
    if let Some(error) = ack.error {
        return Err(error.to_string());
    }
    match (ack.seq, ack.count) {
        (Some(seq), Some(count)) if count == n && seq >= n as u64 => Ok(seq),
        _ => Err(format!(
            "unexpected batch ack: {}",
            String::from_utf8_lossy(payload)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::batch_ack;

    #[test]
    fn batch_acks() {
        assert_eq!(
            batch_ack(br#"{"stream":"LANTERN","seq":12,"batch":"b","count":3}"#, 3),
            Ok(12)
        );
        assert!(batch_ack(br#"{"stream":"LANTERN","seq":12,"batch":"b","count":2}"#, 3).is_err());
        assert!(
            batch_ack(
                br#"{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 4"}}"#,
                3
            )
            .is_err()
        );
        assert!(batch_ack(b"", 3).is_err());
    }
}
