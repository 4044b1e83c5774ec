-- Care programs, second part (issue 17 items 4-8): content sent to patients, quality control of
-- the follow-up work, and the per-patient local-day rollup the program dashboard reads.

-- Education items sent to a patient (the library itself is TOML: vitalgate/programs/content/).
-- An item is sent to a patient at most once, whatever chose it (a module or tag matching).
CREATE TABLE content_sends (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id     bigint NOT NULL REFERENCES patients(id),
    item_key       text NOT NULL,
    language       text NOT NULL CHECK (language IN ('zh-Hans', 'en')),
    program_id     text,
    chosen_by      text NOT NULL,           -- 'module:<program>:w<week>' or 'match:<tags>'
    scheduled_for  timestamptz NOT NULL,
    delivery_id    bigint,                  -- the delivery ledger's row once enqueued
    sent_at        timestamptz,
    opened_at      timestamptz,
    UNIQUE (patient_id, item_key)
);
CREATE INDEX content_sends_due_idx ON content_sends (scheduled_for) WHERE sent_at IS NULL;

-- Quality control: each week a random share of closed tasks and of calls (outcome events) is
-- drawn for review. The draw is recorded with its seed and share, so it can be re-derived.
CREATE TABLE qc_samples (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    week_start     date NOT NULL,
    subject        text NOT NULL CHECK (subject IN ('task', 'call')),
    task_id        bigint NOT NULL REFERENCES tasks(id),
    task_event_id  bigint REFERENCES task_events(id),
    staff          text NOT NULL,            -- the username who closed the task / made the call
    care_team_id   bigint NOT NULL REFERENCES care_teams(id),
    share          double precision NOT NULL CHECK (share > 0 AND share <= 1),
    seed           bigint NOT NULL,
    sampled_at     timestamptz NOT NULL,
    CHECK ((subject = 'call') = (task_event_id IS NOT NULL)),
    UNIQUE (subject, task_id, task_event_id)
);
CREATE UNIQUE INDEX qc_samples_task_once_idx ON qc_samples (task_id) WHERE subject = 'task';
CREATE INDEX qc_samples_queue_idx ON qc_samples (care_team_id, week_start);
CREATE INDEX qc_samples_staff_idx ON qc_samples (staff, week_start);

-- One review per sample: the checklist, a score (share of checklist items met, 0-100) and feedback
-- the reviewed staff member reads on their own QC page.
CREATE TABLE qc_reviews (
    sample_id          bigint PRIMARY KEY REFERENCES qc_samples(id),
    reviewer           text NOT NULL,
    reviewed_at        timestamptz NOT NULL,
    script_used        boolean NOT NULL,
    outcome_documented boolean NOT NULL,
    sla_met            boolean NOT NULL,
    patient_reached    boolean NOT NULL,
    score              double precision NOT NULL CHECK (score BETWEEN 0 AND 100),
    feedback           text NOT NULL DEFAULT ''
);

-- Readings of program patients per patient-local calendar day (the zone valid when measured):
-- reading days, time in range (70-180 mg/dL) and home systolic for the KPIs. A materialized
-- view, refreshed CONCURRENTLY by `vitalgate program refresh` (hourly timer, and before a
-- report); program_kpi_refreshes says how fresh the dashboard's numbers are.
CREATE MATERIALIZED VIEW program_reading_days AS
-- The zone spans are spelled out (patient_zone_spans_of's logic) instead of calling the function:
-- PostgreSQL 17 refreshes materialized views with a safe search_path, where the function's
-- unqualified table names do not resolve.
WITH enrolled AS (
    SELECT DISTINCT patient_id FROM program_enrolment_events
), spans AS (
    SELECT h.patient_id, h.time_zone,
           CASE WHEN lag(h.valid_from) OVER w IS NULL THEN '-infinity'::timestamptz ELSE h.valid_from END AS valid_from,
           coalesce(lead(h.valid_from) OVER w, 'infinity'::timestamptz) AS valid_to
    FROM patient_zone_history h JOIN enrolled e ON e.patient_id = h.patient_id
    WINDOW w AS (PARTITION BY h.patient_id ORDER BY h.valid_from)
    UNION ALL
    SELECT p.id, coalesce(p.time_zone, t.time_zone), '-infinity'::timestamptz, 'infinity'::timestamptz
    FROM patients p JOIN care_teams t ON t.id = p.care_team_id JOIN enrolled e ON e.patient_id = p.id
    WHERE NOT EXISTS (SELECT 1 FROM patient_zone_history h WHERE h.patient_id = p.id)
)
SELECT r.patient_id,
       (r.measured_at AT TIME ZONE s.time_zone)::date AS local_day,
       count(*)::int AS n,
       count(r.glucose_mg_dl)::int AS glucose_n,
       count(*) FILTER (WHERE r.glucose_mg_dl BETWEEN 70 AND 180)::int AS glucose_in_range_n,
       count(r.systolic_mmhg)::int AS systolic_n,
       sum(r.systolic_mmhg) AS systolic_sum
FROM readings r
JOIN spans s ON s.patient_id = r.patient_id AND r.measured_at >= s.valid_from AND r.measured_at < s.valid_to
GROUP BY 1, 2
WITH DATA;
CREATE UNIQUE INDEX program_reading_days_key ON program_reading_days (patient_id, local_day);

CREATE TABLE program_kpi_refreshes (
    view_name     text PRIMARY KEY,
    refreshed_at  timestamptz NOT NULL,
    took_ms       double precision NOT NULL
);
