//! User profiles for identifier queries (draft §5.8): per-field values, each with its own
//! searchable flag, and a conjunctive search over the searchable ones.

use mimi_proto::UserId;
use sqlx::AssertSqlSafe;

use crate::backend::{id_from_db, with_conn, with_reader};
use crate::error::StoreError;
use crate::store::Store;

/// Most fields one profile may hold. vCard and OIDC define a few dozen; the cap bounds a
/// profile write.
pub const MAX_PROFILE_FIELDS: usize = 128;

/// Most conditions one search may AND together (the protocol caps query elements at 16).
pub const MAX_SEARCH_CONDITIONS: usize = 16;

/// One field of a user's profile.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProfileFieldRecord {
    /// The vocabulary: 7 for an OIDC standard claim, 8 for a vCard property (the wire
    /// `FieldSource`).
    pub source: u8,
    /// The claim or property name (`email`, `TEL`, …).
    pub name: String,
    /// The value, UTF-8.
    pub value: String,
    /// Whether identifier queries may match this field. Off unless the user turns it on.
    pub searchable: bool,
}

/// Which fields a search condition looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldSelector {
    /// Any of these `(source, name)` fields.
    Named(Vec<(u8, String)>),
    /// Every searchable field (`wholeProfile`).
    Any,
}

/// How a search condition compares values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchMode {
    /// Byte-for-byte equal.
    Exact,
    /// Equal after lower-casing both sides.
    ExactIgnoreCase,
    /// The lower-cased value contains the lower-cased needle.
    Contains,
}

/// One condition of a search; a user matches a search when one of their searchable fields
/// meets every condition (each condition may be met by a different field).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchCondition {
    /// The fields looked at.
    pub fields: FieldSelector,
    /// What they are compared with.
    pub needle: String,
    /// How.
    pub mode: MatchMode,
}

impl Store {
    /// Replaces `user`'s profile with `fields` (duplicates collapse).
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] past [`MAX_PROFILE_FIELDS`]; [`StoreError::NotFound`]
    /// is not raised for an unknown user: the foreign key fails as
    /// [`StoreError::Backend`].
    pub async fn set_profile(
        &self,
        user: &UserId,
        fields: &[ProfileFieldRecord],
    ) -> Result<(), StoreError> {
        if fields.len() > MAX_PROFILE_FIELDS {
            return Err(StoreError::InvalidInput("too many profile fields"));
        }
        let mut tx = self.pools().begin_write().await?;
        with_conn!(tx.conn(), c => sqlx::query("DELETE FROM profile_fields WHERE user_id = $1")
            .bind(user.as_str())
            .execute(&mut *c)
            .await.map(|_| ()))?;
        for field in fields {
            with_conn!(tx.conn(), c => sqlx::query(
                    "INSERT INTO profile_fields (user_id, source, name, value, searchable) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (user_id, source, name, value) \
                     DO UPDATE SET searchable = excluded.searchable")
                .bind(user.as_str())
                .bind(i64::from(field.source))
                .bind(field.name.as_str())
                .bind(field.value.as_str())
                .bind(i64::from(field.searchable))
                .execute(&mut *c)
                .await.map(|_| ()))?;
        }
        tx.commit().await
    }

    /// `user`'s profile, sorted.
    ///
    /// # Errors
    /// [`StoreError::Backend`], or [`StoreError::Corrupt`] for an out-of-range source.
    pub async fn profile(&self, user: &UserId) -> Result<Vec<ProfileFieldRecord>, StoreError> {
        let rows: Vec<(i64, String, String, i64)> = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT source, name, value, searchable FROM profile_fields WHERE user_id = $1 \
                 ORDER BY source, name, value")
            .bind(user.as_str())
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|(source, name, value, searchable)| {
                Ok(ProfileFieldRecord {
                    source: u8::try_from(source)
                        .map_err(|_| StoreError::Corrupt("profile field source"))?,
                    name,
                    value,
                    searchable: searchable != 0,
                })
            })
            .collect()
    }

    /// Users whose searchable fields meet every condition, sorted, at most `limit`.
    /// No condition matches nobody: an empty search must not list every user.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] past [`MAX_SEARCH_CONDITIONS`] or for a field selector
    /// naming no field; [`StoreError::Backend`].
    pub async fn search_profiles(
        &self,
        conditions: &[SearchCondition],
        limit: u32,
    ) -> Result<Vec<UserId>, StoreError> {
        if conditions.len() > MAX_SEARCH_CONDITIONS {
            return Err(StoreError::InvalidInput("too many search conditions"));
        }
        if conditions.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let (sql, binds) = search_sql(conditions, limit)?;
        let rows: Vec<(String,)> = with_reader!(self.pools(), p => {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
            for bind in &binds {
                q = match bind {
                    Bind::Int(v) => q.bind(*v),
                    Bind::Text(v) => q.bind(v.as_str()),
                };
            }
            q.fetch_all(p).await
        })?;
        rows.into_iter()
            .map(|(user,)| id_from_db(&user, "profile user id"))
            .collect()
    }
}

