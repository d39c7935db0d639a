//! From query elements to store search conditions (protocol-06 §5.8 match
//! semantics), pure. Profiles use the OIDC standard-claim (source 7) and vCard
//! (source 8) vocabularies; each search type maps to the fields that carry it
//! (decisions RA-5).

use mimi_proto::messages::{IdentifierQueryCode, QueryElement, SearchField};
use mimi_store::{FieldSelector, MatchMode, SearchCondition};

/// Most users one successful answer names; more matches answer `ambiguous`.
pub const MAX_MATCHES: usize = 10;

/// Shortest substring a `partialName` or `wholeProfile` element may search
/// for: shorter needles match most of a user base and only help enumeration.
pub const MIN_SUBSTRING_CHARS: usize = 3;

/// `FieldSource` of an OIDC standard claim.
const OIDC: u8 = 7;
/// `FieldSource` of a vCard property.
const VCARD: u8 = 8;

/// OIDC Core §5.1 standard claims we index.
const OIDC_CLAIMS: &[&str] = &[
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "email",
    "phone_number",
    "locale",
    "zoneinfo",
    "website",
];

/// vCard (RFC 6350) properties we index.
const VCARD_PROPERTIES: &[&str] = &[
    "FN", "N", "NICKNAME", "EMAIL", "TEL", "IMPP", "ORG", "TITLE", "URL", "LANG",
];

/// What to do with a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Run these conditions (ANDed).
    Search(Vec<SearchCondition>),
    /// Answer with this code and no match.
    Refuse(IdentifierQueryCode),
}

/// Maps every element to a condition, or refuses the whole query:
/// `unsupportedField` for a claim or property we do not index, `forbidden`
/// for an empty query or a too-short substring (either would enumerate users).
pub fn plan(elements: &[QueryElement]) -> Plan {
    if elements.is_empty() {
        return Plan::Refuse(IdentifierQueryCode::Forbidden);
    }
    let mut conditions = Vec::with_capacity(elements.len());
    for element in elements {
        let needle = element.search_value.as_str().to_owned();
        let named = |fields: &[(u8, &str)]| {
            FieldSelector::Named(fields.iter().map(|(s, n)| (*s, (*n).to_owned())).collect())
        };
        let (fields, mode) = match &element.search {
            SearchField::Handle => (named(&[(VCARD, "IMPP")]), MatchMode::Exact),
            SearchField::Nick => (
                named(&[
                    (OIDC, "nickname"),
                    (OIDC, "preferred_username"),
                    (VCARD, "NICKNAME"),
                ]),
                MatchMode::Exact,
            ),
            SearchField::Email => (
                named(&[(OIDC, "email"), (VCARD, "EMAIL")]),
                MatchMode::ExactIgnoreCase,
            ),
            SearchField::Phone => (
                named(&[(OIDC, "phone_number"), (VCARD, "TEL")]),
                MatchMode::Exact,
            ),
            SearchField::PartialName => (
                named(&[
                    (OIDC, "name"),
                    (OIDC, "given_name"),
                    (OIDC, "family_name"),
                    (OIDC, "middle_name"),
                    (VCARD, "FN"),
                    (VCARD, "N"),
                ]),
                MatchMode::Contains,
            ),
            SearchField::WholeProfile => (FieldSelector::Any, MatchMode::Contains),
            SearchField::OidcStdClaim { claim_name } => {
                let name = claim_name.as_str();
                if !OIDC_CLAIMS.contains(&name) {
                    return Plan::Refuse(IdentifierQueryCode::UnsupportedField);
                }
                (named(&[(OIDC, name)]), MatchMode::Exact)
            }
            SearchField::VcardField { property_name } => {
                let name = property_name.as_str().to_ascii_uppercase();
                if !VCARD_PROPERTIES.contains(&name.as_str()) {
                    return Plan::Refuse(IdentifierQueryCode::UnsupportedField);
                }
                (named(&[(VCARD, &name)]), MatchMode::Exact)
            }
        };
        if mode == MatchMode::Contains && needle.chars().count() < MIN_SUBSTRING_CHARS {
            return Plan::Refuse(IdentifierQueryCode::Forbidden);
        }
        conditions.push(SearchCondition {
            fields,
            needle,
            mode,
        });
    }
    Plan::Search(conditions)
}

#[cfg(test)]
mod tests {
    use mimi_proto::Utf8String;

    use super::*;

    fn element(search: SearchField, value: &str) -> QueryElement {
        QueryElement {
            search,
            search_value: Utf8String::new(value).unwrap(),
        }
    }

    #[test]
    fn each_search_type_maps_to_its_fields() {
        let Plan::Search(c) = plan(&[
            element(SearchField::Email, "Bob@B.example"),
            element(SearchField::PartialName, "bob"),
        ]) else {
            panic!("searchable")
        };
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].mode, MatchMode::ExactIgnoreCase);
        assert_eq!(
            c[0].fields,
            FieldSelector::Named(vec![(7, "email".into()), (8, "EMAIL".into())])
        );
        assert_eq!(c[1].mode, MatchMode::Contains);
        let Plan::Search(c) = plan(&[element(
            SearchField::VcardField {
                property_name: Utf8String::new("tel").unwrap(),
            },
            "+1555",
        )]) else {
            panic!("searchable")
        };
        assert_eq!(c[0].fields, FieldSelector::Named(vec![(8, "TEL".into())]));
    }

    #[test]
    fn refusals() {
        assert_eq!(plan(&[]), Plan::Refuse(IdentifierQueryCode::Forbidden));
        assert_eq!(
            plan(&[element(SearchField::WholeProfile, "bo")]),
            Plan::Refuse(IdentifierQueryCode::Forbidden)
        );
        assert_eq!(
            plan(&[element(
                SearchField::OidcStdClaim {
                    claim_name: Utf8String::new("address_secret").unwrap()
                },
                "x"
            )]),
            Plan::Refuse(IdentifierQueryCode::UnsupportedField)
        );
        // An exact search may be short.
        assert!(matches!(
            plan(&[element(SearchField::Nick, "bo")]),
            Plan::Search(_)
        ));
    }
}
