//! Appending events.
//!
//! A call returns only after JetStream acknowledged the message (and, with
//! the server's `sync_interval: always`, after it is on disk). Two mechanisms
//! make it safe to retry:
//!
//! - `Nats-Msg-Id` is the event id, or the hash of the request's
//!   Idempotency-Key, so a retry inside the stream's duplicate window is
//!   acknowledged as a duplicate of the first and stores nothing;
//! - `Nats-Expected-Last-Subject-Sequence` makes a step on an aggregate
//!   succeed only if nothing else was appended to it since the caller read it.

use std::sync::Arc;

use async_nats::jetstream::{self, context::PublishErrorKind, message::PublishMessage};
use chrono::Utc;
use serde_json::Value;
use uuid::Uuid;

use crate::{
    AggregateKind, Data, Envelope, LedgerError, REQUEST_HEADER, Recorded, SchemaRegistry,
    StreamSettings, dedup_id, ensure_stream, subject::subject, trace,
};

/// An event to append; the ledger adds id, time and trace.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Dotted type, e.g. `report.filed`.
    pub event_type: &'static str,
    /// Schema version of `data`.
    pub version: u32,
    /// The aggregate the event belongs to.
    pub aggregate: Uuid,
    /// Hospital code (or [`crate::SYSTEM_SCOPE`]).
    pub hospital: String,
    /// The data, validated against its schema before append.
    pub data: Value,
}

/// What the caller believes about the aggregate's subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No check: independent facts (a census figure replacing the last).
    Any,
    /// The aggregate must not exist yet (its first event).
    New,
    /// The subject's last message must be at this stream sequence.
    LastAt(u64),
}

/// The outcome of an append.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The stream sequence of the stored event.
    pub seq: u64,
    /// True when this call was a retry and the first call's event is returned.
    pub duplicate: bool,
    /// The stored envelope (the first one's, for a duplicate).
    pub envelope: Envelope,
}

/// The handle every service appends and reads through.
#[derive(Clone)]
pub struct Ledger {
    pub(crate) js: jetstream::Context,
    /// Shared: the stream's info (its whole configuration) made every
    /// clone of a ledger — one per request, through the services' states —
    /// cost a dozen allocations.
    pub(crate) stream: Arc<jetstream::stream::Stream>,
    schemas: Arc<SchemaRegistry>,
    group: Option<crate::group::Group>,
}

impl Ledger {
    /// Creates the stream if it is absent, refuses one that differs from
    /// the configuration (see [`ensure_stream`]), and returns a ledger on it.
    pub async fn open(
        client: async_nats::Client,
        settings: &StreamSettings,
        schemas: Arc<SchemaRegistry>,
    ) -> Result<Ledger, LedgerError> {
        let js = jetstream::new(client);
        let stream = ensure_stream(&js, settings).await?;
        Ok(Ledger {
            js,
            stream: Arc::new(stream),
            schemas,
            group: None,
        })
    }

    /// A ledger on the stream as it is, which must exist: neither created
    /// nor compared with a configuration, for commands that only read it
    /// (`lantern rebuild`), whatever the settings they were started with.
    pub async fn open_existing(
        client: async_nats::Client,
        schemas: Arc<SchemaRegistry>,
    ) -> Result<Ledger, LedgerError> {
        let js = jetstream::new(client);
        let stream = crate::stream::open_existing(&js).await?;
        Ok(Ledger {
            js,
            stream: Arc::new(stream),
            schemas,
            group: None,
        })
    }

    /// This ledger with group commit: concurrent appends (of any aggregates)
    /// are stored as one atomic batch, one durable write for many callers
    /// (see [`crate::group`]). Needs a tokio runtime.
    pub fn with_group_commit(self, settings: crate::GroupCommit) -> Ledger {
        let alone = Ledger {
            group: None,
            ..self.clone()
        };
        Ledger {
            group: Some(crate::group::Group::start(alone, settings)),
            ..self
        }
    }

    /// Fails at once while the client is not connected, rather than letting
    /// a request wait out the publish timeout: the caller answers 503 and
    /// the sender retries with the same Idempotency-Key.
    pub(crate) fn check_connected(&self) -> Result<(), LedgerError> {
        match self.js.client().connection_state() {
            async_nats::connection::State::Connected => Ok(()),
            state => Err(LedgerError::Unavailable(format!(
                "not connected to NATS ({state})"
            ))),
        }
    }

    /// What group commit has done, when it is on.
    pub fn group_stats(&self) -> Option<crate::group::GroupStats> {
        self.group.as_ref().map(crate::group::Group::stats)
    }

