//! Unit tests of the scrubber, by class; `corpus.rs` holds the table.

use super::PiiKind::{Bed, Email, MedicalRecordNumber as Mrn, Name, Phone, ResidentId};
use super::numbers::{check_digit_ok, is_resident_id};
use super::*;

fn scrubber() -> &'static Scrubber {
    static SCRUBBER: std::sync::OnceLock<Scrubber> = std::sync::OnceLock::new();
    SCRUBBER.get_or_init(Scrubber::new)
}

pub(super) fn scrub(text: &str) -> Scrubbed {
    scrubber().scrub(text)
}

#[track_caller]
pub(super) fn assert_scrubs(input: &str, expected: &str, kinds: &[PiiKind]) {
    let out = scrub(input);
    assert_eq!(out.text, expected, "input: {input:?}");
    assert_eq!(out.found, kinds, "input: {input:?}");
}

#[track_caller]
pub(super) fn assert_untouched(input: &str) {
    assert_scrubs(input, input, &[]);
}

// --- markers -------------------------------------------------------

#[test]
fn markers_are_distinct_and_contain_nothing_matchable() {
    let markers: Vec<_> = KINDS.iter().map(|&k| marker(k)).collect();
    assert_eq!(
        markers,
        ["[ID]", "[PHONE]", "[EMAIL]", "[MRN]", "[NAME]", "[BED]"]
    );
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
    assert!(!is_resident_id(b"110101199002300010"));
    assert!(is_resident_id(b"110101199002280010"));
    assert!(is_resident_id(b"110101200002290010")); // leap year
    assert!(!is_resident_id(b"110101190002290010")); // 1900 is not
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
fn grouped_digits_that_are_not_an_id_are_a_long_run() {
    // Month 56 and a wrong check digit: grouped like a card number.
    assert_scrubs("123456 12345678 1234", "[MRN]", &[Mrn]);
    assert_scrubs("批号 230512 2025 0511", "批号 [MRN]", &[Mrn]);
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
        "证110101199003072316.13812345678",
        "证[ID].[PHONE]",
        &[ResidentId, Phone],
    );
    // After a label, the dotted continuation is part of the code.
    assert_scrubs(
        "身份证110101199003072316.13812345678",
        "身份证[ID]",
        &[ResidentId],
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
    assert_untouched("@医生 请处理");
    assert_scrubs("@王医生 请处理", "@[NAME]医生 请处理", &[Name]);
    assert_untouched("user@localhost");
    assert_untouched("given at home.Then left");
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
fn bed_numbers_are_beds_not_record_numbers() {
    assert_scrubs("3床", "[BED]床", &[Bed]);
    assert_scrubs("12床患者", "[BED]床患者", &[Bed]);
    assert_scrubs("床号12", "床号[BED]", &[Bed]);
    assert_scrubs("床号：1234", "床号：[BED]", &[Bed]);
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
    let expected = "2026-11-23 08:15 [BED]床患者（住院号：[MRN]，身份证[ID]）\
                    静推氯化钾10ml后血钾6.9 mmol/L，BP 180/110，已电话通知家属[PHONE]，\
                    并发邮件至 [EMAIL]。";
    assert_scrubs(report, expected, &[Bed, Mrn, ResidentId, Phone, Email]);
}

#[test]
fn empty_input() {
    assert_untouched("");
}

#[test]
fn idempotent_on_examples() {
    let scrubber = scrubber();
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
        "护士王小红说3床张三13812345678",
        "x at y dot com 一三八一二三四五六七八",
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
        "护士",
        "王",
        "小红",
        "说",
        "名叫",
        "3床",
        "[BED]",
        "[NAME]",
        "一",
        "三",
        "八",
        "①",
        "𝟏",
        "\u{200B}",
        " at ",
        " dot ",
        "[at]",
        "#",
        "艾特",
        "点",
        "com",
        "Mr. ",
        "Smith",
        "patient ",
        "bed ",
        "号",
        "·",
        "/",
        "_",
        "姓",
        "医生",
        "高热",
        "身份证",
    ];
    const ROUNDS: usize = 20_000;
    let scrubber = scrubber();
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

/// Sentences of the bench's report descriptions (services/bench).
const REPORT_SENTENCES: &[&str] = &[
    "患者夜间如厕时在病房卫生间滑倒，右髋部着地，当班护士立即呼叫值班医生查看。",
    "病区发现两例同源性耐药菌感染，感染管理科介入调查并加强接触隔离措施。",
    "交接班时未交代患者的特殊用药时间，导致胰岛素注射推迟约一小时，血糖未见明显波动。",
    "科室组织讨论认为流程中缺少独立双人核对环节，拟修订高警示药品管理制度。",
    "已向患者及家属说明情况并致歉，家属表示理解，病情平稳，继续观察。",
    "事件发生后科室立即组织原因分析，从人员、设备、环境、流程等方面查找不足。",
    "建议加强低年资护士培训，完善夜间巡视制度，在高风险患者床旁放置防跌倒标识。",
    "主管医生已在病程记录中如实记录事件经过及处理措施，并告知上级医生。",
    "患者为高龄、多病共存，使用镇静催眠药物，属于跌倒高风险人群，入院时已评估。",
    "药师审核处方时发现剂量超出说明书推荐范围，与医生沟通后修改医嘱。",
    "急诊抢救过程中除颤仪电量不足，立即更换备用设备，未延误抢救。",
    "手术结束清点器械时发现纱布数目不符，经术中X线确认无遗留，清点记录已更正。",
    "病理标本送检时标签脱落，经与手术室核对后重新标识，未影响诊断。",
    "护理部已将本事件纳入本月质量改进项目，持续追踪改进措施落实情况。",
    "本次事件未对患者造成明显伤害，但暴露出交接环节存在隐患，需引起重视。",
    "2026-11-23 08:15 予0.9%NS 100ml+KCl 10ml ivgtt，复查血钾6.9 mmol/L，BP 180/110mmHg。",
];

/// Descriptions as the bench files them: 200–1,500 characters of the
/// sentences above, one in fifty sentences followed by a phone number.
fn typical_descriptions() -> Vec<String> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..200)
        .map(|_| {
            let want = 200 + (next() % 1301) as usize;
            let mut text = String::new();
            while text.chars().count() < want {
                text.push_str(REPORT_SENTENCES[(next() % REPORT_SENTENCES.len() as u64) as usize]);
                if next() % 50 == 0 {
                    text.push_str(&format!("联系家属电话13{:09}。", next() % 1_000_000_000));
                }
            }
            text.chars().take(want).collect()
        })
        .collect()
}

