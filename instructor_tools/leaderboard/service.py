"""The leaderboard's rules: who may submit, what counts, what the board shows, staff actions.

`Leaderboard(sessions, clock)`: `sessions` from store.open_database, `clock()` returns an
aware datetime (injectable for tests). Nothing here returns labels, per-image correctness or,
before the deadline, private scores, except the staff exports (`standings_csv(staff=True)`)
which staff run on the server.

Rules:
- A scored submission counts towards the daily limit; a rejected file, a bad token or a
  submission refused by the limit do not. Days start at midnight in the challenge's time zone.
- The public board ranks students by their best public-split accuracy (ties: the earlier).
- From the deadline on, the final standing ranks by the private-split accuracy of each
  student's selected submission (default: their best public one).
- Verified: the Q8.8 accuracy the grader measured by training the student's code; staff are
  flagged where the uploaded public accuracy exceeds it by more than `flag_margin`, and
  where the grader flagged that result (result.json "flags": copied labels, accuracy beyond
  what the model's training allows, literal data; kept in verified_source).
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import pathlib
import secrets
import threading
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from instructor_tools.leaderboard.errors import (ChallengeClosed, ChallengeSetupError,
                                            DailyLimitReached, LeaderboardError,
                                            SubmissionRejected, TokenRejected)

from . import scoring
from .store import Challenge, Participant, Submission, hash_token

UTC = dt.timezone.utc
DISPLAY_NAME_MAX = 40
VERIFIED_QUESTION = "Q8.8"
# Where result.json carried staff flags (issue 16), verified_source holds them after this.
GRADER_FLAGGED = "; grader flags: "


def utc_now() -> dt.datetime:
    return dt.datetime.now(UTC)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _aware(naive: dt.datetime) -> dt.datetime:
    return naive.replace(tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class Receipt:
    """What a student is told after a scored submission."""
    submission_id: int
    public_accuracy: float
    used_today: int
    remaining_today: int
    resets_at: dt.datetime  # aware, in the challenge's time zone

    def as_json(self) -> dict:
        return {"submission_id": self.submission_id, "public_accuracy": self.public_accuracy,
                "remaining_today": self.remaining_today, "resets_at": self.resets_at.isoformat(),
                "counted": True}


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the board. `private_accuracy` is None before the deadline."""
    rank: int
    name: str
    is_baseline: bool
    public_accuracy: float | None
    private_accuracy: float | None
    verified_accuracy: float | None
    submissions: int
    last_submission: dt.datetime | None


