//! Generic CBOR values, for what extensions carry (`value = any` in the CDDL).
//!
//! Only extension values need a generic model: the rest of the format has a
//! fixed shape with its own types. Decoding enforces the data-model rules of
//! draft-ietf-mimi-content §"CBOR Data Model and Encoding Restrictions":
//! deterministic encoding everywhere, map keys only integers (within ±(2^53−1)),
//! text or bytes, the single allowed NaN, and at most 4 levels of tags, maps
//! and arrays counting the extensions map as level 1.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::cbor::{Reader, Writer, f16_bits_to_f64, f64_to_f16_bits, major};
use crate::error::{DecodeError, Malformed};

/// Largest integer map key magnitude: integers must survive a trip through an
/// IEEE double (draft §"Data model restrictions"), i.e. 2^53 − 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Deepest nesting of tags, maps and arrays in an extension, counting the
/// extensions map itself as level 1 (draft §"Depth restrictions"). Also bounds
/// the decoder's recursion.
pub const MAX_EXTENSION_DEPTH: u8 = 4;

/// One CBOR data item inside an extension value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Major type 0.
    Unsigned(u64),
    /// Major type 1: the integer `-1 - n` for the stored `n`.
    Negative(u64),
    /// A byte string.
    Bytes(Vec<u8>),
    /// A UTF-8 text string.
    Text(String),
    /// An array.
    Array(Vec<Value>),
    /// A map; the `BTreeMap` order is the deterministic key order.
    Map(BTreeMap<MapKey, Value>),
    /// A tagged item (tag number, content).
    Tag(u64, Box<Value>),
    /// `false` or `true`.
    Bool(bool),
    /// `null`.
    Null,
    /// `undefined`.
    Undefined,
    /// An unassigned simple value (0–19 or 32–255).
    Simple(u8),
    /// A float. Discouraged by the draft but allowed.
    Float(Float),
}

/// A float that compares by bit pattern (so values are `Eq`), with every NaN
/// equal to every other: only one NaN encoding exists on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Float(pub f64);

impl PartialEq for Float {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits() || (self.0.is_nan() && other.0.is_nan())
    }
}

impl Eq for Float {}

/// A map key. The data model allows only integers, text and bytes inside
/// extensions, and integers or text (1–255 bytes) as top-level extension keys.
///
/// `Ord` is the bytewise order of the keys' deterministic encodings (RFC 8949
/// §4.2.1), so iterating a `BTreeMap<MapKey, _>` yields the wire order:
/// unsigned before negative before bytes before text; integers by magnitude;
/// strings shorter first, then bytewise.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MapKey {
    /// A non-negative integer.
    Unsigned(u64),
    /// The integer `-1 - n` for the stored `n`.
    Negative(u64),
    /// A byte string (not allowed as a top-level extension key).
    Bytes(Vec<u8>),
    /// A text string.
    Text(String),
}

impl MapKey {
    /// The key for a signed integer.
    pub fn int(v: i64) -> Self {
        if v >= 0 {
            Self::Unsigned(v as u64)
        } else {
            Self::Negative(!(v as u64))
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Unsigned(_) => major::UNSIGNED,
            Self::Negative(_) => major::NEGATIVE,
            Self::Bytes(_) => major::BYTES,
            Self::Text(_) => major::TEXT,
        }
    }

    /// Checks the ±(2^53−1) rule for integer keys.
    pub(crate) fn check_range(&self) -> Result<(), Malformed> {
        match self {
            Self::Unsigned(v) if *v > MAX_SAFE_INTEGER => Err(Malformed::MapKeyOutOfRange),
            Self::Negative(n) if *n >= MAX_SAFE_INTEGER => Err(Malformed::MapKeyOutOfRange),
            _ => Ok(()),
        }
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        match self {
            Self::Unsigned(v) => w.uint(*v),
            Self::Negative(n) => w.negative(*n),
            Self::Bytes(b) => w.bytes(b),
            Self::Text(t) => w.text(t),
        }
    }

