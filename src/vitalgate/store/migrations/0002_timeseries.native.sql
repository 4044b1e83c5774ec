-- Native PostgreSQL path: monthly range partitions on measured_at (UTC months), BRIN on time,
-- and readings_daily kept up to date by a statement trigger on every insert (the ingest merge).

-- Recreate the base definition as a partitioned table (one column list to maintain, in 0002_timeseries.sql).
ALTER TABLE readings RENAME TO readings_definition;
CREATE TABLE readings (LIKE readings_definition INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (measured_at);
DROP TABLE readings_definition;

-- Lookups by id (alert evaluation of a just-stored batch); local per partition.
CREATE INDEX readings_id_idx ON readings (id);
CREATE INDEX readings_patient_time_idx ON readings (patient_id, measured_at DESC);
CREATE INDEX readings_unbound_idx ON readings (device_serial) WHERE patient_id IS NULL;
-- Readings arrive roughly in time order, so a BRIN range index is tiny and prunes well.
CREATE INDEX readings_time_brin ON readings USING brin (measured_at);

-- Partitions are per UTC month; no DEFAULT partition, because a default partition holding rows of
-- a month would make creating that month's partition later fail. Instead every writer calls this
-- for the months in its batch first (cheap when they exist: one to_regclass per month).
CREATE FUNCTION readings_ensure_months(months timestamptz[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    m        timestamptz;
    lo       timestamp;
    part     text;
    created  integer := 0;
BEGIN
    FOREACH m IN ARRAY coalesce(months, '{}') LOOP
        lo := date_trunc('month', m AT TIME ZONE 'UTC');
        part := 'readings_' || to_char(lo, 'YYYY_MM');
        CONTINUE WHEN to_regclass(part) IS NOT NULL;
        -- Two ingest processes may need the same new month at once: serialise, then re-check.
        PERFORM pg_advisory_xact_lock(hashtext('vitalgate.readings_partitions'));
        CONTINUE WHEN to_regclass(part) IS NOT NULL;
        EXECUTE format('CREATE TABLE %I PARTITION OF readings FOR VALUES FROM (%L) TO (%L)',
                       part, lo AT TIME ZONE 'UTC', (lo + interval '1 month') AT TIME ZONE 'UTC');
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;

-- Ahead of time: the past year (re-synced hubs) and the next three months.
SELECT readings_ensure_months(ARRAY(
    SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => k)) AT TIME ZONE 'UTC'
    FROM generate_series(-12, 3) AS k
));

-- Daily per-patient statistics (UTC days), same columns as the TimescaleDB continuous aggregate.
-- Sums, not means, so that increments add up; the query layer divides.
CREATE TABLE readings_daily (
    patient_id      bigint NOT NULL,
    kind            text NOT NULL,
    day             timestamptz NOT NULL,
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

-- Incremental maintenance: fires once per INSERT statement (the ingest merge) over the rows it
-- added. ORDER BY keeps row-lock order identical across concurrent ingest processes (no deadlock).
-- LEAST/GREATEST ignore NULLs; sums of a kind's absent values stay NULL.
CREATE FUNCTION readings_daily_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO readings_daily AS d
    SELECT patient_id, kind, date_bin(interval '1 day', measured_at, timestamptz '2000-01-03 00:00+00') AS day,
           count(*), count(glucose_mg_dl), sum(glucose_mg_dl), sum(glucose_mg_dl * glucose_mg_dl),
           min(glucose_mg_dl), max(glucose_mg_dl),
           sum(systolic_mmhg), min(systolic_mmhg), max(systolic_mmhg),
           sum(diastolic_mmhg), min(diastolic_mmhg), max(diastolic_mmhg),
           count(pulse_bpm), sum(pulse_bpm)
    FROM new_rows
    WHERE patient_id IS NOT NULL
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

INSERT INTO store_backend (timeseries, detail)
VALUES ('native', 'monthly range partitions on measured_at, BRIN, readings_daily maintained by trigger');
