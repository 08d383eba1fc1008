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
    AggregateKind, Envelope, LedgerError, Recorded, SchemaRegistry, StreamSettings, ensure_stream,
    subject::subject, trace,
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
    pub(crate) stream: jetstream::stream::Stream,
    schemas: Arc<SchemaRegistry>,
}

impl Ledger {
    /// Ensures the stream exists with the right settings and returns a ledger on it.
    pub async fn open(
        client: async_nats::Client,
        settings: &StreamSettings,
        schemas: Arc<SchemaRegistry>,
    ) -> Result<Ledger, LedgerError> {
        let js = jetstream::new(client);
        let stream = ensure_stream(&js, settings).await?;
        Ok(Ledger {
            js,
            stream,
            schemas,
        })
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
        self.schemas
            .validate(event.event_type, event.version, &event.data)?;
        let kind = AggregateKind::of_event_type(event.event_type)
            .ok_or_else(|| LedgerError::UnknownSchema(event.event_type.to_owned()))?;
        let subject = subject(&event.hospital, kind, event.aggregate)?;

        let mut headers = async_nats::HeaderMap::new();
        let traceparent = trace::inject_current(&mut headers);
        let envelope = Envelope {
            id: Uuid::now_v7(),
            event_type: event.event_type.to_owned(),
            version: event.version,
            aggregate: event.aggregate,
            hospital: event.hospital,
            recorded_at: Utc::now(),
            trace: traceparent,
            data: event.data,
        };
        let payload =
            serde_json::to_vec(&envelope).map_err(|e| LedgerError::Nats(e.to_string()))?;
        let id = msg_id
            .map(str::to_owned)
            .unwrap_or_else(|| envelope.id.to_string());
        let mut publish = PublishMessage::build()
            .headers(headers)
            .payload(payload.into())
            .message_id(&id);
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
                    && found.msg_id.as_deref() == Some(id.as_str())
                {
                    tracing::Span::current().record("seq", found.seq);
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
        tracing::Span::current().record("seq", ack.sequence);
        if ack.duplicate {
            let first = self.get(ack.sequence).await?;
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

    /// The last event on an aggregate's subject, if any.
    pub async fn last_on_subject(&self, subject: &str) -> Result<Option<Recorded>, LedgerError> {
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
}

fn publish_error(e: jetstream::context::PublishError) -> LedgerError {
    match e.kind() {
        PublishErrorKind::TimedOut
        | PublishErrorKind::BrokenPipe
        | PublishErrorKind::MaxAckPending
        | PublishErrorKind::StreamNotFound => LedgerError::Unavailable(e.to_string()),
        _ => LedgerError::Nats(e.to_string()),
    }
}
