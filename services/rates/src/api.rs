//! `GET /api/v1/rates`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::Json;
use axum::extract::{FromRef, State};
use lantern_api::auth::{Auth, Principal};
use lantern_api::query::{ValidQuery, wait_after};
use lantern_api::responses::QueryErrors;
use lantern_api::{ApiError, FieldError};
use lantern_domain::Month;
use lantern_domain::vocab::{Category, Grade, Role};
use lantern_projection::{Handle, ProjectionError, Stored, Tx};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::projector::{
    CategoryCounts, Cell, CriticalValueCounts, HospitalInfo, OTHER_SOURCES, department_prefix,
};
use lantern_domain::critical::Source;
use lantern_domain::figures::{rate, suppress};
use lantern_domain::targets::{Indicator, Target, meets, resolve};

/// The built-in reporting-rate target, 2.5 voluntary reports per 100
/// discharges (`lantern_domain::targets`): what applies where nobody set
/// one for the year.
pub const TARGET_PER_100_DISCHARGES: f64 = 2.5;

/// The longest range a query may span.
const MAX_MONTHS: usize = 120;

/// State of the rates API.
#[derive(Clone)]
pub struct Rates {
    handle: Handle,
    auth: Auth,
    k: u64,
}

impl Rates {
    /// The API over a running rates projector; `k` is the suppression threshold.
    pub fn new(handle: Handle, auth: Auth, k: u64) -> Rates {
        Rates { handle, auth, k }
    }

    /// The projector's handle, for read-your-writes (`?after=`).
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The small-cell threshold.
    pub fn k(&self) -> u64 {
        self.k
    }

    /// A hospital's counters from month `from` to `to` (inclusive), as
    /// (month, department, cell): what the monthly pack sums. The other
    /// contexts read the rates through this, never through its database.
    pub fn cells(
        &self,
        hospital: &str,
        from: Month,
        to: Month,
    ) -> Result<Vec<(String, String, Cell)>, ProjectionError> {
        crate::projector::cells(
            self.handle.db(),
            hospital,
            &from.to_string(),
            &to.to_string(),
        )
    }
}

impl FromRef<Rates> for Auth {
    fn from_ref(r: &Rates) -> Auth {
        r.auth.clone()
    }
}

/// The routes of the rates API.
pub fn router(rates: Rates) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(get_rates))
        .with_state(rates)
}

/// The grain of the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum By {
    /// One row per hospital and department.
    Department,
    /// One row per hospital.
    Hospital,
    /// One row per region, rolled up the hierarchy: a city's row sums its
    /// counties' hospitals, a province's its cities'.
    Region,
    /// One row per hospital level (二级 / 三级): the stratum DESIGN asks for.
    Level,
}

/// The rates query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RatesQuery {
    /// First month, `YYYY-MM`.
    #[param(value_type = String)]
    pub from: Month,
    /// Last month, `YYYY-MM`, inclusive.
    #[param(value_type = String)]
    pub to: Month,
    /// Grain: department, hospital, region or level.
    #[param(inline)]
    pub by: By,
    /// Only this hospital.
    pub hospital: Option<String>,
    /// Only this department (with `by=department`).
    pub department: Option<String>,
    /// Wait until this stream sequence is applied.
    pub after: Option<u64>,
}

/// Critical-value figures. For a QC centre, counts from 1 to k−1 are null
/// (listed in the row's `suppressed`); the rates are shown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct CriticalValueFigures {
    /// Detected in the period.
    pub detected: Option<u64>,
    /// Of those, notified.
    pub notified: Option<u64>,
    /// Notified within the limit.
    pub notified_in_time: Option<u64>,
    /// Handled.
    pub handled: Option<u64>,
    /// Handled within the limit.
    pub handled_in_time: Option<u64>,
    /// 危急值通报率: notified ÷ detected × 100.
    pub notification_rate: Option<f64>,
    /// 危急值通报及时率: notified in time ÷ detected × 100.
    pub notification_timeliness: Option<f64>,
    /// 危急值处置及时率: handled in time ÷ notified × 100.
    pub handling_timeliness: Option<f64>,
}

