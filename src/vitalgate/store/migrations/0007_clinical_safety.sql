-- Clinical safety (issue 12): episodes added to an existing task, per-patient monitoring status.

-- An episode handled in a task opened for another episode: a repeat of a non-urgent event while
-- its task is still open, or a lower/higher severity event of the same rule group (level 1 and
-- level 2 hypoglycemia). Closing the task resolves these too. NULL: the task's own episode
-- (tasks.alert_id) or no task.
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS task_id bigint REFERENCES tasks(id);
CREATE INDEX IF NOT EXISTS alerts_task_idx ON alerts (task_id) WHERE task_id IS NOT NULL;

-- Why an episode closed when neither the condition nor a person closed it (e.g. "last device
-- unbound", "patient discharged").
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS resolution_reason text;

-- Monitoring status per patient with history: the row with the latest valid_from <= t holds at t;
-- no row = active. Missing-data and adherence rules run only for patients active now with a bound
-- device; a paused or discharged patient's silence is expected, not a finding.
CREATE TABLE patient_monitoring (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id  bigint NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    status      text NOT NULL CHECK (status IN ('active', 'paused', 'discharged')),
    valid_from  timestamptz NOT NULL,
    reason      text,
    set_by      text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patient_monitoring_patient_idx ON patient_monitoring (patient_id, valid_from DESC, id DESC);
