//! A region's hub and the hospitals it sources (DESIGN "Deployment
//! tiers"): each hospital's own stream `LANTERN`, in the hospital's
//! JetStream domain, reached through the leaf connection of the hospital's
//! nats-server.
//!
//! What the hub's stream sources is decided by the links recorded in it
//! (`org.hospital_linked`): [`hospital_source`] makes a link's source, the
//! same way for the start-time comparison and for the link itself, so that
//! the two always agree; [`Ledger::add_sources`] is what a link changes.

use async_nats::jetstream::{
    self,
    context::GetStreamErrorKind,
    stream::{External, LastRawMessageErrorKind, Source},
};

use futures::StreamExt;

use crate::read::Read;
use crate::{AggregateKind, Ledger, LedgerError, Recorded, STREAM};

/// The event type of a link (`lantern_domain::events::org::HospitalLinked`,
/// which this crate cannot name: the domain stands on the ledger).
pub const HOSPITAL_LINKED: &str = "org.hospital_linked";

/// A hospital linked to a hub, as its `org.hospital_linked` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The hospital's code.
    pub hospital: String,
    /// The JetStream domain of its nats-server.
    pub domain: String,
}

impl Link {
    /// The source this link adds to the hub's stream.
    pub fn source(&self) -> Source {
        hospital_source(&self.hospital, &self.domain)
    }
}

/// The source of a linked hospital's events: the stream `LANTERN` in the
/// hospital's JetStream domain, filtered to the hospital's own subjects, so
/// that whatever else its stream holds (a region's or the system scope's
/// events) never reaches the hub.
pub fn hospital_source(hospital: &str, domain: &str) -> Source {
    Source {
        name: STREAM.to_owned(),
        filter_subject: Some(format!("lantern.{hospital}.>")),
        external: Some(External {
            api_prefix: format!("$JS.{domain}.API"),
            delivery_prefix: None,
        }),
        ..Default::default()
    }
}

/// The source of what a region's QC centre addresses to a hospital (its
/// follow-up items, its reviews of the hospital's deaths), in the
/// hospital's stream: the stream `LANTERN` in the hub's JetStream domain
/// (the region's code in lower case), filtered to the addressed scope
/// `<region>~<hospital>` — never the hospital's own subjects, which the hub
/// sources the other way, so nothing comes back where it started.
pub fn addressed_source(region: &str, hospital: &str) -> Source {
    Source {
        name: STREAM.to_owned(),
        filter_subject: Some(format!(
            "lantern.{}.>",
            crate::subject::addressed(region, hospital)
        )),
        external: Some(External {
            api_prefix: format!("$JS.{}.API", region.to_ascii_lowercase()),
            delivery_prefix: None,
        }),
        ..Default::default()
    }
}

