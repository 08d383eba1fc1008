//! Free-text PII scrubber for report narratives.
//!
//! The event stream is append-only, so anything identifying that reaches it
//! can never be taken back. Every free-text field therefore goes through
//! [`Scrubber::scrub`] before it is appended. The scrubber is deliberately
//! biased towards removing too much: a lost digit string costs a reviewer a
//! little context, a leaked identity number cannot be undone.
//!
//! # Markers
//!
//! Each match is replaced by a short ASCII marker (see [`marker`]):
//!
//! | kind                               | marker    |
//! |------------------------------------|-----------|
//! | [`PiiKind::ResidentId`]            | `[ID]`    |
//! | [`PiiKind::Phone`]                 | `[PHONE]` |
//! | [`PiiKind::Email`]                 | `[EMAIL]` |
//! | [`PiiKind::MedicalRecordNumber`]   | `[MRN]`   |
//!
//! ASCII upper-case was chosen because it reads the same to Chinese and
//! English readers, stands out against Chinese prose, is unaffected by the
//! full-width folding below, and contains no digit, `@` or label, so no
//! pattern can match a marker (which is what makes scrubbing idempotent).
//!
//! # What is matched
//!
//! * **Resident ID numbers** (居民身份证号): 18 characters (17 digits and a
//!   check character `0-9`/`X`/`x`), written as one run or grouped 6-8-4 by
//!   single spaces or hyphens (`110101 19900307 2316`); and old 15-digit
//!   numbers (area + `YYMMDD` + sequence).
//! * **Phones**: mainland mobiles (`1[3-9]` + 9 digits, optional `+86`,
//!   `0086`, `86`, `(+86)` prefix, optional 3-4-4 split by spaces or hyphens);
//!   landlines with a real-shaped area code (`010`, `02x`, `0[3-9]xx`) followed
//!   by 7–8 digits, with a hyphen, a space, parentheses, or unseparated when
//!   the total is 11–12 digits; `+86`/`0086` landlines without the trunk `0`;
//!   and 7–12 digit numbers directly after a phone label (电话, 手机, 座机,
//!   固话, 联系方式, Tel, Phone, Mobile, …).
//! * **E-mail addresses** (ASCII local part and domain, TLD of 2+ letters).
//! * **Medical record numbers**: a code of 4+ letters/digits (with inner
//!   hyphens or dotted digit groups, at least one digit) directly after a
//!   label such as 病案号, 病历号, 住院号, 门诊号, 急诊号, 就诊号, 登记号,
//!   就诊卡号, 医保卡号, ID号, 患者ID, Patient ID, MRN, MR No., MR#, Medical
//!   Record No.; an optional `:`/`：`/`#`/`=`/为/是/whitespace may sit in
//!   between. The label is kept, only the code is replaced. A code without a
//!   digit is a word ("MR no change"), and a letter glued to an English label
//!   is part of a word ("mRNA-1273"), so neither is replaced.
//! * **Any other run of 12 or more digits** is replaced as
//!   [`PiiKind::MedicalRecordNumber`]: nothing clinical is written with that
//!   many digits, while card, account, insurance and record numbers are.
//!   Compact timestamps (`YYYYMMDDhhmm`, `YYYYMMDDhhmmss`) are exempt.
//!
//! # Decisions
//!
//! * An 18-character ID with a valid ISO 7064 MOD 11-2 check digit is always
//!   scrubbed. With a wrong check digit it is still scrubbed as an ID when the
//!   area code does not start with 0 and the birth date is a real calendar
//!   date in 1900–2099: clinicians mistype, and the other 17 digits still
//!   identify the patient. The same rule applies to the grouped 6-8-4 form,
//!   whose shape alone is specific enough.
//! * An unseparated 18-digit run that fails both tests is still scrubbed, as
//!   a long digit run (`[MRN]`); so is every 15–17 or 19+ digit run.
//! * Digits are matched only as whole runs: a number is never matched when a
//!   digit touches either end, so a 20-digit number becomes one `[MRN]`
//!   rather than `[PHONE]` plus leftovers.
//! * A `.` between digits is a decimal point, joining both sides into one
//!   number that is left alone, when the integer part has at most 6 digits
//!   (`6.9`, `3.14159265358979`). After a longer run it is taken as a full
//!   stop typed without a space, so `…2316.13812345678` loses both numbers.
//! * Runs of 11 digits or fewer that are neither a mobile nor a landline are
//!   left alone (order numbers, dates such as `20261123`, counts), as are
//!   7–8 digit local numbers without a phone label. An 11-digit order number
//!   that starts with `1[3-9]` cannot be told from a mobile and is scrubbed;
//!   so is a 13-digit epoch-millisecond timestamp.
//! * Three 4-digit groups that are all valid `hhmm` times (`0800 1200 1600`)
//!   are dosing times, not a landline, and are left alone.
//! * Bed (`12床`, `床号12`), room and ward numbers are not identifying and are
//!   never labels.
//! * Patient names are out of scope: Chinese names cannot be told apart from
//!   ordinary words without a large false-positive rate. So are addresses,
//!   numbers written in Chinese numerals (一三八…) and space-grouped bank cards.
//! * Full-width forms (`０-９`, `Ａ-Ｚ`, `：`, `（）`, `＠`, `－`, ideographic
//!   space) and Unicode dashes are folded to ASCII for matching only; text
//!   outside a match is returned byte-for-byte as written.
//! * Precedence when matches overlap: e-mail, labelled record number, resident
//!   ID, phone, long digit run. A label states intent, so it beats the shape
//!   of the number that follows it (`住院号：13812345678` is `[MRN]`).
//! * Every decision depends only on text that survives scrubbing, so
//!   scrubbing is idempotent and a second pass finds nothing; a randomised
//!   test checks this.
//! * [`Scrubbed::found`] has one entry per replacement, in order of
//!   appearance, duplicates included, so it can feed per-kind counters.

