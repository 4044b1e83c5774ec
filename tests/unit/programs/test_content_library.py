"""The education library: every program module's items exist in both languages; matching by tags and stage."""

from __future__ import annotations

from vitalgate.programs.content_library import PatientProfile, matches, shipped_library
from vitalgate.programs.definitions import shipped_programs


def test_every_module_item_is_in_the_library_in_both_languages() -> None:
    library = shipped_library()
    for program in shipped_programs().values():
        for module in program.modules:
            for key in module.education:
                assert library.get(key).languages == {"en", "zh-Hans"}, key


def test_matching_by_tags_condition_and_stage_without_repeats() -> None:
    library = shipped_library()
    diabetic = PatientProfile(
        frozenset({"diabetes:t2", "risk:high"}), frozenset({"E11.9"}), "newly_diagnosed", "zh-Hans"
    )
    found = matches(library, diabetic, already_sent=())
    keys = [m.item.key for m in found]
    assert keys[0] == "diabetes-foot-care"  # two matching tags + condition rank first
    assert "newly-diagnosed-welcome" in keys and "post-op-wound-care" not in keys
    assert not any(k.startswith("bp-") for k in keys)
    assert all(m.language == "zh-Hans" for m in found)
    again = matches(library, diabetic, already_sent=keys[:3])
    assert not set(keys[:3]) & {m.item.key for m in again}
    hypertensive = PatientProfile(frozenset({"hypertension"}), frozenset({"I10"}), None, "en")
    assert {m.item.key for m in matches(library, hypertensive, ())} == {
        i.key for i in library.items if i.key.startswith("bp-")
    }


def test_every_check_in_is_a_shipped_questionnaire() -> None:
    from vitalgate.questionnaires.registry import builtin_definitions

    known = set(builtin_definitions())
    for program in shipped_programs().values():
        for module in program.modules:
            assert module.checkin is None or module.checkin in known, (program.id, module.checkin)
