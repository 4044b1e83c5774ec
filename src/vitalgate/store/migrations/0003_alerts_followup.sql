-- Alerts and follow-up: rule overrides, episode lifecycle, escalation, SOP chains, touchpoints.
-- 0001 is shared with other engineers, so this migration only adds to it.

-- Who acknowledged / resolved an episode (NULL actor = the engine, when the condition cleared).
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS acknowledged_at timestamptz;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS acknowledged_by text;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS resolved_by text;
CREATE INDEX IF NOT EXISTS alerts_open_rule_idx ON alerts (patient_id, rule_id) WHERE status <> 'resolved';

-- Per-patient and per-segment (tag expression) rule overrides: params are merged over the
-- shipped rule and validated by the same pydantic model before use.
CREATE TABLE alert_rule_overrides (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id     text NOT NULL,
    patient_id  bigint REFERENCES patients(id) ON DELETE CASCADE,
    segment     text,
    priority    integer NOT NULL DEFAULT 0,   -- segment overrides apply in ascending priority
    enabled     boolean NOT NULL DEFAULT true,
    params      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((patient_id IS NULL) <> (segment IS NULL))
);
CREATE UNIQUE INDEX alert_rule_overrides_patient_idx ON alert_rule_overrides (rule_id, patient_id) WHERE patient_id IS NOT NULL;
CREATE UNIQUE INDEX alert_rule_overrides_segment_idx ON alert_rule_overrides (rule_id, segment) WHERE segment IS NOT NULL;

-- Tasks: kind (alert-driven or SOP), escalation chain and the patient's answer.
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'alert';
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS escalation_chain text;
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS escalation_step integer;
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS acknowledged_at timestamptz;
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS patient_responded_at timestamptz;

-- SOP chain instances (e.g. reminders around one follow-up visit).
CREATE TABLE sop_instances (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id    bigint NOT NULL REFERENCES patients(id),
    chain_id      text NOT NULL,
    anchor_at     timestamptz NOT NULL,           -- the visit time the offsets refer to
    status        text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'confirmed', 'cancelled', 'completed')),
    task_id       bigint REFERENCES tasks(id),
    created_at    timestamptz NOT NULL,
    confirmed_at  timestamptz,
    UNIQUE (patient_id, chain_id, anchor_at)
);

-- Every scheduled touchpoint (escalation step or SOP step), fired at most once: the firing
-- transaction locks the row (FOR UPDATE SKIP LOCKED), records the delivery and sets fired_at.
CREATE TABLE touchpoints (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id            bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    sop_instance_id    bigint REFERENCES sop_instances(id) ON DELETE CASCADE,
    step_index         integer NOT NULL,
    step_name          text NOT NULL,
    channel            text NOT NULL CHECK (channel IN ('message', 'questionnaire', 'voice', 'phone', 'doctor', 'coordinator')),
    template           text NOT NULL,
    due_at             timestamptz NOT NULL,
    cancel_on_confirm  boolean NOT NULL DEFAULT false,
    fired_at           timestamptz,
    cancelled_at       timestamptz,
    cancel_reason      text,
    UNIQUE (task_id, step_index)
);
CREATE INDEX touchpoints_due_idx ON touchpoints (due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL;
