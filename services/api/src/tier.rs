//! Deployment tiers (DESIGN "Deployment tiers"): one binary, three roles.
//!
//! - `standalone`: one stream holds every hospital and region;
//! - `hospital`: a hospital's own Lantern, on its own nats-server (a leaf
//!   node of its region's hub, JetStream domain = its code in lower case),
//!   whose stream sources what the region's QC centre addresses to it;
//! - `region`: a QC centre's hub, whose stream holds the region's own facts
//!   and sources each linked hospital's events.
//!
//! The tier is read and checked once, at start; a setting that does not
//! fit the tier is refused rather than ignored, because an operator who set
//! `LANTERN_HOSPITAL` and forgot `LANTERN_TIER` would otherwise run a
//! standalone Lantern that accepts every hospital's writes.

use lantern_ledger::Code;

/// Which part a Lantern plays in a region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Tier {
    /// Everything in one stream: the embedded default.
    #[default]
    Standalone,
    /// A hospital's own Lantern.
    Hospital {
        /// The hospital's code.
        hospital: String,
        /// The region whose hub its nats-server is a leaf node of: what
        /// that QC centre addresses to the hospital comes from there.
        region: String,
    },
    /// A QC centre's hub.
    Region {
        /// The region's code.
        region: String,
    },
}

/// Why the tier settings were refused at start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    /// `LANTERN_TIER` names no tier.
    #[error("LANTERN_TIER={0:?} is not a tier: standalone, hospital or region")]
    Unknown(String),
    /// A hospital tier without its hospital.
    #[error(
        "LANTERN_TIER=hospital needs LANTERN_HOSPITAL, the code of the hospital this Lantern belongs to"
    )]
    HospitalMissing,
    /// A hospital tier without the region of its hub.
    #[error(
        "LANTERN_TIER=hospital needs LANTERN_REGION, the code of the region whose hub this hospital's nats-server is a leaf node of (what its QC centre addresses to the hospital comes from there)"
    )]
    HubMissing,
    /// A region tier without its region.
    #[error(
        "LANTERN_TIER=region needs LANTERN_REGION, the code of the region whose QC centre runs this hub"
    )]
    RegionMissing,
    /// A code that could not stand in a subject.
    #[error("{variable}={value:?} is not a code: {reason}")]
    BadCode {
        /// `LANTERN_HOSPITAL` or `LANTERN_REGION`.
        variable: &'static str,
        /// What it was set to.
        value: String,
        /// Why it is no code.
        reason: String,
    },
    /// A setting of another tier: likely a forgotten `LANTERN_TIER`.
    #[error("{variable} is set but LANTERN_TIER is {tier}; {hint}")]
    NotOfThisTier {
        /// The setting.
        variable: &'static str,
        /// The tier configured.
        tier: &'static str,
        /// What to do.
        hint: &'static str,
    },
}

fn code(variable: &'static str, value: &str) -> Result<String, TierError> {
    Code::parse(value)
        .map(|c| c.as_str().to_owned())
        .map_err(|reason| TierError::BadCode {
            variable,
            value: value.to_owned(),
            reason,
        })
}

impl Tier {
    /// The tier of `LANTERN_TIER`, `LANTERN_HOSPITAL` and `LANTERN_REGION`
    /// (empty values read as unset), refusing a code the tier needs but
    /// lacks and a code of another tier.
    pub fn parse(
        tier: &str,
        hospital: Option<&str>,
        region: Option<&str>,
    ) -> Result<Tier, TierError> {
        let hospital = hospital.map(str::trim).filter(|h| !h.is_empty());
        let region = region.map(str::trim).filter(|r| !r.is_empty());
        let not_of = |variable, tier, hint| TierError::NotOfThisTier {
            variable,
            tier,
            hint,
        };
        match tier.trim() {
            "" | "standalone" => match (hospital, region) {
                (None, None) => Ok(Tier::Standalone),
                (Some(_), _) => Err(not_of(
                    "LANTERN_HOSPITAL",
                    "standalone",
                    "set LANTERN_TIER=hospital for a hospital's own Lantern, or unset LANTERN_HOSPITAL",
                )),
                (None, Some(_)) => Err(not_of(
                    "LANTERN_REGION",
                    "standalone",
                    "set LANTERN_TIER=region for a QC centre's hub, or unset LANTERN_REGION",
                )),
            },
            "hospital" => match (hospital, region) {
                (None, _) => Err(TierError::HospitalMissing),
                (Some(_), None) => Err(TierError::HubMissing),
                (Some(h), Some(r)) => Ok(Tier::Hospital {
                    hospital: code("LANTERN_HOSPITAL", h)?,
                    region: code("LANTERN_REGION", r)?,
                }),
            },
            "region" => match (hospital, region) {
                (Some(_), _) => Err(not_of(
                    "LANTERN_HOSPITAL",
                    "region",
                    "a hub belongs to its region; hospitals are linked with POST /api/v1/admin/links",
                )),
                (None, None) => Err(TierError::RegionMissing),
                (None, Some(r)) => Ok(Tier::Region {
                    region: code("LANTERN_REGION", r)?,
                }),
            },
            other => Err(TierError::Unknown(other.to_owned())),
        }
    }

