-- Failed sign-in throttling, shared by every API process (api/throttle.py holds the policy).
-- One row per throttled key: a login name as typed (known or not, so the answer never tells
-- which names exist) or a source address. `failures` counts attempts in the window that began
-- at `window_start` and have not succeeded; `locked_until` refuses attempts until then.
CREATE TABLE IF NOT EXISTS login_throttle (
    scope        text NOT NULL CHECK (scope IN ('username', 'source')),
    key          text NOT NULL,
    failures     integer NOT NULL CHECK (failures >= 0),
    window_start timestamptz NOT NULL,
    locked_until timestamptz,
    PRIMARY KEY (scope, key)
);
-- Stale rows (window and lock over) are purged by age.
CREATE INDEX IF NOT EXISTS login_throttle_window_idx ON login_throttle (window_start);

-- Signing out or a new password ends every token issued before this moment (whole seconds, as
-- the tokens' `iat`), so a copied cookie or bearer token stops working before it expires.
ALTER TABLE users ADD COLUMN IF NOT EXISTS sessions_revoked_at timestamptz;
