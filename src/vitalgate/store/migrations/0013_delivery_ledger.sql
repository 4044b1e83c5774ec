-- Delivery ledger (issue 15 items 1-2): every outbound message to a patient, caregiver or staff
-- member is one row, keyed by an idempotency key (touchpoint id + recipient + medium, or the
-- producer's own stable key), sent by `vitalgate notify run` with every attempt recorded.
-- Recipient addresses are not copied here: the worker reads them at send time (a corrected phone
-- number counts at once), except an explicit `address` a producer passes (staff channels).

CREATE TABLE deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key  text NOT NULL UNIQUE,
    patient_id       bigint REFERENCES patients(id) ON DELETE CASCADE,
    recipient_kind   text NOT NULL CHECK (recipient_kind IN ('patient', 'caregiver', 'staff')),
    recipient_id     bigint NOT NULL,
    channel          text NOT NULL,              -- the producing step's kind (message, voice, phone, staff_alert...)
    medium           text NOT NULL CHECK (medium IN ('sms', 'email', 'app', 'voice', 'call')),
    address          text,                       -- explicit address; NULL: the recipient's record at send time
    template         text NOT NULL,
    params           jsonb NOT NULL DEFAULT '{}',
    locale           text NOT NULL DEFAULT 'en' CHECK (locale IN ('zh-Hans', 'en')),
    urgent           boolean NOT NULL DEFAULT false,
    task_id          bigint REFERENCES tasks(id) ON DELETE CASCADE,
    touchpoint_id    bigint REFERENCES touchpoints(id) ON DELETE CASCADE,
    sop_instance_id  bigint REFERENCES sop_instances(id) ON DELETE CASCADE,
    link_path        text,                       -- the signed link the message carries (issued once)
    status           text NOT NULL DEFAULT 'queued' CHECK (status IN
                         ('queued', 'sending', 'sent', 'delivered', 'failed', 'undelivered', 'dead', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,       -- not_before, then the backoff / quiet-hours hold
    lease_until      timestamptz,                -- a 'sending' row whose lease ran out is claimed again
    provider_message_id text,
    last_error       text,
    status_reason    text,                       -- why cancelled / dead / held, in words
    call_outcome     text CHECK (call_outcome IN ('reached', 'no_answer', 'wrong_number', 'voicemail')),
    call_notes       text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    sent_at          timestamptz,
    delivered_at     timestamptz
);
-- The worker's claim: due queued rows, and sending rows whose worker died (lease expired).
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at, id) WHERE status IN ('queued', 'sending');
CREATE INDEX deliveries_task_idx ON deliveries (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX deliveries_sop_idx ON deliveries (sop_instance_id) WHERE sop_instance_id IS NOT NULL;
CREATE INDEX deliveries_patient_idx ON deliveries (patient_id, created_at);
CREATE INDEX deliveries_dead_idx ON deliveries (updated_at) WHERE status = 'dead';
CREATE INDEX deliveries_provider_idx ON deliveries (provider_message_id) WHERE provider_message_id IS NOT NULL;

-- Every send attempt, whatever its result.
CREATE TABLE delivery_attempts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id         bigint NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempt             integer NOT NULL,
    transport           text NOT NULL,           -- webhook, smtp, apprise, call
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz NOT NULL,
    status              text NOT NULL,           -- sent, failed, undelivered
    provider_message_id text,
    error               text
);
CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, attempt);

-- Provider receipts (delivered / failed / undelivered), de-duplicated by the provider's event id.
CREATE TABLE delivery_receipts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id         bigint NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    receipt_key         text NOT NULL UNIQUE,    -- provider event id (or message id + status)
    status              text NOT NULL CHECK (status IN ('sent', 'delivered', 'failed', 'undelivered')),
    received_at         timestamptz NOT NULL,
    detail              jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX delivery_receipts_delivery_idx ON delivery_receipts (delivery_id);