impl CriticalValueFigures {
    /// The figures of some counts; with `k`, small counts suppressed and
    /// their pointers pushed to `suppressed`.
    pub fn of(c: &CriticalValueCounts, k: Option<u64>, suppressed: &mut Vec<String>) -> Self {
        let mut cell = |name: &str, n: u64| {
            if k.is_some_and(|k| n >= 1 && n < k) {
                suppressed.push(format!("/critical_values/{name}"));
                None
            } else {
                Some(n)
            }
        };
        CriticalValueFigures {
            detected: cell("detected", c.detected),
            notified: cell("notified", c.notified),
            notified_in_time: cell("notified_in_time", c.notified_in_time),
            handled: cell("handled", c.handled),
            handled_in_time: cell("handled_in_time", c.handled_in_time),
            notification_rate: rate(c.notified, c.detected),
            notification_timeliness: rate(c.notified_in_time, c.detected),
            handling_timeliness: rate(c.handled_in_time, c.notified),
        }
    }
}

/// One row of figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RateRow {
    /// Hospital (absent for `by=region`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hospital: Option<String>,
    /// Department (only for `by=department`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Region.
    pub region: String,
    /// Hospital level (`secondary` 二级, `tertiary` 三级), for `by=level`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Reports filed in the period.
    pub reports: u64,
    /// Discharges in the period.
    pub discharges: u64,
    /// Reports of the months with a census per 100 discharges; null without
    /// discharges.
    pub per_100_discharges: Option<f64>,
    /// What the rate is: a hospital's (or region's) voluntary reporting
    /// rate, or a department's event rate by the department where events
    /// occurred (按发生科室的事件率), which is not judged against the target.
    pub basis: RateBasis,
    /// Reports filed in department-months without a census: not in the rate.
    pub reports_without_census: u64,
    /// Months of the period with a census figure.
    pub census_months: u32,
    /// Of `discharges`, those of department-months without a recorded
    /// census figure, counted one by one from the HIS's discharge messages
    /// (HL7 ADT^A03): the rates say which denominator they stand on.
    pub discharges_counted: u64,
    /// Months in the period.
    pub months: u32,
    /// Some reports or months lack a census: the rate covers part of the period.
    pub incomplete: bool,
    /// The reporting-rate target that applies to the row's hospital (a
    /// department's row: its hospital's; a region's row: the region's) in
    /// the year of `to`: the hospital's own, else its region's, else the
    /// national one, else 2.5.
    pub target_per_100_discharges: f64,
    /// The rate meets the target (reaches it in the target's direction);
    /// null for a department (the target is judged for a hospital) or
    /// without a rate.
    pub meets_target: Option<bool>,
    /// Reports by grade (null: suppressed).
    #[schema(value_type = BTreeMap<String, Option<u64>>)]
    pub by_grade: Breakdown,
    /// Reports by category, every category (null: suppressed).
    #[schema(value_type = BTreeMap<String, Option<u64>>)]
    pub by_category: Breakdown,
    /// Reports a safety officer marked as duplicates: not in `reports`, the
    /// breakdowns or the rate (one event counts once).
    pub duplicates: u64,
    /// Critical-value figures of the lab (CL-14 notification rate, CL-15
    /// notification timeliness, handling timeliness): 临床检验 indicators.
    pub critical_values: CriticalValueFigures,
    /// The same figures of each other source (imaging, ecg, pathology,
    /// other), shown beside the lab's.
    pub critical_values_other_sources: BTreeMap<&'static str, CriticalValueFigures>,
    /// JSON Pointers, relative to this row, of suppressed cells.
    pub suppressed: Vec<String>,
}

/// What a row's rate measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateBasis {
    /// Voluntary reports per 100 discharges of a hospital or region,
    /// judged against the target.
    ReportingRate,
    /// Events per 100 discharges by the department where they occurred
    /// (按发生科室的事件率): not a reporting rate.
    EventRateByOccurrenceDepartment,
}

/// The answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatesResponse {
    /// First month.
    pub from: String,
    /// Last month.
    pub to: String,
    /// Grain.
    pub by: By,
    /// The national reporting-rate target of the year of `to` (the
    /// built-in 2.5 unless one was set); each row carries the one that
    /// applies to it.
    pub target_per_100_discharges: f64,
    /// Suppression threshold: counts 1..k−1 are hidden from QC centres.
    pub k: u64,
    /// The rows.
    pub rows: Vec<RateRow>,
}

