-- Worklist at program scale (issue 18): the active worklist is read in severity-then-due order,
-- filtered by team, and paged by keyset on (severity rank, due_at, id); recently closed tasks are
-- read newest first. Both orders get an index so a page is an index range, not a sort of 5,000 rows.
CREATE OR REPLACE FUNCTION vg_severity_rank(severity text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE severity WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END $$;

CREATE INDEX IF NOT EXISTS tasks_active_order_idx
    ON tasks (care_team_id, vg_severity_rank(severity), due_at, id)
    WHERE status IN ('open', 'in_progress');
CREATE INDEX IF NOT EXISTS tasks_closed_recent_idx
    ON tasks (care_team_id, closed_at DESC, id DESC)
    WHERE closed_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_patient_idx ON tasks (patient_id, created_at DESC);

-- The hub's retained status (contract GatewayStatus) as last seen by the server, so a data-gap
-- task can say why data stopped: hub offline, or readings waiting in the hub's outbox.
ALTER TABLE gateways ADD COLUMN IF NOT EXISTS backlog integer;
ALTER TABLE gateways ADD COLUMN IF NOT EXISTS last_publish_at timestamptz;
