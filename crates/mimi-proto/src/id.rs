//! Typed `mimi://` identifiers (draft-ietf-mimi-protocol-06 §3, draft-mahy-mimi-identity-05).
//!
//! ```text
//! mimi://a.example                      provider
//! mimi://a.example/u/alice              user
//! mimi://a.example/p/crazykoala75       pseudonym
//! mimi://a.example/d/alice/phone        client (device) of user alice
//! mimi://a.example/d/ClientA1           client without a user segment
//! mimi://a.example/r/clubhouse          room (authority = the hub's domain)
//! mimi://a.example/g/clubhouse          MLS group id
//! mimi://a.example/t/engineering        team
//! ```
//!
//! Every public way in ([`FromStr`], [`TryFrom<String>`], serde, tls_codec) runs
//! [`MimiUri::parse`], so holding a [`UserId`] proves the check was done.
//! Parsing from text is lenient about case in the scheme and host and stores the
//! canonical lower-case form; decoding from the wire is strict and rejects
//! non-canonical bytes, because identifiers are hashed into the MLS key schedule
//! and must round-trip byte for byte (see `docs/decisions.md`).

use std::fmt;
use std::str::FromStr;

use crate::error::IdError;

/// Longest identifier we accept, in bytes. Bounds the memory a peer can make us
/// spend per identifier (participant lists hold thousands of them) while leaving
/// room for long pseudonyms and UUID-based ids.
pub const MAX_URI_LEN: usize = 512;

/// Longest domain name (RFC 1035 §2.3.4).
const MAX_DOMAIN_LEN: usize = 253;
/// Longest DNS label (RFC 1035 §2.3.4).
const MAX_LABEL_LEN: usize = 63;
const SCHEME: &str = "mimi://";

/// What an identifier names: the first path segment of the URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UriKind {
    /// `mimi://domain`
    Provider,
    /// `mimi://domain/u/…`
    User,
    /// `mimi://domain/p/…`
    Pseudonym,
    /// `mimi://domain/d/…` (one or two segments)
    Client,
    /// `mimi://domain/r/…`
    Room,
    /// `mimi://domain/g/…`
    Group,
    /// `mimi://domain/t/…`
    Team,
}

impl UriKind {
    /// A human name for error messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::User => "user",
            Self::Pseudonym => "pseudonym",
            Self::Client => "client",
            Self::Room => "room",
            Self::Group => "group",
            Self::Team => "team",
        }
    }

    pub(crate) fn code(self) -> u16 {
        self as u16
    }

    pub(crate) fn from_code(code: u16) -> Option<Self> {
        [
            Self::Provider,
            Self::User,
            Self::Pseudonym,
            Self::Client,
            Self::Room,
            Self::Group,
            Self::Team,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }

    fn from_segment(s: &str) -> Option<Self> {
        Some(match s {
            "u" => Self::User,
            "p" => Self::Pseudonym,
            "d" => Self::Client,
            "r" => Self::Room,
            "g" => Self::Group,
            "t" => Self::Team,
            _ => return None,
        })
    }
}

/// Any valid `mimi://` identifier, in canonical form.
///
/// Equality, ordering and hashing use the canonical string, so two spellings
/// that differ only in scheme or host case compare equal once parsed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MimiUri {
    canonical: Box<str>,
    kind: UriKind,
    /// Byte offset where the host ends (start of the path or end of string).
    host_end: u16,
}