/// The scrubber's cost per typical description (docs/performance.md):
/// `cargo test --release -p lantern-api --lib scrub::tests::cost_per_description -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement: run in release"]
fn cost_per_description() {
    let scrubber = Scrubber::new();
    let texts = typical_descriptions();
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    let mut rounds = Vec::new();
    for _ in 0..15 {
        let start = std::time::Instant::now();
        for _ in 0..10 {
            for t in &texts {
                std::hint::black_box(scrubber.scrub(std::hint::black_box(t)));
            }
        }
        rounds.push(start.elapsed().as_secs_f64() * 1e6 / (10 * texts.len()) as f64);
    }
    rounds.sort_by(f64::total_cmp);
    println!(
        "scrub: median {:.1} µs per description (min {:.1}, max {:.1}), {} characters on average",
        rounds[rounds.len() / 2],
        rounds[0],
        rounds[rounds.len() - 1],
        chars / texts.len()
    );
}

// --- refused characters and JSON values ---------------------------------

#[test]
fn refused_characters_are_found_with_their_position() {
    assert_eq!(Scrubber::refused_character("正常文本\n第二行\t"), None);
    assert_eq!(
        Scrubber::refused_character("ab\u{202E}cd"),
        Some((2, '\u{202E}'))
    );
    assert_eq!(
        Scrubber::refused_character("患者\u{2066}x"),
        Some((2, '\u{2066}'))
    );
    assert_eq!(Scrubber::refused_character("a\u{0}"), Some((1, '\u{0}')));
    assert_eq!(Scrubber::refused_character("\u{7F}"), Some((0, '\u{7F}')));
    // Zero-width characters are removed, not refused.
    assert_eq!(Scrubber::refused_character("1\u{200B}3"), None);
}

#[test]
fn scrub_drops_invisible_and_refused_characters() {
    assert_untouched("第一行\n第二行\t完");
    assert_scrubs("a\u{200B}b\u{202E}c\u{00AD}d", "abcd", &[]);
    // Combining marks and variation selectors are part of the writing.
    assert_untouched("e\u{0301} ❤\u{FE0F}");
}

#[test]
fn scrub_value_scrubs_marked_strings_in_place() {
    let mut value = serde_json::json!({
        "description": "家属电话13812345678",
        "department": "13812345678",
        "defects": [
            {"phase": "nursing", "text": "3床张三未翻身"},
            {"phase": "system", "text": "无"}
        ],
        "whys": ["护士王小红说", "一三八一二三四五六七八"],
    });
    let pointers = [
        "/description",
        "/defects/*/text",
        "/whys/-",
        "/absent",
        "/defects/*/missing",
    ]
    .map(String::from);
    let found = scrubber().scrub_value(&mut value, &pointers);
    assert_eq!(found, Ok(vec![Phone, Bed, Name, Name, Phone]));
    assert_eq!(
        value,
        serde_json::json!({
            "description": "家属电话[PHONE]",
            "department": "13812345678",
            "defects": [
                {"phase": "nursing", "text": "[BED]床[NAME]未翻身"},
                {"phase": "system", "text": "无"}
            ],
            "whys": ["护士[NAME]说", "[PHONE]"],
        })
    );
}

#[test]
fn scrub_value_refuses_first_and_changes_nothing() {
    let original = serde_json::json!({
        "description": "电话13812345678",
        "defects": [{"text": "ok"}, {"text": "bad\u{202E}text"}],
    });
    let mut value = original.clone();
    let pointers = ["/description", "/defects/*/text"].map(String::from);
    let err = scrubber().scrub_value(&mut value, &pointers);
    assert_eq!(
        err,
        Err(RefusedCharacter {
            pointer: "/defects/1/text".into(),
            index: 3,
            character: '\u{202E}',
        })
    );
    assert_eq!(value, original);
    let message = RefusedCharacter {
        pointer: "/x".into(),
        index: 3,
        character: '\u{202E}',
    }
    .to_string();
    assert!(message.contains("U+202E"), "{message}");
}

#[test]
fn scrub_value_escapes_and_unescapes_pointer_tokens() {
    let mut value = serde_json::json!({"a/b": {"c~d": "电话13812345678"}});
    let found = scrubber().scrub_value(&mut value, &["/a~1b/c~0d".to_owned()]);
    assert_eq!(found, Ok(vec![Phone]));
    assert_eq!(value, serde_json::json!({"a/b": {"c~d": "电话[PHONE]"}}));
}
