-- TimescaleDB path: a continuous aggregate cannot look up each patient's zone (per-row zones
-- and joins with a history are not allowed in one), so the real-time continuous aggregate keeps
-- 15-minute UTC buckets — every zone in use today is offset from UTC by a multiple of 15 minutes
-- (Asia/Kathmandu +05:45, Pacific/Chatham +12:45) — and readings_daily becomes a view that adds
-- those buckets up by the patient's local date, in the zone valid at each bucket. A zone change
-- (even backdated) is therefore reflected at once, with nothing to re-materialise.

SELECT remove_continuous_aggregate_policy('readings_daily', if_exists => true);
DROP MATERIALIZED VIEW readings_daily;

CREATE MATERIALIZED VIEW readings_quarter_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT patient_id, kind, time_bucket(INTERVAL '15 minutes', measured_at) AS bucket,
       count(*) AS n, count(glucose_mg_dl) AS glucose_n, sum(glucose_mg_dl) AS glucose_sum,
       sum(glucose_mg_dl * glucose_mg_dl) AS glucose_sumsq, min(glucose_mg_dl) AS glucose_min,
       max(glucose_mg_dl) AS glucose_max,
       sum(systolic_mmhg) AS systolic_sum, min(systolic_mmhg) AS systolic_min, max(systolic_mmhg) AS systolic_max,
       sum(diastolic_mmhg) AS diastolic_sum, min(diastolic_mmhg) AS diastolic_min, max(diastolic_mmhg) AS diastolic_max,
       count(pulse_bpm) AS pulse_n, sum(pulse_bpm) AS pulse_sum
FROM readings
WHERE patient_id IS NOT NULL
GROUP BY patient_id, kind, time_bucket(INTERVAL '15 minutes', measured_at)
WITH NO DATA;

-- As before: re-materialise the last 90 days hourly (hubs re-sync late), newer is computed on the fly.
SELECT add_continuous_aggregate_policy('readings_quarter_hourly',
    start_offset => INTERVAL '90 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour');

CREATE VIEW readings_daily AS
SELECT q.patient_id, q.kind, (q.bucket AT TIME ZONE s.time_zone)::date AS day,
       sum(q.n)::bigint AS n, sum(q.glucose_n)::bigint AS glucose_n, sum(q.glucose_sum) AS glucose_sum,
       sum(q.glucose_sumsq) AS glucose_sumsq, min(q.glucose_min) AS glucose_min, max(q.glucose_max) AS glucose_max,
       sum(q.systolic_sum) AS systolic_sum, min(q.systolic_min) AS systolic_min, max(q.systolic_max) AS systolic_max,
       sum(q.diastolic_sum) AS diastolic_sum, min(q.diastolic_min) AS diastolic_min,
       max(q.diastolic_max) AS diastolic_max, sum(q.pulse_n)::bigint AS pulse_n, sum(q.pulse_sum) AS pulse_sum
FROM readings_quarter_hourly q
JOIN patient_zone_spans s ON s.patient_id = q.patient_id AND q.bucket >= s.valid_from AND q.bucket < s.valid_to
GROUP BY q.patient_id, q.kind, (q.bucket AT TIME ZONE s.time_zone)::date;

-- Kept so both paths have the same function; the view needs no rebuild.
CREATE FUNCTION readings_daily_rebuild(p_patient bigint, p_from timestamptz) RETURNS void
LANGUAGE sql AS $$ SELECT $$;

UPDATE store_backend SET detail = 'hypertable with 7-day chunks, compression after 30 days, continuous aggregate readings_quarter_hourly, readings_daily by local day (view)';
