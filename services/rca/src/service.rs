//! The command path: read the case as it stands, decide, append expecting
//! the case's last sequence, and on a conflict decide once more.
//!
//! Every step is appended with `Expect::LastAt(seq)`, `seq` being the last
//! event of the case's own subject that the decision saw. When someone else
//! appended meanwhile, the ledger refuses; a step that commutes with theirs
//! (see [`Command::commutes`]) is decided again on the fresh case, once, so
//! two officers adding steps at once both succeed and nothing is lost. A
//! step that does not commute, or is no longer valid, is refused with 409.

use axum::extract::FromRef;
use lantern_api::auth::Auth;
use lantern_api::command::new_event;
use lantern_api::{ApiError, AppendError, Committed, Kernel};
use lantern_intake::reports::Reports;
use lantern_ledger::{AggregateKind, Expect};
use lantern_projection::Handle;
use uuid::Uuid;

use crate::decide::{Command, decide};
use crate::error::RcaError;
use crate::event::RcaEvent;
use crate::projector::CaseRecord;
use crate::queries::Cases;

/// How long a retried step waits for the idempotency index.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(5);

/// State of the rca service: the HTTP kernel (directory, idempotency,
/// scrubbing, the append path), the reports it analyses (through the
/// intake's query facade) and the rca read model.
#[derive(Clone)]
pub struct Rca {
    /// Authentication, hospitals, idempotency, scrubbing, append.
    pub kernel: Kernel,
    /// The reports read model's queries.
    pub reports: Reports,
    /// The rca read model.
    pub cases: Cases,
}

impl FromRef<Rca> for Auth {
    fn from_ref(rca: &Rca) -> Auth {
        rca.kernel.auth.clone()
    }
}

impl Rca {
    /// The service over the kernel, the reports and a running rca projector.
    pub fn new(kernel: Kernel, reports: Reports, handle: Handle) -> Rca {
        let cases = Cases::new(handle, kernel.ledger.clone());
        Rca {
            kernel,
            reports,
            cases,
        }
    }

    /// Opens a case: decides on "no case yet" and appends the first event
    /// of a new aggregate.
    pub async fn open(
        &self,
        hospital: &str,
        command: Command,
        idempotency: Option<&str>,
    ) -> Result<Committed, RcaError> {
        let event = single(decide(None, command)?)?;
        self.append(
            hospital,
            lantern_domain::ids::random(),
            event,
            Expect::New,
            idempotency,
        )
        .await
    }

    /// Waits until the idempotency index (the intake's directory) has seen
    /// every event of the case. A retried step's first event is on the
    /// case's own subject, so after this a retry finds its first answer
    /// instead of being decided again on the state that answer produced
    /// (where completing or closing twice is refused).
    pub async fn settle(&self, hospital: &str, id: Uuid) -> Result<(), RcaError> {
        let last = self
            .kernel
            .ledger
            .last_of(hospital, AggregateKind::Rca, id)
            .await?;
        if let Some(last) = last
            && !self
                .kernel
                .directory
                .handle()
                .wait_for(last.seq, SETTLE)
                .await
        {
            return Err(RcaError::NotCaughtUp(last.seq));
        }
        Ok(())
    }

    /// Records a step on the case `id` of `hospital`.
    pub async fn step(
        &self,
        hospital: &str,
        id: Uuid,
        command: Command,
        idempotency: Option<&str>,
    ) -> Result<Committed, RcaError> {
        let record = self.cases.current(hospital, id).await?;
        self.step_on(record, command, idempotency).await
    }

    /// Decides `command` on `record` (which may already be stale), appends,
    /// and on a conflict re-reads and decides once more if it commutes.
    pub(crate) async fn step_on(
        &self,
        mut record: CaseRecord,
        command: Command,
        idempotency: Option<&str>,
    ) -> Result<Committed, RcaError> {
        let mut retried = false;
        loop {
            let event = single(decide(Some(&record.case), command.clone())?)?;
            let appended = self
                .append(
                    &record.hospital,
                    record.rca_id,
                    event,
                    Expect::LastAt(record.last_seq),
                    idempotency,
                )
                .await;
            match appended {
                Err(RcaError::Append(AppendError::Conflict(_)))
                    if command.commutes() && !retried =>
                {
                    tracing::debug!(rca = %record.rca_id, "case moved on; deciding again");
                    retried = true;
                    record = self.cases.current(&record.hospital, record.rca_id).await?;
                }
                Err(RcaError::Append(AppendError::Conflict(_))) => return Err(RcaError::Stale),
                other => return other,
            }
        }
    }

    /// Appends through the kernel's command path (idempotency, metrics); a
    /// ledger conflict comes back as `AppendError::Conflict`, which
    /// [`Rca::step_on`] looks for.
    async fn append(
        &self,
        hospital: &str,
        id: Uuid,
        event: RcaEvent,
        expect: Expect,
        idempotency: Option<&str>,
    ) -> Result<Committed, RcaError> {
        let new = new_event(&event, id, hospital);
        Ok(self.kernel.append(new, expect, idempotency).await?)
    }
}

/// Every command records exactly one event: one append, one idempotency
/// key, one sequence to answer with.
fn single(events: Vec<RcaEvent>) -> Result<RcaEvent, RcaError> {
    let [event] = <[RcaEvent; 1]>::try_from(events).map_err(|events| {
        ApiError::internal(format!(
            "a step must record one event, not {}",
            events.len()
        ))
    })?;
    Ok(event)
}

