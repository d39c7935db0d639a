//! KeyPackages: publication, reserve-once claims (draft §5.2), and the KeyPackageRef → client
//! map used to route Welcomes.
//!
//! A client's last-resort KeyPackage (RFC 9420 §16.8) is the exception to reserve-once: it is
//! served, newest first, only when the client has no other usable KeyPackage, and stays for the
//! next claim, so a user whose stock was drained can still be added (decisions KP-4). A reserved
//! KeyPackage is kept until a configured time after its claim (decisions KP-6) or its expiry.
//!
//! A claim is a single `UPDATE … WHERE kp_ref = (SELECT … LIMIT 1) RETURNING …`. On PostgreSQL
//! the inner select takes `FOR UPDATE SKIP LOCKED`, so concurrent claims pick different rows
//! instead of queueing on one; on SQLite the claim runs in the single writer. Either way a
//! KeyPackage is handed out at most once, and expired ones never.

use mimi_proto::{ClientId, UserId};

use crate::backend::{
    Conn, Tx, from_db, id_from_db, to_db, ts_to_db, u32_from_db, with_conn, with_reader,
};
use crate::error::{Record, StoreError};
use crate::model::{
    ClaimRequest, ClaimedKeyPackage, ClientClaim, KeyPackageStock, NewKeyPackage, Timestamp,
};
use crate::store::Store;

/// Most cipher suites a claim may list. Bounds the generated SQL; MLS defines fewer than ten.
pub const MAX_CLAIM_CIPHER_SUITES: usize = 32;

impl Store {
    /// Publishes KeyPackages for a client, all or none.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if the client does not exist;
    /// [`Conflict::AlreadyExists`](crate::Conflict::AlreadyExists) if a KeyPackageRef is
    /// already stored.
    pub async fn publish_key_packages(
        &self,
        client: &ClientId,
        key_packages: &[NewKeyPackage],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = ts_to_db(now)?;
        let mut tx = self.pools().begin_write().await?;
        for kp in key_packages {
            let not_after = to_db(kp.not_after, "not_after above i64::MAX")?;
            with_conn!(tx.conn(), c => sqlx::query(
                    "INSERT INTO key_packages \
                     (kp_ref, client_id, cipher_suite, not_after, key_package, published_at, \
                      last_resort) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&kp.key_package_ref)
                .bind(client.as_str())
                .bind(i64::from(kp.cipher_suite))
                .bind(not_after)
                .bind(&kp.key_package)
                .bind(now)
                .bind(i64::from(kp.last_resort))
                .execute(&mut *c)
                .await.map(|r| r.rows_affected()))
            .map_err(|e| StoreError::insert(e, Record::KeyPackage, Record::Client))?;
        }
        tx.commit().await
    }

    /// Reserves one usable KeyPackage of `client` for `request.requester`.
    ///
    /// # Errors
    /// [`StoreError::Exhausted`] if none is left; [`StoreError::InvalidInput`] if more than
    /// [`MAX_CLAIM_CIPHER_SUITES`] cipher suites are listed.
    pub async fn claim_key_package(
        &self,
        client: &ClientId,
        request: &ClaimRequest,
    ) -> Result<ClaimedKeyPackage, StoreError> {
        let mut tx = self.pools().begin_write().await?;
        let claimed = claim_one(&mut tx, client, request).await?;
        tx.commit().await?;
        claimed.ok_or(StoreError::Exhausted)
    }

    /// Reserves one KeyPackage for every client of `user` (draft §5.2: one per client), in
    /// one transaction. Clients are in client-id order; an empty result means the user has
    /// no clients.
    ///
    /// # Errors
    /// As [`Store::claim_key_package`], except that exhaustion is reported per client.
    pub async fn claim_key_packages(
        &self,
        user: &UserId,
        request: &ClaimRequest,
    ) -> Result<Vec<ClientClaim>, StoreError> {
        let mut tx = self.pools().begin_write().await?;
        let clients: Vec<(String,)> = with_conn!(tx.conn(), c => sqlx::query_as(
                "SELECT client_id FROM clients WHERE user_id = $1 ORDER BY client_id")
            .bind(user.as_str())
            .fetch_all(&mut *c)
            .await)?;
        let mut claims = Vec::with_capacity(clients.len());
        for (client,) in clients {
            let client: ClientId = id_from_db(&client, "client id")?;
            claims.push(match claim_one(&mut tx, &client, request).await? {
                Some(claimed) => ClientClaim::Claimed(claimed),
                None => ClientClaim::Exhausted(client),
            });
        }
        tx.commit().await?;
        Ok(claims)
    }

    /// How many KeyPackages of `client` are unreserved and unexpired at `now`, not counting
    /// last-resort ones.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn available_key_packages(
        &self,
        client: &ClientId,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        Ok(self.key_package_stock(client, now).await?.available)
    }

