"""The course's deadline policy: when a submission came in, how late it is, the late days it
uses and its penalty. One rule for `grade`, `grade collect` and `bin/nbgrader autograde`.

The rule (course_config.DEADLINE; `Policy.describe()` says it in words). The default is:
each student has FREE_LATE_DAYS (6) free late days for the semester; every started 24 hours
after the student's due date (plus `grace_minutes`, default 0) is one day late; late days are
taken from the free ones first, and each further day costs `penalty_per_day` (25%) of the
points earned on the assignment, so a submission 4 days past its free days earns nothing.
`max_days_late` (default none) refuses any submission later than that many days (penalty
100%). The student README states no policy; these numbers are the course's choice, and all of
them are settings.

When it came in (`submission_time`), first found wins:
  1. nbgrader's `timestamp.txt` in the submission folder or its one assignment folder
     (submitted/<student>/hw1/; written by `nbgrader submit`, kept by `nbgrader collect`;
     format `%Y-%m-%d %H:%M:%S.%f %Z`, read with nbgrader's own parser);
  2. Gradescope's `submission_metadata.json` (`created_at`, ISO 8601 with offset), in the
     folder or next to Gradescope's `submission/` folder (/autograder/);
  3. only when asked (`file_times`, `grade --file-times`): the newest modification time of
     the submission's files, or the zip's. Off by default: copying a batch of folders resets
     every file time to the copy's and would make everyone late.
With none, the submission has no time and is never late (`source` "none").

The due date: `grade --due`, else DEADLINE["due"] (course time zone unless the text has an
offset), else the due date Gradescope's metadata gives this student (its own extensions
included), else none (nothing is late). A per-student extension from the extensions CSV
(`student_id,due`: a date-time, or a number of days, or hours as `36h`, added to the class
due date) replaces it. A ledger CSV (`student_id,late_days_used`) gives the late days each
student used on earlier assignments of the semester.

The lateness record (`Lateness.to_dict()`, result.json's "lateness"): submitted_at (UTC ISO),
source, due (the student's, ISO in the course time zone), class_due, extended, seconds_late, days_late,
late_days_used, late_days_left, penalty_fraction, penalty_points, rule. The penalty is
recomputed from this record every time results are written, so a moved due date or a new
extension gives the new penalty (nbgrader #723: a penalty kept after the due date moved).

Errors: UsageError for a malformed setting, CSV or date, with what to write instead.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import math
import pathlib
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import UsageError

UTC = dt.timezone.utc
DAY_S = 86400.0
DEFAULTS = {"due": None, "timezone": "America/New_York", "free_late_days": 6,
            "penalty_per_day": 0.25, "grace_minutes": 0, "max_days_late": None,
            "extensions": None, "late_days_ledger": None, "file_times": False}
SOURCES = ("timestamp.txt", "submission_metadata.json", "file times", "none")


# ---------------------------------------------------------------- dates

def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {name!r}: give an IANA name such as "
                         "America/New_York or UTC") from None


def parse_datetime(text: str, tz: str, what: str = "date-time") -> dt.datetime:
    """An aware datetime from ISO text (`2026-09-14T23:59`, optional seconds and offset); a
    text without offset is read in `tz`. Raises UsageError naming `what`."""
    value = str(text).strip()
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or ("T" not in value and " " not in value):
        raise UsageError(f"{what} {value!r} is not a date and time: write it as "
                         "YYYY-MM-DDTHH:MM (e.g. 2026-09-14T23:59), in the course's time zone "
                         "unless you add an offset such as -04:00")
    return when if when.tzinfo else when.replace(tzinfo=zone(tz))


def human(text: str) -> str:
    """An ISO date-time as people read it: 2026-09-14 23:59 UTC-04:00."""
    when = dt.datetime.fromisoformat(text)
    return when.strftime("%Y-%m-%d %H:%M ") + (when.tzname() or "UTC")


def iso(when: dt.datetime | None, tz: str | None = None) -> str | None:
    if when is None:
        return None
    return when.astimezone(zone(tz) if tz else UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------- when it came in

@dataclasses.dataclass(frozen=True)
class SubmissionTime:
    """When a submission came in (aware, or None), where that was read, and the due date the
    submission system gave this student (Gradescope's metadata), if any."""
    at: dt.datetime | None
    source: str = "none"
    due_hint: dt.datetime | None = None


def _nbgrader_timestamp(path: pathlib.Path) -> dt.datetime | None:
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    if not text:
        return None
    from nbgrader.utils import parse_utc    # nbgrader's own reading of what `submit` wrote
    try:
        return parse_utc(text).replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise UsageError(f"{path} holds {text[:60]!r}, not a time nbgrader wrote (e.g. "
                         "'2026-09-14 23:59:00.000000 UTC'); fix or delete the file") from None


def _gradescope_metadata(path: pathlib.Path) -> SubmissionTime | None:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        created = dt.datetime.fromisoformat(str(meta["created_at"]).replace("Z", "+00:00"))
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(f"{path} is not Gradescope's submission metadata (a JSON object with "
                         "created_at, e.g. \"2026-09-14T23:59:00-04:00\")") from None
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    due = None
    users = meta.get("users") or []
    for holder in ([u.get("assignment") for u in users if isinstance(u, dict)]
                   + [meta.get("assignment")]):
        if isinstance(holder, dict) and holder.get("due_date"):
            try:
                due = dt.datetime.fromisoformat(str(holder["due_date"]).replace("Z", "+00:00"))
            except ValueError:
                continue
            due = due if due.tzinfo else due.replace(tzinfo=UTC)
            break
    return SubmissionTime(created, "submission_metadata.json", due)


def submission_time(path, file_times: bool = False) -> SubmissionTime:
    """When the submission at `path` (folder or zip) came in; see the module docstring for
    which source wins. Raises UsageError for a timestamp.txt or metadata file that cannot be
    read as one."""
    path = pathlib.Path(path)
    if path.is_dir():
        # nbgrader's submitted/<student>/<assignment>/timestamp.txt: the folder graded may be
        # the student's, one level above
        below = sorted(path.glob("*/timestamp.txt"))
        for stamp in [path / "timestamp.txt"] + (below if len(below) == 1 else
                                                 [s for s in below if s.parent.name == "hw1"]):
            at = _nbgrader_timestamp(stamp) if stamp.is_file() else None
            if at is not None:
                return SubmissionTime(at, "timestamp.txt")
    for meta in ([path / "submission_metadata.json"] if path.is_dir() else []) + (
            [path.parent / "submission_metadata.json"] if path.name == "submission" else []):
        if meta.is_file():
            return _gradescope_metadata(meta)
    if file_times and path.exists():
        from .submission import walk_files   # environments (.venv) are not the hand-in
        files = [path] if path.is_file() else list(walk_files(path))
        if files:
            newest = max(p.stat().st_mtime for p in files)
            return SubmissionTime(dt.datetime.fromtimestamp(newest, UTC), "file times")
    return SubmissionTime(None)


# ---------------------------------------------------------------- CSV inputs

def _rows(path: pathlib.Path, what: str):
    """(line number, [cells]) of a small CSV (BOM, CRLF, `;` or tab separators), blank and
    `#` lines skipped."""
    try:
        text = pathlib.Path(path).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the {what} {path} ({exc}); it should be a UTF-8 "
                         "CSV file") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    for k, row in enumerate(csv.reader(text.splitlines(), dialect), 1):
        row = [c.strip() for c in row]
        if any(row) and not row[0].startswith("#"):
            yield k, row


