//! The macros that give [`Codec`](super::Codec) types their public faces: the
//! `tls_codec` traits, `decode`/`encode` methods or [`WireMessage`], and the
//! closed `uint8` enumerations of the protocol draft.
//!
//! [`WireMessage`]: super::WireMessage

/// Implements `tls_codec`'s `Size`, `Serialize` and `DeserializeBytes` over a
/// type's [`Codec`](crate::codec::Codec), so it composes with
/// `tls_codec`-derived structs. `Size` encodes the value: nothing of ours asks
/// for it on a hot path (our own encoders go through the `Writer`).
macro_rules! tls_via_codec {
    ($($ty:ty),* $(,)?) => {$(
        impl tls_codec::Size for $ty {
            fn tls_serialized_len(&self) -> usize {
                $crate::codec::encode_all(self).map_or(0, |b| b.len())
            }
        }

        impl tls_codec::Serialize for $ty {
            fn tls_serialize<W: std::io::Write>(
                &self,
                writer: &mut W,
            ) -> Result<usize, tls_codec::Error> {
                let bytes = $crate::codec::encode_all(self)
                    .map_err(|_| tls_codec::Error::InvalidVectorLength)?;
                writer.write_all(&bytes)?;
                Ok(bytes.len())
            }
        }

        impl tls_codec::DeserializeBytes for $ty {
            fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
                let mut reader = $crate::codec::Reader::new(bytes);
                let value = <$ty as $crate::codec::Codec>::read(&mut reader)
                    .map_err($crate::codec::to_tls_error)?;
                Ok((value, reader.rest()))
            }
        }
    )*};
}

/// Gives a [`Codec`](crate::codec::Codec) type public `decode`/`encode`
/// methods and the `tls_codec` traits (room-state components and their parts).
macro_rules! wire_value {
    ($($ty:ty => $name:literal),* $(,)?) => {$(
        impl $ty {
            /// Decodes exactly one value spanning all of `bytes`.
            ///
            /// # Errors
            /// Any [`DecodeError`](crate::DecodeError): truncation, trailing
            /// bytes, bad lengths, booleans or enum values, or a broken field rule.
            pub fn decode(bytes: &[u8]) -> Result<Self, crate::DecodeError> {
                $crate::codec::decode_all(bytes, $name)
            }

            /// Encodes the value; the encoding is the only one [`Self::decode`] accepts.
            ///
            /// # Errors
            /// [`EncodeError::TooLong`](crate::EncodeError) if a vector exceeds
            /// the MLS 30-bit length limit.
            pub fn encode(&self) -> Result<Vec<u8>, crate::EncodeError> {
                $crate::codec::encode_all(self)
            }
        }

        $crate::codec::tls_via_codec!($ty);
    )*};
}

/// Implements [`WireMessage`](crate::codec::WireMessage) and the `tls_codec`
/// traits for a top-level protocol body, decoding with the precise errors of
/// its reader.
macro_rules! wire_body {
    ($ty:ty, $name:literal) => {
        $crate::codec::tls_via_codec!($ty);

        impl $crate::codec::WireMessage for $ty {
            const NAME: &'static str = $name;

            fn decode(bytes: &[u8]) -> Result<Self, $crate::error::DecodeError> {
                $crate::codec::decode_all(bytes, Self::NAME)
            }

            fn encode(&self) -> Result<Vec<u8>, $crate::error::EncodeError> {
                $crate::codec::encode_all(self)
            }
        }
    };
}

/// A closed `uint8` enumeration of the draft (`(255)`-terminated). Values the
/// draft does not define, and `reserved` ones, are
/// [`DecodeError::UnknownValue`](crate::DecodeError::UnknownValue): these
/// enums select the fields that follow, so an unknown value leaves the rest of
/// the body unparseable.
macro_rules! wire_enum {
    (
        $(#[$doc:meta])*
        pub enum $name:ident {
            $($(#[$vdoc:meta])* $variant:ident = $value:literal,)+
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name {
            $($(#[$vdoc])* $variant = $value,)+
        }

        impl $name {
            /// Every defined value, in wire order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The wire value.
            pub fn value(self) -> u8 {
                self as u8
            }

            /// The variant for a wire value, if the draft defines it.
            pub fn from_value(value: u8) -> Option<Self> {
                match value {
                    $($value => Some(Self::$variant),)+
                    _ => None,
                }
            }

            #[allow(dead_code, reason = "not every enum is read on its own")]
            pub(crate) fn read(
                r: &mut $crate::codec::Reader<'_>,
                field: &'static str,
            ) -> Result<Self, $crate::error::DecodeError> {
                let value = r.u8()?;
                Self::from_value(value).ok_or($crate::error::DecodeError::UnknownValue {
                    field,
                    value: u64::from(value),
                })
            }

            #[allow(dead_code, reason = "not every enum is written on its own")]
            pub(crate) fn write(self, w: &mut $crate::codec::Writer) {
                w.u8(self.value());
            }
        }

        impl tls_codec::Size for $name {
            fn tls_serialized_len(&self) -> usize {
                1
            }
        }

        impl tls_codec::Serialize for $name {
            fn tls_serialize<W: std::io::Write>(
                &self,
                writer: &mut W,
            ) -> Result<usize, tls_codec::Error> {
                tls_codec::Serialize::tls_serialize(&self.value(), writer)
            }
        }

        impl tls_codec::DeserializeBytes for $name {
            fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
                let (value, rest) = <u8 as tls_codec::DeserializeBytes>::tls_deserialize_bytes(bytes)?;
                let parsed = Self::from_value(value)
                    .ok_or(tls_codec::Error::UnknownValue(u64::from(value)))?;
                Ok((parsed, rest))
            }
        }
    };
}

pub(crate) use {tls_via_codec, wire_body, wire_enum, wire_value};