/// Sums of cells.
#[derive(Default)]
struct Sum {
    reports: u64,
    /// Reports of department-months that have a census: the numerator.
    counted: u64,
    /// Reports of department-months without one: shown apart.
    without_census: u64,
    discharges: u64,
    /// Of `discharges`, those counted one by one from the HIS.
    discharges_counted: u64,
    by_grade: [u64; 4],
    by_category: CategoryCounts,
    critical_values: CriticalValueCounts,
    duplicates: u64,
    other_sources: [CriticalValueCounts; 4],
    /// Months (`YYYY-MM`) in which the row's scope has a census figure.
    census_months: std::collections::BTreeSet<String>,
}

impl Sum {
    // Saturating: counts are bounded by their schemas (discharges ≤ 100 000
    // a department-month), so a sum never nears u64::MAX — but no stored
    // event may make a query panic or wrap (DESIGN "Security").
    //
    // A department-month without a census adds its reports to
    // `without_census`, not to the numerator: summing them against zero
    // discharges would inflate a multi-month rate (DESIGN "Figures").
    fn add(&mut self, month: &str, c: &Cell) {
        self.reports = self.reports.saturating_add(c.reports);
        match c.discharges {
            Some(d) => {
                self.discharges = self.discharges.saturating_add(d);
                if c.discharges_counted() {
                    self.discharges_counted = self.discharges_counted.saturating_add(d);
                }
                self.counted = self.counted.saturating_add(c.reports);
                if !self.census_months.contains(month) {
                    self.census_months.insert(month.to_owned());
                }
            }
            None => self.without_census = self.without_census.saturating_add(c.reports),
        }
        for (a, b) in self.by_grade.iter_mut().zip(c.by_grade) {
            *a = a.saturating_add(b);
        }
        self.by_category.add(&c.by_category);
        self.critical_values.add(&c.critical_values);
        self.duplicates = self.duplicates.saturating_add(c.duplicates);
        for (a, b) in self.other_sources.iter_mut().zip(&c.other_sources) {
            a.add(b);
        }
    }

    fn row(
        &self,
        hospital: Option<String>,
        department: Option<String>,
        region: String,
        months: u32,
        k: Option<u64>,
        target: &Target,
    ) -> RateRow {
        let mut suppressed = Vec::new();
        let by_grade = Breakdown::of(
            Grade::ALL.iter().map(|g| g.as_str()),
            &self.by_grade,
            &GRADE_POINTERS,
            k,
            &mut suppressed,
        );
        let categories: Vec<u64> = self.by_category.values().collect();
        let by_category = Breakdown::of(
            Category::ALL.iter().map(|c| c.as_str()),
            &categories,
            &CATEGORY_POINTERS,
            k,
            &mut suppressed,
        );
        let critical_values = CriticalValueFigures::of(&self.critical_values, k, &mut suppressed);
        // Beside CL-14/CL-15 (lab only), each other source on its own.
        let critical_values_other_sources = OTHER_SOURCES
            .iter()
            .zip(&self.other_sources)
            .map(|(source, counts)| {
                let mut hidden = Vec::new();
                let figures = CriticalValueFigures::of(counts, k, &mut hidden);
                let name = source_name(*source);
                suppressed.extend(hidden.into_iter().map(|p| {
                    p.replacen(
                        "/critical_values/",
                        &format!("/critical_values_other_sources/{name}/"),
                        1,
                    )
                }));
                (name, figures)
            })
            .collect();
        let per_100_discharges = rate(self.counted, self.discharges);
        let census_months = u32::try_from(self.census_months.len()).unwrap_or(u32::MAX);
        // The target is judged for a hospital (or region); a department's
        // figure is an event rate by the department where events occurred.
        let basis = if department.is_some() {
            RateBasis::EventRateByOccurrenceDepartment
        } else {
            RateBasis::ReportingRate
        };
        let meets_target = match basis {
            RateBasis::ReportingRate => per_100_discharges.map(|r| meets(target, r)),
            RateBasis::EventRateByOccurrenceDepartment => None,
        };
        RateRow {
            hospital,
            department,
            region,
            level: None,
            reports: self.reports,
            discharges: self.discharges,
            per_100_discharges,
            basis,
            reports_without_census: self.without_census,
            census_months,
            discharges_counted: self.discharges_counted,
            months,
            incomplete: self.without_census > 0 || census_months < months,
            target_per_100_discharges: target.value.get(),
            meets_target,
            duplicates: self.duplicates,
            by_grade,
            by_category,
            critical_values,
            critical_values_other_sources,
            suppressed,
        }
    }
}

