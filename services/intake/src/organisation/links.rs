//! Linking a hospital to its region's hub, or a region's hub to the hub
//! above it (DESIGN "Deployment tiers": a province is a hub of regions, by
//! the same mechanism): the admin act that records `org.hospital_linked`
//! or `org.region_linked` and makes the hub's stream source the linked
//! site's events from its own Lantern — and, for a region, what that
//! region links in turn ([`follow`]).

use async_nats::jetstream::stream::Source;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lantern_api::AppendError;
use lantern_api::IdempotencyKey;
use lantern_api::auth::Principal;
use lantern_api::command::new_event;
use lantern_api::error::{ApiError, FieldError};
use lantern_api::json::ValidJson;
use lantern_api::responses::{CommandErrors, created};
use lantern_directory::LinkRecord;
use lantern_domain::events::{Payload, org};
use lantern_domain::ids;
use lantern_domain::vocab::Role;
use lantern_ledger::federation::{self, Remote, hospital_source};
use lantern_ledger::{AggregateKind, Code, Expect, SYSTEM_SCOPE};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::state::Intake;

/// Links to this hub a hospital that runs its own Lantern, or the hub of
/// a region below it: exactly one of `hospital` and `region`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkHospital {
    /// The hospital's code, as its own Lantern registered it.
    pub hospital: Option<String>,
    /// The region's code, as its hub runs it (`LANTERN_REGION`).
    pub region: Option<String>,
    /// The JetStream domain of the hospital's or region hub's nats-server
    /// (a leaf node of this hub's), by convention its code in lower case.
    pub domain: String,
}

/// A hospital or region linked: its events are sourced from now on.
#[derive(Debug, Serialize, ToSchema)]
pub struct Linked {
    /// Stream sequence of the link.
    pub seq: u64,
    /// The hospital (absent for a region's link).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hospital: Option<String>,
    /// The region (a region's link only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Its JetStream domain.
    pub domain: String,
    /// The source the hub's stream has for it, as `lantern stream show`
    /// prints it.
    pub source: String,
}

/// What a hub answers when it cannot change its stream after the link was
/// recorded: the link holds, and the start-time comparison (or `lantern
/// stream apply`) finds the source missing.
fn not_sourced(seq: u64, e: impl std::fmt::Display) -> ApiError {
    ApiError::Unavailable(format!(
        "the link is recorded (sequence {seq}) but the hub's stream could not be changed ({e}); \
         retry with the same Idempotency-Key, or run `lantern stream apply`"
    ))
}

fn as_link(l: &LinkRecord) -> federation::Link {
    federation::Link {
        code: l.hospital.clone(),
        domain: l.domain.clone(),
        region: l.of_region,
        by: l.region.clone(),
    }
}

impl Intake {
    /// The sources this hub wants for the links its directory knows (and
    /// `also`, recorded a moment ago): its own links' and those it follows
    /// from its linked regions' links.
    fn wanted(&self, region: &str, also: Option<&LinkRecord>) -> Result<Vec<Source>, ApiError> {
        let mut links: Vec<federation::Link> =
            self.directory.links()?.iter().map(as_link).collect();
        if let Some(also) = also
            && !links.iter().any(|l| l.code == also.hospital)
        {
            links.push(as_link(also));
        }
        let mut sources = federation::own_sources(region, &links);
        sources.extend(federation::followed_sources(region, &links));
        Ok(sources)
    }

    /// Makes the hub's stream source every link (the directory's and
    /// `also`): a retry, or a link whose stream change failed before, is
    /// healed by the next link.
    async fn source_links(&self, region: &str, also: &LinkRecord) -> Result<Vec<String>, ApiError> {
        let sources = self.wanted(region, Some(also))?;
        let added = self
            .ledger
            .add_sources(&sources)
            .await
            .map_err(|e| not_sourced(also.seq, e))?;
        Ok(added
            .iter()
            .map(lantern_ledger::stream::describe_source)
            .collect())
    }
}

