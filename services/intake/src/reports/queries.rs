//! The reports' query facade, [`Reports`]: what other contexts and the
//! staff web read, never the sled handle or the projector's keys.

use std::time::Duration;

use lantern_ledger::Ledger;
use lantern_projection::{Handle, ProjectionError, Stored, Tx};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::projector::{listing_key, read_report, receipt_key, report_key};
use super::record::{Listing, Report, ReportRecord};
use lantern_api::error::ApiError;
use lantern_domain::events::{Payload, report};
/// A page of reports.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportPage {
    /// The reports, newest first.
    pub rows: Vec<Report>,
    /// Page number, from 1.
    pub page: usize,
    /// Page size.
    pub per_page: usize,
    /// Reports in the whole range.
    pub total: usize,
}

/// Queries on the reports read model.
#[derive(Clone)]
pub struct Reports {
    handle: Handle,
    ledger: Ledger,
}

impl Reports {
    /// Queries over a running projector.
    pub fn new(handle: Handle, ledger: Ledger) -> Reports {
        Reports { handle, ledger }
    }

    /// The projector handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    fn tx(&self) -> Tx<'_> {
        Tx::new(self.handle.db())
    }

    /// Waits (bounded) until everything in the stream is applied.
    async fn catch_up(&self) -> Result<(), ApiError> {
        let last = self.ledger.last_sequence().await?;
        if self.handle.applied() < last && !self.handle.wait_for(last, Duration::from_secs(5)).await
        {
            return Err(ApiError::NotCaughtUp(last));
        }
        Ok(())
    }

    /// A report by id with its description (waiting for the read model on
    /// a miss).
    pub async fn report(&self, id: Uuid) -> Result<Option<Report>, ApiError> {
        match self.record(id).await? {
            Some(record) => Ok(self.describe(vec![record]).await?.pop()),
            None => Ok(None),
        }
    }

    /// What the read model keeps of a report (waiting for it on a miss).
    pub async fn record(&self, id: Uuid) -> Result<Option<ReportRecord>, ApiError> {
        if let Some(r) = read_report(&self.tx(), id)? {
            return Ok(Some(r));
        }
        self.catch_up().await?;
        Ok(read_report(&self.tx(), id)?)
    }

    /// The report behind a receipt hash (waiting for the read model on a miss).
    pub async fn by_receipt(&self, receipt_hash: &str) -> Result<Option<ReportRecord>, ApiError> {
        let find = || -> Result<Option<ReportRecord>, ApiError> {
            let tx = self.tx();
            match tx.get_json::<Uuid>(&receipt_key(receipt_hash))? {
                Some(id) => Ok(read_report(&tx, id)?),
                None => Ok(None),
            }
        };
        if let Some(r) = find()? {
            return Ok(Some(r));
        }
        self.catch_up().await?;
        find()
    }

    /// A hospital's reports filed in months `from..=to` (YYYY-MM), newest
    /// first, without their descriptions.
    pub fn records(
        &self,
        hospital: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<ReportRecord>, ApiError> {
        self.read_records(self.filed(hospital, from, to)?)
    }

    /// The ids of a hospital's reports filed in months `from..=to`, newest
    /// first.
    fn filed(&self, hospital: &str, from: &str, to: &str) -> Result<Vec<Uuid>, ApiError> {
        let mut ids = Vec::new();
        if from > to {
            return Ok(ids);
        }
        let months = listing_key(hospital, from)..=listing_key(hospital, to);
        for item in self.handle.db().range(months).rev() {
            let (k, v) = item.map_err(ProjectionError::from)?;
            ids.extend(Listing::decode(&k, &v)?.ids.into_iter().rev());
        }
        Ok(ids)
    }

    /// The records of reports a listing names.
    fn read_records(&self, ids: Vec<Uuid>) -> Result<Vec<ReportRecord>, ApiError> {
        let tx = self.tx();
        ids.into_iter()
            .map(|id| {
                read_report(&tx, id)?.ok_or_else(|| {
                    ApiError::from(ProjectionError::Corrupt {
                        key: String::from_utf8_lossy(&report_key(id)).into_owned(),
                        message: "a listed report has no record".into(),
                    })
                })
            })
            .collect()
    }

    /// Page `page` of a hospital's reports filed in months `from..=to`,
    /// newest first, with their descriptions.
    pub async fn page(
        &self,
        hospital: &str,
        from: &str,
        to: &str,
        page: usize,
        per_page: usize,
    ) -> Result<ReportPage, ApiError> {
        let all = self.filed(hospital, from, to)?;
        let total = all.len();
        let shown = all
            .into_iter()
            .skip((page - 1).saturating_mul(per_page))
            .take(per_page)
            .collect();
        Ok(ReportPage {
            rows: self.describe(self.read_records(shown)?).await?,
            page,
            per_page,
            total,
        })
    }

    /// The records with their descriptions, read from their filing events
    /// (JetStream answers a read by sequence from its index; a few are read
    /// at a time).
    pub async fn describe(&self, records: Vec<ReportRecord>) -> Result<Vec<Report>, ApiError> {
        use futures::{StreamExt, TryStreamExt};
        futures::stream::iter(records)
            .map(|record| async move {
                let filed = self.ledger.get(record.filed_seq).await?;
                let e = &filed.envelope;
                if e.aggregate != record.report_id || e.event_type != "report.filed" {
                    return Err(ApiError::internal(format!(
                        "sequence {} is not the filing of report {}",
                        record.filed_seq, record.report_id
                    )));
                }
                let report::Filed { description, .. } =
                    report::Filed::read(e.version, e.data.as_json()).map_err(|err| {
                        ApiError::internal(format!("filing of report {}: {err}", record.report_id))
                    })?;
                Ok(Report {
                    record,
                    description,
                })
            })
            .buffered(DESCRIBE_AT_ONCE)
            .try_collect()
            .await
    }
}

/// Descriptions read from the stream at the same time.
const DESCRIBE_AT_ONCE: usize = 16;
