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

/// The event type of a hospital's link (`lantern_domain::events::org::HospitalLinked`,
/// which this crate cannot name: the domain stands on the ledger).
pub const HOSPITAL_LINKED: &str = "org.hospital_linked";

/// The event type of a region's link to the hub above it
/// (`lantern_domain::events::org::RegionLinked`).
pub const REGION_LINKED: &str = "org.region_linked";

/// A link recorded in a hub's stream: by this hub, or by a region's hub
/// it linked (whose own events it sources).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The linked hospital's or region's code.
    pub code: String,
    /// The JetStream domain of its nats-server.
    pub domain: String,
    /// Whether it is a region's hub (`org.region_linked`), not a hospital.
    pub region: bool,
    /// The code of the hub that recorded the link: the scope of its subject.
    pub by: String,
}

/// The source of a linked hospital's events: the stream `LANTERN` in the
/// hospital's JetStream domain, filtered to the hospital's own subjects, so
/// that whatever else its stream holds (a region's or the system scope's
/// events) never reaches the hub.
pub fn hospital_source(hospital: &str, domain: &str) -> Source {
    filtered(&format!("lantern.{hospital}.>"), domain)
}

/// The stream `LANTERN` in `domain`, filtered to `filter`.
fn filtered(filter: &str, domain: &str) -> Source {
    Source {
        name: STREAM.to_owned(),
        filter_subject: Some(filter.to_owned()),
        external: Some(External {
            api_prefix: format!("$JS.{domain}.API"),
            delivery_prefix: None,
        }),
        ..Default::default()
    }
}

/// The sources the links `own` recorded itself make: a hospital's own
/// subjects from its domain, a region's own subjects from its hub's.
pub fn own_sources(own: &str, links: &[Link]) -> Vec<Source> {
    links
        .iter()
        .filter(|l| l.by == own && l.code != own)
        .map(|l| filtered(&format!("lantern.{}.>", l.code), &l.domain))
        .collect()
}

/// The sources a hub follows from the links of the regions it linked (a
/// province from its regions' links of hospitals, and so on down): each
/// hospital such a region linked, its own subjects and what that region's
/// QC centre addressed to it; each region it linked, its own subjects —
/// all from the stream of the region `own` linked, through that region's
/// domain, which holds them. Never a source of `own`'s subjects (a cycle of
/// links would bring its own events back).
pub fn followed_sources(own: &str, links: &[Link]) -> Vec<Source> {
    let mut out: Vec<Source> = Vec::new();
    let mut seen = vec![own.to_owned()];
    // (hub whose links to follow, the domain everything below it comes through)
    let mut next: Vec<(String, String)> = links
        .iter()
        .filter(|l| l.by == own && l.region && l.code != own)
        .map(|l| (l.code.clone(), l.domain.clone()))
        .collect();
    while let Some((hub, via)) = next.pop() {
        if seen.contains(&hub) {
            continue;
        }
        seen.push(hub.clone());
        for l in links
            .iter()
            .filter(|l| l.by == hub && !seen.contains(&l.code))
        {
            out.push(filtered(&format!("lantern.{}.>", l.code), &via));
            if l.region {
                next.push((l.code.clone(), via.clone()));
            } else {
                let to = crate::subject::addressed(&hub, &l.code);
                out.push(filtered(&format!("lantern.{to}.>"), &via));
            }
        }
    }
    out
}

/// The source of what a region's QC centre addresses to a hospital (its
/// follow-up items, its reviews of the hospital's deaths), in the
/// hospital's stream: the stream `LANTERN` in the hub's JetStream domain
/// (the region's code in lower case), filtered to the addressed scope
/// `<region>~<hospital>` — never the hospital's own subjects, which the hub
/// sources the other way, so nothing comes back where it started.
pub fn addressed_source(region: &str, hospital: &str) -> Source {
    filtered(
        &format!("lantern.{}.>", crate::subject::addressed(region, hospital)),
        &region.to_ascii_lowercase(),
    )
}

