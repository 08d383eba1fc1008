//! The MLLP listener (`LANTERN_MLLP_ADDR`): one per Lantern, every
//! connection answered message by message, each message through the
//! intake's command path as an API request would go.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_util::codec::Framed;

use lantern_api::IdempotencyKey;
use lantern_api::auth::Principal;
use lantern_api::command::new_event;
use lantern_api::error::ApiError;
use lantern_api::tier::Tier;
use lantern_directory::HospitalRecord;
use lantern_domain::critical::Source;
use lantern_domain::events::{Payload, death};
use lantern_domain::ids;
use lantern_domain::vocab::AgeBand;
use lantern_domain::zone::zone;
use lantern_ledger::Expect;

use super::ack::{self, Code};
use super::message::{self, Context, ErrorCode, Header, Kind, Location, Parsed, Refusal};
use super::mllp::{MllpCodec, MllpError};
use crate::state::Intake;

/// Connections served at once: a hospital has a handful of interface
/// engines, each keeping one or a few connections open.
pub const MAX_CONNECTIONS: usize = 64;

/// How long a stopping listener lets connections finish the message they
/// are answering.
const DRAIN: Duration = Duration::from_secs(10);

/// The HL7 v2 feed: the intake it records through, and the source each
/// sending application's results come from when OBR-24 does not say.
#[derive(Clone)]
pub struct Hl7 {
    intake: Intake,
    sources: Arc<BTreeMap<String, Source>>,
}

/// Reads `LANTERN_MLLP_SOURCES`: `<MSH-3 application>=<source>`, comma
/// separated, e.g. `LIS=lab,PACS=imaging,ECG=ecg`.
pub fn parse_sources(text: &str) -> Result<BTreeMap<String, Source>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (app, source) = pair
                .split_once('=')
                .ok_or_else(|| format!("{pair:?} is not <application>=<source>"))?;
            let source: Source = serde_json::from_value(source.trim().into()).map_err(|_| {
                format!("{source:?} is not a source: lab, imaging, ecg, pathology or other")
            })?;
            Ok((app.trim().to_owned(), source))
        })
        .collect()
}

impl Hl7 {
    /// The feed into `intake`, with the sending applications' sources.
    pub fn new(intake: Intake, sources: BTreeMap<String, Source>) -> Hl7 {
        Hl7 {
            intake,
            sources: Arc::new(sources),
        }
    }

