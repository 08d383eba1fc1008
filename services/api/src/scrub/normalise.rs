//! The text the patterns run on, and the map back to the caller's text.
//!
//! Matching runs on a normalised copy: Unicode NFKC, invisible characters
//! dropped, every digit form read as an ASCII digit, look-alike dashes,
//! spaces and middle dots folded. Each byte of the copy remembers which
//! characters of the original produced it, so a match can be cut out of the
//! original and everything outside matches is returned as it was written.

use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;

/// What happens to a character before matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Disposition {
    /// Part of the text.
    Keep,
    /// Invisible and meaningless in a report (zero-width characters, the
    /// soft hyphen, joiners, tags): dropped from the stored text too, so that
    /// nobody can hide a number from the patterns by splitting it.
    Remove,
    /// Invisible but part of how something is written (combining marks,
    /// variation selectors): kept in the stored text, not seen by the patterns.
    Ignore,
    /// A control or bidirectional-override character: refused by the command
    /// path (422), and dropped by [`super::Scrubber::scrub`] should one reach it.
    Refuse,
}

/// How the scrubber treats `c`; see [`Disposition`].
pub(super) fn disposition(c: char) -> Disposition {
    match c {
        '\t' | '\n' | '\r' => Disposition::Keep,
        // Fast path: the bulk of a report is ASCII and CJK ideographs.
        ' '..='~' | '\u{4E00}'..='\u{9FFF}' | '\u{3001}'..='\u{3029}' | '\u{FF01}'..='\u{FF5E}' => {
            Disposition::Keep
        }
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Disposition::Refuse,
        '\u{00AD}'
        | '\u{034F}'
        | '\u{061C}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{17B4}'
        | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2060}'..='\u{2064}'
        | '\u{206A}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FEFF}'
        | '\u{FFA0}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0000}'..='\u{E007F}' => Disposition::Remove,
        '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' => Disposition::Ignore,
        _ => match get_general_category(c) {
            GeneralCategory::Control => Disposition::Refuse,
            GeneralCategory::NonspacingMark | GeneralCategory::EnclosingMark => Disposition::Ignore,
            _ => Disposition::Keep,
        },
    }
}

/// Code points of the Chinese numerals, for [`NUMERAL_FILTER`].
const NUMERALS: [char; 24] = [
    '〇', '零', '一', '幺', '壹', '二', '贰', '貳', '三', '叁', '參', '四', '肆', '五', '伍', '六',
    '陆', '陸', '七', '柒', '八', '捌', '九', '玖',
];

/// A bit for each numeral's code point modulo 1024: most ideographs are
/// ruled out by one lookup before the exact test.
static NUMERAL_FILTER: [u64; 16] = {
    let mut bits = [0u64; 16];
    let mut i = 0;
    while i < NUMERALS.len() {
        let x = NUMERALS[i] as u32 & 1023;
        bits[(x >> 6) as usize] |= 1 << (x & 63);
        i += 1;
    }
    bits
};

