"""The words of each message template, as (subject msgid, body msgid), and their translations.

Keys are the touchpoint templates of followup/default_followup.toml (and producers' own keys).
"""

from __future__ import annotations

PATIENT_TEXTS: dict[str, tuple[str, str]] = {
    # A care-team message (notify.conversation): the text itself stays behind the inbox link.
    "care-team-message": (
        "A new message from your care team",
        "Your care team has written to you. Tap the link to read it and reply.",
    ),
    # A staff member's alert about an urgent task (notify.oncall.alerts): no patient name or value,
    # the link acknowledges; the worklist behind the login has the details.
    "staff-urgent-task": (
        "Urgent task: you are needed now",
        "An urgent follow-up task needs you now. Tap the link to take it; the details are on the worklist.",
    ),
    "check-in": (
        "A message from your care team",
        "Your care team would like to know how you are. Please tap the link to answer.",
    ),
    "urgent-check": (
        "Please contact your care team now",
        "Your care team needs to hear from you now. Please tap the link, or call the clinic.",
    ),
    "symptom-questionnaire": (
        "A few questions from your care team",
        "Please answer a few short questions about how you feel.",
    ),
    "voice-check-in": (
        "A call from your care team",
        "This is your care team. We would like to know how you are. Please answer the message we sent.",
    ),
    "urgent-voice": (
        "An urgent call from your care team",
        "This is your care team. Please contact us now.",
    ),
    "visit-reminder": (
        "Your visit is coming up",
        "A reminder of your visit with your care team next week.",
    ),
    "visit-confirm": (
        "Please confirm your visit",
        "Please confirm your visit, or tell us if you need to move it.",
    ),
    "visit-voice-reminder": (
        "Your visit is tomorrow",
        "This is your care team. A reminder that your visit is tomorrow.",
    ),
    # Care programs' weekly modules (vitalgate.programs.delivery): no condition named in the message.
    "program-education": (
        "Something to read from your care team",
        "Your care team has sent you this week's reading. Please tap the link to open it.",
    ),
    "program-checkin": (
        "Your weekly check-in",
        "Please answer this week's short check-in from your care team.",
    ),
}

CAREGIVER_TEXTS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        ("check-in", "symptom-questionnaire", "voice-check-in"),
        (
            "A message about your family member",
            "The care team is checking in with your family member. You may want to check in with them too.",
        ),
    ),
    **dict.fromkeys(
        ("urgent-check", "urgent-voice"),
        (
            "Please check on your family member",
            "The care team is trying to reach your family member urgently. Please check on them now.",
        ),
    ),
    **dict.fromkeys(
        ("visit-reminder", "visit-confirm", "visit-voice-reminder"),
        (
            "Your family member has a visit coming up",
            "A reminder that your family member has a visit with the care team soon.",
        ),
    ),
}

COMMON: dict[str, str] = {
    "link": "Open: {link}",
    "reading": "Reading: {reading}",
}

ZH_HANS: dict[str, str] = {
    "A new message from your care team": "医护团队给您发来新消息",
    "Your care team has written to you. Tap the link to read it and reply.": "医护团队给您留言了，请点击链接查看并回复。",
    "A message from your care team": "来自您的医护团队的消息",
    "Your care team would like to know how you are. Please tap the link to answer.": (
        "您的医护团队想了解您的近况，请点击链接回复。"
    ),
    "Please contact your care team now": "请立即联系您的医护团队",
    "Your care team needs to hear from you now. Please tap the link, or call the clinic.": (
        "您的医护团队需要立即与您联系，请点击链接或致电诊所。"
    ),
    "A few questions from your care team": "医护团队的几个问题",
    "Please answer a few short questions about how you feel.": "请回答几个关于您身体感受的简短问题。",
    "A call from your care team": "医护团队来电",
    "This is your care team. We would like to know how you are. Please answer the message we sent.": (
        "这里是您的医护团队。我们想了解您的近况，请回复我们发送的消息。"
    ),
    "An urgent call from your care team": "医护团队的紧急来电",
    "This is your care team. Please contact us now.": "这里是您的医护团队，请立即与我们联系。",
    "Your visit is coming up": "您的复诊即将到来",
    "A reminder of your visit with your care team next week.": "提醒您下周与医护团队的复诊。",
    "Please confirm your visit": "请确认您的复诊",
    "Please confirm your visit, or tell us if you need to move it.": "请确认您的复诊，如需改期请告诉我们。",
    "Your visit is tomorrow": "您的复诊在明天",
    "Something to read from your care team": "医护团队给您的阅读材料",
    "Your care team has sent you this week's reading. Please tap the link to open it.": (
        "医护团队给您发送了本周的阅读材料，请点击链接打开。"
    ),
    "Your weekly check-in": "您的每周随访",
    "Please answer this week's short check-in from your care team.": "请回答医护团队本周的简短随访问卷。",
    "This is your care team. A reminder that your visit is tomorrow.": "这里是您的医护团队，提醒您明天复诊。",
    "A message about your family member": "关于您家人的消息",
    "The care team is checking in with your family member. You may want to check in with them too.": (
        "医护团队正在询问您家人的近况，您也可以关心一下他们。"
    ),
    "Please check on your family member": "请关心一下您的家人",
    "The care team is trying to reach your family member urgently. Please check on them now.": (
        "医护团队正在紧急联系您的家人，请立即查看他们的情况。"
    ),
    "Your family member has a visit coming up": "您的家人即将复诊",
    "A reminder that your family member has a visit with the care team soon.": "提醒您，您的家人即将与医护团队复诊。",
    "Urgent task: you are needed now": "紧急任务：请立即处理",
    "An urgent follow-up task needs you now. Tap the link to take it; the details are on the worklist.": (
        "有一项紧急随访任务需要您立即处理。请点击链接接手任务，详情请查看工作列表。"
    ),
    "Open: {link}": "打开：{link}",
    "Reading: {reading}": "测量值：{reading}",
}


def translate(locale: str, msgid: str) -> str:
    """The msgid in `locale` (zh-Hans, else English)."""
    if locale == "zh-Hans":
        return ZH_HANS.get(msgid, msgid)
    return msgid
