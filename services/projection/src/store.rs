//! Opening, rebuilding and exporting a projector's database.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use lantern_ledger::Ledger;

use crate::{ProjectionError, Projector, run_until_caught_up};

/// sled's page cache per database; the default (1 GiB) would dwarf the
/// memory budget of a small hospital VM.
const CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// Opens a database, waiting (up to 5 s) while another handle in this or a
/// dying process still holds its file lock: sled releases it from a
/// background thread a moment after the last handle is dropped.
fn open(path: &Path) -> Result<sled::Db, sled::Error> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
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

/// Opens a projector's database. One whose files are damaged is removed and
/// started afresh: it is a projection, and the stream rebuilds it. One that
/// is merely locked by another process is an error, never deleted.
pub fn open_or_reset(path: &Path) -> Result<sled::Db, ProjectionError> {
    match open(path) {
        Ok(db) => Ok(db),
        Err(e) if !is_damage(&e) => Err(e.into()),
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "database will not open; rebuilding it from the stream");
            if path.exists() {
                std::fs::remove_dir_all(path)?;
            }
            Ok(open(path)?)
        }
    }
}

/// Drops the database at `path` and replays the stream into a new one, up to
/// the last sequence at the time of the call. Returns that sequence.
pub async fn rebuild(
    ledger: Ledger,
    projector: Arc<dyn Projector>,
    path: &Path,
) -> Result<u64, ProjectionError> {
    if path.exists() {
        std::fs::remove_dir_all(path)?;
    }
    let db = open(path)?;
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
