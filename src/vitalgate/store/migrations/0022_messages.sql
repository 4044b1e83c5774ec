-- Two-way messages (issue 15 items 4-5): the conversation between a patient (or caregiver) and the
-- care team, inbound SMS that matched nobody (held for review), and caregiver SMS opt-outs.
CREATE TABLE messages (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id           bigint REFERENCES patients(id) ON DELETE CASCADE,   -- NULL: matched nobody (review)
    caregiver_id         bigint REFERENCES caregivers(id) ON DELETE SET NULL,
    direction            text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    medium               text NOT NULL CHECK (medium IN ('sms', 'email', 'app', 'web')),
    body                 text NOT NULL CHECK (length(body) <= 2000),
    author_user_id       bigint REFERENCES users(id),                          -- outbound: the staff member
    task_id              bigint REFERENCES tasks(id) ON DELETE SET NULL,
    keyword              text CHECK (keyword IN ('confirm', 'decline', 'opt_out', 'opt_in')),
    effect               text,                                                 -- what the reply did (notify.replies)
    from_address         text,                                                 -- inbound SMS: the sender's number
    provider             text,
    provider_message_id  text,
    review_state         text CHECK (review_state IN ('held', 'filed', 'discarded')),
    created_at           timestamptz NOT NULL,
    UNIQUE (provider, provider_message_id),
    CHECK ((patient_id IS NULL) = (review_state = 'held'))
);
CREATE INDEX messages_patient_idx ON messages (patient_id, created_at DESC) WHERE patient_id IS NOT NULL;
CREATE INDEX messages_task_idx ON messages (task_id, created_at) WHERE task_id IS NOT NULL;
CREATE INDEX messages_held_idx ON messages (created_at DESC) WHERE review_state = 'held';

-- A caregiver's STOP: consent records are the patient's (migration 0010), so a caregiver's own
-- opt-out from SMS is kept on the caregiver (START clears it); the ledger checks it before sending.
ALTER TABLE caregivers ADD COLUMN IF NOT EXISTS sms_opted_out_at timestamptz;
