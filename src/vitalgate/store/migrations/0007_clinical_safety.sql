-- Clinical safety (issue 12): episodes added to an existing task, per-patient monitoring status.

-- An episode handled in a task opened for another episode: a repeat of a non-urgent event while
-- its task is still open, or a lower/higher severity event of the same rule group (level 1 and
-- level 2 hypoglycemia). Closing the task resolves these too. NULL: the task's own episode
-- (tasks.alert_id) or no task.
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS task_id bigint REFERENCES tasks(id);
CREATE INDEX IF NOT EXISTS alerts_task_idx ON alerts (task_id) WHERE task_id IS NOT NULL;
