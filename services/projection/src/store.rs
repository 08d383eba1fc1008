//! Opening, rebuilding and exporting a projector's database.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use lantern_ledger::Ledger;

use crate::{INCOMPLETE_KEY, ProjectionError, Projector, VERSION_KEY, run_until_caught_up};

/// sled's page cache while rebuilding: a rebuild is a batch job of its own
/// process (or the bench's), and every tree node it keeps saves a read and
/// a decode of that node for the next event that touches it.
const REBUILD_CACHE_BYTES: u64 = 512 * 1024 * 1024;

/// How often sled writes committed batches to disk in the background: the
/// runner does not wait for the disk (see `Runner`), so this bounds what a
/// crash can take back — and re-apply from the stream.
const FLUSH_EVERY_MS: u64 = 200;

/// Opens a database, waiting (up to 5 s) while another handle in this or a
/// dying process still holds its file lock: sled releases it from a
/// background thread a moment after the last handle is dropped.
fn open(path: &Path, cache_bytes: u64) -> Result<sled::Db, sled::Error> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(FLUSH_EVERY_MS))
            .open()
        {
            Err(e) if is_locked(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

fn is_locked(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

/// Whether an open failure means the files are damaged (rebuild them), as
/// opposed to, say, another process holding the database (never delete it).
fn is_damage(e: &sled::Error) -> bool {
    match e {
        sled::Error::Corruption { .. }
        | sled::Error::Unsupported(_)
        | sled::Error::ReportableBug(_) => true,
        sled::Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
        ),
        _ => false,
    }
}

/// The layout version a database was written with: what [`VERSION_KEY`]
/// holds, 1 for a database from before versions were kept, `None` for an
/// empty one.
pub fn version(db: &sled::Db) -> Result<Option<u32>, ProjectionError> {
    match db.get(VERSION_KEY)? {
        Some(v) => <[u8; 4]>::try_from(v.as_ref())
            .map(|b| Some(u32::from_be_bytes(b)))
            .map_err(|_| ProjectionError::Corrupt {
                key: data_encoding::HEXLOWER.encode(VERSION_KEY),
                message: format!("{} bytes, not a version", v.len()),
            }),
        None if db.is_empty() => Ok(None),
        None => Ok(Some(1)),
    }
}

/// Opens `projector`'s database at `path`, with its page cache.
///
/// A database whose files are damaged is removed and started afresh: it is
/// a projection, and the stream rebuilds it; so is one written by another
/// [`Projector::version`] (a new release that stores its read model
/// differently rebuilds it on start), and one a rebuild left unfinished
/// ([`crate::INCOMPLETE_KEY`]). One that is merely locked by another
/// process is an error, never deleted.
pub fn open_or_reset(projector: &dyn Projector, path: &Path) -> Result<sled::Db, ProjectionError> {
    open_versioned(projector, path, projector.cache_bytes())
}

fn open_versioned(
    projector: &dyn Projector,
    path: &Path,
    cache_bytes: u64,
) -> Result<sled::Db, ProjectionError> {
    let name = projector.name();
    let db = match open(path, cache_bytes) {
        Ok(db) => db,
        Err(e) if !is_damage(&e) => return Err(e.into()),
        Err(e) => {
            tracing::error!(projector = name, path = %path.display(), error = %e, "database will not open; rebuilding it from the stream");
            reset(path)?;
            open(path, cache_bytes)?
        }
    };
    let want = projector.version();
    let stale = match version(&db) {
        Ok(Some(v)) if v == want && !db.contains_key(INCOMPLETE_KEY)? => return Ok(db),
        Ok(None) => None,
        Ok(Some(v)) if v == want => Some("database of a rebuild that did not finish".to_owned()),
        found => Some(format!(
            "database of another layout (found {found:?}, want {want})"
        )),
    };
    let db = match stale {
        None => db,
        Some(why) => {
            tracing::warn!(projector = name, path = %path.display(), "{why}; rebuilding it from the stream");
            drop(db);
            reset(path)?;
            open(path, cache_bytes)?
        }
    };
    db.insert(VERSION_KEY, &want.to_be_bytes())?;
    Ok(db)
}

fn reset(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        std::fs::remove_dir_all(path)?;
    }
    Ok(())
}

/// Drops the database at `path` and replays the stream into a new one, up to
/// the last sequence at the time of the call. Returns that sequence.
pub async fn rebuild(
    ledger: Ledger,
    projector: Arc<dyn Projector>,
    path: &Path,
) -> Result<u64, ProjectionError> {
    reset(path)?;
    let db = open_versioned(projector.as_ref(), path, REBUILD_CACHE_BYTES)?;
    let last = run_until_caught_up(ledger, projector, db.clone()).await?;
    db.flush_async().await?;
    Ok(last)
}

/// Writes every key and value of the database, in key order, one
/// `hex(key) TAB hex(value)` line each: two databases with the same export
/// hold the same bytes.
pub fn export(db: &sled::Db, out: &mut impl Write) -> Result<(), ProjectionError> {
    for item in db.iter() {
        let (k, v) = item?;
        writeln!(
            out,
            "{}\t{}",
            data_encoding::HEXLOWER.encode(&k),
            data_encoding::HEXLOWER.encode(&v)
        )?;
    }
    Ok(())
}

/// A runner for `projector` on its database `<data_dir>/<name>.sled`,
/// opened (or rebuilt when damaged or of another layout version) first.
pub fn runner_in(
    ledger: &Ledger,
    data_dir: &Path,
    projector: Arc<dyn Projector>,
) -> Result<(crate::Runner, crate::Handle), ProjectionError> {
    let db = open_or_reset(
        projector.as_ref(),
        &data_dir.join(format!("{}.sled", projector.name())),
    )?;
    crate::Runner::new(ledger.clone(), projector, db)
}
