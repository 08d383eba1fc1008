//! A write buffer over a sled database.

use std::any::Any;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::Arc;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{CHECKPOINT_KEY, INCOMPLETE_KEY, ProjectionError};

/// Values up to this size that a batch reads from the database are kept for
/// the rest of the batch: events read the same few small keys (a hospital's
/// time zone, its limits) over and over.
const READ_CACHE_VALUE_BYTES: usize = 1024;
const READ_CACHE_ENTRIES: usize = 65_536;

/// Decoded values a run over a fresh database keeps between batches at
/// most; past this, they are dropped at the next commit (they are stored).
const KEPT_DECODED_ENTRIES: usize = 65_536;

/// Scattered writes a run over a fresh database holds back at most (keys
/// and values); past this, the run releases them all
/// ([`FreshRun::holds_too_much`]).
const HELD_BYTES: usize = 128 * 1024 * 1024;

/// Writes per sled batch when a run over a fresh database applies one of
/// its batches (see [`Sealed::apply`]).
const APPLY_CHUNK: usize = 1000;

/// What a run over a database that was empty when it began (a rebuild)
/// carries from batch to batch.
///
/// Every key written so far, as hashes: a key not in it is certainly
/// absent, so looking it up needs no walk down the tree — in a rebuild most
/// lookups are of keys not yet written (is this report new?). A hash
/// collision only costs the walk.
///
/// And the values updated through [`Tx::update`], still decoded after
/// their batch is committed: the next batch updates the same counters
/// (every rates batch touches nearly every hospital-month) without reading
/// and decoding them again. The run is the database's only writer, so they
/// stay what is stored.
///
/// And the scattered writes ([`Tx::put_scattered`]) of committed batches,
/// held back to be written in key order at the run's end.
///
/// The database is marked incomplete ([`INCOMPLETE_KEY`]) from the run's
/// first batch until [`FreshRun::finish`]: a database left with the mark
/// is rebuilt when opened, so the run's batches need not reach it
/// atomically (see [`Sealed::apply`]), nor its held writes with the events
/// they came from.
#[derive(Default)]
pub struct FreshRun {
    written: HashSet<u64>,
    decoded: HashMap<Vec<u8>, Kept>,
    held: BTreeMap<Vec<u8>, Vec<u8>>,
    held_bytes: usize,
}

impl FreshRun {
    /// Whether the writes held back have grown past what a run keeps in
    /// memory ([`HELD_BYTES`]): time to [`FreshRun::release`] them.
    pub fn holds_too_much(&self) -> bool {
        self.held_bytes > HELD_BYTES
    }

    /// The first `max` writes held back, in key order, as a batch of their
    /// own that commits `checkpoint` (the run's position: they are of
    /// events up to it). `None` when nothing is held.
    ///
    /// Batches of their own, so that the next is taken out while one is
    /// applied.
    pub fn release(&mut self, checkpoint: u64, max: usize) -> Option<Sealed> {
        if self.held.is_empty() {
            return None;
        }
        let rest = match self.held.keys().nth(max.max(1)).cloned() {
            Some(first_kept) => self.held.split_off(&first_kept),
            None => BTreeMap::new(),
        };
        let mut writes = Writes::new();
        for (k, v) in std::mem::replace(&mut self.held, rest) {
            self.held_bytes -= k.len() + v.len();
            writes.insert(k.into(), Some(v.into()));
        }
        Some(Sealed::divisible(writes, checkpoint))
    }

    /// The run's last batch, once [`FreshRun::release`] has released all
    /// it held: it commits `checkpoint` and drops the incomplete mark, so
    /// that the database is served as it is.
    pub fn finish(self, checkpoint: u64) -> Sealed {
        debug_assert!(self.held.is_empty(), "held writes released first");
        let mut writes = Writes::new();
        writes.insert(INCOMPLETE_KEY.into(), None);
        Sealed::new(writes, checkpoint)
    }

    fn hash(key: &[u8]) -> u64 {
        BuildHasherDefault::<DefaultHasher>::default().hash_one(key)
    }

