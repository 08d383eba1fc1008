//! Where the text names a bed: `3床`, `12号床`, `十二床`, `床号12`, `床位号：8`,
//! `bed 12`, `Bed#7`. Found by looking around each 床 and each "bed" rather
//! than by a pattern, which would have to start at every digit of a report.

/// A bed mentioned in the normalised text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Mention {
    /// The bed number (digits, Chinese numerals, or an earlier `[BED]`).
    pub number: (usize, usize),
    /// How it was written.
    pub form: Form,
    /// Where the 床 or "bed" it hangs on starts.
    pub word: usize,
    /// Where a name may start after it (张三 in 3床张三, 床号12张三).
    pub context_end: usize,
}

/// How a bed number was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    /// Before 床: `3床`, `12号床`.
    Before,
    /// After a label: `床号12`, `床位8`.
    After,
    /// After the English word: `bed 12`.
    English,
}

/// How a bed number reads once replaced.
pub(super) const MARKER: &str = "[BED]";

fn is_numeral(c: char) -> bool {
    matches!(
        c,
        '一' | '二' | '三' | '四' | '五' | '六' | '七' | '八' | '九' | '十' | '〇' | '零' | '百'
    )
}

/// The number that ends at `end`: a run of digits, of numerals, or `[BED]`.
fn number_before(hay: &str, end: usize) -> Option<(usize, usize)> {
    let before = &hay[..end];
    if before.ends_with(MARKER) {
        return Some((end - MARKER.len(), end));
    }
    let digits = before.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        return Some((end - digits, end));
    }
    let numerals: usize = before
        .chars()
        .rev()
        .take_while(|&c| is_numeral(c))
        .map(char::len_utf8)
        .sum();
    (numerals > 0).then_some((end - numerals, end))
}

/// The number that starts at `start`.
fn number_after(hay: &str, start: usize) -> Option<(usize, usize)> {
    let after = &hay[start..];
    if after.starts_with(MARKER) {
        return Some((start, start + MARKER.len()));
    }
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        return Some((start, start + digits));
    }
    let numerals: usize = after
        .chars()
        .take_while(|&c| is_numeral(c))
        .map(char::len_utf8)
        .sum();
    (numerals > 0).then_some((start, start + numerals))
}

/// Skips one `c` before `at`, if it is there.
fn back(hay: &str, at: usize, c: char) -> usize {
    if hay[..at].ends_with(c) {
        at - c.len_utf8()
    } else {
        at
    }
}

/// Skips one `c` (or one of several) at `at`, if it is there.
fn fwd(hay: &str, at: usize, cs: &[char]) -> usize {
    match hay[at..].chars().next() {
        Some(c) if cs.contains(&c) => at + c.len_utf8(),
        _ => at,
    }
}

fn spaces(hay: &str, at: usize) -> usize {
    at + hay[at..].bytes().take_while(|&b| b == b' ').count()
}

/// Every bed mentioned in `hay`, in order of the 床 or "bed" it hangs on.
pub(super) fn mentions(hay: &str) -> Vec<Mention> {
    let mut out = Vec::new();
    for (at, _) in hay.match_indices('床') {
        let after_bed = at + '床'.len_utf8();
        // "3床", "12 号 床".
        let mut end = back(hay, at, ' ');
        end = back(hay, end, '号');
        end = back(hay, end, ' ');
        if let Some(number) = number_before(hay, end) {
            out.push(Mention {
                number,
                form: Form::Before,
                word: at,
                context_end: spaces(hay, after_bed),
            });
        }
        // "床号12", "床位号：8", "床位8".
        let rest = &hay[after_bed..];
        let label = if rest.starts_with("位号") {
            "位号".len()
        } else if rest.starts_with(['号', '位']) {
            '号'.len_utf8()
        } else {
            continue;
        };
        let mut start = fwd(hay, after_bed + label, &[' ']);
        start = fwd(hay, start, &[':', '为', '是']);
        start = fwd(hay, start, &[' ']);
        if let Some(number) = number_after(hay, start) {
            out.push(Mention {
                number,
                form: Form::After,
                word: at,
                context_end: spaces(hay, number.1),
            });
        }
    }
    let bytes = hay.as_bytes();
    for (at, _) in hay.match_indices(['b', 'B']) {
        if !bytes
            .get(at..at + 3)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"bed"))
        {
            continue;
        }
        let mut start = fwd(hay, at + 3, &[' ']);
        let rest = &hay[start..];
        if rest
            .get(..6)
            .is_some_and(|w| w.eq_ignore_ascii_case("number"))
        {
            start += 6;
        } else if rest.get(..2).is_some_and(|w| w.eq_ignore_ascii_case("no")) {
            start = fwd(hay, start + 2, &['.']);
        } else {
            start = fwd(hay, start, &['#']);
        }
        start = fwd(hay, start, &[' ']);
        let digits = hay[start..].bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push(Mention {
                number: (start, start + digits),
                form: Form::English,
                word: at,
                context_end: start + digits,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(hay: &str) -> Vec<&str> {
        mentions(hay)
            .iter()
            .map(|m| &hay[m.number.0..m.number.1])
            .collect()
    }

    #[test]
    fn forms() {
        assert_eq!(numbers("3床"), ["3"]);
        assert_eq!(numbers("12 号 床"), ["12"]);
        assert_eq!(numbers("十二床"), ["十二"]);
        assert_eq!(numbers("床号12"), ["12"]);
        assert_eq!(numbers("床位号:8"), ["8"]);
        assert_eq!(numbers("床位 8"), ["8"]);
        assert_eq!(numbers("[BED]床"), ["[BED]"]);
        assert_eq!(numbers("bed 12"), ["12"]);
        assert_eq!(numbers("Bed#7"), ["7"]);
        assert_eq!(numbers("BED No. 3"), ["3"]);
        assert_eq!(numbers("坠床1次"), Vec::<&str>::new());
        assert_eq!(numbers("床旁"), Vec::<&str>::new());
        assert_eq!(numbers("bedside"), Vec::<&str>::new());
    }
}
