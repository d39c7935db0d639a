//! Renders a value's `Debug` text as JSON: the readable `values` of the
//! published test vectors (docs/test-vectors/README.md).
//!
//! The wire types have no serde impls (they are TLS-PL types), and their
//! `Debug` already names every field, so the vectors reuse it rather than keep
//! a second description of each struct. The mapping:
//!
//! | Debug | JSON |
//! | --- | --- |
//! | `Name { a: x, b: y }` | `{"Name": {"a": x, "b": y}}` |
//! | `Name(x)` / `Name(x, y)` | `{"Name": x}` / `{"Name": [x, y]}` |
//! | `Some(x)` / `None` | `x` / `null` |
//! | `Name` (unit), `true`, `false` | `"Name"`, `true`, `false` |
//! | `[x, y]`, `(x, y)` | `[x, y]` |
//! | `{k: v}` (a map) | `{"k": v}` (non-string keys as their JSON text) |
//! | `"text"`, numbers | the same |
//! | `Name { 0x0102 }`, `Name { b"" }` (tls_codec byte vectors) | `{"Name": "0x0102"}`, `{"Name": "0x"}` |
//! | `HashReference: 4B4B` (OpenMLS hash references) | `{"HashReference": "0x4b4b"}` |

use serde_json::{Map, Value};