use std::collections::BTreeMap;

use regex::{Captures, Match, Regex};

/// What a piece of scrubbed text contained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiKind {
    /// A mainland resident ID number (18-character or old 15-digit).
    ResidentId,
    /// A mobile or landline phone number.
    Phone,
    /// An e-mail address.
    Email,
    /// A labelled medical-record-style code, or an unlabelled run of 12+ digits.
    MedicalRecordNumber,
}

/// The text with every match replaced by its marker, and what was found (for
/// metrics; never the matched text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scrubbed {
    /// The input with each match replaced by [`marker`] of its kind.
    pub text: String,
    /// One entry per replacement, in order of appearance, duplicates included.
    pub found: Vec<PiiKind>,
}

/// The marker that replaces a match of `kind`: `[ID]`, `[PHONE]`, `[EMAIL]` or
/// `[MRN]`.
#[must_use]
pub fn marker(kind: PiiKind) -> &'static str {
    match kind {
        PiiKind::ResidentId => "[ID]",
        PiiKind::Phone => "[PHONE]",
        PiiKind::Email => "[EMAIL]",
        PiiKind::MedicalRecordNumber => "[MRN]",
    }
}

/// 18-character IDs, optionally grouped 6-8-4, or 15-digit old IDs. The
/// shape is loose on purpose; [`is_resident_id`] decides.
const RESIDENT_ID: &str = r"[0-9]{6}[ -]?[0-9]{8}[ -]?[0-9]{3}[0-9Xx]|[0-9]{15}";

const MOBILE: &str = r"(?:(?:\+|00)86[ -]?|86-?|\(\+?86\)[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}";

/// Three-digit area codes (010, 02x) are always followed by 8 digits and the
/// four-digit ones (0[3-9]xx) by 7 or 8, so an unseparated landline is 11–12
/// digits and never collides with the < 11 digit order numbers we must keep.
const LANDLINE: &str = concat!(
    r"\((?:010|02[0-9]|0[3-9][0-9]{2})\)[ -]?(?:[0-9]{7,8}|[0-9]{3,4}[ -][0-9]{4})",
    r"|(?:010|02[0-9]|0[3-9][0-9]{2})[ -](?:[0-9]{7,8}|[0-9]{3,4}[ -][0-9]{4})",
    r"|(?:010|02[0-9])[0-9]{8}|0[3-9][0-9]{2}[0-9]{7,8}",
    r"|(?:\+|00)86[ -]?(?:10|2[0-9]|[3-9][0-9]{2})[ -]?[0-9]{7,8}",
);

/// A short local number is only a phone when someone said so. English labels
/// must not be the tail of a longer word ("hotel"); that is checked in code
/// because consuming the preceding letter here would make the result depend
/// on whether an earlier match already took it.
const LABELLED_PHONE: &str = concat!(
    r"(?:联系电话|联系方式|电话|手机|座机|固话",
    r"|(?P<en>(?i-u:telephone|tel|phone|mobile)))",
    r"[\s:#=.为是号码]*",
    // The unseparated form comes first and is greedy, so it ends at the end
    // of the digit run whenever the run is short enough to be a phone.
    r"(?P<m>[0-9]{7,12}|[0-9]{3,4}[ -][0-9]{4})",
);

/// English labels are case-sensitive where a case-insensitive match would hit
/// clinical words ("mRNA", "Mr").
const RECORD_NUMBER: &str = concat!(
    r"(?P<label>(?:病案|病历|住院|门诊|急诊|留观|就诊|登记)号码?",
    r"|(?:就诊|诊疗|医保|社保)卡号|医保号|(?:ID|id|Id)号",
    r"|(?:患者|病人)\s*(?:ID|id)|(?i-u:patient\s*id)",
    r"|MRN|MR\s*(?:No|NO|no)\.?|MR\s*#",
    r"|(?i-u:medical\s+record\s+(?:no\.?|number|#)))",
    r"(?P<sep>[\s:#=为是]*)",
    // A dotted continuation is part of the code so that the code never ends
    // at a decimal point, which would make the digits after it look like a
    // fraction now and like a free-standing number once the code is replaced.
    r"(?P<code>[A-Za-z0-9]+(?:-[A-Za-z0-9]+|\.[0-9][A-Za-z0-9]*)*)",
);

