//! The envelope every event travels in, and an event as read back.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The header that keeps a keyed request's whole id — the Idempotency-Key's
/// hash and the fingerprint of what was asked — beside JetStream's
/// `Nats-Msg-Id`, which holds the key's hash alone: the server then treats
/// the key reused for another request as a duplicate instead of storing it,
/// and the ledger tells that from a retry by this header (issue 24 item 4:
/// a message id holding the fingerprint too let a reused key append a
/// second event until the directory had seen the first).
pub const REQUEST_HEADER: &str = "Lantern-Request";

/// Separates an Idempotency-Key's hash from the request's fingerprint in a
/// request id.
pub const REQUEST_SEPARATOR: char = ':';

/// The part of a request id JetStream deduplicates on: the key's hash.
pub fn dedup_id(request: &str) -> &str {
    request
        .split_once(REQUEST_SEPARATOR)
        .map_or(request, |(key, _)| key)
}

/// The JSON payload of every message on the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// UUID v7 of the event.
    pub id: Uuid,
    /// Dotted type, e.g. `report.filed`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Schema version of `data`.
    pub version: u32,
    /// The report, critical value, case … this event belongs to.
    pub aggregate: Uuid,
    /// Registered hospital code (or `_` for events of no hospital).
    pub hospital: String,
    /// Server clock, UTC, when the event was appended.
    pub recorded_at: DateTime<Utc>,
    /// W3C traceparent of the request that caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// The event's data, valid against `schemas/<type>.v<version>.json`.
    pub data: Data,
}

/// An event's `data`, kept as the JSON text it was stored as.
///
/// Every projector reads every event, but each needs the data of a few
/// types only, and each into its own struct: parsing the text straight into
/// that struct, when it is needed, costs one pass instead of building a
/// `serde_json::Value` tree for every event and then walking it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Data(Box<serde_json::value::RawValue>);

impl Data {
    /// The data of a value (serialised once, here).
    pub fn from_value(value: &serde_json::Value) -> Data {
        // A `Value` always serialises; its maps have string keys.
        Data(
            serde_json::value::to_raw_value(value)
                .unwrap_or_else(|_| serde_json::value::RawValue::NULL.to_owned()),
        )
    }

    /// The data read into `T`, or why it is not a `T`.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// The data as a JSON tree, for code that looks at it field by field.
    pub fn to_value(&self) -> serde_json::Value {
        // Stored data is JSON by construction (it was parsed to get here).
        self.parse().unwrap_or(serde_json::Value::Null)
    }

