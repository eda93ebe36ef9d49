"""Who sees what, when: Gradescope's visibility levels for the autograder's output, and the
same rule for the feedback page `grade` writes.

Two settings (course_config.RESULTS_VISIBILITY, `grade --results-visibility/--checks-visibility`):
  results  Gradescope's top-level `visibility` of results.json (the score and the summary).
  checks   each check: its Gradescope test `visibility`, and in feedback.html the
           check-by-check tables (name, result, message); the per-question points stay.
Levels (Gradescope's): visible, hidden, after_due_date (after the student's due date,
extensions included), after_published (once staff publish the grades). The default is
`visible` for both: nothing changes unless a course asks.

Gradescope applies its levels when a student looks; feedback.html is written once, so its
check tables are shown when, at writing time, the level is `visible`, or `after_due_date`
and the student's due date (result.json's lateness) has passed, or `after_published` and
staff said the grades are published (`grade collect OUT --published`). Run `grade collect`
again after the due date or on publishing to write the pages with the details.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from .errors import UsageError

LEVELS = ("visible", "hidden", "after_due_date", "after_published")
DEFAULTS = {"results": "visible", "checks": "visible"}


@dataclasses.dataclass(frozen=True)
class Visibility:
    results: str = "visible"
    checks: str = "visible"
    published: bool = False
    now: dt.datetime | None = None     # the writing time (None: now); tests set it

    @classmethod
    def from_settings(cls, settings: dict | None = None, *, results=None, checks=None,
                      published: bool = False) -> "Visibility":
        """From course_config.RESULTS_VISIBILITY with command-line overrides. Raises
        UsageError for an unknown key or level."""
        s = dict(DEFAULTS)
        unknown = sorted(set(settings or {}) - set(DEFAULTS))
        if unknown:
            raise UsageError(f"unknown RESULTS_VISIBILITY setting(s) {', '.join(unknown)} in "
                             f"course_config.py; known: {', '.join(DEFAULTS)}")
        s.update(settings or {})
        if results is not None:
            s["results"] = results
        if checks is not None:
            s["checks"] = checks
        for key, level in s.items():
            if level not in LEVELS:
                raise UsageError(f"visibility of {key} {level!r}: give one of {', '.join(LEVELS)}")
        return cls(s["results"], s["checks"], bool(published))

    def show_check_details(self, result) -> bool:
        """Whether feedback.html written now shows `result`'s check-by-check tables."""
        if self.checks == "visible":
            return True
        if self.checks == "after_published":
            return self.published
        if self.checks == "after_due_date":
            if self.published:
                return True
            due = (getattr(result, "lateness", None) or {}).get("due")
            now = self.now or dt.datetime.now(dt.timezone.utc)
            return bool(due) and now >= dt.datetime.fromisoformat(due)
        return False

    def withheld_sentence(self) -> str:
        return {"after_due_date": "The check-by-check results are shown after the due date.",
                "after_published": "The check-by-check results are shown once grades are "
                                   "published.",
                }.get(self.checks, "The check-by-check results are not shown for this "
                                   "assignment.")


DEFAULT = Visibility()