    /// Reads a key of any allowed type (range checked).
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let start = r.offset();
        let head = r.head()?;
        let key = match head.major {
            major::UNSIGNED => Self::Unsigned(head.arg),
            major::NEGATIVE => Self::Negative(head.arg),
            major::BYTES => Self::Bytes(r.take(head.arg)?.to_vec()),
            major::TEXT => {
                let bytes = r.take(head.arg)?;
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| Malformed::NotUtf8 { field: "map key" }.at(start))?;
                Self::Text(text.to_owned())
            }
            _ => return Err(Malformed::MapKeyType.at(start)),
        };
        key.check_range().map_err(|k| k.at(start))?;
        Ok(key)
    }

    /// Extended diagnostic notation (RFC 8610 Appendix G).
    pub fn diagnostic(&self) -> String {
        match self {
            Self::Unsigned(v) => v.to_string(),
            Self::Negative(n) => (-1 - i128::from(*n)).to_string(),
            Self::Bytes(b) => format!("h'{}'", hex::encode(b)),
            Self::Text(t) => quote(t),
        }
    }
}

impl Ord for MapKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Unsigned(a), Self::Unsigned(b)) | (Self::Negative(a), Self::Negative(b)) => {
                a.cmp(b)
            }
            (Self::Bytes(a), Self::Bytes(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Self::Text(a), Self::Text(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for MapKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<&str> for MapKey {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl Value {
    /// Checks the data-model rules for a value built in memory, which sits
    /// inside a container at `level`.
    pub(crate) fn validate(&self, level: u8) -> Result<(), Malformed> {
        match self {
            Self::Array(items) => {
                let inner = enter(level)?;
                items.iter().try_for_each(|v| v.validate(inner))
            }
            Self::Map(map) => {
                let inner = enter(level)?;
                map.iter().try_for_each(|(k, v)| {
                    k.check_range()?;
                    v.validate(inner)
                })
            }
            Self::Tag(tag, content) => {
                let inner = enter(level)?;
                if is_bignum(*tag) {
                    match content.as_ref() {
                        Self::Bytes(b) => check_bignum(b)?,
                        _ => {
                            return Err(Malformed::UnexpectedType {
                                field: "bignum",
                                expected: "byte string",
                            });
                        }
                    }
                }
                content.validate(inner)
            }
            Self::Simple(v) if (20..32).contains(v) => Err(Malformed::SimpleValueForm(*v)),
            _ => Ok(()),
        }
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        match self {
            Self::Unsigned(v) => w.uint(*v),
            Self::Negative(n) => w.negative(*n),
            Self::Bytes(b) => w.bytes(b),
            Self::Text(t) => w.text(t),
            Self::Array(items) => {
                w.array(items.len());
                items.iter().for_each(|v| v.encode(w));
            }
            Self::Map(map) => {
                w.map(map.len());
                for (k, v) in map {
                    k.encode(w);
                    v.encode(w);
                }
            }
            Self::Tag(tag, content) => {
                w.tag(*tag);
                content.encode(w);
            }
            Self::Bool(b) => w.bool(*b),
            Self::Null => w.null(),
            Self::Undefined => w.simple(23),
            Self::Simple(v) => w.simple(*v),
            Self::Float(f) => w.float(f.0),
        }
    }

    /// Decodes one value that sits inside a container at `level`.
    pub(crate) fn decode(r: &mut Reader<'_>, level: u8) -> Result<Self, DecodeError> {
        let start = r.offset();
        let head = r.head()?;
        let value = match head.major {
            major::UNSIGNED => Self::Unsigned(head.arg),
            major::NEGATIVE => Self::Negative(head.arg),
            major::BYTES => Self::Bytes(r.take(head.arg)?.to_vec()),
            major::TEXT => {
                let bytes = r.take(head.arg)?;
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| Malformed::NotUtf8 { field: "extension" }.at(start))?;
                Self::Text(text.to_owned())
            }
            major::ARRAY => {
                let inner = enter(level).map_err(|k| k.at(start))?;
                r.check_count(head.arg, 1, start)?;
                let mut items = Vec::new();
                for _ in 0..head.arg {
                    items.push(Self::decode(r, inner)?);
                }
                Self::Array(items)
            }
            major::MAP => {
                let inner = enter(level).map_err(|k| k.at(start))?;
                r.check_count(head.arg, 2, start)?;
                let mut map = BTreeMap::new();
                let mut previous: Option<&[u8]> = None;
                for _ in 0..head.arg {
                    let key_start = r.offset();
                    let key = MapKey::decode(r)?;
                    let encoded = r.slice(key_start, r.offset());
                    check_key_order(previous, encoded, key_start)?;
                    previous = Some(encoded);
                    let value = Self::decode(r, inner)?;
                    map.insert(key, value);
                }
                Self::Map(map)
            }
            major::TAG => {
                let inner = enter(level).map_err(|k| k.at(start))?;
                let content_start = r.offset();
                let content = Self::decode(r, inner)?;
                if is_bignum(head.arg) {
                    match &content {
                        Self::Bytes(b) => check_bignum(b).map_err(|k| k.at(content_start))?,
                        _ => {
                            return Err(Malformed::UnexpectedType {
                                field: "bignum",
                                expected: "byte string",
                            }
                            .at(content_start));
                        }
                    }
                }
                Self::Tag(head.arg, Box::new(content))
            }
            _ => decode_simple(head.info, head.arg).map_err(|k| k.at(start))?,
        };
        Ok(value)
    }

    /// Extended diagnostic notation (RFC 8610 Appendix G), for humans.
    pub fn diagnostic(&self) -> String {
        let mut out = String::new();
        self.write_diagnostic(&mut out);
        out
    }

    fn write_diagnostic(&self, out: &mut String) {
        match self {
            Self::Unsigned(v) => {
                let _ = write!(out, "{v}");
            }
            Self::Negative(n) => {
                let _ = write!(out, "{}", -1 - i128::from(*n));
            }
            Self::Bytes(b) => {
                let _ = write!(out, "h'{}'", hex::encode(b));
            }
            Self::Text(t) => out.push_str(&quote(t)),
            Self::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write_diagnostic(out);
                }
                out.push(']');
            }
            Self::Map(map) => {
                out.push('{');
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&k.diagnostic());
                    out.push_str(": ");
                    v.write_diagnostic(out);
                }
                out.push('}');
            }
            Self::Tag(tag, content) => {
                let _ = write!(out, "{tag}(");
                content.write_diagnostic(out);
                out.push(')');
            }
            Self::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Self::Null => out.push_str("null"),
            Self::Undefined => out.push_str("undefined"),
            Self::Simple(v) => {
                let _ = write!(out, "simple({v})");
            }
            Self::Float(f) => {
                let v = f.0;
                if v.is_nan() {
                    out.push_str("NaN");
                } else if v.is_infinite() {
                    out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
                } else {
                    let _ = write!(out, "{v:?}");
                }
            }
        }
    }
}

