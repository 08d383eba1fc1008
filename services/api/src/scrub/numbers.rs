//! Numbers written with separators: resident IDs, phones and long runs.
//!
//! A *chain* is a sequence of digit groups joined by short runs of number
//! separators (spaces, dots, dashes, brackets, slashes, middle dots,
//! underscores): `110101 1990 0307 4518`, `(138)1234-5678`, `1 3 8 …`. Every
//! contiguous sub-sequence of whole groups is a candidate, its digits read
//! as one number; the longest candidate from the leftmost group that is an
//! identifier wins, then the search goes on after it. Groups are never cut,
//! so a digit never touches a match from outside it.

use super::PiiKind;
use super::normalise::is_number_separator;

/// At most this many separator characters join two groups (`) - `).
const MAX_SEPARATOR: usize = 3;
/// Candidates span at most this many groups (a spaced-out ID has 18).
const MAX_GROUPS: usize = 24;
/// A `.` after an integer part this long is a decimal point ("6.9",
/// "0.125"); after a longer run it is a full stop typed without a space
/// ("…2316.13812345678").
const MAX_INTEGER_DIGITS: usize = 6;

/// One digit group: its byte range in the normalised text.
#[derive(Debug, Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
}

/// An identifier found: normalised byte range and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Found {
    pub start: usize,
    pub end: usize,
    pub kind: PiiKind,
}

/// Scans the normalised text for numbers that are identifiers and hands
/// each to `claim`, which says whether it was taken (an earlier, higher
/// precedence match may hold part of it).
pub(super) fn scan(text: &str, mut claim: impl FnMut(Found) -> bool) {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if !bytes[at].is_ascii_digit() {
            at += 1;
            continue;
        }
        let chain = chain_from(text, at);
        let Some(last) = chain.last() else { break };
        let end = last.end;
        resolve(bytes, &chain, &mut claim);
        at = end;
    }
}

/// The chain whose first group starts at `at`.
fn chain_from(text: &str, at: usize) -> Vec<Group> {
    let bytes = text.as_bytes();
    let mut groups = Vec::new();
    let mut start = at;
    loop {
        let mut end = start;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
        groups.push(Group { start, end });
        let mut next = end;
        for c in text[end..].chars().take(MAX_SEPARATOR) {
            if !is_number_separator(c) {
                break;
            }
            next += c.len_utf8();
        }
        if next == end || next >= bytes.len() || !bytes[next].is_ascii_digit() {
            return groups;
        }
        start = next;
    }
}

fn separator<'a>(bytes: &'a [u8], left: &Group, right: &Group) -> &'a [u8] {
    &bytes[left.end..right.start]
}

/// Whether the separator after group `k` is a decimal point: a lone `.`
/// after at most [`MAX_INTEGER_DIGITS`] digits, in a chain of just those two
/// groups. Such a chain is a measurement ("3.14159265358979") and never
/// read as an identifier.
fn is_decimal(bytes: &[u8], chain: &[Group]) -> bool {
    matches!(chain, [a, b] if separator(bytes, a, b) == b"." && a.end - a.start <= MAX_INTEGER_DIGITS)
}

fn resolve(bytes: &[u8], chain: &[Group], claim: &mut impl FnMut(Found) -> bool) {
    if is_decimal(bytes, chain) {
        return;
    }
    let mut i = 0;
    while i < chain.len() {
        let last = (i + MAX_GROUPS).min(chain.len()) - 1;
        // An ID or a phone from here beats a long run from here: a phone
        // followed by its extension is a phone and an extension.
        let taken = [Tier::Specific, Tier::LongRun]
            .into_iter()
            .find_map(|tier| {
                (i..=last)
                    .rev()
                    .find(|&j| classify(bytes, &chain[i..=j], tier).is_some_and(&mut *claim))
            });
        i = taken.map_or(i + 1, |j| j + 1);
    }
}

/// Which kinds [`classify`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    /// Resident IDs and phones.
    Specific,
    /// Runs of twelve or more digits.
    LongRun,
}

