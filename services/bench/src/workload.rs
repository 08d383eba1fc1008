//! The benchmark's event mix: seeded, realistic, and the same whether it is
//! published raw, posted through the HTTP API or bulk-loaded as history.
//!
//! Every item is drawn from its own RNG seeded by (seed, index), so an item
//! can be generated on its own, in any order, and twice the same.

use chrono::{DateTime, Datelike, Duration, Months, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The organisation the events spread over.
#[derive(Debug, Clone)]
pub struct Org {
    /// Hospital codes `H0001`…; hospital `i` is in region `i / 20`.
    pub hospitals: usize,
    /// Departments per hospital, `D01`….
    pub departments: usize,
    /// Months of history, the last being the current month.
    pub months: usize,
    /// The first day of the current month (UTC).
    pub this_month: DateTime<Utc>,
    /// The time the workload was generated at: nothing lies after it.
    pub now: DateTime<Utc>,
}

/// Hospitals per region.
pub const HOSPITALS_PER_REGION: usize = 20;

const DEPARTMENT_NAMES: [&str; 20] = [
    "心内科",
    "呼吸内科",
    "消化内科",
    "神经内科",
    "肾内科",
    "内分泌科",
    "普外科",
    "骨科",
    "神经外科",
    "心胸外科",
    "泌尿外科",
    "妇产科",
    "儿科",
    "重症医学科",
    "急诊科",
    "麻醉科",
    "肿瘤科",
    "眼科",
    "耳鼻喉科",
    "检验科",
];

impl Org {
    /// An organisation of `hospitals` × `departments` over `months` months up to now.
    pub fn new(hospitals: usize, departments: usize, months: usize) -> Org {
        let now = Utc::now();
        let this_month = Utc
            .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
            .single()
            .unwrap_or(now);
        Org {
            hospitals: hospitals.max(1),
            departments: departments.max(1),
            months: months.max(1),
            this_month,
            now,
        }
    }

    /// Hospital code.
    pub fn hospital(&self, i: usize) -> String {
        format!("H{:04}", i + 1)
    }

    /// Region code of hospital `i`.
    pub fn region_of(&self, i: usize) -> String {
        format!("R{:02}", i / HOSPITALS_PER_REGION + 1)
    }

    /// Number of regions.
    pub fn regions(&self) -> usize {
        self.hospitals.div_ceil(HOSPITALS_PER_REGION)
    }

    /// Department code.
    pub fn department(&self, j: usize) -> String {
        format!("D{:02}", j + 1)
    }

    /// Department name (Chinese).
    pub fn department_name(&self, j: usize) -> String {
        let base = DEPARTMENT_NAMES[j % DEPARTMENT_NAMES.len()];
        match j / DEPARTMENT_NAMES.len() {
            0 => base.to_owned(),
            n => format!("{base}{}", n + 1),
        }
    }

    /// The first instant of month `m` (0 = the oldest, `months - 1` = this month).
    pub fn month_start(&self, m: usize) -> DateTime<Utc> {
        let back = (self.months - 1 - m.min(self.months - 1)) as u32;
        self.this_month
            .checked_sub_months(Months::new(back))
            .unwrap_or(self.this_month)
    }

    /// `YYYY-MM` of month `m`.
    pub fn month_label(&self, m: usize) -> String {
        self.month_start(m).format("%Y-%m").to_string()
    }

    /// A random instant in month `m`, at least `margin` before now.
    fn instant_in(&self, rng: &mut StdRng, m: usize, margin: Duration) -> DateTime<Utc> {
        let start = self.month_start(m);
        let end = if m + 1 >= self.months {
            self.now - margin
        } else {
            self.month_start(m + 1) - margin
        };
        let span = (end - start).num_seconds().max(1);
        start + Duration::seconds(rng.random_range(0..span))
    }
}

/// One thing that happens: a report, a census figure or a critical-value loop.
#[derive(Debug, Clone)]
pub enum Item {
    /// An adverse-event report (one event).
    Report(Report),
    /// A department-month's discharges (one event).
    Census(Census),
    /// A critical value and its closed loop (two to four events).
    Loop(Loop),
}

/// An adverse-event report.
#[derive(Debug, Clone)]
pub struct Report {
    /// Hospital index.
    pub hospital: usize,
    /// When it is filed (the history's `recorded_at`; the API uses its clock).
    pub filed_at: DateTime<Utc>,
    /// The filing body, as the API takes it.
    pub body: Value,
    /// A stable id (aggregate of the raw event, Idempotency-Key of the request).
    pub id: Uuid,
}

/// A census figure.
#[derive(Debug, Clone)]
pub struct Census {
    /// Hospital index.
    pub hospital: usize,
    /// When it is recorded.
    pub recorded_at: DateTime<Utc>,
    /// The body, as the API takes it.
    pub body: Value,
    /// Stable id.
    pub id: Uuid,
}

/// A critical value's loop.
#[derive(Debug, Clone)]
pub struct Loop {
    /// Hospital index.
    pub hospital: usize,
    /// The aggregate id (raw events; the API assigns its own).
    pub id: Uuid,
    /// The detection body.
    pub detected: Value,
    /// Later steps: (route segment, event type, body, recorded_at).
    pub steps: Vec<(&'static str, &'static str, Value, DateTime<Utc>)>,
    /// When the detection is recorded.
    pub recorded_at: DateTime<Utc>,
}

/// An event as the raw publisher and the history loader store it.
#[derive(Debug, Clone)]
pub struct RawEvent {
    /// `lantern.<hospital>.<kind>.<id>`.
    pub subject: String,
    /// Dotted type.
    pub event_type: &'static str,
    /// Aggregate id.
    pub aggregate: Uuid,
    /// Hospital code.
    pub hospital: String,
    /// Server time it is recorded at.
    pub recorded_at: DateTime<Utc>,
    /// The data (valid against its schema).
    pub data: Value,
}

impl Item {
    /// How many events the item appends.
    pub fn events(&self) -> usize {
        match self {
            Item::Report(_) | Item::Census(_) => 1,
            Item::Loop(l) => 1 + l.steps.len(),
        }
    }

    /// The item's events as stored (recorded_at as in the history).
    pub fn raw(&self, org: &Org) -> Vec<RawEvent> {
        match self {
            Item::Report(r) => {
                let mut data = r.body.clone();
                if let Some(o) = data.as_object_mut() {
                    o.remove("hospital");
                    o.insert("receipt_hash".into(), json!(sha256_hex(r.id.as_bytes())));
                }
                let hospital = org.hospital(r.hospital);
                vec![RawEvent {
                    subject: format!("lantern.{hospital}.report.{}", r.id),
                    event_type: "report.filed",
                    aggregate: r.id,
                    hospital,
                    recorded_at: r.filed_at,
                    data,
                }]
            }
            Item::Census(c) => {
                let mut data = c.body.clone();
                if let Some(o) = data.as_object_mut() {
                    o.remove("hospital");
                }
                let hospital = org.hospital(c.hospital);
                let aggregate = lantern_domain::ids::census(
                    &hospital,
                    c.body["department"].as_str().unwrap_or_default(),
                    c.body["month"].as_str().unwrap_or_default(),
                );
                vec![RawEvent {
                    subject: format!("lantern.{hospital}.census.{aggregate}"),
                    event_type: "census.recorded",
                    aggregate,
                    hospital,
                    recorded_at: c.recorded_at,
                    data,
                }]
            }
            Item::Loop(l) => {
                let hospital = org.hospital(l.hospital);
                let subject = format!("lantern.{hospital}.critical_value.{}", l.id);
                let mut data = l.detected.clone();
                if let Some(o) = data.as_object_mut() {
                    o.remove("hospital");
                }
                let mut out = vec![RawEvent {
                    subject: subject.clone(),
                    event_type: "critical_value.detected",
                    aggregate: l.id,
                    hospital: hospital.clone(),
                    recorded_at: l.recorded_at,
                    data,
                }];
                for (_, event_type, body, at) in &l.steps {
                    out.push(RawEvent {
                        subject: subject.clone(),
                        event_type,
                        aggregate: l.id,
                        hospital: hospital.clone(),
                        recorded_at: *at,
                        data: body.clone(),
                    });
                }
                out
            }
        }
    }
}

/// Lower-case hex SHA-256, the form of a report's `receipt_hash` (the hash
/// of the receipt its reporter was given; the bench, having no receipts,
/// hashes the report's id).
fn sha256_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
}

