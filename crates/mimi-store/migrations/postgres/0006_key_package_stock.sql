-- Last-resort KeyPackages (RFC 9420 §16.8; decisions KP-4): served only when a client has no
-- other usable KeyPackage, never reserved and never deleted on claim (expiry removes them).
ALTER TABLE key_packages ADD COLUMN last_resort BIGINT NOT NULL DEFAULT 0; -- 0 or 1
CREATE INDEX key_packages_last_resort ON key_packages (client_id, published_at)
    WHERE last_resort = 1;
-- Claimed KeyPackages expire a configured time after their claim (decisions KP-6).
CREATE INDEX key_packages_reserved ON key_packages (reserved_at)
    WHERE reserved_at IS NOT NULL;
