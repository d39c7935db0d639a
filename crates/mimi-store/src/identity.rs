//! Users and their clients, with the credentials and signature keys clients authenticate with.

use mimi_proto::{ClientId, UserId};

use crate::backend::{id_from_db, ts_from_db, ts_to_db, with_conn, with_reader};
use crate::error::{Record, StoreError};
use crate::model::{ClientRecord, NewClient, Timestamp};
use crate::store::Store;

/// `(client_id, user_id, credential, signature_key, created_at)`.
type ClientRow = (String, String, Vec<u8>, Vec<u8>, i64);

const CLIENT_COLUMNS: &str = "client_id, user_id, credential, signature_key, created_at";

impl Store {
    /// Registers a user.
    ///
    /// # Errors
    /// [`Conflict::AlreadyExists`](crate::Conflict::AlreadyExists) if the user exists.
    pub async fn add_user(&self, user: &UserId, now: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.pools().begin_write().await?;
        with_conn!(tx.conn(), c => sqlx::query("INSERT INTO users (user_id, created_at) VALUES ($1, $2)")
            .bind(user.as_str())
            .bind(ts_to_db(now)?)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))
        .map_err(|e| StoreError::unique(e, Record::User))?;
        tx.commit().await
    }

    /// Whether the user exists.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn user_exists(&self, user: &UserId) -> Result<bool, StoreError> {
        let (count,): (i64,) = with_reader!(self.pools(), p => sqlx::query_as("SELECT COUNT(*) FROM users WHERE user_id = $1")
            .bind(user.as_str())
            .fetch_one(p)
            .await)?;
        Ok(count > 0)
    }

    /// Registers a client of an existing user.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] if the client id names another user;
    /// [`StoreError::NotFound`] if the user does not exist;
    /// [`Conflict::AlreadyExists`](crate::Conflict::AlreadyExists) if the client id or the
    /// signature key is taken.
    pub async fn add_client(&self, client: &NewClient, now: Timestamp) -> Result<(), StoreError> {
        if client.client.user().is_some_and(|user| user != client.user) {
            return Err(StoreError::InvalidInput("client id names another user"));
        }
        let mut tx = self.pools().begin_write().await?;
        with_conn!(tx.conn(), c => sqlx::query(
                "INSERT INTO clients (client_id, user_id, credential, signature_key, created_at) \
                 VALUES ($1, $2, $3, $4, $5)")
            .bind(client.client.as_str())
            .bind(client.user.as_str())
            .bind(&client.credential)
            .bind(&client.signature_key)
            .bind(ts_to_db(now)?)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))
        .map_err(|e| StoreError::insert(e, Record::Client, Record::User))?;
        tx.commit().await
    }

    /// A client by id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such client.
    pub async fn client(&self, client: &ClientId) -> Result<ClientRecord, StoreError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = $1");
        let row: Option<ClientRow> = with_reader!(self.pools(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(client.as_str())
            .fetch_optional(p)
            .await)?;
        row.map(client_record)
            .transpose()?
            .ok_or(StoreError::NotFound(Record::Client))
    }

    /// The client that authenticates with `signature_key`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if no client has this key.
    pub async fn client_by_signature_key(
        &self,
        signature_key: &[u8],
    ) -> Result<ClientRecord, StoreError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE signature_key = $1");
        let row: Option<ClientRow> = with_reader!(self.pools(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(signature_key)
            .fetch_optional(p)
            .await)?;
        row.map(client_record)
            .transpose()?
            .ok_or(StoreError::NotFound(Record::Client))
    }

    /// All clients of a user, ordered by client id.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn clients_of(&self, user: &UserId) -> Result<Vec<ClientRecord>, StoreError> {
        let sql =
            format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE user_id = $1 ORDER BY client_id");
        let rows: Vec<ClientRow> = with_reader!(self.pools(), p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user.as_str())
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(client_record).collect()
    }

    /// Removes a client with its KeyPackages and mailbox.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such client.
    pub async fn remove_client(&self, client: &ClientId) -> Result<(), StoreError> {
        let mut tx = self.pools().begin_write().await?;
        let done = with_conn!(tx.conn(), c => sqlx::query("DELETE FROM clients WHERE client_id = $1")
            .bind(client.as_str())
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StoreError::NotFound(Record::Client));
        }
        tx.commit().await
    }
}

fn client_record(row: ClientRow) -> Result<ClientRecord, StoreError> {
    let (client, user, credential, signature_key, created_at) = row;
    Ok(ClientRecord {
        client: id_from_db(&client, "client id")?,
        user: id_from_db(&user, "user id")?,
        credential,
        signature_key,
        created_at: ts_from_db(created_at)?,
    })
}