const EMAIL: &str = r"[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}";

const LONG_RUN: &str = r"[0-9]{12,}";

/// Compiled patterns; build once and share (matching takes `&self`).
#[derive(Debug)]
pub struct Scrubber {
    email: Regex,
    record_number: Regex,
    resident_id: Regex,
    mobile: Regex,
    landline: Regex,
    labelled_phone: Regex,
    long_run: Regex,
}

impl Default for Scrubber {
    fn default() -> Self {
        Self::new()
    }
}

impl Scrubber {
    /// Compiles the patterns. They are constants, so this cannot fail at run
    /// time once the unit tests pass.
    #[must_use]
    pub fn new() -> Self {
        // Anchored: `scan_numbers` tries them only where a number may start.
        // The trailing non-digit steers alternation towards a variant that
        // ends where the digit run ends.
        let bounded = |inner: &str| compile(&format!("^(?P<m>{inner})(?:$|[^0-9])"));
        Self {
            email: compile(EMAIL),
            record_number: compile(RECORD_NUMBER),
            resident_id: bounded(RESIDENT_ID),
            mobile: bounded(MOBILE),
            landline: bounded(LANDLINE),
            labelled_phone: compile(LABELLED_PHONE),
            long_run: bounded(LONG_RUN),
        }
    }

    /// Replaces every PII match in `text` with its [`marker`] and reports the
    /// kinds found. Idempotent: scrubbing the output again changes nothing.
    #[must_use]
    pub fn scrub(&self, text: &str) -> Scrubbed {
        let folded = Folded::new(text);
        let hay = folded.text.as_str();
        let mut claims = Claims::default();

        for m in self.email.find_iter(hay) {
            claims.claim(m.start(), m.end(), PiiKind::Email);
        }
        scan_labelled(&self.record_number, hay, |caps| {
            record_code(caps).is_some_and(|code| {
                claims.claim(code.start(), code.end(), PiiKind::MedicalRecordNumber)
            })
        });
        scan_numbers(&self.resident_id, hay, |start, end| {
            is_resident_id(&hay[start..end]) && claims.claim(start, end, PiiKind::ResidentId)
        });
        scan_numbers(&self.mobile, hay, |start, end| {
            claims.claim(start, end, PiiKind::Phone)
        });
        scan_numbers(&self.landline, hay, |start, end| {
            !is_dosing_times(&hay[start..end]) && claims.claim(start, end, PiiKind::Phone)
        });
        scan_labelled(&self.labelled_phone, hay, |caps| {
            // A letter that is itself being replaced (the X of an ID, the end
            // of an e-mail) will not be there after scrubbing, so it cannot
            // make the label part of a word.
            let inside_word = caps.name("en").is_some_and(|en| {
                hay[..en.start()]
                    .char_indices()
                    .next_back()
                    .is_some_and(|(at, c)| c.is_ascii_alphabetic() && !claims.covers(at))
            });
            !inside_word
                && caps.name("m").is_some_and(|m| {
                    ends_number(hay, m.end()) && claims.claim(m.start(), m.end(), PiiKind::Phone)
                })
        });
        scan_numbers(&self.long_run, hay, |start, end| {
            !is_compact_timestamp(&hay[start..end])
                && claims.claim(start, end, PiiKind::MedicalRecordNumber)
        });

        claims.apply(text, &folded)
    }
}

fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).expect("scrub patterns are constants exercised by the unit tests")
}

/// Tries the anchored pattern `re` at every place in `hay` where a number
/// may start and hands each match that also ends a number to `accept`, which
/// says whether it claimed it.
///
/// Regex has no look-around, and numbers must only match whole: a 20-digit
/// run is one identifier, not a phone number plus leftovers. So the edges are
/// checked here, by [`starts_number`] and [`ends_number`].
fn scan_numbers(re: &Regex, hay: &str, mut accept: impl FnMut(usize, usize) -> bool) {
    let mut resume = 0;
    for (at, c) in hay.char_indices() {
        // "+" and "(" open a prefix, so what precedes them does not matter;
        // checking it would let a digit that is about to be replaced decide.
        let may_start = match c {
            '0'..='9' => starts_number(hay, at),
            '+' | '(' => true,
            _ => false,
        };
        if at < resume || !may_start {
            continue;
        }
        let Some(m) = re.captures(&hay[at..]).and_then(|caps| caps.name("m")) else {
            continue;
        };
        let (start, end) = (at + m.start(), at + m.end());
        if ends_number(hay, end) && accept(start, end) {
            resume = end;
        }
    }
}

