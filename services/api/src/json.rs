//! Request bodies: `application/json`, at most the body limit, decoded into a
//! typed request whose every error names the field by JSON Pointer.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};
use crate::scrub::Scrubber;

/// The largest body any endpoint takes.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A JSON body decoded into `T`.
///
/// - not `application/json` (or `+json`), or in a charset other than
///   UTF-8 → 415;
/// - more than [`BODY_LIMIT`] bytes → 413;
/// - a body that stalls past the server's body timeout → 408;
/// - not JSON (syntax, invalid UTF-8, trailing bytes) → 400;
/// - JSON of the wrong shape (missing, unknown or duplicate fields, wrong
///   types, unknown enum values) → 422 naming the field.
pub struct ValidJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_utf8_json);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(unread)?;
        decode(&bytes).map(ValidJson)
    }
}

/// Whether a Content-Type is JSON we read: `application/json` or
/// `application/*+json`, with no charset or UTF-8 (the only encoding of
/// JSON, RFC 8259; bytes in another charset would be misread, not refused).
fn is_utf8_json(content_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let json = media == "application/json"
        || (media.starts_with("application/") && media.ends_with("+json"));
    json && parts.all(|param| match param.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
            let value = value.trim().trim_matches('"');
            value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8")
        }
        _ => true,
    })
}

/// Why a body could not be read: too large (413), too slow (408), or cut
/// off (400).
fn unread(rejection: BytesRejection) -> ApiError {
    if let BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) = rejection {
        return ApiError::PayloadTooLarge(BODY_LIMIT);
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&rejection);
    while let Some(e) = source {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return ApiError::RequestTimeout;
        }
        source = e.source();
    }
    ApiError::Malformed("the body could not be read to its end".into())
}

/// Decodes a body; see [`ValidJson`] for the errors.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.len() > BODY_LIMIT {
        return Err(ApiError::PayloadTooLarge(BODY_LIMIT));
    }
    // JSON text is UTF-8 (RFC 8259); refuse anything else before looking at
    // its shape, so invalid bytes are always a 400.
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ApiError::Malformed(format!("the body is not UTF-8: {e}")))?;
    // First: is it JSON at all (syntax, nesting depth, trailing bytes)? 400.
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map_err(|e| ApiError::Malformed(e.to_string()))?;
    // Control and bidirectional-override characters are refused in every
    // string (DESIGN "Anonymity rules"), before any handler scrubs them
    // away. Only a body that may hold one (literally, or as a `\u` escape)
    // is parsed a second time to name the field.
    if (Scrubber::refused_character(text).is_some() || text.contains("\\u"))
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(text)
        && let Some((pointer, index, c)) = first_refused(&value, String::new())
    {
        return Err(ApiError::field(
            pointer,
            format!(
                "holds a control or bidirectional-override character (U+{:04X}) at character {index}",
                u32::from(c)
            ),
        ));
    }
    // Then: is it the JSON we want? Every error from here on is about a
    // field (serde_json reports some shape errors as "syntax"), so 422.
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let pointer = pointer_of(e.path());
        ApiError::Invalid(vec![field_error(pointer, &e.into_inner())])
    })
}

/// The first string of `value` (depth first, in document order) holding a
/// refused character: its pointer, the character's index, the character.
fn first_refused(value: &serde_json::Value, at: String) -> Option<(String, usize, char)> {
    use serde_json::Value;
    match value {
        Value::String(s) => Scrubber::refused_character(s).map(|(i, c)| (at, i, c)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| first_refused(v, format!("{at}/{i}"))),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| first_refused(v, format!("{at}/{}", escape(k)))),
        _ => None,
    }
}

