//! The command path every context shares: authorisation of staff against a
//! hospital, idempotency, scrubbing, append. Every write of every endpoint
//! goes through [`Kernel::append`].

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::FromRef;
use chrono::Utc;
use lantern_ledger::{Envelope, Expect, Ledger, LedgerError, NewEvent, Scope};

use lantern_directory::{Directory, HospitalRecord};
use lantern_domain::events::org::HospitalRegistered;
use lantern_domain::events::{Event, Payload};
use lantern_domain::vocab::Role;
use uuid::Uuid;

use crate::auth::{Auth, Principal};
use crate::error::{ApiError, AppendError};
use crate::idempotency;
use crate::metrics::Metrics;
use crate::scrub::{PiiKind, Scrubber};
use crate::secrets::ServerSecret;
use crate::tier::Tier;

/// What every context's handlers share: the stream, the directory, staff
/// authentication, the server secret, the scrubber and the counters.
#[derive(Clone)]
pub struct Kernel {
    /// The event store.
    pub ledger: Ledger,
    /// Hospitals, departments, tokens, idempotency keys.
    pub directory: Directory,
    /// Staff authentication.
    pub auth: Auth,
    /// Secret for derived receipts and tokens.
    pub secret: ServerSecret,
    /// Free-text scrubber.
    pub scrubber: Arc<Scrubber>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The deployment tier: what a hub refuses to append (`crate::tier`).
    pub tier: Tier,
}

impl FromRef<Kernel> for Auth {
    fn from_ref(app: &Kernel) -> Auth {
        app.auth.clone()
    }
}

/// The event to append for a typed payload (or an event of a kind's enum)
/// of `aggregate` in `hospital`: its type, version and data come from the
/// payload's type, so no writer names them by hand.
pub fn new_event(event: &impl Event, aggregate: Uuid, hospital: impl Into<String>) -> NewEvent {
    NewEvent {
        event_type: event.event_type(),
        version: event.version(),
        aggregate,
        hospital: hospital.into(),
        data: event.data(),
    }
}

/// A request id as recorded in `tier` (`Kernel::at_site` says why):
/// prefixed with a hospital's or region's code; unchanged at a standalone
/// Lantern, whose stream nothing sources.
fn at_site<'a>(tier: &Tier, idempotency: Option<&'a str>) -> Option<Cow<'a, str>> {
    let scoped = idempotency?;
    Some(match tier {
        Tier::Standalone => Cow::Borrowed(scoped),
        Tier::Hospital { hospital: code, .. } | Tier::Region { region: code } => {
            Cow::Owned(format!("{code}/{scoped}"))
        }
    })
}

/// An event as stored: its sequence and envelope, whether just appended or
/// replayed for a retried request.
#[derive(Debug, Clone)]
pub struct Committed {
    /// Stream sequence.
    pub seq: u64,
    /// The stored envelope.
    pub envelope: Envelope,
}

impl Kernel {
    /// The kernel over `ledger` and `directory`, with the configured admin
    /// token and server secret.
    pub fn new(
        ledger: Ledger,
        directory: Directory,
        admin_token: String,
        secret: ServerSecret,
        metrics: Arc<Metrics>,
    ) -> Kernel {
        Kernel {
            auth: Auth::new(directory.clone(), admin_token),
            directory,
            ledger,
            secret,
            scrubber: Arc::new(Scrubber::new()),
            metrics,
            tier: Tier::Standalone,
        }
    }

    /// This kernel in `tier` (standalone unless said).
    pub fn with_tier(self, tier: Tier) -> Kernel {
        Kernel { tier, ..self }
    }

    /// The first response's event for a retried request, if this key was
    /// used within the last 24 hours. A key reused for another kind of
    /// request is refused.
    pub async fn replayed(
        &self,
        idempotency: Option<&str>,
        event_type: &str,
    ) -> Result<Option<Committed>, ApiError> {
        let scoped = self.at_site(idempotency);
        let Some(scoped) = scoped.as_deref() else {
            return Ok(None);
        };
        let (hash, fingerprint) = idempotency::split(scoped);
        let Some(first) = self.directory.idempotent(hash, Utc::now())? else {
            return Ok(None);
        };
        // A record from before fingerprints were kept matches any request.
        let other_request = matches!(
            (first.fingerprint.as_deref(), fingerprint),
            (Some(was), Some(is)) if was != is
        );
        let recorded = self.ledger.get(first.seq).await?;
        if other_request || recorded.envelope.event_type != event_type {
            return Err(ApiError::field(
                "/headers/Idempotency-Key",
                "was already used for a different request",
            ));
        }
        Ok(Some(Committed {
            seq: recorded.seq,
            envelope: recorded.envelope,
        }))
    }