    /// `standalone`, `hospital` or `region`.
    pub fn name(&self) -> &'static str {
        match self {
            Tier::Standalone => "standalone",
            Tier::Hospital { .. } => "hospital",
            Tier::Region { .. } => "region",
        }
    }

    /// The region a hub belongs to (not a hospital's hub: see
    /// [`Tier::hub`]).
    pub fn region(&self) -> Option<&str> {
        match self {
            Tier::Region { region } => Some(region),
            _ => None,
        }
    }

    /// The hospital a hospital's Lantern belongs to.
    pub fn hospital(&self) -> Option<&str> {
        match self {
            Tier::Hospital { hospital, .. } => Some(hospital),
            _ => None,
        }
    }

    /// At a hospital's Lantern, the region whose hub it is linked to.
    pub fn hub(&self) -> Option<&str> {
        match self {
            Tier::Hospital { region, .. } => Some(region),
            _ => None,
        }
    }

    /// The JetStream domain its nats-server is expected to have: the
    /// hospital's or region's code in lower case.
    pub fn domain(&self) -> Option<String> {
        match self {
            Tier::Standalone => None,
            Tier::Hospital { hospital: code, .. } | Tier::Region { region: code } => {
                Some(code.to_ascii_lowercase())
            }
        }
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tier::Standalone => f.write_str("standalone"),
            Tier::Hospital { hospital, region } => {
                write!(f, "hospital {hospital} (hub of region {region})")
            }
            Tier::Region { region } => write!(f, "region {region}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tier_takes_its_own_code_and_no_other() {
        assert_eq!(Tier::parse("standalone", None, None), Ok(Tier::Standalone));
        assert_eq!(Tier::parse("", Some(" "), None), Ok(Tier::Standalone));
        assert_eq!(
            Tier::parse("hospital", Some("H0001"), Some("R01")),
            Ok(Tier::Hospital {
                hospital: "H0001".into(),
                region: "R01".into()
            })
        );
        assert_eq!(
            Tier::parse("hospital", Some("H0001"), None),
            Err(TierError::HubMissing),
            "without its hub's region nothing the QC centre addresses to it would arrive"
        );
        assert_eq!(
            Tier::parse("region", None, Some("R01")),
            Ok(Tier::Region {
                region: "R01".into()
            })
        );
        assert_eq!(
            Tier::parse("hospital", None, None),
            Err(TierError::HospitalMissing)
        );
        assert_eq!(
            Tier::parse("region", None, Some("")),
            Err(TierError::RegionMissing)
        );
        for (tier, h, r, variable) in [
            ("standalone", Some("H0001"), None, "LANTERN_HOSPITAL"),
            ("standalone", None, Some("R01"), "LANTERN_REGION"),
            ("region", Some("H0001"), Some("R01"), "LANTERN_HOSPITAL"),
        ] {
            let e = Tier::parse(tier, h, r).unwrap_err();
            assert!(
                matches!(e, TierError::NotOfThisTier { variable: v, .. } if v == variable),
                "{tier}: {e}"
            );
        }
        let e = Tier::parse("hospital", Some("H 1"), Some("R01")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("LANTERN_HOSPITAL=\"H 1\" is not a code"),
            "{e}"
        );
        assert!(matches!(
            Tier::parse("hub", None, None),
            Err(TierError::Unknown(_))
        ));
    }

    #[test]
    fn the_domain_is_the_code_in_lower_case() {
        assert_eq!(Tier::Standalone.domain(), None);
        let h = Tier::parse("hospital", Some("H0001"), Some("R01")).unwrap();
        assert_eq!(h.domain().as_deref(), Some("h0001"));
        assert_eq!(h.to_string(), "hospital H0001 (hub of region R01)");
        assert_eq!((h.region(), h.hub()), (None, Some("R01")));
        let r = Tier::parse("region", None, Some("R01")).unwrap();
        assert_eq!((r.region(), r.hospital()), (Some("R01"), None));
    }
}