/// Fails unless `encoded` sorts strictly after `previous` (RFC 8949 §4.2.1:
/// bytewise order of the encoded keys, no duplicates).
pub(crate) fn check_key_order(
    previous: Option<&[u8]>,
    encoded: &[u8],
    offset: usize,
) -> Result<(), DecodeError> {
    match previous.map(|p| p.cmp(encoded)) {
        Some(Ordering::Equal) => Err(Malformed::DuplicateMapKey.at(offset)),
        Some(Ordering::Greater) => Err(Malformed::UnsortedMapKeys.at(offset)),
        _ => Ok(()),
    }
}

/// The level of a container entered from `level`, if still allowed.
fn enter(level: u8) -> Result<u8, Malformed> {
    let inner = level + 1;
    if inner > MAX_EXTENSION_DEPTH {
        Err(Malformed::ExtensionTooDeep)
    } else {
        Ok(inner)
    }
}

fn is_bignum(tag: u64) -> bool {
    tag == 2 || tag == 3
}

/// Preferred serialization of bignums (RFC 8949 §3.4.3): no leading zero
/// bytes, and only for values that do not fit a plain integer.
fn check_bignum(b: &[u8]) -> Result<(), Malformed> {
    if b.len() <= 8 || b.first() == Some(&0) {
        Err(Malformed::NonMinimalBignum)
    } else {
        Ok(())
    }
}