#[cfg(test)]
mod tests {
    //! The command path against a real nats-server: a step decided on a
    //! stale view is decided again when it commutes, refused when not.

    use std::sync::Arc;

    use chrono::{DateTime, Utc};
    use lantern_api::metrics::Metrics;
    use lantern_api::secrets::ServerSecret;
    use lantern_directory::{Directory, DirectoryProjector};
    use lantern_ledger::{Ledger, NewEvent, SchemaRegistry, StreamSettings};
    use lantern_projection::runner_in;
    use lantern_testkit::NatsServer;
    use serde_json::json;
    use tokio::sync::watch;

    use super::*;
    use crate::decide::ReportRef;
    use crate::projector::RcaProjector;
    use crate::vocab::Fishbone;

    struct World {
        _nats: NatsServer,
        _data: tempfile::TempDir,
        rca: Rca,
        _stop: watch::Sender<bool>,
    }

    async fn world() -> World {
        let nats = NatsServer::start();
        let data = tempfile::tempdir().unwrap();
        let client = lantern_ledger::connect(
            &lantern_ledger::NatsConfig::new(nats.url()).with_user(nats.user(), nats.password()),
        )
        .await
        .unwrap();
        let ledger = Ledger::open(
            client,
            &StreamSettings::default(),
            Arc::new(SchemaRegistry::embedded().unwrap()),
        )
        .await
        .unwrap();
        let (dir_runner, dir_handle) =
            runner_in(&ledger, data.path(), Arc::new(DirectoryProjector)).unwrap();
        let kernel = Kernel::new(
            ledger.clone(),
            Directory::new(dir_handle, ledger.clone()),
            "admin".into(),
            ServerSecret::generate(),
            Arc::new(Metrics::default()),
        );
        let (intake, mut runners) = lantern_intake::build(kernel.clone(), data.path()).unwrap();
        runners.push(dir_runner);
        let (runner, handle) = runner_in(&ledger, data.path(), Arc::new(RcaProjector)).unwrap();
        runners.push(runner);
        let (stop, rx) = watch::channel(false);
        for runner in runners {
            let mut rx = rx.clone();
            tokio::spawn(async move {
                let _ = runner
                    .run(async move {
                        let _ = rx.wait_for(|s| *s).await;
                    })
                    .await;
            });
        }
        World {
            _nats: nats,
            _data: data,
            rca: Rca::new(kernel, intake.reports.clone(), handle),
            _stop: stop,
        }
    }

    fn factor() -> Command {
        Command::AddFactor {
            category: Fishbone::People,
            statement: "s".into(),
            whys: None,
        }
    }

    fn number(c: &Committed) -> u64 {
        c.envelope.data.to_value()["factor"].as_u64().unwrap()
    }

    #[tokio::test]
    async fn a_stale_step_is_decided_again_when_it_commutes_and_refused_when_not() {
        let w = world().await;
        let ledger = &w.rca.kernel.ledger;
        let report = Uuid::now_v7();
        ledger
            .append(
                NewEvent {
                    event_type: "report.filed",
                    version: 1,
                    aggregate: report,
                    hospital: "H1".into(),
                    data: json!({"department": "ICU", "occurred_at": "2026-01-05T08:00:00+08:00",
                        "grade": "II", "category": "fall", "harm": "mild", "description": "d",
                        "receipt_hash": "ab".repeat(32)}),
                },
                Expect::New,
                None,
            )
            .await
            .unwrap();
        let opened = w
            .rca
            .open(
                "H1",
                Command::Open {
                    hospital: "H1".into(),
                    reports: vec![ReportRef {
                        report_id: report,
                        hospital: Some("H1".into()),
                    }],
                    title: "t".into(),
                    team_roles: vec!["safety_officer".into()],
                    due: None,
                    today: Utc::now().date_naive(),
                },
                None,
            )
            .await
            .unwrap();
        let id = opened.envelope.aggregate;

        // Two officers read the case at once …
        let stale = w.rca.cases.current("H1", id).await.unwrap();
        // … the first adds a factor; the second's factor, decided on the
        // stale view, still goes in, as number 2.
        let first = w.rca.step("H1", id, factor(), None).await.unwrap();
        assert_eq!(number(&first), 1);
        let second = w.rca.step_on(stale.clone(), factor(), None).await.unwrap();
        assert_eq!(number(&second), 2);

        // A close decided on a view that misses what was added is refused …
        let close = Command::Close {
            lessons: "l".into(),
            reason_no_action: Some("r".into()),
        };
        let err = w.rca.step_on(stale, close.clone(), None).await.unwrap_err();
        assert!(matches!(err, RcaError::Stale), "{err:?}");
        // … and goes in on the fresh one; then a stale factor finds it closed.
        let before_close = w.rca.cases.current("H1", id).await.unwrap();
        w.rca.step("H1", id, close, None).await.unwrap();
        let err = w
            .rca
            .step_on(before_close, factor(), None)
            .await
            .unwrap_err();
        assert!(matches!(err, RcaError::Closed), "{err:?}");

        let case = w.rca.cases.current("H1", id).await.unwrap();
        assert_eq!(case.case.factors.len(), 2);
        let at: DateTime<Utc> = case.case.opened_at;
        assert!(at <= Utc::now());
    }
}