/// Runs a label pattern over `hay`, handing each match to `accept`, which
/// says whether it claimed something. Unlike `captures_iter`, a rejected
/// match does not hide the text it covered: in "MRNA-1 MRN 12345" the
/// rejected first match swallows the second label, which must still be seen.
fn scan_labelled(re: &Regex, hay: &str, mut accept: impl FnMut(&Captures<'_>) -> bool) {
    let mut pos = 0;
    while let Some(caps) = re.captures_at(hay, pos) {
        let Some(whole) = caps.get(0) else {
            break;
        };
        pos = if accept(&caps) && whole.end() > pos {
            whole.end()
        } else {
            next_char_boundary(hay, whole.start())
        };
        if pos > hay.len() {
            break;
        }
    }
}

fn next_char_boundary(s: &str, at: usize) -> usize {
    s[at..]
        .chars()
        .next()
        .map_or(s.len() + 1, |c| at + c.len_utf8())
}

/// A decimal point joins two digit runs into one number when the run before
/// it is at most this long. Measurements have short integer parts ("6.9",
/// "0.125"); a longer run followed by "." is a number and a full stop typed
/// without a space ("…2316.13812345678").
const MAX_INTEGER_DIGITS: usize = 6;

/// Whether the text before `at` lets a number start at `at`: not right after
/// a digit, nor right after the decimal point of a short number.
fn starts_number(hay: &str, at: usize) -> bool {
    let mut before = hay[..at].chars().rev();
    match before.next() {
        Some(c) if c.is_ascii_digit() => false,
        Some('.') => !(1..=MAX_INTEGER_DIGITS).contains(&leading_digits(before)),
        _ => true,
    }
}

/// Whether a number ending at `end` really ends there: no digit follows, and
/// it is not the integer part of a decimal.
fn ends_number(hay: &str, end: usize) -> bool {
    let mut after = hay[end..].chars();
    match after.next() {
        Some(c) if c.is_ascii_digit() => false,
        Some('.') if after.next().is_some_and(|c| c.is_ascii_digit()) => {
            !(1..=MAX_INTEGER_DIGITS).contains(&leading_digits(hay[..end].chars().rev()))
        }
        _ => true,
    }
}

fn leading_digits(chars: impl Iterator<Item = char>) -> usize {
    chars.take_while(char::is_ascii_digit).count()
}

/// The code of a labelled record number, if it is plausible as one.
fn record_code<'h>(caps: &Captures<'h>) -> Option<Match<'h>> {
    let code = caps.name("code")?;
    let text = code.as_str();
    let alnum = text.bytes().filter(u8::is_ascii_alphanumeric).count();
    // "MR no change", "ID card": a code without a digit is a word.
    if alnum < 4 || !text.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    // "MRNA-1273" must not read as label "MRN" + code "A-1273".
    let label_ends_in_letter = caps
        .name("label")
        .and_then(|l| l.as_str().chars().last())
        .is_some_and(|c| c.is_ascii_alphabetic());
    let glued = caps.name("sep").is_none_or(|s| s.as_str().is_empty());
    let code_starts_with_letter = text.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    if label_ends_in_letter && glued && code_starts_with_letter {
        return None;
    }
    Some(code)
}

/// ISO 7064 MOD 11-2 check for a 17-digit body and its check character.
fn check_digit_ok(body: &[u8], check: u8) -> bool {
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

/// Decides whether a [`RESIDENT_ID`] candidate is an ID; see the module docs.
fn is_resident_id(candidate: &str) -> bool {
    let chars: Vec<u8> = candidate
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .collect();
    match chars.as_slice() {
        [body @ .., check] if chars.len() == 18 => {
            check_digit_ok(body, *check)
                || (body[0] != b'0' && is_real_date(number(&body[6..10]), &body[10..14]))
        }
        old if old.len() == 15 => {
            old[0] != b'0' && is_real_date(1900 + number(&old[6..8]), &old[8..12])
        }
        _ => false,
    }
}

/// `digits` must be ASCII digits (guaranteed by the patterns).
fn number(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |n, d| n * 10 + u32::from(d.wrapping_sub(b'0')))
}

