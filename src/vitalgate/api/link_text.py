"""Words of the signed-link pages in both languages (moved into the i18n catalogs once vitalgate.i18n lands)."""

from __future__ import annotations

from typing import Final

TEXT: Final[dict[str, dict[str, str]]] = {
    "en": {
        "brand": "Your care team",
        "check_in_q": "How are you?",
        "ok": "I'm OK",
        "call_me": "Please call me",
        "visit_q": "Your follow-up visit",
        "visit_at": "Visit time",
        "confirm": "I will come",
        "move": "Please move my visit",
        "answered": "Thank you. Your care team has your answer:",
        "answer_ok": "I'm OK",
        "answer_call_me": "Please call me",
        "answer_confirm": "Visit confirmed",
        "answer_move": "Asked to move the visit",
        "answer_acknowledged": "Task acknowledged",
        "answer_submitted": "Questionnaire sent",
        "staff_ack_q": "Take this task?",
        "acknowledged": "Take it",
        "inbox": "Messages with your care team",
        "you": "You",
        "care_team": "Care team",
        "reply": "Write to your care team",
        "send": "Send",
        "sent": "Sent. Your care team will read it.",
        "emergency": "In an emergency call 120 (China) or your local emergency number.",
        "no_messages": "No messages yet.",
        "invalid": "This link cannot be used. It may be mistyped, already used, or expired.",
        "expired": "This link has expired. Your care team will contact you.",
        "used": "This question was answered already. Thank you.",
    },
    "zh-Hans": {
        "brand": "您的医护团队",
        "check_in_q": "您现在感觉怎么样？",
        "ok": "我很好",
        "call_me": "请给我打电话",
        "visit_q": "您的复诊",
        "visit_at": "复诊时间",
        "confirm": "我会按时来",
        "move": "请帮我改期",
        "answered": "谢谢。医护团队已收到您的回答：",
        "answer_ok": "我很好",
        "answer_call_me": "请给我打电话",
        "answer_confirm": "已确认复诊",
        "answer_move": "已申请改期",
        "answer_acknowledged": "已接手任务",
        "answer_submitted": "问卷已提交",
        "staff_ack_q": "接手这个任务？",
        "acknowledged": "接手",
        "inbox": "与医护团队的消息",
        "you": "我",
        "care_team": "医护团队",
        "reply": "给医护团队留言",
        "send": "发送",
        "sent": "已发送，医护团队会查看。",
        "emergency": "如遇紧急情况，请拨打 120。",
        "no_messages": "还没有消息。",
        "invalid": "此链接无法使用：可能输入有误、已使用或已过期。",
        "expired": "此链接已过期，医护团队会与您联系。",
        "used": "此问题已回答，谢谢。",
    },
}


def words(locale: str | None) -> dict[str, str]:
    return TEXT["zh-Hans"] if locale == "zh-Hans" else TEXT["en"]
