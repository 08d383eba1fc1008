//! Personal names and bed numbers, recognised by their context.
//!
//! A Chinese name cannot be told from an ordinary word by itself, so a name
//! is only taken where the text says one follows: a role (患者, 家属, 护士,
//! 医生, …), a bed (3床张三), a label (名叫, 姓名), or a title after a surname
//! (王医生, 李女士). What follows must then start with a surname from
//! [`SURNAMES`] and go on with one or two characters that do not start a
//! verb or a particle ([`STOP`]): "护士说", "患者诉", "患者于08:00" keep their
//! verb. Clinical words that happen to start with a surname character
//! (高热, 黄疸, 陈述, …) are listed in [`NOT_NAMES`]. English names are
//! taken after a title or a role word when capitalised (`Mr. Smith`,
//! `patient Zhang San`).

/// Compound surnames first: they are tried before the single ones.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "夏侯", "长孙",
    "宇文", "司徒", "端木", "西门", "南宫", "独孤", "轩辕", "呼延", "钟离", "赫连", "澹台", "申屠",
    "闻人", "万俟", "拓跋",
];

/// Common single-character surnames (about 170, the common hundred and the
/// frequent ones after them). Left out on purpose, because after a role
/// word they are nearly always a verb, preposition or body side: 于 向 和
/// 由 时 查 管 应 车 都 来 明 平 国 信 但 展 全 左 单 尚 成 解.
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋\
蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛\
郝龚邵万钱严覃武戴莫孔汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞柳甘祝包宁符\
舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝路游辛靳柴蒙鲍华喻祁房滕屈饶艾尤穆司卓古吉缪简连芦麦褚娄窦戚\
岑景党宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩佘池苑迟邝封谈匡鞠\
惠荆乐冀郁胥南班储栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻厉伊仝";

/// Characters that cannot be part of a given name right after a surname:
/// the verbs, particles, prepositions and clinical words that follow a role
/// word ("护士说", "患者已", "医生给予") or end a name ("张三诉"). Characters
/// common in given names (心, 天, 月, 文, …) are not here: a name missed
/// costs more than a word too many replaced.
const STOP: &str = "说诉称讲告答问回叫喊在的地得了着过已未无不没有是为于被把给和与及同跟向对从自由经因将\
要会能可也都就还又再才刚均仍等时后前中内外上下出入进来去到用予行服发突感觉表所之其该此这那每各个位名床号\
岁男女年日次术诊拒查检看见做作开打测接送转换输注拔插即随当值签陪护医患病并或而但却且以处某们\
诉述听讲称呼吸血昏咳晕痛疼吐泻热烧冷抽躁烦哭闹醒睡吃喝饮食走跑站坐躺卧跌坠摔滑倒头胸腹腰腿手足\
脚肺肝肾脑胃左右术前后院科室班组长、，。,.;；:：!?！？)）（(“”\"' ";

/// Two-character words that start with a surname character but are not
/// names, as they follow a role word or a bed in clinical prose.
const NOT_NAMES: &[&str] = &[
    "高热", "高烧", "高龄", "高血", "高危", "高度", "高压", "高钾", "高糖", "高流", "高频", "高处",
    "高风", "高年", "高级", "高渗", "高位", "黄疸", "黄染", "黄色", "周身", "周围", "周末", "康复",
    "安静", "安全", "安排", "安抚", "安置", "安慰", "安睡", "安眠", "常规", "常见", "常用", "常年",
    "常常", "白天", "白班", "白细", "白色", "凌晨", "曾经", "曾多", "陈述", "陈旧", "许多", "许可",
    "严重", "严格", "严密", "严禁", "任何", "任意", "苏醒", "金属", "钱包", "钱款", "石膏", "申请",
    "申诉", "易感", "易发", "易于", "易出", "马上", "毛发", "毛巾", "房颤", "房间", "房室", "方可",
    "方便", "方面", "方式", "方法", "方案", "关注", "关于", "关心", "关节", "关闭", "关机", "包扎",
    "包括", "包裹", "万一", "司机", "文件", "文书", "齐全", "谷丙", "谷草", "谷氨", "甘油", "甘露",
    "游离", "华法", "焦虑", "施行", "牛奶", "艾滋", "艾司", "尤其", "路过", "路上", "梅毒", "符合",
    "舒适", "舒张", "屈曲", "涂抹", "温度", "温水", "温热", "宁静", "连续", "连接", "连同", "简单",
    "冷静", "冷汗", "冷敷", "费用", "师傅", "商量", "沙丁", "乐观", "满意", "满月", "南方", "班长",
    "燕麦", "皮肤", "皮疹", "皮下", "卫生", "米饭", "宫缩", "宫颈", "宫腔", "党员", "迟发", "迟缓",
    "封闭", "楼下", "楼上", "楼道", "盘点", "边缘", "师生", "柴胡", "蒙脱", "简易", "吉兰", "龙胆",
    "毕竟", "顾虑", "莫名", "孔洞", "汤药", "季节", "纪律", "童年", "曲线", "罗红", "何时", "何处",
    "何种", "林可", "程序", "程度", "魏氏", "丁香", "卢戈", "崔氏", "范围", "杜冷", "叶酸", "潘生",
    "余下", "余量", "余生", "黎明", "戴上", "戴着", "葛根", "颜色", "岳父", "岳母", "兰索", "柳氮",
    "付款", "付费", "夏季", "夏天", "孙子", "孙女", "唐氏", "吴茱", "张力", "张口", "张嘴", "张开",
];