class Leaderboard:
    def __init__(self, sessions, clock=utc_now):
        self.sessions, self.clock = sessions, clock
        # One scoring at a time per server process: two simultaneous uploads of one student
        # must not both pass the daily-limit count.
        self._submit_lock = threading.Lock()

    # ------------------------------------------------------------ challenge

    def challenge(self, session) -> Challenge:
        challenge = session.query(Challenge).first()
        if challenge is None:
            raise ChallengeSetupError("No challenge in this database yet: staff run "
                                      "`leaderboard create` first.")
        return challenge

    def info(self) -> dict:
        with self.sessions() as s:
            c = self.challenge(s)
            zone = ZoneInfo(c.timezone)
            return {"title": c.title, "deadline": _aware(c.deadline).astimezone(zone),
                    "timezone": c.timezone, "daily_limit": c.daily_limit,
                    "public_fraction": c.public_fraction, "published": c.labels is not None,
                    "n_images": len(c.labels) if c.labels is not None else 0,
                    "closed": self.closed(c), "max_upload_bytes": c.max_upload_bytes}

    def closed(self, challenge: Challenge) -> bool:
        return self.clock() >= _aware(challenge.deadline)

    def create(self, title: str, deadline: dt.datetime, timezone: str, daily_limit: int = 3,
               public_fraction: float = 0.1, max_upload_bytes: int = 1 << 20,
               flag_margin: float = 0.05) -> None:
        """Create (or update the settings of) the challenge. A naive `deadline` is read in
        `timezone`."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ChallengeSetupError(f"Unknown time zone {timezone!r}; use an IANA name such "
                                      "as 'America/New_York'.") from None
        if not 0 < public_fraction < 1:
            raise ChallengeSetupError(f"public fraction must be between 0 and 1 (got "
                                      f"{public_fraction}).")
        if daily_limit < 1:
            raise ChallengeSetupError(f"daily limit must be at least 1 (got {daily_limit}).")
        if deadline.tzinfo is None:
            deadline = deadline.replace(tzinfo=zone)
        with self.sessions.begin() as s:
            c = s.query(Challenge).first() or Challenge()
            c.title, c.deadline, c.timezone = title, _naive_utc(deadline), timezone
            c.daily_limit, c.public_fraction = daily_limit, public_fraction
            c.max_upload_bytes, c.flag_margin = max_upload_bytes, flag_margin
            s.add(c)

    def publish(self, images: np.ndarray, labels: np.ndarray, out: pathlib.Path,
                seed: int = 0) -> dict:
        """Shuffle the held-out images, write them as the .npy test.py reads (uint8
        (N, 32, 32, 3)) to `out`, keep their labels and a random public split on the server."""
        images, labels = np.asarray(images), np.asarray(labels)
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (32, 32, 3) \
                or len(labels) != len(images):
            raise ChallengeSetupError(f"expected uint8 images (N, 32, 32, 3) and N labels, got "
                                      f"{images.dtype} {images.shape} and {len(labels)} labels.")
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(images))
        shuffled = np.ascontiguousarray(images[order])
        with self.sessions.begin() as s:
            c = self.challenge(s)
            n_public = max(1, round(c.public_fraction * len(images)))
            mask = np.zeros(len(images), dtype=np.uint8)
            mask[rng.choice(len(images), n_public, replace=False)] = 1
            out = pathlib.Path(out).resolve()
            out.parent.mkdir(parents=True, exist_ok=True)
            np.save(out, shuffled)
            c.labels = labels[order].astype(np.uint8).tobytes()
            c.public_mask = mask.tobytes()
            c.images_path = str(out)
            c.images_sha256 = hashlib.sha256(out.read_bytes()).hexdigest()
        return {"path": str(out), "n_images": len(images), "n_public": n_public}

    def _split(self, c: Challenge):
        if c.labels is None:
            raise ChallengeSetupError("The challenge images are not published yet: staff run "
                                      "`leaderboard publish` first.")
        return (np.frombuffer(c.labels, dtype=np.uint8).astype(np.int64),
                np.frombuffer(c.public_mask, dtype=np.uint8).astype(bool))

    # ------------------------------------------------------------ roster and tokens

    def add_students(self, students) -> int:
        """Add (student_id, email or None) pairs not yet present; returns how many were new."""
        added = 0
        with self.sessions.begin() as s:
            known = {p.student_id for p in s.query(Participant)}
            for student_id, email in students:
                if student_id not in known:
                    s.add(Participant(student_id=student_id, email=email))
                    known.add(student_id)
                    added += 1
        return added

    def import_gradebook(self, gradebook: pathlib.Path) -> int:
        """Add the students of an nbgrader gradebook.db; returns how many were new."""
        from nbgrader.api import Gradebook
        path = pathlib.Path(gradebook)
        if not path.is_file():
            raise ChallengeSetupError(f"No gradebook at {path}.")
        with Gradebook(f"sqlite:///{path.resolve()}") as gb:
            students = [(st.id, st.email) for st in gb.students]
        return self.add_students(students)

    def issue_tokens(self, reissue: bool = False, only: list[str] | None = None):
        """New secret tokens for students without one (all listed in `only` with reissue).
        Returns [(student_id, email, token)]; only the hashes are stored."""
        issued = []
        with self.sessions.begin() as s:
            for p in s.query(Participant).filter_by(is_baseline=False).order_by(Participant.id):
                if only is not None and p.student_id not in only:
                    continue
                if p.token_hash is None or reissue:
                    token = secrets.token_urlsafe(32)
                    p.token_hash = hash_token(token)
                    issued.append((p.student_id, p.email or "", token))
        return issued

    def _participant(self, s, token: str | None) -> Participant:
        if not token:
            raise TokenRejected("No token given: send the token staff sent you (form field "
                                "'token', or the header 'Authorization: Bearer TOKEN').")
        p = s.query(Participant).filter_by(token_hash=hash_token(token.strip())).first()
        if p is None:
            raise TokenRejected("This token is not known. Check that you copied it whole; ask "
                                "staff for a new one if it is lost.")
        return p

    # ------------------------------------------------------------ students

    def _day(self, c: Challenge):
        """(start of today, start of tomorrow) in the challenge's time zone, aware."""
        zone = ZoneInfo(c.timezone)
        local = self.clock().astimezone(zone)
        start = dt.datetime.combine(local.date(), dt.time(0), tzinfo=zone)
        tomorrow = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0),
                                       tzinfo=zone)
        return start, tomorrow

    def _used_today(self, s, c, p) -> tuple[int, dt.datetime]:
        start, tomorrow = self._day(c)
        used = s.query(Submission).filter(Submission.participant_id == p.id,
                                          Submission.created_at >= _naive_utc(start)).count()
        return used, tomorrow

    def submit(self, token: str | None, data: bytes, display_name: str | None = None) -> Receipt:
        """Score an upload. Raises TokenRejected, ChallengeClosed, DailyLimitReached,
        SubmissionRejected (none of which count)."""
        with self._submit_lock, self.sessions.begin() as s:
            c = self.challenge(s)
            p = self._participant(s, token)
            if self.closed(c):
                raise ChallengeClosed("The challenge closed at "
                                      f"{self._local(c, c.deadline)}; no more submissions.")
            used, tomorrow = self._used_today(s, c, p)
            if used >= c.daily_limit:
                raise DailyLimitReached(
                    f"You have used all {c.daily_limit} submissions for today; the count resets "
                    f"at {tomorrow:%Y-%m-%d %H:%M %Z}.", tomorrow)
            labels, mask = self._split(c)
            predicted = scoring.parse_predictions(data, len(labels), c.max_upload_bytes)
            public, private = scoring.split_accuracies(predicted, labels, mask)
            if display_name is not None and display_name.strip():
                p.display_name = self._clean_name(display_name)
            sub = Submission(participant_id=p.id, created_at=_naive_utc(self.clock()),
                             content=data, public_accuracy=public, private_accuracy=private)
            s.add(sub)
            s.flush()
            return Receipt(sub.id, public, used + 1, c.daily_limit - used - 1, tomorrow)

    def remaining(self, token: str | None) -> tuple[int, dt.datetime]:
        with self.sessions() as s:
            c = self.challenge(s)
            p = self._participant(s, token)
            used, tomorrow = self._used_today(s, c, p)
            return max(0, c.daily_limit - used), tomorrow

    @staticmethod
    def _clean_name(name: str) -> str:
        name = " ".join(name.split())
        if not name or len(name) > DISPLAY_NAME_MAX or not name.isprintable():
            raise SubmissionRejected(f"A display name must be 1 to {DISPLAY_NAME_MAX} printable "
                                     "characters.")
        return name

    def set_display_name(self, token: str | None, name: str) -> str:
        with self.sessions.begin() as s:
            p = self._participant(s, token)
            p.display_name = self._clean_name(name)
            return p.display_name

    def select(self, token: str | None, submission_id: int) -> None:
        """Choose which of one's own submissions decides the final standing."""
        with self.sessions.begin() as s:
            c = self.challenge(s)
            p = self._participant(s, token)
            if self.closed(c):
                raise ChallengeClosed("The challenge is closed; the selection can no longer "
                                      "change.")
            if not any(sub.id == submission_id for sub in p.submissions):
                raise SubmissionRejected(f"Submission {submission_id} is not one of yours; "
                                         "see GET /api/me for your submissions.")
            p.selected_id = submission_id

    def mine(self, token: str | None) -> dict:
        """A student's own submissions (private accuracy only once the challenge is closed)."""
        with self.sessions() as s:
            c = self.challenge(s)
            p = self._participant(s, token)
            closed = self.closed(c)
            chosen = self._chosen(p)
            subs = [{"submission_id": sub.id,
                     "submitted_at": self._local(c, sub.created_at).isoformat(),
                     "public_accuracy": sub.public_accuracy,
                     **({"private_accuracy": sub.private_accuracy} if closed else {}),
                     "selected": chosen is not None and sub.id == chosen.id}
                    for sub in p.submissions]
            used, tomorrow = self._used_today(s, c, p)
            return {"student_id": p.student_id, "display_name": p.display_name,
                    "submissions": subs, "remaining_today": max(0, c.daily_limit - used),
                    "resets_at": tomorrow.isoformat(), "verified_accuracy": p.verified_accuracy}

    # ------------------------------------------------------------ the board

    @staticmethod
    def _best_public(p: Participant) -> Submission | None:
        best = None
        for sub in p.submissions:  # in id order: ties keep the earlier
            if best is None or sub.public_accuracy > best.public_accuracy:
                best = sub
        return best

    def _chosen(self, p: Participant) -> Submission | None:
        for sub in p.submissions:
            if sub.id == p.selected_id:
                return sub
        return self._best_public(p)

    def _local(self, c: Challenge, naive: dt.datetime) -> dt.datetime:
        return _aware(naive).astimezone(ZoneInfo(c.timezone))

    def board(self, staff: bool = False) -> tuple[list[Row], bool]:
        """(rows, closed). Before the deadline, rows are ranked by best public accuracy and
        carry no private accuracy; from the deadline on (or for staff), by the private accuracy
        of the chosen submission. Students without a scored submission are left out."""
        with self.sessions() as s:
            c = self.challenge(s)
            closed = self.closed(c)
            final = closed or staff
            entries = []
            for p in s.query(Participant).order_by(Participant.id):
                if not p.submissions:
                    continue
                chosen = self._chosen(p) if final else None
                best = self._best_public(p)
                last = p.submissions[-1].created_at
                entries.append((p, best, chosen, last))

            def key(entry):
                p, best, chosen, _ = entry
                sub = chosen if final else best
                score = sub.private_accuracy if final else sub.public_accuracy
                return (-score, sub.created_at, p.id)

            entries.sort(key=key)
            rows = []
            for rank, (p, best, chosen, last) in enumerate(entries, start=1):
                name = p.display_name or ("baseline" if p.is_baseline else "anonymous")
                rows.append(Row(rank=rank, name=name, is_baseline=p.is_baseline,
                                public_accuracy=(chosen or best).public_accuracy if final
                                else best.public_accuracy,
                                private_accuracy=chosen.private_accuracy if final else None,
                                verified_accuracy=p.verified_accuracy,
                                submissions=0 if p.is_baseline else len(p.submissions),
                                last_submission=self._local(c, last)))
            return rows, closed

    # ------------------------------------------------------------ staff

    def add_baseline(self, name: str, data: bytes) -> float:
        """A staff row (the reference model, chance) from predictions; returns its public
        accuracy. Re-adding a name replaces its row's submission."""
        with self.sessions.begin() as s:
            c = self.challenge(s)
            labels, mask = self._split(c)
            predicted = scoring.parse_predictions(data, len(labels), max(c.max_upload_bytes,
                                                                         len(data)))
            public, private = scoring.split_accuracies(predicted, labels, mask)
            key = f"baseline:{name}"
            p = s.query(Participant).filter_by(student_id=key).first()
            if p is None:
                p = Participant(student_id=key, display_name=name[:DISPLAY_NAME_MAX],
                                is_baseline=True)
                s.add(p)
                s.flush()
            for old in list(p.submissions):
                s.delete(old)
            s.add(Submission(participant_id=p.id, created_at=_naive_utc(self.clock()),
                             content=data, public_accuracy=public, private_accuracy=private))
            return public

    def chance_csv(self, seed: int = 0) -> bytes:
        with self.sessions() as s:
            labels, _ = self._split(self.challenge(s))
        return scoring.to_csv(scoring.chance_predictions(len(labels), seed))

    def import_verified(self, paths) -> dict:
        """Read grader result.json files (or folders holding */result.json) and store each
        student's Q8.8 accuracy (the grader's own training of their code). Returns
        {"imported": [student ids], "unknown": [ids not on the roster], "without_q8_8": [...]}."""
        files = []
        for path in map(pathlib.Path, paths):
            files += sorted(path.rglob("result.json")) if path.is_dir() else [path]
        report = {"imported": [], "unknown": [], "without_q8_8": []}
        with self.sessions.begin() as s:
            for f in files:
                try:
                    result = json.loads(f.read_text(encoding="utf-8"))
                except (OSError, ValueError) as e:
                    raise ChallengeSetupError(f"{f}: not a readable result.json ({e}).") from None
                student = result.get("student")
                accuracy = None
                for q in result.get("questions", []):
                    if q.get("id") != VERIFIED_QUESTION:
                        continue
                    for check in q.get("checks", []):
                        value = (check.get("metrics") or {}).get("accuracy")
                        if isinstance(value, (int, float)):
                            accuracy = float(value)
                            break
                if accuracy is None:
                    report["without_q8_8"].append(student)
                    continue
                p = s.query(Participant).filter_by(student_id=student).first()
                if p is None:
                    report["unknown"].append(student)
                    continue
                grader = result.get("grader", {})
                p.verified_accuracy = accuracy
                source = f"{grader.get('scale', '?')} scale on {grader.get('device', '?')}, {f.name}"
                flags = [str(x) for x in result.get("flags") or [] if x]
                if flags:   # the grader's staff flags (copied labels, literal data, ...)
                    source += GRADER_FLAGGED + " | ".join(flags)
                p.verified_source = source[:300]
                report["imported"].append(student)
        return report

    def rescore(self) -> int:
        """Score every stored upload again against the current labels and split (after a
        fix); returns how many were re-scored. Uploads that no longer parse keep 0."""
        n = 0
        with self.sessions.begin() as s:
            c = self.challenge(s)
            labels, mask = self._split(c)
            for sub in s.query(Submission):
                try:
                    predicted = scoring.parse_predictions(sub.content, len(labels),
                                                          max(c.max_upload_bytes, len(sub.content)))
                    sub.public_accuracy, sub.private_accuracy = scoring.split_accuracies(
                        predicted, labels, mask)
                except LeaderboardError:
                    sub.public_accuracy = sub.private_accuracy = 0.0
                n += 1
        return n

    STAFF_COLUMNS = ("rank", "student_id", "email", "display_name", "baseline", "submissions",
                     "best_public", "chosen_submission", "chosen_public", "chosen_private",
                     "verified_q8_8", "verified_source", "flag")

    def standings_csv(self) -> str:
        """Staff export: final ranking by the chosen submission's private accuracy, with the
        verified accuracy and a flag where the upload is far above it."""
        with self.sessions() as s:
            c = self.challenge(s)
            entries = []
            for p in s.query(Participant).order_by(Participant.id):
                chosen, best = self._chosen(p), self._best_public(p)
                entries.append((p, chosen, best))
            entries.sort(key=lambda e: (e[1] is None, -(e[1].private_accuracy if e[1] else 0),
                                        e[1].created_at if e[1] else dt.datetime.max, e[0].id))
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(self.STAFF_COLUMNS)
            for rank, (p, chosen, best) in enumerate(entries, start=1):
                flags = []
                if best and p.verified_accuracy is not None and \
                        best.public_accuracy > p.verified_accuracy + c.flag_margin:
                    flags.append(f"uploaded {best.public_accuracy:.4f} is far above the "
                                 f"grader's {p.verified_accuracy:.4f}")
                if GRADER_FLAGGED in (p.verified_source or ""):
                    flags.append("grader flagged the verified accuracy: "
                                 + p.verified_source.split(GRADER_FLAGGED, 1)[1])
                flag = "; ".join(flags)
                writer.writerow([rank if chosen else "", p.student_id, p.email or "",
                                 p.display_name or "", int(p.is_baseline), len(p.submissions),
                                 f"{best.public_accuracy:.4f}" if best else "",
                                 chosen.id if chosen else "",
                                 f"{chosen.public_accuracy:.4f}" if chosen else "",
                                 f"{chosen.private_accuracy:.4f}" if chosen else "",
                                 "" if p.verified_accuracy is None else f"{p.verified_accuracy:.4f}",
                                 p.verified_source or "", flag])
            return out.getvalue()

    def flags(self) -> list[dict]:
        rows = csv.DictReader(io.StringIO(self.standings_csv()))
        return [r for r in rows if r["flag"]]