/// The sources a hub's stream is wanted to have: one per link recorded
/// under `region`'s code and those it follows from the regions it linked
/// ([`Ledger::recorded_links`], [`own_sources`], [`followed_sources`]);
/// none while there is no stream (it is created with none, before anything
/// is linked).
pub async fn wanted_sources(
    client: async_nats::Client,
    schemas: std::sync::Arc<crate::SchemaRegistry>,
    region: &str,
) -> Result<Vec<Source>, LedgerError> {
    match Ledger::open_existing(client, schemas).await {
        Ok(ledger) => {
            let links = ledger.recorded_links().await?;
            let mut sources = own_sources(region, &links);
            sources.extend(followed_sources(region, &links));
            Ok(sources)
        }
        Err(LedgerError::StreamMissing { .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Adds to a hub's stream the sources it follows from its linked regions'
/// links and lacks ([`followed_sources`]), before `serve` compares the
/// stream with its configuration: a region's link of a hospital is an
/// explicit act at that region's hub, which this hub follows when the
/// link's event reaches it — also while it was down. Returns what it
/// added; nothing without a stream.
pub async fn follow_links(
    client: async_nats::Client,
    schemas: std::sync::Arc<crate::SchemaRegistry>,
    region: &str,
) -> Result<Vec<Source>, LedgerError> {
    match Ledger::open_existing(client, schemas).await {
        Ok(ledger) => {
            let links = ledger.recorded_links().await?;
            ledger.add_sources(&followed_sources(region, &links)).await
        }
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

    /// Every link recorded in the stream, in the order recorded — by this
    /// hub and, sourced with their own events, by the regions it linked:
    /// what a hub's stream is wanted to source at start, so that the
    /// start-time comparison and the links agree. Read from the stream,
    /// not from a read model that may lag behind it; the first link of a
    /// code holds (as in the directory); a link that fails its schema, or
    /// stands under a scope that is no hub's own (a hospital's addressed
    /// scope, the system's), is passed over. Which links count is
    /// [`own_sources`]' and [`followed_sources`]' business.
    pub async fn recorded_links(&self) -> Result<Vec<Link>, LedgerError> {
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
                    let field = match e.event_type.as_str() {
                        HOSPITAL_LINKED => Some("hospital"),
                        REGION_LINKED => Some("region"),
                        _ => None,
                    };
                    if let Some(field) = field
                        && let Some(crate::Scope::Own(by)) = crate::Scope::parse(&e.hospital)
                        && self
                            .schemas()
                            .validate(&e.event_type, e.version, &e.data.to_value())
                            .is_ok()
                        && let (Some(code), Some(domain)) =
                            (e.data.str_field(field), e.data.str_field("domain"))
                        && !links.iter().any(|l| l.code == code)
                    {
                        links.push(Link {
                            code,
                            domain,
                            region: field == "region",
                            by: by.to_owned(),
                        });
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

    fn link(code: &str, region: bool, by: &str) -> Link {
        Link {
            code: code.into(),
            domain: code.to_ascii_lowercase(),
            region,
            by: by.into(),
        }
    }

    fn described(sources: &[Source]) -> Vec<String> {
        let mut out: Vec<String> = sources.iter().map(crate::stream::describe_source).collect();
        out.sort();
        out
    }

    #[test]
    fn a_province_follows_its_regions_links_through_the_regions_domains() {
        let links = [
            link("R01", true, "P01"),
            link("R02", true, "P01"),
            link("H0001", false, "R01"),
            link("H0002", false, "R02"),
            // A region below R02 (a county under a city) and its hospital.
            link("C01", true, "R02"),
            link("H0003", false, "C01"),
            // Another hub's links, not followed; a cycle back to P01 brings
            // nothing of P01's back.
            link("H0009", false, "R09"),
            link("P01", true, "R01"),
        ];
        assert_eq!(
            described(&own_sources("P01", &links)),
            [
                "LANTERN (lantern.R01.>, API $JS.r01.API)",
                "LANTERN (lantern.R02.>, API $JS.r02.API)",
            ]
        );
        assert_eq!(
            described(&followed_sources("P01", &links)),
            [
                "LANTERN (lantern.C01.>, API $JS.r02.API)",
                "LANTERN (lantern.C01~H0003.>, API $JS.r02.API)",
                "LANTERN (lantern.H0001.>, API $JS.r01.API)",
                "LANTERN (lantern.H0002.>, API $JS.r02.API)",
                "LANTERN (lantern.H0003.>, API $JS.r02.API)",
                "LANTERN (lantern.R01~H0001.>, API $JS.r01.API)",
                "LANTERN (lantern.R02~H0002.>, API $JS.r02.API)",
            ]
        );
        // A hub that links hospitals only follows nothing.
        assert!(followed_sources("R09", &links).is_empty());
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
