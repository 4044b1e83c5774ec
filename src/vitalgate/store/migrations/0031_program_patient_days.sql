-- Per program patient and UTC day: patient touchpoints fired (and of those, answered after they
-- fired), alerts opened and tasks created. The KPI totals and the monthly touchpoint trend sum these
-- days for a period of whole UTC days (the dashboard's and the CLI's) instead of joining a year of
-- touchpoints to tasks (3-4 s at 10,000 patients). Refreshed CONCURRENTLY together with
-- program_reading_days (`vitalgate program refresh`, hourly, and before `vitalgate program report`),
-- so these counts are as fresh as the readings; a period not on UTC midnights is counted live.
CREATE MATERIALIZED VIEW program_patient_days AS
WITH enrolled AS (
    SELECT DISTINCT patient_id FROM program_enrolment_events
), facts AS (
    SELECT t.patient_id, (tp.fired_at AT TIME ZONE 'UTC')::date AS day, 1 AS sent,
           CASE WHEN t.patient_responded_at >= tp.fired_at THEN 1 ELSE 0 END AS answered, 0 AS alerts, 0 AS tasks
    FROM touchpoints tp JOIN tasks t ON t.id = tp.task_id JOIN enrolled e ON e.patient_id = t.patient_id
    WHERE tp.fired_at IS NOT NULL AND tp.channel IN ('message', 'questionnaire', 'voice')
    UNION ALL
    SELECT a.patient_id, (a.opened_at AT TIME ZONE 'UTC')::date, 0, 0, 1, 0
    FROM alerts a JOIN enrolled e ON e.patient_id = a.patient_id
    UNION ALL
    SELECT t.patient_id, (t.created_at AT TIME ZONE 'UTC')::date, 0, 0, 0, 1
    FROM tasks t JOIN enrolled e ON e.patient_id = t.patient_id
)
SELECT patient_id, day, sum(sent)::int AS sent, sum(answered)::int AS answered, sum(alerts)::int AS alerts,
       sum(tasks)::int AS tasks
FROM facts GROUP BY 1, 2
WITH DATA;
CREATE UNIQUE INDEX program_patient_days_key ON program_patient_days (patient_id, day);
CREATE INDEX program_patient_days_cover_idx ON program_patient_days (patient_id, day)
    INCLUDE (sent, answered, alerts, tasks);
