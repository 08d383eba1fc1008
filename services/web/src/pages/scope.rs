//! Whose records a page shows and in which time zone: the signed-in
//! officer's own hospital, its wall clock, the period of months a page
//! covers. Shared by every workspace, so no page borrows from another.

use chrono::Utc;
use lantern_api::ApiError;
use lantern_directory::HospitalRecord;
use lantern_domain::Month;
use lantern_domain::vocab::Role;

use super::month_param;
use crate::Web;
use crate::error::WebError;
use crate::session::Staff;

/// The zone wall-clock times are read in when a hospital's is not known:
/// every hospital in the directory is in China.
pub const DEFAULT_ZONE: &str = "Asia/Shanghai";

/// The officer's own hospital, with role and scope checked as the API does.
pub async fn own_hospital(web: &Web, staff: &Staff) -> Result<HospitalRecord, WebError> {
    let p = &staff.principal;
    p.require(&[Role::SafetyOfficer])?;
    let code = p.hospital().unwrap_or_default();
    let hospital = web
        .intake
        .directory
        .hospital(code)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no hospital {code}")))?;
    p.require_in(&[Role::SafetyOfficer], &hospital)?;
    Ok(hospital)
}

/// This month in `tz` (months are counted in the hospital's time zone).
pub fn this_month(tz: &str) -> Month {
    let tz = lantern_domain::zone::zone(Some(tz));
    Month::of(Utc::now().with_timezone(&tz).date_naive())
}

/// `from`/`to` from the query, defaulting to the last 12 months.
pub fn period(
    from: &Option<String>,
    to: &Option<String>,
    tz: &str,
) -> Result<(Month, Month), WebError> {
    let to = month_param("/to", to)?.unwrap_or_else(|| this_month(tz));
    let from = month_param("/from", from)?.unwrap_or_else(|| (0..11).fold(to, |m, _| m.prev()));
    if from > to {
        // As the API says it: a period the other way round is a mistake,
        // not something to guess at.
        return Err(ApiError::field("/to", "is before from").into());
    }
    Ok((from, to))
}

/// The time zone of `hospital`'s wall clock, for showing and reading
/// times of its records.
pub async fn hospital_zone(web: &Web, hospital: &str) -> Result<String, WebError> {
    Ok(web
        .intake
        .directory
        .hospital(hospital)
        .await?
        .map(|h| h.timezone)
        .unwrap_or_else(|| DEFAULT_ZONE.to_owned()))
}

/// The signed-in member of staff's hospital's time zone, for reading the
/// times typed into a form; the API checks the times themselves, so a
/// directory that cannot answer falls back instead of failing the post.
pub async fn staff_zone(web: &Web, staff: &Staff) -> String {
    match staff.principal.hospital() {
        Some(code) => match web.intake.directory.hospital(code).await {
            Ok(Some(h)) => h.timezone,
            _ => DEFAULT_ZONE.to_owned(),
        },
        None => DEFAULT_ZONE.to_owned(),
    }
}