impl MimiUri {
    /// Parses text leniently: scheme and host may use any case and are lower-cased.
    ///
    /// # Errors
    /// An [`IdError`] naming the first rule the string breaks.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let parsed = validate(s)?;
        let canonical = if s.as_bytes()[..parsed.host_end]
            .iter()
            .any(u8::is_ascii_uppercase)
        {
            let (head, tail) = s.split_at(parsed.host_end);
            let mut out = head.to_ascii_lowercase();
            out.push_str(tail);
            out.into_boxed_str()
        } else {
            s.into()
        };
        Ok(Self::from_parts(canonical, parsed))
    }

    /// Parses wire bytes strictly: valid UTF-8 and already canonical.
    ///
    /// # Errors
    /// [`IdError::NotCanonical`] if the scheme or host has upper-case letters,
    /// otherwise as [`MimiUri::parse`].
    pub fn parse_canonical(bytes: &[u8]) -> Result<Self, IdError> {
        let s = std::str::from_utf8(bytes).map_err(|_| IdError::BadSegment)?;
        let parsed = validate(s)?;
        if s.as_bytes()[..parsed.host_end]
            .iter()
            .any(u8::is_ascii_uppercase)
        {
            return Err(IdError::NotCanonical);
        }
        Ok(Self::from_parts(s.into(), parsed))
    }

    fn from_parts(canonical: Box<str>, parsed: Parsed) -> Self {
        let host_end =
            u16::try_from(parsed.host_end).expect("host_end <= MAX_URI_LEN, checked in validate");
        Self {
            canonical,
            kind: parsed.kind,
            host_end,
        }
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The canonical bytes, as they go on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        self.canonical.as_bytes()
    }

    /// What this identifier names.
    pub fn kind(&self) -> UriKind {
        self.kind
    }

    /// The provider domain (the URI authority), lower case.
    pub fn domain(&self) -> &str {
        &self.canonical[SCHEME.len()..usize::from(self.host_end)]
    }

    /// The provider this identifier belongs to.
    pub fn provider(&self) -> ProviderId {
        ProviderId(
            Self::parse(&self.canonical[..usize::from(self.host_end)])
                .expect("a prefix up to the host of a valid URI is a valid provider URI"),
        )
    }

    /// The path after the type segment (`alice` for `mimi://a.example/u/alice`,
    /// `alice/phone` for a two-segment client); empty for a provider.
    pub fn local(&self) -> &str {
        let path = &self.canonical[usize::from(self.host_end)..];
        // path is "" or "/x/rest": skip "/x/".
        path.get(3..).unwrap_or("")
    }

    fn expect_kind(self, expected: UriKind) -> Result<Self, IdError> {
        if self.kind == expected {
            Ok(self)
        } else {
            Err(IdError::WrongKind {
                expected,
                found: self.kind,
            })
        }
    }
}

impl fmt::Display for MimiUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl fmt::Debug for MimiUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.canonical)
    }
}

impl FromStr for MimiUri {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for MimiUri {
    type Error = IdError;
    fn try_from(s: &str) -> Result<Self, IdError> {
        Self::parse(s)
    }
}

impl TryFrom<String> for MimiUri {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

struct Parsed {
    kind: UriKind,
    host_end: usize,
}

/// The single validation function every constructor goes through.
fn validate(s: &str) -> Result<Parsed, IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > MAX_URI_LEN {
        return Err(IdError::TooLong);
    }
    let scheme = s.get(..SCHEME.len()).ok_or(IdError::BadScheme)?;
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Err(IdError::BadScheme);
    }
    let rest = &s[SCHEME.len()..];
    let (host, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    validate_domain(host)?;
    let host_end = SCHEME.len() + host.len();
    if path.is_empty() {
        return Ok(Parsed {
            kind: UriKind::Provider,
            host_end,
        });
    }
    // path = "/type/seg[/seg]"
    let mut segments = path[1..].split('/');
    let kind = segments
        .next()
        .and_then(UriKind::from_segment)
        .ok_or(IdError::UnknownType)?;
    let mut count = 0usize;
    for seg in segments {
        validate_segment(seg)?;
        count += 1;
    }
    let shape_ok = match kind {
        UriKind::Client => count == 1 || count == 2,
        UriKind::Provider => count == 0,
        _ => count == 1,
    };
    if !shape_ok {
        return Err(IdError::WrongShape);
    }
    Ok(Parsed { kind, host_end })
}

fn validate_domain(host: &str) -> Result<(), IdError> {
    if host.is_empty() || host.len() > MAX_DOMAIN_LEN {
        return Err(IdError::BadDomain);
    }
    for label in host.split('.') {
        let bytes = label.as_bytes();
        let ok = !bytes.is_empty()
            && bytes.len() <= MAX_LABEL_LEN
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && bytes[0] != b'-'
            && bytes[bytes.len() - 1] != b'-';
        if !ok {
            return Err(IdError::BadDomain);
        }
    }
    Ok(())
}

/// RFC 3986 `segment-nz`: one or more `pchar`, with `%XX` escapes well formed.
fn validate_segment(seg: &str) -> Result<(), IdError> {
    let bytes = seg.as_bytes();
    if bytes.is_empty() {
        return Err(IdError::BadSegment);
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(IdError::BadSegment)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return Err(IdError::BadSegment);
            }
            i += 3;
            continue;
        }
        let pchar = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b);
        if !pchar {
            return Err(IdError::BadSegment);
        }
        i += 1;
    }
    Ok(())
}

