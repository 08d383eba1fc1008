//! One server secret for every replica of `lantern serve` on a stream
//! (DESIGN "Deployment tiers"): receipts and request fingerprints are keyed
//! with it, so a retry answered by another replica must get the receipt the
//! first would have given, and a receipt issued anywhere must be known
//! everywhere.
//!
//! The first replica to start records the secret's fingerprint (a keyed
//! hash, never the secret) as `org.secret_fingerprint`, the first event of
//! one fixed aggregate; replicas starting at once race for it with
//! `Expect::New` and the loser reads the winner's. A replica whose secret
//! has another fingerprint, or that has none while the stream records one,
//! refuses to start before it serves or appends anything.

use std::path::{Path, PathBuf};

use lantern_api::secrets::ServerSecret;
use lantern_domain::events::{Event, Payload, org};
use lantern_domain::ids;
use lantern_ledger::{AggregateKind, Expect, Ledger, LedgerError, NewEvent, SYSTEM_SCOPE};

/// Why a replica cannot take the secret it was given.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The secret file cannot be read or written.
    #[error("server secret file {path}: {source}")]
    File {
        /// The file (`LANTERN_SECRET_FILE`).
        path: PathBuf,
        /// The operating system's error, or why the text is no secret.
        #[source]
        source: std::io::Error,
    },
    /// The stream could not be read or written.
    #[error("the secret's fingerprint in the stream: {0}")]
    Ledger(#[from] LedgerError),
    /// The stream records another secret's fingerprint.
    #[error(
        "the server secret in {path} is not the one this stream's replicas share: the stream \
         records another secret's fingerprint (org.secret_fingerprint, sequence {seq}), so \
         receipts issued by the other replicas would be unknown here and theirs by this one. \
         Copy the secret file of the first replica (its LANTERN_SECRET_FILE, by default \
         $LANTERN_DATA_DIR/secret.key) to {path} and start again"
    )]
    Mismatch {
        /// The file this replica read (or created).
        path: PathBuf,
        /// The sequence of the recorded fingerprint.
        seq: u64,
    },
    /// There is no secret file, and the stream records a secret already.
    #[error(
        "there is no server secret at {path}, and this stream's replicas share one (its \
         fingerprint is org.secret_fingerprint, sequence {seq}): copy the secret file of the \
         first replica (its LANTERN_SECRET_FILE, by default $LANTERN_DATA_DIR/secret.key) to \
         {path} and start again"
    )]
    Missing {
        /// Where the secret was looked for.
        path: PathBuf,
        /// The sequence of the recorded fingerprint.
        seq: u64,
    },
    /// The recorded fingerprint is not an `org.secret_fingerprint` this
    /// build reads (nothing Lantern appends).
    #[error("the event at sequence {seq} on the secret's subject is not a readable fingerprint")]
    Unreadable {
        /// Its sequence.
        seq: u64,
        /// Why it does not read.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// A fingerprint the stream records, and where.
struct Recorded {
    seq: u64,
    fingerprint: String,
}

async fn recorded(ledger: &Ledger) -> Result<Option<Recorded>, SecretError> {
    let Some(event) = ledger
        .last_of(SYSTEM_SCOPE, AggregateKind::Org, ids::secret_fingerprint())
        .await?
    else {
        return Ok(None);
    };
    let seq = event.seq;
    if event.envelope.event_type != org::SecretFingerprint::TYPE {
        return Err(SecretError::Unreadable { seq, source: None });
    }
    let data: org::SecretFingerprint =
        org::SecretFingerprint::read(event.envelope.version, event.envelope.data.as_json())
            .map_err(|e| SecretError::Unreadable {
                seq,
                source: Some(e.into()),
            })?;
    Ok(Some(Recorded {
        seq,
        fingerprint: data.fingerprint,
    }))
}

/// The secret at `path`, checked against the fingerprint the stream
/// records (recording it when there is none yet). Creates the file only
/// when the stream records no secret: a replica that would be refused
/// anyway gets no secret of its own to be refused with.
pub async fn shared_secret(ledger: &Ledger, path: &Path) -> Result<ServerSecret, SecretError> {
    let file = |source| SecretError::File {
        path: path.to_owned(),
        source,
    };
    let mut known = recorded(ledger).await?;
    let secret = match (ServerSecret::load(path).map_err(file)?, &known) {
        (Some(secret), _) => secret,
        (None, Some(r)) => {
            return Err(SecretError::Missing {
                path: path.to_owned(),
                seq: r.seq,
            });
        }
        (None, None) => ServerSecret::load_or_create(path).map_err(file)?,
    };
    let mine = secret.fingerprint();
    if known.is_none() {
        let event = org::SecretFingerprint {
            fingerprint: mine.clone(),
        };
        let appended = ledger
            .append(
                NewEvent {
                    event_type: org::SecretFingerprint::TYPE,
                    version: org::SecretFingerprint::VERSION,
                    aggregate: ids::secret_fingerprint(),
                    hospital: SYSTEM_SCOPE.to_owned(),
                    data: event.data(),
                },
                Expect::New,
                None,
            )
            .await;
        match appended {
            Ok(a) => {
                tracing::info!(seq = a.seq, "recorded the server secret's fingerprint");
                return Ok(secret);
            }
            // Another replica recorded one first: it is the one to match.
            Err(LedgerError::Conflict { .. }) => known = recorded(ledger).await?,
            Err(e) => return Err(e.into()),
        }
    }
    match known {
        Some(r) if r.fingerprint == mine => Ok(secret),
        Some(r) => Err(SecretError::Mismatch {
            path: path.to_owned(),
            seq: r.seq,
        }),
        // A conflict means the subject has an event; it cannot vanish
        // (the stream denies deletes), so this is a stream that lies.
        None => Err(SecretError::Ledger(LedgerError::Unavailable(
            "the secret's subject had an event and then none".into(),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use lantern_ledger::{GroupCommit, SchemaRegistry, StreamSettings};
    use lantern_testkit::NatsServer;

    use super::*;

    async fn ledger(nats: &NatsServer) -> Ledger {
        Ledger::open(
            nats.client().await,
            &StreamSettings::default(),
            Arc::new(SchemaRegistry::embedded().unwrap()),
        )
        .await
        .unwrap()
        // As `serve` opens it.
        .with_group_commit(GroupCommit::default())
    }

    fn write(dir: &Path, name: &str, secret: [u8; 32]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, data_encoding::HEXLOWER.encode(&secret)).unwrap();
        path
    }

    #[tokio::test]
    async fn the_first_records_the_fingerprint_the_same_secret_passes_another_is_refused() {
        let nats = NatsServer::start();
        let l = ledger(&nats).await;
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("first.key");
        let secret = shared_secret(&l, &first).await.unwrap();
        assert_eq!(l.message_count().await.unwrap(), 1);
        let stored = l.get(1).await.unwrap();
        assert_eq!(stored.envelope.event_type, "org.secret_fingerprint");
        assert_eq!(stored.envelope.hospital, SYSTEM_SCOPE);
        assert_eq!(
            stored
                .envelope
                .data
                .parse::<org::SecretFingerprint>()
                .unwrap(),
            org::SecretFingerprint {
                fingerprint: secret.fingerprint()
            }
        );
        let text = std::fs::read_to_string(&first).unwrap();
        assert!(
            !stored.envelope.data.as_json().contains(text.trim()),
            "never the secret"
        );

        // A copy of the first one's file: the same receipts.
        let copy = dir.path().join("copy.key");
        std::fs::copy(&first, &copy).unwrap();
        let again = shared_secret(&l, &copy).await.unwrap();
        assert_eq!(again.receipt(Some("k")), secret.receipt(Some("k")));

        let other = write(dir.path(), "other.key", [7; 32]);
        let refused = shared_secret(&l, &other).await.unwrap_err();
        assert!(
            matches!(&refused, SecretError::Mismatch { seq: 1, path } if path == &other),
            "{refused}"
        );
        assert!(
            refused
                .to_string()
                .contains("Copy the secret file of the first replica")
        );

        let missing = dir.path().join("missing.key");
        let refused = shared_secret(&l, &missing).await.unwrap_err();
        assert!(
            matches!(refused, SecretError::Missing { seq: 1, .. }),
            "{refused}"
        );
        assert!(!missing.exists(), "no secret made only to be refused");
        assert_eq!(l.message_count().await.unwrap(), 1, "nothing more appended");
    }

    /// Replicas starting at once: exactly one fingerprint is recorded; those
    /// with its secret start, the others are refused.
    #[tokio::test]
    async fn replicas_starting_at_once_record_one_fingerprint() {
        let nats = NatsServer::start();
        let dir = tempfile::tempdir().unwrap();
        let mut tasks = Vec::new();
        for i in 0..8u8 {
            let l = ledger(&nats).await;
            // Two secrets, four replicas each.
            let path = write(dir.path(), &format!("{i}.key"), [i % 2; 32]);
            tasks.push(tokio::spawn(async move {
                (i % 2, shared_secret(&l, &path).await)
            }));
        }
        let mut started = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                (which, Ok(_)) => started.push(which),
                (_, Err(SecretError::Mismatch { seq: 1, .. })) => {}
                (_, Err(e)) => panic!("{e}"),
            }
        }
        assert_eq!(started.len(), 4, "{started:?}");
        assert!(started.windows(2).all(|w| w[0] == w[1]), "{started:?}");
        assert_eq!(ledger(&nats).await.message_count().await.unwrap(), 1);
    }
}
