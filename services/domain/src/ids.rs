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

use uuid::Uuid;

/// Lantern's UUID v5 namespace.
const NAMESPACE: Uuid = Uuid::from_u128(0x6c61_6e74_6572_6e00_8000_0000_0000_0001);

/// A new aggregate with no natural key: random, never time-ordered.
pub fn random() -> Uuid {
    Uuid::new_v4()
}

fn named(name: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// The aggregate of a hospital's registration.
pub fn hospital(code: &str) -> Uuid {
    named(&format!("hospital:{code}"))
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

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(super::hospital("H1"), super::hospital("H1"));
        assert_ne!(super::hospital("H1"), super::hospital("H2"));
        assert_ne!(super::department("H1", "A"), super::department("H1", "B"));
        assert_ne!(super::department("H1", "A"), super::department("H2", "A"));
    }

    #[test]
    fn new_aggregates_are_random_not_time_ordered() {
        let id = super::random();
        assert_eq!(id.get_version(), Some(uuid::Version::Random));
        assert_ne!(id, super::random());
    }
}