/// Defines a newtype over [`MimiUri`] restricted to one [`UriKind`].
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(MimiUri);

        impl $name {
            /// Parses text leniently (see [`MimiUri::parse`]) and checks the kind.
            ///
            /// # Errors
            /// An [`IdError`] if the text is not a valid identifier of this kind.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                MimiUri::parse(s)?.try_into()
            }

            /// Parses canonical wire bytes and checks the kind.
            ///
            /// # Errors
            /// As [`MimiUri::parse_canonical`], or [`IdError::WrongKind`].
            pub fn parse_canonical(bytes: &[u8]) -> Result<Self, IdError> {
                MimiUri::parse_canonical(bytes)?.try_into()
            }

            /// The canonical text.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// The canonical bytes.
            pub fn as_bytes(&self) -> &[u8] {
                self.0.as_bytes()
            }

            /// The provider domain.
            pub fn domain(&self) -> &str {
                self.0.domain()
            }

            /// The untyped identifier.
            pub fn as_uri(&self) -> &MimiUri {
                &self.0
            }

            /// The untyped identifier, by value.
            pub fn into_uri(self) -> MimiUri {
                self.0
            }
        }

        impl TryFrom<MimiUri> for $name {
            type Error = IdError;
            fn try_from(uri: MimiUri) -> Result<Self, IdError> {
                uri.expect_kind($kind).map(Self)
            }
        }

        impl From<$name> for MimiUri {
            fn from(id: $name) -> MimiUri {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
    };
}

typed_id!(
    /// A provider: `mimi://a.example`.
    ProviderId,
    UriKind::Provider
);
typed_id!(
    /// A user: `mimi://a.example/u/alice`.
    UserId,
    UriKind::User
);
typed_id!(
    /// A pseudonymous user: `mimi://a.example/p/crazykoala75`.
    PseudonymId,
    UriKind::Pseudonym
);
typed_id!(
    /// A client (device): `mimi://a.example/d/alice/phone` or `mimi://a.example/d/ClientA1`.
    ClientId,
    UriKind::Client
);
typed_id!(
    /// A room: `mimi://hub.example/r/clubhouse`. The authority is the hub's domain.
    RoomId,
    UriKind::Room
);
typed_id!(
    /// An MLS group id in URI form: `mimi://hub.example/g/clubhouse`.
    GroupUri,
    UriKind::Group
);
typed_id!(
    /// A team: `mimi://a.example/t/engineering`.
    TeamId,
    UriKind::Team
);

impl ProviderId {
    /// The provider for a bare domain name.
    ///
    /// # Errors
    /// [`IdError::BadDomain`] if `domain` is not a valid domain name.
    pub fn from_domain(domain: &str) -> Result<Self, IdError> {
        validate_domain(domain)?;
        Self::parse(&format!("{SCHEME}{domain}"))
    }
}

impl UserId {
    /// The user's local part (`alice` in `mimi://a.example/u/alice`).
    pub fn localpart(&self) -> &str {
        self.0.local()
    }

    /// A client of this user: `mimi://<domain>/d/<localpart>/<device>`.
    ///
    /// # Errors
    /// [`IdError::BadSegment`] if `device` is not a valid path segment.
    pub fn client(&self, device: &str) -> Result<ClientId, IdError> {
        ClientId::parse(&format!(
            "{SCHEME}{}/d/{}/{device}",
            self.domain(),
            self.localpart()
        ))
    }
}

impl ClientId {
    /// The user this client belongs to, for the two-segment form
    /// `mimi://a.example/d/alice/phone` → `mimi://a.example/u/alice`.
    /// `None` for the one-segment form, which names no user.
    pub fn user(&self) -> Option<UserId> {
        let (user, _device) = self.0.local().split_once('/')?;
        Some(UserId(
            MimiUri::parse(&format!("{SCHEME}{}/u/{user}", self.domain()))
                .expect("a segment of a valid client URI is a valid user segment"),
        ))
    }

    /// The device segment (`phone` in `mimi://a.example/d/alice/phone`).
    pub fn device(&self) -> &str {
        let local = self.0.local();
        local.split_once('/').map_or(local, |(_, device)| device)
    }
}