    fn may_hold(&self, key: &[u8]) -> bool {
        self.written.contains(&Self::hash(key))
    }

    fn note(&mut self, key: &[u8]) {
        self.written.insert(Self::hash(key));
    }
}

/// A decoded value and whether this batch changed it.
struct Kept {
    value: Box<dyn Decoded>,
    dirty: bool,
}

/// A read-model value kept decoded while a batch runs (see [`Tx::update`]).
pub trait Stored: Sized + Send + 'static {
    /// The stored form.
    fn encode(&self) -> Vec<u8>;
    /// Reads the stored form; `key` names it in the error.
    fn decode(key: &[u8], bytes: &[u8]) -> Result<Self, ProjectionError>;
}

/// A decoded value of any [`Stored`] type.
trait Decoded: Send {
    fn encode(&self) -> Vec<u8>;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Stored> Decoded for T {
    fn encode(&self) -> Vec<u8> {
        Stored::encode(self)
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Pending writes of one batch of events, with reads that see them.
///
/// Nothing is written until [`Tx::commit`], which applies every write and the
/// new checkpoint in one atomic sled batch: either a batch of
/// events is applied with its checkpoint, or not at all.
pub struct Tx<'a> {
    db: &'a sled::Db,
    pending: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Bytes written so far (keys and values, overwrites included): a
    /// bound on the memory the buffer holds.
    written: usize,
    /// Small values read from the database during this batch.
    read: RefCell<HashMap<Vec<u8>, Option<Vec<u8>>>>,
    /// In a run that began on an empty database: what it knows so far.
    fresh: Option<&'a mut FreshRun>,
    /// Values updated through [`Tx::update`], decoded; those this batch
    /// changed are encoded at commit.
    decoded: HashMap<Vec<u8>, Kept>,
    /// The batch sealed before this one, which may not have reached the
    /// database yet.
    through: Option<Sealed>,
    /// In a run over a fresh database: this batch's scattered writes, and
    /// the keys written otherwise that earlier batches held back.
    scattered: BTreeMap<Vec<u8>, Vec<u8>>,
    unheld: Vec<Vec<u8>>,
}

/// A batch's writes and checkpoint, taken out of its [`Tx`] and ready to be
/// applied as one atomic sled batch: at once ([`Tx::commit`]), or on another
/// thread while the next batch is applied reading through it
/// ([`Tx::reading_through`]) — a rebuild's pipeline.
#[derive(Clone)]
pub struct Sealed {
    writes: Arc<Writes>,
    /// Whether it may reach the database in several sled batches: it is of
    /// a run over a fresh database, marked incomplete until it finishes.
    divisible: bool,
}

/// Keys and what to write under them (`None`: remove), in key order.
type Writes = BTreeMap<sled::IVec, Option<sled::IVec>>;

impl Sealed {
    /// `writes` with the checkpoint they commit, to be applied atomically.
    fn new(mut writes: Writes, checkpoint: u64) -> Sealed {
        writes.insert(
            CHECKPOINT_KEY.into(),
            Some(checkpoint.to_be_bytes().as_slice().into()),
        );
        Sealed {
            writes: Arc::new(writes),
            divisible: false,
        }
    }

    /// `writes` with the checkpoint they commit, of a run over a fresh
    /// database.
    fn divisible(writes: Writes, checkpoint: u64) -> Sealed {
        Sealed {
            divisible: true,
            ..Sealed::new(writes, checkpoint)
        }
    }

    /// Applies the writes and the checkpoint, without waiting for the disk
    /// (see [`Tx::commit`]): atomically, or for a batch of a run over a
    /// fresh database in sled batches of [`APPLY_CHUNK`] writes, then the
    /// checkpoint.
    ///
    /// sled 0.34 copies a leaf on every insert and frees the copy it
    /// replaces only once the batch that made it ends: a rebuild batch of
    /// ≈ 100 k inserts kept a gigabyte of old leaves alive, and every page
    /// of it was faulted in and zeroed afresh (a sixth of a reports
    /// rebuild's samples). In chunks the same memory is reused while hot:
    /// a reports rebuild used a quarter less CPU (peak RSS 1.25 → 0.48
    /// GB), rates 8 % less.
    pub fn apply(&self, db: &sled::Db) -> Result<(), ProjectionError> {
        if !self.divisible {
            db.apply_batch(batch(self.writes.iter()))?;
            return Ok(());
        }
        // The incomplete mark sorts first of the writes and so lands with
        // the first chunk; the checkpoint comes after the last.
        let (checkpoint, writes): (Vec<_>, Vec<_>) = self
            .writes
            .iter()
            .partition(|(k, _)| k.as_ref() == CHECKPOINT_KEY);
        for chunk in writes.chunks(APPLY_CHUNK).chain([checkpoint.as_slice()]) {
            db.apply_batch(batch(chunk.iter().copied()))?;
        }
        Ok(())
    }

    /// What the batch writes under `key`: `Some(None)` if it removes it,
    /// `None` if it does not touch it.
    fn get(&self, key: &[u8]) -> Option<Option<&sled::IVec>> {
        self.writes.get(key).map(Option::as_ref)
    }
}

/// Writes as a sled batch (the values are shared, not copied).
fn batch<'w>(
    writes: impl Iterator<Item = (&'w sled::IVec, &'w Option<sled::IVec>)>,
) -> sled::Batch {
    let mut batch = sled::Batch::default();
    for (k, v) in writes {
        match v {
            Some(v) => batch.insert(k, v),
            None => batch.remove(k),
        }
    }
    batch
}

impl<'a> Tx<'a> {
    /// An empty buffer over `db`.
    pub fn new(db: &'a sled::Db) -> Tx<'a> {
        Tx {
            db,
            pending: BTreeMap::new(),
            written: 0,
            read: RefCell::new(HashMap::new()),
            fresh: None,
            decoded: HashMap::new(),
            through: None,
            scattered: BTreeMap::new(),
            unheld: Vec::new(),
        }
    }

    /// The same buffer, its reads seeing `earlier`'s writes under its own:
    /// `earlier` is the batch sealed just before this one, applied to the
    /// database meanwhile or not.
    pub fn reading_through(self, earlier: Sealed) -> Tx<'a> {
        Tx {
            through: Some(earlier),
            ..self
        }
    }

