-- The patient's clock (issue 14 item 4): IANA zones for care teams, patients and staff, a zone
-- history per patient (a patient who moves keeps each reading's local time as it was) and quiet
-- hours. Names are validated by the application (vitalgate.core.localtime.zone) before writing.

-- Existing teams stay on 'UTC' (what every page showed until now); a team's zone is set when it
-- is created (the demo's team: Asia/Shanghai) or later by an admin.
ALTER TABLE care_teams ADD COLUMN IF NOT EXISTS time_zone text NOT NULL DEFAULT 'UTC';
-- NULL: the patient follows the care team's zone.
ALTER TABLE patients ADD COLUMN IF NOT EXISTS time_zone text;
-- Quiet hours, patient-local wall-clock times (issue 14 default 21:00-08:00); start = end: none.
ALTER TABLE patients ADD COLUMN IF NOT EXISTS quiet_start time NOT NULL DEFAULT '21:00';
ALTER TABLE patients ADD COLUMN IF NOT EXISTS quiet_end time NOT NULL DEFAULT '08:00';
-- The zone pages are shown in to this staff user when it differs from the patient's (NULL: the team's).
ALTER TABLE users ADD COLUMN IF NOT EXISTS time_zone text;

-- The zone a patient lived in from valid_from on (the first row also covers everything before it).
-- Written by store.time_zones and by the triggers below whenever an effective zone changes; a
-- patient without rows lives in coalesce(patients.time_zone, care_teams.time_zone) for all time.
CREATE TABLE IF NOT EXISTS patient_zone_history (
    patient_id   bigint NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    valid_from   timestamptz NOT NULL,
    time_zone    text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    recorded_by  text NOT NULL DEFAULT 'system',
    PRIMARY KEY (patient_id, valid_from)
);

-- A patient's zones as [valid_from, valid_to) spans covering all time: a few index probes.
CREATE FUNCTION patient_zone_spans_of(p_patient bigint)
RETURNS TABLE (time_zone text, valid_from timestamptz, valid_to timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT h.time_zone,
           CASE WHEN lag(h.valid_from) OVER w IS NULL THEN '-infinity'::timestamptz ELSE h.valid_from END,
           coalesce(lead(h.valid_from) OVER w, 'infinity'::timestamptz)
    FROM patient_zone_history h WHERE h.patient_id = p_patient
    WINDOW w AS (ORDER BY h.valid_from)
    UNION ALL
    SELECT coalesce(p.time_zone, t.time_zone), '-infinity'::timestamptz, 'infinity'::timestamptz
    FROM patients p JOIN care_teams t ON t.id = p.care_team_id
    WHERE p.id = p_patient AND NOT EXISTS (SELECT 1 FROM patient_zone_history h WHERE h.patient_id = p_patient)
$$;

CREATE VIEW patient_zone_spans AS
SELECT p.id AS patient_id, s.time_zone, s.valid_from, s.valid_to
FROM patients p CROSS JOIN LATERAL patient_zone_spans_of(p.id) s;

-- The effective zone now; what new readings, reminders and quiet hours use.
CREATE FUNCTION patient_zone_at(p_patient bigint, p_at timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT time_zone FROM patient_zone_spans_of(p_patient) WHERE valid_from <= p_at AND p_at < valid_to
$$;

-- Anyone changing patients.time_zone directly (an import, an admin) still leaves history: the
-- previous effective zone keeps everything before now, the new one applies from now.
CREATE FUNCTION patient_zone_record() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    new_zone  text := coalesce(NEW.time_zone, (SELECT time_zone FROM care_teams WHERE id = NEW.care_team_id));
    old_zone  text := coalesce(OLD.time_zone, (SELECT time_zone FROM care_teams WHERE id = OLD.care_team_id));
BEGIN
    IF EXISTS (SELECT 1 FROM patient_zone_history WHERE patient_id = NEW.id) THEN
        IF (SELECT time_zone FROM patient_zone_history WHERE patient_id = NEW.id
            ORDER BY valid_from DESC LIMIT 1) IS NOT DISTINCT FROM new_zone THEN
            RETURN NULL;  -- store.time_zones wrote the history already
        END IF;
    ELSIF old_zone IS NOT DISTINCT FROM new_zone THEN
        RETURN NULL;  -- nothing effectively changed
    ELSE
        INSERT INTO patient_zone_history (patient_id, valid_from, time_zone) VALUES (NEW.id, '-infinity', old_zone);
    END IF;
    INSERT INTO patient_zone_history (patient_id, valid_from, time_zone) VALUES (NEW.id, now(), new_zone)
    ON CONFLICT (patient_id, valid_from) DO UPDATE SET time_zone = EXCLUDED.time_zone;
    RETURN NULL;
END
$$;
CREATE TRIGGER patient_zone_changed AFTER UPDATE OF time_zone, care_team_id ON patients
    FOR EACH ROW WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone OR OLD.care_team_id <> NEW.care_team_id)
    EXECUTE FUNCTION patient_zone_record();

-- A team changing zone moves the patients who follow it from now on, not their past readings.
CREATE FUNCTION care_team_zone_record() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO patient_zone_history (patient_id, valid_from, time_zone)
    SELECT p.id, '-infinity', OLD.time_zone FROM patients p
    WHERE p.care_team_id = NEW.id AND p.time_zone IS NULL
      AND NOT EXISTS (SELECT 1 FROM patient_zone_history h WHERE h.patient_id = p.id);
    INSERT INTO patient_zone_history (patient_id, valid_from, time_zone)
    SELECT p.id, now(), NEW.time_zone FROM patients p WHERE p.care_team_id = NEW.id AND p.time_zone IS NULL
    ON CONFLICT (patient_id, valid_from) DO UPDATE SET time_zone = EXCLUDED.time_zone;
    RETURN NULL;
END
$$;
CREATE TRIGGER care_team_zone_changed AFTER UPDATE OF time_zone ON care_teams
    FOR EACH ROW WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone) EXECUTE FUNCTION care_team_zone_record();
