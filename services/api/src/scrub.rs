//! Free-text PII scrubber: every string a person or a system types goes
//! through [`Scrubber::scrub`] before it is appended.
//!
//! The event stream is append-only, so anything identifying that reaches it
//! can never be taken back. The scrubber is therefore biased towards
//! removing too much: a lost digit string costs a reviewer a little
//! context, a leaked identity cannot be undone. Which fields are free text
//! is said by the schemas (`"x-lantern-free-text": true`, read by
//! `lantern_ledger::SchemaRegistry::free_text_pointers`), and
//! [`Scrubber::scrub_value`] scrubs exactly those strings of an event's data.
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
//! | [`PiiKind::Name`]                  | `[NAME]`  |
//! | [`PiiKind::Bed`]                   | `[BED]`   |
//!
//! ASCII upper-case reads the same to Chinese and English readers, stands
//! out against Chinese prose, and contains no digit, `@`, surname or label,
//! so no pattern can match a marker (which is what makes scrubbing
//! idempotent).
//!
//! # Normalise first, store the original
//!
//! The patterns run on a normalised copy of the text (`normalise.rs`):
//! Unicode NFKC; zero-width characters, the soft hyphen, joiners and tag
//! characters removed; combining marks and variation selectors ignored;
//! every digit form — full-width, circled, mathematical, any script's
//! decimal digits, and Chinese numerals (〇一二…九, 幺, 壹…玖) in a run of
//! five or more — read as ASCII digits; dashes, spaces and middle dots
//! folded. What is stored is the *original* text with each match cut out
//! and replaced, less the removed invisible characters: NFKC would turn the
//! Chinese comma and colon (，：) of every narrative into ASCII, and the
//! staff who read a report should read what the reporter wrote.
//!
//! # What is matched
//!
//! * **Numbers written any way** (`numbers.rs`): digit groups joined by up
//!   to three separators (space, `.`, `-`, `(`, `)`, `/`, `·`, `_`) form a
//!   chain; whole groups of it read together are a **resident ID**
//!   (18 characters with a valid ISO 7064 check character, or with a real
//!   birth date in 1900–2099 and an area code not starting with 0; old
//!   15-digit IDs with a real date), a **mobile** (`1[3-9]` + 9 digits,
//!   optional `86`/`0086`/`+86` prefix), a **landline** (`010`/`02x` + 8
//!   digits, `0[3-9]xx` + 7–8, the area code a group of its own when
//!   grouped; `+86`/`0086` without the trunk 0), or a **long run** of 12 or
//!   more digits ([`PiiKind::MedicalRecordNumber`]).
//! * **Labelled codes**: a code of 4+ letters/digits (at least one digit)
//!   after 病案号, 病历号, 住院号, 门诊号, 急诊号, 就诊号, 登记号, 档案号, 入院号,
//!   出院号, 腕带(编)号, 标本号, 检验号, 处方号, 就诊卡(号), 医保卡号, ID号,
//!   患者ID, Patient ID, MRN, MR No., MR#, Medical Record No., QQ, 微信 —
//!   `[MRN]`; after 身份证(号), 证件号, 护照号 — `[ID]`. The label is kept.
//! * **Labelled phones**: 7–12 digits, separators allowed, after 电话, 手机,
//!   座机, 固话, 联系方式, Tel, Phone, Mobile, ….
//! * **E-mail addresses**, also written `x at y dot com`, `x [at] y`,
//!   `x(at)y`, `x＠y`, `x#y.com`, `x 艾特 y点com`, `x @ y.com`: an address
//!   written with such a stand-in must end in a common top-level domain.
//! * **Bed numbers**: `3床`, `12号床`, `床号12`, `床位12`, `bed 12` — the
//!   number becomes `[BED]`, the word stays.
//! * **Names** by context (`names.rs`): after a role (患者, 病人, 家属, 护士,
//!   护士长, 医生, 医师, 大夫, 主任, 药师, …), a bed (3床张三), a label
//!   (名叫, 叫做, 姓名, 叫), before a title (王医生, 李女士), and 姓 + a
//!   surname; English after Mr/Mrs/Ms/Dr/Prof or patient/nurse/doctor/….
//!
//! # Decisions
//!
//! * A chain is read as one number only in whole groups, and from each
//!   group the longest identifier wins (IDs and phones before long runs),
//!   so a 20-digit number is one `[MRN]`, not `[PHONE]` plus leftovers.
//! * A chain of exactly two groups joined by one `.` after at most six
//!   digits is a decimal (`3.14159265358979`) and is left alone; a lone `.`
//!   after a longer run is a full stop (`…2316.13812345678` loses both).
//! * Grouped long runs must look like card or record numbers — one
//!   separator throughout, groups of 4+ (the last 3+) — and not be a list of
//!   times or dates: `120 130 140 150`, `2026-11-23 2026-11-24`, `0800 1200
//!   1600` and `180/110 160/100` stay. Unseparated compact timestamps
//!   (`YYYYMMDDhhmm[ss]`) stay.
//! * Runs of 11 digits or fewer that are neither a mobile nor a landline are
//!   left alone (order numbers, dates, counts), as are 7–8 digit local
//!   numbers without a phone label. An 11-digit order number that starts
//!   with `1[3-9]` cannot be told from a mobile and is scrubbed.
//! * A name needs its context and a surname from the list; what follows a
//!   role word is not taken when its first character is a verb or particle
//!   (患者诉, 护士说, 家属已). A surname followed by 某 (张某) is already
//!   anonymised and kept. Addresses are out of scope.
//! * Precedence when matches overlap: e-mail, labelled code, numbers,
//!   labelled phone, bed, name.
//! * Control characters (but tab and line breaks) and bidirectional
//!   embeddings, overrides and isolates are refused by the command path
//!   ([`Scrubber::refused_character`], 422); [`Scrubber::scrub`] drops any
//!   that reach it.
//! * Decisions depend, as far as possible, only on text that survives
//!   scrubbing (a context that becomes `[BED]` still counts as a bed; a
//!   name or code ends where another match begins). Where a replacement
//!   still changes how its neighbours read — a Chinese numeral is a digit
//!   only in a long enough run — [`Scrubber::scrub`] passes again until a
//!   pass finds nothing, so scrubbing is idempotent; randomised tests check
//!   this.
//! * [`Scrubbed::found`] has one entry per replacement, duplicates
//!   included, so it can feed per-kind counters.