    /// The schema registry events are validated with.
    pub fn schemas(&self) -> &SchemaRegistry {
        &self.schemas
    }

    /// Validates and appends one event.
    ///
    /// `msg_id` is the de-duplication id: pass the hash of the request's
    /// Idempotency-Key when there is one; the event id is used otherwise.
    #[tracing::instrument(name = "ledger.append", skip_all, fields(event_type = event.event_type, seq))]
    pub async fn append(
        &self,
        event: NewEvent,
        expect: Expect,
        msg_id: Option<&str>,
    ) -> Result<Appended, LedgerError> {
        let kind = AggregateKind::of_event_type(event.event_type)
            .ok_or_else(|| LedgerError::UnknownSchema(event.event_type.to_owned()))?;
        let subject = subject(&event.hospital, kind, event.aggregate)?;
        let (envelope, mut headers, payload) = seal(&self.schemas, event)?;
        self.check_connected()?;
        let request = msg_id
            .map(str::to_owned)
            .unwrap_or_else(|| envelope.id.to_string());
        let id = dedup_id(&request).to_owned();
        if id != request {
            headers.insert(REQUEST_HEADER, request.as_str());
        }
        let appended = match &self.group {
            Some(group) => {
                group
                    .append(subject, headers, payload, id, expect, envelope)
                    .await?
            }
            None => {
                self.publish_one(subject, headers, payload, &id, expect, envelope)
                    .await?
            }
        };
        tracing::Span::current().record("seq", appended.seq);
        Ok(appended)
    }

