-- Time-series storage of readings. This base part runs on every server; then, in the same
-- transaction, store/migrate.py runs 0002_timeseries.timescaledb.sql when the TimescaleDB
-- extension can be enabled, else 0002_timeseries.native.sql. Both give the same names to the
-- query layer: readings, readings_daily, readings_ensure_months(), store_backend.

-- Which path this database took (one row; written by the variant file).
CREATE TABLE store_backend (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    timeseries  text NOT NULL CHECK (timeseries IN ('timescaledb', 'native')),
    detail      text NOT NULL,
    chosen_at   timestamptz NOT NULL DEFAULT now()
);

-- Idempotency key of readings, deliberately NOT partitioned.
-- A partitioned table (native range partitions or a hypertable) can only have unique indexes
-- that contain the partitioning column, measured_at. But the same device record can arrive twice
-- with different measured_at values (the gateway corrects the device clock with the offset seen
-- at each sync), so UNIQUE (id, measured_at) would store it twice. The reading id (UUIDv5 of
-- serial, sequence number, device time) is the stable key; this narrow table holds it once.
-- The ingest merge inserts here first (ON CONFLICT DO NOTHING) and inserts into readings only
-- the ids this statement claimed: one statement, one transaction. measured_at records where
-- the stored row lives, so a lookup by id can be pruned to one partition.
CREATE TABLE reading_keys (
    id           uuid PRIMARY KEY,
    measured_at  timestamptz NOT NULL
);

-- One row per device record, id = UUIDv5(serial, sequence, device time); no unique index here
-- (see reading_keys). The variant turns this table into a hypertable or a partitioned table.
CREATE TABLE readings (
    id              uuid NOT NULL,
    -- NULL: device not bound at measured_at. No foreign key on purpose: the merge copies it from
    -- device_bindings.patient_id (which has one, and which blocks deleting a patient with bindings),
    -- and the per-row RI check cost a quarter of PostgreSQL's CPU per ingested reading (measured).
    patient_id      bigint,
    device_serial   text NOT NULL,
    gateway_id      text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('glucose', 'blood_pressure')),
    measured_at     timestamptz NOT NULL,
    device_time     timestamp NOT NULL,
    received_at     timestamptz NOT NULL,
    ingested_at     timestamptz NOT NULL DEFAULT now(),
    sequence_number integer,
    glucose_mg_dl   double precision,
    systolic_mmhg   double precision,
    diastolic_mmhg  double precision,
    map_mmhg        double precision,
    pulse_bpm       double precision,
    status          text[] NOT NULL DEFAULT '{}',
    context         jsonb NOT NULL DEFAULT '{}'
);
