-- The number a patient calls from their own page ("Call your nurse"), per care team (issue 18).
ALTER TABLE care_teams ADD COLUMN IF NOT EXISTS phone text;
