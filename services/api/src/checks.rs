//! Checks every command shares: times that cannot lie in the future or the
//! distant past, free text within its length.

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};

use crate::error::FieldError;

/// How far in the future a client clock may be.
pub const CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);

/// The earliest time accepted for when something happened.
pub fn earliest() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2000-01-01T00:00:00Z")
        .map(|t| t.to_utc())
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// 422 for a time more than 5 minutes ahead of the server clock, or before 2000.
pub fn check_time(pointer: &str, at: &DateTime<FixedOffset>, errors: &mut Vec<FieldError>) {
    let at = at.to_utc();
    if at > Utc::now() + CLOCK_SKEW {
        errors.push(FieldError::new(pointer, "is in the future"));
    } else if at < earliest() {
        errors.push(FieldError::new(pointer, "is before 2000-01-01"));
    }
}

/// Free text: trimmed, 1..=max characters (after trimming).
pub fn check_text(pointer: &str, text: &str, max: usize, errors: &mut Vec<FieldError>) {
    let n = text.trim().chars().count();
    if n == 0 {
        errors.push(FieldError::new(pointer, "must not be empty"));
    } else if n > max {
        errors.push(FieldError::new(
            pointer,
            format!("must be at most {max} characters"),
        ));
    }
}

/// Optional free text: at most max characters.
pub fn check_optional(pointer: &str, text: Option<&str>, max: usize, errors: &mut Vec<FieldError>) {
    if let Some(t) = text
        && t.chars().count() > max
    {
        errors.push(FieldError::new(
            pointer,
            format!("must be at most {max} characters"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_the_future_and_before_2000_are_refused() {
        let mut errors = vec![];
        let soon = (Utc::now() + TimeDelta::minutes(4)).fixed_offset();
        check_time("/t", &soon, &mut errors);
        assert!(errors.is_empty(), "within the allowed clock skew");
        let later = (Utc::now() + TimeDelta::minutes(6)).fixed_offset();
        check_time("/t", &later, &mut errors);
        let old = DateTime::parse_from_rfc3339("1999-12-31T23:59:59Z").unwrap();
        check_time("/t", &old, &mut errors);
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn text_bounds() {
        let mut errors = vec![];
        check_text("/a", "  ", 10, &mut errors);
        check_text("/b", &"字".repeat(11), 10, &mut errors);
        check_text("/c", &"字".repeat(10), 10, &mut errors);
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/a", "/b"]);
    }
}
