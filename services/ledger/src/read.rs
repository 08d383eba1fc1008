//! Reading the stream back.

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use async_nats::jetstream::stream::LastRawMessageErrorKind;
use futures::{Stream, StreamExt};

use crate::{AggregateKind, Ledger, LedgerError, Recorded};

/// What a read of some kinds of aggregate yields for a stored message.
#[derive(Debug)]
pub enum Read {
    /// An event of one of the kinds read.
    Event(Recorded),
    /// The sequence of a message of another kind, passed over undecoded.
    Passed(u64),
}

/// A read of some kinds is filtered by the server when they are fewer than
/// one in this many of the events left to read.
const FILTER_BELOW: u64 = 50;

/// How long a pull request of a read waits at most (see `read_kinds_from`).
const PULL_EXPIRES: std::time::Duration = std::time::Duration::from_secs(1);

impl Ledger {
    /// The sequence of the last event in the stream (0 when empty).
    pub async fn last_sequence(&self) -> Result<u64, LedgerError> {
        self.check_connected()?;
        let info = self
            .stream
            .get_info()
            .await
            .map_err(|e| LedgerError::Unavailable(e.to_string()))?;
        Ok(info.state.last_sequence)
    }

    /// How many events the stream holds.
    pub async fn message_count(&self) -> Result<u64, LedgerError> {
        let info = self
            .stream
            .get_info()
            .await
            .map_err(|e| LedgerError::Unavailable(e.to_string()))?;
        Ok(info.state.messages)
    }

    /// The event at a stream sequence.
    pub async fn get(&self, seq: u64) -> Result<Recorded, LedgerError> {
        self.check_connected()?;
        let m = self
            .stream
            .get_raw_message(seq)
            .await
            .map_err(|e| LedgerError::Unavailable(format!("get message {seq}: {e}")))?;
        Recorded::decode(m.sequence, &m.payload, Some(&m.headers))
    }

    /// Every event from `start` (≥ 1) on, in stream order, then every new one
    /// as it arrives. An ordered consumer: it is recreated from the last
    /// sequence it delivered after a broker restart, and it leaves no state
    /// on the server, since projectors keep their own checkpoints.
    pub async fn read_from(
        &self,
        start: u64,
    ) -> Result<impl Stream<Item = Result<Recorded, LedgerError>> + Send + Unpin + use<>, LedgerError>
    {
        let events = self
            .read_kinds_from(start, &AggregateKind::ALL, false)
            .await?;
        Ok(events.map(|read| match read? {
            Read::Event(recorded) => Ok(recorded),
            Read::Passed(seq) => Err(LedgerError::Decode {
                seq,
                message: "the subject names no aggregate kind".into(),
            }),
        }))
    }

    /// Like [`Ledger::read_from`], but only the events of aggregates of
    /// `kinds` are decoded: the others are [`Read::Passed`] by their
    /// subject. With `may_filter`, where `kinds` are a small share of what
    /// is left, the server filters by subject and the others are not even
    /// sent (then nothing tells the reader how far the stream has gone: for
    /// reads up to a known end).
    ///
    /// In every read, filtered or not, a message whose event type is not of
    /// its subject's kind (which no append writes) is undecodable: so a
    /// filtered read and a full one agree.
    pub async fn read_kinds_from(
        &self,
        start: u64,
        kinds: &[AggregateKind],
        may_filter: bool,
    ) -> Result<impl Stream<Item = Result<Read, LedgerError>> + Send + Unpin + use<>, LedgerError>
    {
        let kinds = kinds.to_vec();
        let config = |filter_subjects: Vec<String>| pull::OrderedConfig {
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: start.max(1),
            },
            filter_subjects,
            // Now and then (1 rebuild in 12–15 here) nats-server 2.15.1
            // answers a pull request with nothing, not even heartbeats, and
            // async-nats sends the next one only when the pull has expired
            // plus a fixed 5 s of grace: with the default 30 s a 9 s
            // rebuild took 44 s, with 4 s ≈ 17 s; with 1 s a stall costs
            // ≈ 6 s (seen in the debug log: request sent, nothing, "expired
            // pull request" 6.0 s later, messages at once), for one pull
            // request a second from an idle reader.
            max_expires: PULL_EXPIRES,
            ..Default::default()
        };
        let create = |config| async {
            self.stream
                .create_consumer(config)
                .await
                .map_err(|e| LedgerError::Unavailable(format!("create consumer: {e}")))
        };
        let mut consumer = None;
        if may_filter && !AggregateKind::all_in(&kinds) {
            let filtered = create(config(kinds.iter().map(|k| k.filter()).collect())).await?;
            let left = self.last_sequence().await?.saturating_sub(start.max(1)) + 1;
            // With one subject per aggregate, nats-server (2.15) spends
            // ≈ 40 times as long on a message it delivers through a
            // subject filter as on one of an unfiltered read (110–175 µs
            // against ≈ 4 µs, docs/performance.md): filtering pays only
            // when the kinds are a small share of what is left.
            if filtered
                .cached_info()
                .num_pending
                .saturating_mul(FILTER_BELOW)
                < left
            {
                consumer = Some(filtered);
            } else {
                // Ephemeral: the server would drop it once idle anyway.
                let _ = self
                    .stream
                    .delete_consumer(&filtered.cached_info().name)
                    .await;
            }
        }
        let consumer = match consumer {
            Some(c) => c,
            None => create(config(vec![])).await?,
        };
        let messages = consumer
            .messages()
            .await
            .map_err(|e| LedgerError::Unavailable(format!("consume: {e}")))?;
        Ok(messages.map(move |m| {
            let m = m.map_err(|e| LedgerError::Unavailable(e.to_string()))?;
            let seq = m
                .info()
                .map_err(|e| LedgerError::Nats(e.to_string()))?
                .stream_sequence;
            let subject_kind = AggregateKind::of_subject(m.subject.as_str());
            if !subject_kind.is_some_and(|k| kinds.contains(&k)) {
                return Ok(Read::Passed(seq));
            }
            let recorded = Recorded::decode(seq, &m.payload, m.headers.as_ref())?;
            if subject_kind != AggregateKind::of_event_type(&recorded.envelope.event_type) {
                return Err(LedgerError::Decode {
                    seq,
                    message: format!(
                        "event type {} is not of the kind of its subject {}",
                        recorded.envelope.event_type, m.subject
                    ),
                });
            }
            Ok(Read::Event(recorded))
        }))
    }

    /// The sequence of the last event of an aggregate of one of `kinds`
    /// (0 when there is none): where a filtered read up to the stream's
    /// end ends.
    pub async fn last_sequence_of(&self, kinds: &[AggregateKind]) -> Result<u64, LedgerError> {
        self.check_connected()?;
        let mut last = 0;
        for kind in kinds {
            match self
                .stream
                .get_last_raw_message_by_subject(&kind.filter())
                .await
            {
                Ok(m) => last = last.max(m.sequence),
                Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => {}
                Err(e) => {
                    return Err(LedgerError::Unavailable(format!(
                        "last event of {}: {e}",
                        kind.as_str()
                    )));
                }
            }
        }
        Ok(last)
    }

    /// The JetStream context, for tests and tools that need the raw API.
    pub fn jetstream(&self) -> &async_nats::jetstream::Context {
        &self.js
    }
}