mod beds;
mod names;
mod normalise;
mod numbers;

use std::collections::BTreeMap;

use regex::{Captures, Regex};
use serde_json::Value;

use normalise::{Disposition, View, disposition};

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
    /// A personal name recognised by its context.
    Name,
    /// A bed number.
    Bed,
}

/// Every kind, in the order of [`PiiKind`].
pub const KINDS: [PiiKind; 6] = [
    PiiKind::ResidentId,
    PiiKind::Phone,
    PiiKind::Email,
    PiiKind::MedicalRecordNumber,
    PiiKind::Name,
    PiiKind::Bed,
];

/// The text with every match replaced by its marker, and what was found (for
/// metrics; never the matched text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scrubbed {
    /// The input with each match replaced by [`marker`] of its kind.
    pub text: String,
    /// One entry per replacement, duplicates included: in order of
    /// appearance, except that a replacement found only once its neighbours
    /// were replaced (a rare second pass) comes after the others.
    pub found: Vec<PiiKind>,
}

/// The marker that replaces a match of `kind`.
#[must_use]
pub fn marker(kind: PiiKind) -> &'static str {
    match kind {
        PiiKind::ResidentId => "[ID]",
        PiiKind::Phone => "[PHONE]",
        PiiKind::Email => "[EMAIL]",
        PiiKind::MedicalRecordNumber => "[MRN]",
        PiiKind::Name => "[NAME]",
        PiiKind::Bed => "[BED]",
    }
}

/// Whether [`Scrubber::scrub`] drops `c` from the text wherever it stands
/// (zero-width and other invisible characters, and refused ones).
#[must_use]
pub fn is_dropped(c: char) -> bool {
    matches!(disposition(c), Disposition::Remove | Disposition::Refuse)
}

