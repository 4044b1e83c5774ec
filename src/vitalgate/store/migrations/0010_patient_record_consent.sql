-- Patient record, caregivers and consent (issue 14 items 1-3). Time zones and quiet hours are
-- migration 0011's; monitoring status (active/paused/discharged) is 0007's patient_monitoring.

-- A caregiver (family member) may have an own, read-only login.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('patient', 'coordinator', 'nurse', 'doctor', 'admin', 'caregiver'));

-- The record: who the patient is and how to reach them. Contact points are one column per
-- system (phone serves both SMS and calls); preferred_channel says which one to use first.
ALTER TABLE patients
    ADD COLUMN IF NOT EXISTS program text NOT NULL DEFAULT 'default',
    ADD COLUMN IF NOT EXISTS external_id text,
    ADD COLUMN IF NOT EXISTS birth_date date,
    ADD COLUMN IF NOT EXISTS birth_year smallint CHECK (birth_year BETWEEN 1880 AND 2200),
    ADD COLUMN IF NOT EXISTS sex text CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    ADD COLUMN IF NOT EXISTS journey_stage text
        CHECK (journey_stage IN ('newly_diagnosed', 'post_operative', 'chemotherapy', 'rehabilitation', 'long_term')),
    ADD COLUMN IF NOT EXISTS language text NOT NULL DEFAULT 'en' CHECK (language IN ('zh-Hans', 'en')),
    ADD COLUMN IF NOT EXISTS glucose_unit text NOT NULL DEFAULT 'mg/dL' CHECK (glucose_unit IN ('mg/dL', 'mmol/L')),
    ADD COLUMN IF NOT EXISTS phone text,
    ADD COLUMN IF NOT EXISTS email text,
    ADD COLUMN IF NOT EXISTS app_id text,
    ADD COLUMN IF NOT EXISTS preferred_channel text CHECK (preferred_channel IN ('sms', 'phone', 'email', 'app')),
    ADD COLUMN IF NOT EXISTS target_preset text NOT NULL DEFAULT 'standard'
        CHECK (target_preset IN ('standard', 'older_adult', 'pregnancy')),
    -- Per-patient overrides of the preset's numbers (validated by store.targets before use).
    ADD COLUMN IF NOT EXISTS targets jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS updated_at timestamptz;
ALTER TABLE patients DROP CONSTRAINT IF EXISTS patients_birth_consistent;
ALTER TABLE patients ADD CONSTRAINT patients_birth_consistent
    CHECK (birth_date IS NULL OR birth_year IS NULL OR birth_year = extract(year FROM birth_date));
-- Imports are idempotent by (program, external id).
CREATE UNIQUE INDEX IF NOT EXISTS patients_program_external_id_idx ON patients (program, external_id)
    WHERE external_id IS NOT NULL;

-- Conditions, coded (ICD-10 by default) with the fields cohorts select on later.
CREATE TABLE patient_conditions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id    bigint NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    code_system   text NOT NULL DEFAULT 'ICD-10',
    code          text NOT NULL CHECK (code ~ '^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$'),
    type          text,         -- e.g. 'type 2' for E11, 'essential' for I10
    stage         text,         -- e.g. 'II' for C50
    subtype       text,         -- e.g. 'HR+/HER2-' for C50
    diagnosed_on  date,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (patient_id, code_system, code)
);
CREATE INDEX patient_conditions_code_idx ON patient_conditions (code, patient_id);

-- Family members and other caregivers of one patient, with what they receive.
CREATE TABLE caregivers (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id         bigint NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    name               text NOT NULL,
    relationship       text NOT NULL
        CHECK (relationship IN ('spouse', 'child', 'parent', 'sibling', 'family', 'friend', 'guardian', 'other')),
    phone              text,
    email              text,
    app_id             text,
    preferred_channel  text CHECK (preferred_channel IN ('sms', 'phone', 'email', 'app')),
    language           text NOT NULL DEFAULT 'en' CHECK (language IN ('zh-Hans', 'en')),
    alert_severities   text[] NOT NULL DEFAULT '{urgent}'
        CHECK (alert_severities <@ ARRAY['urgent', 'high', 'routine']::text[]),
    receives_reminders boolean NOT NULL DEFAULT false,
    user_id            bigint REFERENCES users(id),
    active             boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (patient_id, name),
    UNIQUE (patient_id, user_id)
);
CREATE INDEX caregivers_user_idx ON caregivers (user_id) WHERE user_id IS NOT NULL;

-- Consent history, append-only: a decision is never edited or removed, a later record supersedes
-- it (PIPL art. 28-29: separate, explicit consent for sensitive personal information; art. 15:
-- withdrawal at any time). The record with the latest effective_at <= t (then the highest id) holds at t.
CREATE TABLE consent_records (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id    bigint NOT NULL REFERENCES patients(id),
    purpose       text NOT NULL CHECK (purpose IN ('monitoring', 'contact', 'share_caregiver', 'research')),
    channel       text CHECK (channel IN ('sms', 'phone', 'email', 'app')),
    caregiver_id  bigint REFERENCES caregivers(id),
    decision      text NOT NULL CHECK (decision IN ('given', 'withdrawn')),
    text_version  text NOT NULL,
    effective_at  timestamptz NOT NULL,
    given_by      text NOT NULL CHECK (given_by IN ('patient', 'guardian', 'staff')),
    given_by_name text,               -- the guardian's name, or the staff member acting on the patient's behalf
    recorded_by   text NOT NULL,      -- the signed-in user (or importer) who wrote the record
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((purpose = 'contact') = (channel IS NOT NULL)),
    CHECK ((purpose = 'share_caregiver') = (caregiver_id IS NOT NULL))
);
CREATE INDEX consent_records_lookup_idx ON consent_records (patient_id, purpose, effective_at DESC, id DESC);

CREATE OR REPLACE FUNCTION vg_consent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent_records is append-only: record a new decision instead of %', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER consent_records_no_update_delete BEFORE UPDATE OR DELETE ON consent_records
    FOR EACH ROW EXECUTE FUNCTION vg_consent_append_only();
CREATE TRIGGER consent_records_no_truncate BEFORE TRUNCATE ON consent_records
    FOR EACH STATEMENT EXECUTE FUNCTION vg_consent_append_only();