    /// An empty buffer over `db`, which was empty when `run` began and has
    /// been written by its batches alone since.
    pub fn over_fresh(db: &'a sled::Db, run: &'a mut FreshRun) -> Tx<'a> {
        Tx {
            decoded: std::mem::take(&mut run.decoded),
            fresh: Some(run),
            ..Tx::new(db)
        }
    }

    /// The current value under `key`, pending writes included.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        // Over a fresh database a key the run never wrote is in no buffer,
        // held write or earlier batch either: most of a rebuild's lookups
        // (is this report new?) end here, before five map lookups on keys
        // that share long prefixes.
        if self.fresh.as_ref().is_some_and(|run| !run.may_hold(key)) {
            return Ok(None);
        }
        if let Some(v) = self.decoded.get(key) {
            return Ok(Some(v.value.encode()));
        }
        if let Some(v) = self.pending.get(key) {
            return Ok(v.clone());
        }
        if let Some(v) = self.scattered.get(key) {
            return Ok(Some(v.clone()));
        }
        if let Some(v) = self.fresh.as_ref().and_then(|run| run.held.get(key)) {
            return Ok(Some(v.clone()));
        }
        if let Some(v) = self.through.as_ref().and_then(|s| s.get(key)) {
            return Ok(v.map(|v| v.to_vec()));
        }
        if let Some(v) = self.read.borrow().get(key) {
            return Ok(v.clone());
        }
        let value = self.db.get(key)?.map(|v| v.to_vec());
        if value
            .as_ref()
            .is_none_or(|v| v.len() <= READ_CACHE_VALUE_BYTES)
        {
            let mut read = self.read.borrow_mut();
            if read.len() >= READ_CACHE_ENTRIES {
                read.clear();
            }
            read.insert(key.to_vec(), value.clone());
        }
        Ok(value)
    }

    /// Writes `value` under `key`.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        let (key, value) = (key.into(), value.into());
        self.written += key.len() + value.len();
        if let Some(w) = self.fresh.as_deref_mut() {
            w.note(&key);
        }
        self.unhold(&key);
        self.decoded.remove(&key);
        self.pending.insert(key, Some(value));
    }

    /// Writes `value` under `key`, a key of a family that scatters over the
    /// key space (a hash, a random id): one such write per leaf of the tree
    /// makes sled rewrite leaves all over it, which cost a reports rebuild a
    /// third of its time. Over a fresh database the write is held back
    /// until the run releases its held writes in key order
    /// ([`FreshRun::release`], at its end or when they grow past
    /// [`HELD_BYTES`]); reads see it meanwhile. Elsewhere it is
    /// [`Tx::put`].
    pub fn put_scattered(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        let Some(run) = self.fresh.as_deref_mut() else {
            return self.put(key, value);
        };
        let (key, value) = (key.into(), value.into());
        run.note(&key);
        self.decoded.remove(&key);
        self.pending.remove(&key);
        self.scattered.insert(key, value);
    }

    /// A write of `key` other than a scattered one: what the run holds
    /// under it is not to be written.
    fn unhold(&mut self, key: &[u8]) {
        self.scattered.remove(key);
        if self
            .fresh
            .as_ref()
            .is_some_and(|run| run.held.contains_key(key))
        {
            self.unheld.push(key.to_vec());
        }
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: impl Into<Vec<u8>>) {
        let key = key.into();
        self.written += key.len();
        self.unhold(&key);
        self.decoded.remove(&key);
        self.pending.insert(key, None);
    }

    /// Updates the value under `key` (its default if there is none) with
    /// `f`. The value stays decoded for the rest of the batch and is encoded
    /// once, at commit: a rebuild batch updates the same counters thousands
    /// of times. Reads of `key` meanwhile see the updated value.
    pub fn update<T: Stored + Default>(
        &mut self,
        key: Vec<u8>,
        f: impl FnOnce(&mut T),
    ) -> Result<(), ProjectionError> {
        if let Some(kept) = self.decoded.get_mut(&key)
            && let Some(v) = kept.value.as_any_mut().downcast_mut::<T>()
        {
            f(v);
            if !kept.dirty {
                kept.dirty = true;
                self.written += key.len() + 64;
            }
            return Ok(());
        }
        let mut value = match self.get(&key)? {
            Some(bytes) => T::decode(&key, &bytes)?,
            None => T::default(),
        };
        f(&mut value);
        // An estimate of what it will hold: enough to bound a batch.
        self.written += key.len() + 64;
        if let Some(w) = self.fresh.as_deref_mut() {
            w.note(&key);
        }
        self.unhold(&key);
        self.pending.remove(&key);
        let value = Box::new(value);
        self.decoded.insert(key, Kept { value, dirty: true });
        Ok(())
    }

    /// Bytes written into the buffer so far (at least what it holds).
    pub fn written_bytes(&self) -> usize {
        self.written
    }

    /// Reads a value in its [`Stored`] form.
    pub fn get_stored<T: Stored>(&self, key: &[u8]) -> Result<Option<T>, ProjectionError> {
        self.get(key)?
            .map(|bytes| T::decode(key, &bytes))
            .transpose()
    }

    /// Writes a value in its [`Stored`] form.
    pub fn put_stored<T: Stored>(&mut self, key: impl Into<Vec<u8>>, value: &T) {
        self.put(key, value.encode());
    }

    /// Reads a JSON value.
    pub fn get_json<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ProjectionError> {
        self.get(key)?
            .map(|bytes| from_json(key, &bytes))
            .transpose()
    }

    /// Writes a value as JSON.
    pub fn put_json<T: Serialize>(
        &mut self,
        key: impl Into<Vec<u8>>,
        value: &T,
    ) -> Result<(), ProjectionError> {
        let key = key.into();
        let bytes = to_json(&key, value)?;
        self.put(key, bytes);
        Ok(())
    }

    /// How many keys are pending (scattered ones included).
    pub fn len(&self) -> usize {
        self.pending.len()
            + self.scattered.len()
            + self.decoded.values().filter(|k| k.dirty).count()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies every pending write and the checkpoint atomically, without
    /// waiting for the disk: sled writes it within its flush interval, and a
    /// crash keeps a prefix of such batches, each with its own checkpoint,
    /// so the state stays consistent (a rebuild flushes once at its end).
    pub fn commit(self, checkpoint: u64) -> Result<(), ProjectionError> {
        let db = self.db;
        self.seal(checkpoint).apply(db)
    }

    /// The pending writes and the checkpoint as one sled batch.
    pub fn into_batch(self, checkpoint: u64) -> sled::Batch {
        batch(self.seal(checkpoint).writes.iter())
    }

    /// The pending writes, the decoded values this batch changed, and the
    /// checkpoint, taken out to be applied. Sealed batches must be applied
    /// in the order they were sealed: a run over a fresh database keeps its
    /// decoded values for the next batch as of this one.
    pub fn seal(mut self, checkpoint: u64) -> Sealed {
        for (k, kept) in &self.decoded {
            if kept.dirty {
                self.pending.insert(k.clone(), Some(kept.value.encode()));
            }
        }
        if let Some(run) = self.fresh.as_deref_mut() {
            for key in self.unheld.drain(..) {
                if let Some(v) = run.held.remove(&key) {
                    run.held_bytes -= key.len() + v.len();
                }
            }
            for (k, v) in std::mem::take(&mut self.scattered) {
                let key_len = k.len();
                run.held_bytes += key_len + v.len();
                if let Some(old) = run.held.insert(k, v) {
                    run.held_bytes -= key_len + old.len();
                }
            }
            // Until the run finishes, the database is incomplete.
            self.pending
                .insert(INCOMPLETE_KEY.to_vec(), Some(Vec::new()));
        }
        let writes: Writes = std::mem::take(&mut self.pending)
            .into_iter()
            .map(|(k, v)| (k.into(), v.map(Into::into)))
            .collect();
        let Some(run) = self.fresh.take() else {
            return Sealed::new(writes, checkpoint);
        };
        if self.decoded.len() <= KEPT_DECODED_ENTRIES {
            for kept in self.decoded.values_mut() {
                kept.dirty = false;
            }
            run.decoded = std::mem::take(&mut self.decoded);
        }
        Sealed::divisible(writes, checkpoint)
    }
}