/// The JSON Pointer of a serde path.
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => out.push_str(&format!("/{}", escape(key))),
            Segment::Enum { variant } => out.push_str(&format!("/{}", escape(variant))),
            Segment::Unknown => {}
        }
    }
    out
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// serde reports missing and unknown fields at the parent; point at the
/// field itself, and drop serde's position suffix from the message.
fn field_error(pointer: String, e: &serde_json::Error) -> FieldError {
    let text = e.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map(|(m, _)| m.to_owned())
        .unwrap_or(text);
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let at = |name: &str| {
        let leaf = format!("/{}", escape(name));
        if pointer.ends_with(&leaf) {
            pointer.clone()
        } else {
            format!("{pointer}{leaf}")
        }
    };
    if let Some(name) = quoted("missing field `") {
        return FieldError::new(at(&name), "is required");
    }
    if let Some(name) = quoted("unknown field `") {
        return FieldError::new(at(&name), "is not a known field");
    }
    if let Some(name) = quoted("duplicate field `") {
        return FieldError::new(at(&name), "appears more than once");
    }
    FieldError::new(pointer, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        grade: lantern_domain::vocab::Grade,
        items: Vec<Item>,
        note: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
    }

    fn err(body: &str) -> ApiError {
        decode::<Body>(body.as_bytes()).unwrap_err()
    }

    fn pointers(e: ApiError) -> Vec<String> {
        match e {
            ApiError::Invalid(errors) => errors.into_iter().map(|e| e.pointer).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn good_body_decodes() {
        let b: Body = decode(br#"{"grade":"II","items":[{"n":1}]}"#).unwrap();
        assert_eq!(b.grade, lantern_domain::vocab::Grade::II);
    }

    #[test]
    fn each_error_names_its_field() {
        assert_eq!(pointers(err(r#"{"grade":"V","items":[]}"#)), ["/grade"]);
        assert_eq!(pointers(err(r#"{"items":[]}"#)), ["/grade"]);
        assert_eq!(
            pointers(err(r#"{"grade":"I","items":[{"n":"x"}]}"#)),
            ["/items/0/n"]
        );
        assert_eq!(
            pointers(err(r#"{"grade":"I","items":[],"extra":1}"#)),
            ["/extra"]
        );
        assert_eq!(
            pointers(err(r#"{"grade":"I","grade":"II","items":[]}"#)),
            ["/grade"]
        );
        assert_eq!(
            pointers(err(r#"{"grade":"I","items":[],"note":5}"#)),
            ["/note"]
        );
    }

    #[test]
    fn broken_json_is_malformed() {
        assert!(matches!(err(r#"{"grade":"#), ApiError::Malformed(_)));
        assert!(matches!(
            err(r#"{"grade":"I","items":[]} trailing"#),
            ApiError::Malformed(_)
        ));
        assert!(matches!(
            decode::<Body>(b"{\"grade\":\"\xff\"}"),
            Err(ApiError::Malformed(_))
        ));
        let deep = "[".repeat(10_000);
        assert!(matches!(
            decode::<serde_json::Value>(deep.as_bytes()),
            Err(ApiError::Malformed(_))
        ));
    }

    #[test]
    fn only_utf8_json_is_json() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON;charset=\"UTF-8\"",
            "application/problem+json",
        ] {
            assert!(is_utf8_json(ok), "{ok}");
        }
        for refused in [
            "application/json; charset=iso-8859-1",
            "application/json; charset=utf-16",
            "text/json",
            "text/plain",
            "application/jsonx",
        ] {
            assert!(!is_utf8_json(refused), "{refused}");
        }
    }

    #[test]
    fn oversized_is_refused() {
        let big = vec![b' '; BODY_LIMIT + 1];
        assert!(matches!(
            decode::<Body>(&big),
            Err(ApiError::PayloadTooLarge(_))
        ));
    }

    #[test]
    fn control_and_bidi_override_characters_are_refused_naming_the_field() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Body {
            a: String,
            b: Vec<String>,
        }
        for body in [
            r#"{"a": "ok", "b": ["x", "y\u202ez"]}"#,
            "{\"a\": \"ok\", \"b\": [\"x\", \"y\u{202e}z\"]}",
            r#"{"a": "ok", "b": ["x", "y\u0007z"]}"#,
        ] {
            match decode::<Body>(body.as_bytes()) {
                Err(ApiError::Invalid(errors)) => assert_eq!(errors[0].pointer, "/b/1", "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(decode::<Body>(br#"{"a": "line\nbreak\ttab", "b": ["\u4e2d"]}"#).is_ok());
    }
}