/// The digit `c` is read as when it stands in a number: ASCII, full-width,
/// circled and other compatibility digits, any script's decimal digits, and
/// Chinese numerals (which count only in a
/// run of five or more digits; the run rule is not applied here).
#[must_use]
pub fn digit_value(c: char) -> Option<u8> {
    normalise::digit_value(c)
}

/// A free-text string holds a character the command path refuses (422): a
/// control character other than tab and line breaks, or a bidirectional
/// embedding, override or isolate, which can make stored text read
/// differently from what it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("contains the character U+{:04X} at position {index}, which is not allowed in text", u32::from(*character))]
pub struct RefusedCharacter {
    /// JSON Pointer of the string, with array indices (`/defects/2/text`).
    pub pointer: String,
    /// Position of the character in the string, counted in characters from 0.
    pub index: usize,
    /// The character.
    pub character: char,
}

/// Top-level domains an address written with a stand-in for `@` or `.`
/// must end in: "given at home.Then" is not an address.
const COMMON_TLDS: &[&str] = &[
    "com", "cn", "net", "org", "edu", "gov", "io", "me", "info", "biz", "co", "uk", "hk", "tw",
    "mo", "jp", "kr", "us", "cc", "top", "xyz", "vip", "site", "online", "tech", "ai", "app",
    "dev", "mail", "email", "ru", "de", "fr",
];

const EMAIL: &str = r"[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}";

/// Anything that may stand for `@` or `.` in an address. A plain `@` is
/// matched too so that spaces around it ("a @ b.com") are dropped.
const OBFUSCATION: &str = concat!(
    r"\s*[\[(<{【]\s*(?i-u:at|dot)\s*[\])>}】]\s*",
    r"|\s+(?i-u:at|dot)\s+",
    r"|\s*(?:艾特|点|[@#。])\s*",
    r"|\s+\.\s*|\s*\.\s+",
);

/// English labels are case-sensitive where a case-insensitive match would hit
/// clinical words ("mRNA", "Mr").
const RECORD_NUMBER: &str = concat!(
    r"(?P<label>(?P<id>身份证(?:号码?)?|证件号码?|护照号码?)",
    r"|(?:病案|病历|住院|门诊|急诊|留观|就诊|登记|档案|入院|出院|腕带编?|手环|标本|检验|处方|申请单?)号码?",
    r"|腕带编码|(?:就诊|诊疗|医保|社保|健康|银行)卡(?:号码?)?|医保号|(?:ID|id|Id)号",
    r"|(?:患者|病人)\s*(?:ID|id|编号)|(?i-u:patient\s*id)",
    r"|MRN|MR\s*(?:No|NO|no)\.?|MR\s*#|QQ号?|微信号?",
    r"|(?i-u:medical\s+record\s+(?:no\.?|number|#)))",
    r"(?P<sep>[\s:#=为是]*)",
    // A dotted continuation is part of the code so that the code never ends
    // at a decimal point; space-separated digit groups belong to it too.
    r"(?P<code>[A-Za-z0-9]+(?:[-_/][A-Za-z0-9]+|\.[0-9][A-Za-z0-9]*| [0-9]+)*)",
);

/// A short local number is only a phone when someone said so. English labels
/// must not be the tail of a longer word ("hotel"); that is checked in code.
const LABELLED_PHONE: &str = concat!(
    r"(?:联系电话|联系方式|电话|手机|座机|固话",
    r"|(?P<en>(?i-u:telephone|tel|phone|mobile|cell)))",
    r"[\s:#=.为是号码]*",
    r"(?P<m>[0-9](?:[ ._()/·-]{0,3}[0-9]){6,11})",
);

/// Passes of [`Scrubber::scrub`] at most: a safeguard, as every pass that
/// finds something leaves fewer characters that can match.
const MAX_PASSES: usize = 8;