    /// Appends one event; a retry inside the stream's duplicate window gets
    /// the first event back instead of appending again.
    pub async fn append(
        &self,
        event: NewEvent,
        expect: Expect,
        idempotency: Option<&str>,
    ) -> Result<Committed, AppendError> {
        let mut event = event;
        self.check_tier(&event).await?;
        self.scrub_marked(&mut event)?;
        let event_type = event.event_type;
        let idempotency = self.at_site(idempotency);
        let appended = self
            .ledger
            .append(event, expect, idempotency.as_deref())
            .await
            .map_err(|e| match e {
                LedgerError::Conflict { .. } => AppendError::Conflict(e),
                LedgerError::RequestReused { .. } => AppendError::KeyReused,
                other => AppendError::Ledger(other),
            })?;
        if appended.duplicate {
            if appended.envelope.event_type != event_type {
                return Err(AppendError::KeyReused);
            }
        } else {
            self.metrics.appended(event_type);
        }
        Ok(Committed {
            seq: appended.seq,
            envelope: appended.envelope,
        })
    }

    /// The hospital a staff command names, with the principal checked for
    /// one of `roles` in its scope. Waits for the directory when the hospital
    /// or department is not known yet; an unknown hospital is a 422.
    pub async fn staff_hospital(
        &self,
        principal: &Principal,
        roles: &[Role],
        hospital: &str,
        department: &str,
    ) -> Result<HospitalRecord, ApiError> {
        principal.require(roles)?;
        let record = self
            .directory
            .hospital_with_department(hospital, department)
            .await?
            .ok_or_else(|| ApiError::field("/hospital", "is not a registered hospital"))?;
        principal.require_in(roles, &record)?;
        Ok(record)
    }

    /// Appends several events of one aggregate as one atomic batch (a
    /// command that records more than one step), each scrubbed as
    /// [`Kernel::append`] scrubs; a retry gets the first batch back.
    pub async fn append_batch(
        &self,
        mut events: Vec<NewEvent>,
        expect: Expect,
        idempotency: Option<&str>,
    ) -> Result<Vec<Committed>, AppendError> {
        for event in &mut events {
            self.check_tier(event).await?;
            self.scrub_marked(event)?;
        }
        let stored = self
            .ledger
            .append_batch(events, expect, self.at_site(idempotency).as_deref())
            .await
            .map_err(|e| match e {
                LedgerError::Conflict { .. } => AppendError::Conflict(e),
                LedgerError::RequestReused { .. } => AppendError::KeyReused,
                other => AppendError::Ledger(other),
            })?;
        Ok(stored
            .into_iter()
            .map(|a| {
                if !a.duplicate {
                    self.metrics.appended(&a.envelope.event_type);
                }
                Committed {
                    seq: a.seq,
                    envelope: a.envelope,
                }
            })
            .collect())
    }

