-- Inbound triage and routing, the reply-script library (话术库), the on-call roster and staff
-- alerts (issue 15 items 6-8).

-- Every free-text inbound message as triage saw it and where it went. The text is kept (it is the
-- patient's own message, like messages.body) because a re-route turns it into a labelled example.
CREATE TABLE inbound_triage (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id           bigint NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    inbound_message_id   bigint UNIQUE,          -- notify's messages.id (0022 comes later: no FK)
    body                 text NOT NULL CHECK (length(body) <= 4000),
    language             text NOT NULL CHECK (language IN ('zh-Hans', 'en')),
    category             text NOT NULL CHECK (category IN
                             ('urgent_clinical', 'medication', 'device', 'logistics', 'education')),
    confidence           real NOT NULL,
    needs_person         boolean NOT NULL,
    evidence             text[] NOT NULL DEFAULT '{}',
    route_category       text NOT NULL CHECK (route_category IN
                             ('urgent_clinical', 'medication', 'device', 'logistics', 'education')),
    routed_to            text NOT NULL CHECK (routed_to IN ('nurse', 'doctor', 'coordinator')),
    task_id              bigint REFERENCES tasks(id) ON DELETE SET NULL,
    suggested_script_id  bigint,
    received_at          timestamptz NOT NULL,
    created_at           timestamptz NOT NULL
);
CREATE INDEX inbound_triage_patient_idx ON inbound_triage (patient_id, received_at DESC);
CREATE INDEX inbound_triage_task_idx ON inbound_triage (task_id) WHERE task_id IS NOT NULL;

-- A staff member's correction of triage: the labelled feedback (exported as JSONL).
CREATE TABLE triage_feedback (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    triage_id       bigint NOT NULL REFERENCES inbound_triage(id) ON DELETE CASCADE,
    from_category   text NOT NULL,
    to_category     text NOT NULL CHECK (to_category IN
                        ('urgent_clinical', 'medication', 'device', 'logistics', 'education')),
    user_id         bigint REFERENCES users(id) ON DELETE SET NULL,
    note            text CHECK (length(note) <= 1000),
    at              timestamptz NOT NULL
);
CREATE INDEX triage_feedback_at_idx ON triage_feedback (at);

-- Reply scripts: categorised templates in both languages with {placeholders}.
CREATE TABLE reply_scripts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key          text NOT NULL UNIQUE CHECK (key ~ '^[a-z0-9][a-z0-9_.-]{1,63}$'),
    category     text NOT NULL CHECK (category IN
                     ('urgent_clinical', 'medication', 'device', 'logistics', 'education', 'general')),
    title_en     text NOT NULL CHECK (length(title_en) BETWEEN 1 AND 200),
    title_zh     text NOT NULL CHECK (length(title_zh) BETWEEN 1 AND 200),
    body_en      text NOT NULL CHECK (length(body_en) BETWEEN 1 AND 2000),
    body_zh      text NOT NULL CHECK (length(body_zh) BETWEEN 1 AND 2000),
    keywords     text[] NOT NULL DEFAULT '{}',   -- words that make it the suggestion for a message
    active       boolean NOT NULL DEFAULT true,
    usage_count  integer NOT NULL DEFAULT 0,
    updated_by   bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE inbound_triage ADD CONSTRAINT inbound_triage_script_fk
    FOREIGN KEY (suggested_script_id) REFERENCES reply_scripts(id) ON DELETE SET NULL;

-- Who is on call when, per care team, as weekly shifts in the team's own zone (care_teams.time_zone).
-- A shift whose end is not after its start ends the next day (22:00-08:00); rank 1 is called first.
CREATE TABLE on_call_shifts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    care_team_id  bigint NOT NULL REFERENCES care_teams(id) ON DELETE CASCADE,
    user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    weekday       smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),   -- ISO: 1 = Monday
    starts_at     time NOT NULL,
    ends_at       time NOT NULL,
    rank          smallint NOT NULL DEFAULT 1 CHECK (rank BETWEEN 1 AND 9),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX on_call_shifts_team_idx ON on_call_shifts (care_team_id, weekday);

-- A staff member's own channel for alerts (the ledger is given the address: staff are not patients).
ALTER TABLE users ADD COLUMN IF NOT EXISTS alert_medium text CHECK (alert_medium IN ('sms', 'email', 'app'));
ALTER TABLE users ADD COLUMN IF NOT EXISTS alert_address text CHECK (length(alert_address) <= 320);

-- Each time an urgent task's alert went to a staff member: attempt 1 to the assignee, then the
-- next on-call person each time the task's due time passes unacknowledged.
CREATE TABLE staff_alerts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id       bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    attempt       integer NOT NULL CHECK (attempt >= 1),
    user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    delivery_id   bigint,                        -- deliveries.id (NULL: the user has no channel)
    link_path     text,                          -- the staff_ack link the message carries
    notified_at   timestamptz NOT NULL,
    renotify_at   timestamptz NOT NULL,          -- when the next person is called if nobody acknowledged
    UNIQUE (task_id, attempt)
);
CREATE INDEX staff_alerts_due_idx ON staff_alerts (renotify_at);

-- A starter library (coordinators edit it). Placeholders: {name} the patient, {team} the care
-- team, {staff} the sender. Wording follows ADA Standards of Care patient education.
INSERT INTO reply_scripts (key, category, title_en, title_zh, body_en, body_zh, keywords) VALUES
('edu.fruit', 'education', 'Fruit and diabetes', '糖尿病与水果',
 'Hello {name}, fruit is fine in moderation: one portion (a small apple, a slice of watermelon, a handful of berries) at a time, between meals rather than with them, and whole fruit rather than juice. Check your glucose 2 hours later to see how it suits you. — {staff}, {team}',
 '{name}您好，水果可以适量吃：每次一份（一个小苹果、一片西瓜或一小把浆果），放在两餐之间吃，吃完整的水果而不是喝果汁。吃后2小时测一次血糖，看看是否适合您。——{team} {staff}',
 '{fruit,watermelon,apple,juice,水果,西瓜,苹果,果汁}'),
