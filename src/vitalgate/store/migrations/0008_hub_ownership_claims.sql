-- Device -> hub ownership and pairing claims (issue 13 items 2 and 6).

-- Each device belongs to one hub: the hub that registered its claim code at pairing, or, for a
-- device paired before claims existed, the hub whose reading was stored first. A reading for an
-- owned device published by another hub is held for review (store.holds: foreign_hub), never
-- filed or evaluated. Moving a device to another hub is an explicit, audited staff action.
ALTER TABLE devices ADD COLUMN IF NOT EXISTS hub_id text;
ALTER TABLE devices ADD COLUMN IF NOT EXISTS hub_since timestamptz;
-- Devices seen before this migration: the hub of their latest stored reading.
UPDATE devices d SET hub_id = l.gateway_id, hub_since = now()
FROM (SELECT DISTINCT ON (device_serial) device_serial, gateway_id FROM readings
      ORDER BY device_serial, received_at DESC) l
WHERE l.device_serial = d.serial AND d.hub_id IS NULL AND l.gateway_id <> 'unknown';
CREATE INDEX IF NOT EXISTS devices_hub_idx ON devices (hub_id);

-- Claim codes: a random secret the hub created at pairing and registered over its authenticated
-- MQTT identity (vitalgate/v1/<hub>/claims). Only a hash is kept; a patient pairs a device only
-- through a code registered here. One live claim per device (a re-pairing hub replaces it).
CREATE TABLE IF NOT EXISTS device_claims (
    device_serial  text PRIMARY KEY,
    hub_id         text NOT NULL,
    device_kind    text NOT NULL CHECK (device_kind IN ('glucose_meter', 'bp_cuff')),
    code_hash      bytea NOT NULL UNIQUE,
    registered_at  timestamptz NOT NULL DEFAULT now(),
    used_at        timestamptz,
    used_by        text
);

-- Failed claim-code attempts per user, for throttling (api.pairing); successes are audited.
CREATE TABLE IF NOT EXISTS claim_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    succeeded   boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS claim_attempts_user_idx ON claim_attempts (user_id, at DESC);