def read_extensions(path, class_due: dt.datetime | None, tz: str) -> dict:
    """{student id: that student's due date (aware)} from a CSV of `student_id,due` lines;
    `due` is a date-time (course time zone unless it has an offset), a number of days
    (`2`, `1.5`) or hours (`36h`) added to the class due date. A header line is skipped.
    UsageError names a bad line, a student listed twice, or days without a class due date."""
    out, line_of = {}, {}
    for k, row in _rows(path, "extensions file"):
        if len(row) < 2 or not row[0] or not row[1]:
            raise UsageError(f"{path}, line {k}: expected `student_id,due` (a date-time such "
                             f"as 2026-09-16T23:59, or a number of days), got {row!r}")
        sid, value = row[0], row[1]
        if k == 1 and value.lower() in ("due", "extension", "days", "new_due", "due_date"):
            continue
        if sid in out:
            raise UsageError(f"{path}, lines {line_of[sid]} and {k}: {sid} has two extensions; "
                             "keep one line per student")
        number = value[:-1] if value.lower().endswith("h") else value
        try:
            amount = float(number)
        except ValueError:
            amount = None
        if amount is not None:
            if class_due is None:
                raise UsageError(f"{path}, line {k}: {value!r} extends a due date, but none is "
                                 "set: give --due or DEADLINE['due'] in course_config.py, or "
                                 "write the student's own due date")
            if amount < 0 or not math.isfinite(amount):
                raise UsageError(f"{path}, line {k}: an extension of {value!r} is not a "
                                 "number of days (or hours, `36h`) of 0 or more")
            hours = amount if value.lower().endswith("h") else amount * 24
            out[sid] = class_due + dt.timedelta(hours=hours)
        else:
            out[sid] = parse_datetime(value, tz, f"{path}, line {k}: the due date")
        line_of[sid] = k
    return out