/// Compiled patterns; build once and share (matching takes `&self`).
#[derive(Debug)]
pub struct Scrubber {
    email: Regex,
    obfuscation: Regex,
    record_number: Regex,
    labelled_phone: Regex,
    role: Regex,
    title: Regex,
    en_role: Regex,
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
        let role = format!(r"(?:{}|姓)[ :]*", names::ROLES);
        Self {
            email: compile(EMAIL),
            obfuscation: compile(OBFUSCATION),
            record_number: compile(RECORD_NUMBER),
            labelled_phone: compile(LABELLED_PHONE),
            role: compile(&role),
            title: compile(names::TITLES),
            en_role: compile(&format!(r"(?:{})\.? +", names::EN_ROLES)),
        }
    }

    /// Replaces every PII match in `text` with its [`marker`] and reports the
    /// kinds found. Idempotent: scrubbing the output again changes nothing.
    #[must_use]
    pub fn scrub(&self, text: &str) -> Scrubbed {
        let mut scrubbed = self.pass(text);
        // A replacement can change how its neighbours read (a Chinese
        // numeral is a digit only in a long enough run; what follows a
        // replaced number may no longer be a decimal), so passes repeat
        // until one finds nothing: that is what makes the result idempotent.
        // Text in which the first pass found nothing is returned at once
        // (the next pass would see the same normalised text). Each pass
        // replaces characters that are no marker with markers, which no
        // pattern matches, so this ends; the bound is a safeguard.
        let mut passes = 1;
        while !scrubbed.found.is_empty() && passes < MAX_PASSES {
            let next = self.pass(&scrubbed.text);
            if next.found.is_empty() {
                break;
            }
            scrubbed.text = next.text;
            scrubbed.found.extend(next.found);
            passes += 1;
        }
        scrubbed
    }

    /// One pass over `text`.
    fn pass(&self, text: &str) -> Scrubbed {
        let view = View::new(text);
        let hay = view.text.as_str();
        let mut claims = Claims::default();

        self.emails(hay, &mut claims);
        scan_labelled(&self.record_number, hay, |caps| {
            let kind = if caps.name("id").is_some() {
                PiiKind::ResidentId
            } else {
                PiiKind::MedicalRecordNumber
            };
            let (start, end) = record_code(caps, hay, &claims)?;
            (ends_number(hay, end) && claims.claim(start, end, kind)).then_some(end)
        });
        numbers::scan(hay, |f| claims.claim(f.start, f.end, f.kind));
        scan_labelled(&self.labelled_phone, hay, |caps| {
            // A letter that is itself being replaced (the X of an ID, the end
            // of an e-mail) will not be there after scrubbing, so it cannot
            // make the label part of a word.
            let inside_word = caps
                .name("en")
                .is_some_and(|en| letter_before(hay, en.start(), &claims));
            let m = caps.name("m").filter(|_| !inside_word)?;
            let end = claims.free_until(hay, m.start(), m.end());
            let digits = hay[m.start()..end]
                .bytes()
                .filter(u8::is_ascii_digit)
                .count();
            (digits >= 7 && ends_number(hay, end) && claims.claim(m.start(), end, PiiKind::Phone))
                .then_some(end)
        });
        let beds = beds::mentions(hay);
        claim_beds(hay, &beds, &mut claims);
        self.names(&view, &beds, &mut claims);

        claims.apply(text, &view)
    }

    /// The first character of `text` that the command path refuses, with its
    /// position in characters: a control character other than tab, line feed
    /// and carriage return, or a bidirectional embedding, override or isolate
    /// (U+202A–U+202E, U+2066–U+2069).
    #[must_use]
    pub fn refused_character(text: &str) -> Option<(usize, char)> {
        text.chars()
            .enumerate()
            .find(|&(_, c)| disposition(c) == Disposition::Refuse)
    }

    /// Scrubs in place every string of `value` at `pointers` (JSON Pointers;
    /// a `*` or `-` token stands for every element of an array), after
    /// checking all of them for refused characters: the first one found is
    /// the error, with the string's concrete pointer, and then nothing is
    /// changed. Pointers that lead nowhere or to a non-string are skipped
    /// (optional fields). Returns the kinds found, in order.
    pub fn scrub_value(
        &self,
        value: &mut Value,
        pointers: &[String],
    ) -> Result<Vec<PiiKind>, RefusedCharacter> {
        let mut targets = Vec::new();
        for pointer in pointers {
            let tokens: Vec<String> = pointer
                .split('/')
                .skip(1)
                .map(|t| t.replace("~1", "/").replace("~0", "~"))
                .collect();
            expand(value, &tokens, String::new(), &mut targets);
        }
        for target in &targets {
            if let Some(Value::String(s)) = value.pointer(target)
                && let Some((index, character)) = Self::refused_character(s)
            {
                return Err(RefusedCharacter {
                    pointer: target.clone(),
                    index,
                    character,
                });
            }
        }
        let mut found = Vec::new();
        for target in &targets {
            if let Some(Value::String(s)) = value.pointer_mut(target) {
                let scrubbed = self.scrub(s);
                *s = scrubbed.text;
                found.extend(scrubbed.found);
            }
        }
        Ok(found)
    }

    /// E-mail addresses, read through the stand-ins of [`OBFUSCATION`].
    fn emails(&self, hay: &str, claims: &mut Claims) {
        // Only text with one of these can hold an address at all.
        let hint = hay.bytes().any(|b| b == b'@' || b == b'#')
            || hay.contains("艾特")
            || hay
                .as_bytes()
                .windows(2)
                .any(|w| w.eq_ignore_ascii_case(b"at"));
        if !hint {
            return;
        }
        // The address text with each stand-in replaced, and for each of its
        // bytes the range of `hay` behind it.
        let mut text = String::with_capacity(hay.len());
        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(hay.len());
        let mut synthetic: Vec<usize> = Vec::new();
        let mut copied = 0;
        let copy = |text: &mut String, spans: &mut Vec<(usize, usize)>, from: usize, to: usize| {
            for (i, c) in hay[from..to].char_indices() {
                let at = from + i;
                text.push(c);
                spans.extend(std::iter::repeat_n((at, at + c.len_utf8()), c.len_utf8()));
            }
        };
        for m in self.obfuscation.find_iter(hay) {
            if m.as_str() == "@" {
                continue;
            }
            copy(&mut text, &mut spans, copied, m.start());
            let s = m.as_str();
            let dot = s.contains(['.', '点', '。']) || s.to_ascii_lowercase().contains("dot");
            synthetic.push(text.len());
            text.push(if dot { '.' } else { '@' });
            spans.push((m.start(), m.end()));
            copied = m.end();
        }
        copy(&mut text, &mut spans, copied, hay.len());
        // A rejected candidate is retried from its next character, so that
        // the decision for an address never depends on what stands before
        // it (which a later pass may have replaced).
        let mut pos = 0;
        while let Some(m) = self.email.find_at(&text, pos) {
            let accepted = self
                .address_at(&text, m.start(), m.end(), &synthetic)
                .filter(|&end| claims.claim(spans[m.start()].0, spans[end - 1].1, PiiKind::Email));
            pos = accepted.unwrap_or_else(|| next_char_boundary(&text, m.start()));
            if pos > text.len() {
                break;
            }
        }
    }

    /// The end of the address that starts at `start` of the address text,
    /// the candidate first ending at `end`: an address written with a
    /// stand-in must end in a common top-level domain, so a candidate that
    /// does not is cut back at its last dot and tried again ("a at b.cn13
    /// 8Smith dot x" is "a at b.cn").
    fn address_at(
        &self,
        text: &str,
        start: usize,
        mut end: usize,
        synthetic: &[usize],
    ) -> Option<usize> {
        // A local part never starts with a stand-in ("点a.b@c.cn") or a dot.
        if synthetic.contains(&start) || text[start..].starts_with('.') {
            return None;
        }
        loop {
            let m = self
                .email
                .find(&text[start..end])
                .filter(|m| m.start() == 0)?;
            end = start + m.end();
            let stand_in = synthetic.iter().any(|&at| (start..end).contains(&at));
            let tld = m.as_str().rsplit('.').next().unwrap_or_default();
            if !stand_in || COMMON_TLDS.contains(&tld.to_ascii_lowercase().as_str()) {
                return Some(end);
            }
            end = start + m.as_str().rfind('.')?;
        }
    }

    /// Names after a role, bed or label, before a title, and English ones.
    fn names(&self, view: &View, beds: &[beds::Mention], claims: &mut Claims) {
        let hay = view.text.as_str();
        // A name may follow the context, which is the end of `before`.
        let after_context = |before: &str, claims: &mut Claims| {
            let at = before.len();
            // 姓 + surname alone ("患者姓王"); 姓名 is a label like the others.
            let surname_only = before.trim_end_matches([' ', ':']).ends_with('姓');
            let taken = |i: usize| claims.covers(i);
            let len = if hay[at..].starts_with(|c: char| c.is_ascii_uppercase()) {
                names::english_name(hay, at, taken)
            } else {
                names::chinese_name(hay, at, usize::from(!surname_only), taken, |i| {
                    view.was_numeral(i)
                })
            }?;
            claims
                .claim(at, at + len, PiiKind::Name)
                .then_some(at + len)
        };
        scan_found(&self.role, hay, |m| after_context(&hay[..m.end()], claims));
        for bed in beds.iter().filter(|b| b.form != beds::Form::English) {
            after_context(&hay[..bed.context_end], claims);
        }
        for m in self.title.find_iter(hay) {
            if let Some(start) = names::surname_before(hay, m.start()) {
                claims.claim(start, m.start(), PiiKind::Name);
            }
        }
        // English names are capitalised.
        if !hay.bytes().any(|b| b.is_ascii_uppercase()) {
            return;
        }
        scan_found(&self.en_role, hay, |role| {
            if letter_before(hay, role.start(), claims) {
                return None;
            }
            let at = role.end();
            names::english_name(hay, at, |i| claims.covers(i))
                .filter(|&len| claims.claim(at, at + len, PiiKind::Name))
                .map(|len| at + len)
        });
    }
}