    /// `client`'s stock at `now`: unreserved regular KeyPackages, and whether it holds a
    /// last-resort one.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn key_package_stock(
        &self,
        client: &ClientId,
        now: Timestamp,
    ) -> Result<KeyPackageStock, StoreError> {
        let now_secs = to_db(now.as_secs(), "timestamp above i64::MAX")?;
        let (available, last_resort): (i64, i64) = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT \
                   COUNT(CASE WHEN last_resort = 0 AND reserved_at IS NULL THEN 1 END), \
                   COUNT(CASE WHEN last_resort = 1 THEN 1 END) \
                 FROM key_packages WHERE client_id = $1 AND not_after > $2")
            .bind(client.as_str())
            .bind(now_secs)
            .fetch_one(p)
            .await)?;
        Ok(KeyPackageStock {
            available: from_db(available, "count")?,
            last_resort: last_resort > 0,
        })
    }

    /// Every user's stock at `now` (for `/metrics`): user, unreserved regular KeyPackages of
    /// all its clients, and how many of its clients hold a last-resort one; users without
    /// clients are left out. Ordered by user.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn key_package_stock_by_user(
        &self,
        now: Timestamp,
    ) -> Result<Vec<(UserId, KeyPackageStock, u64)>, StoreError> {
        let now_secs = to_db(now.as_secs(), "timestamp above i64::MAX")?;
        let rows: Vec<(String, i64, i64)> = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT c.user_id, \
                   COUNT(CASE WHEN k.last_resort = 0 AND k.reserved_at IS NULL THEN 1 END), \
                   COUNT(DISTINCT CASE WHEN k.last_resort = 1 THEN c.client_id END) \
                 FROM clients c LEFT JOIN key_packages k \
                   ON k.client_id = c.client_id AND k.not_after > $1 \
                 GROUP BY c.user_id ORDER BY c.user_id")
            .bind(now_secs)
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|(user, available, last_resort_clients)| {
                let last_resort_clients: u64 = from_db(last_resort_clients, "count")?;
                Ok((
                    id_from_db(&user, "user id")?,
                    KeyPackageStock {
                        available: from_db(available, "count")?,
                        last_resort: last_resort_clients > 0,
                    },
                    last_resort_clients,
                ))
            })
            .collect()
    }

    /// The client a KeyPackageRef belongs to (draft §4.3.1: routes a Welcome to its client).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if the ref is unknown (never published, or purged).
    pub async fn key_package_owner(&self, key_package_ref: &[u8]) -> Result<ClientId, StoreError> {
        let row: Option<(String,)> = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT client_id FROM key_packages WHERE kp_ref = $1")
            .bind(key_package_ref)
            .fetch_optional(p)
            .await)?;
        match row {
            Some((client,)) => id_from_db(&client, "client id"),
            None => Err(StoreError::NotFound(Record::KeyPackage)),
        }
    }

    /// Deletes KeyPackages (reserved or not) whose `not_after` is at or before `now`, and
    /// reserved ones claimed at or before `claimed_before` (decisions KP-6: a claim not used by
    /// then is abandoned; its KeyPackageRef no longer routes a Welcome). Returns how many were
    /// deleted.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn purge_expired_key_packages(
        &self,
        now: Timestamp,
        claimed_before: Timestamp,
    ) -> Result<u64, StoreError> {
        let now_secs = to_db(now.as_secs(), "timestamp above i64::MAX")?;
        let claimed_before = ts_to_db(claimed_before)?;
        let mut tx = self.pools().begin_write().await?;
        let done = with_conn!(tx.conn(), c => sqlx::query(
                "DELETE FROM key_packages \
                 WHERE not_after <= $1 OR (reserved_at IS NOT NULL AND reserved_at <= $2)")
            .bind(now_secs)
            .bind(claimed_before)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(done)
    }
}

