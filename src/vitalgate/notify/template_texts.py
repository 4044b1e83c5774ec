"""The words of each message template, as (subject msgid, body msgid); translations in the i18n area `notify`.

Keys are the touchpoint templates of followup/default_followup.toml (and producers' own keys).
"""

from __future__ import annotations

from vitalgate.i18n import N_

PATIENT_TEXTS: dict[str, tuple[str, str]] = {
    # A care-team message (notify.conversation): the text itself stays behind the inbox link.
    "care-team-message": (
        N_("A new message from your care team"),
        N_("Your care team has written to you. Tap the link to read it and reply."),
    ),
    # A staff member's alert about an urgent task (notify.oncall.alerts): no patient name or value,
    # the link acknowledges; the worklist behind the login has the details.
    "staff-urgent-task": (
        N_("Urgent task: you are needed now"),
        N_("An urgent follow-up task needs you now. Tap the link to take it; the details are on the worklist."),
    ),
    "check-in": (
        N_("A message from your care team"),
        N_("Your care team would like to know how you are. Please tap the link to answer."),
    ),
    "urgent-check": (
        N_("Please contact your care team now"),
        N_("Your care team needs to hear from you now. Please tap the link, or call the clinic."),
    ),
    "symptom-questionnaire": (
        N_("A few questions from your care team"),
        N_("Please answer a few short questions about how you feel."),
    ),
    "voice-check-in": (
        N_("A call from your care team"),
        N_("This is your care team. We would like to know how you are. Please answer the message we sent."),
    ),
    "urgent-voice": (
        N_("An urgent call from your care team"),
        N_("This is your care team. Please contact us now."),
    ),
    "visit-reminder": (
        N_("Your visit is coming up"),
        N_("A reminder of your visit with your care team next week."),
    ),
    "visit-confirm": (
        N_("Please confirm your visit"),
        N_("Please confirm your visit, or tell us if you need to move it."),
    ),
    "visit-voice-reminder": (
        N_("Your visit is tomorrow"),
        N_("This is your care team. A reminder that your visit is tomorrow."),
    ),
    # Care programs' weekly modules (vitalgate.programs.delivery): no condition named in the message.
    "program-education": (
        N_("Something to read from your care team"),
        N_("Your care team has sent you this week's reading. Please tap the link to open it."),
    ),
    "program-checkin": (
        N_("Your weekly check-in"),
        N_("Please answer this week's short check-in from your care team."),
    ),
}

CAREGIVER_TEXTS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        ("check-in", "symptom-questionnaire", "voice-check-in"),
        (
            N_("A message about your family member"),
            N_("The care team is checking in with your family member. You may want to check in with them too."),
        ),
    ),
    **dict.fromkeys(
        ("urgent-check", "urgent-voice"),
        (
            N_("Please check on your family member"),
            N_("The care team is trying to reach your family member urgently. Please check on them now."),
        ),
    ),
    **dict.fromkeys(
        ("visit-reminder", "visit-confirm", "visit-voice-reminder"),
        (
            N_("Your family member has a visit coming up"),
            N_("A reminder that your family member has a visit with the care team soon."),
        ),
    ),
}

COMMON: dict[str, str] = {
    "link": N_("Open: {link}"),
    "reading": N_("Reading: {reading}"),
}
