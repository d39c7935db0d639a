//! Consent scopes (draft §5.7, §8): who may fetch whose KeyPackages, optionally per room.

use mimi_proto::UserId;

use crate::backend::{id_from_db, ts_from_db, ts_to_db, with_conn, with_reader};
use crate::error::StoreError;
use crate::model::{ConsentScope, ConsentState, Timestamp};
use crate::store::Store;

/// Stored for "no room": the primary key cannot hold a NULL.
const ANY_ROOM: &str = "";

impl Store {
    /// Records the state of a scope, replacing any earlier state of the same scope.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn set_consent(
        &self,
        scope: &ConsentScope,
        state: ConsentState,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pools().begin_write().await?;
        with_conn!(tx.conn(), c => sqlx::query(
                "INSERT INTO consent (requester, target, room_id, state, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (requester, target, room_id) \
                 DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at")
            .bind(scope.requester.as_str())
            .bind(scope.target.as_str())
            .bind(room_key(scope))
            .bind(state_to_db(state))
            .bind(ts_to_db(now)?)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
        tx.commit().await
    }

    /// Withdraws a pending request (`cancel`). A scope that is not in the `Requested` state
    /// is left alone: draft §5.7 says an unmatched cancel does nothing. Returns whether a
    /// request was withdrawn.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn cancel_consent_request(&self, scope: &ConsentScope) -> Result<bool, StoreError> {
        let mut tx = self.pools().begin_write().await?;
        let done = with_conn!(tx.conn(), c => sqlx::query(
                "DELETE FROM consent \
                 WHERE requester = $1 AND target = $2 AND room_id = $3 AND state = $4")
            .bind(scope.requester.as_str())
            .bind(scope.target.as_str())
            .bind(room_key(scope))
            .bind(state_to_db(ConsentState::Requested))
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(done > 0)
    }

    /// The state of exactly this scope, if any.
    ///
    /// # Errors
    /// [`StoreError::Backend`], or [`StoreError::Corrupt`] for an unknown stored state.
    pub async fn consent(&self, scope: &ConsentScope) -> Result<Option<ConsentState>, StoreError> {
        let row: Option<(i64,)> = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT state FROM consent WHERE requester = $1 AND target = $2 AND room_id = $3")
            .bind(scope.requester.as_str())
            .bind(scope.target.as_str())
            .bind(room_key(scope))
            .fetch_optional(p)
            .await)?;
        row.map(|(state,)| state_from_db(state)).transpose()
    }

    /// Every scope between `requester` and `target` (room-less first, then by room), for the
    /// keyMaterial consent check (`noConsent` vs `noConsentForThisRoom`).
    ///
    /// # Errors
    /// [`StoreError::Backend`] or [`StoreError::Corrupt`].
    pub async fn consents_between(
        &self,
        requester: &UserId,
        target: &UserId,
    ) -> Result<Vec<(ConsentScope, ConsentState)>, StoreError> {
        let rows: Vec<(String, i64)> = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT room_id, state FROM consent \
                 WHERE requester = $1 AND target = $2 ORDER BY room_id")
            .bind(requester.as_str())
            .bind(target.as_str())
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|(room, state)| {
                let room = if room == ANY_ROOM {
                    None
                } else {
                    Some(id_from_db(&room, "room id")?)
                };
                let scope = ConsentScope {
                    requester: requester.clone(),
                    target: target.clone(),
                    room,
                };
                Ok((scope, state_from_db(state)?))
            })
            .collect()
    }

    /// Every scope `user` takes part in, as requester or as target, most recently updated
    /// first, at most [`MAX_CONSENT_PAGE`]: what a user sees of pending requests, grants
    /// and revocations.
    ///
    /// # Errors
    /// [`StoreError::Backend`] or [`StoreError::Corrupt`].
    pub async fn consents_of(&self, user: &UserId) -> Result<Vec<ConsentRecord>, StoreError> {
        let rows: Vec<(String, String, String, i64, i64)> = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT requester, target, room_id, state, updated_at FROM consent \
                 WHERE requester = $1 OR target = $1 \
                 ORDER BY updated_at DESC, requester, target, room_id LIMIT $2")
            .bind(user.as_str())
            .bind(i64::from(MAX_CONSENT_PAGE))
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|(requester, target, room, state, updated_at)| {
                Ok(ConsentRecord {
                    scope: ConsentScope {
                        requester: id_from_db(&requester, "consent requester")?,
                        target: id_from_db(&target, "consent target")?,
                        room: if room == ANY_ROOM {
                            None
                        } else {
                            Some(id_from_db(&room, "room id")?)
                        },
                    },
                    state: state_from_db(state)?,
                    updated_at: ts_from_db(updated_at)?,
                })
            })
            .collect()
    }
}

/// Most scopes [`Store::consents_of`] returns.
pub const MAX_CONSENT_PAGE: u32 = 1000;

/// A scope with its state, for listings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRecord {
    /// Who may fetch whose KeyPackages, where.
    pub scope: ConsentScope,
    /// Its state.
    pub state: ConsentState,
    /// When it last changed.
    pub updated_at: Timestamp,
}

fn room_key(scope: &ConsentScope) -> &str {
    scope.room.as_ref().map_or(ANY_ROOM, |room| room.as_str())
}

fn state_to_db(state: ConsentState) -> i64 {
    match state {
        ConsentState::Requested => 1,
        ConsentState::Granted => 2,
        ConsentState::Revoked => 3,
    }
}

fn state_from_db(state: i64) -> Result<ConsentState, StoreError> {
    match state {
        1 => Ok(ConsentState::Requested),
        2 => Ok(ConsentState::Granted),
        3 => Ok(ConsentState::Revoked),
        _ => Err(StoreError::Corrupt("consent state")),
    }
}
