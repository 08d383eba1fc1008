//! The corpus: every way of writing an identifier that the scrubber must
//! take out (most from an attacker's test of the first scrubber, which
//! stored 51 of 83 of them in clear), and clinical text it must leave as it
//! is. `LANTERN_WRITE_SEEDS=1 cargo test -p lantern-api --lib scrub::corpus`
//! writes every case as a seed of the `scrub` fuzz target
//! (`fuzz/corpus/scrub/corpus-<class>-<n>`).

use super::tests::scrub;

/// `(class, input, expected output)`.
const CASES: &[(&str, &str, &str)] = &[
    // Resident IDs, grouped and disguised.
    ("id", "身份证号110101 1990 0307 4518", "身份证号[ID]"),
    ("id", "证件110101 1990 0307 4518已核", "证件[ID]已核"),
    ("id", "110101-1990-0307-4518", "[ID]"),
    ("id", "110101.1990.0307.4518", "[ID]"),
    ("id", "110101 19900307 4518", "[ID]"),
    ("id", "110101/19900307/4518", "[ID]"),
    ("id", "110101_19900307_4518", "[ID]"),
    ("id", "110101·19900307·4518", "[ID]"),
    ("id", "1 1 0 1 0 1 1 9 9 0 0 3 0 7 4 5 1 8", "[ID]"),
    ("id", "１１０１０１１９９００３０７４５１８", "[ID]"),
    ("id", "11010119900307451\u{200B}8", "[ID]"),
    ("id", "⑪0101199003074518", "[ID]"),
    ("id", "一一〇一〇一一九九〇〇三〇七四五一八", "[ID]"),
    ("id", "证号 11010119900307002X。", "证号 [ID]。"),
    ("id", "110101 1990 0307 002X", "[ID]"),
    ("id", "身份证：11010119900307", "身份证：[ID]"),
    ("id", "旧身份证110101900307231", "旧身份证[ID]"),
    // Mobiles.
    ("mobile", "电话(138)1234-5678", "电话[PHONE]"),
    ("mobile", "家属138.1234.5678", "家属[PHONE]"),
    ("mobile", "家属 138 123 45678 已通知", "家属 [PHONE] 已通知"),
    ("mobile", "1 3 8 1 2 3 4 5 6 7 8", "[PHONE]"),
    ("mobile", "13 81 23 45 67 8", "[PHONE]"),
    ("mobile", "138-1234-5678", "[PHONE]"),
    ("mobile", "138/1234/5678", "[PHONE]"),
    ("mobile", "138_1234_5678", "[PHONE]"),
    ("mobile", "138·1234·5678", "[PHONE]"),
    ("mobile", "138 - 1234 - 5678", "[PHONE]"),
    ("mobile", "１３８１２３４５６７８", "[PHONE]"),
    ("mobile", "①③⑧①②③④⑤⑥⑦⑧", "[PHONE]"),
    ("mobile", "𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖", "[PHONE]"),
    ("mobile", "𝟙𝟛𝟠𝟙𝟚𝟛𝟜𝟝𝟞𝟟𝟠", "[PHONE]"),
    ("mobile", "138\u{200B}1234\u{200C}5678", "[PHONE]"),
    ("mobile", "138\u{2060}1234\u{FEFF}5678", "[PHONE]"),
    ("mobile", "1\u{00AD}3\u{00AD}8\u{00AD}12345678", "[PHONE]"),
    ("mobile", "1\u{0332}3\u{0332}812345678", "[PHONE]"),
    ("mobile", "一三八一二三四五六七八", "[PHONE]"),
    ("mobile", "幺三八幺二三四五六七八", "[PHONE]"),
    ("mobile", "一三八 一二三四 五六七八", "[PHONE]"),
    ("mobile", "138一二三四5678", "[PHONE]"),
    ("mobile", "壹叁捌壹贰叁肆伍陆柒捌", "[PHONE]"),
    (
        "mobile",
        "手机：１３８－１２３４－５６７８",
        "手机：[PHONE]",
    ),
    ("mobile", "+86 138 1234 5678", "[PHONE]"),
    ("mobile", "（+86）138-1234-5678", "[PHONE]"),
    ("mobile", "0086-138-1234-5678", "[PHONE]"),
    ("mobile", "١٣٨١٢٣٤٥٦٧٨", "[PHONE]"),
    ("mobile", "电话(13812345678)", "电话([PHONE])"),
    // Landlines.
    ("landline", "科室(010)1234-5678", "科室[PHONE]"),
    ("landline", "0571.8765.4321", "[PHONE]"),
    ("landline", "021 6543 2100转", "[PHONE]转"),
    ("landline", "〇五七一八七六五四三二一", "[PHONE]"),
    ("landline", "座机8765 4321", "座机[PHONE]"),
    ("landline", "电话：8765.4321", "电话：[PHONE]"),
    // E-mail addresses.
    ("email", "邮箱 zhang at example dot com", "邮箱 [EMAIL]"),
    ("email", "zhang AT example DOT com", "[EMAIL]"),
    ("email", "zhang [at] example [dot] com", "[EMAIL]"),
    ("email", "zhang[at]example.com", "[EMAIL]"),
    ("email", "zhang(at)example.com", "[EMAIL]"),
    ("email", "zhang {at} example {dot} cn", "[EMAIL]"),
    ("email", "zhang＠example．com", "[EMAIL]"),
    ("email", "zhang#example.com", "[EMAIL]"),
    ("email", "zhang艾特example.com", "[EMAIL]"),
    ("email", "zhang 艾特 qq点com", "[EMAIL]"),
    ("email", "zhang @ example.com", "[EMAIL]"),
    ("email", "zhang@example。com", "[EMAIL]"),
    ("email", "ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "[EMAIL]"),
    ("email", "13812345678@qq.com", "[EMAIL]"),
    ("email", "li.si+ae@hosp.org.cn。", "[EMAIL]。"),
    // Labelled record numbers.
    ("record", "档案号：A2023-0012", "档案号：[MRN]"),
    ("record", "入院号 20230012", "入院号 [MRN]"),
    ("record", "腕带编号ZY2026001", "腕带编号[MRN]"),
    ("record", "腕带号：2026 0012", "腕带号：[MRN]"),
    ("record", "就诊卡 6214000012", "就诊卡 [MRN]"),
    ("record", "就诊卡号：6214-0000-12", "就诊卡号：[MRN]"),
    ("record", "住院号：一二三四五六", "住院号：[MRN]"),
    ("record", "病案号①②③④⑤⑥", "病案号[MRN]"),
    ("record", "门诊号 MZ/2023/0001", "门诊号 [MRN]"),
    ("record", "标本号2023112300123", "标本号[MRN]"),
    ("record", "MRN 1234 5678", "MRN [MRN]"),
    ("record", "卡号6222 0212 3456 7890 123", "卡号[MRN]"),
    ("record", "6222-0212-3456-7890", "[MRN]"),
    ("record", "QQ号 12345678", "QQ号 [MRN]"),
    // Names by context.
    (
        "name",
        "护士王小红发现输液泵报警",
        "护士[NAME]发现输液泵报警",
    ),
    ("name", "护士王小红说已核对", "护士[NAME]说已核对"),
    ("name", "3床张三诉头痛", "[BED]床[NAME]诉头痛"),
    ("name", "12床李四", "[BED]床[NAME]"),
    ("name", "患者名叫王五，男", "患者名叫[NAME]，男"),
    ("name", "姓名：赵六", "姓名：[NAME]"),
    ("name", "患者刘德华入院", "患者[NAME]入院"),
    ("name", "患者王心怡诉胸闷", "患者[NAME]诉胸闷"),
    ("name", "家属李天明要求", "家属[NAME]要求"),
    ("name", "病人陈小明跌倒", "病人[NAME]跌倒"),
    ("name", "家属张伟要求", "家属[NAME]要求"),
    ("name", "医生李建国已到场", "医生[NAME]已到场"),
    ("name", "值班医师周杰查看", "值班医师[NAME]查看"),
    ("name", "护士长欧阳娜娜到场", "护士长[NAME]到场"),
    ("name", "患者家属孙丽", "患者家属[NAME]"),
    ("name", "通知王医生处理", "通知[NAME]医生处理"),
    ("name", "李女士的儿子", "[NAME]女士的儿子"),
    ("name", "患者姓王，", "患者姓[NAME]，"),
    ("name", "叫做黄晓明的患者", "叫做[NAME]的患者"),
    ("name", "Mr. Smith fell", "Mr. [NAME] fell"),
    ("name", "Dr Wang Wei came", "Dr [NAME] came"),
    (
        "name",
        "patient Zhang San was given",
        "patient [NAME] was given",
    ),
    ("name", "Nurse Li reported", "Nurse [NAME] reported"),
    ("name", "护士 Lily 发现", "护士 [NAME] 发现"),
    // Bed numbers.
    ("bed", "3床", "[BED]床"),
    ("bed", "床号12", "床号[BED]"),
    ("bed", "12号床患者", "[BED]号床患者"),
    ("bed", "床位号：8", "床位号：[BED]"),
    ("bed", "bed 12", "bed [BED]"),
    ("bed", "Bed#7 patient", "Bed#[BED] patient"),
    ("bed", "十二床", "[BED]床"),
    ("bed", "加3床", "加[BED]床"),
    ("bed", "３床", "[BED]床"),
    // Several at once.
    (
        "mixed",
        "3床张三（住院号ZY2026001）家属电话138 1234 5678，邮箱 zhang at qq dot com",
        "[BED]床[NAME]（住院号[MRN]）家属电话[PHONE]，邮箱 [EMAIL]",
    ),
    // Clinical text that must survive.
    ("safe", "氯化钾 10ml 静推", "氯化钾 10ml 静推"),
    ("safe", "予5 mg 口服", "予5 mg 口服"),
    ("safe", "0.9%氯化钠 100ml ivgtt", "0.9%氯化钠 100ml ivgtt"),
    ("safe", "血钾 6.9 mmol/L", "血钾 6.9 mmol/L"),
    ("safe", "08:00 给药", "08:00 给药"),
    ("safe", "2026-11-23 08:15", "2026-11-23 08:15"),
    ("safe", "2026/11/23", "2026/11/23"),
    ("safe", "2026.11.23", "2026.11.23"),
    (
        "safe",
        "2026-11-23 至 2026-11-24",
        "2026-11-23 至 2026-11-24",
    ),
    ("safe", "2026-11-23 2026-11-24", "2026-11-23 2026-11-24"),
    (
        "safe",
        "血压 180/110 160/100 150/90",
        "血压 180/110 160/100 150/90",
    ),
    ("safe", "心率 110 120 130 140", "心率 110 120 130 140"),
    (
        "safe",
        "给药时间 0800 1200 1600 2000",
        "给药时间 0800 1200 1600 2000",
    ),
    ("safe", "WBC 12.3×10^9/L", "WBC 12.3×10^9/L"),
    ("safe", "INR 3.5，PT 18.2 s", "INR 3.5，PT 18.2 s"),
    ("safe", "SpO₂ 88%", "SpO₂ 88%"),
    ("safe", "T 36.5℃ P 110次/分", "T 36.5℃ P 110次/分"),
    ("safe", "共 3 次", "共 3 次"),
    ("safe", "患者诉头痛", "患者诉头痛"),
    ("safe", "护士说已核对", "护士说已核对"),
    ("safe", "患者于08:00跌倒", "患者于08:00跌倒"),
    ("safe", "患者高热，予物理降温", "患者高热，予物理降温"),
    ("safe", "患者黄疸加重", "患者黄疸加重"),
    ("safe", "患者陈述事件经过", "患者陈述事件经过"),
    ("safe", "患者及家属已知情", "患者及家属已知情"),
    ("safe", "家属要求转院", "家属要求转院"),
    ("safe", "医生给予处理", "医生给予处理"),
    ("safe", "值班医生到场", "值班医生到场"),
    ("safe", "责任护士巡视", "责任护士巡视"),
    ("safe", "患者突然意识丧失", "患者突然意识丧失"),
    ("safe", "患者自行拔管", "患者自行拔管"),
    ("safe", "患者张某已出院", "患者张某已出院"),
    ("safe", "坠床1次", "坠床1次"),
    ("safe", "同一床单元", "同一床单元"),
    ("safe", "第一次输血", "第一次输血"),
    ("safe", "三四天前", "三四天前"),
    ("safe", "The patient was stable.", "The patient was stable."),
    ("safe", "given at home.Then left", "given at home.Then left"),
    (
        "safe",
        "ICU-3 bed rest for 2 days",
        "ICU-3 bed rest for 2 days",
    ),
    ("safe", "3.14159265358979", "3.14159265358979"),
    ("safe", "订单号1234567890", "订单号1234567890"),
    ("safe", "批号B230512", "批号B230512"),
    ("safe", "10点30分", "10点30分"),
    ("safe", "@医生 请处理", "@医生 请处理"),
    ("safe", "X线确认无遗留", "X线确认无遗留"),
    ("safe", "mRNA-1273 vaccine", "mRNA-1273 vaccine"),
    (
        "safe",
        "已向患者及家属说明情况并致歉，家属表示理解，病情平稳，继续观察。",
        "已向患者及家属说明情况并致歉，家属表示理解，病情平稳，继续观察。",
    ),
    (
        "safe",
        "主管医生已在病程记录中如实记录事件经过及处理措施，并告知上级医生。",
        "主管医生已在病程记录中如实记录事件经过及处理措施，并告知上级医生。",
    ),
    (
        "safe",
        "患者夜间如厕时在病房卫生间滑倒，右髋部着地，当班护士立即呼叫值班医生查看。",
        "患者夜间如厕时在病房卫生间滑倒，右髋部着地，当班护士立即呼叫值班医生查看。",
    ),
    (
        "safe",
        "患者为高龄、多病共存，使用镇静催眠药物，属于跌倒高风险人群，入院时已评估。",
        "患者为高龄、多病共存，使用镇静催眠药物，属于跌倒高风险人群，入院时已评估。",
    ),
    (
        "safe",
        "药师审核处方时发现剂量超出说明书推荐范围，与医生沟通后修改医嘱。",
        "药师审核处方时发现剂量超出说明书推荐范围，与医生沟通后修改医嘱。",
    ),
];

#[test]
fn the_corpus_is_large_and_covers_every_class() {
    assert!(CASES.len() >= 100, "{} cases", CASES.len());
    for class in [
        "id", "mobile", "landline", "email", "record", "name", "bed", "safe",
    ] {
        assert!(
            CASES.iter().filter(|(c, _, _)| *c == class).count() >= 5,
            "too few {class} cases"
        );
    }
}

#[test]
fn every_case_scrubs_as_expected() {
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|(class, input, expected)| {
            let out = scrub(input);
            (out.text != *expected)
                .then(|| format!("{class}: {input:?} → {:?}, expected {expected:?}", out.text))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn every_case_is_idempotent_and_safe_text_finds_nothing() {
    for (class, input, _) in CASES {
        let once = scrub(input);
        let twice = scrub(&once.text);
        assert_eq!(twice.text, once.text, "{input:?}");
        assert!(twice.found.is_empty(), "{input:?}: {:?}", twice.found);
        if *class == "safe" {
            assert!(once.found.is_empty(), "{input:?}: {:?}", once.found);
        } else {
            assert!(!once.found.is_empty(), "{input:?}");
        }
    }
}

/// Writes the cases into the fuzz corpus when asked to.
#[test]
fn write_fuzz_seeds_when_asked() {
    if std::env::var_os("LANTERN_WRITE_SEEDS").is_none() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/scrub");
    for (n, (class, input, _)) in CASES.iter().enumerate() {
        let path = dir.join(format!("corpus-{class}-{n:03}"));
        if let Err(e) = std::fs::write(&path, input) {
            panic!("{}: {e}", path.display());
        }
    }
}