impl RoomId {
    /// The hub's domain: a room's identity is scoped to its hub (arch §4).
    pub fn hub_domain(&self) -> &str {
        self.domain()
    }

    /// The room's MLS group URI: same hub and name, `g` instead of `r`
    /// (`mimi://a.example/r/clubhouse` → `mimi://a.example/g/clubhouse`, as in
    /// protocol-06 §3). Its bytes are the MLS `group_id`.
    pub fn group_uri(&self) -> GroupUri {
        GroupUri::parse(&format!("{SCHEME}{}/g/{}", self.domain(), self.0.local()))
            .expect("a valid room name is a valid group name")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        let cases = [
            ("mimi://a.example", UriKind::Provider),
            ("mimi://a.example/u/alice", UriKind::User),
            ("mimi://a.example/p/crazykoala75", UriKind::Pseudonym),
            ("mimi://a.example/d/ClientA1", UriKind::Client),
            ("mimi://a.example/d/alice/phone", UriKind::Client),
            ("mimi://a.example/r/clubhouse", UriKind::Room),
            ("mimi://a.example/g/clubhouse", UriKind::Group),
            ("mimi://a.example/t/engineering", UriKind::Team),
            ("mimi://local.invalid/u/alice.smith", UriKind::User),
        ];
        for (s, kind) in cases {
            let uri = MimiUri::parse(s).unwrap();
            assert_eq!(uri.kind(), kind, "{s}");
            assert_eq!(uri.as_str(), s);
        }
    }

    #[test]
    fn canonicalises_scheme_and_host_only() {
        let a = UserId::parse("MIMI://A.Example/u/Alice").unwrap();
        let b = UserId::parse("mimi://a.example/u/Alice").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "mimi://a.example/u/Alice");
        assert_ne!(
            a,
            UserId::parse("mimi://a.example/u/alice").unwrap(),
            "path stays case-sensitive"
        );
        assert_eq!(
            MimiUri::parse_canonical(b"mimi://A.example/u/alice"),
            Err(IdError::NotCanonical)
        );
    }

    #[test]
    fn rejects_malformed_with_reason() {
        let cases = [
            ("", IdError::Empty),
            ("https://a.example/u/alice", IdError::BadScheme),
            ("mimi:/a.example", IdError::BadScheme),
            ("mimi://", IdError::BadDomain),
            ("mimi://-a.example/u/x", IdError::BadDomain),
            ("mimi://a..example/u/x", IdError::BadDomain),
            ("mimi://a_b.example/u/x", IdError::BadDomain),
            ("mimi://a.example/x/alice", IdError::UnknownType),
            ("mimi://a.example/u/", IdError::BadSegment),
            ("mimi://a.example/u/al ice", IdError::BadSegment),
            ("mimi://a.example/u/al%2", IdError::BadSegment),
            ("mimi://a.example/u/alice/phone", IdError::WrongShape),
            ("mimi://a.example/d/a/b/c", IdError::WrongShape),
            ("mimi://a.example/u", IdError::WrongShape),
        ];
        for (s, err) in cases {
            assert_eq!(MimiUri::parse(s), Err(err), "{s:?}");
        }
        let long = format!("mimi://a.example/u/{}", "x".repeat(MAX_URI_LEN));
        assert_eq!(MimiUri::parse(&long), Err(IdError::TooLong));
    }

    #[test]
    fn typed_ids_check_kind() {
        assert_eq!(
            UserId::parse("mimi://a.example/r/room"),
            Err(IdError::WrongKind {
                expected: UriKind::User,
                found: UriKind::Room
            })
        );
        let client = ClientId::parse("mimi://b.example/d/bob/phone").unwrap();
        assert_eq!(client.user().unwrap().as_str(), "mimi://b.example/u/bob");
        assert_eq!(client.device(), "phone");
        assert_eq!(
            ClientId::parse("mimi://b.example/d/ClientB1")
                .unwrap()
                .user(),
            None
        );
        let user = UserId::parse("mimi://b.example/u/bob").unwrap();
        assert_eq!(
            user.client("laptop").unwrap().as_str(),
            "mimi://b.example/d/bob/laptop"
        );
        assert_eq!(user.as_uri().provider().as_str(), "mimi://b.example");
        assert_eq!(
            ProviderId::from_domain("c.example").unwrap().domain(),
            "c.example"
        );
    }
}
