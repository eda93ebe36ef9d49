"""The course's Jupyter server extensions for a JupyterHub (scripts/jupyterhub.sh enables them).

Two extensions replace two of nbgrader's own (the hub's role configs disable nbgrader's):

* ``instructor_tools.nbgrader_course.hub_formgrader`` (instructors): nbgrader's formgrader, with

  - every button that changes the course (Generate, Release, Collect, Autograde, Generate and
    Release feedback) running ``bin/nbgrader`` of the course root, as staff do in a terminal:
    the course venv, the release audit (Generate), the autograde lock, the grader's sandbox
    preflight and the HW1_AUTOGRADE_QUESTIONS check (Autograde), the course's permissions;
  - the formgrader's pages allowed in a frame of the same origin
    (``frame-ancestors 'self'``, jupyter_server's own default), so that JupyterLab's
    Nbgrader > Formgrader tab shows them. JupyterHub's single-user server sends
    ``frame-ancestors 'none'`` on every page (nbgrader issue #1870: the tab is blank); the
    rest of the server keeps it.

* ``instructor_tools.nbgrader_course.hub_assignments`` (everyone): nbgrader's Assignments tab,
  whose Submit answers a hand-in that is too large with a sentence instead of a traceback.

Which settings Submit and Validate use (the course's ignore list, size limit, timeouts) comes
from the hub's student config (a copy of release/hw1/nbgrader_config.py loaded system-wide),
not from this module.
"""
from __future__ import annotations

import os
import pathlib
import re
import subprocess

from nbgrader.apps.api import NbGraderAPI

# Seconds a formgrader button may run bin/nbgrader (autograde of one student grades every
# question of HW1 in the sandbox: minutes).
BUTTON_TIMEOUT_S = int(os.environ.get("HW1_FORMGRADER_TIMEOUT_S", "7200"))
TOO_BIG = re.compile(r"Directory size is too big\. Size is (\d+), maximum size is (\d+)")


class CourseCommandError(RuntimeError):
    """bin/nbgrader of the course root is missing or not executable."""


def too_big_sentence(message: str, assignment_id: str) -> str | None:
    """The sentence a student reads for nbgrader's "Directory size is too big" error.

    `message`: nbgrader's error text (a traceback is fine: the first match is used); sizes in it
    are bytes. Returns None when `message` is not that error.
    """
    m = TOO_BIG.search(message)
    if not m:
        return None
    size_mb, limit_mb = int(m.group(1)) / 1e6, int(m.group(2)) / 1e6
    return (f"Nothing was submitted: your {assignment_id} folder holds {size_mb:.1f} MB and a "
            f"hand-in may hold at most {limit_mb:.0f} MB. Move data sets, checkpoints and other "
            f"large files out of the folder, then submit again.")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    if not lines:
        return "nbgrader failed without a message."
    last = lines[-1]
    # "nbgrader.exchange.abc.exchange.ExchangeError: message" -> "message"
    m = re.match(r"^[A-Za-z_][\w.]*(Error|Exception): (.*)$", last)
    return m.group(2) if m else last


