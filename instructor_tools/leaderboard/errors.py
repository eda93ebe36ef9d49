"""Typed errors of the challenge leaderboard (this package). The message is meant for the
person who caused it (a student's upload, a staff command) and says what to do; the web
service (app.py) turns it into an HTTP reply with `http_status`, the `leaderboard` command
(cli.py) into one sentence and `exit_code`.

    LeaderboardError
      SubmissionRejected        an upload that cannot be scored (not counted)
        UploadTooLarge          over the service's size cap (413)
      TokenRejected             a missing or unknown student token (401)
      DailyLimitReached         today's submissions are used (429)
      ChallengeClosed           after the deadline (403)
      ChallengeSetupError       a staff command that cannot work as asked (503)
"""
from __future__ import annotations


class LeaderboardError(Exception):
    """Base of the challenge leaderboard's errors (instructor_tools/leaderboard). The message
    is meant for the person who caused it (a student's upload, a staff command) and says what
    to do; the web service turns it into an HTTP reply with `http_status`."""

    exit_code = 2
    http_status = 400


class SubmissionRejected(LeaderboardError):
    """An uploaded predictions file that cannot be scored (size, encoding, header, rows, ids,
    labels); it does not count towards the daily limit."""


class UploadTooLarge(SubmissionRejected):
    """An upload over the service's size cap."""

    http_status = 413


class TokenRejected(LeaderboardError):
    """A missing or unknown student token."""

    http_status = 401


class DailyLimitReached(LeaderboardError):
    """The student has used today's submissions; `resets_at` (aware datetime) says when the
    count starts again."""

    http_status = 429

    def __init__(self, message: str, resets_at):
        super().__init__(message)
        self.resets_at = resets_at


class ChallengeClosed(LeaderboardError):
    """A submission after the deadline."""

    http_status = 403


class ChallengeSetupError(LeaderboardError):
    """A staff command that cannot work as asked (no challenge yet, images not published,
    a roster or result file that cannot be read)."""

    http_status = 503