/// The JSON form of a value to be stored under `key`. Serialising our own
/// types cannot fail; should it, the error surfaces as corruption rather
/// than a panic.
pub fn to_json<T: Serialize>(key: &[u8], value: &T) -> Result<Vec<u8>, ProjectionError> {
    serde_json::to_vec(value).map_err(|e| ProjectionError::Corrupt {
        key: data_encoding::HEXLOWER.encode(key),
        message: e.to_string(),
    })
}

/// Decodes the JSON value stored under `key` (read by a scan, say): one that
/// does not decode is corruption, named by its key.
pub fn from_json<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, ProjectionError> {
    serde_json::from_slice(bytes).map_err(|e| ProjectionError::Corrupt {
        key: data_encoding::HEXLOWER.encode(key),
        message: e.to_string(),
    })
}

/// The postcard form of a value: compact binary (varints, enums by
/// variant index), for read-model values written and read often. A change
/// to a stored type's fields or enums must raise its projector's version.
pub fn to_postcard<T: Serialize>(value: &T) -> Vec<u8> {
    // Our stored types are plain structs, strings, integers, options,
    // sequences and unit enums: postcard cannot fail on them.
    postcard::to_allocvec(value).unwrap_or_default()
}

/// Decodes the postcard value stored under `key`: one that does not decode
/// is corruption, named by its key.
pub fn from_postcard<'a, T: Deserialize<'a>>(
    key: &[u8],
    bytes: &'a [u8],
) -> Result<T, ProjectionError> {
    postcard::from_bytes(bytes).map_err(|e| ProjectionError::Corrupt {
        key: data_encoding::HEXLOWER.encode(key),
        message: e.to_string(),
    })
}