/// Bed numbers; the number is replaced, the word kept.
fn claim_beds(hay: &str, beds: &[beds::Mention], claims: &mut Claims) {
    for bed in beds {
        let (start, end) = bed.number;
        let n = &hay[start..end];
        let digits = n.starts_with(|c: char| c.is_ascii_digit());
        let short = if digits {
            n.len() <= if bed.form == beds::Form::After { 4 } else { 3 }
        } else {
            n.chars().count() <= 4
        };
        // Not part of a decimal ("bed 6.5", "1.5床"): the other half would
        // become a number of its own. A digit another match took will not
        // be there after scrubbing.
        let free_digit = |at: usize| {
            hay.as_bytes().get(at).is_some_and(u8::is_ascii_digit) && !claims.covers(at)
        };
        let decimal = digits
            && ((hay[end..].starts_with('.') && free_digit(end + 1))
                || (hay[..start].ends_with('.') && start >= 2 && free_digit(start - 2)));
        let fits = match bed.form {
            // "一床被子", "同一床", "30床位": a measure word or a count.
            beds::Form::Before => {
                n != "一"
                    && !hay[bed.word + '床'.len_utf8()..].starts_with(['位', '被', '单', '褥'])
            }
            beds::Form::After => true,
            beds::Form::English => !letter_before(hay, bed.word, claims),
        };
        if n != beds::MARKER && short && !decimal && fits {
            claims.claim(start, end, PiiKind::Bed);
        }
    }
}