/// How often a hub looks for links its linked regions recorded.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Follows, while the hub runs, the links its linked regions record: a
/// region's link of a hospital (an explicit act at the region's hub)
/// reaches this hub as an event through the region's source, and this hub
/// then sources that hospital's events from the region's stream too. Adds
/// only, never removes; a hub that links no region has nothing to follow.
/// Runs until `stop` turns true.
pub async fn follow(app: Intake, mut stop: tokio::sync::watch::Receiver<bool>) {
    let Some(region) = app.tier.region().map(str::to_owned) else {
        return;
    };
    loop {
        let followed = app.directory.links().map(|links| {
            let links: Vec<federation::Link> = links.iter().map(as_link).collect();
            federation::followed_sources(&region, &links)
        });
        match followed {
            Ok(sources) if sources.is_empty() => {}
            Ok(sources) => match app.ledger.add_sources(&sources).await {
                Ok(added) => {
                    for source in &added {
                        tracing::info!(
                            source = %lantern_ledger::stream::describe_source(source),
                            "now sourcing what a linked region linked"
                        );
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not follow a linked region's links; retrying")
                }
            },
            Err(e) => tracing::warn!(error = %e, "could not read the links; retrying"),
        }
        tokio::select! {
            () = tokio::time::sleep(FOLLOW_EVERY) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}

/// Link a hospital to this hub, or the hub of a region below it (admin,
/// region tier only): records `org.hospital_linked` (`org.region_linked`)
/// under the hub's region's code and adds to the hub's stream a source of
/// the linked site's own events (`lantern.<code>.>`) from the stream
/// `LANTERN` in its JetStream domain. The hub then learns the hospital's
/// name, departments and zone from its sourced events, and refuses its
/// writes; of a region it learns, the same way, the hospitals the region
/// links, and sources their events from the region's stream.
#[utoipa::path(post, path = "/api/v1/admin/links", tag = "admin",
    request_body = LinkHospital,
    responses((status = 201, body = Linked), CommandErrors),
    security(("bearer" = [])))]
pub async fn link_hospital(
    State(app): State<Intake>,
    principal: Principal,
    key: IdempotencyKey,
    ValidJson(body): ValidJson<LinkHospital>,
) -> Result<(StatusCode, Json<Linked>), ApiError> {
    principal.require(&[Role::Admin])?;
    let Some(region) = app.tier.region().map(str::to_owned) else {
        return Err(ApiError::Conflict(format!(
            "this Lantern is {} (LANTERN_TIER={}): only a region's hub (LANTERN_TIER=region) links hospitals and regions",
            app.tier,
            app.tier.name()
        )));
    };
    let (code, of_region, pointer) = match (body.hospital, body.region) {
        (Some(h), None) => (h, false, "/hospital"),
        (None, Some(r)) => (r, true, "/region"),
        _ => {
            return Err(ApiError::field(
                "/hospital",
                "give exactly one of hospital and region",
            ));
        }
    };
    let event_type = if of_region {
        org::RegionLinked::TYPE
    } else {
        org::HospitalLinked::TYPE
    };
    let idem = key.scoped("admin", "POST /api/v1/admin/links");
    if let Some(first) = app.replayed(idem.as_deref(), event_type).await? {
        let data = &first.envelope.data;
        let (code, domain) = if of_region {
            let l: org::RegionLinked = data.parse().map_err(ApiError::internal)?;
            (l.region, l.domain)
        } else {
            let l: org::HospitalLinked = data.parse().map_err(ApiError::internal)?;
            (l.hospital, l.domain)
        };
        let record = LinkRecord {
            hospital: code,
            of_region,
            domain,
            region: region.clone(),
            seq: first.seq,
        };
        app.source_links(&region, &record).await?;
        return Ok(created(linked(record)));
    }
    let mut errors = Vec::new();
    for (pointer, value) in [(pointer, &code), ("/domain", &body.domain)] {
        if let Err(message) = Code::parse(value) {
            errors.push(FieldError::new(pointer, message));
        }
    }
    if code == region || code == SYSTEM_SCOPE {
        errors.push(FieldError::new(
            pointer,
            format!("{code} is this hub's own region"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    if let Some(link) = app.directory.link(&code).await? {
        return Err(ApiError::Conflict(format!(
            "{pointer}: {} is linked already, through domain {} (sequence {}, by {})",
            link.hospital, link.domain, link.seq, link.region
        )));
    }
    if let Some(other) = app
        .directory
        .links()?
        .into_iter()
        .find(|l| l.domain == body.domain && l.region == region)
    {
        return Err(ApiError::Conflict(format!(
            "/domain: {} is the domain of {}'s link already (sequence {})",
            other.domain, other.hospital, other.seq
        )));
    }
    // The linked site's own Lantern must answer in that domain and know
    // itself: a link to nothing would be a source that never delivers. A
    // hospital's Lantern registered the hospital; a region's hub recorded
    // something under the region's code (the hospitals it linked).
    let (probe, missing) = if of_region {
        (
            format!("lantern.{code}.>"),
            format!(
                "the Lantern of domain {} has recorded nothing as region {code}: is it that \
                 region's hub (LANTERN_TIER=region, LANTERN_REGION={code}), with its hospitals linked?",
                body.domain
            ),
        )
    } else {
        (
            lantern_ledger::subject(&code, AggregateKind::Org, ids::hospital(&code))?,
            format!(
                "the Lantern of domain {} has not registered hospital {code}: register it there first",
                body.domain
            ),
        )
    };
    match app.ledger.probe_domain(&body.domain, &probe).await? {
        Remote::NoAnswer(why) => {
            return Err(ApiError::field(
                "/domain",
                format!(
                    "no JetStream domain {} answers here ({why}): is its nats-server \
                     connected to this hub as a leaf node, with `domain: {}`?",
                    body.domain, body.domain
                ),
            ));
        }
        Remote::NoStream => {
            return Err(ApiError::field(
                "/domain",
                format!(
                    "domain {} answers but has no stream LANTERN: start its Lantern \
                     (LANTERN_TIER={}) first",
                    body.domain,
                    if of_region { "region" } else { "hospital" }
                ),
            ));
        }
        Remote::Missing => return Err(ApiError::field(pointer, missing)),
        Remote::Found(_) => {}
    }
    let domain = body.domain;
    let event = if of_region {
        new_event(
            &org::RegionLinked {
                region: code.clone(),
                domain: domain.clone(),
            },
            ids::link(&code),
            region.clone(),
        )
    } else {
        new_event(
            &org::HospitalLinked {
                hospital: code.clone(),
                domain: domain.clone(),
            },
            ids::link(&code),
            region.clone(),
        )
    };
    let committed = app
        .append(event, Expect::New, idem.as_deref())
        .await
        .map_err(|e| match e {
            AppendError::Conflict(_) => {
                ApiError::Conflict(format!("{pointer}: {code} is linked already"))
            }
            other => other.into(),
        })?;
    let record = LinkRecord {
        hospital: code,
        of_region,
        domain,
        region: region.clone(),
        seq: committed.seq,
    };
    app.source_links(&region, &record).await?;
    Ok(created(linked(record)))
}

fn linked(record: LinkRecord) -> Linked {
    let (hospital, region) = if record.of_region {
        (None, Some(record.hospital.clone()))
    } else {
        (Some(record.hospital.clone()), None)
    };
    Linked {
        source: lantern_ledger::stream::describe_source(&hospital_source(
            &record.hospital,
            &record.domain,
        )),
        seq: record.seq,
        hospital,
        region,
        domain: record.domain,
    }
}