/// The sources a hub's stream is wanted to have: one per link recorded
/// under `region`'s code ([`Ledger::recorded_links`]); none while there is
/// no stream (it is created with none, before anything is linked).
pub async fn wanted_sources(
    client: async_nats::Client,
    schemas: std::sync::Arc<crate::SchemaRegistry>,
    region: &str,
) -> Result<Vec<Source>, LedgerError> {
    match Ledger::open_existing(client, schemas).await {
        Ok(ledger) => Ok(ledger
            .recorded_links(region)
            .await?
            .iter()
            .map(Link::source)
            .collect()),
        Err(LedgerError::StreamMissing { .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// What a JetStream domain answered about a hospital's stream.
#[derive(Debug)]
pub enum Remote {
    /// Nothing answers in that domain: no such domain, or its nats-server
    /// is not connected to this one as a leaf node.
    NoAnswer(String),
    /// The domain answers but has no stream `LANTERN`.
    NoStream,
    /// The stream has no message on the subject asked for.
    Missing,
    /// The last message on the subject.
    Found(Box<Recorded>),
}

impl Ledger {
    /// Asks the JetStream domain `domain` for the last event on `subject`
    /// of its stream `LANTERN` (a hospital's registration, before the hub
    /// links it): whether the domain answers, has a Lantern, and that
    /// Lantern knows the hospital.
    pub async fn probe_domain(&self, domain: &str, subject: &str) -> Result<Remote, LedgerError> {
        self.check_connected()?;
        let remote = jetstream::with_domain(self.js.client(), domain);
        let stream = match remote.get_stream(STREAM).await {
            Ok(s) => s,
            Err(e) => {
                return Ok(match e.kind() {
                    GetStreamErrorKind::JetStream(j)
                        if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND =>
                    {
                        Remote::NoStream
                    }
                    _ => Remote::NoAnswer(e.to_string()),
                });
            }
        };
        match stream.get_last_raw_message_by_subject(subject).await {
            Ok(m) => Ok(Remote::Found(Box::new(Recorded::decode(
                m.sequence,
                &m.payload,
                Some(&m.headers),
            )?))),
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(Remote::Missing),
            Err(e) => Ok(Remote::NoAnswer(e.to_string())),
        }
    }

    /// The links recorded under `region`'s code, in the order recorded:
    /// what a hub's stream is wanted to source at start, so that the
    /// start-time comparison and the links agree. Read from the stream,
    /// not from a read model that may lag behind it; the first link of a
    /// hospital holds (as in the directory), a link that fails its schema
    /// is passed over.
    pub async fn recorded_links(&self, region: &str) -> Result<Vec<Link>, LedgerError> {
        let kinds = [AggregateKind::Org];
        let last = self.last_sequence_of(&kinds).await?;
        let mut links: Vec<Link> = Vec::new();
        if last == 0 {
            return Ok(links);
        }
        let mut events = self.read_kinds_from(1, &kinds, true).await?;
        while let Some(read) = events.next().await {
            let seq = match read {
                Ok(Read::Passed(seq)) => seq,
                Ok(Read::Event(r)) => {
                    let e = &r.envelope;
                    if e.event_type == HOSPITAL_LINKED
                        && e.hospital == region
                        && self
                            .schemas()
                            .validate(&e.event_type, e.version, &e.data.to_value())
                            .is_ok()
                        && let (Some(hospital), Some(domain)) =
                            (e.data.str_field("hospital"), e.data.str_field("domain"))
                        && !links.iter().any(|l| l.hospital == hospital)
                    {
                        links.push(Link { hospital, domain });
                    }
                    r.seq
                }
                // An undecodable message is skipped by every reader.
                Err(LedgerError::Decode { seq, .. }) => seq,
                Err(e) => return Err(e),
            };
            if seq >= last {
                break;
            }
        }
        Ok(links)
    }

    /// Adds to the stream each of `sources` it does not source yet (a link,
    /// the explicit admin act that changes a hub's stream), leaving every
    /// other setting and source as it is; returns what it added. Read back
    /// after the update: a source the server did not keep is an error.
    pub async fn add_sources(&self, sources: &[Source]) -> Result<Vec<Source>, LedgerError> {
        self.check_connected()?;
        crate::stream::add_sources(&self.js, sources).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hospitals_source_is_its_own_subjects_in_its_domain() {
        let s = hospital_source("H0001", "h0001");
        assert_eq!(s.name, "LANTERN");
        assert_eq!(s.filter_subject.as_deref(), Some("lantern.H0001.>"));
        assert_eq!(
            s.external.map(|e| e.api_prefix).as_deref(),
            Some("$JS.h0001.API")
        );
        assert_eq!(
            crate::stream::describe_source(&hospital_source("H0001", "h0001")),
            "LANTERN (lantern.H0001.>, API $JS.h0001.API)"
        );
    }

    #[test]
    fn a_hospital_sources_what_its_region_addresses_to_it_and_nothing_of_its_own() {
        let s = addressed_source("R01", "H0001");
        assert_eq!(
            crate::stream::describe_source(&s),
            "LANTERN (lantern.R01~H0001.>, API $JS.r01.API)"
        );
        let own = hospital_source("H0001", "h0001");
        assert_ne!(s.filter_subject, own.filter_subject);
    }
}
