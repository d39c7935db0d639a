//! The endpoint directory (protocol-06 §5.1): `GET
//! /.well-known/mimi-protocol-directory` returns a JSON object of URL
//! templates, one per endpoint, ACME style (RFC 8555 §7.1.1).
//!
//! ```json
//! {
//!   "keyMaterial": "https://mimi.a.example/v1/keyMaterial/{targetUser}",
//!   "update": "https://mimi.a.example/v1/update/{roomId}",
//!   ...
//! }
//! ```
//!
//! Strict in what we send, liberal in what we accept (decisions W-1): our
//! templates expand the whole variable (a `mimi://` URI) into one
//! percent-encoded path segment, RFC 6570 simple expansion; incoming paths are
//! also accepted in the example flows' raw form (`/notify/a.example/r/clubhouse`,
//! `/groupInfo/a.example/clubhouse`, `/submit/…`). A peer's directory may give
//! fixed URLs without a variable, and one malformed entry costs only that
//! endpoint (decisions W-23).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DecodeError;
use crate::id::{ProviderId, RoomId, UserId};

/// Where the directory is served.
pub const DIRECTORY_PATH: &str = "/.well-known/mimi-protocol-directory";

/// Largest directory document we parse. Ten URLs fit in 2 KB; the cap bounds
/// the JSON parser's work on a peer's answer.
pub const MAX_DIRECTORY_LEN: usize = 64 * 1024;

/// Longest URL template or base URL we accept: the common practical URL limit,
/// bounding the memory a peer's directory costs per entry.
pub const MAX_TEMPLATE_LEN: usize = 2048;

/// One of the ten MIMI endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `keyMaterial/{targetUser}` (§5.2).
    KeyMaterial,
    /// `update/{roomId}` (§5.3).
    Update,
    /// `notify/{roomId}` (§5.5).
    Notify,
    /// `submitMessage/{roomId}` (§5.4).
    SubmitMessage,
    /// `groupInfo/{roomId}` (§5.6).
    GroupInfo,
    /// `requestConsent/{targetUser}` (§5.7).
    RequestConsent,
    /// `updateConsent/{requesterUser}` (§5.7).
    UpdateConsent,
    /// `identifierQuery/{domain}` (§5.8).
    IdentifierQuery,
    /// `reportAbuse/{roomId}` (§5.9).
    ReportAbuse,
    /// `proxyDownload/{downloadUrl}` (§5.10).
    ProxyDownload,
}

impl Endpoint {
    /// Every endpoint, in the draft's order.
    pub const ALL: [Self; 10] = [
        Self::KeyMaterial,
        Self::Update,
        Self::Notify,
        Self::SubmitMessage,
        Self::GroupInfo,
        Self::RequestConsent,
        Self::UpdateConsent,
        Self::IdentifierQuery,
        Self::ReportAbuse,
        Self::ProxyDownload,
    ];

    /// The directory key, which is also the path segment after `/v1/`.
    pub fn key(self) -> &'static str {
        match self {
            Self::KeyMaterial => "keyMaterial",
            Self::Update => "update",
            Self::Notify => "notify",
            Self::SubmitMessage => "submitMessage",
            Self::GroupInfo => "groupInfo",
            Self::RequestConsent => "requestConsent",
            Self::UpdateConsent => "updateConsent",
            Self::IdentifierQuery => "identifierQuery",
            Self::ReportAbuse => "reportAbuse",
            Self::ProxyDownload => "proxyDownload",
        }
    }

    /// The template variable of our directory (the directory example's names).
    pub fn variable(self) -> &'static str {
        match self {
            Self::KeyMaterial | Self::RequestConsent => "targetUser",
            Self::UpdateConsent => "requesterUser",
            Self::IdentifierQuery => "domain",
            Self::ProxyDownload => "downloadUrl",
            Self::Update
            | Self::Notify
            | Self::SubmitMessage
            | Self::GroupInfo
            | Self::ReportAbuse => "roomId",
        }
    }

    /// The endpoint for a path segment: its key, or `submit` as in the
    /// draft's example flows.
    pub fn from_segment(segment: &str) -> Option<Self> {
        if segment == "submit" {
            return Some(Self::SubmitMessage);
        }
        Self::ALL.into_iter().find(|e| e.key() == segment)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// An absolute `http(s)` URL with at most one `{variable}`. A URL without one
/// is a fixed URL (decisions W-23): a peer may route on the body instead of the
/// path, and every body names its target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UrlTemplate {
    template: String,
    /// Byte offsets of `{` and one past `}`; `None` for a fixed URL.
    variable: Option<(usize, usize)>,
}