/// Whether `year` and the `MMDD` digits form a real date in 1900–2099.
fn is_real_date(year: u32, month_day: &[u8]) -> bool {
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
fn is_compact_timestamp(run: &str) -> bool {
    let b = run.as_bytes();
    if b.len() != 12 && b.len() != 14 {
        return false;
    }
    is_real_date(number(&b[..4]), &b[4..8])
        && number(&b[8..10]) <= 23
        && b[10..].chunks(2).all(|c| number(c) <= 59)
}

/// Medication rounds are written "0800 1200 1600", which has a landline's
/// shape (0[3-9]xx + 4 + 4).
fn is_dosing_times(candidate: &str) -> bool {
    let groups: Vec<&str> = candidate
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    groups.len() >= 3
        && groups.iter().all(|g| {
            let b = g.as_bytes();
            b.len() == 4 && number(&b[..2]) <= 23 && number(&b[2..]) <= 59
        })
}

/// The text the patterns run on: full-width and look-alike characters folded
/// to ASCII, with a map back to the caller's byte offsets so the output keeps
/// the original characters outside matches.
struct Folded {
    text: String,
    /// `origin[i]` is the offset in the original text of the character that
    /// produced folded byte `i`; one extra entry maps the end.
    origin: Vec<usize>,
}

impl Folded {
    fn new(original: &str) -> Self {
        let mut text = String::with_capacity(original.len());
        let mut origin = Vec::with_capacity(original.len() + 1);
        for (at, c) in original.char_indices() {
            let folded = fold_char(c);
            text.push(folded);
            origin.extend(std::iter::repeat_n(at, folded.len_utf8()));
        }
        origin.push(original.len());
        Self { text, origin }
    }
}

/// Chinese IMEs produce full-width digits, letters and punctuation, and word
/// processors turn hyphens into dashes; numbers typed that way are just as
/// identifying.
fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{3000}' => ' ',
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' => '-',
        _ => c,
    }
}

/// Accepted matches as folded byte ranges, keyed by start; never overlapping,
/// so the earlier (higher-precedence) pass wins.
#[derive(Default)]
struct Claims(BTreeMap<usize, (usize, PiiKind)>);

impl Claims {
    /// Records `start..end` unless it overlaps an earlier claim.
    fn claim(&mut self, start: usize, end: usize, kind: PiiKind) -> bool {
        if start >= end {
            return false;
        }
        if let Some((_, &(prev_end, _))) = self.0.range(..end).next_back()
            && prev_end > start
        {
            return false;
        }
        self.0.insert(start, (end, kind));
        true
    }

    /// Whether folded byte `at` is inside a claim.
    fn covers(&self, at: usize) -> bool {
        self.0
            .range(..=at)
            .next_back()
            .is_some_and(|(_, &(end, _))| end > at)
    }

    fn apply(&self, original: &str, folded: &Folded) -> Scrubbed {
        let mut text = String::with_capacity(original.len());
        let mut found = Vec::with_capacity(self.0.len());
        let mut copied = 0;
        for (&start, &(end, kind)) in &self.0 {
            let (from, to) = (folded.origin[start], folded.origin[end]);
            text.push_str(&original[copied..from]);
            text.push_str(marker(kind));
            found.push(kind);
            copied = to;
        }
        text.push_str(&original[copied..]);
        Scrubbed { text, found }
    }
}

#[cfg(test)]
mod tests {
    use super::PiiKind::{Email, MedicalRecordNumber as Mrn, Phone, ResidentId};
    use super::*;

    fn scrub(text: &str) -> Scrubbed {
        Scrubber::new().scrub(text)
    }

    #[track_caller]
    fn assert_scrubs(input: &str, expected: &str, kinds: &[PiiKind]) {
        let out = scrub(input);
        assert_eq!(out.text, expected, "input: {input:?}");
        assert_eq!(out.found, kinds, "input: {input:?}");
    }

    #[track_caller]
    fn assert_untouched(input: &str) {
        assert_scrubs(input, input, &[]);
    }

    // --- markers -------------------------------------------------------

    #[test]
    fn markers_are_distinct_and_contain_nothing_matchable() {
        let kinds = [ResidentId, Phone, Email, Mrn];
        let markers: Vec<_> = kinds.iter().map(|&k| marker(k)).collect();
        assert_eq!(markers, ["[ID]", "[PHONE]", "[EMAIL]", "[MRN]"]);
        for m in &markers {
            assert!(!m.bytes().any(|b| b.is_ascii_digit() || b == b'@'));
            assert_untouched(m);
        }
    }

    #[test]
    fn default_is_new() {
        let text = "电话13812345678";
        assert_eq!(Scrubber::default().scrub(text), Scrubber::new().scrub(text));
    }

    // --- resident IDs ----------------------------------------------------

    #[test]
    fn check_digit() {
        assert!(check_digit_ok(b"11010119900307231", b'6'));
        assert!(check_digit_ok(b"11010119900307002", b'X'));
        assert!(check_digit_ok(b"11010119900307002", b'x'));
        assert!(!check_digit_ok(b"11010119900307231", b'4'));
        assert!(!check_digit_ok(b"1101011990030723", b'6'));
    }

    #[test]
    fn id_in_chinese_text_without_spaces() {
        assert_scrubs(
            "患者身份证110101199003072316入院",
            "患者身份证[ID]入院",
            &[ResidentId],
        );
    }

    #[test]
    fn id_with_x_check_digit_either_case() {
        assert_scrubs(
            "身份证号:11010119900307002X。",
            "身份证号:[ID]。",
            &[ResidentId],
        );
        assert_scrubs("id 11010119900307002x ok", "id [ID] ok", &[ResidentId]);
    }

