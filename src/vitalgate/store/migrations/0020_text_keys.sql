-- Task titles and alert summaries as msgid + parameters (issue 14 item 5): pages translate them
-- and show glucose parameters ({"mg_dl": v}) in the viewer's unit. The plain columns keep the
-- English text (API clients, exports, older rows, which pages read by parsing their mg/dL values).
ALTER TABLE tasks
    ADD COLUMN IF NOT EXISTS title_key text,
    ADD COLUMN IF NOT EXISTS title_params jsonb;
ALTER TABLE alerts
    ADD COLUMN IF NOT EXISTS summary_key text,
    ADD COLUMN IF NOT EXISTS summary_params jsonb;