def read_ledger(path) -> dict:
    """{student id: late days used on earlier assignments} from `student_id,late_days_used`
    lines (a header line is skipped). UsageError names a bad line or a repeated student."""
    out, line_of = {}, {}
    for k, row in _rows(path, "late-day ledger"):
        if len(row) < 2 or not row[0]:
            raise UsageError(f"{path}, line {k}: expected `student_id,late_days_used`, got {row!r}")
        try:
            used = int(row[1])
        except ValueError:
            if k == 1:
                continue   # a header
            raise UsageError(f"{path}, line {k}: {row[1]!r} is not a whole number of late "
                             "days") from None
        if used < 0:
            raise UsageError(f"{path}, line {k}: {used} late days used: give 0 or more")
        if row[0] in out:
            raise UsageError(f"{path}, lines {line_of[row[0]]} and {k}: {row[0]} is listed "
                             "twice; keep one line per student (the days used before this "
                             "assignment)")
        out[row[0]], line_of[row[0]] = used, k
    return out


# ---------------------------------------------------------------- the rule

@dataclasses.dataclass(frozen=True)
class Charge:
    """What lateness costs: whole days late, free late days spent, the fraction of the
    earned points taken (0..1) and the free late days left after this assignment (None when
    nothing was due)."""
    days_late: int = 0
    late_days_used: int = 0
    penalty_fraction: float = 0.0
    late_days_left: int | None = None
    refused: bool = False


def _listed(table: dict, student: str):
    """The key of `table` (extensions, ledger) for `student`: the id itself, else the one id
    differing only in case (a spreadsheet's "Alice" for the folder alice), else None."""
    if student in table:
        return student
    same = [k for k in table if str(k).casefold() == str(student).casefold()]
    return same[0] if len(same) == 1 else None