    #[test]
    fn id_with_wrong_check_digit_but_real_birth_date_is_still_an_id() {
        assert_scrubs("身份证110101199003072314", "身份证[ID]", &[ResidentId]);
    }

    #[test]
    fn id_with_valid_check_digit_is_scrubbed_even_with_odd_date() {
        assert!(check_digit_ok(b"99999999999999999", b'3'));
        assert_scrubs("号999999999999999993", "号[ID]", &[ResidentId]);
    }

    #[test]
    fn eighteen_digits_failing_both_tests_are_still_scrubbed_as_long_run() {
        assert!(!check_digit_ok(b"12345612345678901", b'2'));
        assert_scrubs("卡123456123456789012", "卡[MRN]", &[Mrn]);
    }

    #[test]
    fn id_with_impossible_date_and_wrong_check_is_not_an_id() {
        // 1990-02-30 does not exist.
        assert!(!is_resident_id("110101199002300010"));
        assert!(is_resident_id("110101199002280010"));
        assert!(is_resident_id("110101200002290010")); // leap year
        assert!(!is_resident_id("110101190002290010")); // 1900 is not
    }

    #[test]
    fn grouped_ids() {
        assert_scrubs(
            "身份证 110101 19900307 2314 已核对",
            "身份证 [ID] 已核对",
            &[ResidentId],
        );
        assert_scrubs("110101-19900307-2316", "[ID]", &[ResidentId]);
        assert_scrubs("110101 19900307231X", "[ID]", &[ResidentId]);
    }

    #[test]
    fn grouped_digits_that_are_not_an_id_are_left() {
        // Month 56 and a wrong check digit.
        assert_untouched("123456 12345678 1234");
        assert_untouched("批号 230512 2025 0511");
    }

    #[test]
    fn old_fifteen_digit_id() {
        assert_scrubs("旧证号110101900307231。", "旧证号[ID]。", &[ResidentId]);
    }

    #[test]
    fn fifteen_digits_without_a_date_are_a_long_run() {
        assert_scrubs("110101901307231", "[MRN]", &[Mrn]);
    }

    #[test]
    fn full_width_id() {
        assert_scrubs(
            "身份证：１１０１０１１９９００３０７２３１６，",
            "身份证：[ID]，",
            &[ResidentId],
        );
    }

    #[test]
    fn id_followed_by_extra_digit_is_one_long_run() {
        assert_scrubs("1101011990030723161", "[MRN]", &[Mrn]);
    }

    // --- phones ----------------------------------------------------------

    #[test]
    fn mobile_in_chinese_text_without_spaces() {
        assert_scrubs(
            "家属电话13812345678已通知",
            "家属电话[PHONE]已通知",
            &[Phone],
        );
    }