/// Chinese numerals as digits. 幺 is how "one" is read out in a phone
/// number; the financial forms (壹…玖) are how numbers are written on forms.
pub(super) fn chinese_digit(c: char) -> Option<u8> {
    let x = u32::from(c) & 1023;
    if (NUMERAL_FILTER[(x >> 6) as usize] >> (x & 63)) & 1 == 0 {
        return None;
    }
    Some(match c {
        '〇' | '零' => 0,
        '一' | '幺' | '壹' => 1,
        '二' | '贰' | '貳' => 2,
        '三' | '叁' | '參' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' | '陸' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

/// A run of Chinese numerals (with digits and number separators among them)
/// is read as digits when it holds at least this many digits: identifiers
/// are spoken digit by digit, ordinary prose never strings five numerals
/// together ("一二三" in a list, "三四天" are shorter).
const MIN_CHINESE_RUN: usize = 5;

/// See [`super::digit_value`].
pub(super) fn digit_value(c: char) -> Option<u8> {
    match c {
        '\u{FF10}'..='\u{FF19}' => u8::try_from(u32::from(c) - 0xFF10).ok(),
        _ => decimal_digit(c).or_else(|| chinese_digit(c)).or_else(|| {
            // Circled, parenthesised and other compatibility digits.
            let mut nfkc = std::iter::once(c).nfkc();
            match (nfkc.next(), nfkc.next()) {
                (Some(d), None) => decimal_digit(d),
                _ => None,
            }
        }),
    }
}

/// Characters that may stand between the digit groups of one number.
pub(super) fn is_number_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '(' | ')' | '/' | '·' | '_')
}

/// The normalised text, and where each piece of it came from.
#[derive(Debug)]
pub(super) struct View {
    /// The normalised text.
    pub text: String,
    /// Pieces of the text in order, each either a copy of the original
    /// (byte for byte) or what one character of the original became.
    segments: Vec<Segment>,
    /// Byte offsets of the digits that were Chinese numerals, in order.
    numerals: Vec<usize>,
    /// Whether a character was left out (see [`Disposition`]).
    pub dropped: bool,
}

/// A piece of the normalised text from `view` to the next piece's `view`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    view: u32,
    /// Where it starts in the original.
    orig: u32,
    /// For a changed character, where it ends in the original; for a copy,
    /// `u32::MAX`.
    orig_end: u32,
}

impl Segment {
    fn is_copy(&self) -> bool {
        self.orig_end == u32::MAX
    }
}

impl View {
    /// Normalises `original`. Offsets are `u32`: the command path limits a
    /// request body to 1 MiB.
    pub fn new(original: &str) -> Self {
        let mut view = Self {
            text: String::with_capacity(original.len()),
            segments: Vec::new(),
            numerals: Vec::new(),
            dropped: false,
        };
        // The start of the run of characters copied as they are.
        let mut copy_from: Option<usize> = None;
        let mut buf = String::new();
        let mut numerals = false;
        for (at, c) in original.char_indices() {
            // The bulk of a report: printable ASCII and CJK ideographs, as
            // they are.
            if matches!(c, ' '..='~' | '\u{4E00}'..='\u{9FFF}') {
                if !numerals && c >= '\u{4E00}' {
                    numerals = chinese_digit(c).is_some();
                }
                copy_from.get_or_insert(at);
                continue;
            }
            let folded = if disposition(c) == Disposition::Keep {
                fold(c)
            } else {
                view.dropped = true;
                Folded::Drop
            };
            if matches!(folded, Folded::One(f) if f == c) {
                numerals |= chinese_digit(c).is_some();
                copy_from.get_or_insert(at);
                continue;
            }
            if let Some(from) = copy_from.take() {
                view.copy(original, from, at);
            }
            let end = offset(at + c.len_utf8());
            match folded {
                Folded::One(f) => view.changed(offset(at), end, std::iter::once(f)),
                Folded::Nfkc => {
                    buf.clear();
                    buf.extend(std::iter::once(c).nfkc());
                    let kept = buf
                        .chars()
                        .filter(|&f| disposition(f) == Disposition::Keep)
                        .map(fold_simple);
                    view.changed(offset(at), end, kept);
                }
                Folded::Drop => {}
            }
        }
        if let Some(from) = copy_from {
            view.copy(original, from, original.len());
        }
        if numerals {
            view.read_chinese_numerals();
        }
        view
    }

    fn copy(&mut self, original: &str, from: usize, to: usize) {
        self.segments.push(Segment {
            view: offset(self.text.len()),
            orig: offset(from),
            orig_end: u32::MAX,
        });
        self.text.push_str(&original[from..to]);
    }

    fn changed(&mut self, orig: u32, orig_end: u32, chars: impl Iterator<Item = char>) {
        let view = offset(self.text.len());
        self.text.extend(chars);
        if offset(self.text.len()) > view {
            self.segments.push(Segment {
                view,
                orig,
                orig_end,
            });
        }
    }

