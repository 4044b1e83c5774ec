-- Care programs (issue 17 items 1-3): the enrolment funnel, randomised arms and module deliveries.
-- Program definitions are TOML files (vitalgate.programs.definitions); the database keeps what
-- happened to whom: every funnel step, the allocation and every module sent.

CREATE OR REPLACE FUNCTION vg_programs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (%): record a new row instead', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- The funnel, one row per transition (append-only): the latest row of (patient, program) is the
-- patient's step. Who moved the patient (actor), when (at), through which channel and why.
CREATE TABLE program_enrolment_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    program_id  text NOT NULL,
    patient_id  bigint NOT NULL REFERENCES patients(id),
    step        text NOT NULL
        CHECK (step IN ('invited', 'consented', 'enrolled', 'active', 'paused', 'discharged', 'withdrawn')),
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    channel     text CHECK (channel IN ('sms', 'phone', 'email', 'app', 'clinic', 'import')),
    segment     text,             -- the patient's segment label at the time (for drop-off by segment)
    reason      text,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CHECK (step NOT IN ('withdrawn', 'discharged', 'paused') OR reason IS NOT NULL)
);
CREATE INDEX program_enrolment_events_lookup_idx ON program_enrolment_events (program_id, patient_id, at DESC, id DESC);
CREATE INDEX program_enrolment_events_step_idx ON program_enrolment_events (program_id, step, at);
CREATE TRIGGER program_enrolment_events_append_only BEFORE UPDATE OR DELETE ON program_enrolment_events
    FOR EACH ROW EXECUTE FUNCTION vg_programs_append_only();
CREATE TRIGGER program_enrolment_events_no_truncate BEFORE TRUNCATE ON program_enrolment_events
    FOR EACH STATEMENT EXECUTE FUNCTION vg_programs_append_only();

-- The randomisation of one program: the seed is recorded before the first allocation so the
-- whole allocation can be recomputed (and audited) from it. Never edited.
CREATE TABLE program_randomisations (
    program_id  text PRIMARY KEY,
    seed        bigint NOT NULL,
    block_size  integer NOT NULL CHECK (block_size > 0),
    arms        text[] NOT NULL CHECK (cardinality(arms) >= 2),
    covariates  text[] NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL
);
CREATE TRIGGER program_randomisations_append_only BEFORE UPDATE OR DELETE ON program_randomisations
    FOR EACH ROW EXECUTE FUNCTION vg_programs_append_only();
CREATE TRIGGER program_randomisations_no_truncate BEFORE TRUNCATE ON program_randomisations
    FOR EACH STATEMENT EXECUTE FUNCTION vg_programs_append_only();

-- One allocation per (program, patient), assigned once at enrolment: the stratum, the block and
-- the position in it say how the arm was drawn; covariates are the baseline it was drawn on.
-- Allocation concealment: the database refuses UPDATE and DELETE, whoever asks.
CREATE TABLE program_allocations (
    program_id   text NOT NULL REFERENCES program_randomisations(program_id),
    patient_id   bigint NOT NULL REFERENCES patients(id),
    arm          text NOT NULL,
    stratum      text NOT NULL,
    block_index  integer NOT NULL,
    position     integer NOT NULL,
    covariates   jsonb NOT NULL,
    allocated_at timestamptz NOT NULL,
    allocated_by text NOT NULL,
    PRIMARY KEY (program_id, patient_id),
    UNIQUE (program_id, stratum, block_index, position)
);
CREATE INDEX program_allocations_arm_idx ON program_allocations (program_id, arm);
CREATE TRIGGER program_allocations_append_only BEFORE UPDATE OR DELETE ON program_allocations
    FOR EACH ROW EXECUTE FUNCTION vg_programs_append_only();
CREATE TRIGGER program_allocations_no_truncate BEFORE TRUNCATE ON program_allocations
    FOR EACH STATEMENT EXECUTE FUNCTION vg_programs_append_only();

-- Weekly module items scheduled for a patient (education item or check-in questionnaire), each at
-- most once per (program, patient, week, item); delivery_id points into the delivery ledger once sent.
CREATE TABLE program_module_items (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    program_id    text NOT NULL,
    patient_id    bigint NOT NULL REFERENCES patients(id),
    week          integer NOT NULL CHECK (week >= 1),
    item_kind     text NOT NULL CHECK (item_kind IN ('education', 'checkin')),
    item_key      text NOT NULL,
    due_at        timestamptz NOT NULL,
    delivery_id   bigint,
    sent_at       timestamptz,
    opened_at     timestamptz,
    completed_at  timestamptz,
    UNIQUE (program_id, patient_id, week, item_kind, item_key)
);
CREATE INDEX program_module_items_due_idx ON program_module_items (due_at) WHERE sent_at IS NULL;
CREATE INDEX program_module_items_patient_idx ON program_module_items (program_id, patient_id, week);