/// What the groups read as one number are, if anything identifying.
fn classify(bytes: &[u8], groups: &[Group], tier: Tier) -> Option<Found> {
    let (first, last) = (groups.first()?, groups.last()?);
    // Most chains are dates, times and doses: too short to be anything.
    let total: usize = groups.iter().map(|g| g.end - g.start).sum();
    let possible = match tier {
        Tier::Specific => (11..=18).contains(&total),
        Tier::LongRun => total >= 12,
    };
    if !possible {
        return None;
    }
    let digits: Vec<u8> = groups
        .iter()
        .flat_map(|g| bytes[g.start..g.end].iter().copied())
        .collect();
    let lens: Vec<usize> = groups.iter().map(|g| g.end - g.start).collect();
    let seps: Vec<&[u8]> = groups
        .windows(2)
        .map(|w| separator(bytes, &w[0], &w[1]))
        .collect();
    let found = |start: usize, end: usize, kind: PiiKind| Some(Found { start, end, kind });
    // "160/100 150/90" is a list; a number is written with one separator
    // throughout (brackets aside).
    if !is_uniform(&seps) {
        return None;
    }
    if tier == Tier::LongRun {
        return if digits.len() >= 12 && is_long_run(&digits, &lens, &seps) {
            found(first.start, last.end, PiiKind::MedicalRecordNumber)
        } else {
            None
        };
    }

    // The check character of an ID may be an X.
    let x_after = bytes
        .get(last.end)
        .is_some_and(|b| matches!(b, b'X' | b'x'));
    if x_after && digits.len() == 17 {
        let mut id = digits.clone();
        id.push(b'X');
        if is_resident_id(&id) {
            return found(first.start, last.end + 1, PiiKind::ResidentId);
        }
    }
    if (digits.len() == 18 || digits.len() == 15) && is_resident_id(&digits) {
        return found(first.start, last.end, PiiKind::ResidentId);
    }
    let plus = first.start > 0 && bytes[first.start - 1] == b'+';
    // A country prefix must not be split across groups ("8 6 138…").
    if mobile_prefix(&digits).is_some_and(|prefix| lens[0] >= prefix)
        || (is_landline(&digits, &lens, plus) && !is_dosing_times(&lens, &digits))
    {
        return found(open(bytes, first.start, last.end), last.end, PiiKind::Phone);
    }
    None
}

/// Takes in a `+` right before a phone, and an opening bracket before that
/// when the phone closes it: `(+86)138…`, `(0571)8765…`; a bracket around
/// the whole number ("(13812345678)") stays, balanced.
fn open(bytes: &[u8], start: usize, end: usize) -> usize {
    let mut s = start;
    if s > 0 && bytes[s - 1] == b'+' {
        s -= 1;
    }
    if s > 0 && bytes[s - 1] == b'(' && bytes[start..end].contains(&b')') {
        s -= 1;
    }
    s
}

/// The length of a country prefix (`86`, `0086`) before an 11-digit mainland
/// mobile, or 0 without one; `None` when `digits` is no mobile.
fn mobile_prefix(digits: &[u8]) -> Option<usize> {
    let prefix = match digits.len() {
        11 => 0,
        13 if digits.starts_with(b"86") => 2,
        15 if digits.starts_with(b"0086") => 4,
        _ => return None,
    };
    let m = &digits[prefix..];
    (m[0] == b'1' && (b'3'..=b'9').contains(&m[1])).then_some(prefix)
}

/// Three-digit area codes (010, 02x) are followed by 8 digits, four-digit
/// ones (0[3-9]xx) by 7 or 8. From abroad (`+86`, `0086`) the trunk 0 is
/// dropped. Written in groups, the area code must be a group of its own.
fn is_landline(digits: &[u8], lens: &[usize], plus: bool) -> bool {
    let (national, skipped) = if digits.starts_with(b"0086") {
        (&digits[4..], 4)
    } else if plus && digits.starts_with(b"86") {
        (&digits[2..], 2)
    } else if digits.first() == Some(&b'0') {
        (&digits[1..], 0)
    } else {
        return false;
    };
    let area = match national {
        [b'1', b'0', ..] | [b'2', _, ..] => 2,
        [b'3'..=b'9', _, _, ..] => 3,
        _ => return false,
    };
    let trunk = usize::from(skipped == 0);
    let local = national.len() - area;
    let fits = if area == 2 {
        local == 8
    } else {
        (7..=8).contains(&local)
    };
    if !fits {
        return false;
    }
    if lens.len() == 1 {
        return true;
    }
    // The area code ends at a group boundary.
    let area_end = skipped + trunk + area;
    let mut sum = 0;
    lens.iter().any(|l| {
        sum += l;
        sum == area_end
    })
}