/// Reserves the oldest usable regular KeyPackage of `client`; failing that, hands out its
/// newest usable last-resort one without reserving it (decisions KP-4); else `None`.
async fn claim_one(
    tx: &mut Tx,
    client: &ClientId,
    request: &ClaimRequest,
) -> Result<Option<ClaimedKeyPackage>, StoreError> {
    if request.cipher_suites.len() > MAX_CLAIM_CIPHER_SUITES {
        return Err(StoreError::InvalidInput("too many cipher suites in claim"));
    }
    let now_ms = ts_to_db(request.now)?;
    let now_secs = to_db(request.now.as_secs(), "timestamp above i64::MAX")?;
    let lock = match tx.conn() {
        Conn::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        Conn::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE key_packages SET reserved_by = $1, reserved_at = $2 \
         WHERE reserved_at IS NULL AND kp_ref = (\
           SELECT kp_ref FROM key_packages \
           WHERE client_id = $3 AND reserved_at IS NULL AND last_resort = 0 \
             AND not_after > $4{filter} \
           ORDER BY published_at, kp_ref LIMIT 1{lock}) \
         RETURNING kp_ref, cipher_suite, not_after, key_package",
        filter = suite_filter(request, 5),
    );
    let reserve = Some((request.requester.as_str(), now_ms));
    let (row, last_resort) = match claim_row(tx, sql, reserve, client, now_secs, request).await? {
        Some(row) => (Some(row), false),
        None => {
            let sql = format!(
                "SELECT kp_ref, cipher_suite, not_after, key_package FROM key_packages \
                 WHERE client_id = $1 AND last_resort = 1 AND not_after > $2{filter} \
                 ORDER BY published_at DESC, kp_ref DESC LIMIT 1",
                filter = suite_filter(request, 3),
            );
            let row = claim_row(tx, sql, None, client, now_secs, request).await?;
            (row, true)
        }
    };
    row.map(|(key_package_ref, cipher_suite, not_after, key_package)| {
        Ok(ClaimedKeyPackage {
            client: client.clone(),
            key_package_ref,
            cipher_suite: u16::try_from(u32_from_db(cipher_suite, "cipher suite")?)
                .map_err(|_| StoreError::Corrupt("cipher suite"))?,
            not_after: from_db(not_after, "not_after")?,
            key_package,
            last_resort,
        })
    })
    .transpose()
}

/// A claim query's row: `sql` bound with the reservation (requester, now in ms) when given,
/// then the client, now in seconds and the request's suites.
async fn claim_row(
    tx: &mut Tx,
    sql: String,
    reserve: Option<(&str, i64)>,
    client: &ClientId,
    now_secs: i64,
    request: &ClaimRequest,
) -> Result<Option<(Vec<u8>, i64, i64, Vec<u8>)>, StoreError> {
    Ok(with_conn!(tx.conn(), c => {
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        if let Some((requester, now_ms)) = reserve {
            query = query.bind(requester).bind(now_ms);
        }
        query = query.bind(client.as_str()).bind(now_secs);
        for suite in &request.cipher_suites {
            query = query.bind(i64::from(*suite));
        }
        query.fetch_optional(&mut *c).await
    })?)
}

/// ` AND cipher_suite IN ($first, …)` for the request's suites (placeholders only; the
/// values are bound), or nothing when any suite will do.
fn suite_filter(request: &ClaimRequest, first: usize) -> String {
    if request.cipher_suites.is_empty() {
        return String::new();
    }
    let placeholders: Vec<String> = (0..request.cipher_suites.len())
        .map(|i| format!("${}", i + first))
        .collect();
    format!(" AND cipher_suite IN ({})", placeholders.join(", "))
}
