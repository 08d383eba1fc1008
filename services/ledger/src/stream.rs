//! Creating the `LANTERN` stream with the settings the design depends on.

use std::time::Duration;

use async_nats::jetstream::{self, stream};

use crate::{LedgerError, STREAM};

/// Settings of the stream that vary by deployment.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// Replicas: 1 on a laptop, 3 in a cluster.
    pub replicas: usize,
    /// How long JetStream remembers message ids for de-duplication (≥ 2 min).
    pub duplicate_window: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
        }
    }
}

/// The stream configuration the design demands: every `lantern.>` subject,
/// file storage, no age or size limit, deletes and purges refused.
pub fn config(settings: &StreamSettings) -> stream::Config {
    stream::Config {
        name: STREAM.to_owned(),
        description: Some("Lantern: every fact, as an immutable event".to_owned()),
        subjects: vec!["lantern.>".to_owned()],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        num_replicas: settings.replicas.max(1),
        duplicate_window: settings.duplicate_window.max(Duration::from_secs(120)),
        deny_delete: true,
        deny_purge: true,
        allow_direct: true,
        // Several events of one command stored all or none (ADR-50, 2.12+).
        allow_atomic_publish: true,
        ..Default::default()
    }
}

/// Creates the stream, or brings an existing one to the settings, then reads
/// the configuration back: a server silently drops settings it does not
/// know, and running without `deny_delete`/`deny_purge` would break the
/// promise that the stream is append-only.
pub async fn ensure_stream(
    js: &jetstream::Context,
    settings: &StreamSettings,
) -> Result<stream::Stream, LedgerError> {
    let wanted = config(settings);
    let unavailable = |e: &dyn std::fmt::Display| LedgerError::Unavailable(e.to_string());
    let mut stream = match js.get_stream(STREAM).await {
        Ok(existing) => {
            let have = &existing.cached_info().config;
            if have.duplicate_window != wanted.duplicate_window
                || have.num_replicas != wanted.num_replicas
                || !have.deny_delete
                || !have.deny_purge
                || !have.allow_direct
                || !have.allow_atomic_publish
            {
                js.update_stream(&wanted)
                    .await
                    .map_err(|e| LedgerError::Nats(format!("update stream: {e}")))?;
            }
            js.get_stream(STREAM).await.map_err(|e| unavailable(&e))?
        }
        Err(e)
            if matches!(
                e.kind(),
                jetstream::context::GetStreamErrorKind::JetStream(ref j)
                    if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
            ) =>
        {
            js.create_stream(wanted.clone())
                .await
                .map_err(|e| LedgerError::Nats(format!("create stream: {e}")))?
        }
        Err(e) => return Err(unavailable(&e)),
    };
    let info = stream.info().await.map_err(|e| unavailable(&e))?;
    let have = &info.config;
    let check = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(LedgerError::Misconfigured {
                stream: STREAM.to_owned(),
                message: what.to_owned(),
            })
        }
    };
    check(have.deny_delete, "deny_delete is off")?;
    check(have.deny_purge, "deny_purge is off")?;
    check(
        have.allow_atomic_publish,
        "allow_atomic is off: nats-server 2.12 or later is needed for atomic batches",
    )?;
    check(
        have.storage == stream::StorageType::File,
        "storage is not file",
    )?;
    check(
        have.duplicate_window >= Duration::from_secs(120),
        "duplicate window is shorter than 2 minutes",
    )?;
    check(
        have.subjects == ["lantern.>"],
        "subjects are not exactly lantern.>",
    )?;
    Ok(stream)
}