    #[test]
    fn mobile_prefixes_and_splits() {
        for number in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "+86-138-1234-5678",
            "+8613812345678",
            "0086 13812345678",
            "008613812345678",
            "8613812345678",
            "86-13812345678",
            "(+86)13812345678",
            "（+86）138 1234 5678",
            "19912345678",
        ] {
            assert_scrubs(&format!("联系{number}。"), "联系[PHONE]。", &[Phone]);
        }
    }

    #[test]
    fn adjacent_mobiles_separated_by_one_character() {
        assert_scrubs(
            "13812345678,13912345678、15012345678",
            "[PHONE],[PHONE]、[PHONE]",
            &[Phone, Phone, Phone],
        );
    }

    #[test]
    fn not_mobiles() {
        assert_untouched("12012345678"); // 12x is not a mobile prefix
        assert_untouched("1381234567"); // 10 digits
        assert_untouched("3.13812345678"); // a decimal
    }

    #[test]
    fn full_stop_without_space_after_a_long_number() {
        assert_scrubs(
            "身份证110101199003072316.13812345678",
            "身份证[ID].[PHONE]",
            &[ResidentId, Phone],
        );
        assert_scrubs("13812345678.5", "[PHONE].5", &[Phone]);
        assert_scrubs("住院号1234.13812345678", "住院号[MRN]", &[Mrn]);
    }

    #[test]
    fn letter_being_replaced_does_not_glue_a_label_to_a_word() {
        assert_scrubs(
            "11010119900307002Xtel 87654321",
            "[ID]tel [PHONE]",
            &[ResidentId, Phone],
        );
    }

    #[test]
    fn mobile_inside_longer_run_is_one_long_run() {
        assert_scrubs("138123456789", "[MRN]", &[Mrn]);
        assert_scrubs("编号12345678901234567890号", "编号[MRN]号", &[Mrn]);
    }

    #[test]
    fn landlines() {
        for number in [
            "010-12345678",
            "(0571)87654321",
            "（0571）87654321",
            "(010) 1234-5678",
            "0755 8888 6666",
            "0755-8888-6666",
            "021-6543-2100",
            "0571-8765432",
            "01012345678",
            "057187654321",
            "+86 10 12345678",
            "+86-571-87654321",
        ] {
            assert_scrubs(
                &format!("科室电话{number}转"),
                "科室电话[PHONE]转",
                &[Phone],
            );
        }
    }

    #[test]
    fn landline_extension_is_kept() {
        assert_scrubs("0571-87654321-8012", "[PHONE]-8012", &[Phone]);
    }

    #[test]
    fn not_landlines() {
        assert_untouched("给药时间 0800 1200 1600");
        assert_untouched("0201234567"); // 10 digits: an order number, not a landline
        assert_untouched("01234567890"); // 012 is no area code
        assert_untouched("05-12345678");
    }

    #[test]
    fn labelled_local_numbers() {
        assert_scrubs("电话：87654321", "电话：[PHONE]", &[Phone]);
        assert_scrubs("座机 8765-4321", "座机 [PHONE]", &[Phone]);
        assert_scrubs("Tel. 8765 4321", "Tel. [PHONE]", &[Phone]);
        assert_scrubs("手机号12345678901", "手机号[PHONE]", &[Phone]);
    }

    #[test]
    fn phone_words_without_a_number_or_inside_words() {
        assert_untouched("电话随访 3 次");
        assert_untouched("hotel 12345678");
        assert_untouched("电话 123456"); // too short
    }

    #[test]
    fn full_width_phone_keeps_surrounding_text() {
        assert_scrubs(
            "电话：１３８－１２３４－５６７８。",
            "电话：[PHONE]。",
            &[Phone],
        );
        assert_scrubs(
            "电话\u{3000}０１０－１２３４５６７８",
            "电话\u{3000}[PHONE]",
            &[Phone],
        );
    }

    // --- e-mail ----------------------------------------------------------

    #[test]
    fn emails() {
        assert_scrubs("联系邮箱zhang.san@example.com", "联系邮箱[EMAIL]", &[Email]);
        assert_scrubs("邮箱：li_si+ae@hosp.org.cn。", "邮箱：[EMAIL]。", &[Email]);
        assert_scrubs(
            "send to A.B@Example.COM please",
            "send to [EMAIL] please",
            &[Email],
        );
        assert_scrubs("zhang＠example．com已通知", "[EMAIL]已通知", &[Email]);
    }

    #[test]
    fn numeric_email_is_one_email() {
        assert_scrubs("QQ邮箱13812345678@qq.com", "QQ邮箱[EMAIL]", &[Email]);
    }

    #[test]
    fn not_emails() {
        assert_untouched("@王医生 请处理");
        assert_untouched("user@localhost");
        assert_untouched("a @ b.com");
    }

    // --- medical record numbers -------------------------------------------

    #[test]
    fn labelled_record_numbers() {
        for (input, expected) in [
            ("病案号：A123456", "病案号：[MRN]"),
            ("病历号 2023001234", "病历号 [MRN]"),
            ("住院号2023001234，", "住院号[MRN]，"),
            ("门诊号:MZ-2023-0001。", "门诊号:[MRN]。"),
            ("急诊号码：J12345", "急诊号码：[MRN]"),
            ("ID号12345入科", "ID号[MRN]入科"),
            ("登记号为 00012345", "登记号为 [MRN]"),
            ("就诊卡号：6214000012", "就诊卡号：[MRN]"),
            ("患者ID：P0012345", "患者ID：[MRN]"),
            ("Patient ID 778899", "Patient ID [MRN]"),
            ("MRN: 12345678", "MRN: [MRN]"),
            ("MRN12345", "MRN[MRN]"),
            ("MR No. 889900", "MR No. [MRN]"),
            ("MR#0042", "MR#[MRN]"),
            (
                "Medical Record Number: 55-1234",
                "Medical Record Number: [MRN]",
            ),
            ("病历号：１２３４５６", "病历号：[MRN]"),
            ("住院号：13812345678", "住院号：[MRN]"),
        ] {
            assert_scrubs(input, expected, &[Mrn]);
        }
    }

    #[test]
    fn record_labels_without_a_plausible_code() {
        assert_untouched("住院号：123");
        assert_untouched("门诊号待补");
        assert_untouched("MR no significant change");
        assert_untouched("mRNA-1273 vaccine");
        assert_untouched("MRNA-1273 vaccine");
        assert_untouched("ID card checked");
        assert_scrubs("MRNA-1 MRN 12345", "MRNA-1 MRN [MRN]", &[Mrn]);
    }

    #[test]
    fn bed_numbers_are_not_record_numbers() {
        assert_untouched("3床");
        assert_untouched("12床患者");
        assert_untouched("床号12");
        assert_untouched("床号：1234");
    }

    // --- things that must survive -----------------------------------------

    #[test]
    fn clinical_text_is_untouched() {
        for text in [
            "氯化钾 10ml",
            "血钾 6.9 mmol/L",
            "INR 3.5",
            "2026-11-23 08:15",
            "2026-11-23 08:15:00",
            "20261123",
            "2026年11月23日",
            "20261123 0815",
            "202611230815",
            "20261123081500",
            "12床",
            "3号楼1205室",
            "心内科二病区",
            "ICU-3",
            "1234567",
            "3.14159265358979",
            "0.123456789012345",
            "95%",
            "SpO2 88%",
            "血压180/110mmHg",
            "订单号1234567890",
            "12,345,678,901",
            "WBC 12.3×10^9/L",
            "T 36.5℃ P 110次/分 R 22次/分 BP 180/110mmHg SpO2 95%",
            "予0.9%NS 100ml+KCl 10ml ivgtt",
            "血糖 13.8mmol/L，血钾6.9mmol/L",
            "（2026-11-23 08:15）",
            "2026年11月23日08时15分",
            "WBC cell count 12345678",
            "０.９%氯化钠 １０ml",
            "The patient received 2 units of PRBC at 14:30 and was stable.",
            "No adverse reaction; follow-up in 3 days.",
        ] {
            assert_untouched(text);
        }
    }

    #[test]
    fn long_runs_and_timestamps() {
        assert_scrubs("卡号6222021234567890123", "卡号[MRN]", &[Mrn]);
        assert_scrubs("1732345678000", "[MRN]", &[Mrn]); // epoch millis: indistinguishable
        assert_untouched("12345678901"); // 11 digits, no phone shape
        assert_scrubs("202613230815", "[MRN]", &[Mrn]); // month 13: not a timestamp
    }

    // --- whole-report behaviour ------------------------------------------

    #[test]
    fn found_lists_every_replacement_in_order() {
        assert_scrubs(
            "邮箱a@b.com，电话13812345678，身份证110101199003072316，住院号Z12345，再打13912345678",
            "邮箱[EMAIL]，电话[PHONE]，身份证[ID]，住院号[MRN]，再打[PHONE]",
            &[Email, Phone, ResidentId, Mrn, Phone],
        );
    }

    #[test]
    fn mixed_report() {
        let report = "2026-11-23 08:15 12床患者（住院号：ZY2026001，身份证110101199003072316）\
                      静推氯化钾10ml后血钾6.9 mmol/L，BP 180/110，已电话通知家属13812345678，\
                      并发邮件至 nurse.li@hospital.cn。";
        let expected = "2026-11-23 08:15 12床患者（住院号：[MRN]，身份证[ID]）\
                        静推氯化钾10ml后血钾6.9 mmol/L，BP 180/110，已电话通知家属[PHONE]，\
                        并发邮件至 [EMAIL]。";
        assert_scrubs(report, expected, &[Mrn, ResidentId, Phone, Email]);
    }

    #[test]
    fn empty_input() {
        assert_untouched("");
    }

    #[test]
    fn idempotent_on_examples() {
        let scrubber = Scrubber::new();
        for text in [
            "患者身份证110101199003072316入院",
            "家属电话13812345678已通知",
            "联系邮箱zhang.san@example.com",
            "住院号12345-床",
            "MRN: 12345678 and MR No. 889900",
            "0571-87654321-8012",
            "+86 138 1234 5678, 0755 8888 6666",
            "卡号6222021234567890123X",
            "电话：１３８－１２３４－５６７８。",
        ] {
            let once = scrubber.scrub(text);
            let twice = scrubber.scrub(&once.text);
            assert_eq!(twice.text, once.text, "input: {text:?}");
            assert!(twice.found.is_empty(), "input: {text:?}");
        }
    }

    /// Random concatenations of the pieces the patterns care about, to catch
    /// replacements that create new matches or panics on odd boundaries.
    #[test]
    fn idempotent_on_random_fragments() {
        const PIECES: &[&str] = &[
            "1",
            "3",
            "8",
            "0",
            "86",
            "+",
            "-",
            " ",
            ".",
            "@",
            "x",
            "X",
            "a",
            "com",
            "(",
            ")",
            "：",
            "号",
            "床",
            "住院号",
            "MRN",
            "ID号",
            "电话",
            "tel",
            "13812345678",
            "110101199003072316",
            "110101",
            "19900307",
            "2314",
            "0571",
            "87654321",
            "a.b@c.cn",
            "１",
            "０",
            "＠",
            "－",
            "\u{3000}",
            "[ID]",
            "[MRN]",
            "患者",
            "\n",
            "6.",
            "1234567",
            "0800",
            "(+86)",
            "Tel:",
            "Z",
            "病案号",
            "2026",
            "1123",
            "。",
        ];
        const ROUNDS: usize = 20_000;
        let scrubber = Scrubber::new();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..ROUNDS {
            let len = (next() % 16) as usize;
            let text: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            let once = scrubber.scrub(&text);
            let twice = scrubber.scrub(&once.text);
            assert_eq!(twice.text, once.text, "input: {text:?}");
            assert!(twice.found.is_empty(), "input: {text:?}");
        }
    }
}
