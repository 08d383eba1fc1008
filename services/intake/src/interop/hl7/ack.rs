//! The acknowledgement every message gets (HL7 2.5 original mode): `AA`
//! once what it reports is appended (or was, for a repeat), `AE` with an
//! ERR segment naming the field, `AR` for a message Lantern does not take
//! or a sender it does not know.

use chrono::{DateTime, Utc};
use hl7_parser::message::Separators;

use super::message::{ErrorCode, Header, Location};

/// MSA-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Application accept.
    Accept,
    /// Application error.
    Error,
    /// Application reject.
    Reject,
}

impl Code {
    fn as_str(self) -> &'static str {
        match self {
            Code::Accept => "AA",
            Code::Error => "AE",
            Code::Reject => "AR",
        }
    }
}

/// An ERR segment's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Err {
    /// ERR-2, when a field is named.
    pub location: Option<Location>,
    /// ERR-3 (table 0357).
    pub code: ErrorCode,
    /// ERR-8, for the interface engineer.
    pub message: String,
}

/// The ACK of the message with `header`, as a message (segments ending in
/// CR) to frame. Values echoed from the message are escaped, so that a
/// sender's separator in its own ids cannot break the ACK.
pub fn ack(header: &Header, code: Code, err: Option<&Err>, now: DateTime<Utc>) -> String {
    let s = Separators::default();
    let e = |v: &str| s.encode(v).to_string();
    let or = |v: &str, default: &'static str| {
        if v.is_empty() {
            default.to_owned()
        } else {
            e(v)
        }
    };
    let trigger = if header.trigger.is_empty() {
        String::new()
    } else {
        e(&header.trigger)
    };
    // A control id of its own: random, so that it dates nothing.
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut out = format!(
        "MSH|^~\\&|{}|{}|{}|{}|{}||ACK^{trigger}^ACK|{}|P|2.5\rMSA|{}|{}\r",
        or(&header.receiving_application, "LANTERN"),
        or(&header.receiving_facility, "LANTERN"),
        e(&header.application),
        e(&header.facility),
        now.format("%Y%m%d%H%M%S+0000"),
        &id[..20],
        code.as_str(),
        e(&header.control_id),
    );
    if let Some(err) = err {
        let (number, text) = err.code.code();
        let location = err
            .location
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let severity = if code == Code::Accept { "W" } else { "E" };
        out.push_str(&format!(
            "ERR||{location}|{number}^{text}^HL70357|{severity}||||{}\r",
            e(&err.message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            application: "LIS".into(),
            facility: "H1".into(),
            receiving_application: String::new(),
            receiving_facility: "LANTERN".into(),
            sent_at: "20261005080000".into(),
            trigger: "R01".into(),
            control_id: "C|1".into(),
        }
    }

    #[test]
    fn an_ack_answers_the_sender_and_returns_the_control_id() {
        let now = "2026-10-05T00:00:00Z".parse().unwrap();
        let a = ack(&header(), Code::Accept, None, now);
        let message = hl7_parser::Message::parse(&a).unwrap();
        let msh = message.segment("MSH").unwrap();
        assert_eq!(msh.field(3).unwrap().raw_value(), "LANTERN");
        assert_eq!(msh.field(5).unwrap().raw_value(), "LIS");
        assert_eq!(msh.field(6).unwrap().raw_value(), "H1");
        assert_eq!(msh.field(7).unwrap().raw_value(), "20261005000000+0000");
        assert_eq!(msh.field(9).unwrap().raw_value(), "ACK^R01^ACK");
        assert_eq!(msh.field(10).unwrap().raw_value().len(), 20);
        let msa = message.segment("MSA").unwrap();
        assert_eq!(msa.field(1).unwrap().raw_value(), "AA");
        // The sender's separator comes back escaped, and reads as it was.
        assert_eq!(msa.field(2).unwrap().raw_value(), "C\\F\\1");
        assert_eq!(
            msa.field(2)
                .unwrap()
                .display(&message.separators)
                .to_string(),
            "C|1"
        );
        assert!(message.segment("ERR").is_none());
    }

    #[test]
    fn an_error_names_the_field_in_err() {
        let now = "2026-10-05T00:00:00Z".parse().unwrap();
        let err = Err {
            location: Some(Location {
                segment: "OBX",
                sequence: 1,
                field: 5,
            }),
            code: ErrorCode::DataType,
            message: "\"abc\" is not a number".into(),
        };
        let a = ack(&header(), Code::Error, Some(&err), now);
        let message = hl7_parser::Message::parse(&a).unwrap();
        assert_eq!(
            message
                .segment("MSA")
                .unwrap()
                .field(1)
                .unwrap()
                .raw_value(),
            "AE"
        );
        let e = message.segment("ERR").unwrap();
        assert_eq!(e.field(2).unwrap().raw_value(), "OBX^1^5");
        assert_eq!(
            e.field(3).unwrap().raw_value(),
            "102^Data type error^HL70357"
        );
        assert_eq!(e.field(4).unwrap().raw_value(), "E");
        assert_eq!(e.field(8).unwrap().raw_value(), "\"abc\" is not a number");
    }
}
