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

    /// Resolves a bearer token to a principal. A stored token whose scope
    /// does not fit its role (an officer without a hospital) grants nothing.
    pub async fn principal(&self, token: &str) -> Result<Principal, ApiError> {
        if !self.admin_token.is_empty() && constant_time_eq(token, &self.admin_token) {
            return Ok(Principal::Admin);
        }
        self.principal_of_hash(&sha256_hex(token.as_bytes())).await
    }

    /// Resolves an issued token known only by its hash (what a staff
    /// session keeps, never the token): a revoked or unknown one is a 401.
    /// Never the admin token, which is not issued.
    pub async fn principal_of_hash(&self, token_hash: &str) -> Result<Principal, ApiError> {
        self.directory
            .token(token_hash)
            .await?
            .filter(|r| !r.revoked)
            .and_then(|r| Principal::scoped(r.role, r.hospital, r.region))
            .ok_or(ApiError::Unauthorized)
    }
}

/// An authenticated member of staff: a role with the scope it acts in, so
/// that an officer without a hospital or a QC centre without a region
/// cannot be represented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Configuration: hospitals, departments, tokens, targets. Reads no
    /// hospital's data.
    Admin,
    /// A QC centre supervising a region and every region below it.
    QcCentre {
        /// The region's code.
        region: String,
    },
    /// A hospital's safety officer.
    SafetyOfficer {
        /// The hospital's code.
        hospital: String,
    },
    /// A hospital's laboratory or imaging system.
    Lis {
        /// The hospital's code.
        hospital: String,
    },
    /// A hospital's information system.
    His {
        /// The hospital's code.
        hospital: String,
    },
}

impl Principal {
    /// The principal of a stored token's role and scopes, or `None` when the
    /// scope does not fit the role or the role is admin (the schema of
    /// `org.token_issued` forbids both; one that slipped through grants
    /// nothing, and the admin token lives only in configuration).
    pub fn scoped(
        role: Role,
        hospital: Option<String>,
        region: Option<String>,
    ) -> Option<Principal> {
        match (role, hospital, region) {
            (Role::QcCentre, None, Some(region)) => Some(Principal::QcCentre { region }),
            (Role::SafetyOfficer, Some(hospital), None) => {
                Some(Principal::SafetyOfficer { hospital })
            }
            (Role::Lis, Some(hospital), None) => Some(Principal::Lis { hospital }),
            (Role::His, Some(hospital), None) => Some(Principal::His { hospital }),
            _ => None,
        }
    }

    /// What the principal may do.
    pub fn role(&self) -> Role {
        match self {
            Principal::Admin => Role::Admin,
            Principal::QcCentre { .. } => Role::QcCentre,
            Principal::SafetyOfficer { .. } => Role::SafetyOfficer,
            Principal::Lis { .. } => Role::Lis,
            Principal::His { .. } => Role::His,
        }
    }

    /// The hospital a hospital's principal acts for.
    pub fn hospital(&self) -> Option<&str> {
        match self {
            Principal::SafetyOfficer { hospital }
            | Principal::Lis { hospital }
            | Principal::His { hospital } => Some(hospital),
            Principal::Admin | Principal::QcCentre { .. } => None,
        }
    }

    /// The region a QC centre supervises.
    pub fn region(&self) -> Option<&str> {
        match self {
            Principal::QcCentre { region } => Some(region),
            _ => None,
        }
    }

    /// 403 unless the role is one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        let role = self.role();
        if roles.contains(&role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "a {} token cannot do this",
                role.as_str()
            )))
        }
    }

    /// The hospital a principal with one of `roles` acts for; 403 for
    /// another role or one without a hospital.
    pub fn require_hospital(&self, roles: &[Role]) -> Result<&str, ApiError> {
        self.require(roles)?;
        self.hospital().ok_or_else(|| {
            ApiError::Forbidden(format!(
                "a {} token acts for no hospital",
                self.role().as_str()
            ))
        })
    }

    /// The region a QC centre supervises; 403 for any other principal.
    pub fn require_qc_region(&self) -> Result<&str, ApiError> {
        self.require(&[Role::QcCentre])?;
        self.region()
            .ok_or_else(|| ApiError::Forbidden("this token supervises no region".into()))
    }

    /// Whether this principal may read the hospital's data.
    pub fn can_read(&self, hospital: &HospitalRecord) -> bool {
        match self {
            Principal::SafetyOfficer { hospital: own }
            | Principal::Lis { hospital: own }
            | Principal::His { hospital: own } => *own == hospital.code,
            // A QC centre supervises its region and every region below it.
            Principal::QcCentre { region } => hospital.in_region(region),
            Principal::Admin => false,
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
        let supervised = match self.region() {
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
        !matches!(self, Principal::QcCentre { .. })
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
        let so = Principal::SafetyOfficer {
            hospital: "H1".into(),
        };
        let qc = Principal::QcCentre {
            region: "R1".into(),
        };
        let admin = Principal::Admin;
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
        let province = Principal::QcCentre { region: "P".into() };
        let county_qc = Principal::QcCentre {
            region: "K1".into(),
        };
        assert!(province.can_read(&county) && county_qc.can_read(&county));
        assert!(!province.can_read(&h1) && !county_qc.can_read(&h1));
    }

    #[test]
    fn a_stored_token_whose_scope_does_not_fit_its_role_or_is_admin_grants_nothing() {
        let h = || Some("H1".to_owned());
        let r = || Some("R1".to_owned());
        assert_eq!(
            Principal::scoped(Role::SafetyOfficer, h(), None),
            Some(Principal::SafetyOfficer {
                hospital: "H1".into()
            })
        );
        assert_eq!(
            Principal::scoped(Role::QcCentre, None, r()),
            Some(Principal::QcCentre {
                region: "R1".into()
            })
        );
        for (role, hospital, region) in [
            (Role::SafetyOfficer, None, None),
            (Role::SafetyOfficer, None, r()),
            (Role::SafetyOfficer, h(), r()),
            (Role::Lis, None, None),
            (Role::His, None, r()),
            (Role::QcCentre, None, None),
            (Role::QcCentre, h(), None),
            (Role::QcCentre, h(), r()),
            (Role::Admin, None, None),
            (Role::Admin, h(), None),
            (Role::Admin, None, r()),
        ] {
            assert_eq!(Principal::scoped(role, hospital, region), None, "{role:?}");
        }
    }
}
