"""The triage classifier on real messages in both languages: categories, negation, typos, values, mixed content."""

from __future__ import annotations

import pytest

from vitalgate.notify.triage import TriageCategory, classify
from vitalgate.notify.triage.classifier import is_negated, normalise
from vitalgate.notify.triage.numbers import alarming_values
from vitalgate.notify.triage.typos import correct_typos

U, M, D, L, E = (
    TriageCategory.URGENT_CLINICAL,
    TriageCategory.MEDICATION,
    TriageCategory.DEVICE,
    TriageCategory.LOGISTICS,
    TriageCategory.EDUCATION,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My husband has chest pain since this morning", U),
        ("Dad fainted when he stood up", U),
        ("She's confused and her speech is slurred", U),
        ("shortness of breath walking to the bathroom", U),
        ("我爸胸口疼，往左胳膊窜", U),
        ("我妈刚才在厨房晕倒了", U),
        ("走两步就上不来气", U),
        ("他一边脸歪了，说话也不清楚", U),
        ("I forgot to take my metformin this morning", M),
        ("胰岛素笔用完了，医生能不能再开一些", M),
        ("The blood pressure cuff won't pair with the hub", D),
        ("蓝牙连不上，血糖仪和盒子配对不了", D),
        ("Can I move my appointment on Thursday to next week?", L),
        ("周四的复诊能不能改到下周", L),
        ("Can I eat watermelon with diabetes?", E),
        ("糖尿病能吃西瓜吗", E),
    ],
)
def test_categories_in_both_languages(text: str, expected: TriageCategory) -> None:
    assert classify(text).category == expected


def test_negated_symptoms_are_not_urgent_but_the_rest_of_the_message_counts() -> None:
    assert classify("I feel good, no chest pain, no dizziness, just asking if I can start jogging").category == E
    assert classify("感觉挺好，不胸闷也不头晕，就想问能不能开始跑步").category == E
    assert classify("没有胸闷什么的，就是想问血糖一直五六，胰岛素要不要减量").category == M
    # A negation reaches to the end of its clause only.
    assert classify("No chest pain but I am very short of breath today").category == U
    assert classify("胸口不疼，但今天气短得厉害").category == U
    assert classify("no fever, chest pain since noon").category == U


def test_pseudo_negations_do_not_hide_a_symptom() -> None:
    assert classify("Not sure if it's heartburn or chest pain, it's been an hour").category == U
    assert classify("不知道是胃灼热还是胸痛").category == U
    text = normalise("not sure if it's chest pain")
    assert not is_negated(text, text.index("chest"), chinese=False)
    text = normalise("没有胸痛")
    assert is_negated(text, text.index("胸痛"), chinese=True)


def test_typos_and_homophones() -> None:
    assert correct_typos("chest pian") == "chest pain"
    assert correct_typos("apointment for bluetoth") == "appointment for bluetooth"
    assert correct_typos("does it paint") == "does it paint"  # real words stay
    assert classify("chest pian and sweating").category == U
    assert classify("凶口疼还出汗").category == U  # 凶 for 胸
    assert classify("出差忘带胰导素了").category == M  # 导 for 岛


def test_reported_values_are_urgent_when_out_of_range() -> None:
    assert classify("Glucose is 38. Ate candy.").category == U  # mg/dL, level 2
    assert classify("测了2.8").category == U  # mmol/L
    assert classify("血压195/118").category == U
    assert classify("sugar is 9 now, I injected twice by mistake").category == M
    assert alarming_values(normalise("血糖仪一插试纸就显示E-3")) == []  # an error code is not a reading
    assert alarming_values(normalise("my sugars were 6 to 8 all week, bp 128/82")) == []
    assert alarming_values(normalise("reading says LO")) == ["says lo"]


def test_questions_about_lows_are_education_but_reports_are_urgent() -> None:
    assert classify("how can I prevent hypos when exercising?").category == E
    assert classify("运动的时候怎么预防低血糖").category == E
    assert classify("昨晚低血糖了，家里人给我喂了糖才缓过来").category == U


def test_mixed_content_takes_the_most_urgent_part() -> None:
    assert (
        classify("hi, quick question about insulin, but also my chest has been hurting since last night").category == U
    )
    assert classify("血糖仪一直报错，但我现在头晕出汗，怎么办").category == U
    assert classify("Will my insurance cover the home monitoring?").category == L


def test_confidence_and_needs_a_person() -> None:
    urgent = classify("chest pain")
    assert urgent.confidence >= 0.9 and urgent.needs_person and "chest pain" in urgent.evidence
    clear = classify("My glucose meter shows E-3 every time I put the strip in")
    assert clear.category == D and not clear.needs_person and clear.confidence >= 0.6
    unknown = classify("嗯")
    assert unknown.category == E and unknown.needs_person and unknown.confidence < 0.6


def test_a_familys_vague_alarm_is_urgent_but_a_normal_bp_number_is_not() -> None:
    assert classify("我妈今天有点不对劲").category == U
    assert classify("Dad is not himself today").category == U
    assert classify("血压120/80正常吗").category == E  # 120 is the emergency number only when dialled
    assert classify("要不要打120").category == U


@pytest.mark.parametrize(
    "text",
    ["my heart hurts", "she is passing out", "mum had a fall", "my sugar is very low",
     "胸口难受", "心脏疼", "憋得慌", "意识模糊", "血糖很低", "奶奶跌倒了"],
)  # fmt: skip
def test_more_ways_of_saying_an_urgent_symptom(text: str) -> None:
    assert classify(text).category == U


def test_their_negations_and_education_frames_still_count() -> None:
    assert classify("没有胸口难受，就是问药").category == M
    assert classify("how can I prevent low sugar at night?").category == E
