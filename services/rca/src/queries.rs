//! Queries on the rca read model: case files (with read-your-writes on a
//! miss), a hospital's cases, the queue of reports needing an analysis, the
//! meeting-pack figures, and the state a step is decided on.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use lantern_domain::Month;
use lantern_domain::zone::zone;
use lantern_ledger::{AggregateKind, Ledger};
use lantern_projection::{Handle, ProjectionError, Tx};
use uuid::Uuid;

use crate::error::RcaError;
use crate::figures::{self, RcaFigures};
use crate::projector::{
    CaseRecord, ReportInfo, case_key, hospital_prefix, queue_prefix, report_key, zone_key,
};
use crate::views::RequiredRow;

/// How long a lookup waits for the read model to reach the stream.
const CATCH_UP: Duration = Duration::from_secs(5);

/// A serious report is overdue for an analysis from the start of this
/// calendar day after its filing day (in the hospital's zone).
pub const REQUIRED_WITHIN_DAYS: u64 = 3;

/// Whether a serious report filed on `filed_on` still without an analysis
/// is overdue for one on `today` (both in the hospital's zone): from the
/// start of the third calendar day after the filing day — at least 72
/// hours. A deadline to the day, so the moment it flips tells nothing of
/// when the report was filed (DESIGN "Anonymity rules").
pub fn required_overdue(filed_on: NaiveDate, today: NaiveDate) -> bool {
    filed_on
        .checked_add_days(chrono::Days::new(REQUIRED_WITHIN_DAYS))
        .is_some_and(|due| today >= due)
}

/// The rca read model.
#[derive(Clone)]
pub struct Cases {
    handle: Handle,
    ledger: Ledger,
}

impl Cases {
    /// Queries over a running rca projector.
    pub fn new(handle: Handle, ledger: Ledger) -> Cases {
        Cases { handle, ledger }
    }

    /// The projector handle (for `?after=` and readiness).
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    fn tx(&self) -> Tx<'_> {
        Tx::new(self.handle.db())
    }

    /// Waits until `seq` is applied, else 503.
    async fn reach(&self, seq: u64) -> Result<(), RcaError> {
        if self.handle.applied() < seq && !self.handle.wait_for(seq, CATCH_UP).await {
            return Err(RcaError::NotCaughtUp(seq));
        }
        Ok(())
    }

    /// The analysis `id` as a supervisor reads it on `today` (state, root
    /// causes, actions, lessons); `None` if there is none.
    pub fn link(&self, id: Uuid, today: NaiveDate) -> Option<crate::views::RcaLink> {
        let record = self.record(id).ok().flatten()?;
        Some(crate::views::RcaLink::of(&record, today))
    }

    /// A case file as committed.
    pub fn record(&self, id: Uuid) -> Result<Option<CaseRecord>, RcaError> {
        Ok(self.tx().get_json(&case_key(id))?)
    }

    /// A case file; on a miss, waits (bounded) until the read model has
    /// everything in the stream and looks again, so a case opened a moment
    /// ago is found.
    pub async fn record_fresh(&self, id: Uuid) -> Result<Option<CaseRecord>, RcaError> {
        if let Some(r) = self.record(id)? {
            return Ok(Some(r));
        }
        self.reach(self.ledger.last_sequence().await?).await?;
        self.record(id)
    }

    /// The case as it stands at its subject's last event: what a step is
    /// decided on. The returned `last_seq` is the sequence the step's append
    /// must expect; if the case moved on after the look-up, the read model's
    /// later state and sequence are returned together, never mixed.
    pub async fn current(&self, hospital: &str, id: Uuid) -> Result<CaseRecord, RcaError> {
        let last = self
            .ledger
            .last_of(hospital, AggregateKind::Rca, id)
            .await?
            .ok_or(RcaError::NotFound)?;
        self.reach(last.seq).await?;
        self.record(id)?.ok_or(RcaError::NotFound)
    }

    /// A report as the read model keeps it.
    pub fn report(&self, id: Uuid) -> Result<Option<ReportInfo>, RcaError> {
        Ok(self.tx().get_json(&report_key(id))?)
    }

    /// The hospital's time zone (Asia/Shanghai if unknown).
    pub fn zone(&self, hospital: &str) -> Result<Tz, RcaError> {
        let name: Option<String> = self.tx().get_json(&zone_key(hospital))?;
        Ok(zone(name.as_deref()))
    }

    /// The day `now` falls on in the hospital's time zone.
    pub fn today(&self, hospital: &str, now: DateTime<Utc>) -> Result<NaiveDate, RcaError> {
        Ok(now.with_timezone(&self.zone(hospital)?).date_naive())
    }

    /// Every case of a hospital, in opening order.
    pub fn cases_of(&self, hospital: &str) -> Result<Vec<CaseRecord>, RcaError> {
        let tx = self.tx();
        let mut out = Vec::new();
        for item in self.handle.db().scan_prefix(hospital_prefix(hospital)) {
            let (key, value) = item.map_err(ProjectionError::from)?;
            let id: Uuid = lantern_projection::from_json(&key, &value)?;
            if let Some(r) = tx.get_json(&case_key(id))? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// The hospital's grade I and II reports (as they stand) with no
    /// analysis, oldest first; overdue from the third day after filing.
    pub fn required(
        &self,
        hospital: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<RequiredRow>, RcaError> {
        let today = self.today(hospital, now)?;
        let mut rows = Vec::new();
        for item in self.handle.db().scan_prefix(queue_prefix(hospital)) {
            let (key, value) = item.map_err(ProjectionError::from)?;
            let id: Uuid = lantern_projection::from_json(&key, &value)?;
            if let Some(r) = self.report(id)? {
                rows.push(RequiredRow {
                    report_id: r.report_id,
                    reference: lantern_domain::ids::short_ref(r.report_id),
                    grade: r.grade,
                    filed_on: r.filed_on,
                    overdue: required_overdue(r.filed_on, today),
                });
            }
        }
        Ok(rows)
    }

    /// The meeting pack's figures of a hospital for a month, `today` being
    /// the day in the hospital's time zone (see [`Cases::today`]). What a
    /// monthly dispatch pack calls.
    pub fn figures(
        &self,
        hospital: &str,
        month: Month,
        today: NaiveDate,
    ) -> Result<RcaFigures, RcaError> {
        let cases = self.cases_of(hospital)?;
        Ok(figures::compute(
            cases.iter().map(|r| &r.case),
            month,
            today,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serious_report_is_overdue_from_the_third_day_after_its_filing_day() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let filed = day("2026-03-01");
        assert!(!required_overdue(filed, day("2026-03-01")));
        assert!(
            !required_overdue(filed, day("2026-03-03")),
            "the whole third day is in time"
        );
        assert!(required_overdue(filed, day("2026-03-04")));
        assert!(required_overdue(filed, day("2026-04-01")));
    }
}
