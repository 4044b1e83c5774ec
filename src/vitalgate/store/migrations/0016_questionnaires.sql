-- Questionnaires (issue 16): FHIR Questionnaire definitions (built-in files are loaded from the
-- package; admins add versions here), licences for scales that need one, responses with the
-- definition version they answered, and what each completed response produced: scores,
-- extracted observations and the tags/record fields it set.

CREATE TABLE questionnaire_definitions (
    questionnaire_id text NOT NULL CHECK (questionnaire_id ~ '^[a-z0-9][a-z0-9\-]*$'),
    version          text NOT NULL,
    resource         jsonb NOT NULL,          -- the validated FHIR R4 Questionnaire
    added_by         text NOT NULL,
    added_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (questionnaire_id, version)
);

-- A scale that needs a licence (MMAS-8, EQ-5D ...) is refused unless one is recorded here.
CREATE TABLE questionnaire_licences (
    instrument   text PRIMARY KEY,           -- the definition's licence key, e.g. 'mmas-8'
    licensee     text NOT NULL,
    reference    text NOT NULL,              -- the licence or agreement number
    valid_until  date,
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE questionnaire_responses (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id            bigint NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    questionnaire_id      text NOT NULL,
    questionnaire_version text NOT NULL,
    status                text NOT NULL DEFAULT 'in-progress' CHECK (status IN ('in-progress', 'completed')),
    answers               jsonb NOT NULL DEFAULT '{}',   -- {linkId: value}; partial while in progress
    language              text NOT NULL DEFAULT 'en' CHECK (language IN ('zh-Hans', 'en')),
    -- Who typed the answers: the patient (own page or link), or staff on the patient's behalf.
    entered_by            text NOT NULL CHECK (entered_by IN ('patient', 'caregiver', 'staff')),
    entered_by_user_id    bigint REFERENCES users(id),
    task_id               bigint REFERENCES tasks(id),
    started_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    completed_at          timestamptz,
    CHECK ((status = 'completed') = (completed_at IS NOT NULL)),
    CHECK ((entered_by = 'staff') <= (entered_by_user_id IS NOT NULL))
);
CREATE INDEX questionnaire_responses_patient_idx
    ON questionnaire_responses (patient_id, questionnaire_id, completed_at DESC NULLS FIRST);

CREATE TABLE questionnaire_scores (
    response_id      bigint NOT NULL REFERENCES questionnaire_responses(id) ON DELETE CASCADE,
    patient_id       bigint NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    questionnaire_id text NOT NULL,
    name             text NOT NULL,          -- 'total', 'alarming' ...
    value            double precision NOT NULL,
    band             text,                   -- severity band, e.g. 'moderate'
    loinc            text,
    scored_at        timestamptz NOT NULL,
    PRIMARY KEY (response_id, name)
);
CREATE INDEX questionnaire_scores_patient_idx ON questionnaire_scores (patient_id, questionnaire_id, name, scored_at);

-- Values the answers carry as observations (lab results with units), SDC observationExtract-style.
CREATE TABLE questionnaire_observations (
    response_id  bigint NOT NULL REFERENCES questionnaire_responses(id) ON DELETE CASCADE,
    patient_id   bigint NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    link_id      text NOT NULL,
    code_system  text NOT NULL,
    code         text NOT NULL,
    display      text NOT NULL,
    value        double precision NOT NULL,
    unit         text NOT NULL,
    effective_at timestamptz NOT NULL,
    PRIMARY KEY (response_id, link_id)
);
CREATE INDEX questionnaire_observations_patient_idx ON questionnaire_observations (patient_id, code, effective_at);

-- What a completed response changed in the record: a tag added or removed, a field set.
CREATE TABLE questionnaire_extractions (
    response_id bigint NOT NULL REFERENCES questionnaire_responses(id) ON DELETE CASCADE,
    patient_id  bigint NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    link_id     text NOT NULL,
    target      text NOT NULL CHECK (target IN ('tag_added', 'tag_removed', 'field')),
    name        text NOT NULL,               -- the tag, or the record field's name
    value       text,                        -- the field's new value
    PRIMARY KEY (response_id, target, name)
);
