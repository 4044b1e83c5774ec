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

-- The claim code of a serial, exactly as contract.claim.claim_code() computes it: Crockford
-- base32 of the first 40 bits of SHA-256("vitalgate-claim-v1|" + trimmed upper-case serial),
-- as XXXX-XXXX. Indexed so pairing by code is one index probe. (Serials are ASCII in practice;
-- the API re-checks every match in Python, so a non-ASCII difference can only miss, never mis-bind.)
CREATE OR REPLACE FUNCTION vg_claim_code(serial text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    WITH n AS (
        SELECT ('x' || substr(encode(sha256(convert_to('vitalgate-claim-v1|' || upper(btrim(serial)), 'UTF8')), 'hex'), 1, 10))::bit(40)::bigint AS v
    ), c AS (
        SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((n.v >> (5 * i)) & 31)::int + 1, 1), '' ORDER BY i DESC) AS s
        FROM n, generate_series(0, 7) AS i
    )
    SELECT substr(s, 1, 4) || '-' || substr(s, 5, 4) FROM c
$$;
CREATE INDEX IF NOT EXISTS devices_claim_code_idx ON devices (vg_claim_code(serial));