    /// Publishes one sealed event with its message id and expectation, and
    /// tells a stored event from a retry's duplicate and from a conflict.
    pub(crate) async fn publish_one(
        &self,
        subject: String,
        headers: async_nats::HeaderMap,
        payload: bytes::Bytes,
        id: &str,
        expect: Expect,
        envelope: Envelope,
    ) -> Result<Appended, LedgerError> {
        // The whole request id, to tell a retry from the key reused for
        // another request when the server answers "duplicate".
        let request = headers
            .get(REQUEST_HEADER)
            .map_or_else(|| id.to_owned(), |v| v.as_str().to_owned());
        let mut publish = PublishMessage::build()
            .headers(headers)
            .payload(payload)
            .message_id(id);
        match expect {
            Expect::Any => {}
            Expect::New => publish = publish.expected_last_subject_sequence(0),
            Expect::LastAt(seq) => publish = publish.expected_last_subject_sequence(seq),
        }

        let acked = async { self.js.send_publish(subject.clone(), publish).await?.await }.await;
        let ack = match acked {
            Ok(ack) => ack,
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                // From nats-server 2.12 a retried publish with the same msg id
                // and expected sequence is answered "wrong last sequence", not
                // "duplicate": look at what is there before calling it a conflict.
                let expected = match expect {
                    Expect::LastAt(s) => s,
                    _ => 0,
                };
                if let Some(found) = self.last_on_subject(&subject).await?
                    && let Some(stored) = found.msg_id.as_deref()
                    && dedup_id(stored) == id
                {
                    if stored != request {
                        return Err(LedgerError::RequestReused { seq: found.seq });
                    }
                    return Ok(Appended {
                        seq: found.seq,
                        duplicate: true,
                        envelope: found.envelope,
                    });
                }
                return Err(LedgerError::Conflict { subject, expected });
            }
            Err(e) => return Err(publish_error(e)),
        };
        if ack.duplicate {
            let first = self.get(ack.sequence).await?;
            if first.msg_id.as_deref() != Some(request.as_str()) {
                return Err(LedgerError::RequestReused { seq: first.seq });
            }
            return Ok(Appended {
                seq: ack.sequence,
                duplicate: true,
                envelope: first.envelope,
            });
        }
        Ok(Appended {
            seq: ack.sequence,
            duplicate: false,
            envelope,
        })
    }

    /// Validates and appends several events of ONE aggregate atomically (all
    /// or none), with JetStream's atomic batch publish (server ≥ 2.12): an
    /// LIS recording a whole critical-value loop after the fact.
    ///
    /// `expect` is checked against the subject as it was before the batch;
    /// `msg_id` is set on the first event, so a retry is recognised.
    #[tracing::instrument(name = "ledger.append_batch", skip_all, fields(events = events.len(), seq))]
    pub async fn append_batch(
        &self,
        events: Vec<NewEvent>,
        expect: Expect,
        msg_id: Option<&str>,
    ) -> Result<Vec<Appended>, LedgerError> {
        let Some(first) = events.first() else {
            return Ok(Vec::new());
        };
        if events.len() == 1 {
            let event = events
                .into_iter()
                .next()
                .ok_or_else(|| LedgerError::Nats("empty batch".into()))?;
            return Ok(vec![self.append(event, expect, msg_id).await?]);
        }
        let (hospital, aggregate) = (first.hospital.clone(), first.aggregate);
        if events
            .iter()
            .any(|e| e.hospital != hospital || e.aggregate != aggregate)
        {
            return Err(LedgerError::Nats(
                "a batch must hold events of one aggregate".into(),
            ));
        }
        self.check_connected()?;
        let batch_id = Uuid::now_v7().simple().to_string();
        let n = events.len();
        let mut envelopes = Vec::with_capacity(n);
        let first_kind = AggregateKind::of_event_type(first.event_type)
            .ok_or_else(|| LedgerError::UnknownSchema(first.event_type.to_owned()))?;
        let subject = crate::subject::subject(&hospital, first_kind, aggregate)?;
        for (i, event) in events.into_iter().enumerate() {
            if AggregateKind::of_event_type(event.event_type) != Some(first_kind) {
                return Err(LedgerError::Nats(
                    "a batch must hold events of one aggregate".into(),
                ));
            }
            let (envelope, mut headers, payload) = seal(&self.schemas, event)?;
            let id = match (i, msg_id) {
                (0, Some(request)) => {
                    if dedup_id(request) != request {
                        headers.insert(REQUEST_HEADER, request);
                    }
                    dedup_id(request).to_owned()
                }
                _ => envelope.id.to_string(),
            };
            headers.insert(async_nats::header::NATS_MESSAGE_ID, id.as_str());
            headers.insert(async_nats::header::NATS_BATCH_ID, batch_id.as_str());
            headers.insert(
                async_nats::header::NATS_BATCH_SEQUENCE,
                (i + 1).to_string().as_str(),
            );
            if i == 0 {
                match expect {
                    Expect::Any => {}
                    Expect::New => {
                        headers.insert(async_nats::header::NATS_EXPECTED_LAST_SUBJECT_SEQUENCE, "0")
                    }
                    Expect::LastAt(seq) => headers.insert(
                        async_nats::header::NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
                        seq.to_string().as_str(),
                    ),
                }
            }
            envelopes.push(envelope);
            if i + 1 < n {
                // Intermediate messages are acknowledged with an empty reply;
                // asking for it gives flow control and notices a lost batch.
                let reply = tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    self.js
                        .client()
                        .request_with_headers(subject.clone(), headers, payload),
                )
                .await
                .map_err(|_| LedgerError::Unavailable("batch publish timed out".into()))?
                .map_err(|e| LedgerError::Unavailable(e.to_string()))?;
                if !reply.payload.is_empty() {
                    return Err(batch_error(&reply.payload, &subject, expect));
                }
            } else {
                headers.insert(async_nats::header::NATS_BATCH_COMMIT, "1");
                let acked = async {
                    self.js
                        .send_publish(
                            subject.clone(),
                            PublishMessage::build().headers(headers).payload(payload),
                        )
                        .await?
                        .await
                }
                .await;
                let ack = match acked {
                    Ok(ack) => ack,
                    // A retried batch: refused for its expected sequence, or
                    // (single replica, 2.12+) for its duplicate message id.
                    Err(e)
                        if e.kind() == PublishErrorKind::WrongLastSequence
                            || (msg_id.is_some()
                                && e.to_string().contains("duplicate message id")) =>
                    {
                        return self.replayed_batch(&subject, msg_id, expect).await;
                    }
                    Err(e) => return Err(publish_error(e)),
                };
                tracing::Span::current().record("seq", ack.sequence);
                let first_seq = ack.sequence + 1 - n as u64;
                return Ok(envelopes
                    .into_iter()
                    .enumerate()
                    .map(|(j, envelope)| Appended {
                        seq: first_seq + j as u64,
                        duplicate: false,
                        envelope,
                    })
                    .collect());
            }
        }
        Err(LedgerError::Nats("empty batch".into()))
    }

    /// A batch refused for its expected sequence: a retry of a batch that
    /// was stored (same msg id on the subject's first event) returns the
    /// stored events; anything else is a conflict.
    async fn replayed_batch(
        &self,
        subject: &str,
        msg_id: Option<&str>,
        expect: Expect,
    ) -> Result<Vec<Appended>, LedgerError> {
        let expected = match expect {
            Expect::LastAt(s) => s,
            _ => 0,
        };
        let conflict = || LedgerError::Conflict {
            subject: subject.to_owned(),
            expected,
        };
        let Some(key) = msg_id else {
            return Err(conflict());
        };
        // The batch's first event carries the key; it lies after what the
        // caller expected to be the subject's last event.
        let mut next = match expect {
            Expect::LastAt(s) => s + 1,
            _ => 0,
        };
        let first = loop {
            let m = match self
                .stream
                .get_first_raw_message_by_subject(subject, next)
                .await
            {
                Ok(m) => m,
                Err(_) => return Err(conflict()),
            };
            let r = Recorded::decode(m.sequence, &m.payload, Some(&m.headers))?;
            if let Some(stored) = r.msg_id.as_deref()
                && dedup_id(stored) == dedup_id(key)
            {
                if stored != key {
                    return Err(LedgerError::RequestReused { seq: r.seq });
                }
                break r;
            }
            next = r.seq + 1;
        };
        let mut out = vec![Appended {
            seq: first.seq,
            duplicate: true,
            envelope: first.envelope,
        }];
        let mut next = first.seq + 1;
        while let Ok(m) = self
            .stream
            .get_first_raw_message_by_subject(subject, next)
            .await
        {
            let r = Recorded::decode(m.sequence, &m.payload, Some(&m.headers))?;
            next = r.seq + 1;
            out.push(Appended {
                seq: r.seq,
                duplicate: true,
                envelope: r.envelope,
            });
        }
        Ok(out)
    }

    /// The last event on an aggregate's subject, if any.
    pub async fn last_on_subject(&self, subject: &str) -> Result<Option<Recorded>, LedgerError> {
        self.check_connected()?;
        use async_nats::jetstream::stream::LastRawMessageErrorKind;
        match self.stream.get_last_raw_message_by_subject(subject).await {
            Ok(m) => Recorded::decode(m.sequence, &m.payload, Some(&m.headers)).map(Some),
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Err(e) => Err(LedgerError::Unavailable(e.to_string())),
        }
    }

    /// The last event of an aggregate, if any.
    pub async fn last_of(
        &self,
        hospital: &str,
        kind: AggregateKind,
        aggregate: Uuid,
    ) -> Result<Option<Recorded>, LedgerError> {
        self.last_on_subject(&subject(hospital, kind, aggregate)?)
            .await
    }

    /// The last event of an aggregate under any scope: of an aggregate the
    /// hospital and a QC centre both write (`crate::subject::Scope`), the
    /// last of either side's, which a step must have seen before it is
    /// decided; its own side's subject is still the one it expects on.
    pub async fn last_of_aggregate(
        &self,
        kind: AggregateKind,
        aggregate: Uuid,
    ) -> Result<Option<Recorded>, LedgerError> {
        self.last_on_subject(&crate::subject::aggregate_filter(kind, aggregate))
            .await
    }
}

