//! The extensions map (`mimiExtensions`, draft §"Extensions", digest B.5).
//!
//! ```cddl
//! extensions = {
//!   ? &(senderUri: 1) ^ => tstr,
//!   ? &(roomUri: 2) ^ => tstr,
//!   * $$otherKnownExtensions,
//!   * unknownExtension
//! }
//! unknownExtension = ( name => value )
//! name = int / tstr .size (1..255)
//! value = any
//! ```
//! Keys: positive integers are IANA-registered (0 reserved), negative
//! integers and text are private use. The map is level 1 for the depth rule.

use std::collections::BTreeMap;

use crate::cbor::{Reader, Writer, major};
use crate::error::{DecodeError, Malformed};
use crate::value::{MapKey, Value, check_key_order};

/// Extension key of the sender's MIMI URI.
pub const SENDER_URI_KEY: u64 = 1;
/// Extension key of the room's MIMI URI.
pub const ROOM_URI_KEY: u64 = 2;
/// Longest text extension key, in bytes (CDDL `tstr .size (1..255)`).
pub const MAX_TEXT_KEY_LEN: usize = 255;

/// The extensions map. Every entry satisfies the data-model rules, checked on
/// insertion, so encoding cannot fail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    map: BTreeMap<MapKey, Value>,
}

impl Extensions {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// A map holding the sender and room URIs, as franking requires.
    pub fn with_uris(sender_uri: impl Into<String>, room_uri: impl Into<String>) -> Self {
        let mut ext = Self::new();
        ext.set_sender_uri(sender_uri);
        ext.set_room_uri(room_uri);
        ext
    }

    /// Extension 1, the sender's URI.
    pub fn sender_uri(&self) -> Option<&str> {
        self.text(SENDER_URI_KEY)
    }

    /// Extension 2, the room's URI.
    pub fn room_uri(&self) -> Option<&str> {
        self.text(ROOM_URI_KEY)
    }

    /// Sets extension 1.
    pub fn set_sender_uri(&mut self, uri: impl Into<String>) {
        self.map
            .insert(MapKey::Unsigned(SENDER_URI_KEY), Value::Text(uri.into()));
    }

    /// Sets extension 2.
    pub fn set_room_uri(&mut self, uri: impl Into<String>) {
        self.map
            .insert(MapKey::Unsigned(ROOM_URI_KEY), Value::Text(uri.into()));
    }

    /// Adds or replaces an extension and returns the previous value.
    ///
    /// # Errors
    /// The key or value breaks a data-model rule: key 0, a byte-string key, a
    /// text key outside 1–255 bytes, an integer outside ±(2^53−1), a non-text
    /// value for keys 1 and 2, or a value nested past level 4.
    pub fn insert(&mut self, key: MapKey, value: Value) -> Result<Option<Value>, Malformed> {
        check_key(&key)?;
        check_value(&key, &value)?;
        value.validate(1)?;
        Ok(self.map.insert(key, value))
    }

    /// The value under a key.
    pub fn get(&self, key: &MapKey) -> Option<&Value> {
        self.map.get(key)
    }

    /// Removes an extension.
    pub fn remove(&mut self, key: &MapKey) -> Option<Value> {
        self.map.remove(key)
    }