/// Title words that follow a surname: 王医生, 李女士.
pub(super) const TITLES: &str =
    "先生|女士|小姐|老师|阿姨|师傅|大爷|大妈|奶奶|爷爷|同学|医生|大夫|护士长|护士|主任|院长|教授";

/// Role words and labels after which a name may follow.
pub(super) const ROLES: &str = concat!(
    "患者家属|患者|病人|病患|患儿|产妇|孕妇|家属|陪护|护工|护士长|护士|护师|护理员|主治医师|住院医师|",
    "主任医师|医生|医师|大夫|主任|药师|技师|麻醉师|助产士|实习生|规培生|进修生|同事|丈夫|妻子|",
    "儿子|女儿|母亲|父亲|名叫|叫做|姓名|名字叫|名字|名为|叫",
);

/// English titles and role words after which a capitalised name follows.
pub(super) const EN_ROLES: &str = concat!(
    r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof|(?i-u:patient|pt|nurse|doctor|physician|surgeon|resident|",
    r"relative|husband|wife|son|daughter|mother|father|named|called)",
);

/// Capitalised words that are not names after an English role word.
const EN_STOP: &[&str] = &[
    "The",
    "A",
    "An",
    "I",
    "He",
    "She",
    "It",
    "They",
    "We",
    "His",
    "Her",
    "Their",
    "Was",
    "Is",
    "Has",
    "Had",
    "Did",
    "Does",
    "Said",
    "Says",
    "Reported",
    "Complained",
    "Fell",
    "Found",
    "Received",
    "Developed",
    "Given",
    "In",
    "On",
    "At",
    "And",
    "But",
    "Then",
    "With",
    "Without",
    "To",
    "From",
    "Of",
    "For",
    "Not",
    "No",
    "Who",
    "Which",
    "That",
    "This",
    "After",
    "Before",
    "During",
    "When",
    "While",
    "Also",
    "Stated",
    "Noted",
    "Refused",
    "Asked",
    "Called",
    "Bed",
    "Room",
    "Ward",
    "Unit",
    "Was",
    "Were",
    "Will",
    "Would",
    "Should",
    "Could",
    "May",
    "Might",
];

fn sorted(chars: &str) -> Vec<char> {
    let mut v: Vec<char> = chars.chars().collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn is_surname(c: char) -> bool {
    static SET: std::sync::LazyLock<Vec<char>> = std::sync::LazyLock::new(|| sorted(SURNAMES));
    SET.binary_search(&c).is_ok()
}

fn is_stop(c: char) -> bool {
    static SET: std::sync::LazyLock<Vec<char>> = std::sync::LazyLock::new(|| sorted(STOP));
    SET.binary_search(&c).is_ok()
}

/// The length in bytes of a Chinese name starting at `at` of `text`, if
/// one does: a surname and one or two given-name characters (`given_min` = 0
/// allows the surname alone, after 姓).
/// A character another match already took (`taken(offset)`) ends the name:
/// it will not be there after scrubbing.
/// A digit at an offset where `numeral(offset)` holds was a Chinese numeral
/// and counts as the character it was.
pub(super) fn chinese_name(
    text: &str,
    at: usize,
    given_min: usize,
    taken: impl Fn(usize) -> bool,
    numeral: impl Fn(usize) -> bool,
) -> Option<usize> {
    let rest = &text[at..];
    let surname_len = COMPOUND_SURNAMES
        .iter()
        .find(|s| rest.starts_with(*s))
        .map(|s| s.len())
        .or_else(|| {
            let c = rest.chars().next()?;
            is_surname(c).then_some(c.len_utf8())
        })?;
    let mut len = surname_len;
    let mut count = 0;
    for c in rest[surname_len..].chars().take(2) {
        let given = is_given_name_char(c) || (c.is_ascii_digit() && numeral(at + len));
        if !given || taken(at + len) {
            break;
        }
        if count == 0
            && NOT_NAMES
                .iter()
                .any(|w| rest[..len + c.len_utf8()].ends_with(w))
        {
            return None;
        }
        len += c.len_utf8();
        count += 1;
    }
    (count >= given_min).then_some(len)
}

fn is_given_name_char(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c) && !is_stop(c)
}

/// The start of the surname that ends right before `end` (where a title
/// starts), if there is one.
pub(super) fn surname_before(text: &str, end: usize) -> Option<usize> {
    let before = &text[..end];
    if let Some(s) = COMPOUND_SURNAMES.iter().find(|s| before.ends_with(*s)) {
        return Some(end - s.len());
    }
    let c = before.chars().next_back()?;
    // 值班医生, 白班护士, 责任护士: the character before the title ends a
    // word, not a surname.
    (is_surname(c) && !matches!(c, '班' | '任')).then(|| end - c.len_utf8())
}

/// The length in bytes of an English name at `at` (one or two capitalised
/// words), if one is there.
pub(super) fn english_name(text: &str, at: usize, taken: impl Fn(usize) -> bool) -> Option<usize> {
    let word = |from: usize| -> Option<usize> {
        let rest = &text[from..];
        let mut chars = rest.char_indices();
        let (_, first) = chars.next()?;
        if !first.is_ascii_uppercase() {
            return None;
        }
        let end = chars
            .find(|(_, c)| !c.is_ascii_lowercase())
            .map_or(rest.len(), |(i, _)| i);
        // One capital alone or all capitals ("ICU", "BP") is no name.
        let w = &rest[..end];
        (end >= 2 && !EN_STOP.contains(&w)).then_some(end)
    };
    let first = word(at)?;
    let mut len = first;
    let after = &text[at + first..];
    if let Some(sep) = after.chars().next().filter(|c| *c == ' ' || *c == '-')
        && !taken(at + first + sep.len_utf8())
        && let Some(second) = word(at + first + sep.len_utf8())
    {
        len += sep.len_utf8() + second;
    }
    // A name glued to further letters ("SmithX") is not what the pattern
    // saw; digits may follow ("Smith3床").
    let glued = text[at + len..]
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() && !taken(at + len));
    (!glued).then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surnames_are_single_characters_without_duplicates() {
        let mut seen = std::collections::BTreeSet::new();
        for c in SURNAMES.chars() {
            assert!(('\u{4E00}'..='\u{9FFF}').contains(&c), "{c:?}");
            assert!(seen.insert(c), "{c} twice");
        }
        assert!(seen.len() >= 100, "{}", seen.len());
        for w in NOT_NAMES {
            let first = w.chars().next().unwrap_or(' ');
            assert!(
                SURNAMES.contains(first),
                "{w} does not start with a surname"
            );
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            chinese_name("王小红说", 0, 1, |_| false, |_| false),
            Some("王小红".len())
        );
        assert_eq!(
            chinese_name("张三诉头痛", 0, 1, |_| false, |_| false),
            Some("张三".len())
        );
        assert_eq!(
            chinese_name("欧阳娜娜", 0, 1, |_| false, |_| false),
            Some("欧阳娜娜".len())
        );
        assert_eq!(chinese_name("高热", 0, 1, |_| false, |_| false), None);
        assert_eq!(chinese_name("王说", 0, 1, |_| false, |_| false), None);
        assert_eq!(
            chinese_name("王说", 0, 0, |_| false, |_| false),
            Some("王".len())
        );
        assert_eq!(chinese_name("说话", 0, 1, |_| false, |_| false), None);
        assert_eq!(english_name("Smith said", 0, |_| false), Some(5));
        assert_eq!(english_name("Zhang San.", 0, |_| false), Some(9));
        assert_eq!(english_name("ICU", 0, |_| false), None);
        assert_eq!(english_name("The", 0, |_| false), None);
    }
}