class CourseNbGraderAPI(NbGraderAPI):
    """nbgrader's formgrader API whose course-changing actions run the course's bin/nbgrader.

    Each returns nbgrader's dict: ``success`` (bool), ``log`` (the command's output) and, on
    failure, ``error`` (the command's last lines).
    """

    def _course_command(self, *args: str) -> dict:
        root = pathlib.Path(self.coursedir.root)
        tool = root / "bin" / "nbgrader"
        if not os.access(tool, os.X_OK):
            raise CourseCommandError(f"{tool} is missing or not executable: the formgrader runs "
                                     "the course's bin/nbgrader for this button")
        env = dict(os.environ)
        try:
            proc = subprocess.run([str(tool), *args], cwd=root, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=BUTTON_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout if isinstance(exc.stdout, str) else ""
            return {"success": False, "log": out,
                    "error": f"bin/nbgrader {' '.join(args)} ran longer than {BUTTON_TIMEOUT_S} s "
                             "and was stopped (HW1_FORMGRADER_TIMEOUT_S sets the limit)."}
        self.log.info("bin/nbgrader %s: exit status %d", " ".join(args), proc.returncode)
        result = {"success": proc.returncode == 0, "log": proc.stdout}
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.strip().splitlines()[-15:])
            result["error"] = (f"bin/nbgrader {' '.join(args)} failed (exit status "
                               f"{proc.returncode}):\n{tail}")
        return result

    def generate_assignment(self, assignment_id, force=True, create=True):
        args = ["generate_assignment", assignment_id]
        if force:
            args.append("--force")
        if not create:
            args.append("--no-db")
        return self._course_command(*args)

    def release_assignment(self, assignment_id):
        return self._course_command("release_assignment", assignment_id)

    def collect(self, assignment_id, update=True):
        args = ["collect", assignment_id]
        if update:
            args.append("--update")
        return self._course_command(*args)

    def autograde(self, assignment_id, student_id, force=True, create=True):
        args = ["autograde", assignment_id, f"--student={student_id}"]
        if force:
            args.append("--force")
        if create:
            args.append("--create")
        return self._course_command(*args)

    def generate_feedback(self, assignment_id, student_id=None, force=True):
        args = ["generate_feedback", assignment_id]
        if student_id is not None:
            args.append(f"--student={student_id}")
        if force:
            args.append("--force")
        return self._course_command(*args)

    def release_feedback(self, assignment_id, student_id=None):
        args = ["release_feedback", assignment_id]
        if student_id is not None:
            args.append(f"--student={student_id}")
        return self._course_command(*args)


class _CourseFormgraderHandler:
    """Mixed into each of nbgrader's formgrader handlers."""

    @property
    def content_security_policy(self) -> str:
        return "frame-ancestors 'self'"

    @property
    def api(self):
        level = self.log.level
        self.coursedir.parent.load_config_file()
        api = CourseNbGraderAPI(self.coursedir, self.authenticator, parent=self.coursedir.parent)
        api.log_level = level
        return api


def load_formgrader(serverapp) -> None:
    """Load nbgrader's formgrader with the course's handlers (see the module docstring)."""
    from jupyter_server.utils import url_path_join
    from tornado import web
    from nbgrader.server_extensions.formgrader import apihandlers, handlers
    from nbgrader.server_extensions.formgrader.base import BaseHandler
    from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension

    webapp = serverapp.web_app
    formgrader = FormgradeExtension(parent=serverapp)
    formgrader.root_dir = serverapp.root_dir
    formgrader.log = serverapp.log
    formgrader.initialize([])
    formgrader.init_tornado_settings(webapp)

    def course(cls):
        if isinstance(cls, type) and issubclass(cls, BaseHandler):
            return type("Course" + cls.__name__, (_CourseFormgraderHandler, cls), {})
        return cls

    rules = [(pattern, course(cls), *rest)
             for pattern, cls, *rest in handlers.default_handlers + apihandlers.default_handlers]
    rules += [(r"/formgrader/static/(.*)", web.StaticFileHandler, {"path": handlers.static_path}),
              (r"/formgrader/.*", course(handlers.Template404))]
    base_url = webapp.settings["base_url"]
    webapp.add_handlers(".*$", [(url_path_join(base_url, pattern.lstrip("/")), *rest)
                                for pattern, *rest in rules])
    serverapp.log.info("hw1: formgrader loaded; its buttons run %s/bin/nbgrader",
                       formgrader.coursedir.root)


def load_assignments(serverapp) -> None:
    """Load nbgrader's Assignments tab whose Submit explains a too-large hand-in."""
    from nbgrader.server_extensions.assignment_list import handlers

    class CourseAssignmentList(handlers.AssignmentList):
        def submit_assignment(self, course_id, assignment_id):
            result = super().submit_assignment(course_id, assignment_id)
            if not result.get("success"):
                value = str(result.get("value", ""))
                result["value"] = (too_big_sentence(value, assignment_id)
                                   or "Nothing was submitted: " + _last_line(value))
            return result

    handlers.load_jupyter_server_extension(serverapp)
    manager = CourseAssignmentList(parent=serverapp)
    manager.root_dir = serverapp.root_dir
    serverapp.web_app.settings["assignment_list_manager"] = manager
