use serde_json::{Value, json};

use super::*;

/// `output_config.format` for a chat body with `response_format` (as the client wrote it).
fn of(response_format: &str) -> Result<Option<Value>, (String, String)> {
    let body = format!(r#"{{"model":"m","messages":[],"response_format":{response_format}}}"#);
    let req: Map<String, Value> = serde_json::from_str(&body).unwrap_or_default();
    format(&req, body.as_bytes())
        .map(|text| text.map(|(t, _)| serde_json::from_str(&t).unwrap_or(Value::Null)))
        .map_err(|e| (e.param.unwrap_or_default(), e.message))
}

fn schema(schema: &str) -> String {
    format!(r#"{{"type":"json_schema","json_schema":{{"name":"p","strict":true,"schema":{schema}}}}}"#)
}

#[test]
fn a_json_schema_is_claudes_format_its_objects_closed_and_its_order_kept() {
    let asked = r##"{"type":"object","title":"Answer","properties":{
        "reasoning":{"type":"string","description":"first"},
        "answer":{"type":"string","format":"date"},
        "stops":{"type":"array","minItems":1,"items":{"type":"object","properties":{"at":{"type":"string"}}}},
        "kind":{"oneOf":[{"type":"null"},{"$ref":"#/$defs/kind"}]},
        "level":{"enum":["low","high",null]}},
      "required":["reasoning","answer"],
      "$defs":{"kind":{"type":["object","null"],"properties":{"minimum":{"type":"integer"}}}}}"##;
    let body = format!(r#"{{"model":"m","messages":[],"response_format":{}}}"#, schema(asked));
    let req: Map<String, Value> = serde_json::from_str(&body).unwrap_or_default();
    let (text, tally) = format(&req, body.as_bytes()).ok().flatten().unwrap_or_default();
    // Optional: stops, kind, level; stops' at; kind's minimum. Unions: kind, and its type list.
    assert_eq!(tally, Tally { optional: 5, unions: 2 });
    // The properties in the client's order: the model writes its reasoning before its answer.
    let at = |s: &str| text.find(s).unwrap_or(usize::MAX);
    assert!(at("\"reasoning\"") < at("\"answer\"") && at("\"answer\"") < at("\"stops\""), "{text}");
    let got: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let mut want: Value = serde_json::from_str(asked).unwrap_or(Value::Null);
    for at in ["", "/properties/stops/items", "/$defs/kind"] {
        if let Some(o) = want.pointer_mut(at).and_then(Value::as_object_mut) {
            o.insert("additionalProperties".into(), json!(false));
        }
    }
    // oneOf said as anyOf, as Anthropic's SDKs say it.
    if let Some(o) = want.pointer_mut("/properties/kind").and_then(Value::as_object_mut) {
        let alternatives = o.remove("oneOf").unwrap_or_default();
        o.insert("anyOf".into(), alternatives);
    }
    assert_eq!(got, json!({"type": "json_schema", "schema": want}));
    assert_eq!(of(r#"{"type":"text"}"#), Ok(None));
    assert_eq!(of("null"), Ok(None));
}

#[test]
fn what_claude_cannot_decode_is_refused_where_it_stands() {
    let at = |rest: &str| format!("{SCHEMA_PARAM}.properties.x{rest}");
    for (inner, param) in [
        (r#"{"type":"integer","minimum":1}"#, at(".minimum")),
        (r#"{"type":"string","maxLength":9}"#, at(".maxLength")),
        (r#"{"type":"string","format":"ipv5"}"#, at(".format")),
        (r#"{"type":"array","minItems":2}"#, at(".minItems")),
        (r#"{"type":"array","uniqueItems":true}"#, at(".uniqueItems")),
        (r#"{"type":"array","items":{"type":"number","multipleOf":2}}"#, at(".items.multipleOf")),
        (r#"{"type":"object","additionalProperties":{"type":"string"}}"#, at(".additionalProperties")),
        (
            r#"{"anyOf":[{"type":"string"},{"type":"object","additionalProperties":true}]}"#,
            at(".anyOf[1].additionalProperties"),
        ),
        (r#"{"not":{"type":"string"}}"#, at(".not")),
        (r#"{"enum":[{"a":1}]}"#, at(".enum")),
        (r##"{"allOf":[{"$ref":"#/$defs/a"}]}"##, at(".allOf")),
        (r##"{"$ref":"#"}"##, at(".$ref")),
        (r#"{"$ref":"https://example.com/s.json"}"#, at(".$ref")),
    ] {
        let asked = schema(&format!(r#"{{"type":"object","properties":{{"x":{inner}}}}}"#));
        assert_eq!(of(&asked).map_err(|e| e.0), Err(param), "{inner}");
    }
    // A definition that leads back to itself, through another.
    let recursive = schema(
        r##"{"type":"object","properties":{"root":{"$ref":"#/$defs/a"}},"$defs":{"a":{"type":"object","properties":{"b":{"$ref":"#/$defs/b"}}},"b":{"type":"object","properties":{"a":{"$ref":"#/$defs/a"}}}}}"##,
    );
    assert!(of(&recursive).is_err_and(|e| e.1.contains("recursive")), "{recursive}");
    // Two definitions that share one are not recursive.
    let shared = schema(
        r##"{"type":"object","properties":{"p":{"$ref":"#/$defs/a"},"q":{"$ref":"#/$defs/b"}},"$defs":{"a":{"type":"object","properties":{"c":{"$ref":"#/$defs/c"}}},"b":{"type":"object","properties":{"c":{"$ref":"#/$defs/c"}}},"c":{"type":"string"}}}"##,
    );
    assert!(of(&shared).is_ok_and(|f| f.is_some()), "{shared}");
    assert_eq!(of(r#"{"type":"json_object"}"#).map_err(|e| e.0), Err("response_format.type".to_string()));
    assert_eq!(
        of(r#"{"type":"json_schema","json_schema":{"name":"p"}}"#).map_err(|e| e.0),
        Err(SCHEMA_PARAM.to_string())
    );
}

#[test]
fn annotations_go_and_the_walk_knows_names_from_keywords() {
    // pydantic's tagged union: its discriminator left out, its oneOf said as anyOf.
    let union = schema(
        r##"{"type":"object","properties":{"pet":{"oneOf":[{"$ref":"#/$defs/cat"}],"discriminator":{"propertyName":"kind"}},"minimum":{"type":"string","deprecated":true},"$ref":{"type":"string"}},"$defs":{"cat":{"type":"object","properties":{"kind":{"const":"cat"}},"readOnly":true}}}"##,
    );
    let got = of(&union).ok().flatten().unwrap_or_default();
    assert_eq!(got["schema"]["properties"]["pet"], json!({"anyOf": [{"$ref": "#/$defs/cat"}]}), "{got}");
    assert_eq!(got["schema"]["properties"]["minimum"], json!({"type": "string"}), "{got}");
    assert_eq!(got["schema"]["$defs"]["cat"]["additionalProperties"], json!(false), "{got}");
    assert!(got["schema"]["$defs"]["cat"].get("readOnly").is_none(), "{got}");
    // A whole number written as a float; a title that says $ref inside allOf.
    let fine = schema(
        r#"{"type":"object","properties":{"x":{"type":"array","minItems":1.0},"y":{"allOf":[{"type":"string","title":"$ref"}]}}}"#,
    );
    assert_eq!(
        of(&fine).ok().flatten().map(|f| f["schema"]["properties"]["x"]["minItems"].clone()),
        Some(json!(1))
    );
    let at = |rest: &str| format!("{SCHEMA_PARAM}.properties{rest}");
    for (asked, param) in [
        // zod's "root" references: a property referring to its ancestor.
        (
            r##"{"type":"object","properties":{"t":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/properties/t"}}}}}}"##,
            at(".t.properties.kids.items.$ref"),
        ),
        (r#"{"type":"object","properties":{"x":{"const":{"a":1}}}}"#, at(".x.const")),
        (r#"{"type":"object","properties":{"x":"string"}}"#, at(".x")),
        (
            r#"{"type":"object","properties":{"x":{"type":"array","items":[{"type":"string"}]}}}"#,
            at(".x.items"),
        ),
        (r#"{"type":"object","properties":["x"]}"#, at("")),
    ] {
        assert_eq!(of(&schema(asked)).map_err(|e| e.0), Err(param), "{asked}");
    }
    // A definition named like another elsewhere is not taken for it.
    let nested = schema(
        r##"{"type":"object","properties":{"p":{"$ref":"#/$defs/a"},"x":{"type":"object","$defs":{"b":{"$ref":"#/$defs/a"}}}},"$defs":{"a":{"type":"object","properties":{"q":{"$ref":"#/$defs/b"}}},"b":{"type":"string"}}}"##,
    );
    assert!(of(&nested).is_ok_and(|f| f.is_some()), "{nested}");
}

/// The strict schemas of tools with these `parameters` (each asking to be strict), beside a
/// format of this tally.
fn strict(parameters: &[&str], format: Tally) -> Vec<Option<Value>> {
    let asked: Vec<Option<Raw<'_>>> = parameters.iter().map(|p| Some(Some(Json::of(p)))).collect();
    strict_tools(&asked, format)
        .into_iter()
        .map(|s| s.map(|s| serde_json::from_slice(&s).unwrap_or(Value::Null)))
        .collect()
}

#[test]
fn a_strict_tools_schema_is_closed_in_its_order_and_one_claude_cannot_decode_goes_unstrict() {
    let asked = [
        r#"{"type":"object","properties":{"path":{"type":"string"},"opts":{"type":"object","properties":{"n":{"type":"integer"}}}},"required":["path"]}"#,
        r#"{"type":"object","properties":{"n":{"type":"integer","minimum":0}}}"#,
        r##"{"type":"object","properties":{"next":{"$ref":"#"}}}"##,
        r##"{"type":"object","properties":{"k":{"$ref":"#/$defs/k"}},"$defs":{"k":{"oneOf":[{"type":"string"},{"type":"null"}]}}}"##,
        "null",
    ];
    let got = strict(&asked, Tally::default());
    let want = [
        Some(
            json!({"type":"object","properties":{"path":{"type":"string"},"opts":{"type":"object","properties":{"n":{"type":"integer"}},"additionalProperties":false}},"required":["path"],"additionalProperties":false}),
        ),
        // A numeric bound, and a schema naming itself: beyond Claude's strict decoding.
        None,
        None,
        Some(
            json!({"type":"object","properties":{"k":{"$ref":"#/$defs/k"}},"$defs":{"k":{"anyOf":[{"type":"string"},{"type":"null"}]}},"additionalProperties":false}),
        ),
        Some(json!({"type":"object","properties":{},"additionalProperties":false})),
    ];
    assert_eq!(got, want);
    // Written in the client's order, each object closed after its own members.
    let asked: Vec<Option<Raw<'_>>> = vec![Some(Some(Json::of(asked[0])))];
    let text = strict_tools(&asked, Tally::default()).pop().flatten().unwrap_or_default();
    assert_eq!(
        String::from_utf8_lossy(&text),
        r#"{"type":"object","properties":{"path":{"type":"string"},"opts":{"type":"object","properties":{"n":{"type":"integer"}},"additionalProperties":false}},"required":["path"],"additionalProperties":false}"#
    );
    // A root that is a reference (zod's output) goes unstrict: closed beside its `$ref`, it
    // would take no member.
    let zod = r##"{"$ref":"#/definitions/Args","definitions":{"Args":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}"##;
    assert_eq!(strict(&[zod], Tally::default()), [None]);
    // A tool that did not ask goes as it is.
    assert_eq!(strict_tools(&[None, Some(None)], Tally::default()).len(), 2);
    assert!(strict_tools(&[None], Tally::default())[..] == [None]);
}

#[test]
fn strict_tools_past_anthropics_limits_all_go_unstrict() {
    let one = r#"{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}"#;
    let all = |n: usize, format: Tally| strict(&vec![one; n], format).iter().filter(|s| s.is_some()).count();
    assert_eq!(all(20, Tally::default()), 20);
    assert_eq!(all(21, Tally::default()), 0);
    // Optional parameters (one each here) and unions, counted with the format's.
    let optional = r#"{"type":"object","properties":{"a":{"type":["string","null"]}}}"#;
    let some =
        |n: usize, format: Tally| strict(&vec![optional; n], format).iter().filter(|s| s.is_some()).count();
    assert_eq!(some(16, Tally::default()), 16);
    assert_eq!(some(17, Tally::default()), 0);
    assert_eq!(some(4, Tally::with(20, 12)), 4);
    assert_eq!(some(5, Tally::with(20, 0)), 0);
    assert_eq!(some(5, Tally::with(0, 12)), 0);
}

/// A `$ref` names a schema by its JSON pointer: one naming none (a typo, a trailing slash, a
/// keyword left out, a `oneOf` the walk writes as `anyOf`) or percent-encoded is refused where
/// it stands, and a cycle through any of them is found however the names read (a name with a
/// dot or a slash, an element of a list).
#[test]
fn a_ref_names_a_schema_by_its_pointer_and_a_cycle_is_found_through_any() {
    let at = |s: &str| format!("{SCHEMA_PARAM}{s}");
    for (asked, param) in [
        (r##"{"type":"object","properties":{"x":{"$ref":"#/$defs/nope"}}}"##, at(".properties.x.$ref")),
        (
            r##"{"type":"object","properties":{"x":{"$ref":"#/$defs/a/"}},"$defs":{"a":{"type":"string"}}}"##,
            at(".properties.x.$ref"),
        ),
        (
            r##"{"type":"object","properties":{"x":{"$ref":"#/%24defs/a"}},"$defs":{"a":{"type":"string"}}}"##,
            at(".properties.x.$ref"),
        ),
        (
            r##"{"type":"object","properties":{"x":{"$ref":"#/$defs/d/oneOf/1"}},"$defs":{"d":{"oneOf":[{"type":"string"},{"type":"null"}]}}}"##,
            at(".properties.x.$ref"),
        ),
        (
            r##"{"type":"object","properties":{"x":{"$ref":"#/$defs/d/discriminator"}},"$defs":{"d":{"type":"object","discriminator":{"type":"string"}}}}"##,
            at(".properties.x.$ref"),
        ),
        // Recursive through an element of a list.
        (
            r##"{"type":"object","properties":{"r":{"$ref":"#/$defs/d"}},"$defs":{"d":{"anyOf":[{"type":"string"},{"type":"object","properties":{"k":{"$ref":"#/$defs/d/anyOf/1"}}}]}}}"##,
            at(".$defs.d.anyOf[1].properties.k.$ref"),
        ),
    ] {
        assert_eq!(of(&schema(asked)).map_err(|e| e.0), Err(param), "{asked}");
    }
    // Names that read like paths are names.
    for fine in [
        r##"{"type":"object","properties":{"a":{"type":"string"},"a.x":{"$ref":"#/properties/a"}}}"##,
        r##"{"type":"object","properties":{"x":{"$ref":"#/$defs/a.b"}},"$defs":{"a":{"type":"object","properties":{"y":{"$ref":"#/$defs/a.b"}}},"a.b":{"type":"string"}}}"##,
        r##"{"type":"object","properties":{"x":{"$ref":"#/$defs/a~1b~0c"}},"$defs":{"a/b~c":{"type":"string"}}}"##,
    ] {
        assert!(of(&schema(fine)).is_ok_and(|f| f.is_some()), "{fine}");
    }
}

/// A chain of definitions, each naming the next, is one search however long (the check read
/// every reference again for each one it reached: 1,200 of them took 18 seconds in Envoy);
/// closed into a loop, it is recursive.
#[test]
fn a_long_chain_of_references_is_checked_once() {
    let chain = |n: usize, last: &str| {
        let defs: Vec<String> = (0..n)
            .map(|i| {
                let next = if i + 1 == n { last.to_string() } else { format!("#/$defs/a{}", i + 1) };
                format!(
                    r#""a{i}":{{"type":"object","properties":{{"x":{{"$ref":"{next}"}}}},"required":["x"]}}"#
                )
            })
            .collect();
        schema(&format!(
            r##"{{"type":"object","properties":{{"root":{{"$ref":"#/$defs/a0"}}}},"$defs":{{{},"end":{{"type":"string"}}}}}}"##,
            defs.join(",")
        ))
    };
    assert!(of(&chain(20_000, "#/$defs/end")).is_ok_and(|f| f.is_some()));
    assert!(of(&chain(20_000, "#/$defs/a0")).is_err_and(|e| e.1.contains("recursive")));
}

/// What the walk keeps is bounded by the schema's bytes (a long name above thousands of
/// schemas was copied into each: 400 KB of name ran the VM out of memory), and how many
/// properties are optional is counted in one pass over them and their `required` (a list
/// scanned for each of 100,000 properties took seconds of a worker).
#[test]
fn the_walk_keeps_and_counts_in_proportion_to_the_schema() {
    let name = "x".repeat(100_000);
    let text = format!(
        r#"{{"type":"object","properties":{{"{name}":{{"anyOf":[{}]}}}},"required":["{name}"]}}"#,
        vec!["true"; 2_000].join(",")
    );
    let mut walk = Walk::new(SCHEMA_PARAM.to_string());
    let mut out = String::new();
    assert!(walk.close(Json::of(&text), &mut out).is_ok() && walk.resolve().is_ok());
    assert!(walk.held() < 4 * text.len(), "{} bytes kept of a {}-byte schema", walk.held(), text.len());
    let n = 200_000;
    let properties: Vec<String> = (0..n).map(|i| format!(r#""p{i}":{{"type":"string"}}"#)).collect();
    let required: Vec<String> = (10..n).map(|i| format!(r#""p{i}""#)).collect();
    let text = format!(
        r#"{{"type":"object","properties":{{{}}},"required":[{}]}}"#,
        properties.join(","),
        required.join(",")
    );
    let mut walk = Walk::new(SCHEMA_PARAM.to_string());
    assert!(walk.close(Json::of(&text), &mut String::new()).is_ok());
    assert_eq!(walk.tally, Tally::with(10, 0));
}

/// What Anthropic refuses of a schema is refused here (a format, naming it) or left unstrict
/// (a tool): a pattern with lookaround, a backreference or a word boundary, a format past the
/// limits, a reference into a `oneOf` (written as `anyOf`); a float, or a type spelled with
/// an escape, changes nothing of how a schema is closed.
#[test]
fn what_claude_refuses_is_refused_and_what_it_takes_is_closed_however_written() {
    let at = |s: &str| format!("{SCHEMA_PARAM}{s}");
    let lookahead = r#"{"type":"object","properties":{"u":{"type":"string","pattern":"^(?!admin)[a-z]+$"}},"required":["u"]}"#;
    assert_eq!(of(&schema(lookahead)).map_err(|e| e.0), Err(at(".properties.u.pattern")));
    assert_eq!(strict(&[lookahead], Tally::default()), [None]);
    let plain =
        r#"{"type":"object","properties":{"u":{"type":"string","pattern":"^[a-z]+$"}},"required":["u"]}"#;
    assert!(strict(&[plain], Tally::default())[0].is_some());
    let many: Vec<String> = (0..25).map(|i| format!(r#""p{i}":{{"type":"string"}}"#)).collect();
    let wide = format!(r#"{{"type":"object","properties":{{{}}}}}"#, many.join(","));
    assert!(of(&schema(&wide)).is_err_and(|e| e.0 == SCHEMA_PARAM && e.1.contains("25 and 0")));
    let into = r##"{"type":"object","properties":{"x":{"$ref":"#/$defs/d/oneOf/0"}},"required":["x"],"$defs":{"d":{"oneOf":[{"type":"string"},{"type":"null"}]}}}"##;
    assert!(of(&schema(into)).is_err_and(|e| e.1.contains("oneOf")));
    let float = r#"{"type":"object","properties":{"t":{"type":"number","default":0.5}},"required":["t"]}"#;
    assert_eq!(
        strict(&[float], Tally::default()),
        [Some(
            json!({"type":"object","properties":{"t":{"type":"number","default":0.5}},"required":["t"],"additionalProperties":false})
        )]
    );
    let escaped = r#"{"type":"object","properties":{"a":{"type":"obj\u0065ct"}},"required":["a"]}"#;
    let got = strict(&[escaped], Tally::default());
    assert_eq!(
        got[0].as_ref().map(|s| &s["properties"]["a"]["additionalProperties"]),
        Some(&json!(false)),
        "{got:?}"
    );
}

/// Patterns are read as regular expressions, escapes as escapes: what constrained decoding
/// cannot follow is found wherever it is written (`(?P=n)`, `\g1`, `\k'n'`), and a literal
/// backslash before a `b`, or a backspace in a class, is not a word boundary. A pointer names
/// a schema, not a map (`#/$defs`), and a plain-name fragment (`#x`) names none.
#[test]
fn patterns_and_pointers_are_read_as_what_they_say() {
    use crate::protocol::tools::pattern_refused;
    for refused in [
        r"^(?!admin)",
        r"(?<=a)b",
        r"(a)\1",
        r"(?P<x>a)(?P=x)",
        r"(a)\g1",
        r"(?<x>a)\k'x'",
        r"\bword\b",
        r"\B",
    ] {
        assert!(pattern_refused(refused), "{refused}");
    }
    for taken in [r"^[a-z]+$", r"\\b", r"[\b]", r"(?<name>a)", r"(?:a|b)", r"\d{3}-\d{4}"] {
        assert!(!pattern_refused(taken), "{taken}");
    }
    let at = |s: &str| format!("{SCHEMA_PARAM}{s}");
    for (asked, param) in [
        (
            r##"{"type":"object","properties":{"x":{"$ref":"#/$defs"}},"required":["x"],"$defs":{"":{"type":"string"}}}"##,
            at(".properties.x.$ref"),
        ),
        (
            r##"{"type":"object","properties":{"x":{"$ref":"#x"}},"required":["x"]}"##,
            at(".properties.x.$ref"),
        ),
    ] {
        assert_eq!(of(&schema(asked)).map_err(|e| e.0), Err(param), "{asked}");
    }
    let items = r##"{"type":"object","properties":{"a":{"type":"array","items":{"type":"string"}},"b":{"$ref":"#/properties/a/items"}},"required":["a","b"]}"##;
    assert!(of(&schema(items)).is_ok_and(|f| f.is_some()), "{items}");
}