impl UrlTemplate {
    /// Checks a template. The variable's name is not checked: peers may name it
    /// differently (`{targetDomain}` in the draft's prose).
    ///
    /// # Errors
    /// [`DecodeError::Invalid`] unless the text is an `http(s)://` URL of at
    /// most [`MAX_TEMPLATE_LEN`] bytes with at most one `{name}` expression,
    /// outside the scheme and host.
    pub fn parse(template: &str) -> Result<Self, DecodeError> {
        let invalid = |reason| DecodeError::Invalid {
            what: "URL template",
            reason,
        };
        check_url_text(template).map_err(invalid)?;
        let Some(var_start) = template.find('{') else {
            if template.contains('}') {
                return Err(invalid("unopened {variable}"));
            }
            return Ok(Self {
                template: template.to_owned(),
                variable: None,
            });
        };
        let var_end = template[var_start..]
            .find('}')
            .map(|i| var_start + i + 1)
            .ok_or(invalid("unclosed {variable}"))?;
        let name = &template[var_start + 1..var_end - 1];
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(invalid("variable name is not alphanumeric"));
        }
        let outside = [&template[..var_start], &template[var_end..]];
        if outside.iter().any(|part| part.contains(['{', '}'])) {
            return Err(invalid("more than one {variable}"));
        }
        if var_start <= template.find("://").map_or(0, |i| i + 3) {
            return Err(invalid("{variable} in the scheme or host"));
        }
        Ok(Self {
            template: template.to_owned(),
            variable: Some((var_start, var_end)),
        })
    }

    /// The template text.
    pub fn as_str(&self) -> &str {
        &self.template
    }

    /// The variable's name, without braces; `None` for a fixed URL.
    pub fn variable(&self) -> Option<&str> {
        self.variable
            .map(|(start, end)| &self.template[start + 1..end - 1])
    }

    /// RFC 6570 simple expansion: `value` is percent-encoded except for
    /// unreserved characters, so a `mimi://` URI becomes one path segment. A
    /// fixed URL is returned as it is.
    pub fn expand(&self, value: &str) -> String {
        let Some((start, end)) = self.variable else {
            return self.template.clone();
        };
        let mut out = String::with_capacity(self.template.len() + 3 * value.len());
        out.push_str(&self.template[..start]);
        percent_encode_into(value, &mut out);
        out.push_str(&self.template[end..]);
        out
    }
}

impl TryFrom<String> for UrlTemplate {
    type Error = DecodeError;
    fn try_from(s: String) -> Result<Self, DecodeError> {
        Self::parse(&s)
    }
}

impl From<UrlTemplate> for String {
    fn from(t: UrlTemplate) -> String {
        t.template
    }
}

impl fmt::Display for UrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.template)
    }
}

/// A provider's directory document. Every entry is optional when parsing a
/// peer's document (a provider may not offer, say, `proxyDownload`); ours has
/// all ten. Unknown keys are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    /// `keyMaterial`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_material: Option<UrlTemplate>,
    /// `update`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<UrlTemplate>,
    /// `notify`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<UrlTemplate>,
    /// `submitMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit_message: Option<UrlTemplate>,
    /// `groupInfo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_info: Option<UrlTemplate>,
    /// `requestConsent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_consent: Option<UrlTemplate>,
    /// `updateConsent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_consent: Option<UrlTemplate>,
    /// `identifierQuery`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier_query: Option<UrlTemplate>,
    /// `reportAbuse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_abuse: Option<UrlTemplate>,
    /// `proxyDownload`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_download: Option<UrlTemplate>,
}

