//! Staff authentication: `Authorization: Bearer <token>`, a role and a scope.
//!
//! Only token hashes are stored (in `org.token_issued` events and the
//! directory). The admin token comes from configuration and is compared in
//! constant time. Missing or unknown token: 401; valid but out of scope: 403.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::{header, request::Parts};

use crate::error::ApiError;
use crate::secrets::{constant_time_eq, sha256_hex};
use lantern_directory::{Directory, HospitalRecord};
use lantern_domain::vocab::Role;

/// What authentication needs: the directory and the admin token.
#[derive(Clone)]
pub struct Auth {
    directory: Directory,
    admin_token: Arc<String>,
}

impl Auth {
    /// Authentication against `directory`, with the configured admin token.
    pub fn new(directory: Directory, admin_token: String) -> Auth {
        Auth {
            directory,
            admin_token: Arc::new(admin_token),
        }
    }

    /// The directory tokens are checked against; the contexts read
    /// hospitals and targets through it.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Resolves a bearer token to a principal.
    pub async fn principal(&self, token: &str) -> Result<Principal, ApiError> {
        if !self.admin_token.is_empty() && constant_time_eq(token, &self.admin_token) {
            return Ok(Principal {
                role: Role::Admin,
                hospital: None,
                region: None,
            });
        }
        let record = self
            .directory
            .token(&sha256_hex(token.as_bytes()))
            .await?
            .filter(|r| !r.revoked)
            .ok_or(ApiError::Unauthorized)?;
        Ok(Principal {
            role: record.role,
            hospital: record.hospital,
            region: record.region,
        })
    }
}

/// An authenticated member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// What the token may do.
    pub role: Role,
    /// Hospital scope (safety_officer, lis, his).
    pub hospital: Option<String>,
    /// Region scope (qc_centre).
    pub region: Option<String>,
}

impl Principal {
    /// 403 unless the role is one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "a {} token cannot do this",
                self.role.as_str()
            )))
        }
    }

    /// Whether this principal may read the hospital's data.
    pub fn can_read(&self, hospital: &HospitalRecord) -> bool {
        match self.role {
            Role::SafetyOfficer | Role::Lis | Role::His => {
                self.hospital.as_deref() == Some(hospital.code.as_str())
            }
            // A QC centre supervises its region and every region below it.
            Role::QcCentre => self
                .region
                .as_deref()
                .is_some_and(|r| hospital.in_region(r)),
            Role::Admin => false,
        }
    }

    /// 403 unless the principal has one of `roles` and the hospital in scope.
    pub fn require_in(&self, roles: &[Role], hospital: &HospitalRecord) -> Result<(), ApiError> {
        self.require(roles)?;
        if self.can_read(hospital) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this token's scope does not include hospital {}",
                hospital.code
            )))
        }
    }

    /// 403 unless this principal is a QC centre supervising `region`: its
    /// own region or one below it in the directory's hierarchy.
    pub fn require_region(&self, directory: &Directory, region: &str) -> Result<(), ApiError> {
        self.require(&[Role::QcCentre])?;
        let supervised = match self.region.as_deref() {
            Some(own) => directory.within(region, own)?,
            None => false,
        };
        if supervised {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this token's scope does not include region {region}"
            )))
        }
    }

    /// Whether this principal reads narratives (descriptions, defects'
    /// text, follow-ups): everyone in scope but a QC centre, which sees
    /// what the hospital wrote to be shared (DESIGN "Anonymity rules").
    pub fn reads_narratives(&self) -> bool {
        self.role != Role::QcCentre
    }
}

impl<S> FromRequestParts<S> for Principal
where
    Auth: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        Auth::from_ref(state).principal(token).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn hospital(code: &str, region: &str) -> HospitalRecord {
        HospitalRecord {
            code: code.into(),
            name: code.into(),
            region: region.into(),
            level: "tertiary".into(),
            timezone: "Asia/Shanghai".into(),
            departments: BTreeMap::new(),
            parents: vec![],
        }
    }

    #[test]
    fn scopes() {
        let so = Principal {
            role: Role::SafetyOfficer,
            hospital: Some("H1".into()),
            region: None,
        };
        let qc = Principal {
            role: Role::QcCentre,
            hospital: None,
            region: Some("R1".into()),
        };
        let admin = Principal {
            role: Role::Admin,
            hospital: None,
            region: None,
        };
        let h1 = hospital("H1", "R1");
        let h2 = hospital("H2", "R2");
        assert!(so.can_read(&h1) && !so.can_read(&h2));
        assert!(qc.can_read(&h1) && !qc.can_read(&h2));
        assert!(
            !admin.can_read(&h1),
            "admin configures, never reads reports"
        );
        assert!(so.require_in(&[Role::SafetyOfficer], &h2).is_err());
        assert!(qc.require(&[Role::SafetyOfficer]).is_err());
        assert!(!qc.reads_narratives() && so.reads_narratives());
        // A province's QC centre supervises a county hospital below it; the
        // county's does not supervise the province's other hospitals.
        let county = HospitalRecord {
            parents: vec!["C1".into(), "P".into()],
            ..hospital("H3", "K1")
        };
        let province = Principal {
            region: Some("P".into()),
            ..qc.clone()
        };
        let county_qc = Principal {
            region: Some("K1".into()),
            ..qc.clone()
        };
        assert!(province.can_read(&county) && county_qc.can_read(&county));
        assert!(!province.can_read(&h1) && !county_qc.can_read(&h1));
    }
}
