//! Reading the stream back.

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use futures::{Stream, StreamExt};

use crate::{Ledger, LedgerError, Recorded};

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
        let consumer = self
            .stream
            .create_consumer(pull::OrderedConfig {
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: start.max(1),
                },
                ..Default::default()
            })
            .await
            .map_err(|e| LedgerError::Unavailable(format!("create consumer: {e}")))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| LedgerError::Unavailable(format!("consume: {e}")))?;
        Ok(messages.map(|m| {
            let m = m.map_err(|e| LedgerError::Unavailable(e.to_string()))?;
            let seq = m
                .info()
                .map_err(|e| LedgerError::Nats(e.to_string()))?
                .stream_sequence;
            Recorded::decode(seq, &m.payload, m.headers.as_ref())
        }))
    }

    /// The JetStream context, for tests and tools that need the raw API.
    pub fn jetstream(&self) -> &async_nats::jetstream::Context {
        &self.js
    }
}