impl Directory {
    /// Our directory: `{base}/v1/{endpoint}/{variable}` for all ten endpoints.
    ///
    /// # Errors
    /// [`DecodeError::Invalid`] unless `base_url` is an `http(s)://` URL
    /// without query, fragment or braces (a trailing `/` is dropped).
    pub fn for_base_url(base_url: &str) -> Result<Self, DecodeError> {
        let base = base_url.strip_suffix('/').unwrap_or(base_url);
        check_url_text(base).map_err(|reason| DecodeError::Invalid {
            what: "base URL",
            reason,
        })?;
        if base.contains(['{', '}', '?', '#']) {
            return Err(DecodeError::Invalid {
                what: "base URL",
                reason: "contains a query, fragment or brace",
            });
        }
        let mut directory = Self::default();
        for endpoint in Endpoint::ALL {
            let template = UrlTemplate::parse(&format!(
                "{base}/v1/{}/{{{}}}",
                endpoint.key(),
                endpoint.variable()
            ))?;
            *directory.slot(endpoint) = Some(template);
        }
        Ok(directory)
    }

    /// Parses a peer's directory document leniently (decisions W-23): an
    /// endpoint entry that is not a valid URL template is left out and
    /// returned in [`ParsedDirectory::skipped`] for the caller to log, so one
    /// bad entry does not hide the peer's other endpoints. Unknown keys are
    /// ignored.
    ///
    /// # Errors
    /// [`DecodeError::TooLarge`] past [`MAX_DIRECTORY_LEN`];
    /// [`DecodeError::Invalid`] unless the document is a JSON object.
    pub fn from_json(bytes: &[u8]) -> Result<ParsedDirectory, DecodeError> {
        if bytes.len() > MAX_DIRECTORY_LEN {
            return Err(DecodeError::TooLarge("directory"));
        }
        let mut document: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(bytes).map_err(|_| DecodeError::Invalid {
                what: "directory",
                reason: "not a JSON object",
            })?;
        let mut parsed = ParsedDirectory::default();
        for endpoint in Endpoint::ALL {
            let Some(value) = document.remove(endpoint.key()) else {
                continue;
            };
            let template = match value {
                serde_json::Value::String(text) => UrlTemplate::parse(&text),
                _ => Err(DecodeError::Invalid {
                    what: "URL template",
                    reason: "not a JSON string",
                }),
            };
            match template {
                Ok(template) => *parsed.directory.slot(endpoint) = Some(template),
                Err(error) => parsed.skipped.push(SkippedEntry { endpoint, error }),
            }
        }
        Ok(parsed)
    }

    /// The document as JSON.
    pub fn to_json(&self) -> String {
        // A struct of strings always serializes; serde_json fails only for
        // non-string map keys or failing Serialize impls, which we do not have.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// The template for `endpoint`, if the provider offers it.
    pub fn template(&self, endpoint: Endpoint) -> Option<&UrlTemplate> {
        match endpoint {
            Endpoint::KeyMaterial => self.key_material.as_ref(),
            Endpoint::Update => self.update.as_ref(),
            Endpoint::Notify => self.notify.as_ref(),
            Endpoint::SubmitMessage => self.submit_message.as_ref(),
            Endpoint::GroupInfo => self.group_info.as_ref(),
            Endpoint::RequestConsent => self.request_consent.as_ref(),
            Endpoint::UpdateConsent => self.update_consent.as_ref(),
            Endpoint::IdentifierQuery => self.identifier_query.as_ref(),
            Endpoint::ReportAbuse => self.report_abuse.as_ref(),
            Endpoint::ProxyDownload => self.proxy_download.as_ref(),
        }
    }

    /// The URL to call `endpoint` for `target`, if the provider offers it.
    pub fn url(&self, endpoint: Endpoint, target: &PathTarget) -> Option<String> {
        self.template(endpoint).map(|t| t.expand(target.as_str()))
    }

    fn slot(&mut self, endpoint: Endpoint) -> &mut Option<UrlTemplate> {
        match endpoint {
            Endpoint::KeyMaterial => &mut self.key_material,
            Endpoint::Update => &mut self.update,
            Endpoint::Notify => &mut self.notify,
            Endpoint::SubmitMessage => &mut self.submit_message,
            Endpoint::GroupInfo => &mut self.group_info,
            Endpoint::RequestConsent => &mut self.request_consent,
            Endpoint::UpdateConsent => &mut self.update_consent,
            Endpoint::IdentifierQuery => &mut self.identifier_query,
            Endpoint::ReportAbuse => &mut self.report_abuse,
            Endpoint::ProxyDownload => &mut self.proxy_download,
        }
    }
}

/// A peer's directory as parsed, with the entries that were left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedDirectory {
    /// The endpoints whose templates parsed.
    pub directory: Directory,
    /// The endpoint entries that did not parse, in the draft's endpoint order.
    pub skipped: Vec<SkippedEntry>,
}