/// Major type 7: simple values and floats.
fn decode_simple(info: u8, arg: u64) -> Result<Value, Malformed> {
    Ok(match info {
        20 => Value::Bool(false),
        21 => Value::Bool(true),
        22 => Value::Null,
        23 => Value::Undefined,
        0..=19 | 24 => Value::Simple(arg as u8),
        25 => {
            let bits = arg as u16;
            let v = f16_bits_to_f64(bits);
            if v.is_nan() && bits != 0x7e00 {
                return Err(Malformed::NonCanonicalNan);
            }
            Value::Float(Float(v))
        }
        26 => {
            let v = f64::from(f32::from_bits(arg as u32));
            if v.is_nan() {
                return Err(Malformed::NonCanonicalNan);
            }
            if f64_to_f16_bits(v).is_some() {
                return Err(Malformed::NonMinimalFloat);
            }
            Value::Float(Float(v))
        }
        _ => {
            let v = f64::from_bits(arg);
            if v.is_nan() {
                return Err(Malformed::NonCanonicalNan);
            }
            if f64::from(v as f32).to_bits() == v.to_bits() {
                return Err(Malformed::NonMinimalFloat);
            }
            Value::Float(Float(v))
        }
    })
}

/// A text string in diagnostic notation (JSON string escaping is a subset).
fn quote(t: &str) -> String {
    serde_json::to_string(t).unwrap_or_else(|_| format!("{t:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Result<Value, Malformed> {
        let mut r = Reader::new(bytes);
        let v = Value::decode(&mut r, 1).map_err(|e| e.kind)?;
        r.finish().map_err(|e| e.kind)?;
        Ok(v)
    }

    fn encode(v: &Value) -> Vec<u8> {
        let mut w = Writer::default();
        v.encode(&mut w);
        w.into_bytes()
    }

    #[test]
    fn key_order_matches_encoded_bytes() {
        let keys = [
            MapKey::Unsigned(0),
            MapKey::Unsigned(23),
            MapKey::Unsigned(24),
            MapKey::Unsigned(300),
            MapKey::Negative(0),
            MapKey::Negative(500),
            MapKey::Bytes(vec![0xff]),
            MapKey::Bytes(vec![0x00, 0x00]),
            MapKey::Text("z".into()),
            MapKey::Text("aa".into()),
            MapKey::Text("a".repeat(30)),
        ];
        for pair in keys.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let (mut wa, mut wb) = (Writer::default(), Writer::default());
            a.encode(&mut wa);
            b.encode(&mut wb);
            assert_eq!(a.cmp(b), Ordering::Less, "{a:?} < {b:?}");
            assert!(
                wa.into_bytes() < wb.into_bytes(),
                "{a:?} bytes < {b:?} bytes"
            );
        }
    }

    #[test]
    fn depth_example_from_the_draft_is_accepted_and_one_more_level_is_not() {
        // Inside the extensions map (level 1): [[h'1234', 32("http://example.com")]]
        // reaches level 4 with the tag.
        let ok = Value::Array(vec![Value::Array(vec![
            Value::Bytes(vec![0x12, 0x34]),
            Value::Tag(32, Box::new(Value::Text("http://example.com".into()))),
        ])]);
        let bytes = encode(&ok);
        assert_eq!(decode(&bytes), Ok(ok.clone()));
        assert_eq!(ok.validate(1), Ok(()));

        let too_deep = Value::Array(vec![Value::Array(vec![Value::Tag(
            32,
            Box::new(Value::Array(vec![])),
        )])]);
        assert_eq!(decode(&encode(&too_deep)), Err(Malformed::ExtensionTooDeep));
        assert_eq!(too_deep.validate(1), Err(Malformed::ExtensionTooDeep));
    }

    #[test]
    fn unsorted_and_duplicate_map_keys_are_rejected() {
        // {2: 0, 1: 0}
        assert_eq!(
            decode(&[0xa2, 0x02, 0x00, 0x01, 0x00]),
            Err(Malformed::UnsortedMapKeys)
        );
        // {1: 0, 1: 0}
        assert_eq!(
            decode(&[0xa2, 0x01, 0x00, 0x01, 0x00]),
            Err(Malformed::DuplicateMapKey)
        );
        // {"b": 0, "aa": 0} is sorted (shorter first); the reverse is not.
        assert!(decode(&[0xa2, 0x61, b'b', 0, 0x62, b'a', b'a', 0]).is_ok());
        assert_eq!(
            decode(&[0xa2, 0x62, b'a', b'a', 0, 0x61, b'b', 0]),
            Err(Malformed::UnsortedMapKeys)
        );
    }

    #[test]
    fn map_keys_must_be_int_text_or_bytes_in_range() {
        // {[]: 0}
        assert_eq!(decode(&[0xa1, 0x80, 0x00]), Err(Malformed::MapKeyType));
        // {2^53: 0}
        let mut big = vec![0xa1, 0x1b];
        big.extend_from_slice(&(1u64 << 53).to_be_bytes());
        big.push(0);
        assert_eq!(decode(&big), Err(Malformed::MapKeyOutOfRange));
    }

    #[test]
    fn floats_must_be_shortest_and_nan_canonical() {
        assert_eq!(decode(&[0xf9, 0x3e, 0x00]), Ok(Value::Float(Float(1.5))));
        // 1.5 as f32 and f64 could be a half.
        assert_eq!(
            decode(&[0xfa, 0x3f, 0xc0, 0, 0]),
            Err(Malformed::NonMinimalFloat)
        );
        assert_eq!(
            decode(&[0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]),
            Err(Malformed::NonMinimalFloat)
        );
        // Half NaN with a payload, and f32 NaN.
        assert_eq!(decode(&[0xf9, 0x7e, 0x01]), Err(Malformed::NonCanonicalNan));
        assert_eq!(
            decode(&[0xfa, 0x7f, 0xc0, 0, 0]),
            Err(Malformed::NonCanonicalNan)
        );
        assert!(decode(&[0xf9, 0x7e, 0x00]).is_ok());
    }

    #[test]
    fn bignums_must_not_fit_an_integer() {
        // 2(h'01') is the integer 1.
        assert_eq!(
            decode(&[0xc2, 0x41, 0x01]),
            Err(Malformed::NonMinimalBignum)
        );
        // 2(h'00 01 ... ') has a leading zero.
        let mut lead = vec![0xc2, 0x4a, 0x00];
        lead.extend_from_slice(&[1; 9]);
        assert_eq!(decode(&lead), Err(Malformed::NonMinimalBignum));
        let mut ok = vec![0xc2, 0x49];
        ok.extend_from_slice(&[1; 9]);
        assert!(decode(&ok).is_ok());
        assert_eq!(
            decode(&[0xc3, 0x01]),
            Err(Malformed::UnexpectedType {
                field: "bignum",
                expected: "byte string"
            })
        );
    }

    #[test]
    fn simple_values_with_dedicated_forms_are_invalid_in_memory() {
        assert_eq!(
            Value::Simple(21).validate(1),
            Err(Malformed::SimpleValueForm(21))
        );
        assert_eq!(Value::Simple(16).validate(1), Ok(()));
        assert_eq!(decode(&[0xf0]), Ok(Value::Simple(16)));
        assert_eq!(decode(&[0xf8, 0xff]), Ok(Value::Simple(255)));
        assert_eq!(decode(&[0xf7]), Ok(Value::Undefined));
    }

    #[test]
    fn diagnostic_notation_is_readable() {
        let mut map = BTreeMap::new();
        map.insert(MapKey::int(-2), Value::Bytes(vec![0xab]));
        map.insert(MapKey::from("k"), Value::Float(Float(f64::NAN)));
        let v = Value::Array(vec![
            Value::Negative(0),
            Value::Text("a\"b".into()),
            Value::Map(map),
            Value::Tag(32, Box::new(Value::Null)),
        ]);
        assert_eq!(
            v.diagnostic(),
            r#"[-1, "a\"b", {-2: h'ab', "k": NaN}, 32(null)]"#
        );
    }
}