/// Implements [`Stored`] for each type given, in its postcard form
/// ([`to_postcard`]).
#[macro_export]
macro_rules! stored_as_postcard {
    ($($t:ty),*) => {$(
        impl $crate::Stored for $t {
            fn encode(&self) -> Vec<u8> {
                $crate::tx::to_postcard(self)
            }

            fn decode(key: &[u8], bytes: &[u8]) -> Result<$t, $crate::ProjectionError> {
                $crate::tx::from_postcard(key, bytes)
            }
        }
    )*};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_see_pending_writes_and_commit_is_atomic() {
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
        tx.commit(7).unwrap();
        assert_eq!(db.get(b"a").unwrap().unwrap().as_ref(), b"2");
        assert_eq!(crate::checkpoint(&db).unwrap(), 7);
    }

    #[test]
    fn over_a_fresh_database_only_written_keys_are_looked_up() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let mut written = FreshRun::default();
        let mut tx = Tx::over_fresh(&db, &mut written);
        tx.put(b"a".to_vec(), b"1".to_vec());
        tx.commit(1).unwrap();
        // Behind the run's back (no projector does this): a key the run
        // never wrote is known absent without a lookup.
        db.insert(b"b", b"2").unwrap();
        let tx = Tx::over_fresh(&db, &mut written);
        assert_eq!(tx.get(b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(tx.get(b"b").unwrap(), None);
        assert_eq!(Tx::new(&db).get(b"b").unwrap(), Some(b"2".to_vec()));
    }

    #[test]
    fn a_batch_reads_through_the_sealed_batch_before_it_applied_or_not() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        db.insert(b"gone", b"0").unwrap();
        let mut run = FreshRun::default();
        let mut tx = Tx::over_fresh(&db, &mut run);
        tx.put(b"a".to_vec(), b"1".to_vec());
        tx.put(b"long".to_vec(), vec![7; 100]);
        tx.remove(b"gone".to_vec());
        let first = tx.seal(1);
        assert_eq!(db.get(b"a").unwrap(), None, "sealed is not applied");
        let tx = Tx::over_fresh(&db, &mut run).reading_through(first.clone());
        assert_eq!(tx.get(b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(tx.get(b"long").unwrap(), Some(vec![7; 100]));
        assert_eq!(
            Tx::new(&db)
                .reading_through(first.clone())
                .get(b"gone")
                .unwrap(),
            None,
            "a removal hides what the database still holds"
        );
        // The next batch's own writes come first; applying the earlier
        // batch meanwhile changes nothing it reads.
        let mut tx = tx;
        tx.put(b"a".to_vec(), b"2".to_vec());
        first.apply(&db).unwrap();
        assert_eq!(crate::checkpoint(&db).unwrap(), 1);
        assert_eq!(tx.get(b"a").unwrap(), Some(b"2".to_vec()));
        assert_eq!(tx.get(b"long").unwrap(), Some(vec![7; 100]));
        tx.commit(2).unwrap();
        assert_eq!(db.get(b"a").unwrap().unwrap().as_ref(), b"2");
        assert_eq!(db.get(b"long").unwrap().unwrap().as_ref(), [7; 100]);
        assert_eq!(db.get(b"gone").unwrap(), None);
        assert_eq!(crate::checkpoint(&db).unwrap(), 2);
    }

    #[test]
    fn over_a_fresh_database_scattered_writes_are_held_then_released_in_key_order() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let mut run = FreshRun::default();
        let mut tx = Tx::over_fresh(&db, &mut run);
        for k in [b"x/c", b"x/a", b"x/d"] {
            tx.put_scattered(k.to_vec(), k[2..].to_vec());
        }
        tx.put_scattered(b"x/e".to_vec(), b"e".to_vec());
        tx.put(b"m/1".to_vec(), b"1".to_vec());
        tx.commit(1).unwrap();
        assert_eq!(db.get(b"x/a").unwrap(), None, "held back");
        assert!(db.contains_key(crate::INCOMPLETE_KEY).unwrap());
        assert_eq!(crate::checkpoint(&db).unwrap(), 1);

        // Later batches read held writes; other writes of a held key win.
        let mut tx = Tx::over_fresh(&db, &mut run);
        assert_eq!(tx.get(b"x/c").unwrap(), Some(b"c".to_vec()));
        tx.put_scattered(b"x/b".to_vec(), b"b".to_vec());
        tx.put_scattered(b"x/c".to_vec(), b"C".to_vec());
        tx.put(b"x/d".to_vec(), b"D".to_vec());
        tx.remove(b"x/e".to_vec());
        assert_eq!(tx.get(b"x/e").unwrap(), None);
        tx.commit(2).unwrap();
        assert_eq!(db.get(b"x/d").unwrap().unwrap().as_ref(), b"D");
        assert_eq!(
            Tx::over_fresh(&db, &mut run).get(b"x/c").unwrap(),
            Some(b"C".to_vec())
        );

        // Released two at a time, in key order; the run's end drops the mark.
        let mut released = Vec::new();
        while let Some(batch) = run.release(2, 2) {
            released.push(batch.writes.keys().filter(|k| k.starts_with(b"x/")).count());
            batch.apply(&db).unwrap();
            assert!(db.contains_key(crate::INCOMPLETE_KEY).unwrap());
        }
        assert_eq!(released, [2, 1]);
        run.finish(2).apply(&db).unwrap();
        assert!(!db.contains_key(crate::INCOMPLETE_KEY).unwrap());
        let stored: Vec<(Vec<u8>, Vec<u8>)> = db
            .scan_prefix(b"x/")
            .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect();
        let want: Vec<(Vec<u8>, Vec<u8>)> =
            [("x/a", "a"), ("x/b", "b"), ("x/c", "C"), ("x/d", "D")]
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect();
        assert_eq!(stored, want);
        assert_eq!(crate::checkpoint(&db).unwrap(), 2);

        // Outside a fresh run a scattered write is a write.
        let mut tx = Tx::new(&db);
        tx.put_scattered(b"x/f".to_vec(), b"f".to_vec());
        tx.commit(3).unwrap();
        assert_eq!(db.get(b"x/f").unwrap().unwrap().as_ref(), b"f");
    }

    #[test]
    fn a_fresh_run_reaches_the_database_in_chunks_marked_incomplete_until_it_finishes() {
        for n in [
            0,
            1,
            APPLY_CHUNK - 1,
            APPLY_CHUNK,
            APPLY_CHUNK + 1,
            3 * APPLY_CHUNK,
        ] {
            let db = sled::Config::new().temporary(true).open().unwrap();
            let mut run = FreshRun::default();
            let mut tx = Tx::over_fresh(&db, &mut run);
            for i in 0..n {
                tx.put(format!("k/{i:05}"), i.to_string());
            }
            let sealed = tx.seal(9);
            assert!(sealed.divisible);
            sealed.apply(&db).unwrap();
            assert_eq!(db.scan_prefix(b"k/").count(), n, "{n} writes");
            assert_eq!(crate::checkpoint(&db).unwrap(), 9, "{n} writes");
            assert!(db.contains_key(crate::INCOMPLETE_KEY).unwrap());
            assert!(run.release(9, 10).is_none());
            run.finish(9).apply(&db).unwrap();
            assert!(!db.contains_key(crate::INCOMPLETE_KEY).unwrap());
            assert_eq!(crate::checkpoint(&db).unwrap(), 9);
        }
        // Outside a fresh run a batch is one.
        let db = sled::Config::new().temporary(true).open().unwrap();
        assert!(!Tx::new(&db).seal(1).divisible);
    }

    #[derive(Default, Debug, PartialEq)]
    struct Counter(u64);

    impl Stored for Counter {
        fn encode(&self) -> Vec<u8> {
            self.0.to_be_bytes().to_vec()
        }
        fn decode(key: &[u8], bytes: &[u8]) -> Result<Self, ProjectionError> {
            <[u8; 8]>::try_from(bytes)
                .map(|b| Counter(u64::from_be_bytes(b)))
                .map_err(|_| ProjectionError::Corrupt {
                    key: String::from_utf8_lossy(key).into_owned(),
                    message: "not 8 bytes".into(),
                })
        }
    }

    #[test]
    fn updated_values_are_read_back_and_committed_once_encoded() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        db.insert(b"n", &5u64.to_be_bytes()).unwrap();
        let mut tx = Tx::new(&db);
        for _ in 0..3 {
            tx.update(b"n".to_vec(), |c: &mut Counter| c.0 += 1)
                .unwrap();
        }
        tx.update(b"m".to_vec(), |c: &mut Counter| c.0 += 1)
            .unwrap();
        assert_eq!(tx.get(b"n").unwrap(), Some(8u64.to_be_bytes().to_vec()));
        assert_eq!(
            db.get(b"n").unwrap().unwrap().as_ref(),
            5u64.to_be_bytes(),
            "not before commit"
        );
        // A plain write replaces the decoded value; an update after it reads it.
        tx.put(b"m".to_vec(), 10u64.to_be_bytes().to_vec());
        tx.update(b"m".to_vec(), |c: &mut Counter| c.0 += 1)
            .unwrap();
        tx.commit(1).unwrap();
        assert_eq!(db.get(b"n").unwrap().unwrap().as_ref(), 8u64.to_be_bytes());
        assert_eq!(db.get(b"m").unwrap().unwrap().as_ref(), 11u64.to_be_bytes());
    }

    #[test]
    fn over_a_fresh_database_updated_values_stay_decoded_between_batches() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let mut run = FreshRun::default();
        let mut tx = Tx::over_fresh(&db, &mut run);
        tx.update(b"n".to_vec(), |c: &mut Counter| c.0 += 1)
            .unwrap();
        tx.update(b"m".to_vec(), |c: &mut Counter| c.0 += 1)
            .unwrap();
        tx.commit(1).unwrap();
        assert_eq!(db.get(b"n").unwrap().unwrap().as_ref(), 1u64.to_be_bytes());
        // Behind the run's back (no projector does this): the next batch
        // goes on from the values it kept, and writes only those it changed.
        db.insert(b"n", &40u64.to_be_bytes()).unwrap();
        db.insert(b"m", &50u64.to_be_bytes()).unwrap();
        let mut tx = Tx::over_fresh(&db, &mut run);
        assert!(tx.is_empty(), "kept values are not pending writes");
        tx.update(b"n".to_vec(), |c: &mut Counter| c.0 += 1)
            .unwrap();
        assert_eq!(tx.len(), 1);
        assert_eq!(tx.get(b"m").unwrap(), Some(1u64.to_be_bytes().to_vec()));
        tx.commit(2).unwrap();
        assert_eq!(db.get(b"n").unwrap().unwrap().as_ref(), 2u64.to_be_bytes());
        assert_eq!(db.get(b"m").unwrap().unwrap().as_ref(), 50u64.to_be_bytes());
        // A batch dropped without its commit gives back nothing.
        let mut tx = Tx::over_fresh(&db, &mut run);
        tx.update(b"n".to_vec(), |c: &mut Counter| c.0 += 100)
            .unwrap();
        drop(tx);
        let mut tx = Tx::over_fresh(&db, &mut run);
        tx.update(b"n".to_vec(), |c: &mut Counter| c.0 += 1)
            .unwrap();
        tx.commit(3).unwrap();
        assert_eq!(db.get(b"n").unwrap().unwrap().as_ref(), 3u64.to_be_bytes());
    }

    #[test]
    fn a_cached_read_never_hides_a_later_write() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        db.insert(b"a", b"1").unwrap();
        let mut tx = Tx::new(&db);
        assert_eq!(tx.get(b"a").unwrap(), Some(b"1".to_vec()));
        tx.put(b"a".to_vec(), b"2".to_vec());
        assert_eq!(tx.get(b"a").unwrap(), Some(b"2".to_vec()));
        tx.remove(b"a".to_vec());
        assert_eq!(tx.get(b"a").unwrap(), None);
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