/// A value bound to a placeholder of the generated search.
enum Bind {
    Int(i64),
    Text(String),
}

/// One `SELECT user_id …` per condition, intersected. Values are always bound, never
/// spliced: only placeholders and fixed SQL go into the text.
fn search_sql(
    conditions: &[SearchCondition],
    limit: u32,
) -> Result<(String, Vec<Bind>), StoreError> {
    let mut binds = Vec::new();
    let mut next = |bind: Bind| {
        binds.push(bind);
        format!("${}", binds.len())
    };
    let mut selects = Vec::with_capacity(conditions.len());
    for condition in conditions {
        let fields = match &condition.fields {
            FieldSelector::Any => "1 = 1".to_owned(),
            FieldSelector::Named(names) if names.is_empty() => {
                return Err(StoreError::InvalidInput("search condition names no field"));
            }
            FieldSelector::Named(names) => names
                .iter()
                .map(|(source, name)| {
                    let s = next(Bind::Int(i64::from(*source)));
                    let n = next(Bind::Text(name.clone()));
                    format!("(source = {s} AND name = {n})")
                })
                .collect::<Vec<_>>()
                .join(" OR "),
        };
        let value = match condition.mode {
            MatchMode::Exact => format!("value = {}", next(Bind::Text(condition.needle.clone()))),
            MatchMode::ExactIgnoreCase => {
                format!(
                    "lower(value) = {}",
                    next(Bind::Text(condition.needle.to_lowercase()))
                )
            }
            MatchMode::Contains => format!(
                "lower(value) LIKE {} ESCAPE '\\'",
                next(Bind::Text(format!(
                    "%{}%",
                    escape_like(&condition.needle.to_lowercase())
                )))
            ),
        };
        selects.push(format!(
            "SELECT user_id FROM profile_fields WHERE searchable = 1 AND ({fields}) AND {value}"
        ));
    }
    let limit = next(Bind::Int(i64::from(limit)));
    let sql = format!(
        "SELECT user_id FROM ({}) AS matched ORDER BY user_id LIMIT {limit}",
        selects.join(" INTERSECT ")
    );
    Ok((sql, binds))
}

/// Escapes `LIKE` wildcards so the needle matches literally.
fn escape_like(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len());
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
    }

    #[test]
    fn every_value_is_a_placeholder() {
        let (sql, binds) = search_sql(
            &[
                SearchCondition {
                    fields: FieldSelector::Named(vec![(7, "email".into())]),
                    needle: "x'; DROP TABLE users; --".into(),
                    mode: MatchMode::ExactIgnoreCase,
                },
                SearchCondition {
                    fields: FieldSelector::Any,
                    needle: "bo".into(),
                    mode: MatchMode::Contains,
                },
            ],
            5,
        )
        .unwrap();
        assert!(!sql.contains("DROP"), "{sql}");
        assert_eq!(binds.len(), 5);
        assert!(sql.contains(" INTERSECT "), "{sql}");
    }
}