    /// Reads runs of Chinese numerals as digits; rare, so done over again
    /// one character at a time.
    fn read_chinese_numerals(&mut self) {
        if !has_numeral_run(&self.text) {
            return;
        }
        let mut chars: Vec<(char, u32, u32)> = Vec::with_capacity(self.text.len());
        for (at, c) in self.text.char_indices() {
            let (from, to) = self.original(at, at + c.len_utf8());
            chars.push((c, offset(from), offset(to)));
        }
        let mapped = read_chinese_numerals(&mut chars);
        if mapped.is_empty() {
            return;
        }
        self.text.clear();
        self.segments.clear();
        for (i, (c, from, to)) in chars.into_iter().enumerate() {
            if mapped.binary_search(&i).is_ok() {
                self.numerals.push(self.text.len());
            }
            self.changed(from, to, std::iter::once(c));
        }
    }

    /// Whether the digit at byte `at` was written as a Chinese numeral. A
    /// name reads it as the character it was (张三): once the digits around
    /// it are replaced, it is a character again.
    pub fn was_numeral(&self, at: usize) -> bool {
        self.numerals.binary_search(&at).is_ok()
    }

    fn segment(&self, at: usize) -> Option<&Segment> {
        let i = self
            .segments
            .partition_point(|s| s.view as usize <= at)
            .checked_sub(1)?;
        self.segments.get(i)
    }

    /// The original byte range behind the normalised bytes `start..end`
    /// (`start < end`, both character boundaries): from the first character
    /// that produced `start` to the end of the one that produced the byte
    /// before `end`.
    pub fn original(&self, start: usize, end: usize) -> (usize, usize) {
        let from = self.segment(start).map_or(0, |s| {
            if s.is_copy() {
                s.orig as usize + (start - s.view as usize)
            } else {
                s.orig as usize
            }
        });
        let to = self.segment(end.saturating_sub(1)).map_or(from, |s| {
            if s.is_copy() {
                s.orig as usize + (end - s.view as usize)
            } else {
                s.orig_end as usize
            }
        });
        (from, to.max(from))
    }
}

fn offset(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}

enum Folded {
    One(char),
    Nfkc,
    Drop,
}

/// One character of the original as the patterns see it.
fn fold(c: char) -> Folded {
    match c {
        ' '..='~' | '\u{4E00}'..='\u{9FFF}' | '\t' | '\n' | '\r' => Folded::One(c),
        // Full-width ASCII, what Chinese IMEs type: NFKC's answer, cheaply.
        '\u{FF01}'..='\u{FF5E}' => Folded::One(fold_simple(
            char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        )),
        // CJK punctuation and kana are their own NFKC form.
        '\u{3001}'..='\u{3011}' | '\u{3040}'..='\u{30FA}' => Folded::One(c),
        _ => match decimal_digit(c) {
            Some(d) => Folded::One(char::from(b'0' + d)),
            None => Folded::Nfkc,
        },
    }
}

/// Dashes, spaces and middle dots that NFKC leaves apart.
fn fold_simple(c: char) -> char {
    match c {
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => ' ',
        '\u{2010}'..='\u{2015}'
        | '\u{2212}'
        | '\u{2E3A}'
        | '\u{2E3B}'
        | '\u{FE58}'
        | '\u{30FC}' => '-',
        '\u{00B7}' | '\u{2022}' | '\u{2027}' | '\u{2219}' | '\u{22C5}' | '\u{30FB}'
        | '\u{FF65}' => '·',
        _ => c,
    }
}

/// The value of a decimal digit of any script (Unicode category Nd). Every
/// script's digits are encoded as contiguous runs of ten, zero first, so the
/// value is the distance from the start of the run, modulo ten.
fn decimal_digit(c: char) -> Option<u8> {
    if c.is_ascii_digit() {
        return Some(c as u8 - b'0');
    }
    if get_general_category(c) != GeneralCategory::DecimalNumber {
        return None;
    }
    let mut start = u32::from(c);
    while let Some(prev) = start.checked_sub(1).and_then(char::from_u32) {
        if get_general_category(prev) != GeneralCategory::DecimalNumber {
            break;
        }
        start -= 1;
    }
    u8::try_from((u32::from(c) - start) % 10).ok()
}

