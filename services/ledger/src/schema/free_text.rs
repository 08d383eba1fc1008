//! Which strings of an event's data are free text.
//!
//! A schema marks every string a person or a system types with the
//! annotation `"x-lantern-free-text": true`; the command path scrubs exactly
//! those (`lantern_api::scrub::Scrubber::scrub_value`), so a new free-text
//! field is scrubbed as soon as its schema marks it. JSON Schema 2020-12
//! ignores unknown keywords, so the mark changes no validation.

use serde_json::Value;

/// The annotation that marks a free-text string.
pub const KEYWORD: &str = "x-lantern-free-text";

/// `$ref` chains longer than this are cut off (a schema referring to itself).
const MAX_DEPTH: usize = 32;

/// The JSON Pointers (into an event's data) of the strings marked free
/// text in `schema`, sorted and without duplicates. An array's elements are
/// written `*` (`/defects/*/text`).
pub fn marked_pointers(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(schema, schema, "", 0, &mut |node, pointer| {
        if node.get(KEYWORD) == Some(&Value::Bool(true)) {
            out.push(pointer.to_owned());
        }
    });
    out.sort();
    out.dedup();
    out
}

/// The JSON Pointers of every property of `schema` that is a string (by
/// `type`, after `$ref`), marked or not; sorted, without duplicates.
pub fn string_pointers(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(schema, schema, "", 0, &mut |node, pointer| {
        if node.get("type").and_then(Value::as_str) == Some("string") {
            out.push(pointer.to_owned());
        }
    });
    out.sort();
    out.dedup();
    out
}

/// Visits every subschema that describes the value at some pointer:
/// through `$ref` (local, `#/$defs/…`), `properties`, `items`, and the
/// applicators that apply to the same value (`allOf`, `anyOf`, `oneOf`,
/// `if`, `then`, `else`).
fn walk(
    root: &Value,
    node: &Value,
    pointer: &str,
    depth: usize,
    visit: &mut impl FnMut(&Value, &str),
) {
    if depth > MAX_DEPTH {
        return;
    }
    visit(node, pointer);
    if let Some(target) = node
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| root.pointer(p))
    {
        walk(root, target, pointer, depth + 1, visit);
    }
    if let Some(properties) = node.get("properties").and_then(Value::as_object) {
        for (name, sub) in properties {
            let child = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
            walk(root, sub, &child, depth + 1, visit);
        }
    }
    if let Some(items) = node.get("items").filter(|i| i.is_object()) {
        walk(root, items, &format!("{pointer}/*"), depth + 1, visit);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for sub in node
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            walk(root, sub, pointer, depth + 1, visit);
        }
    }
    for key in ["if", "then", "else"] {
        if let Some(sub) = node.get(key) {
            walk(root, sub, pointer, depth + 1, visit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follows_refs_items_and_applicators() {
        let schema = json!({
            "type": "object",
            "properties": {
                "code": {"$ref": "#/$defs/code"},
                "note": {"type": "string", "x-lantern-free-text": true},
                "roles": {"type": "array", "items": {"type": "string", "x-lantern-free-text": true}},
                "defects": {"type": "array", "items": {"$ref": "#/$defs/defect"}},
                "a/b": {"type": "string", "x-lantern-free-text": true}
            },
            "allOf": [{"if": {"properties": {"code": {"const": "x"}}},
                       "then": {"properties": {"extra": {"type": "string", "x-lantern-free-text": true}}}}],
            "$defs": {
                "code": {"type": "string", "pattern": "^[A-Z]+$"},
                "defect": {"type": "object", "properties": {
                    "text": {"type": "string", "x-lantern-free-text": true},
                    "phase": {"type": "string", "enum": ["a"]},
                    "loop": {"$ref": "#/$defs/defect"}
                }}
            }
        });
        let marked = marked_pointers(&schema);
        for p in ["/note", "/roles/*", "/defects/*/text", "/a~1b", "/extra"] {
            assert!(marked.contains(&p.to_owned()), "{p} in {marked:?}");
        }
        assert!(!marked.iter().any(|p| p == "/code" || p.ends_with("/phase")));
        let strings = string_pointers(&schema);
        for p in ["/code", "/note", "/defects/*/phase"] {
            assert!(strings.contains(&p.to_owned()), "{p} in {strings:?}");
        }
    }
}