/// Validates an event and wraps it: its envelope (with a new id, the server
/// clock and the current trace), the headers carrying the trace, and the
/// payload bytes.
fn seal(
    schemas: &SchemaRegistry,
    event: NewEvent,
) -> Result<(Envelope, async_nats::HeaderMap, bytes::Bytes), LedgerError> {
    schemas.validate(event.event_type, event.version, &event.data)?;
    let mut headers = async_nats::HeaderMap::new();
    let trace = trace::inject_current(&mut headers);
    let envelope = Envelope {
        id: Uuid::now_v7(),
        event_type: event.event_type.to_owned(),
        version: event.version,
        aggregate: event.aggregate,
        hospital: event.hospital,
        recorded_at: Utc::now(),
        trace,
        data: Data::from_value(&event.data),
    };
    let payload = serde_json::to_vec(&envelope).map_err(|e| LedgerError::Nats(e.to_string()))?;
    Ok((envelope, headers, payload.into()))
}

/// An error answer to an intermediate batch message.
fn batch_error(payload: &[u8], subject: &str, expect: Expect) -> LedgerError {
    let text = String::from_utf8_lossy(payload).into_owned();
    if text.contains("wrong last sequence") {
        return LedgerError::Conflict {
            subject: subject.to_owned(),
            expected: match expect {
                Expect::LastAt(s) => s,
                _ => 0,
            },
        };
    }
    LedgerError::Nats(format!("batch refused: {text}"))
}

fn publish_error(e: jetstream::context::PublishError) -> LedgerError {
    match e.kind() {
        PublishErrorKind::TimedOut
        | PublishErrorKind::BrokenPipe
        | PublishErrorKind::MaxAckPending
        | PublishErrorKind::StreamNotFound => LedgerError::Unavailable(format!(
            // The publish may sit in the client's buffer and reach the
            // broker once it is back: the outcome is unknown, not "not stored".
            "the event store did not confirm the write ({e}); it may still be stored, \
             so retry with the same Idempotency-Key"
        )),
        _ => LedgerError::Nats(e.to_string()),
    }
}