/// Medication rounds are written "0800 1200 1600", a landline's shape.
fn is_dosing_times(lens: &[usize], digits: &[u8]) -> bool {
    lens.len() >= 3 && lens.iter().all(|&l| l == 4) && digits.chunks(4).all(is_hhmm)
}

fn is_hhmm(b: &[u8]) -> bool {
    b.len() == 4 && number(&b[..2]) <= 23 && number(&b[2..]) <= 59
}

/// Twelve or more digits. Unseparated, anything but a compact timestamp;
/// written in groups, only the way card and record numbers are grouped —
/// groups of four or more (the last of three or more), a lone dot being a
/// full stop — and not a list of times or dates, so that "120 130 140 150"
/// or "0800 1200 1600" stay. (Separators are uniform, see [`classify`].)
fn is_long_run(digits: &[u8], lens: &[usize], seps: &[&[u8]]) -> bool {
    if lens.len() == 1 {
        return !is_compact_timestamp(digits);
    }
    let lone_dot = seps.len() == 1 && seps[0] == b".";
    let (body, tail) = lens.split_at(lens.len() - 1);
    let shaped = body.iter().all(|&l| l >= 4) && tail.iter().all(|&l| l >= 3);
    let mut offset = 0;
    let all_times_or_dates = lens.iter().all(|&l| {
        let group = &digits[offset..offset + l];
        offset += l;
        is_hhmm(group) || (l == 8 && is_real_date(number(&group[..4]), &group[4..]))
    });
    !lone_dot && shaped && !all_times_or_dates
}

/// Whether every separator is the same, a separator with a bracket
/// matching any (`(138)1234-5678`, `(010) 1234-5678`) and spaces around
/// another separator not counting (`138 - 1234 - 5678`).
fn is_uniform(seps: &[&[u8]]) -> bool {
    let mut kind: Option<&[u8]> = None;
    for sep in seps {
        if sep.iter().any(|b| matches!(b, b'(' | b')')) {
            continue;
        }
        let trimmed = sep.trim_ascii();
        let this = if trimmed.is_empty() {
            &b" "[..]
        } else {
            trimmed
        };
        match kind {
            Some(k) if k != this => return false,
            _ => kind = Some(this),
        }
    }
    true
}

/// ISO 7064 MOD 11-2 check for a 17-digit body and its check character.
pub(super) fn check_digit_ok(body: &[u8], check: u8) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECKS: &[u8; 11] = b"10X98765432";
    if body.len() != 17 || !body.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECKS[(sum % 11) as usize] == check.to_ascii_uppercase()
}

/// An 18-character ID with a valid check character; or, since clinicians
/// mistype, one whose area code does not start with 0 and whose birth date
/// is a real date in 1900–2099; or an old 15-digit ID (area + `YYMMDD` +
/// sequence) with a real date.
pub(super) fn is_resident_id(chars: &[u8]) -> bool {
    match chars {
        [body @ .., check] if chars.len() == 18 => {
            check_digit_ok(body, *check)
                || (body[0] != b'0'
                    && body.iter().all(u8::is_ascii_digit)
                    && is_real_date(number(&body[6..10]), &body[10..14]))
        }
        old if old.len() == 15 && old.iter().all(u8::is_ascii_digit) => {
            old[0] != b'0' && is_real_date(1900 + number(&old[6..8]), &old[8..12])
        }
        _ => false,
    }
}

/// `digits` must be ASCII digits.
fn number(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |n, d| n * 10 + u32::from(d.wrapping_sub(b'0')))
}

/// Whether `year` and the `MMDD` digits form a real date in 1900–2099.
pub(super) fn is_real_date(year: u32, month_day: &[u8]) -> bool {
    if !(1900..=2099).contains(&year) || month_day.len() != 4 {
        return false;
    }
    let (month, day) = (number(&month_day[..2]), number(&month_day[2..]));
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// `YYYYMMDDhhmm` or `YYYYMMDDhhmmss`, which devices and HIS exports print.
fn is_compact_timestamp(b: &[u8]) -> bool {
    if b.len() != 12 && b.len() != 14 {
        return false;
    }
    is_real_date(number(&b[..4]), &b[4..8])
        && number(&b[8..10]) <= 23
        && b[10..].chunks(2).all(|c| number(c) <= 59)
}
