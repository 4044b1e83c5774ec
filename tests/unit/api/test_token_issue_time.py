"""A token's issue time is exact, so revocation in the same second still ends it."""

from datetime import UTC, datetime, timedelta

from vitalgate.api.auth import TokenSigner


def test_issue_time_survives_the_token_to_the_microsecond() -> None:
    signer = TokenSigner("s" * 32, access_minutes=15, session_hours=8)
    issued = datetime.now(UTC).replace(microsecond=456_789)
    token = signer.issue(7, "patient", "access", now=issued)
    claims = signer.verify_claims(token, "access")
    # before: whole seconds , so a sign-out 0.3 s later in the same second did not end this session
    assert claims.issued_at == issued
    revoked_later_same_second = issued + timedelta(milliseconds=300)
    assert claims.issued_at < revoked_later_same_second