@dataclasses.dataclass(frozen=True)
class Policy:
    """The deadline rule with its inputs (dates aware). Build with `from_settings`."""
    due: dt.datetime | None = None
    timezone: str = DEFAULTS["timezone"]
    free_late_days: int = DEFAULTS["free_late_days"]
    penalty_per_day: float = DEFAULTS["penalty_per_day"]
    grace_minutes: float = DEFAULTS["grace_minutes"]
    max_days_late: int | None = DEFAULTS["max_days_late"]
    extensions: dict = dataclasses.field(default_factory=dict)
    used_before: dict = dataclasses.field(default_factory=dict)
    file_times: bool = False

    @classmethod
    def from_settings(cls, settings: dict | None = None, *, due=None, extensions=None,
                      ledger=None, file_times=None, root: pathlib.Path | None = None) -> "Policy":
        """The policy of `settings` (course_config.DEADLINE's keys; missing ones take
        DEFAULTS), with command-line overrides: `due` (ISO text), `extensions` and `ledger`
        (CSV paths), `file_times`. Relative CSV paths in `settings` are read from `root`.
        Raises UsageError for unknown keys or values out of range."""
        s = dict(DEFAULTS)
        unknown = sorted(set(settings or {}) - set(DEFAULTS))
        if unknown:
            raise UsageError(f"unknown DEADLINE setting(s) {', '.join(unknown)} in "
                             f"course_config.py; known: {', '.join(DEFAULTS)}")
        s.update(settings or {})
        tz = str(s["timezone"])
        zone(tz)
        for key in ("free_late_days", "grace_minutes", "penalty_per_day"):
            if not isinstance(s[key], (int, float)) or isinstance(s[key], bool) or s[key] < 0:
                raise UsageError(f"DEADLINE[{key!r}] = {s[key]!r}: give a number of 0 or more")
        if s["penalty_per_day"] > 1:
            raise UsageError(f"DEADLINE['penalty_per_day'] = {s['penalty_per_day']!r} is a "
                             "fraction of the earned points per day: give 0..1 (0.25 = 25%)")
        if s["max_days_late"] is not None and (not isinstance(s["max_days_late"], int)
                                               or s["max_days_late"] < 0):
            raise UsageError(f"DEADLINE['max_days_late'] = {s['max_days_late']!r}: give a "
                             "whole number of days, or None for no limit")
        due_text = due if due is not None else s["due"]
        class_due = parse_datetime(due_text, tz, "the due date") if due_text else None

        def where(p):
            p = pathlib.Path(p)
            return p if p.is_absolute() or root is None else pathlib.Path(root) / p
        ext_path = extensions if extensions is not None else s["extensions"]
        led_path = ledger if ledger is not None else s["late_days_ledger"]
        return cls(due=class_due, timezone=tz, free_late_days=int(s["free_late_days"]),
                   penalty_per_day=float(s["penalty_per_day"]),
                   grace_minutes=float(s["grace_minutes"]), max_days_late=s["max_days_late"],
                   extensions=read_extensions(where(ext_path), class_due, tz) if ext_path else {},
                   used_before=read_ledger(where(led_path)) if led_path else {},
                   file_times=bool(s["file_times"] if file_times is None else file_times))

    def describe(self) -> str:
        """The rule in one sentence (feedback, CSV, README)."""
        rule = (f"{self.free_late_days} free late day{'s' if self.free_late_days != 1 else ''} "
                f"per semester, then {self.penalty_per_day:.0%} of the earned points per day "
                "late (each started 24 hours counts as a day")
        if self.grace_minutes:
            rule += f", after a grace of {self.grace_minutes:g} minutes"
        rule += ")"
        if self.max_days_late is not None:
            rule += f"; not accepted more than {self.max_days_late} days late"
        return rule

    def due_for(self, student: str, hint: dt.datetime | None = None):
        """(the student's due date or None, extended?): the extension, else the class due
        date, else the submission system's (`hint`)."""
        key = _listed(self.extensions, student)
        if key is not None:
            return self.extensions[key], True
        return (self.due if self.due is not None else hint), False

    def charge(self, student: str, seconds_late: float, has_due: bool = True) -> Charge:
        """What `seconds_late` seconds past the student's due date cost under this rule."""
        if not has_due:
            return Charge()
        key = _listed(self.used_before, student)
        available = max(0, self.free_late_days - (self.used_before[key] if key is not None else 0))
        seconds = seconds_late - 60.0 * self.grace_minutes
        days = int(math.ceil(seconds / DAY_S)) if seconds > 0 else 0
        used = min(days, available)
        fraction = min(1.0, (days - used) * self.penalty_per_day)
        refused = self.max_days_late is not None and days > self.max_days_late
        if refused:
            fraction = 1.0
        return Charge(days, used, round(fraction, 6), available - used, refused)

    def assess(self, student: str, when: SubmissionTime) -> "Lateness":
        """The lateness of `student`'s submission that came in `when`."""
        due, extended = self.due_for(student, when.due_hint)
        # in UTC: two datetimes of the same zone subtract as wall clocks (an hour off across
        # a daylight-saving change), whatever zone each was written in
        seconds = (max(0.0, (when.at.astimezone(UTC) - due.astimezone(UTC)).total_seconds())
                   if due and when.at else 0.0)
        c = self.charge(student, seconds, has_due=due is not None and when.at is not None)
        class_due = self.due if self.due is not None else when.due_hint
        return Lateness(submitted_at=iso(when.at), source=when.source,
                        due=iso(due, self.timezone), class_due=iso(class_due, self.timezone),
                        extended=extended,
                        seconds_late=round(seconds, 3), days_late=c.days_late,
                        late_days_used=c.late_days_used, late_days_left=c.late_days_left,
                        penalty_fraction=c.penalty_fraction, refused=c.refused,
                        rule=self.describe())


