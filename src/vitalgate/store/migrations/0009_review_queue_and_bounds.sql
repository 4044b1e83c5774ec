-- Readings held back for a person to look at, bounded dead letters, and conflicting duplicates.

-- Review queue: readings that arrived well-formed but cannot be trusted to be filed as they are
-- (measured before the horizon or before the device's binding, in the future, or from a hub that
-- does not own the device). They are neither filed to a patient nor evaluated by the alert rules
-- until staff release them (file) or discard them. The reading's columns are kept as ingest saw
-- them, so releasing it files exactly what arrived.
CREATE TABLE IF NOT EXISTS review_queue (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reason              text NOT NULL
                        CHECK (reason IN ('older_than_horizon', 'before_binding', 'foreign_hub', 'future_time')),
    detail              text NOT NULL DEFAULT '',
    state               text NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'released', 'discarded')),
    -- Whose reading it would be: the binding at measured_at, else the device's open binding (NULL: nobody's).
    patient_id          bigint REFERENCES patients(id),
    reading_id          uuid NOT NULL,
    device_serial       text NOT NULL,
    device_kind         text NOT NULL,
    device_model        text,
    device_manufacturer text,
    gateway_id          text NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('glucose', 'blood_pressure')),
    measured_at         timestamptz NOT NULL,
    device_time         timestamp NOT NULL,
    received_at         timestamptz NOT NULL,
    sequence_number     integer,
    glucose_mg_dl       double precision,
    systolic_mmhg       double precision,
    diastolic_mmhg      double precision,
    map_mmhg            double precision,
    pulse_bpm           double precision,
    status              text[] NOT NULL DEFAULT '{}',
    context             jsonb NOT NULL DEFAULT '{}',
    held_at             timestamptz NOT NULL DEFAULT now(),
    resolved_at         timestamptz,
    resolved_by         text,
    resolution_note     text,
    CHECK ((state = 'held') = (resolved_at IS NULL))
);
-- A redelivered message must not queue the same reading twice.
CREATE UNIQUE INDEX IF NOT EXISTS review_queue_reading_idx ON review_queue (reading_id);
CREATE INDEX IF NOT EXISTS review_queue_held_idx ON review_queue (held_at DESC) WHERE state = 'held';

-- Dead letters keep at most a prefix of the payload (store.readings.DEAD_LETTER_KEEP_BYTES) and
-- record the full length and SHA-256, so a 10 MB poison message costs kilobytes, yet can be matched.
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS payload_bytes integer;
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS payload_sha256 bytea;

-- A fingerprint of what a reading says (kind and values): a later message with the same reading id
-- but other values is a conflicting duplicate (dead letter), not a silent drop. NULL for rows
-- stored before this migration (no conflict check against them).
ALTER TABLE reading_keys ADD COLUMN IF NOT EXISTS value_hash bigint;