/// One directory entry left out of a peer's directory, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedEntry {
    /// The endpoint whose entry was malformed.
    pub endpoint: Endpoint,
    /// Why its template was refused.
    pub error: DecodeError,
}

impl fmt::Display for SkippedEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.endpoint, self.error)
    }
}

/// What an endpoint path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathTarget {
    /// A room (`update`, `notify`, `submitMessage`, `groupInfo`, `reportAbuse`).
    Room(RoomId),
    /// A user (`keyMaterial`, and the consent endpoints).
    User(UserId),
    /// A provider (`identifierQuery`; accepted for the consent endpoints, whose
    /// prose says `{targetDomain}` / `{requesterDomain}`).
    Domain(ProviderId),
    /// An `https://` asset URL (`proxyDownload`).
    DownloadUrl(String),
}

impl PathTarget {
    /// The value that goes into the template: the URI, the bare domain, or the
    /// URL.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Room(id) => id.as_str(),
            Self::User(id) => id.as_str(),
            Self::Domain(id) => id.domain(),
            Self::DownloadUrl(url) => url,
        }
    }
}

/// Parses the path of an incoming request, `…/v1/{endpoint}/{target}`, leniently
/// (decisions W-1): the target may be one percent-encoded segment (what we
/// send), a raw URI, or the example flows' scheme-less `a.example/r/clubhouse`;
/// room endpoints also take `a.example/clubhouse`. A query string is ignored.
///
/// # Errors
/// [`DecodeError::Invalid`] if the path names no endpoint or its target is
/// malformed, [`DecodeError::Identifier`] if the URI is invalid.
pub fn parse_request_path(path: &str) -> Result<(Endpoint, PathTarget), DecodeError> {
    let invalid = |reason| DecodeError::Invalid {
        what: "request path",
        reason,
    };
    if path.len() > MAX_TEMPLATE_LEN * 2 {
        return Err(DecodeError::TooLarge("request path"));
    }
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    let (_, after) = path.split_once("/v1/").ok_or(invalid("not under /v1/"))?;
    let (name, raw) = after.split_once('/').ok_or(invalid("no target"))?;
    let endpoint = Endpoint::from_segment(name).ok_or(invalid("unknown endpoint"))?;
    if raw.is_empty() {
        return Err(invalid("no target"));
    }
    // One segment: the percent-encoded form we send. Several: the raw form,
    // whose segments are already valid URI text and must not be decoded again.
    let decoded;
    let value = if raw.contains('/') {
        raw
    } else {
        decoded = percent_decode(raw).ok_or(invalid("bad percent-encoding"))?;
        decoded.as_str()
    };
    Ok((endpoint, parse_target(endpoint, value)?))
}

fn parse_target(endpoint: Endpoint, value: &str) -> Result<PathTarget, DecodeError> {
    let uri = with_scheme(value);
    let after_scheme = uri.get("mimi://".len()..).unwrap_or_default();
    match endpoint {
        Endpoint::KeyMaterial => Ok(PathTarget::User(UserId::parse(&uri)?)),
        Endpoint::RequestConsent | Endpoint::UpdateConsent => {
            if after_scheme.contains('/') {
                Ok(PathTarget::User(UserId::parse(&uri)?))
            } else {
                Ok(PathTarget::Domain(ProviderId::parse(&uri)?))
            }
        }
        Endpoint::IdentifierQuery => Ok(PathTarget::Domain(ProviderId::parse(&uri)?)),
        Endpoint::ProxyDownload => {
            let ok = value.len() <= MAX_TEMPLATE_LEN
                && value.starts_with("https://")
                && value.len() > "https://".len()
                && !value.contains(|c: char| c.is_ascii_control() || c == ' ');
            if ok {
                Ok(PathTarget::DownloadUrl(value.to_owned()))
            } else {
                Err(DecodeError::Invalid {
                    what: "downloadUrl",
                    reason: "not an https URL",
                })
            }
        }
        Endpoint::Update
        | Endpoint::Notify
        | Endpoint::SubmitMessage
        | Endpoint::GroupInfo
        | Endpoint::ReportAbuse => match RoomId::parse(&uri) {
            Ok(room) => Ok(PathTarget::Room(room)),
            // `/groupInfo/a.example/clubhouse` in the example flows.
            Err(e) => match after_scheme.split_once('/') {
                Some((host, name)) if !name.contains('/') => {
                    RoomId::parse(&format!("mimi://{host}/r/{name}"))
                        .map(PathTarget::Room)
                        .map_err(|_| DecodeError::Identifier(e))
                }
                _ => Err(DecodeError::Identifier(e)),
            },
        },
    }
}