@dataclasses.dataclass
class Lateness:
    """One submission's lateness (see the module docstring); penalty_points is set by
    `apply` from the points earned."""
    submitted_at: str | None = None
    source: str = "none"
    due: str | None = None
    class_due: str | None = None
    extended: bool = False
    seconds_late: float = 0.0
    days_late: int = 0
    late_days_used: int = 0
    late_days_left: int | None = None
    penalty_fraction: float = 0.0
    penalty_points: float = 0.0
    refused: bool = False
    rule: str = ""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Lateness":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in dict(data).items() if k in names})

    def time(self) -> SubmissionTime:
        when = dt.datetime.fromisoformat(self.submitted_at) if self.submitted_at else None
        return SubmissionTime(when, self.source if when else "none")

    def sentence(self, points: bool = True) -> str:
        """For the student: when it came in and what lateness cost, in one or two sentences
        (`points`: with the points the penalty takes from the autograded score)."""
        if not self.submitted_at:
            return "No submission time was recorded, so this submission counts as on time."
        if not self.due:
            return f"Submitted {human(self.submitted_at)}; no due date is set."
        due = f"due {human(self.due)}" + (", your extension" if self.extended else "")
        if not self.days_late:
            return f"Submitted on time ({due})."
        days = f"{self.days_late} day{'s' if self.days_late != 1 else ''} late"
        used = (f"{self.late_days_used} free late day{'s' if self.late_days_used != 1 else ''} "
                f"used ({self.late_days_left} left)")
        if self.refused:
            return (f"Submitted {days} ({due}): later than the course accepts, so no points "
                    "count. Please write to the course staff if you think this is wrong.")
        if not self.penalty_fraction:
            return f"Submitted {days} ({due}): {used}, no penalty."
        return (f"Submitted {days} ({due}): {used}; the late penalty is "
                f"{self.penalty_fraction:.0%} of the points earned"
                + (f" (-{self.penalty_points:g} points)." if points else "."))


def apply(result, policy: Policy, when: SubmissionTime | None = None) -> Lateness:
    """Set `result.lateness` (a GradeResult's, as a dict) from `policy`: the submission time
    `when`, else the one `result` already records (so `grade collect` with a moved due date
    recomputes). Returns the Lateness."""
    if when is None:
        when = (Lateness.from_dict(result.lateness).time() if result.lateness
                else SubmissionTime(None))
    late = policy.assess(result.student, when)
    late.penalty_points = round(late.penalty_fraction * float(result.score), 6)
    result.lateness = late.to_dict()
    return late


def course_settings() -> dict:
    """course_config.DEADLINE (the repository's), or {} when it has none."""
    from ..release.course import config
    return dict(getattr(config, "DEADLINE", {}) or {})


def course_root() -> pathlib.Path:
    from ..release.course import REPO
    return REPO