/// Reads runs of Chinese numerals as digits (see [`MIN_CHINESE_RUN`]);
/// returns the indices of the characters it changed, in order.
fn read_chinese_numerals(chars: &mut [(char, u32, u32)]) -> Vec<usize> {
    let mut mapped = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chinese_digit(chars[i].0).is_none() {
            i += 1;
            continue;
        }
        // Extend the run both ways over digits, numerals and separators
        // that stand between two of them.
        let mut start = i;
        while start > 0 && is_digitish(chars[start - 1].0) {
            start -= 1;
        }
        let mut end = i + 1;
        let mut digits = 0;
        let mut last_digit = i;
        let mut j = start;
        while j < chars.len() {
            let c = chars[j].0;
            if is_digitish(c) {
                digits += 1;
                last_digit = j;
                end = j + 1;
            } else if !(is_number_separator(c) && j > start && j - last_digit <= 3) {
                break;
            }
            j += 1;
        }
        if digits >= MIN_CHINESE_RUN {
            for (k, entry) in chars[start..end].iter_mut().enumerate() {
                if let Some(d) = chinese_digit(entry.0) {
                    entry.0 = char::from(b'0' + d);
                    mapped.push(start + k);
                }
            }
        }
        i = end.max(i + 1);
    }
    mapped
}

/// Whether [`read_chinese_numerals`] would read anything in `text`: a run
/// with a numeral and at least [`MIN_CHINESE_RUN`] digits. Most Chinese
/// text has numerals (一次, 三天) but no such run.
fn has_numeral_run(text: &str) -> bool {
    let (mut digits, mut numeral, mut gap) = (0, false, 0);
    for c in text.chars() {
        if is_digitish(c) {
            digits += 1;
            numeral |= !c.is_ascii_digit();
            gap = 0;
            if numeral && digits >= MIN_CHINESE_RUN {
                return true;
            }
        } else if digits > 0 && is_number_separator(c) && gap < 3 {
            gap += 1;
        } else {
            (digits, numeral, gap) = (0, false, 0);
        }
    }
    false
}

fn is_digitish(c: char) -> bool {
    c.is_ascii_digit() || chinese_digit(c).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(s: &str) -> String {
        View::new(s).text
    }

    #[test]
    fn digit_forms_are_ascii() {
        assert_eq!(view("１３８"), "138");
        assert_eq!(view("①③⑧"), "138");
        assert_eq!(view("𝟏𝟑𝟖"), "138");
        assert_eq!(view("٣٨"), "38");
        assert_eq!(view("१३८"), "138");
        assert_eq!(view("一三八一二三四五六七八"), "13812345678");
        assert_eq!(view("一三八 一二三四 五六七八"), "138 1234 5678");
        assert_eq!(view("138一二三四5678"), "13812345678");
    }

    #[test]
    fn short_numeral_runs_stay_chinese() {
        assert_eq!(view("三四天"), "三四天");
        assert_eq!(view("一二三四"), "一二三四");
        assert_eq!(view("第一次"), "第一次");
    }

    #[test]
    fn invisible_characters() {
        assert_eq!(view("13\u{200B}8\u{00AD}1"), "1381");
        assert_eq!(view("1\u{0332}3"), "13");
        assert_eq!(disposition('\u{202E}'), Disposition::Refuse);
        assert_eq!(disposition('\u{7}'), Disposition::Refuse);
        assert_eq!(disposition('\u{85}'), Disposition::Refuse);
        assert_eq!(disposition('\n'), Disposition::Keep);
        assert_eq!(disposition('\u{200B}'), Disposition::Remove);
    }

    #[test]
    fn folding() {
        assert_eq!(view("（０５７１）—８７６５"), "(0571)-8765");
        assert_eq!(view("138・1234"), "138·1234");
        assert_eq!(view("a＠b．com"), "a@b.com");
        assert_eq!(view("ｘ\u{3000}y"), "x y");
    }

    #[test]
    fn spans_map_back() {
        let original = "电话①③\u{200B}⑧";
        let v = View::new(original);
        assert_eq!(v.text, "电话138");
        let (from, to) = v.original(6, 9);
        assert_eq!(&original[from..to], "①③\u{200B}⑧");
        let expanded = View::new("⑽");
        assert_eq!(expanded.text, "(10)");
        assert_eq!(expanded.original(1, 3), (0, "⑽".len()));
    }
}
