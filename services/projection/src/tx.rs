//! A write buffer over a sled database.

use std::collections::BTreeMap;

use serde::{Serialize, de::DeserializeOwned};

use crate::{CHECKPOINT_KEY, ProjectionError};

/// Pending writes of one batch of events, with reads that see them.
///
/// Nothing is written until [`Tx::commit`], which applies every write and the
/// new checkpoint in one atomic sled batch and flushes it: either a batch of
/// events is applied with its checkpoint, or not at all.
pub struct Tx<'a> {
    db: &'a sled::Db,
    pending: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Bytes written so far (keys and values, overwrites included): a
    /// bound on the memory the buffer holds.
    written: usize,
}

impl<'a> Tx<'a> {
    /// An empty buffer over `db`.
    pub fn new(db: &'a sled::Db) -> Tx<'a> {
        Tx {
            db,
            pending: BTreeMap::new(),
            written: 0,
        }
    }

    /// The current value under `key`, pending writes included.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        if let Some(v) = self.pending.get(key) {
            return Ok(v.clone());
        }
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }

    /// Writes `value` under `key`.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        let (key, value) = (key.into(), value.into());
        self.written += key.len() + value.len();
        self.pending.insert(key, Some(value));
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: impl Into<Vec<u8>>) {
        let key = key.into();
        self.written += key.len();
        self.pending.insert(key, None);
    }

    /// Bytes written into the buffer so far (at least what it holds).
    pub fn written_bytes(&self) -> usize {
        self.written
    }

    /// Reads a JSON value.
    pub fn get_json<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ProjectionError> {
        self.get(key)?
            .map(|bytes| {
                serde_json::from_slice(&bytes).map_err(|e| ProjectionError::Corrupt {
                    key: data_encoding::HEXLOWER.encode(key),
                    message: e.to_string(),
                })
            })
            .transpose()
    }

    /// Writes a value as JSON. Serialising our own types cannot fail; should
    /// it, the error surfaces as corruption rather than a panic.
    pub fn put_json<T: Serialize>(
        &mut self,
        key: impl Into<Vec<u8>>,
        value: &T,
    ) -> Result<(), ProjectionError> {
        let key = key.into();
        let bytes = serde_json::to_vec(value).map_err(|e| ProjectionError::Corrupt {
            key: data_encoding::HEXLOWER.encode(&key),
            message: e.to_string(),
        })?;
        self.put(key, bytes);
        Ok(())
    }

    /// How many keys are pending.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Applies every pending write and the checkpoint atomically, then flushes.
    pub async fn commit(self, checkpoint: u64) -> Result<(), ProjectionError> {
        let db = self.db;
        db.apply_batch(self.into_batch(checkpoint))?;
        db.flush_async().await?;
        Ok(())
    }

    /// Applies every pending write and the checkpoint atomically, without
    /// waiting for the disk: a crash keeps a prefix of such batches, each
    /// with its own checkpoint, so the state stays consistent (a rebuild
    /// flushes once at its end).
    pub fn commit_unflushed(self, checkpoint: u64) -> Result<(), ProjectionError> {
        let db = self.db;
        db.apply_batch(self.into_batch(checkpoint))?;
        Ok(())
    }

    /// The pending writes and the checkpoint as one sled batch.
    pub fn into_batch(self, checkpoint: u64) -> sled::Batch {
        let mut batch = sled::Batch::default();
        for (k, v) in self.pending {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        batch.insert(CHECKPOINT_KEY, &checkpoint.to_be_bytes());
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_see_pending_writes_and_commit_is_atomic() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        db.insert(b"a", b"1").unwrap();
        let mut tx = Tx::new(&db);
        assert_eq!(tx.get(b"a").unwrap(), Some(b"1".to_vec()));
        tx.put(b"a".to_vec(), b"2".to_vec());
        tx.remove(b"b".to_vec());
        tx.put_json(b"c".to_vec(), &[1, 2]).unwrap();
        assert_eq!(tx.get(b"a").unwrap(), Some(b"2".to_vec()));
        assert_eq!(
            db.get(b"a").unwrap().unwrap().as_ref(),
            b"1",
            "not written before commit"
        );
        assert_eq!(tx.get_json::<Vec<u32>>(b"c").unwrap(), Some(vec![1, 2]));
        tx.commit(7).await.unwrap();
        assert_eq!(db.get(b"a").unwrap().unwrap().as_ref(), b"2");
        assert_eq!(crate::checkpoint(&db).unwrap(), 7);
    }

    #[test]
    fn corrupt_json_is_an_error_not_a_panic() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        db.insert(b"x", b"{not json").unwrap();
        let tx = Tx::new(&db);
        assert!(matches!(
            tx.get_json::<u32>(b"x"),
            Err(ProjectionError::Corrupt { .. })
        ));
    }
}
