//! The directory's query facade: what every other crate asks of it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lantern_domain::targets::reference::ReferenceKind;
use lantern_domain::targets::{Indicator, Target, resolve};
use lantern_ledger::Ledger;
use lantern_projection::{Handle, ProjectionError};

use crate::error::DirectoryError;
use crate::projector::{
    hospital_key, idempotency_key, link_key, references_prefix, region_key, targets_prefix,
    token_key,
};
use crate::records::{
    HospitalRecord, IdempotencyRecord, LinkRecord, ReferenceRecord, RegionRecord, TargetRecord,
    TokenRecord,
};

/// How long an Idempotency-Key holds.
pub const IDEMPOTENCY_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// How long a lookup that found nothing waits for the directory to catch up
/// with the stream before it answers "unknown".
const CATCH_UP: Duration = Duration::from_secs(5);

/// Queries on the directory, with read-your-writes on a miss.
#[derive(Clone)]
pub struct Directory {
    handle: Handle,
    ledger: Ledger,
}

impl Directory {
    /// The directory over a running projector.
    pub fn new(handle: Handle, ledger: Ledger) -> Directory {
        Directory { handle, ledger }
    }

    /// The projector handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    fn get<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, DirectoryError> {
        Ok(lantern_projection::Tx::new(self.handle.db()).get_json(key)?)
    }

    /// Looks `key` up; when it is missing, waits (bounded) until the
    /// directory has applied everything in the stream and looks again, so a
    /// hospital registered a moment ago is found.
    async fn get_fresh<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
    ) -> Result<Option<T>, DirectoryError> {
        if let Some(found) = self.get(key)? {
            return Ok(Some(found));
        }
        let last = self.ledger.last_sequence().await?;
        if self.handle.applied() < last && !self.handle.wait_for(last, CATCH_UP).await {
            return Err(DirectoryError::NotCaughtUp(last));
        }
        self.get(key)
    }

    /// A hospital by code.
    pub async fn hospital(&self, code: &str) -> Result<Option<HospitalRecord>, DirectoryError> {
        let found = self.get_fresh(&hospital_key(code)).await?;
        found.map(|h| self.placed(h)).transpose()
    }

    /// A region by code.
    pub async fn region(&self, code: &str) -> Result<Option<RegionRecord>, DirectoryError> {
        self.get_fresh(&region_key(code)).await
    }

    /// Every registered region, by code.
    pub fn regions(&self) -> Result<Vec<RegionRecord>, DirectoryError> {
        let mut out = Vec::new();
        for item in self.handle.db().scan_prefix(b"r/") {
            let (k, v) = item.map_err(ProjectionError::from)?;
            out.push(lantern_projection::from_json(&k, &v)?);
        }
        Ok(out)
    }

    /// The regions above `code`, nearest first. A registry that loops
    /// (A under B under A, by two registrations) stops at the first
    /// repeat: a loop cannot hang a request.
    pub fn parents_of(&self, code: &str) -> Result<Vec<String>, DirectoryError> {
        let mut out: Vec<String> = Vec::new();
        let mut at = code.to_owned();
        while let Some(r) = self.get::<RegionRecord>(&region_key(&at))? {
            match r.parent {
                Some(p) if p != code && !out.contains(&p) => {
                    out.push(p.clone());
                    at = p;
                }
                _ => break,
            }
        }
        Ok(out)
    }

    /// Whether `region` is `ancestor` or lies below it.
    pub fn within(&self, region: &str, ancestor: &str) -> Result<bool, DirectoryError> {
        Ok(region == ancestor || self.parents_of(region)?.iter().any(|p| p == ancestor))
    }

    /// The hospital with the regions above its region filled in.
    fn placed(&self, mut h: HospitalRecord) -> Result<HospitalRecord, DirectoryError> {
        h.parents = self.parents_of(&h.region)?;
        Ok(h)
    }

    /// A hospital whose department list includes `department`, waiting for the
    /// directory to catch up if either is not known yet.
    pub async fn hospital_with_department(
        &self,
        code: &str,
        department: &str,
    ) -> Result<Option<HospitalRecord>, DirectoryError> {
        let key = hospital_key(code);
        if let Some(h) = self.get::<HospitalRecord>(&key)?
            && h.departments.contains_key(department)
        {
            return Ok(Some(h));
        }
        let last = self.ledger.last_sequence().await?;
        if self.handle.applied() < last && !self.handle.wait_for(last, CATCH_UP).await {
            return Err(DirectoryError::NotCaughtUp(last));
        }
        self.get(&key)
    }

    /// Every registered hospital, by code.
    pub fn hospitals(&self) -> Result<Vec<HospitalRecord>, DirectoryError> {
        let mut out = Vec::new();
        for item in self.handle.db().scan_prefix(b"h/") {
            let (k, v) = item.map_err(ProjectionError::from)?;
            out.push(self.placed(lantern_projection::from_json(&k, &v)?)?);
        }
        Ok(out)
    }

    /// The hospitals of `region` and of every region below it.
    pub fn hospitals_in(&self, region: &str) -> Result<Vec<HospitalRecord>, DirectoryError> {
        Ok(self
            .hospitals()?
            .into_iter()
            .filter(|h| h.in_region(region))
            .collect())
    }

    /// A token by hash. A token issued under the subject of a hospital
    /// linked to this hub is none: it came from the hospital's own stream
    /// (sourced with the rest of its events), and the hospital's staff sign
    /// in at their hospital's Lantern, never at the hub (DESIGN
    /// "Deployment tiers").
    pub async fn token(&self, hash: &str) -> Result<Option<TokenRecord>, DirectoryError> {
        let Some(token) = self.get_fresh::<TokenRecord>(&token_key(hash)).await? else {
            return Ok(None);
        };
        match &token.issued_under {
            Some(code) if self.get::<LinkRecord>(&link_key(code))?.is_some() => Ok(None),
            _ => Ok(Some(token)),
        }
    }

    /// The link of a hospital to this hub, if it is linked; waits for the
    /// directory to catch up when it is not known yet, so that a hospital
    /// linked a moment ago is found.
    pub async fn link(&self, hospital: &str) -> Result<Option<LinkRecord>, DirectoryError> {
        self.get_fresh(&link_key(hospital)).await
    }

    /// Every hospital linked to this hub, by code.
    pub fn links(&self) -> Result<Vec<LinkRecord>, DirectoryError> {
        let mut out = Vec::new();
        for item in self.handle.db().scan_prefix(b"l/") {
            let (k, v) = item.map_err(ProjectionError::from)?;
            out.push(lantern_projection::from_json(&k, &v)?);
        }
        Ok(out)
    }

    /// Every token hash starting with `prefix`.
    pub fn token_hashes_with_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, TokenRecord)>, DirectoryError> {
        let mut out = Vec::new();
        for item in self.handle.db().scan_prefix(token_key(prefix)) {
            let (k, v) = item.map_err(ProjectionError::from)?;
            let hash = String::from_utf8_lossy(&k[2..]).into_owned();
            if let Ok(record) = serde_json::from_slice(&v) {
                out.push((hash, record));
            }
        }
        Ok(out)
    }

    /// Every set of the targets of `year`: each target's sets together
    /// (by indicator, scope and code), in the order they were set.
    pub fn target_sets(&self, year: u16) -> Result<Vec<TargetRecord>, DirectoryError> {
        let mut out = Vec::new();
        for item in self.handle.db().scan_prefix(targets_prefix(year)) {
            let (k, v) = item.map_err(ProjectionError::from)?;
            out.push(lantern_projection::from_json(&k, &v)?);
        }
        Ok(out)
    }

    /// The targets of `year` that hold: the latest set of each indicator,
    /// scope and code.
    pub fn targets(&self, year: u16) -> Result<Vec<Target>, DirectoryError> {
        let mut out: Vec<Target> = Vec::new();
        for target in self
            .target_sets(year)?
            .iter()
            .filter_map(TargetRecord::target)
        {
            match out.last_mut() {
                Some(last) if last.indicator == target.indicator && last.scope == target.scope => {
                    *last = target;
                }
                _ => out.push(target),
            }
        }
        Ok(out)
    }

    /// The target of `indicator` that applies in `year` to a figure of
    /// `hospital` (if a hospital's) in `regions` (most specific first):
    /// [`resolve`] over the targets set.
    pub fn applicable(
        &self,
        indicator: Indicator,
        hospital: Option<&str>,
        regions: &[&str],
        year: u16,
    ) -> Result<Option<Target>, DirectoryError> {
        Ok(resolve(
            &self.targets(year)?,
            indicator,
            hospital,
            regions,
            year,
        ))
    }

    /// Every set of the reference values of `year`: each reference's sets
    /// together (by indicator, scope and code), in the order they were set.
    pub fn reference_sets(&self, year: u16) -> Result<Vec<ReferenceRecord>, DirectoryError> {
        let mut out = Vec::new();
        for item in self.handle.db().scan_prefix(references_prefix(year)) {
            let (k, v) = item.map_err(ProjectionError::from)?;
            out.push(lantern_projection::from_json(&k, &v)?);
        }
        Ok(out)
    }

    /// The reference values of `year` a figure of `regions` (a region
    /// chain, most specific first) is compared with: per indicator, in
    /// [`Indicator::ALL`] order, the latest set of each region given that
    /// has one, then the national one's. Unlike a target, no scope hides
    /// another: a report shows its province's mean and the nation's.
    pub fn references(
        &self,
        year: u16,
        regions: &[&str],
    ) -> Result<Vec<ReferenceRecord>, DirectoryError> {
        Ok(latest_references(&self.reference_sets(year)?, regions))
    }

    /// The first use of an Idempotency-Key (by hash) within the window.
    pub fn idempotent(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, DirectoryError> {
        Ok(self
            .get::<IdempotencyRecord>(&idempotency_key(hash))?
            .filter(|r| now - r.at < IDEMPOTENCY_WINDOW))
    }
}

/// Of `sets` (a year's history), the latest of each indicator for each of
/// `regions` in turn and then the nation, per indicator in
/// [`Indicator::ALL`] order.
pub(crate) fn latest_references(
    sets: &[ReferenceRecord],
    regions: &[&str],
) -> Vec<ReferenceRecord> {
    let mut scopes: Vec<(ReferenceKind, Option<&str>)> = Vec::new();
    for r in regions {
        if !scopes.contains(&(ReferenceKind::Region, Some(r))) {
            scopes.push((ReferenceKind::Region, Some(r)));
        }
    }
    scopes.push((ReferenceKind::National, None));
    let mut out = Vec::new();
    for indicator in Indicator::ALL {
        for (kind, code) in &scopes {
            let latest = sets
                .iter()
                .filter(|s| s.indicator == indicator && s.scope == *kind)
                .filter(|s| s.code.as_deref() == *code)
                .max_by_key(|s| s.seq);
            out.extend(latest.cloned());
        }
    }
    out
}
