"""The answering page's own words (catalog area `questionnaires`; the questions' text is in the definitions)."""

from __future__ import annotations

from vitalgate.i18n import t


def ui(language: str) -> dict[str, str]:
    """Every word of the answering page in one language ({placeholders} are filled where used)."""
    return {
        "yes": t(language, "Yes"),
        "no": t(language, "No"),
        "next": t(language, "Next"),
        "back": t(language, "Back"),
        "save": t(language, "Save and finish later"),
        "submit": t(language, "Submit"),
        "saved": t(language, "Your answers are saved. You can come back to this page to finish."),
        "done": t(language, "Thank you. Your answers have been sent to your care team."),
        "progress": t(language, "Question {n} of {total}"),
        "required": t(language, "Please answer this question."),
        "missing": t(language, "Some required questions are not answered yet."),
        "one_per_screen": t(language, "One question per screen"),
        "all_questions": t(language, "Show all questions"),
        "on_behalf": t(language, "Entered by {name} on the patient's behalf"),
        # The switch names the other language in that language.
        "language": "English" if language == "zh-Hans" else "中文",
        "unavailable": t(language, "This link cannot be used any more. If you need help, contact your care team."),
    }
