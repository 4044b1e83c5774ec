-- TimescaleDB path: readings as a hypertable (7-day chunks), compressed after 30 days, and
-- readings_daily as a real-time continuous aggregate (same columns as the native rollup table).

CREATE EXTENSION IF NOT EXISTS timescaledb;

SELECT create_hypertable('readings', by_range('measured_at', INTERVAL '7 days'));

-- Lookups by id (alert evaluation of a just-stored batch); per chunk.
CREATE INDEX readings_id_idx ON readings (id);
CREATE INDEX readings_patient_time_idx ON readings (patient_id, measured_at DESC);
CREATE INDEX readings_unbound_idx ON readings (device_serial) WHERE patient_id IS NULL;

-- Charts read one patient at a time: segment compressed chunks by patient, newest first.
-- Late re-synced readings still insert into compressed chunks (TimescaleDB >= 2.11), and
-- de-duplication never needs a unique index here (reading_keys holds it).
ALTER TABLE readings SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'patient_id',
    timescaledb.compress_orderby = 'measured_at DESC'
);
SELECT add_compression_policy('readings', INTERVAL '30 days');

-- Chunks appear on demand: nothing to prepare. Kept so writers call one function on both paths.
CREATE FUNCTION readings_ensure_months(months timestamptz[]) RETURNS integer
LANGUAGE sql AS $$ SELECT 0 $$;

-- time_bucket('1 day') buckets are UTC days, as date_bin's on the native path.
CREATE MATERIALIZED VIEW readings_daily
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT patient_id, kind, time_bucket(INTERVAL '1 day', measured_at) AS day,
       count(*) AS n, count(glucose_mg_dl) AS glucose_n, sum(glucose_mg_dl) AS glucose_sum,
       sum(glucose_mg_dl * glucose_mg_dl) AS glucose_sumsq, min(glucose_mg_dl) AS glucose_min,
       max(glucose_mg_dl) AS glucose_max,
       sum(systolic_mmhg) AS systolic_sum, min(systolic_mmhg) AS systolic_min, max(systolic_mmhg) AS systolic_max,
       sum(diastolic_mmhg) AS diastolic_sum, min(diastolic_mmhg) AS diastolic_min, max(diastolic_mmhg) AS diastolic_max,
       count(pulse_bpm) AS pulse_n, sum(pulse_bpm) AS pulse_sum
FROM readings
WHERE patient_id IS NOT NULL
GROUP BY patient_id, kind, time_bucket(INTERVAL '1 day', measured_at)
WITH NO DATA;

-- Re-materialise the last 90 days hourly: hubs re-sync after outages of days to weeks; newer
-- than the last refresh is computed on the fly (materialized_only = false).
SELECT add_continuous_aggregate_policy('readings_daily',
    start_offset => INTERVAL '90 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour');

INSERT INTO store_backend (timeseries, detail)
VALUES ('timescaledb', 'hypertable with 7-day chunks, compression after 30 days, continuous aggregate readings_daily');