/// `value` with a `mimi://` scheme: added if missing; `mimi:/x` (a proxy
/// collapsed the `//`) is repaired.
fn with_scheme(value: &str) -> String {
    let lower_prefix = value.get(..5).map(str::to_ascii_lowercase);
    if lower_prefix.as_deref() == Some("mimi:") {
        format!("mimi://{}", value[5..].trim_start_matches('/'))
    } else {
        format!("mimi://{value}")
    }
}

/// Checks the parts of a URL we rely on: scheme, non-empty host, length, no
/// spaces or control characters.
fn check_url_text(url: &str) -> Result<(), &'static str> {
    if url.len() > MAX_TEMPLATE_LEN {
        return Err("too long");
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("not an http(s) URL")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("has no host");
    }
    if url.contains(|c: char| c.is_ascii_control() || c == ' ') {
        return Err("contains spaces or control characters");
    }
    Ok(())
}

/// `value` as one URI path segment: RFC 3986 unreserved characters kept,
/// every other byte `%XX` (upper-case hex). The one percent-encoder of the
/// project: directory paths, the client API's routes and its auth header.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(3 * value.len());
    percent_encode_into(value, &mut out);
    out
}

fn percent_encode_into(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

/// Decodes `%XX` escapes (the inverse of [`percent_encode`], also accepting
/// lower-case hex and unescaped bytes); `None` for a malformed escape or a
/// result that is not UTF-8.
pub fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::IdError;

    fn room() -> RoomId {
        RoomId::parse("mimi://a.example/r/clubhouse").unwrap()
    }

    #[test]
    fn builds_and_expands_our_directory() {
        let dir = Directory::for_base_url("https://mimi.a.example/").unwrap();
        let url = dir
            .url(Endpoint::Notify, &PathTarget::Room(room()))
            .unwrap();
        assert_eq!(
            url,
            "https://mimi.a.example/v1/notify/mimi%3A%2F%2Fa.example%2Fr%2Fclubhouse"
        );
        let user = UserId::parse("mimi://b.example/u/bob").unwrap();
        assert_eq!(
            dir.url(Endpoint::KeyMaterial, &PathTarget::User(user))
                .unwrap(),
            "https://mimi.a.example/v1/keyMaterial/mimi%3A%2F%2Fb.example%2Fu%2Fbob"
        );
        let domain = ProviderId::from_domain("b.example").unwrap();
        assert_eq!(
            dir.url(Endpoint::IdentifierQuery, &PathTarget::Domain(domain))
                .unwrap(),
            "https://mimi.a.example/v1/identifierQuery/b.example"
        );
        for endpoint in Endpoint::ALL {
            let t = dir.template(endpoint).unwrap();
            assert_eq!(t.variable(), Some(endpoint.variable()));
        }
    }

    #[test]
    fn json_round_trip_and_draft_example_with_its_typo() {
        let dir = Directory::for_base_url("https://mimi.a.example").unwrap();
        let json = dir.to_json();
        assert!(
            json.contains(r#""submitMessage": "https://mimi.a.example/v1/submitMessage/{roomId}""#)
        );
        assert_eq!(
            Directory::from_json(json.as_bytes()).unwrap(),
            ParsedDirectory {
                directory: dir,
                skipped: Vec::new()
            }
        );

        // The draft's example (with its missing '/' fixed only where JSON
        // requires it): the update template lacks the '/', and is kept as is.
        let peer = br#"{
            "keyMaterial": "https://mimi.example.com/v1/keyMaterial/{targetUser}",
            "update": "https://mimi.example.com/v1/update{roomId}",
            "proxyDownload": "https://mimi.example.com/v1/proxyDownload/{downloadUrl}",
            "someFutureEndpoint": "https://x.example/{y}"
        }"#;
        let parsed = Directory::from_json(peer).unwrap();
        assert!(parsed.skipped.is_empty());
        let parsed = parsed.directory;
        assert_eq!(
            parsed.update.as_ref().unwrap().expand(room().as_str()),
            "https://mimi.example.com/v1/updatemimi%3A%2F%2Fa.example%2Fr%2Fclubhouse"
        );
        assert!(parsed.notify.is_none());
    }

    #[test]
    fn rejects_bad_templates_and_documents() {
        for bad in [
            "ftp://x.example/{a}",
            "https://x.example/v1/up}date",
            "https://x.example/{a}/{b}",
            "https://x.example/{}",
            "https://x.example/{a",
            "https://{host}/v1",
            "https://x.example/{a b}",
            "https:///{a}",
        ] {
            assert!(
                matches!(UrlTemplate::parse(bad), Err(DecodeError::Invalid { .. })),
                "{bad}"
            );
        }
        assert!(Directory::from_json(b"[1,2]").is_err());
        assert!(Directory::from_json(b"{\"update\": ").is_err());
        let huge = vec![b' '; MAX_DIRECTORY_LEN + 1];
        assert_eq!(
            Directory::from_json(&huge),
            Err(DecodeError::TooLarge("directory"))
        );
        assert!(Directory::for_base_url("https://a.example/?x").is_err());
        assert!(Directory::for_base_url("a.example").is_err());
    }

    /// A peer's directory as another implementation writes it: fixed URLs
    /// for `notify` and `identifierQuery` (it routes on the body), plus entries
    /// that do not parse. The fixed URLs are used as written, the bad entries
    /// are reported one by one, and the rest of the peer stays reachable.
    #[test]
    fn peer_directory_with_fixed_urls_and_bad_entries() {
        let peer = br#"{
            "keyMaterial": "https://mimi.b.example/v1/keyMaterial/{targetUser}",
            "notify": "https://mimi.b.example/mimi/notify",
            "identifierQuery": "https://mimi.b.example/mimi/identifierQuery",
            "update": "https://mimi.b.example/v1/update/{roomId}/{extra}",
            "groupInfo": 42,
            "reportAbuse": "mailto:abuse@b.example",
            "vendorThing": {"nested": true}
        }"#;
        let parsed = Directory::from_json(peer).unwrap();
        let dir = &parsed.directory;
        assert_eq!(
            dir.url(Endpoint::Notify, &PathTarget::Room(room())),
            Some("https://mimi.b.example/mimi/notify".to_owned())
        );
        let b = ProviderId::from_domain("b.example").unwrap();
        assert_eq!(
            dir.url(Endpoint::IdentifierQuery, &PathTarget::Domain(b)),
            Some("https://mimi.b.example/mimi/identifierQuery".to_owned())
        );
        assert_eq!(dir.notify.as_ref().unwrap().variable(), None);
        let bob = UserId::parse("mimi://b.example/u/bob").unwrap();
        assert_eq!(
            dir.url(Endpoint::KeyMaterial, &PathTarget::User(bob)),
            Some("https://mimi.b.example/v1/keyMaterial/mimi%3A%2F%2Fb.example%2Fu%2Fbob".into())
        );
        assert!(dir.update.is_none() && dir.group_info.is_none() && dir.report_abuse.is_none());
        let skipped: Vec<String> = parsed.skipped.iter().map(ToString::to_string).collect();
        assert_eq!(
            parsed
                .skipped
                .iter()
                .map(|s| s.endpoint)
                .collect::<Vec<_>>(),
            [Endpoint::Update, Endpoint::GroupInfo, Endpoint::ReportAbuse],
            "{skipped:?}"
        );
        assert!(skipped[0].starts_with("update: ") && skipped[0].contains("more than one"));
        assert!(skipped[1].contains("not a JSON string"), "{skipped:?}");
        assert!(skipped[2].contains("not an http(s) URL"), "{skipped:?}");
        // What we parsed serializes back and re-parses to itself, fixed URLs
        // included, with nothing skipped.
        let again = Directory::from_json(dir.to_json().as_bytes()).unwrap();
        assert_eq!(&again.directory, dir);
        assert!(again.skipped.is_empty());
    }

    #[test]
    fn parses_every_accepted_path_form() {
        let cases = [
            "/v1/notify/mimi%3A%2F%2Fa.example%2Fr%2Fclubhouse",
            "/v1/notify/mimi%3a%2f%2fa.example%2fr%2fclubhouse",
            "/prefix/v1/notify/mimi%3A%2F%2Fa.example%2Fr%2Fclubhouse?x=1",
            "/v1/notify/a.example/r/clubhouse",
            "/v1/notify/mimi://a.example/r/clubhouse",
            "/v1/notify/mimi:/a.example/r/clubhouse",
            "/v1/notify/a.example/clubhouse",
        ];
        for path in cases {
            assert_eq!(
                parse_request_path(path).unwrap(),
                (Endpoint::Notify, PathTarget::Room(room())),
                "{path}"
            );
        }
        assert_eq!(
            parse_request_path("/v1/submit/a.example/r/clubhouse").unwrap(),
            (Endpoint::SubmitMessage, PathTarget::Room(room()))
        );
        let bob = UserId::parse("mimi://b.example/u/bob").unwrap();
        assert_eq!(
            parse_request_path("/v1/keyMaterial/mimi%3A%2F%2Fb.example%2Fu%2Fbob").unwrap(),
            (Endpoint::KeyMaterial, PathTarget::User(bob.clone()))
        );
        assert_eq!(
            parse_request_path("/v1/requestConsent/b.example/u/bob").unwrap(),
            (Endpoint::RequestConsent, PathTarget::User(bob))
        );
        let b = ProviderId::from_domain("b.example").unwrap();
        assert_eq!(
            parse_request_path("/v1/updateConsent/b.example").unwrap(),
            (Endpoint::UpdateConsent, PathTarget::Domain(b.clone()))
        );
        assert_eq!(
            parse_request_path("/v1/identifierQuery/b.example").unwrap(),
            (Endpoint::IdentifierQuery, PathTarget::Domain(b))
        );
        assert_eq!(
            parse_request_path("/v1/proxyDownload/https%3A%2F%2Fassets.b.example%2Fx%3Fy%3D1")
                .unwrap(),
            (
                Endpoint::ProxyDownload,
                PathTarget::DownloadUrl("https://assets.b.example/x?y=1".into())
            )
        );
    }

    #[test]
    fn expand_then_parse_is_identity() {
        let dir = Directory::for_base_url("https://mimi.a.example/base").unwrap();
        let targets = [
            (Endpoint::Update, PathTarget::Room(room())),
            (
                Endpoint::UpdateConsent,
                PathTarget::User(UserId::parse("mimi://b.example/u/al%20ice~x").unwrap()),
            ),
            (
                Endpoint::ProxyDownload,
                PathTarget::DownloadUrl("https://a.example/p?q=1&r=%20".into()),
            ),
        ];
        for (endpoint, target) in targets {
            let url = dir.url(endpoint, &target).unwrap();
            let path = url.strip_prefix("https://mimi.a.example").unwrap();
            assert_eq!(parse_request_path(path).unwrap(), (endpoint, target));
        }
    }

    #[test]
    fn rejects_bad_paths_with_reasons() {
        for bad in [
            "/v2/notify/a.example/r/x",
            "/v1/unknown/a.example/r/x",
            "/v1/notify/",
            "/v1/notify",
            "/v1/notify/mimi%3",
            "/v1/notify/%FF",
            "/v1/proxyDownload/http%3A%2F%2Fa.example",
        ] {
            assert!(
                matches!(parse_request_path(bad), Err(DecodeError::Invalid { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            parse_request_path("/v1/keyMaterial/a.example/r/room"),
            Err(DecodeError::Identifier(IdError::WrongKind {
                expected: crate::id::UriKind::User,
                found: crate::id::UriKind::Room
            }))
        );
        assert!(matches!(
            parse_request_path("/v1/notify/a.example/x/y/z"),
            Err(DecodeError::Identifier(_))
        ));
    }

    #[test]
    fn percent_encoding_is_one_segment_and_reverses() {
        assert_eq!(
            percent_encode("mimi://a.example/u/al ice~_.-"),
            "mimi%3A%2F%2Fa.example%2Fu%2Fal%20ice~_.-"
        );
        assert_eq!(percent_encode("é"), "%C3%A9");
        for value in ["", "mimi://a.example/r/x?y=1&z", "é/%", "\u{0}\u{7f}"] {
            let encoded = percent_encode(value);
            assert!(!encoded.contains('/'), "{encoded}");
            assert_eq!(percent_decode(&encoded).as_deref(), Some(value));
        }
        assert_eq!(percent_decode("%c3%a9").as_deref(), Some("é"));
        for bad in ["%", "%4", "%zz", "%FF"] {
            assert_eq!(percent_decode(bad), None, "{bad}");
        }
    }
}
