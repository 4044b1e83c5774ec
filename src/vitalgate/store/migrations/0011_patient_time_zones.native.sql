-- Native path: readings_daily by the patient's LOCAL day (a date), as each reading saw it.
-- The trigger looks up the zone spans of the batch's patients once each (index probes), and a
-- change of zone history re-aggregates that patient's days from the change on (a statement
-- trigger on patient_zone_history), so backdated moves are reflected too.

DROP TRIGGER readings_daily_rollup ON readings;
DROP FUNCTION readings_daily_add();
DROP TABLE readings_daily;

CREATE TABLE readings_daily (
    patient_id      bigint NOT NULL,
    kind            text NOT NULL,
    day             date NOT NULL,            -- the patient's local date
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
    PRIMARY KEY (patient_id, kind, day)
);

CREATE FUNCTION readings_daily_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO readings_daily AS d
    SELECT r.patient_id, r.kind, (r.measured_at AT TIME ZONE s.time_zone)::date AS day,
           count(*), count(glucose_mg_dl), sum(glucose_mg_dl), sum(glucose_mg_dl * glucose_mg_dl),
           min(glucose_mg_dl), max(glucose_mg_dl),
           sum(systolic_mmhg), min(systolic_mmhg), max(systolic_mmhg),
           sum(diastolic_mmhg), min(diastolic_mmhg), max(diastolic_mmhg),
           count(pulse_bpm), sum(pulse_bpm)
    FROM new_rows r
    JOIN (SELECT p.patient_id, z.time_zone, z.valid_from, z.valid_to
          FROM (SELECT DISTINCT patient_id FROM new_rows WHERE patient_id IS NOT NULL) p
          CROSS JOIN LATERAL patient_zone_spans_of(p.patient_id) z) s
      ON s.patient_id = r.patient_id AND r.measured_at >= s.valid_from AND r.measured_at < s.valid_to
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (patient_id, kind, day) DO UPDATE SET
        n = d.n + EXCLUDED.n,
        glucose_n = d.glucose_n + EXCLUDED.glucose_n,
        glucose_sum = coalesce(d.glucose_sum, 0) + coalesce(EXCLUDED.glucose_sum, 0),
        glucose_sumsq = coalesce(d.glucose_sumsq, 0) + coalesce(EXCLUDED.glucose_sumsq, 0),
        glucose_min = LEAST(d.glucose_min, EXCLUDED.glucose_min),
        glucose_max = GREATEST(d.glucose_max, EXCLUDED.glucose_max),
        systolic_sum = coalesce(d.systolic_sum, 0) + coalesce(EXCLUDED.systolic_sum, 0),
        systolic_min = LEAST(d.systolic_min, EXCLUDED.systolic_min),
        systolic_max = GREATEST(d.systolic_max, EXCLUDED.systolic_max),
        diastolic_sum = coalesce(d.diastolic_sum, 0) + coalesce(EXCLUDED.diastolic_sum, 0),
        diastolic_min = LEAST(d.diastolic_min, EXCLUDED.diastolic_min),
        diastolic_max = GREATEST(d.diastolic_max, EXCLUDED.diastolic_max),
        pulse_n = d.pulse_n + EXCLUDED.pulse_n,
        pulse_sum = coalesce(d.pulse_sum, 0) + coalesce(EXCLUDED.pulse_sum, 0);
    RETURN NULL;
END
$$;

CREATE TRIGGER readings_daily_rollup AFTER INSERT ON readings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION readings_daily_add();

-- Re-aggregate one patient's local days from an instant on (NULL / -infinity: all of them).
-- Zones are within UTC-12..+14, so the local date of `p_from` is at most a day from its UTC date.
CREATE FUNCTION readings_daily_rebuild(p_patient bigint, p_from timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    first_day date := CASE WHEN p_from IS NULL OR NOT isfinite(p_from) THEN NULL
                           ELSE (p_from AT TIME ZONE 'UTC')::date - 1 END;
BEGIN
    DELETE FROM readings_daily WHERE patient_id = p_patient AND (first_day IS NULL OR day >= first_day);
    INSERT INTO readings_daily
    SELECT r.patient_id, r.kind, (r.measured_at AT TIME ZONE s.time_zone)::date AS day,
           count(*), count(glucose_mg_dl), sum(glucose_mg_dl), sum(glucose_mg_dl * glucose_mg_dl),
           min(glucose_mg_dl), max(glucose_mg_dl),
           sum(systolic_mmhg), min(systolic_mmhg), max(systolic_mmhg),
           sum(diastolic_mmhg), min(diastolic_mmhg), max(diastolic_mmhg),
           count(pulse_bpm), sum(pulse_bpm)
    FROM readings r
    JOIN patient_zone_spans_of(p_patient) s ON r.measured_at >= s.valid_from AND r.measured_at < s.valid_to
    WHERE r.patient_id = p_patient
      AND (first_day IS NULL OR r.measured_at >= (first_day - 1)::timestamp AT TIME ZONE 'UTC')
      AND (first_day IS NULL OR (r.measured_at AT TIME ZONE s.time_zone)::date >= first_day)
    GROUP BY 1, 2, 3;
END
$$;

CREATE FUNCTION readings_daily_zone_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT patient_id, min(valid_from) AS since FROM changed GROUP BY patient_id ORDER BY patient_id LOOP
        PERFORM readings_daily_rebuild(c.patient_id, c.since);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER patient_zone_history_rollup_ins AFTER INSERT ON patient_zone_history
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION readings_daily_zone_changed();
CREATE TRIGGER patient_zone_history_rollup_upd AFTER UPDATE ON patient_zone_history
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION readings_daily_zone_changed();
CREATE TRIGGER patient_zone_history_rollup_del AFTER DELETE ON patient_zone_history
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION readings_daily_zone_changed();

-- Rows of existing readings: re-aggregate every patient's days in their (so far UTC) zone.
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

UPDATE store_backend SET detail = 'monthly range partitions on measured_at, BRIN, readings_daily by local day maintained by trigger';