// The patterns are constants compiled by every unit test of the scrubber:
// one that did not compile could not pass a single test.
#[allow(clippy::expect_used)]
fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).expect("scrub patterns are constants exercised by the unit tests")
}

/// Whether an ASCII letter that survives scrubbing stands right before `at`.
fn letter_before(hay: &str, at: usize, claims: &Claims) -> bool {
    hay[..at]
        .char_indices()
        .next_back()
        .is_some_and(|(i, c)| c.is_ascii_alphabetic() && !claims.covers(i))
}

/// Collects the concrete pointers of the strings that `tokens` reach from
/// `value`, expanding `*` and `-` over arrays.
fn expand(value: &Value, tokens: &[String], prefix: String, out: &mut Vec<String>) {
    let Some((token, rest)) = tokens.split_first() else {
        if value.is_string() {
            out.push(prefix);
        }
        return;
    };
    let escaped = |t: &str| t.replace('~', "~0").replace('/', "~1");
    match value {
        Value::Array(items) if token == "*" || token == "-" => {
            for (i, item) in items.iter().enumerate() {
                expand(item, rest, format!("{prefix}/{i}"), out);
            }
        }
        Value::Array(items) => {
            if let Some(item) = token.parse::<usize>().ok().and_then(|i| items.get(i)) {
                expand(item, rest, format!("{prefix}/{token}"), out);
            }
        }
        Value::Object(map) => {
            if let Some(child) = map.get(token) {
                expand(child, rest, format!("{prefix}/{}", escaped(token)), out);
            }
        }
        _ => {}
    }
}

