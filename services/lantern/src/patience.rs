//! Waiting out a cluster that is electing leaders at start.
//!
//! While a node of a NATS cluster is down, or its routes are still
//! forming, JetStream answers "timed out" to the creation or first use of a
//! replicated stream or key-value bucket until their leaders are elected
//! (seconds; issue 27's cluster tests saw `lantern serve` exit on it). A
//! replica started then waits for the cluster, within a bound, rather than
//! exit; anything else — a stream that differs from the configuration, bad
//! credentials, a secret that does not match — is not waited for.

use std::error::Error;
use std::future::Future;
use std::time::{Duration, Instant};

use lantern_ledger::LedgerError;

/// How long a starting replica waits for a cluster to answer.
pub const START_PATIENCE: Duration = Duration::from_secs(90);

/// Whether `e` (or what caused it) is JetStream not answering in time.
pub fn transient(e: &(dyn Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(e) = cause {
        if let Some(ledger) = e.downcast_ref::<LedgerError>() {
            return match ledger {
                LedgerError::Unavailable(_) => true,
                LedgerError::Nats(message) => message.contains("timed out"),
                _ => false,
            };
        }
        cause = e.source();
    }
    false
}

/// `step` until it succeeds, or fails with an error that is not
/// [`transient`], or `bound` has passed; waits between tries, doubling up
/// to 5 s.
pub async fn patiently<T, F, Fut>(
    what: &str,
    bound: Duration,
    mut step: F,
) -> Result<T, Box<dyn Error>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Box<dyn Error>>>,
{
    let started = Instant::now();
    let mut pause = Duration::from_millis(250);
    loop {
        match step().await {
            Ok(v) => return Ok(v),
            Err(e) if transient(e.as_ref()) && started.elapsed() + pause < bound => {
                tracing::warn!(
                    error = %e,
                    retry_in_ms = pause.as_millis() as u64,
                    "{what}: the cluster did not answer in time; waiting for it"
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn timed_out() -> Box<dyn Error> {
        Box::new(LedgerError::Nats(
            "create stream: jetstream request timed out".into(),
        ))
    }

    #[test]
    fn only_a_cluster_not_answering_is_waited_for() {
        assert!(transient(timed_out().as_ref()));
        assert!(transient(&LedgerError::Unavailable("no responders".into())));
        assert!(!transient(&LedgerError::Nats(
            "authorization violation".into()
        )));
        assert!(!transient(&LedgerError::UnknownSchema("x".into())));
        let plain: Box<dyn Error> = "LANTERN_ADMIN_TOKEN is empty".into();
        assert!(!transient(plain.as_ref()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_step_is_tried_again_until_it_answers_within_the_bound() {
        let tries = Cell::new(0);
        let answer = patiently("open", Duration::from_secs(60), || {
            tries.set(tries.get() + 1);
            let n = tries.get();
            async move { if n < 3 { Err(timed_out()) } else { Ok(n) } }
        })
        .await
        .unwrap();
        assert_eq!(answer, 3);

        // Past the bound, the last error is the answer.
        let tries = Cell::new(0);
        let gave_up = patiently("open", Duration::from_secs(2), || {
            tries.set(tries.get() + 1);
            async { Err::<(), _>(timed_out()) }
        })
        .await;
        assert!(gave_up.is_err() && tries.get() >= 2, "{}", tries.get());

        // Anything else is not waited for.
        let tries = Cell::new(0);
        let refused = patiently("open", Duration::from_secs(60), || {
            tries.set(tries.get() + 1);
            async { Err::<(), Box<dyn Error>>("stream LANTERN differs".into()) }
        })
        .await;
        assert!(refused.is_err());
        assert_eq!(tries.get(), 1);
    }
}
