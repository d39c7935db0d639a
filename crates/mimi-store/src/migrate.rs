//! Versioned schema migrations, embedded in the binary.
//!
//! Each backend has its own SQL under `migrations/{sqlite,postgres}/` with the same version
//! numbers and descriptions (a test checks the directories against these lists). sqlx's
//! `migrate!` macro needs the `macros` feature, which the workspace leaves off to keep builds
//! fast, so the files are embedded with `include_str!` and handed to sqlx's `Migrator`, which
//! records applied versions and checksums in `_sqlx_migrations` and, on PostgreSQL, takes an
//! advisory lock so instances starting together migrate once.

use std::borrow::Cow;

use sqlx::SqlSafeStr as _;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// `(version, description, sql)` for SQLite.
pub(crate) const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "identity",
        include_str!("../migrations/sqlite/0001_identity.sql"),
    ),
    (
        2,
        "rooms",
        include_str!("../migrations/sqlite/0002_rooms.sql"),
    ),
    (
        3,
        "delivery",
        include_str!("../migrations/sqlite/0003_delivery.sql"),
    ),
    (
        4,
        "members",
        include_str!("../migrations/sqlite/0004_members.sql"),
    ),
    (
        5,
        "discovery_abuse",
        include_str!("../migrations/sqlite/0005_discovery_abuse.sql"),
    ),
    (
        6,
        "key_package_stock",
        include_str!("../migrations/sqlite/0006_key_package_stock.sql"),
    ),
];

/// `(version, description, sql)` for PostgreSQL.
pub(crate) const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "identity",
        include_str!("../migrations/postgres/0001_identity.sql"),
    ),
    (
        2,
        "rooms",
        include_str!("../migrations/postgres/0002_rooms.sql"),
    ),
    (
        3,
        "delivery",
        include_str!("../migrations/postgres/0003_delivery.sql"),
    ),
    (
        4,
        "members",
        include_str!("../migrations/postgres/0004_members.sql"),
    ),
    (
        5,
        "discovery_abuse",
        include_str!("../migrations/postgres/0005_discovery_abuse.sql"),
    ),
    (
        6,
        "key_package_stock",
        include_str!("../migrations/postgres/0006_key_package_stock.sql"),
    ),
];

/// A migrator for one backend's list.
pub(crate) fn migrator(list: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    let migrations = list
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(version, description)` of the files in `migrations/<backend>`, sorted.
    fn on_disk(backend: &str) -> Vec<(i64, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut found: Vec<(i64, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| {
                let name = entry.unwrap().file_name().into_string().unwrap();
                let stem = name.strip_suffix(".sql").unwrap();
                let (version, description) = stem.split_once('_').unwrap();
                (version.parse().unwrap(), description.to_owned())
            })
            .collect();
        found.sort();
        found
    }

    fn listed(list: &[(i64, &str, &str)]) -> Vec<(i64, String)> {
        list.iter().map(|&(v, d, _)| (v, d.to_owned())).collect()
    }

    #[test]
    fn every_migration_file_is_embedded_and_versions_match() {
        assert_eq!(on_disk("sqlite"), listed(SQLITE));
        assert_eq!(on_disk("postgres"), listed(POSTGRES));
        assert_eq!(listed(SQLITE), listed(POSTGRES));
    }
}
