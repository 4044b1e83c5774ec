"""The answering page's own words in both languages (the questions' text is in the definitions).

Kept here until vitalgate.i18n lands; then these become the `questionnaires` catalog area.
"""

from __future__ import annotations

from typing import Final

UI: Final[dict[str, dict[str, str]]] = {
    "en": {
        "yes": "Yes",
        "no": "No",
        "next": "Next",
        "back": "Back",
        "save": "Save and finish later",
        "submit": "Submit",
        "saved": "Your answers are saved. You can come back to this page to finish.",
        "done": "Thank you. Your answers have been sent to your care team.",
        "progress": "Question {n} of {total}",
        "required": "Please answer this question.",
        "missing": "Some required questions are not answered yet.",
        "one_per_screen": "One question per screen",
        "all_questions": "Show all questions",
        "on_behalf": "Entered by {name} on the patient's behalf",
        "language": "中文",
        "unavailable": "This link cannot be used any more. If you need help, contact your care team.",
    },
    "zh-Hans": {
        "yes": "是",
        "no": "否",
        "next": "下一题",
        "back": "上一题",
        "save": "保存，稍后继续",
        "submit": "提交",
        "saved": "已保存你的回答。你可以稍后回到本页继续填写。",
        "done": "谢谢！你的回答已发送给医护团队。",
        "progress": "第 {n} 题，共 {total} 题",
        "required": "请回答这道题。",
        "missing": "还有必答题没有回答。",
        "one_per_screen": "每屏一题",
        "all_questions": "显示全部题目",
        "on_behalf": "由 {name} 代患者填写",
        "language": "English",
        "unavailable": "此链接已无法使用。如需帮助，请联系你的医护团队。",
    },
}


def ui(language: str) -> dict[str, str]:
    return UI["zh-Hans" if language == "zh-Hans" else "en"]