/// Generates item `index` of the workload seeded with `seed`.
pub fn item(org: &Org, seed: u64, index: u64) -> Item {
    let mut rng = StdRng::seed_from_u64(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let random: u128 = rng.random();
    let hospital = rng.random_range(0..org.hospitals);
    let department = rng.random_range(0..org.departments);
    let m = rng.random_range(0..org.months);
    let roll: f64 = rng.random();
    if roll < 0.50 {
        // The intake mints a report's id as a UUID v7 of the moment it is
        // filed; items are filed in index order, a millisecond apart.
        let filed_ms = org.this_month.timestamp_millis().unsigned_abs() + index;
        let mut counter_and_random = [0; 10];
        counter_and_random.copy_from_slice(&random.to_be_bytes()[..10]);
        let id =
            uuid::Builder::from_unix_timestamp_millis(filed_ms, &counter_and_random).into_uuid();
        report(org, &mut rng, id, hospital, department, m)
    } else {
        // A critical value's id is a UUID v5 of its specimen and item when
        // the lab gives a specimen: random-looking, as here. A census
        // figure's aggregate is named by its cell; this is only its
        // Idempotency-Key.
        let id = Uuid::from_u128(random & !(0xF << 76) | (0x4 << 76));
        if roll < 0.70 {
            census(org, &mut rng, id, index)
        } else {
            critical_loop(org, &mut rng, id, hospital, department, m)
        }
    }
}

/// Items from `start` on until at least `events` events: (items, events).
pub fn items(org: &Org, seed: u64, start: u64, events: usize) -> (Vec<Item>, u64) {
    let mut out = Vec::new();
    let mut n = 0;
    let mut i = start;
    while n < events {
        let it = item(org, seed, i);
        n += it.events();
        out.push(it);
        i += 1;
    }
    (out, i)
}

const CATEGORIES: [&str; 20] = [
    "medication",
    "fall",
    "surgery",
    "transfusion",
    "procedure",
    "tube",
    "unexpected_arrest",
    "injury",
    "public_accident",
    "diet",
    "anesthesia",
    "lab_specimen",
    "pressure_injury",
    "occupational_exposure",
    "device",
    "infection",
    "identification",
    "information",
    "security",
    "other",
];

/// Sentences a reporter writes; mixed to 200–1,500 characters.
const SENTENCES: [&str; 32] = [
    "患者于夜班期间自行下床如厕，未呼叫护士协助，在床旁滑倒，右髋部着地。",
    "护士巡视时发现患者坐于地面，神志清楚，诉右侧髋部疼痛，立即通知值班医生。",
    "值班医生查体后予床旁X线检查，未见明显骨折，予冰敷并加强巡视。",
    "责任护士在执行医嘱时将氯化钾注射液的稀释比例计算错误，经双人核对时发现并纠正。",
    "药房发出的药品与处方不符，规格为0.25克而处方为0.5克，病区护士核对时发现。",
    "术前核查时发现手术部位标识缺失，手术医生重新确认后补做标识，手术按时开始。",
    "输血前双人核对发现血袋标签上的血型与交叉配血单不一致，立即停止并退回输血科。",
    "患者留置胃管在翻身过程中部分脱出，护士评估后通知医生，重新置管并确认位置。",
    "静脉留置针穿刺部位出现红肿，考虑静脉炎，予拔除并更换穿刺部位，局部湿敷。",
    "检验科报告标本溶血，需重新采集，临床科室采血时间延误约四十分钟。",
    "患者身份识别时腕带信息模糊，护士通过两种以上方式核对后更换新腕带。",
    "老年患者长期卧床，骶尾部发现二期压力性损伤，已按流程上报并制定护理计划。",
    "麻醉诱导后出现一过性低血压，予血管活性药物处理后恢复，手术顺利完成。",
    "信息系统升级后医嘱打印格式异常，部分长期医嘱未能正确显示给药频次。",
    "家属反映患者饮食中含有其过敏的海鲜成分，营养科核查配餐单后确认为配送错误。",
    "护士在处理使用后的针头时被刺伤，已按职业暴露流程处理并登记随访。",
    "患者夜间情绪激动，试图拔除气管插管，经镇静及约束评估后未造成损伤。",
    "设备科接报输液泵报警失灵，已停用该设备并送检，同类设备全部排查。",
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
];

fn description(rng: &mut StdRng) -> String {
    let want = rng.random_range(200..=1500);
    let mut text = String::new();
    let mut n = 0;
    while n < want {
        let s = SENTENCES[rng.random_range(0..SENTENCES.len())];
        text.push_str(s);
        n += s.chars().count();
        // Now and then personal data the scrubber must take out.
        if rng.random_bool(0.02) {
            let phone = format!(
                "联系家属电话13{:09}。",
                rng.random_range(0..1_000_000_000u64)
            );
            n += phone.chars().count();
            text.push_str(&phone);
        }
    }
    text.chars().take(want).collect()
}

fn report(org: &Org, rng: &mut StdRng, id: Uuid, h: usize, d: usize, m: usize) -> Item {
    let filed_at = org.instant_in(rng, m, Duration::minutes(10));
    let occurred_at = filed_at - Duration::minutes(rng.random_range(5..72 * 60));
    let (grade, harms): (&str, &[&str]) = match rng.random_range(0..100) {
        0..2 => ("I", &["death", "severe"]),
        2..17 => ("II", &["mild", "moderate", "severe"]),
        17..62 => ("III", &["none", "mild"]),
        _ => ("IV", &["not_applicable"]),
    };
    let harm = harms[rng.random_range(0..harms.len())];
    let mut body = json!({
        "hospital": org.hospital(h),
        "department": org.department(d),
        "occurred_at": occurred_at.to_rfc3339(),
        "grade": grade,
        "category": CATEGORIES[rng.random_range(0..CATEGORIES.len())],
        "harm": harm,
        "description": description(rng),
    });
    if harm == "mild" {
        // DESIGN "Grades" (v2): mild says whether it needed treatment (II) or not (III).
        body["treatment_needed"] = json!(grade == "II");
    }
    if rng.random_bool(0.8) {
        body["location"] = json!(format!(
            "{}病区{}床",
            org.department_name(d),
            rng.random_range(1..60)
        ));
    }
    if rng.random_bool(0.6) {
        body["immediate_actions"] =
            json!(SENTENCES[rng.random_range(0..SENTENCES.len())].to_owned());
    }
    if rng.random_bool(0.5) {
        body["reporter_role"] =
            json!(["doctor", "nurse", "pharmacist", "technician", "other"][rng.random_range(0..5)]);
    }
    if rng.random_bool(0.5) {
        body["patient_age_band"] = json!(
            [
                "5-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80-89",
                "90+"
            ][rng.random_range(0..10)]
        );
    }
    Item::Report(Report {
        hospital: h,
        filed_at,
        body,
        id,
    })
}

/// Census figures walk every hospital × department × month once before any
/// repeats (a stride coprime to the number of cells), so a history of a
/// million events has discharges for every cell.
fn census(org: &Org, rng: &mut StdRng, id: Uuid, index: u64) -> Item {
    let cells = (org.hospitals * org.departments * org.months) as u64;
    let mut stride = 7919 % cells.max(1);
    while stride == 0 || gcd(stride, cells) != 1 {
        stride += 1;
    }
    let cell = (index.wrapping_mul(stride)) % cells.max(1);
    let m = (cell % org.months as u64) as usize;
    let rest = cell / org.months as u64;
    let d = (rest % org.departments as u64) as usize;
    let h = (rest / org.departments as u64) as usize;
    // Recorded early in the next month (or now, for this month).
    let recorded_at = if m + 1 < org.months {
        org.month_start(m + 1) + Duration::hours(rng.random_range(24..96))
    } else {
        org.now - Duration::minutes(5)
    };
    let recorded_at = recorded_at.min(org.now - Duration::minutes(5));
    let mut body = json!({
        "hospital": org.hospital(h),
        "department": org.department(d),
        "month": org.month_label(m),
        "discharges": rng.random_range(40..400u64),
    });
    if rng.random_bool(0.5) {
        body["inpatient_days"] = json!(rng.random_range(300..4000u64));
    }
    Item::Census(Census {
        hospital: h,
        recorded_at,
        body,
        id,
    })
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

const ITEMS: [(&str, &str, &str, &str); 8] = [
    ("lab", "血钾 K", "6.9", "mmol/L"),
    ("lab", "血钠 Na", "118", "mmol/L"),
    ("lab", "血糖 GLU", "2.1", "mmol/L"),
    ("lab", "血小板 PLT", "12", "10^9/L"),
    ("lab", "肌钙蛋白 cTnI", "2.8", "ng/mL"),
    ("imaging", "张力性气胸", "CT", ""),
    ("ecg", "室性心动过速", "HR 182", "bpm"),
    ("pathology", "冰冻切片恶性", "阳性", ""),
];

fn critical_loop(org: &Org, rng: &mut StdRng, id: Uuid, h: usize, d: usize, m: usize) -> Item {
    let detected_at = org.instant_in(rng, m, Duration::hours(2));
    let (source, item, value, unit) = ITEMS[rng.random_range(0..ITEMS.len())];
    let mut detected = json!({
        "hospital": org.hospital(h),
        "department": org.department(d),
        "source": source,
        "item": item,
        "value": value,
        "detected_at": detected_at.to_rfc3339(),
        "patient_setting": (["inpatient", "outpatient", "emergency"][rng.random_range(0..3)]),
    });
    if !unit.is_empty() {
        detected["unit"] = json!(unit);
    }
    let mut steps = Vec::new();
    // Mostly within the 15-minute notification limit.
    let notified_at = detected_at + Duration::seconds(rng.random_range(60..20 * 60));
    steps.push((
        "notified",
        "critical_value.notified",
        json!({"notified_at": notified_at.to_rfc3339(),
               "channel": (["phone", "system", "in_person"][rng.random_range(0..3)]),
               "notified_role": (["nurse", "doctor"][rng.random_range(0..2)])}),
        notified_at + Duration::seconds(5),
    ));
    let mut last = notified_at;
    if rng.random_bool(0.7) {
        last += Duration::seconds(rng.random_range(30..300));
        steps.push((
            "acknowledged",
            "critical_value.acknowledged",
            json!({"acknowledged_at": last.to_rfc3339()}),
            last + Duration::seconds(5),
        ));
    }
    if rng.random_bool(0.9) {
        let handled_at = notified_at + Duration::seconds(rng.random_range(120..40 * 60));
        let handled_at = handled_at.max(last + Duration::seconds(1));
        steps.push((
            "handled",
            "critical_value.handled",
            json!({"handled_at": handled_at.to_rfc3339(),
                   "disposition": "已复查并调整治疗方案，通知主管医生，床旁监护。"}),
            handled_at + Duration::seconds(5),
        ));
    }
    Item::Loop(Loop {
        hospital: h,
        id,
        detected,
        steps,
        recorded_at: detected_at + Duration::seconds(2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_reproducible_and_valid() {
        let org = Org::new(200, 20, 24);
        let schemas = lantern_ledger::SchemaRegistry::embedded().unwrap();
        let (items, _) = items(&org, 7, 0, 2000);
        let (again, _) = super::items(&org, 7, 0, 2000);
        let mut reports = 0;
        for (a, b) in items.iter().zip(&again) {
            let (ra, rb) = (a.raw(&org), b.raw(&org));
            assert_eq!(ra.len(), rb.len());
            for (x, y) in ra.iter().zip(&rb) {
                assert_eq!(x.data, y.data);
                schemas
                    .validate(
                        x.event_type,
                        lantern_domain::events::version_of(x.event_type).unwrap(),
                        &x.data,
                    )
                    .unwrap_or_else(|e| panic!("{}: {e:?}: {}", x.event_type, x.data));
                assert!(x.recorded_at <= org.now);
            }
            if let Item::Report(r) = a {
                reports += 1;
                let n = r.body["description"].as_str().unwrap().chars().count();
                assert!((200..=1500).contains(&n), "{n}");
            }
        }
        assert!(reports > 300, "{reports}");
    }

    #[test]
    fn report_ids_are_minted_as_the_intake_mints_them() {
        let org = Org::new(200, 20, 24);
        let (items, _) = items(&org, 7, 0, 2000);
        let ids: Vec<Uuid> = items
            .iter()
            .filter_map(|i| match i {
                Item::Report(r) => Some(r.id),
                _ => None,
            })
            .collect();
        assert!(ids.iter().all(|id| id.get_version_num() == 7));
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "in filing order");
        let others = items.iter().filter_map(|i| match i {
            Item::Loop(l) => Some(l.id),
            _ => None,
        });
        assert!(others.clone().count() > 300);
        assert!(others.clone().all(|id| id.get_version_num() == 4));
    }
}