/// The JSON rendering of `value`'s `Debug` text.
///
/// # Panics
/// If the `Debug` text is outside the grammar above: a new custom `Debug`
/// impl must be taught here, not silently rendered as a string.
pub fn render(value: &impl std::fmt::Debug) -> Value {
    let text = format!("{value:?}");
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let out = p
        .value()
        .unwrap_or_else(|e| panic!("{e} at {} in {text}", p.i));
    p.ws();
    assert_eq!(p.i, p.s.len(), "trailing Debug text in {text}");
    out
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected {:?}", c as char))
        }
    }

    /// A token of identifier or number characters.
    fn word(&mut self) -> String {
        self.ws();
        let start = self.i;
        loop {
            match self.s.get(self.i) {
                Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.') => {
                    self.i += 1;
                }
                // A path (`a::B`) or generic arguments (`PhantomData<a::B>`).
                Some(b':') if self.s.get(self.i + 1) == Some(&b':') => self.i += 2,
                Some(b'<') if self.i > start => {
                    let mut depth = 0;
                    while let Some(c) = self.s.get(self.i) {
                        self.i += 1;
                        match c {
                            b'<' => depth += 1,
                            b'>' if depth == 1 => break,
                            b'>' => depth -= 1,
                            _ => {}
                        }
                    }
                }
                _ => break,
            }
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    /// A comma-separated sequence up to `close`.
    fn seq(&mut self, close: u8) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        while !self.eat(close) {
            out.push(self.value()?);
            if !self.eat(b',') {
                self.expect(close)?;
                break;
            }
        }
        Ok(out)
    }

    fn string(&mut self, quote: u8) -> Result<String, String> {
        self.expect(quote)?;
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match c {
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("unterminated escape")?;
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'0' => out.push(0),
                        b'u' => {
                            self.expect(b'{')?;
                            let hex = self.word();
                            self.expect(b'}')?;
                            let ch = u32::from_str_radix(&hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or("bad \\u escape")?;
                            out.extend(ch.to_string().as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                c if c == quote => break,
                c => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|e| e.to_string())
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek().ok_or("unexpected end")? {
            b'"' => Ok(Value::String(self.string(b'"')?)),
            b'\'' => Ok(Value::String(self.string(b'\'')?)),
            b'[' => {
                self.i += 1;
                Ok(Value::Array(self.seq(b']')?))
            }
            b'(' => {
                self.i += 1;
                Ok(Value::Array(self.seq(b')')?))
            }
            b'{' => {
                self.i += 1;
                self.map()
            }
            _ => self.named(),
        }
    }

    /// `{k: v, ...}` of a map, the `{` already read.
    fn map(&mut self) -> Result<Value, String> {
        let mut out = Map::new();
        while !self.eat(b'}') {
            let key = match self.value()? {
                Value::String(s) => s,
                other => other.to_string(),
            };
            self.expect(b':')?;
            out.insert(key, self.value()?);
            if !self.eat(b',') {
                self.expect(b'}')?;
                break;
            }
        }
        Ok(Value::Object(out))
    }

    fn named(&mut self) -> Result<Value, String> {
        let word = self.word();
        if word.is_empty() {
            return Err("expected a value".into());
        }
        let first = word.as_bytes()[0];
        if first.is_ascii_digit() || first == b'-' {
            return Ok(number(&word));
        }
        match self.peek() {
            // OpenMLS's `HashReference: 4B4B…` (a KeyPackageRef or ProposalRef).
            Some(b':') if word == "HashReference" => {
                self.i += 1;
                let hex = self.word();
                Ok(single(
                    word,
                    Value::String(format!("0x{}", hex.to_lowercase())),
                ))
            }
            // `b"…"`: a byte string (tls_codec prints an empty vector so), as hex.
            Some(b'"') if word == "b" => {
                let text = self.string(b'"')?;
                Ok(Value::String(format!("0x{}", hex::encode(text.as_bytes()))))
            }
            Some(b'(') => {
                self.i += 1;
                let mut items = self.seq(b')')?;
                let inner = if items.len() == 1 {
                    items.remove(0)
                } else {
                    Value::Array(items)
                };
                if word == "Some" {
                    return Ok(inner);
                }
                Ok(single(word, inner))
            }
            Some(b'{') => {
                self.i += 1;
                let inner = self.fields()?;
                Ok(single(word, inner))
            }
            _ => Ok(match word.as_str() {
                "None" => Value::Null,
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(word),
            }),
        }
    }

    /// The body of `Name { a: x, ... }` or `Name { 0x.. }`, the `{` already read.
    fn fields(&mut self) -> Result<Value, String> {
        let save = self.i;
        let word = self.word();
        let is_field =
            !word.is_empty() && !word.as_bytes()[0].is_ascii_digit() && self.peek() == Some(b':');
        self.i = save;
        if !is_field {
            let mut items = self.seq(b'}')?;
            return Ok(match items.len() {
                0 => Value::Object(Map::new()),
                1 => items.remove(0),
                _ => Value::Array(items),
            });
        }
        let mut out = Map::new();
        while !self.eat(b'}') {
            if self.eat(b'.') {
                // `..` of a non-exhaustive Debug.
                self.expect(b'.')?;
                continue;
            }
            let name = self.word();
            self.expect(b':')?;
            out.insert(name, self.value()?);
            if !self.eat(b',') {
                self.expect(b'}')?;
                break;
            }
        }
        Ok(Value::Object(out))
    }
}

fn single(name: String, inner: Value) -> Value {
    let mut map = Map::new();
    map.insert(name, inner);
    Value::Object(map)
}

/// An integer as a JSON number when it fits, anything else (hex, floats) as text.
fn number(word: &str) -> Value {
    if let Ok(n) = word.parse::<u64>() {
        Value::from(n)
    } else if let Ok(n) = word.parse::<i64>() {
        Value::from(n)
    } else {
        Value::String(word.to_owned())
    }
}

#[test]
fn renders_the_debug_grammar() {
    #[derive(Debug)]
    #[allow(dead_code)]
    struct S {
        a: Option<u64>,
        b: Vec<(u8, &'static str)>,
        c: E,
        d: std::collections::BTreeMap<u16, bool>,
    }
    #[derive(Debug)]
    #[allow(dead_code)]
    enum E {
        T(u8, char),
    }
    let mut d = std::collections::BTreeMap::new();
    d.insert(7, true);
    let v = render(&S {
        a: Some(u64::MAX),
        b: vec![(1, "x\"y")],
        c: E::T(2, 'z'),
        d,
    });
    assert_eq!(
        v,
        serde_json::json!({"S": {"a": u64::MAX, "b": [[1, "x\"y"]], "c": {"T": [2, "z"]}, "d": {"7": true}}})
    );
}