    /// The request id an Idempotency-Key is recorded under at this site:
    /// at a hospital's or a region's Lantern, prefixed with its code. A hub
    /// sources several sites into one stream, and JetStream de-duplicates
    /// sourced messages by their message id too: two hospitals' requests
    /// that happened to carry the same key (two reporters' forms, two
    /// scripts registering each its hospital) would be taken for one, and
    /// the second hospital's event would never reach the hub.
    fn at_site<'a>(&self, idempotency: Option<&'a str>) -> Option<Cow<'a, str>> {
        at_site(&self.tier, idempotency)
    }

    /// What the tier refuses to append, checked here, on the one path every
    /// write takes, rather than in each handler:
    /// - a hub refuses every event under the subject of a hospital linked
    ///   to it (reports, census, critical values, deaths, analyses, triage,
    ///   its departments and tokens): those subjects are the hospital's
    ///   source's, whose own Lantern keeps them; the hub's own facts go
    ///   under its region's code;
    /// - a hospital's Lantern refuses to register another hospital, so
    ///   that nothing of another hospital can be filed there;
    /// - what a region's QC centre addresses to a hospital (the scope
    ///   `<region>~<hospital>`) is written only at that region's hub, the
    ///   one place that scope's subjects are not a source's: a hospital's
    ///   Lantern refuses it, and so does a hub for a linked hospital when
    ///   the region is not its own or the hospital was linked by a region
    ///   below it (a province's items reach no hospital yet);
    /// - a province's hub refuses, like a hospital's, the writes of a
    ///   region it linked (under the region's code) and of the hospitals
    ///   that region linked.
    async fn check_tier(&self, event: &NewEvent) -> Result<(), AppendError> {
        let scope = Scope::parse(&event.hospital);
        let elsewhere = |region: &str, hospital: &str| AppendError::AddressedElsewhere {
            region: region.to_owned(),
            hospital: hospital.to_owned(),
            hub_domain: region.to_ascii_lowercase(),
            here: self.tier.to_string(),
        };
        match &self.tier {
            Tier::Standalone => Ok(()),
            Tier::Hospital { hospital, .. } => {
                if event.event_type == HospitalRegistered::TYPE && event.hospital != *hospital {
                    return Err(AppendError::OtherHospital {
                        own: hospital.clone(),
                        hospital: event.hospital.clone(),
                    });
                }
                match scope {
                    Some(Scope::Addressed { region, hospital }) => Err(elsewhere(region, hospital)),
                    _ => Ok(()),
                }
            }
            Tier::Region { region } => {
                let (hospital, by) = match scope {
                    Some(Scope::Own(code)) if code != region => (code, None),
                    Some(Scope::Addressed {
                        region: by,
                        hospital,
                    }) => (hospital, Some(by)),
                    _ => return Ok(()),
                };
                let link = self
                    .directory
                    .link(hospital)
                    .await
                    .map_err(AppendError::Directory)?;
                match (link, by) {
                    (None, _) => Ok(()),
                    // Its own items to a hospital it linked itself: the
                    // hospital sources them from here.
                    (Some(link), Some(by)) if by == region && link.region == *region => Ok(()),
                    (Some(_), Some(by)) if by != region => Err(elsewhere(by, hospital)),
                    // A hospital a linked region linked (at a province):
                    // nothing would carry the item to it from here.
                    (Some(link), Some(_)) => Err(elsewhere(&link.region, hospital)),
                    (Some(link), None) => Err(AppendError::LinkedHospital {
                        hospital: link.hospital,
                        domain: link.domain,
                    }),
                }
            }
        }
    }

    /// Scrubs every field the event's schema marks as free text
    /// (`x-lantern-free-text`), whatever the handler did: a new free-text
    /// field cannot be missed. Idempotent, so text a handler scrubbed
    /// already comes through unchanged. A control or bidirectional-override
    /// character is refused with the field's pointer.
    fn scrub_marked(&self, event: &mut NewEvent) -> Result<(), AppendError> {
        let pointers = self
            .ledger
            .schemas()
            .free_text_pointers(event.event_type, event.version);
        if pointers.is_empty() {
            return Ok(());
        }
        let found = self
            .scrubber
            .scrub_value(&mut event.data, pointers)
            .map_err(AppendError::Refused)?;
        self.count_scrubbed(&found);
        Ok(())
    }

    fn count_scrubbed(&self, found: &[PiiKind]) {
        for kind in found {
            self.metrics
                .pii_scrubbed
                .get_or_create(&crate::metrics::PiiLabel {
                    kind: format!("{kind:?}"),
                })
                .inc();
        }
    }

    /// Scrubs free text before it is appended (events are immutable).
    pub fn scrub(&self, text: &str) -> String {
        let scrubbed = self.scrubber.scrub(text);
        self.count_scrubbed(&scrubbed.found);
        scrubbed.text
    }

    /// Scrubs optional free text.
    pub fn scrub_opt(&self, text: Option<&str>) -> Option<String> {
        text.map(|t| self.scrub(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_carries_the_site_it_was_made_at_except_standalone() {
        let request = "ab12:cd34";
        assert_eq!(
            at_site(&Tier::Standalone, Some(request)).as_deref(),
            Some(request)
        );
        let h1 = Tier::Hospital {
            hospital: "H1".into(),
            region: "R1".into(),
        };
        let h2 = Tier::Hospital {
            hospital: "H2".into(),
            region: "R1".into(),
        };
        let (one, two) = (at_site(&h1, Some(request)), at_site(&h2, Some(request)));
        assert_eq!(one.as_deref(), Some("H1/ab12:cd34"));
        assert_ne!(
            one, two,
            "two hospitals' same key is two requests at their hub"
        );
        // The hash part (what JetStream and the index key on) differs too.
        let hash = |r: &Option<Cow<'_, str>>| {
            idempotency::split(r.as_deref().unwrap_or_default())
                .0
                .to_owned()
        };
        assert_ne!(hash(&one), hash(&two));
        assert_eq!(at_site(&h1, None), None);
    }
}