/// Runs a label pattern over `hay`, handing each match to `accept`, which
/// returns the end of what it claimed, if it claimed something; the search
/// goes on from there. Unlike `captures_iter`, a rejected match does not
/// hide the text it covered: in "MRNA-1 MRN 12345" the rejected first match
/// swallows the second label, which must still be seen; and in "3床号8" the
/// 床 of the first bed is the start of the second.
fn scan_labelled(re: &Regex, hay: &str, mut accept: impl FnMut(&Captures<'_>) -> Option<usize>) {
    let mut pos = 0;
    while let Some(caps) = re.captures_at(hay, pos) {
        let Some(whole) = caps.get(0) else {
            break;
        };
        pos = match accept(&caps) {
            Some(end) if end > pos => end,
            _ => next_char_boundary(hay, whole.start()),
        };
        if pos > hay.len() {
            break;
        }
    }
}

/// [`scan_labelled`] for patterns without groups: cheaper, as no captures
/// are resolved.
fn scan_found(re: &Regex, hay: &str, mut accept: impl FnMut(regex::Match<'_>) -> Option<usize>) {
    let mut pos = 0;
    while let Some(m) = re.find_at(hay, pos) {
        pos = match accept(m) {
            Some(end) if end > pos => end,
            _ => next_char_boundary(hay, m.start()),
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

/// Whether a number ending at `end` really ends there: no digit follows.
fn ends_number(hay: &str, end: usize) -> bool {
    !hay[end..].starts_with(|c: char| c.is_ascii_digit())
}

/// The code of a labelled record number, if it is plausible as one; it
/// ends where another match begins.
fn record_code(caps: &Captures<'_>, hay: &str, claims: &Claims) -> Option<(usize, usize)> {
    let code = caps.name("code")?;
    let end = claims.free_until(hay, code.start(), code.end());
    let text = &hay[code.start()..end];
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
    Some((code.start(), end))
}

/// Accepted matches as normalised byte ranges, keyed by start; never
/// overlapping, so the earlier (higher-precedence) pass wins.
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

    /// Where the text `start..end` of `hay` must end so that it overlaps no
    /// claim and does not end on a separator: a labelled code or number
    /// that runs into another match ends before it, as it will after
    /// scrubbing.
    fn free_until(&self, hay: &str, start: usize, end: usize) -> usize {
        let mut stop = end;
        if let Some((&claimed, _)) = self.0.range(start..end).next() {
            stop = claimed;
        }
        hay[start..stop]
            .trim_end_matches([' ', '-', '_', '/', '.', '(', ')', '·'])
            .len()
            + start
    }

    /// Whether normalised byte `at` is inside a claim.
    fn covers(&self, at: usize) -> bool {
        self.0
            .range(..=at)
            .next_back()
            .is_some_and(|(_, &(end, _))| end > at)
    }

    fn apply(&self, original: &str, view: &View) -> Scrubbed {
        let mut text = String::with_capacity(original.len());
        let mut found = Vec::with_capacity(self.0.len());
        let mut copied = 0;
        for (&start, &(end, kind)) in &self.0 {
            let (from, to) = view.original(start, end);
            if from > copied {
                push_kept(&mut text, &original[copied..from], view.dropped);
            }
            text.push_str(marker(kind));
            found.push(kind);
            copied = copied.max(to);
        }
        push_kept(&mut text, &original[copied..], view.dropped);
        Scrubbed { text, found }
    }
}

/// Appends `s`, less the characters the scrubber drops if there are any.
fn push_kept(out: &mut String, s: &str, dropped: bool) {
    if dropped {
        out.extend(s.chars().filter(|&c| !is_dropped(c)));
    } else {
        out.push_str(s);
    }
}

#[cfg(test)]
mod corpus;
#[cfg(test)]
mod tests;
