-- API: sign-in state for users, audit look-ups, device claim codes.

ALTER TABLE users
    ADD COLUMN IF NOT EXISTS disabled boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS last_login_at timestamptz;

-- Audit is read by admins by time, by actor, by patient (patient index exists since 0001).
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS actor_id bigint;
CREATE INDEX IF NOT EXISTS audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX IF NOT EXISTS audit_log_actor_idx ON audit_log (actor, at DESC);

-- Who made a binding (a patient pairing their meter, or staff on their behalf).
ALTER TABLE device_bindings ADD COLUMN IF NOT EXISTS bound_by text;

-- The short claim code a hub prints for a device: 8 digits from SHA-256 of a fixed prefix and
-- the serial (digits only, so an elderly patient can type it). Must equal api.claim.claim_code().
-- IMMUTABLE is true here: the database encoding of an existing database never changes.
CREATE OR REPLACE FUNCTION vg_claim_code(serial text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT lpad(((('x' || substr(encode(sha256(convert_to('vitalgate-claim:' || serial, 'UTF8')), 'hex'), 1, 15))::bit(60)::bigint) % 100000000)::text, 8, '0')
$$;
CREATE INDEX IF NOT EXISTS devices_claim_code_idx ON devices (vg_claim_code(serial));