    /// Serves `listener` until `stop` turns true; then takes no new
    /// connection or message and lets each connection answer the message
    /// it is on.
    pub async fn serve(self, listener: TcpListener, mut stop: watch::Receiver<bool>) {
        let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let mut tasks = JoinSet::new();
        loop {
            let permit = tokio::select! {
                permit = connections.clone().acquire_owned() => match permit {
                    Ok(p) => p,
                    Err(_) => break,
                },
                () = stopped(&mut stop) => break,
            };
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "mllp accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                () = stopped(&mut stop) => break,
            };
            let (this, stop) = (self.clone(), stop.clone());
            tasks.spawn(async move {
                this.connection(stream, stop).await;
                drop(permit);
            });
            // Reap the finished ones so the set does not grow.
            while tasks.try_join_next().is_some() {}
        }
        drop(listener);
        let drained =
            tokio::time::timeout(DRAIN, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!("mllp connections still open after the drain");
        }
    }

    async fn connection(&self, stream: TcpStream, mut stop: watch::Receiver<bool>) {
        let mut framed = Framed::new(stream, MllpCodec);
        loop {
            let frame = tokio::select! {
                frame = framed.next() => frame,
                () = stopped(&mut stop) => break,
            };
            let answer = match frame {
                Some(Ok(frame)) => self.answer(&frame).await,
                Some(Err(MllpError::TooLong)) => {
                    // The stream cannot be resynchronised: say why, then close.
                    let _ = framed
                        .send(reject_frame("the frame is longer than 1 MiB").as_bytes())
                        .await;
                    break;
                }
                Some(Err(MllpError::Io(_))) | None => break,
            };
            if framed.send(answer.as_bytes()).await.is_err() {
                break;
            }
        }
    }

    /// The ACK of one framed message, after recording what it reports.
    pub async fn answer(&self, frame: &[u8]) -> String {
        let now = Utc::now();
        let Ok(text) = std::str::from_utf8(frame) else {
            return reject_frame("not UTF-8: Lantern reads HL7 in UTF-8 (MSH-18 UNICODE UTF-8)");
        };
        let parsed = match message::parse(text) {
            Ok(parsed) => parsed,
            Err(not_taken) => return answer_refusal(&not_taken.0, &not_taken.1),
        };
        let outcome = self.record(&parsed).await;
        // Never the message: it carries a patient's results.
        tracing::info!(
            facility = %parsed.header.facility,
            control_id = %parsed.header.control_id,
            kind = parsed.kind.trigger(),
            accepted = outcome.is_ok(),
            "hl7 message"
        );
        match outcome {
            Ok(()) => ack::ack(&parsed.header, Code::Accept, None, now),
            Err(refusal) => answer_refusal(&parsed.header, &refusal),
        }
    }

    async fn record(&self, parsed: &Parsed<'_>) -> Result<(), Refusal> {
        let header = &parsed.header;
        let unknown = || Refusal::Rejected {
            location: Some(Location {
                segment: "MSH",
                sequence: 1,
                field: 4,
            }),
            code: ErrorCode::UnknownKey,
            message: format!(
                "{:?} (MSH-4) is not a hospital registered at this Lantern",
                header.facility
            ),
        };
        let hospital = self
            .intake
            .directory
            .hospital(&header.facility)
            .await
            .map_err(|e| internal(&ApiError::from(e)))?
            .ok_or_else(unknown)?;
        // A hub keeps no records of a hospital linked to it: they are
        // appended at the hospital's own Lantern.
        if matches!(self.intake.tier, Tier::Region { .. })
            && self
                .intake
                .directory
                .link(&hospital.code)
                .await
                .map_err(|e| internal(&ApiError::from(e)))?
                .is_some()
        {
            return Err(Refusal::Rejected {
                location: Some(Location {
                    segment: "MSH",
                    sequence: 1,
                    field: 4,
                }),
                code: ErrorCode::UnknownKey,
                message: format!(
                    "hospital {} keeps its records at its own Lantern: send this there",
                    hospital.code
                ),
            });
        }
        let catalogue = self
            .intake
            .critical_values
            .catalogue_history(&hospital.code)
            .map_err(|e| internal(&e))?;
        let ctx = Context {
            hospital: &hospital,
            catalogue: &catalogue,
            sender_source: self.sources.get(&header.application).copied(),
            now: Utc::now(),
        };
        // The request id of each thing the message records: the sender's
        // application and control id (the command path scopes it by the
        // hospital), so that a repeat appends nothing.
        let key = |part: &str| {
            IdempotencyKey::of(format!(
                "hl7\u{0}{}\u{0}{}\u{0}{part}",
                header.application, header.control_id
            ))
        };
        let principal = Principal::Lis {
            hospital: hospital.code.clone(),
        };
        match parsed.kind {
            Kind::Results => {
                // Every result read (and refused if malformed) before the
                // first is recorded.
                let detections = message::results(parsed, &ctx)?;
                for d in detections {
                    let repeatable = d.detect.specimen_id.is_some();
                    let at = |pointer: &str| {
                        d.fields
                            .iter()
                            .find(|(p, _)| *p == pointer)
                            .map(|(_, l)| l.clone())
                    };
                    let recorded = self
                        .intake
                        .detect(&principal, d.detect, Some(&key(&format!("OBX{}", d.obx))))
                        .await;
                    match recorded {
                        Ok(_) => {}
                        // The same item on the same specimen counts once
                        // (DESIGN: the lab QC indicator rule).
                        Err(ApiError::Conflict(_)) if repeatable => {}
                        Err(ApiError::Invalid(errors)) => {
                            let first = errors.first();
                            return Err(match first.and_then(|e| at(&e.pointer)) {
                                Some(location) => Refusal::Error {
                                    location,
                                    code: ErrorCode::DataType,
                                    message: first.map(|e| e.message.clone()).unwrap_or_default(),
                                },
                                None => internal(&ApiError::Invalid(errors)),
                            });
                        }
                        Err(e) => return Err(internal(&e)),
                    }
                }
                Ok(())
            }
            Kind::Discharge => {
                let discharge = message::discharge(parsed, &ctx)?;
                // One message, one discharge: its request id is the
                // message's, so a repeat counts nothing more.
                if discharge.inpatient {
                    self.intake
                        .count_discharge(
                            &hospital,
                            &discharge.department,
                            discharge.month,
                            &key("discharge"),
                        )
                        .await
                        .map_err(|e| internal(&e))?;
                }
                if let Some(death) = &discharge.death {
                    self.report_death(&hospital, &discharge.department, death, &key("death"))
                        .await
                        .map_err(|e| internal(&e))?;
                }
                Ok(())
            }
        }
    }
}

