//! A critical result posted as a FHIR R4 `Observation`, read into the
//! intake's [`Detect`] command: critical when the sender flags it (HH, LL,
//! AA) or when the hospital's critical-value catalogue, as it held when the
//! result was issued, recognises its code and value.
//!
//! Pure: the resource in, the command (or the elements at fault) out. Only
//! what Lantern records is read; the patient (`subject`) and everything
//! else that could identify them are never read, let alone stored.

use chrono::{DateTime, FixedOffset};
use lantern_api::error::FieldError;
use lantern_domain::critical::catalogue::{CatalogueHistory, recognise};
use lantern_domain::critical::{Setting, Source};
use serde::Deserialize;

use crate::critical::api::Detect;

/// Extension: the patient's department code (a registered one).
pub const DEPARTMENT_EXTENSION: &str = "urn:lantern:fhir:StructureDefinition:department";
/// Extension: inpatient, outpatient or emergency.
pub const SETTING_EXTENSION: &str = "urn:lantern:fhir:StructureDefinition:patient-setting";
/// Extension: lab, imaging, ecg, pathology or other, where the category
/// does not tell.
pub const SOURCE_EXTENSION: &str = "urn:lantern:fhir:StructureDefinition:source";

const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
/// The interpretations that make a result critical: critically high,
/// critically low, critically abnormal.
const CRITICAL: [&str; 3] = ["HH", "LL", "AA"];