('edu.staple-food', 'education', 'Rice, bread and staples', '米饭、馒头等主食',
 'Hello {name}, keep staples to about a quarter of your plate, choose whole grains (brown rice, oats, whole-wheat bread) when you can, and eat vegetables first. — {staff}',
 '{name}您好，主食大约占餐盘的四分之一，尽量选粗粮（糙米、燕麦、全麦面包），吃饭时先吃蔬菜再吃主食。——{staff}',
 '{rice,bread,noodles,staple,米饭,馒头,面条,主食,糙米,粗粮}'),
('edu.exercise', 'education', 'Exercise safely', '安全运动',
 'Hello {name}, aim for 150 minutes a week of brisk walking or similar, spread over at least 3 days. Check your glucose before exercise; if it is under 5.6 mmol/L (100 mg/dL), have a small snack first, and carry something sweet with you. — {staff}',
 '{name}您好，建议每周累计150分钟快走等中等强度运动，至少分3天。运动前测血糖，低于5.6 mmol/L时先吃点东西，并随身带糖块。——{staff}',
 '{exercise,walking,jogging,swimming,运动,跑步,散步,游泳,锻炼}'),
('edu.hypo-prevention', 'education', 'Preventing lows', '预防低血糖',
 'Hello {name}, lows show as shaking, sweating, a fast heartbeat, hunger or confusion. If you feel this, check your glucose; under 3.9 mmol/L (70 mg/dL) take 15 g of fast sugar (half a glass of juice), re-check in 15 minutes. Do not skip meals after your medicine. If you ever feel very unwell, call us or emergency services.',
 '{name}您好，低血糖的表现有手抖、出汗、心慌、饥饿或意识模糊。出现时请先测血糖；低于3.9 mmol/L时吃15克快速糖（半杯果汁），15分钟后复测。用药后不要不吃饭。如果感觉很不好，请立即联系我们或拨打120。',
 '{hypo,hypos,low,prevent,低血糖,预防,表现}'),
('edu.bp-measure', 'education', 'Measuring blood pressure at home', '在家正确量血压',
 'Hello {name}, sit quietly for 5 minutes, back supported, feet flat, arm resting at heart level, cuff on bare skin. Take two readings a minute apart, morning before medicine and evening. — {staff}',
 '{name}您好，量血压前安静坐5分钟，背靠椅背，双脚平放，手臂与心脏同高，袖带直接绑在皮肤上。每次量两遍，间隔1分钟；早上服药前和晚上各量一次。——{staff}',
 '{measure,sitting,lying,cuff,量血压,坐着,躺着}'),
('edu.normal-range', 'education', 'Target ranges', '控制目标',
 'Hello {name}, most adults with diabetes aim for 4.4-7.2 mmol/L (80-130 mg/dL) before meals and under 10 mmol/L (180 mg/dL) two hours after; home blood pressure under 135/85. Your own targets are on your care plan; ask us if you are unsure.',
 '{name}您好，多数糖尿病成人的目标是：空腹/餐前4.4-7.2 mmol/L，餐后2小时低于10 mmol/L；家庭血压低于135/85。您的个人目标以护理计划为准，不确定请问我们。',
 '{normal,range,target,a1c,hba1c,正常,范围,多少算,标准,糖化}'),
('edu.thanks', 'general', 'Thank you', '感谢',
 'Thank you for your message, {name}. We are glad you are well. — {staff}, {team}',
 '谢谢您的消息，{name}。很高兴您一切都好。——{team} {staff}',
 '{thanks,thank,good,谢谢,一切都好}'),
('med.ask-doctor', 'medication', 'Passed to the doctor', '已转给医生',
 'Hello {name}, thank you, your question about your medicine has gone to the doctor, who will reply within one working day. Please keep taking your medicine as prescribed until then.',
 '{name}您好，您关于用药的问题已转给医生，医生会在一个工作日内回复。在此之前请继续按医嘱用药。',
 '{medicine,dose,insulin,metformin,药,胰岛素,二甲双胍}'),
('dev.restart', 'device', 'Restart the meter or hub', '重启设备',
 'Hello {name}, please try this: take the batteries out of the meter for 10 seconds and put them back; unplug the hub for 10 seconds and plug it in again, then measure once. If it still does not work, reply here and we will call you.',
 '{name}您好，请试一下：把血糖仪的电池取出10秒再装回；把网关盒子拔掉电源10秒再插上，然后测一次。如果还是不行，请回复，我们会给您打电话。',
 '{error,bluetooth,sync,hub,meter,报错,蓝牙,同步,网关,血糖仪}'),
('log.reschedule', 'logistics', 'Moving an appointment', '改约',
 'Hello {name}, we can move your appointment. Please reply with two times that suit you next week and we will confirm one. — {staff}, {team}',
 '{name}您好，可以为您改约。请回复下周您方便的两个时间，我们确认后通知您。——{team} {staff}',
 '{appointment,reschedule,move,预约,改时间,改期,复诊}'),
('urgent.call-now', 'urgent_clinical', 'We are calling you', '我们马上给您打电话',
 '{name}, we have read your message and a nurse is calling you now. If you have chest pain, trouble breathing, fainting or confusion, call emergency services at once.',
 '{name}，我们已看到您的消息，护士马上给您打电话。如有胸痛、呼吸困难、晕倒或意识不清，请立即拨打120。',
 '{}');