/// The JSON Pointers of suppressed breakdown cells, made once: a region's
/// department rows hide thousands of cells per query.
static GRADE_POINTERS: LazyLock<Vec<String>> = LazyLock::new(|| {
    Grade::ALL
        .iter()
        .map(|g| format!("/by_grade/{}", g.as_str()))
        .collect()
});
static CATEGORY_POINTERS: LazyLock<Vec<String>> = LazyLock::new(|| {
    Category::ALL
        .iter()
        .map(|c| format!("/by_category/{}", c.as_str()))
        .collect()
});

/// Counts by name (grade or category), every name present; `null` where
/// suppressed. A JSON object in name order, as a map would give.
#[derive(Debug, Clone, PartialEq)]
pub struct Breakdown(Vec<(&'static str, Option<u64>)>);

impl Breakdown {
    /// `counts` by `names` (in the same order); with `k`, small counts
    /// hidden and the `pointers` of those pushed to `suppressed` (in the
    /// order of `names`).
    fn of(
        names: impl Iterator<Item = &'static str>,
        counts: &[u64],
        pointers: &[String],
        k: Option<u64>,
        suppressed: &mut Vec<String>,
    ) -> Breakdown {
        let hidden = k.map(|k| suppress(counts, k)).unwrap_or_default();
        let mut cells: Vec<_> = names
            .zip(counts)
            .enumerate()
            .map(|(i, (name, n))| {
                let hide = hidden.contains(&i);
                if hide {
                    suppressed.push(pointers[i].clone());
                }
                (name, (!hide).then_some(*n))
            })
            .collect();
        cells.sort_unstable_by_key(|(name, _)| *name);
        Breakdown(cells)
    }

    /// The count under `name`: `None` for an unknown name, `Some(None)`
    /// where suppressed.
    pub fn get(&self, name: &str) -> Option<&Option<u64>> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Each name with its count, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Option<u64>)> + '_ {
        self.0.iter().copied()
    }
}

impl<'a> IntoIterator for &'a Breakdown {
    type Item = (&'static str, Option<u64>);
    type IntoIter = std::iter::Copied<std::slice::Iter<'a, (&'static str, Option<u64>)>>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().copied()
    }
}

impl Serialize for Breakdown {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// Per-department rates for a period, by department, hospital or region.
///
/// A safety officer sees their own hospital; a QC centre sees the hospitals
/// of its region, with counts from 1 to k−1 in the breakdowns suppressed.
#[utoipa::path(get, path = "/api/v1/rates", tag = "rates",
    params(RatesQuery),
    responses((status = 200, body = RatesResponse), QueryErrors),
    security(("bearer" = [])))]
pub async fn get_rates(
    State(rates): State<Rates>,
    principal: Principal,
    ValidQuery(q): ValidQuery<RatesQuery>,
) -> Result<Json<RatesResponse>, ApiError> {
    Ok(Json(rates.query(&principal, &q).await?))
}