    /// Entries in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&MapKey, &Value)> {
        self.map.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn text(&self, key: u64) -> Option<&str> {
        match self.map.get(&MapKey::Unsigned(key)) {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        }
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.map(self.map.len());
        for (k, v) in &self.map {
            k.encode(w);
            v.encode(w);
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let start = r.offset();
        let head = r.head()?;
        if head.major != major::MAP {
            return Err(Malformed::UnexpectedType {
                field: "mimiExtensions",
                expected: "map",
            }
            .at(start));
        }
        r.check_count(head.arg, 2, start)?;
        let mut map = BTreeMap::new();
        let mut previous: Option<&[u8]> = None;
        for _ in 0..head.arg {
            let key_start = r.offset();
            let key = MapKey::decode(r)?;
            check_key(&key).map_err(|k| k.at(key_start))?;
            let encoded = r.slice(key_start, r.offset());
            check_key_order(previous, encoded, key_start)?;
            previous = Some(encoded);
            let value_start = r.offset();
            let value = Value::decode(r, 1)?;
            check_value(&key, &value).map_err(|k| k.at(value_start))?;
            map.insert(key, value);
        }
        Ok(Self { map })
    }
}

/// Top-level key rules (draft §"Data model restrictions", IANA registry).
fn check_key(key: &MapKey) -> Result<(), Malformed> {
    match key {
        MapKey::Unsigned(0) => Err(Malformed::ReservedExtensionKey),
        MapKey::Bytes(_) => Err(Malformed::MapKeyType),
        MapKey::Text(t) if t.is_empty() || t.len() > MAX_TEXT_KEY_LEN => {
            Err(Malformed::ExtensionKeyLength)
        }
        _ => key.check_range(),
    }
}

/// Registered extensions have typed values.
fn check_value(key: &MapKey, value: &Value) -> Result<(), Malformed> {
    match (key, value) {
        (MapKey::Unsigned(k @ (SENDER_URI_KEY | ROOM_URI_KEY)), v)
            if !matches!(v, Value::Text(_)) =>
        {
            Err(Malformed::ExtensionValueType { key: *k })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Result<Extensions, Malformed> {
        let mut r = Reader::new(bytes);
        let e = Extensions::decode(&mut r).map_err(|e| e.kind)?;
        r.finish().map_err(|e| e.kind)?;
        Ok(e)
    }

    #[test]
    fn key_rules() {
        let mut ext = Extensions::new();
        assert_eq!(
            ext.insert(MapKey::Unsigned(0), Value::Null),
            Err(Malformed::ReservedExtensionKey)
        );
        assert_eq!(
            ext.insert(MapKey::Bytes(vec![1]), Value::Null),
            Err(Malformed::MapKeyType)
        );
        assert_eq!(
            ext.insert(MapKey::Text(String::new()), Value::Null),
            Err(Malformed::ExtensionKeyLength)
        );
        assert_eq!(
            ext.insert(MapKey::Text("k".repeat(256)), Value::Null),
            Err(Malformed::ExtensionKeyLength)
        );
        assert_eq!(
            ext.insert(MapKey::Text("k".repeat(255)), Value::Null),
            Ok(None)
        );
        assert_eq!(
            ext.insert(MapKey::Unsigned(1), Value::Unsigned(5)),
            Err(Malformed::ExtensionValueType { key: 1 })
        );
        assert_eq!(ext.insert(MapKey::int(-7), Value::Bool(true)), Ok(None));
    }

    #[test]
    fn decoder_applies_the_same_rules() {
        // {0: null}
        assert_eq!(
            decode(&[0xa1, 0x00, 0xf6]),
            Err(Malformed::ReservedExtensionKey)
        );
        // {h'01': null}
        assert_eq!(
            decode(&[0xa1, 0x41, 0x01, 0xf6]),
            Err(Malformed::MapKeyType)
        );
        // {"": null}
        assert_eq!(
            decode(&[0xa1, 0x60, 0xf6]),
            Err(Malformed::ExtensionKeyLength)
        );
        // {2: 5}
        assert_eq!(
            decode(&[0xa1, 0x02, 0x05]),
            Err(Malformed::ExtensionValueType { key: 2 })
        );
        // {2: "r", 1: "s"} out of order
        assert_eq!(
            decode(&[0xa2, 0x02, 0x61, b'r', 0x01, 0x61, b's']),
            Err(Malformed::UnsortedMapKeys)
        );
        let ok = decode(&[0xa2, 0x01, 0x61, b's', 0x02, 0x61, b'r']).expect("valid");
        assert_eq!(ok.sender_uri(), Some("s"));
        assert_eq!(ok.room_uri(), Some("r"));
    }

    #[test]
    fn encoding_orders_keys_deterministically() {
        let mut ext = Extensions::with_uris("s", "r");
        ext.insert(MapKey::from("zz"), Value::Null).expect("valid");
        ext.insert(MapKey::int(-1), Value::Null).expect("valid");
        ext.insert(MapKey::Unsigned(300), Value::Null)
            .expect("valid");
        let mut w = Writer::default();
        ext.encode(&mut w);
        let bytes = w.into_bytes();
        assert_eq!(
            bytes,
            [
                0xa5, 0x01, 0x61, b's', 0x02, 0x61, b'r', 0x19, 0x01, 0x2c, 0xf6, 0x20, 0xf6, 0x62,
                b'z', b'z', 0xf6
            ]
        );
        assert_eq!(decode(&bytes), Ok(ext));
    }
}
