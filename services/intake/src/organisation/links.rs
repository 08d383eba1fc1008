//! Linking a hospital to its region's hub (DESIGN "Deployment tiers"): the
//! admin act that records `org.hospital_linked` and makes the hub's stream
//! source the hospital's events from the hospital's own Lantern.

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
use lantern_ledger::federation::{Remote, hospital_source};
use lantern_ledger::{AggregateKind, Code, Expect, SYSTEM_SCOPE};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::state::Intake;

/// Links a hospital that runs its own Lantern to this hub.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkHospital {
    /// The hospital's code, as its own Lantern registered it.
    pub hospital: String,
    /// The JetStream domain of the hospital's nats-server (a leaf node of
    /// this hub's), by convention the hospital's code in lower case.
    pub domain: String,
}

/// A hospital linked: its events are sourced from now on.
#[derive(Debug, Serialize, ToSchema)]
pub struct Linked {
    /// Stream sequence of the link.
    pub seq: u64,
    /// The hospital.
    pub hospital: String,
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

impl Intake {
    /// Makes the hub's stream source every hospital linked (the directory's
    /// links and `also`): a retry, or a link whose stream change failed
    /// before, is healed by the next link.
    async fn source_links(&self, also: &LinkRecord) -> Result<Vec<String>, ApiError> {
        let mut sources: Vec<_> = self
            .directory
            .links()?
            .iter()
            .map(|l| hospital_source(&l.hospital, &l.domain))
            .collect();
        sources.push(hospital_source(&also.hospital, &also.domain));
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

/// Link a hospital to this hub (admin, region tier only): records
/// `org.hospital_linked` under the region's code and adds to the hub's
/// stream a source of the hospital's own events
/// (`lantern.<hospital>.>`) from the stream `LANTERN` in the hospital's
/// JetStream domain. The hub then learns the hospital's name, departments
/// and zone from its sourced events, and refuses its writes.
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
            "this Lantern is {} (LANTERN_TIER={}): only a region's hub (LANTERN_TIER=region) links hospitals",
            app.tier,
            app.tier.name()
        )));
    };
    let idem = key.scoped("admin", "POST /api/v1/admin/links");
    if let Some(first) = app
        .replayed(idem.as_deref(), org::HospitalLinked::TYPE)
        .await?
    {
        let link: org::HospitalLinked = first.envelope.data.parse().map_err(ApiError::internal)?;
        let record = LinkRecord {
            hospital: link.hospital,
            domain: link.domain,
            region,
            seq: first.seq,
        };
        app.source_links(&record).await?;
        return Ok(created(linked(record)));
    }
    let mut errors = Vec::new();
    for (pointer, value) in [("/hospital", &body.hospital), ("/domain", &body.domain)] {
        if let Err(message) = Code::parse(value) {
            errors.push(FieldError::new(pointer, message));
        }
    }
    if body.hospital == region || body.hospital == SYSTEM_SCOPE {
        errors.push(FieldError::new(
            "/hospital",
            format!("{} is this hub's own region, not a hospital", body.hospital),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    if let Some(link) = app.directory.link(&body.hospital).await? {
        return Err(ApiError::Conflict(format!(
            "/hospital: {} is linked already, through domain {} (sequence {})",
            link.hospital, link.domain, link.seq
        )));
    }
    if let Some(other) = app
        .directory
        .links()?
        .into_iter()
        .find(|l| l.domain == body.domain)
    {
        return Err(ApiError::Conflict(format!(
            "/domain: {} is the domain of {}'s link already (sequence {})",
            other.domain, other.hospital, other.seq
        )));
    }
    // The hospital's own Lantern must answer in that domain and know the
    // hospital: a link to nothing would be a source that never delivers.
    let registration = lantern_ledger::subject(
        &body.hospital,
        AggregateKind::Org,
        ids::hospital(&body.hospital),
    )?;
    match app.ledger.probe_domain(&body.domain, &registration).await? {
        Remote::NoAnswer(why) => {
            return Err(ApiError::field(
                "/domain",
                format!(
                    "no JetStream domain {} answers here ({why}): is the hospital's nats-server \
                     connected to this hub as a leaf node, with `domain: {}`?",
                    body.domain, body.domain
                ),
            ));
        }
        Remote::NoStream => {
            return Err(ApiError::field(
                "/domain",
                format!(
                    "domain {} answers but has no stream LANTERN: start the hospital's Lantern \
                     (LANTERN_TIER=hospital) first",
                    body.domain
                ),
            ));
        }
        Remote::Missing => {
            return Err(ApiError::field(
                "/hospital",
                format!(
                    "the Lantern of domain {} has not registered hospital {}: register it there first",
                    body.domain, body.hospital
                ),
            ));
        }
        Remote::Found(_) => {}
    }
    let event = new_event(
        &org::HospitalLinked {
            hospital: body.hospital.clone(),
            domain: body.domain.clone(),
        },
        ids::link(&body.hospital),
        region.clone(),
    );
    let committed = app
        .append(event, Expect::New, idem.as_deref())
        .await
        .map_err(|e| match e {
            AppendError::Conflict(_) => {
                ApiError::Conflict(format!("/hospital: {} is linked already", body.hospital))
            }
            other => other.into(),
        })?;
    let record = LinkRecord {
        hospital: body.hospital,
        domain: body.domain,
        region,
        seq: committed.seq,
    };
    app.source_links(&record).await?;
    Ok(created(linked(record)))
}

fn linked(record: LinkRecord) -> Linked {
    Linked {
        source: lantern_ledger::stream::describe_source(&hospital_source(
            &record.hospital,
            &record.domain,
        )),
        seq: record.seq,
        hospital: record.hospital,
        domain: record.domain,
    }
}