impl Rates {
    /// The rates for `principal` — the one query behind `GET /api/v1/rates`
    /// and the staff web's dashboard, so both show the same figures with
    /// the same scope and suppression.
    pub async fn query(
        &self,
        principal: &Principal,
        q: &RatesQuery,
    ) -> Result<RatesResponse, ApiError> {
        let rates = self;
        principal.require(&[Role::SafetyOfficer, Role::QcCentre])?;
        if q.to < q.from {
            return Err(ApiError::field("/to", "is before from"));
        }
        let months: Vec<Month> = q.from.through(q.to).collect();
        if months.len() > MAX_MONTHS {
            return Err(ApiError::field(
                "/to",
                format!("a query spans at most {MAX_MONTHS} months"),
            ));
        }
        if matches!(q.by, By::Region | By::Level) && principal.role() != Role::QcCentre {
            return Err(ApiError::Forbidden(
                "by=region and by=level need a qc_centre token".into(),
            ));
        }
        if q.department.is_some() && q.by != By::Department {
            return Err(ApiError::field(
                "/department",
                "goes with by=department only",
            ));
        }
        wait_after(&rates.handle, q.after).await?;
        // A target set just before is read too: the directory holds them.
        let directory = rates.auth.directory();
        wait_after(directory.handle(), q.after).await?;

        let db = rates.handle.db();
        let tx = Tx::new(db);
        // Hospitals in scope, by code.
        let mut hospitals: BTreeMap<String, HospitalInfo> = BTreeMap::new();
        for item in db.scan_prefix(b"z/") {
            let (key, value) = item.map_err(ProjectionError::from)?;
            let code = String::from_utf8_lossy(&key[2..]).into_owned();
            let info = HospitalInfo::decode(&key, &value)?;
            // A QC centre supervises its region and the regions below it.
            let in_scope = match (principal.role(), principal.region()) {
                (Role::QcCentre, Some(own)) => directory.within(&info.region, own)?,
                (Role::QcCentre, None) => false,
                _ => principal.hospital() == Some(code.as_str()),
            };
            if in_scope {
                hospitals.insert(code, info);
            }
        }
        if let Some(h) = &q.hospital {
            if !hospitals.contains_key(h) {
                return Err(if tx.get(&crate::projector::hospital_key(h))?.is_some() {
                    ApiError::Forbidden(format!("this token's scope does not include hospital {h}"))
                } else {
                    ApiError::Invalid(vec![FieldError::new(
                        "/hospital",
                        "is not a registered hospital",
                    )])
                });
            }
            hospitals.retain(|code, _| code == h);
        }

        // Sum cells per hospital and department over the months.
        let (from, to) = (q.from.to_string(), q.to.to_string());
        let mut per_department: BTreeMap<String, BTreeMap<String, Sum>> = BTreeMap::new();
        for code in hospitals.keys() {
            let departments = per_department.entry(code.clone()).or_default();
            let prefix = department_prefix(code);
            for item in db.scan_prefix(&prefix) {
                let (key, _) = item.map_err(ProjectionError::from)?;
                let dept = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
                departments.entry(dept).or_default();
            }
            crate::projector::for_each_cell(db, code, &from, &to, |month, dept, cell| {
                match departments.get_mut(dept) {
                    Some(sum) => sum.add(month, cell),
                    None => departments
                        .entry(dept.to_owned())
                        .or_default()
                        .add(month, cell),
                }
            })?;
        }
        if let Some(d) = &q.department {
            for departments in per_department.values_mut() {
                departments.retain(|dept, _| dept == d);
            }
        }
        let per_department = || {
            per_department
                .iter()
                .flat_map(|(h, ds)| ds.iter().map(move |(d, sum)| (h, d, sum)))
        };

        // A QC centre is a supervisory body: it sees exact counts (DESIGN v2,
        // "Figures"); small cells are suppressed in published figures only.
        let k: Option<u64> = None;
        let n_months = u32::try_from(months.len()).unwrap_or(u32::MAX);
        let region_of = |code: &str| {
            hospitals
                .get(code)
                .map(|h| h.region.clone())
                .unwrap_or_default()
        };
        // The year of `to` decides which targets apply; one outside every
        // target's years has only the built-in default.
        let year = u16::try_from(q.to.year).unwrap_or_default();
        let targets = directory.targets(year)?;
        let target = |hospital: Option<&str>, region: &str| {
            let regions: Vec<&str> = [region].into_iter().filter(|r| !r.is_empty()).collect();
            resolve(&targets, Indicator::ReportingRate, hospital, &regions, year)
        };
        let Some(national) = target(None, "") else {
            return Err(ApiError::internal(
                "the reporting rate has a built-in target",
            ));
        };
        // Once per hospital: a region's department rows are thousands.
        let hospital_targets: BTreeMap<&str, Target> = hospitals
            .iter()
            .map(|(h, info)| {
                let t = target(Some(h), &info.region).unwrap_or_else(|| national.clone());
                (h.as_str(), t)
            })
            .collect();
        let hospital_target = |h: &str| hospital_targets.get(h).unwrap_or(&national);
        let rows = match q.by {
            By::Department => per_department()
                .map(|(h, d, sum)| {
                    sum.row(
                        Some(h.clone()),
                        Some(d.clone()),
                        region_of(h),
                        n_months,
                        k,
                        hospital_target(h),
                    )
                })
                .collect(),
            By::Hospital => {
                let mut per_hospital: BTreeMap<String, Sum> = hospitals
                    .keys()
                    .map(|h| (h.clone(), Sum::default()))
                    .collect();
                for (h, _, sum) in per_department() {
                    let total = per_hospital.entry(h.clone()).or_default();
                    merge(total, sum);
                }
                per_hospital
                    .iter()
                    .map(|(h, sum)| {
                        sum.row(
                            Some(h.clone()),
                            None,
                            region_of(h),
                            n_months,
                            k,
                            hospital_target(h),
                        )
                    })
                    .collect()
            }
            By::Level => {
                let levels: BTreeMap<String, String> = directory
                    .hospitals()?
                    .into_iter()
                    .map(|h| (h.code, h.level))
                    .collect();
                let mut per_level: BTreeMap<String, Sum> = BTreeMap::new();
                for h in hospitals.keys() {
                    per_level
                        .entry(levels.get(h).cloned().unwrap_or_default())
                        .or_default();
                }
                for (h, _, sum) in per_department() {
                    let level = levels.get(h.as_str()).cloned().unwrap_or_default();
                    merge(per_level.entry(level).or_default(), sum);
                }
                let region = principal.region().map(str::to_owned).unwrap_or_default();
                let target = target(None, &region).unwrap_or_else(|| national.clone());
                per_level
                    .into_iter()
                    .map(|(level, sum)| RateRow {
                        level: Some(level),
                        ..sum.row(None, None, region.clone(), n_months, k, &target)
                    })
                    .collect()
            }
            By::Region => {
                // Each hospital counts in its region and in every region
                // above it up to the QC centre's own: rolled up the
                // hierarchy, never beyond the scope.
                let own = principal.region().map(str::to_owned).unwrap_or_default();
                let mut chains: BTreeMap<String, Vec<String>> = BTreeMap::new();
                for (h, info) in &hospitals {
                    let mut chain = vec![info.region.clone()];
                    if info.region != own {
                        for p in directory.parents_of(&info.region)? {
                            let last = p == own;
                            chain.push(p);
                            if last {
                                break;
                            }
                        }
                    }
                    chains.insert(h.clone(), chain);
                }
                let mut per_region: BTreeMap<String, Sum> = BTreeMap::new();
                for chain in chains.values() {
                    for r in chain {
                        per_region.entry(r.clone()).or_default();
                    }
                }
                for (h, _, sum) in per_department() {
                    for r in chains.get(h.as_str()).into_iter().flatten() {
                        merge(per_region.entry(r.clone()).or_default(), sum);
                    }
                }
                per_region
                    .iter()
                    .map(|(r, sum)| {
                        let target = target(None, r).unwrap_or_else(|| national.clone());
                        sum.row(None, None, r.clone(), n_months, k, &target)
                    })
                    .collect()
            }
        };
        Ok(RatesResponse {
            from: q.from.to_string(),
            to: q.to.to_string(),
            by: q.by,
            target_per_100_discharges: national.value.get(),
            k: rates.k,
            rows,
        })
    }
}

