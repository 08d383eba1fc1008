//! The PII scrubber on any text.
//!
//! Invariants (each holds by the rules in `services/api/src/scrub.rs`):
//! - it never panics;
//! - it is idempotent: a second pass changes nothing and finds nothing;
//! - it only replaces: every marker already in the input (once the invisible
//!   characters the scrubber drops are gone) survives, and the output has
//!   exactly one new marker per entry of `found`;
//! - no unexempted digit run it promises to remove survives (checked on the
//!   output with every digit form read as the scrubber reads it):
//!   a run of 12 or more digits unless it is a compact timestamp
//!   (`YYYYMMDDhhmm[ss]`), and an 11-digit mobile (`1[3-9]` + 9 digits);
//!   a run after the decimal point of a number of at most 6 integer digits
//!   is a fraction and exempt from both.

use std::sync::OnceLock;

use lantern_api::scrub::{KINDS, Scrubber, digit_value, is_dropped, marker};

fn scrubber() -> &'static Scrubber {
    static SCRUBBER: OnceLock<Scrubber> = OnceLock::new();
    SCRUBBER.get_or_init(Scrubber::new)
}

/// The fuzz body: `data` as (lossy) UTF-8 text through the scrubber.
pub fn scrub(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check(&text);
}

/// The invariants on one text.
pub fn check(text: &str) {
    let scrubber = scrubber();
    let once = scrubber.scrub(text);
    let twice = scrubber.scrub(&once.text);
    assert_eq!(
        twice.text, once.text,
        "scrubbing is not idempotent\ninput: {text:?}"
    );
    assert!(
        twice.found.is_empty(),
        "a second pass found {:?}\ninput: {text:?}\nonce: {:?}",
        twice.found,
        once.text
    );
    let visible: String = text.chars().filter(|&c| !is_dropped(c)).collect();
    assert_eq!(
        markers(&once.text),
        markers(&visible) + once.found.len(),
        "markers in the output are not those of the input plus one per replacement\n\
         input: {text:?}\noutput: {:?}\nfound: {:?}",
        once.text,
        once.found
    );
    if let Some(run) = surviving_run(&once.text) {
        panic!(
            "the digit run {run:?} survived scrubbing\ninput: {text:?}\noutput: {:?}",
            once.text
        );
    }
}

fn markers(text: &str) -> usize {
    KINDS.iter().map(|k| text.matches(marker(*k)).count()).sum()
}

/// Every digit form (full-width, circled, other scripts', Chinese numerals)
/// and the full-width full stop as ASCII, as the scrubber reads them.
fn fold(c: char) -> char {
    match digit_value(c) {
        Some(d) => char::from(b'0' + d),
        None if c == '\u{FF0E}' => '.',
        None => c,
    }
}

/// The first maximal digit run of the (folded) output that the scrubber
/// promises never to leave, if any.
pub fn surviving_run(output: &str) -> Option<String> {
    let chars: Vec<char> = output.chars().map(fold).collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        if is_fraction(&chars[..start]) {
            continue;
        }
        let long = run.len() >= 12 && !is_compact_timestamp(&run);
        let mobile =
            run.len() == 11 && run.starts_with('1') && matches!(run.as_bytes()[1], b'3'..=b'9');
        if long || mobile {
            return Some(run);
        }
    }
    None
}

/// Whether a run that starts after `before` follows the decimal point of a
/// number with 1 to 6 integer digits.
fn is_fraction(before: &[char]) -> bool {
    match before.split_last() {
        Some(('.', rest)) => {
            let digits = rest.iter().rev().take_while(|c| c.is_ascii_digit()).count();
            (1..=6).contains(&digits)
        }
        _ => false,
    }
}

fn is_compact_timestamp(run: &str) -> bool {
    let b = run.as_bytes();
    if b.len() != 12 && b.len() != 14 {
        return false;
    }
    let n = |r: std::ops::Range<usize>| run[r].parse::<u32>().unwrap_or(u32::MAX);
    let (year, month, day) = (n(0..4), n(4..6), n(6..8));
    let real_date = (1900..=2099).contains(&year)
        && chrono::NaiveDate::from_ymd_opt(year as i32, month, day).is_some();
    real_date && n(8..10) <= 23 && (10..b.len()).step_by(2).all(|i| n(i..i + 2) <= 59)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surviving_runs() {
        assert_eq!(
            surviving_run("卡号6222021234567890123"),
            Some("6222021234567890123".into())
        );
        assert_eq!(surviving_run("电话13812345678"), Some("13812345678".into()));
        assert_eq!(
            surviving_run("电话１３８１２３４５６７８"),
            Some("13812345678".into())
        );
        assert_eq!(
            surviving_run("电话一三八一二三四五六七八"),
            Some("13812345678".into())
        );
        assert_eq!(surviving_run("电话①③⑧①②③④⑤⑥⑦⑧"), Some("13812345678".into()));
        assert_eq!(surviving_run("202611230815"), None, "a compact timestamp");
        assert_eq!(surviving_run("3.13812345678"), None, "a fraction");
        assert_eq!(surviving_run("0.123456789012345"), None, "a fraction");
        assert_eq!(
            surviving_run("1234567.123456789012"),
            Some("123456789012".into()),
            "after a 7-digit integer part, a full stop"
        );
        assert_eq!(
            surviving_run("12345678901"),
            None,
            "11 digits, no mobile prefix"
        );
        assert_eq!(surviving_run("[PHONE] 血钾6.9"), None);
    }

    #[test]
    fn examples_hold() {
        for text in [
            "患者身份证110101199003072316入院，家属电话13812345678，邮箱a.b@example.com",
            "住院号：ZY2026001，MRN 12345678，卡号6222021234567890123",
            "电话：１３８－１２３４－５６７８。",
            "[ID][PHONE] 已有标记 [EMAIL][MRN][NAME][BED]",
            "护士王小红说3床张三电话一三八一二三四五六七八，邮箱 zhang at example dot com",
            "110101 1990 0307 4518 (138)1234-5678 138.1234.5678 ①③⑧①②③④⑤⑥⑦⑧",
            "[PH\u{200B}ONE] 1\u{200B}3812345678",
        ] {
            check(text);
        }
    }
}
