-- A user's own language and glucose unit for the pages (issue 14 item 5). NULL language: the
-- patient's record language (a patient's own page), else the browser's Accept-Language, else
-- English. NULL unit: a patient sees their record's preferred unit, staff see mg/dL (the stored unit).
ALTER TABLE users
    ADD COLUMN IF NOT EXISTS language text CHECK (language IN ('zh-Hans', 'en')),
    ADD COLUMN IF NOT EXISTS glucose_unit text CHECK (glucose_unit IN ('mg/dL', 'mmol/L'));
