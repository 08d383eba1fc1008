//! Key-value buckets beside the stream: state every replica of `lantern
//! serve` must see at once but that is no fact of a hospital (staff
//! sessions), so it expires and can be purged, which the stream's events
//! never are.
//!
//! A bucket keeps one value per key (history 1) and lets an entry expire
//! `max_age` after its last write; its replicas follow the `LANTERN`
//! stream's as the server reports them, never a process's configuration,
//! so a process started with other settings cannot change them.

use std::time::Duration;

use async_nats::jetstream::kv::{self, UpdateErrorKind};
use bytes::Bytes;

use crate::{Ledger, LedgerError};

/// An entry: its value and the revision a conditional write names.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The value.
    pub value: Bytes,
    /// The bucket's sequence of the write that stored it.
    pub revision: u64,
}

/// A key-value bucket.
#[derive(Clone)]
pub struct Bucket {
    store: kv::Store,
    name: String,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket").field("name", &self.name).finish()
    }
}

impl Ledger {
    /// Opens the bucket `name`, creating it when missing with one value per
    /// key, entries expiring `max_age` after their last write, and the
    /// stream's replicas. An existing bucket whose expiry or replicas differ
    /// is brought to them: it holds nothing that must outlive `max_age`, and
    /// what it is brought to comes from the stream, not from this process.
    pub async fn bucket(
        &self,
        name: &str,
        description: &str,
        max_age: Duration,
    ) -> Result<Bucket, LedgerError> {
        self.check_connected()?;
        let replicas = self.stream.cached_info().config.num_replicas.max(1);
        let config = kv::Config {
            bucket: name.to_owned(),
            description: description.to_owned(),
            history: 1,
            max_age,
            storage: async_nats::jetstream::stream::StorageType::File,
            num_replicas: replicas,
            ..Default::default()
        };
        // Idempotent: replicas starting at once, or a bucket already as
        // configured, come to the same bucket.
        let store = self
            .js
            .create_or_update_key_value(config)
            .await
            .map_err(|e| LedgerError::Unavailable(format!("key-value bucket {name}: {e}")))?;
        Ok(Bucket {
            store,
            name: name.to_owned(),
        })
    }
}

impl Bucket {
    fn unavailable(&self, what: &str, e: &dyn std::fmt::Display) -> LedgerError {
        LedgerError::Unavailable(format!("key-value bucket {}: {what}: {e}", self.name))
    }

    /// The live entry under `key`: none when it was never written, was
    /// purged or has expired.
    pub async fn get(&self, key: &str) -> Result<Option<Entry>, LedgerError> {
        let entry = self
            .store
            .entry(key)
            .await
            .map_err(|e| self.unavailable("get", &e))?;
        Ok(entry
            .filter(|e| e.operation == kv::Operation::Put)
            .map(|e| Entry {
                value: e.value,
                revision: e.revision,
            }))
    }

    /// Writes `value` under `key`; returns its revision.
    pub async fn put(&self, key: &str, value: Bytes) -> Result<u64, LedgerError> {
        self.store
            .put(key, value)
            .await
            .map_err(|e| self.unavailable("put", &e))
    }

    /// Writes `value` under `key` only if `revision` is still its last
    /// write: `None` when something else was written or it was purged
    /// since (a purge stays a purge).
    pub async fn update(
        &self,
        key: &str,
        value: Bytes,
        revision: u64,
    ) -> Result<Option<u64>, LedgerError> {
        match self.store.update(key, value, revision).await {
            Ok(revision) => Ok(Some(revision)),
            Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => Ok(None),
            Err(e) => Err(self.unavailable("update", &e)),
        }
    }

    /// Removes `key` and every earlier value of it.
    pub async fn purge(&self, key: &str) -> Result<(), LedgerError> {
        self.store
            .purge(key)
            .await
            .map_err(|e| self.unavailable("purge", &e))
    }

    /// The bucket's configuration as the server keeps it: its replicas and
    /// expiry, for tests and operators.
    pub async fn settings(&self) -> Result<(usize, Duration), LedgerError> {
        let mut stream = self.store.stream.clone();
        let info = stream
            .info()
            .await
            .map_err(|e| self.unavailable("info", &e))?;
        Ok((info.config.num_replicas, info.config.max_age))
    }
}
