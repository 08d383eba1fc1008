//! Aggregate ids: random for reports, critical values, cases and deaths;
//! deterministic for things that have a natural key.
//!
//! A random id (UUID v4) dates nothing: a time-ordered one (v7) would carry
//! the filing instant to the millisecond into every list a member of staff
//! or a QC centre reads (DESIGN "Anonymity rules").
//!
//! A hospital, a department, a token or a department-month's census is one
//! aggregate named by its key, so "register H1 twice" meets the per-subject
//! expected-sequence check (the second finds the subject taken) without any
//! index that could lag behind the stream.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Lantern's UUID v5 namespace.
const NAMESPACE: Uuid = Uuid::from_u128(0x6c61_6e74_6572_6e00_8000_0000_0000_0001);

/// A new aggregate with no natural key: random, never time-ordered.
pub fn random() -> Uuid {
    Uuid::new_v4()
}

/// The short reference people read a report, case or death by, in packs
/// and lists: ten characters of Crockford base32 (no I, L, O or U) of a
/// hash of the id, `XXXXX-XXXXX`. A hash, not a prefix: a prefix of a
/// time-ordered (v7) id from before ids were random would date the filing,
/// and all of a month's prefixes would read alike. 50 bits: two references
/// of one hospital agree with probability n²/2⁵¹ — under 1 in 20,000 for
/// 100,000 reports.
pub fn short_ref(id: Uuid) -> String {
    const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let digest = Sha256::digest(id.as_bytes());
    let mut bits = u64::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
    ]) >> 14;
    let mut out = [0u8; 10];
    for c in out.iter_mut().rev() {
        *c = CROCKFORD[(bits & 31) as usize];
        bits >>= 5;
    }
    let text: String = out.iter().map(|b| char::from(*b)).collect();
    format!("{}-{}", &text[..5], &text[5..])
}

fn named(name: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// The aggregate of a hospital's registration.
pub fn hospital(code: &str) -> Uuid {
    named(&format!("hospital:{code}"))
}

/// The aggregate of a region's registration (every registration of one
/// code is an event of one subject).
pub fn region(code: &str) -> Uuid {
    named(&format!("region:{code}"))
}

/// The aggregate of a department's registration.
pub fn department(hospital: &str, code: &str) -> Uuid {
    named(&format!("department:{hospital}/{code}"))
}

/// The aggregate of a staff token.
pub fn token(token_hash: &str) -> Uuid {
    named(&format!("token:{token_hash}"))
}

/// The aggregate of a department-month's census figures.
pub fn census(hospital: &str, department: &str, month: &str) -> Uuid {
    named(&format!("census:{hospital}/{department}/{month}"))
}

/// The aggregate of a hospital's critical-value limits.
pub fn limits(hospital: &str) -> Uuid {
    named(&format!("limits:{hospital}"))
}

/// The aggregate of one item of a hospital's critical-value catalogue:
/// every set of it is an event of that one subject.
pub fn critical_item(hospital: &str, item: &str) -> Uuid {
    named(&format!("critical_item:{hospital}/{item}"))
}

/// The aggregate of the target of one indicator, scope and year: every
/// set of it is an event of that one subject, so its history is the
/// subject's events. `code` is the region's or hospital's, none for the
/// national default.
pub fn target(indicator: &str, scope: &str, code: Option<&str>, year: u16) -> Uuid {
    let code = code.unwrap_or("_");
    named(&format!("target:{indicator}/{scope}/{code}/{year}"))
}

/// The aggregate of the reference value (参考值) of one indicator, scope
/// and year: as for a target, its history is the subject's events. `code`
/// is the region's, none for the national mean.
pub fn reference(indicator: &str, scope: &str, code: Option<&str>, year: u16) -> Uuid {
    let code = code.unwrap_or("_");
    named(&format!("reference:{indicator}/{scope}/{code}/{year}"))
}

/// The aggregate of the server secret's fingerprint: one per stream, so
/// that replicas starting at once cannot both record one (the second
/// finds the subject taken).
pub fn secret_fingerprint() -> Uuid {
    named("secret-fingerprint")
}

/// The aggregate of a hospital's link to its region's hub: one per
/// hospital, so that a second link finds the subject taken.
pub fn link(hospital: &str) -> Uuid {
    named(&format!("link:{hospital}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(super::hospital("H1"), super::hospital("H1"));
        assert_ne!(super::hospital("H1"), super::hospital("H2"));
        assert_ne!(super::department("H1", "A"), super::department("H1", "B"));
        assert_ne!(super::department("H1", "A"), super::department("H2", "A"));
        let rr = |scope, code, year| super::target("reporting_rate", scope, code, year);
        assert_eq!(
            rr("region", Some("R1"), 2026),
            rr("region", Some("R1"), 2026)
        );
        assert_ne!(
            rr("region", Some("R1"), 2026),
            rr("hospital", Some("R1"), 2026)
        );
        assert_ne!(
            rr("region", Some("R1"), 2026),
            rr("region", Some("R1"), 2027)
        );
        assert_ne!(rr("national", None, 2026), rr("region", Some("R1"), 2026));
        // A reference is not the target of the same indicator, scope and year.
        assert_ne!(
            super::reference("reporting_rate", "region", Some("R1"), 2026),
            rr("region", Some("R1"), 2026)
        );
    }

    #[test]
    fn short_references_are_stable_distinct_and_not_prefixes_of_time_ordered_ids() {
        let a = uuid::Uuid::parse_str("0192f3c0-0000-7000-8000-000000000001").unwrap();
        let b = uuid::Uuid::parse_str("0192f3c0-0000-7000-8000-000000000002").unwrap();
        let (ra, rb) = (super::short_ref(a), super::short_ref(b));
        assert_eq!(ra, super::short_ref(a));
        assert_ne!(ra, rb, "ids a millisecond apart read differently");
        assert_ne!(&ra[..5], &rb[..5]);
        assert_eq!(ra.len(), 11);
        assert!(
            ra.chars()
                .all(|c| c == '-' || "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c))
        );
        let many: std::collections::HashSet<_> = (0..10_000)
            .map(|_| super::short_ref(super::random()))
            .collect();
        assert_eq!(many.len(), 10_000);
    }

    #[test]
    fn new_aggregates_are_random_not_time_ordered() {
        let id = super::random();
        assert_eq!(id.get_version(), Some(uuid::Version::Random));
        assert_ne!(id, super::random());
    }
}