impl Hl7 {
    /// Reports a death the HIS discharged (`death.reported`), for the
    /// safety officer to complete as the death's record: the low-risk
    /// group, the diagnosis and the autopsy are theirs to say. A retry
    /// under `key` appends nothing.
    async fn report_death(
        &self,
        hospital: &HospitalRecord,
        department: &str,
        death: &message::Death,
        key: &IdempotencyKey,
    ) -> Result<u64, ApiError> {
        let idem = key.scoped(&hospital.code, "death.reported");
        if let Some(first) = self
            .intake
            .replayed(idem.as_deref(), death::Reported::TYPE)
            .await?
        {
            return Ok(first.seq);
        }
        let died_on = death
            .died_at
            .with_timezone(&zone(Some(&hospital.timezone)))
            .date_naive();
        let reported = death::Reported {
            department: department.to_owned(),
            died_at: death.died_at,
            admitted_at: death.admitted_at,
            age_band: death.birth_date.and_then(|born| AgeBand::at(born, died_on)),
            diagnosis_icd10: death.diagnosis_icd10.clone(),
        };
        let event = new_event(&reported, ids::random(), hospital.code.clone());
        Ok(self
            .intake
            .append(event, Expect::New, idem.as_deref())
            .await?
            .seq)
    }
}

/// Until `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: dropped here, not held
    // in a `select!` of a spawned task.
    let _ = stop.wait_for(|s| *s).await;
}

/// A refusal Lantern cannot blame on the message: `AR`, which tells the
/// sender to send it again later.
fn internal(e: &ApiError) -> Refusal {
    tracing::warn!(error = %e, "hl7 message not recorded");
    Refusal::Rejected {
        location: None,
        code: ErrorCode::Internal,
        message: "Lantern could not record this now; send it again later".into(),
    }
}

fn answer_refusal(header: &Header, refusal: &Refusal) -> String {
    let now = Utc::now();
    match refusal {
        Refusal::Rejected {
            location,
            code,
            message,
        } => ack::ack(
            header,
            Code::Reject,
            Some(&ack::Err {
                location: location.clone(),
                code: *code,
                message: message.clone(),
            }),
            now,
        ),
        Refusal::Error {
            location,
            code,
            message,
        } => ack::ack(
            header,
            Code::Error,
            Some(&ack::Err {
                location: Some(location.clone()),
                code: *code,
                message: message.clone(),
            }),
            now,
        ),
    }
}

/// The `AR` of a frame that is not an HL7 message Lantern can read: no
/// header to answer, so MSA-2 is empty.
fn reject_frame(why: &str) -> String {
    answer_refusal(
        &Header::default(),
        &Refusal::Rejected {
            location: None,
            code: ErrorCode::SegmentSequence,
            message: why.to_owned(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_read_per_sending_application() {
        let s = parse_sources(" LIS=lab, PACS = imaging ,ECG=ecg,").unwrap();
        assert_eq!(s.get("LIS"), Some(&Source::Lab));
        assert_eq!(s.get("PACS"), Some(&Source::Imaging));
        assert_eq!(s.get("ECG"), Some(&Source::Ecg));
        assert!(parse_sources("").unwrap().is_empty());
        assert!(parse_sources("LIS").is_err());
        assert!(parse_sources("LIS=radiology").is_err());
    }
}
