-- Core schema: people, devices, readings, alerts, tasks, audit.
-- Patient names live only here (never in topics or logs); everything else refers to ids.

CREATE TABLE care_teams (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       text NOT NULL UNIQUE,
    display_name   text NOT NULL,
    role           text NOT NULL CHECK (role IN ('patient', 'coordinator', 'nurse', 'doctor', 'admin')),
    password_hash  text,
    on_duty        boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE care_team_members (
    care_team_id  bigint NOT NULL REFERENCES care_teams(id) ON DELETE CASCADE,
    user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (care_team_id, user_id)
);

CREATE TABLE patients (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_ref  text UNIQUE,           -- opaque id used in logs and exports
    display_name  text NOT NULL,
    care_team_id  bigint NOT NULL REFERENCES care_teams(id),
    user_id       bigint UNIQUE REFERENCES users(id),
    tags          text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patients_care_team_idx ON patients (care_team_id);
CREATE INDEX patients_tags_idx ON patients USING gin (tags);

CREATE TABLE devices (
    serial        text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('glucose_meter', 'bp_cuff')),
    model         text,
    manufacturer  text,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);

-- Which patient a device belongs to, over time: a re-assigned device files readings correctly.
CREATE TABLE device_bindings (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_serial  text NOT NULL REFERENCES devices(serial),
    patient_id     bigint NOT NULL REFERENCES patients(id),
    valid_from     timestamptz NOT NULL DEFAULT now(),
    valid_to       timestamptz,
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE UNIQUE INDEX device_bindings_one_open_idx ON device_bindings (device_serial) WHERE valid_to IS NULL;
CREATE INDEX device_bindings_lookup_idx ON device_bindings (device_serial, valid_from);

CREATE TABLE gateways (
    id            text PRIMARY KEY,
    status        text,
    last_seen_at  timestamptz
);

-- Readings live in 0002_timeseries (TimescaleDB hypertable or native range partitions, chosen at
-- upgrade time) with their idempotency key table reading_keys.

-- Rejected input, kept verbatim for inspection (`vitalgate ingest dead-letters`).
CREATE TABLE dead_letters (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic        text NOT NULL,
    payload      bytea NOT NULL,
    reason       text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_received_idx ON dead_letters (received_at DESC);

CREATE TABLE alerts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id   bigint NOT NULL REFERENCES patients(id),
    rule_id      text NOT NULL,
    severity     text NOT NULL CHECK (severity IN ('urgent', 'high', 'routine')),
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    dedup_key    text NOT NULL,
    summary      text NOT NULL,
    evidence     jsonb NOT NULL DEFAULT '{}',
    opened_at    timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    resolved_at  timestamptz
);
-- One open episode per (patient, rule, episode key): further readings update it.
CREATE UNIQUE INDEX alerts_open_episode_idx ON alerts (dedup_key) WHERE status <> 'resolved';
CREATE INDEX alerts_patient_idx ON alerts (patient_id, opened_at DESC);

CREATE TABLE tasks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id      bigint UNIQUE REFERENCES alerts(id),
    patient_id    bigint NOT NULL REFERENCES patients(id),
    care_team_id  bigint NOT NULL REFERENCES care_teams(id),
    assignee_id   bigint REFERENCES users(id),
    severity      text NOT NULL CHECK (severity IN ('urgent', 'high', 'routine')),
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    title         text NOT NULL,
    due_at        timestamptz NOT NULL,
    created_at    timestamptz NOT NULL,
    closed_at     timestamptz,
    outcome       text
);
CREATE INDEX tasks_worklist_idx ON tasks (care_team_id, status, due_at);

CREATE TABLE task_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id     bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    kind        text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX task_events_task_idx ON task_events (task_id, at);

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    role        text NOT NULL,
    action      text NOT NULL,
    patient_id  bigint,
    source      text,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_patient_idx ON audit_log (patient_id, at DESC);