    /// A top-level string field, for the few events read one field at a time.
    pub fn str_field(&self, name: &str) -> Option<String> {
        match self.to_value() {
            serde_json::Value::Object(mut map) => match map.remove(name) {
                Some(serde_json::Value::String(s)) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// The JSON text.
    pub fn as_json(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for Data {
    /// The same JSON text: data is written once, by `serde_json`, so equal
    /// values have equal text.
    fn eq(&self, other: &Data) -> bool {
        self.0.get() == other.0.get()
    }
}

impl From<serde_json::Value> for Data {
    fn from(value: serde_json::Value) -> Data {
        Data::from_value(&value)
    }
}

/// An event read back from the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// Its stream sequence (≥ 1).
    pub seq: u64,
    /// The envelope.
    pub envelope: Envelope,
    /// The request it was appended for: the event id, or the hash of the
    /// Idempotency-Key of the request that caused it, with the request's
    /// fingerprint after [`REQUEST_SEPARATOR`] where one was kept (the
    /// [`REQUEST_HEADER`], else the `Nats-Msg-Id` of events appended before
    /// that header).
    pub msg_id: Option<String>,
    /// The `traceparent` header, to parent the projector's apply span.
    pub traceparent: Option<String>,
}

impl Recorded {
    /// An event as if read back from the stream at `seq`, for projector
    /// tests, fuzzing and tools that replay fixtures.
    pub fn new(
        seq: u64,
        event_type: &str,
        hospital: &str,
        aggregate: uuid::Uuid,
        recorded_at: DateTime<Utc>,
        data: serde_json::Value,
    ) -> Recorded {
        Recorded {
            seq,
            envelope: Envelope {
                id: uuid::Uuid::now_v7(),
                event_type: event_type.to_owned(),
                version: 1,
                aggregate,
                hospital: hospital.to_owned(),
                recorded_at,
                trace: None,
                data: Data::from_value(&data),
            },
            msg_id: None,
            traceparent: None,
        }
    }

    /// Decodes a stored message.
    pub fn decode(
        seq: u64,
        payload: &[u8],
        headers: Option<&async_nats::HeaderMap>,
    ) -> Result<Recorded, crate::LedgerError> {
        // UTF-8 checked once, up front, with SIMD: from a byte slice
        // serde_json checks every string and the raw `data` with the
        // standard library's scalar check, slow on Chinese text, and a
        // report's description is most of its payload (≈ 5 % of a rates
        // rebuild's CPU went to it). From a `&str` it checks nothing again.
        let text = simdutf8::basic::from_utf8(payload).map_err(|_| crate::LedgerError::Decode {
            seq,
            message: "the payload is not UTF-8".into(),
        })?;
        let envelope: Envelope =
            serde_json::from_str(text).map_err(|e| crate::LedgerError::Decode {
                seq,
                message: e.to_string(),
            })?;
        // RFC 3339 (and so every schema) has four-digit years; chrono parses
        // more. A time beyond them would overflow on conversion to a
        // hospital's time zone, so such an envelope is not an event.
        if !(1..=9999).contains(&envelope.recorded_at.year()) {
            return Err(crate::LedgerError::Decode {
                seq,
                message: format!("recorded_at {} is out of range", envelope.recorded_at),
            });
        }
        let header = |name: &str| {
            headers
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_owned())
        };
        Ok(Recorded {
            seq,
            msg_id: header(REQUEST_HEADER)
                .or_else(|| header(async_nats::header::NATS_MESSAGE_ID.as_ref())),
            traceparent: header("traceparent"),
            envelope,
        })
    }

    /// Whether this event was appended under a client's Idempotency-Key
    /// rather than its own id.
    pub fn idempotency_key_hash(&self) -> Option<&str> {
        self.msg_id
            .as_deref()
            .filter(|id| *id != self.envelope.id.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(recorded_at: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "id": "0192f3c0-0000-7000-8000-000000000001",
            "type": "report.filed",
            "version": 1,
            "aggregate": "0192f3c0-0000-7000-8000-000000000002",
            "hospital": "H0001",
            "recorded_at": recorded_at,
            "data": {}
        }))
        .unwrap()
    }

    #[test]
    fn data_is_kept_as_stored_and_read_into_the_type_asked_for() {
        #[derive(serde::Deserialize)]
        struct Census {
            discharges: u64,
        }
        let payload = br#"{"id":"0192f3c0-0000-7000-8000-000000000001","type":"census.reported","version":1,"aggregate":"0192f3c0-0000-7000-8000-000000000002","hospital":"H0001","recorded_at":"2026-01-01T00:00:00Z","data":{"month":"2026-01","discharges":7}}"#;
        let r = Recorded::decode(3, payload, None).unwrap();
        assert_eq!(
            r.envelope.data.as_json(),
            r#"{"month":"2026-01","discharges":7}"#
        );
        assert_eq!(r.envelope.data.parse::<Census>().unwrap().discharges, 7);
        assert!(r.envelope.data.parse::<Vec<u8>>().is_err());
        assert_eq!(
            r.envelope.data.str_field("month").as_deref(),
            Some("2026-01")
        );
        assert_eq!(r.envelope.data.str_field("discharges"), None);
        // Written back byte for byte.
        let again = serde_json::to_vec(&r.envelope).unwrap();
        assert_eq!(Recorded::decode(3, &again, None).unwrap(), r);
        assert_eq!(
            Data::from_value(&serde_json::json!({"discharges": 7, "month": "2026-01"})),
            Data::from_value(&r.envelope.data.to_value())
        );
    }

    #[test]
    fn chinese_text_decodes_and_a_payload_that_is_not_utf8_is_not_an_event() {
        let text = "患者跌倒，右侧髋部疼痛。\u{1F6D1}";
        let payload = serde_json::to_vec(&serde_json::json!({
            "id": "0192f3c0-0000-7000-8000-000000000001",
            "type": "report.filed",
            "version": 1,
            "aggregate": "0192f3c0-0000-7000-8000-000000000002",
            "hospital": "医院一",
            "recorded_at": "2026-01-01T00:00:00Z",
            "data": {"description": text}
        }))
        .unwrap();
        let r = Recorded::decode(5, &payload, None).unwrap();
        assert_eq!(r.envelope.hospital, "医院一");
        assert_eq!(
            r.envelope.data.str_field("description").as_deref(),
            Some(text)
        );

        // A byte of a three-byte character cut off, inside the data and
        // outside it.
        let cut = text.len() - 5;
        for at in [payload.len() - 10, 40] {
            let mut broken = payload.clone();
            broken.insert(at, text.as_bytes()[cut - 1]);
            let err = Recorded::decode(5, &broken, None).unwrap_err();
            assert!(
                matches!(err, crate::LedgerError::Decode { seq: 5, .. }),
                "{err}"
            );
        }
    }

    #[test]
    fn an_envelope_decodes_within_four_digit_years() {
        for at in [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2026-11-23T08:00:00+08:00",
        ] {
            assert!(Recorded::decode(1, &payload(at), None).is_ok(), "{at}");
        }
    }

    #[test]
    fn a_time_beyond_four_digit_years_is_not_an_event() {
        for at in [
            "+262142-12-31T23:59:59Z",
            "+10000-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z",
        ] {
            let Ok(at) = at.parse::<DateTime<Utc>>() else {
                continue; // chrono refused it already
            };
            let err = Recorded::decode(1, &payload(&at.to_rfc3339()), None).unwrap_err();
            assert!(
                matches!(err, crate::LedgerError::Decode { seq: 1, .. }),
                "{err}"
            );
        }
        // The largest time chrono holds, as serde writes it.
        let max = serde_json::to_value(DateTime::<Utc>::MAX_UTC).unwrap();
        let err = Recorded::decode(1, &payload(max.as_str().unwrap()), None).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
    }
}
