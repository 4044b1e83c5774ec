-- Native path: readings_quarter_hourly as a table, incremented by a statement trigger on every
-- insert into readings (the ingest merge), as readings_daily is. UTC buckets: no zone lookup.
CREATE TABLE readings_quarter_hourly (
    patient_id      bigint NOT NULL,
    kind            text NOT NULL,
    bucket          timestamptz NOT NULL,
    n               bigint NOT NULL,
    glucose_n       bigint NOT NULL,
    glucose_sum     double precision,
    glucose_sumsq   double precision,
    glucose_min     double precision,
    glucose_max     double precision,
    systolic_sum    double precision,
    systolic_min    double precision,
    systolic_max    double precision,
    diastolic_sum   double precision,
    diastolic_min   double precision,
    diastolic_max   double precision,
    pulse_n         bigint NOT NULL,
    pulse_sum       double precision,
    PRIMARY KEY (patient_id, kind, bucket)
);

-- ORDER BY keeps row-lock order identical across concurrent ingest processes (no deadlock).
CREATE FUNCTION readings_quarter_hourly_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO readings_quarter_hourly AS q
    SELECT patient_id, kind, date_bin(interval '15 minutes', measured_at, timestamptz '2000-01-03 00:00+00'),
           count(*), count(glucose_mg_dl), sum(glucose_mg_dl), sum(glucose_mg_dl * glucose_mg_dl),
           min(glucose_mg_dl), max(glucose_mg_dl),
           sum(systolic_mmhg), min(systolic_mmhg), max(systolic_mmhg),
           sum(diastolic_mmhg), min(diastolic_mmhg), max(diastolic_mmhg),
           count(pulse_bpm), sum(pulse_bpm)
    FROM new_rows
    WHERE patient_id IS NOT NULL
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (patient_id, kind, bucket) DO UPDATE SET
        n = q.n + EXCLUDED.n,
        glucose_n = q.glucose_n + EXCLUDED.glucose_n,
        glucose_sum = coalesce(q.glucose_sum, 0) + coalesce(EXCLUDED.glucose_sum, 0),
        glucose_sumsq = coalesce(q.glucose_sumsq, 0) + coalesce(EXCLUDED.glucose_sumsq, 0),
        glucose_min = LEAST(q.glucose_min, EXCLUDED.glucose_min),
        glucose_max = GREATEST(q.glucose_max, EXCLUDED.glucose_max),
        systolic_sum = coalesce(q.systolic_sum, 0) + coalesce(EXCLUDED.systolic_sum, 0),
        systolic_min = LEAST(q.systolic_min, EXCLUDED.systolic_min),
        systolic_max = GREATEST(q.systolic_max, EXCLUDED.systolic_max),
        diastolic_sum = coalesce(q.diastolic_sum, 0) + coalesce(EXCLUDED.diastolic_sum, 0),
        diastolic_min = LEAST(q.diastolic_min, EXCLUDED.diastolic_min),
        diastolic_max = GREATEST(q.diastolic_max, EXCLUDED.diastolic_max),
        pulse_n = q.pulse_n + EXCLUDED.pulse_n,
        pulse_sum = coalesce(q.pulse_sum, 0) + coalesce(EXCLUDED.pulse_sum, 0);
    RETURN NULL;
END
$$;

CREATE TRIGGER readings_quarter_hourly_rollup AFTER INSERT ON readings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION readings_quarter_hourly_add();

-- Existing readings.
INSERT INTO readings_quarter_hourly
SELECT patient_id, kind, date_bin(interval '15 minutes', measured_at, timestamptz '2000-01-03 00:00+00'),
       count(*), count(glucose_mg_dl), sum(glucose_mg_dl), sum(glucose_mg_dl * glucose_mg_dl),
       min(glucose_mg_dl), max(glucose_mg_dl),
       sum(systolic_mmhg), min(systolic_mmhg), max(systolic_mmhg),
       sum(diastolic_mmhg), min(diastolic_mmhg), max(diastolic_mmhg),
       count(pulse_bpm), sum(pulse_bpm)
FROM readings
WHERE patient_id IS NOT NULL
GROUP BY 1, 2, 3;

-- Re-aggregate one patient's buckets from an instant on.
CREATE FUNCTION readings_quarter_hourly_rebuild(p_patient bigint, p_from timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    first_bucket timestamptz := date_bin(interval '15 minutes', p_from, timestamptz '2000-01-03 00:00+00');
BEGIN
    DELETE FROM readings_quarter_hourly WHERE patient_id = p_patient AND bucket >= first_bucket;
    INSERT INTO readings_quarter_hourly
    SELECT patient_id, kind, date_bin(interval '15 minutes', measured_at, timestamptz '2000-01-03 00:00+00'),
           count(*), count(glucose_mg_dl), sum(glucose_mg_dl), sum(glucose_mg_dl * glucose_mg_dl),
           min(glucose_mg_dl), max(glucose_mg_dl),
           sum(systolic_mmhg), min(systolic_mmhg), max(systolic_mmhg),
           sum(diastolic_mmhg), min(diastolic_mmhg), max(diastolic_mmhg),
           count(pulse_bpm), sum(pulse_bpm)
    FROM readings
    WHERE patient_id = p_patient AND measured_at >= first_bucket
    GROUP BY 1, 2, 3;
END
$$;

-- Readings stored before their device was paired are filed to the patient by an UPDATE
-- (store/bindings.py), which the insert triggers never saw: re-aggregate both rollups of every
-- patient the statement touched, from its earliest reading on (rare, and one patient at a time).
CREATE FUNCTION readings_rollups_refiled() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT patient_id, min(measured_at) AS since
             FROM (SELECT patient_id, measured_at FROM old_rows UNION ALL SELECT patient_id, measured_at FROM new_rows) x
             WHERE patient_id IS NOT NULL GROUP BY patient_id ORDER BY patient_id LOOP
        PERFORM readings_daily_rebuild(c.patient_id, c.since);
        PERFORM readings_quarter_hourly_rebuild(c.patient_id, c.since);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER readings_rollups_update AFTER UPDATE ON readings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION readings_rollups_refiled();

-- Existing daily rows missed readings filed that way before this migration: recount them all.
DELETE FROM readings_daily;
INSERT INTO readings_daily
SELECT r.patient_id, r.kind, (r.measured_at AT TIME ZONE s.time_zone)::date AS day,
       count(*), count(glucose_mg_dl), sum(glucose_mg_dl), sum(glucose_mg_dl * glucose_mg_dl),
       min(glucose_mg_dl), max(glucose_mg_dl),
       sum(systolic_mmhg), min(systolic_mmhg), max(systolic_mmhg),
       sum(diastolic_mmhg), min(diastolic_mmhg), max(diastolic_mmhg),
       count(pulse_bpm), sum(pulse_bpm)
FROM readings r
JOIN patient_zone_spans s ON s.patient_id = r.patient_id AND r.measured_at >= s.valid_from AND r.measured_at < s.valid_to
GROUP BY 1, 2, 3;

UPDATE store_backend SET detail = detail || ', readings_quarter_hourly maintained by trigger';
