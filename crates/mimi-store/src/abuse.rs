//! Abuse reports a hub accepted after verifying their franks (draft §5.9), kept for the
//! operator.

use mimi_proto::{ProviderId, RoomId};

use crate::backend::{from_db, id_from_db, to_db, ts_from_db, ts_to_db, with_conn, with_reader};
use crate::error::StoreError;
use crate::model::Timestamp;
use crate::store::Store;

/// Most reports one listing returns.
pub const MAX_REPORT_PAGE: u32 = 1000;

/// A report to keep. The body is the report exactly as received, so an operator (or a
/// later tool) sees everything the reporter sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAbuseReport {
    /// The room the reported messages were sent in.
    pub room: RoomId,
    /// The provider that sent the report.
    pub reporter: ProviderId,
    /// The reporting user, unless the report is anonymous.
    pub reporting_user: Option<String>,
    /// The user (or pseudonym) reported.
    pub alleged_abuser: String,
    /// The wire `AbuseType`.
    pub reason_code: u8,
    /// The reporter's note.
    pub note: String,
    /// How many messages the report quotes (all verified).
    pub message_count: u32,
    /// The encoded `AbuseReport`.
    pub body: Vec<u8>,
    /// When we received it.
    pub received_at: Timestamp,
}

/// A stored report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AbuseReportRecord {
    /// Increasing id, for paging.
    pub id: u64,
    /// What was reported.
    pub report: NewAbuseReport,
}

type ReportRow = (
    i64,
    String,
    String,
    Option<String>,
    String,
    i64,
    String,
    i64,
    Vec<u8>,
    i64,
);

impl Store {
    /// Keeps a verified report; returns its id.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn add_abuse_report(&self, report: &NewAbuseReport) -> Result<u64, StoreError> {
        let mut tx = self.pools().begin_write().await?;
        let (id,): (i64,) = with_conn!(tx.conn(), c => sqlx::query_as(
                "INSERT INTO abuse_reports (room_id, reporter, reporting_user, alleged_abuser, \
                 reason_code, note, message_count, body, received_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING report_id")
            .bind(report.room.as_str())
            .bind(report.reporter.domain())
            .bind(report.reporting_user.as_deref())
            .bind(report.alleged_abuser.as_str())
            .bind(i64::from(report.reason_code))
            .bind(report.note.as_str())
            .bind(i64::from(report.message_count))
            .bind(report.body.as_slice())
            .bind(ts_to_db(report.received_at)?)
            .fetch_one(&mut *c)
            .await)?;
        tx.commit().await?;
        from_db(id, "report id")
    }

    /// Reports with an id above `after`, oldest first, at most `limit` (capped at
    /// [`MAX_REPORT_PAGE`]).
    ///
    /// # Errors
    /// [`StoreError::Backend`], or [`StoreError::Corrupt`] for a row that does not read back.
    pub async fn abuse_reports(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AbuseReportRecord>, StoreError> {
        let rows: Vec<ReportRow> = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT report_id, room_id, reporter, reporting_user, alleged_abuser, \
                 reason_code, note, message_count, body, received_at FROM abuse_reports \
                 WHERE report_id > $1 ORDER BY report_id LIMIT $2")
            .bind(to_db(after, "report cursor")?)
            .bind(i64::from(limit.min(MAX_REPORT_PAGE)))
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(record_from_row).collect()
    }
}

fn record_from_row(row: ReportRow) -> Result<AbuseReportRecord, StoreError> {
    let (id, room, reporter, reporting_user, alleged_abuser, reason, note, count, body, at) = row;
    Ok(AbuseReportRecord {
        id: from_db(id, "report id")?,
        report: NewAbuseReport {
            room: id_from_db(&room, "report room")?,
            reporter: ProviderId::from_domain(&reporter)
                .map_err(|_| StoreError::Corrupt("report provider"))?,
            reporting_user,
            alleged_abuser,
            reason_code: u8::try_from(reason).map_err(|_| StoreError::Corrupt("reason code"))?,
            note,
            message_count: u32::try_from(count)
                .map_err(|_| StoreError::Corrupt("report message count"))?,
            body,
            received_at: ts_from_db(at)?,
        },
    })
}
