//! The critical values' query facade, [`CriticalValues`], and the
//! worklist's items.

use chrono::{DateTime, Utc};
use lantern_projection::{Handle, ProjectionError, Tx};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::projector::{catalogue_key, limits_key, open_prefix, value_key};
use super::rules::*;
use lantern_api::error::ApiError;
use lantern_domain::critical::catalogue::{Catalogue, CatalogueHistory};
use lantern_domain::critical::{LimitsHistory, within};

/// Where an open critical value waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Not yet notified to the clinical unit.
    AwaitingNotification,
    /// Notified, not yet handled.
    AwaitingHandling,
}

/// A worklist row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenItem {
    /// The critical value.
    #[serde(flatten)]
    pub critical_value: CriticalValue,
    /// What it waits for.
    pub stage: Stage,
    /// Minutes waited so far in this stage.
    pub waited_minutes: i64,
    /// The limit of this stage.
    pub limit_minutes: u32,
    /// Past its limit, now.
    pub overdue: bool,
}

/// Where an open loop stands at `now` (computed at read time, never by a timer).
pub fn open_item(cv: CriticalValue, now: DateTime<Utc>) -> OpenItem {
    let (stage, since, limit) = match &cv.notified {
        None => (
            Stage::AwaitingNotification,
            cv.detected_at,
            cv.limits.notification_limit_minutes,
        ),
        Some(n) => (
            Stage::AwaitingHandling,
            n.notified_at,
            cv.limits.handling_limit_minutes,
        ),
    };
    let now = now.fixed_offset();
    OpenItem {
        waited_minutes: (now - since).num_minutes().max(0),
        overdue: !within(since, now, limit),
        limit_minutes: limit,
        stage,
        critical_value: cv,
    }
}

/// Queries on the critical-values read model.
#[derive(Clone)]
pub struct CriticalValues {
    handle: Handle,
}

impl CriticalValues {
    /// Queries over a running projector.
    pub fn new(handle: Handle) -> CriticalValues {
        CriticalValues { handle }
    }

    /// The projector handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// One critical value.
    pub fn get(&self, id: Uuid) -> Result<Option<CriticalValue>, ApiError> {
        Ok(Tx::new(self.handle.db()).get_stored(&value_key(id))?)
    }

    /// A hospital's limits history.
    pub fn limits(&self, hospital: &str) -> Result<LimitsHistory, ApiError> {
        Ok(Tx::new(self.handle.db())
            .get_json(&limits_key(hospital))?
            .unwrap_or_default())
    }

    /// Every set of a hospital's critical-value catalogue, in the order
    /// they were made.
    pub fn catalogue_history(&self, hospital: &str) -> Result<CatalogueHistory, ApiError> {
        Ok(Tx::new(self.handle.db())
            .get_json(&catalogue_key(hospital))?
            .unwrap_or_default())
    }

    /// A hospital's critical-value catalogue as it held at `at`: what the
    /// feeds recognise a result detected then by.
    pub fn catalogue(&self, hospital: &str, at: DateTime<Utc>) -> Result<Catalogue, ApiError> {
        Ok(self.catalogue_history(hospital)?.at(at))
    }

    /// A hospital's loops not yet handled, longest waiting first.
    pub fn open(&self, hospital: &str, now: DateTime<Utc>) -> Result<Vec<OpenItem>, ApiError> {
        let tx = Tx::new(self.handle.db());
        let mut out = Vec::new();
        for item in self.handle.db().scan_prefix(open_prefix(hospital)) {
            let (k, _) = item.map_err(ProjectionError::from)?;
            let id = String::from_utf8_lossy(&k[open_prefix(hospital).len()..]).parse::<Uuid>();
            if let Ok(id) = id
                && let Some(cv) = tx.get_stored::<CriticalValue>(&value_key(id))?
            {
                out.push(open_item(cv, now));
            }
        }
        out.sort_by_key(|i| std::cmp::Reverse(i.waited_minutes));
        Ok(out)
    }
}
