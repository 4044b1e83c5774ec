-- Signed links (issue 15 item 3): a short, single-purpose link in a message opens a page without a
-- password. The token is random (>= 128 bits) and only its SHA-256 is stored, so a database read
-- does not yield working links. Answering is single-use; opening is not (a patient may look twice).
CREATE TABLE links (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_sha256     bytea NOT NULL UNIQUE,
    purpose          text NOT NULL CHECK (purpose IN ('check_in', 'visit', 'questionnaire', 'staff_ack', 'inbox')),
    patient_id       bigint NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    caregiver_id     bigint REFERENCES caregivers(id) ON DELETE CASCADE,
    user_id          bigint REFERENCES users(id) ON DELETE CASCADE,     -- staff_ack: the staff member
    task_id          bigint REFERENCES tasks(id) ON DELETE CASCADE,
    delivery_id      bigint,                                            -- the outbox row that carried it
    sop_instance_id  bigint REFERENCES sop_instances(id) ON DELETE CASCADE,
    questionnaire    text,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    first_opened_at  timestamptz,
    last_opened_at   timestamptz,
    open_count       integer NOT NULL DEFAULT 0,
    answered_at      timestamptz,
    answer           text,
    answer_detail    jsonb NOT NULL DEFAULT '{}',
    CHECK (expires_at > created_at),
    CHECK ((answered_at IS NULL) = (answer IS NULL))
);
CREATE INDEX links_task_idx ON links (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX links_patient_idx ON links (patient_id, created_at DESC);

-- Requests to /l/... per client address and per token, in fixed windows (api.link_throttle):
-- a guessed or leaked token cannot be hammered, and one address cannot sweep the token space.
CREATE TABLE link_throttle (
    scope         text NOT NULL CHECK (scope IN ('source', 'token')),
    key           text NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          integer NOT NULL,
    PRIMARY KEY (scope, key)
);