/// A source's name as the API writes it.
fn source_name(source: Source) -> &'static str {
    match source {
        Source::Lab => "lab",
        Source::Imaging => "imaging",
        Source::Ecg => "ecg",
        Source::Pathology => "pathology",
        Source::Other => "other",
    }
}

fn merge(total: &mut Sum, part: &Sum) {
    total.duplicates = total.duplicates.saturating_add(part.duplicates);
    for (a, b) in total.other_sources.iter_mut().zip(&part.other_sources) {
        a.add(b);
    }
    total.reports = total.reports.saturating_add(part.reports);
    total.counted = total.counted.saturating_add(part.counted);
    total.without_census = total.without_census.saturating_add(part.without_census);
    total
        .census_months
        .extend(part.census_months.iter().cloned());
    total.discharges = total.discharges.saturating_add(part.discharges);
    total.discharges_counted = total
        .discharges_counted
        .saturating_add(part.discharges_counted);
    for (a, b) in total.by_grade.iter_mut().zip(part.by_grade) {
        *a = a.saturating_add(b);
    }
    total.by_category.add(&part.by_category);
    total.critical_values.add(&part.critical_values);
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_compatibility_constant_is_the_built_in_target() {
        let built_in = lantern_domain::targets::Indicator::ReportingRate.built_in(2026);
        assert_eq!(
            built_in.map(|t| t.value.get()),
            Some(super::TARGET_PER_100_DISCHARGES)
        );
    }
}