/// The elements of an `Observation` Lantern reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    resource_type: String,
    #[serde(default)]
    extension: Vec<Extension>,
    #[serde(default)]
    category: Vec<CodeableConcept>,
    code: Option<CodeableConcept>,
    effective_date_time: Option<DateTime<FixedOffset>>,
    issued: Option<DateTime<FixedOffset>>,
    value_quantity: Option<Quantity>,
    value_string: Option<String>,
    value_codeable_concept: Option<CodeableConcept>,
    #[serde(default)]
    interpretation: Vec<CodeableConcept>,
    specimen: Option<Reference>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Extension {
    url: String,
    value_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct CodeableConcept {
    #[serde(default)]
    coding: Vec<Coding>,
    text: Option<String>,
}

impl CodeableConcept {
    /// What a person reads: the text, else the first display, else the
    /// first code.
    fn readable(&self) -> Option<String> {
        self.text
            .clone()
            .or_else(|| self.coding.iter().find_map(|c| c.display.clone()))
            .or_else(|| self.coding.iter().find_map(|c| c.code.clone()))
            .filter(|s| !s.trim().is_empty())
    }
}

#[derive(Debug, Clone, Deserialize)]
struct Coding {
    system: Option<String>,
    code: Option<String>,
    display: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Quantity {
    value: Option<serde_json::Number>,
    unit: Option<String>,
    code: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Reference {
    display: Option<String>,
    identifier: Option<Identifier>,
}

#[derive(Debug, Clone, Deserialize)]
struct Identifier {
    value: Option<String>,
}

impl Observation {
    fn extension(&self, url: &str) -> Option<&str> {
        self.extension
            .iter()
            .find(|e| e.url == url)
            .and_then(|e| e.value_code.as_deref())
    }

    /// The result and its unit, as written.
    fn value(&self) -> (Option<String>, Option<String>) {
        match (
            &self.value_quantity,
            &self.value_string,
            &self.value_codeable_concept,
        ) {
            (Some(q), _, _) => (
                q.value.as_ref().map(ToString::to_string),
                q.unit.clone().or_else(|| q.code.clone()),
            ),
            (None, Some(s), _) => (Some(s.clone()), None),
            (None, None, Some(c)) => (c.readable(), None),
            (None, None, None) => (None, None),
        }
    }

    fn is_critical(&self) -> bool {
        self.interpretation.iter().flat_map(|i| &i.coding).any(|c| {
            c.system.as_deref().is_none_or(|s| s == INTERPRETATION)
                && c.code
                    .as_deref()
                    .is_some_and(|code| CRITICAL.contains(&code))
        })
    }

    fn source(&self) -> Result<Source, &'static str> {
        if let Some(code) = self.extension(SOURCE_EXTENSION) {
            return serde_json::from_value(serde_json::Value::String(code.to_owned()))
                .map_err(|_| "must be lab, imaging, ecg, pathology or other");
        }
        let category = self
            .category
            .iter()
            .flat_map(|c| &c.coding)
            .filter_map(|c| c.code.as_deref());
        Ok(category
            .map(|code| match code {
                "laboratory" => Source::Lab,
                "imaging" => Source::Imaging,
                _ => Source::Other,
            })
            .next()
            .unwrap_or(Source::Lab))
    }

    /// Whether the hospital's catalogue, as it held when the result was
    /// issued, finds the result critical (by the first coded item).
    fn catalogued(
        &self,
        catalogue: &CatalogueHistory,
        value: Option<&str>,
        unit: Option<&str>,
    ) -> bool {
        let code = self
            .code
            .as_ref()
            .and_then(|c| c.coding.iter().find_map(|c| c.code.as_deref()));
        match (code, value, self.issued.or(self.effective_date_time)) {
            (Some(code), Some(value), Some(at)) => {
                recognise(&catalogue.at(at.to_utc()), code, value, unit)
            }
            _ => false,
        }
    }

    /// The detection this observation records at `hospital`, whose
    /// critical-value catalogue is `catalogue`, or every element at fault
    /// (pointers into the resource).
    pub fn detect(
        &self,
        hospital: &str,
        catalogue: &CatalogueHistory,
    ) -> Result<Detect, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fault = |pointer: &str, message: &str| {
            errors.push(FieldError::new(pointer, message));
        };
        if self.resource_type != "Observation" {
            fault("/resourceType", "must be Observation");
        }
        let (value, unit) = self.value();
        if !self.is_critical() && !self.catalogued(catalogue, value.as_deref(), unit.as_deref()) {
            fault(
                "/interpretation",
                "must say critical (HH, LL or AA), or the result be critical by the hospital's \
                 catalogue: only critical results are recorded here",
            );
        }
        let department = self.extension(DEPARTMENT_EXTENSION).map(str::to_owned);
        if department.is_none() {
            fault(
                "/extension",
                "needs the patient's department (urn:lantern:fhir:StructureDefinition:department)",
            );
        }
        let setting = match self.extension(SETTING_EXTENSION) {
            Some(code) => serde_json::from_value::<Setting>(serde_json::Value::String(code.into()))
                .map_err(|_| {
                    fault(
                        "/extension",
                        "patient-setting must be inpatient, outpatient or emergency",
                    )
                })
                .ok(),
            None => {
                fault(
                    "/extension",
                    "needs the patient setting (urn:lantern:fhir:StructureDefinition:patient-setting)",
                );
                None
            }
        };
        let source = self.source().map_err(|why| fault("/extension", why)).ok();
        let item = self.code.as_ref().and_then(CodeableConcept::readable);
        if item.is_none() {
            fault(
                "/code",
                "must name the test or finding (text, display or code)",
            );
        }
        if value.is_none() {
            fault(
                "/valueQuantity",
                "must give the result (valueQuantity, valueString or valueCodeableConcept)",
            );
        }
        // When the result was known: issued (released) if given, else when
        // the specimen was taken or the finding made.
        let detected_at = self.issued.or(self.effective_date_time);
        if detected_at.is_none() {
            fault(
                "/issued",
                "must say when the result was issued (or effectiveDateTime)",
            );
        }
        let specimen_id = self.specimen.as_ref().and_then(|s| {
            s.identifier
                .as_ref()
                .and_then(|i| i.value.clone())
                .or_else(|| s.display.clone())
        });
        match (department, setting, source, item, value, detected_at) {
            (
                Some(department),
                Some(patient_setting),
                Some(source),
                Some(item),
                Some(value),
                Some(detected_at),
            ) if errors.is_empty() => Ok(Detect {
                hospital: hospital.to_owned(),
                department,
                source,
                item,
                value,
                unit,
                detected_at,
                patient_setting,
                specimen_id,
                notified: None,
                acknowledged: None,
                handled: None,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// Given a serum potassium of 6.9 mmol/L flagged critically high.
    fn potassium() -> Value {
        json!({
            "resourceType": "Observation",
            "status": "final",
            "extension": [
                {"url": DEPARTMENT_EXTENSION, "valueCode": "ICU"},
                {"url": SETTING_EXTENSION, "valueCode": "inpatient"}
            ],
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3", "display": "Potassium [Moles/volume] in Serum or Plasma"}], "text": "血钾 K"},
            "subject": {"reference": "Patient/123", "display": "张三"},
            "effectiveDateTime": "2026-03-01T07:40:00+08:00",
            "issued": "2026-03-01T08:00:00+08:00",
            "valueQuantity": {"value": 6.9, "unit": "mmol/L"},
            "interpretation": [{"coding": [{"system": INTERPRETATION, "code": "HH"}]}],
            "specimen": {"identifier": {"value": "S-1"}}
        })
    }

    fn read(v: Value) -> Result<Detect, Vec<String>> {
        read_with(v, &CatalogueHistory::default())
    }

    fn read_with(v: Value, catalogue: &CatalogueHistory) -> Result<Detect, Vec<String>> {
        let o: Observation = serde_json::from_value(v).unwrap();
        o.detect("H1", catalogue)
            .map_err(|e| e.into_iter().map(|f| f.pointer).collect())
    }

    #[test]
    fn a_critical_result_becomes_a_detection_without_the_patient() {
        let d = read(potassium()).unwrap();
        assert_eq!(
            (
                d.hospital.as_str(),
                d.department.as_str(),
                d.item.as_str(),
                d.value.as_str()
            ),
            ("H1", "ICU", "血钾 K", "6.9")
        );
        assert_eq!(d.unit.as_deref(), Some("mmol/L"));
        assert_eq!(d.source, Source::Lab);
        assert_eq!(d.patient_setting, Setting::Inpatient);
        assert_eq!(d.specimen_id.as_deref(), Some("S-1"));
        assert_eq!(d.detected_at.to_rfc3339(), "2026-03-01T08:00:00+08:00");
        assert!(!format!("{d:?}").contains("张三"));
    }

    #[test]
    fn a_result_not_flagged_critical_is_refused() {
        for code in ["H", "N", "A", "L"] {
            let mut v = potassium();
            v["interpretation"][0]["coding"][0]["code"] = json!(code);
            assert_eq!(read(v).unwrap_err(), ["/interpretation"], "{code}");
        }
        let mut v = potassium();
        v["interpretation"] = json!([]);
        assert_eq!(read(v).unwrap_err(), ["/interpretation"]);
    }

    #[test]
    fn what_is_missing_is_each_named() {
        let v = json!({"resourceType": "Patient",
                       "interpretation": [{"coding": [{"code": "LL"}]}]});
        assert_eq!(
            read(v).unwrap_err(),
            [
                "/resourceType",
                "/extension",
                "/extension",
                "/code",
                "/valueQuantity",
                "/issued"
            ]
        );
    }

    #[test]
    fn the_source_comes_from_the_category_or_the_extension() {
        let mut v = potassium();
        v["category"][0]["coding"][0]["code"] = json!("imaging");
        assert_eq!(read(v).unwrap().source, Source::Imaging);
        let mut v = potassium();
        v["extension"]
            .as_array_mut()
            .unwrap()
            .push(json!({"url": SOURCE_EXTENSION, "valueCode": "ecg"}));
        assert_eq!(read(v).unwrap().source, Source::Ecg);
        let mut v = potassium();
        v["extension"]
            .as_array_mut()
            .unwrap()
            .push(json!({"url": SOURCE_EXTENSION, "valueCode": "x-ray"}));
        assert_eq!(read(v).unwrap_err(), ["/extension"]);
    }

    #[test]
    fn a_result_the_catalogue_finds_critical_is_recorded_without_the_flag() {
        use lantern_domain::critical::catalogue::{CatalogueItem, Threshold};
        let mut catalogue = CatalogueHistory::default();
        catalogue.push(CatalogueItem {
            item: "2823-3".into(),
            name: "血钾".into(),
            unit: Some("mmol/L".into()),
            low: Some(Threshold::from_f64(2.8).unwrap()),
            high: Some(Threshold::from_f64(6.2).unwrap()),
            source: Source::Lab,
            effective_from: "2026-01-01T00:00:00+08:00".parse().unwrap(),
        });
        let mut high = potassium();
        high["interpretation"][0]["coding"][0]["code"] = json!("H");
        assert_eq!(read_with(high.clone(), &catalogue).unwrap().value, "6.9");
        // Within the limits, or before the catalogue held: not critical.
        let mut normal = high.clone();
        normal["valueQuantity"]["value"] = json!(5.1);
        assert_eq!(
            read_with(normal, &catalogue).unwrap_err(),
            ["/interpretation"]
        );
        let mut early = high;
        early["issued"] = json!("2025-12-31T08:00:00+08:00");
        early["effectiveDateTime"] = json!("2025-12-31T07:40:00+08:00");
        assert_eq!(
            read_with(early, &catalogue).unwrap_err(),
            ["/interpretation"]
        );
    }
}
