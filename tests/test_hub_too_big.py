"""A hand-in over nbgrader's size limit, through nbgrader's own submit (no hub, no course
config): the Assignments tab's message is one sentence built by hub.too_big_sentence from
nbgrader's real error, not the traceback. (The course's 2 GB check, through the tab, is in
tests/test_hub_browser.py.)"""
import traceback

import pytest

pytest.importorskip("nbgrader")

from nbgrader.auth import Authenticator  # noqa: E402
from nbgrader.coursedir import CourseDirectory  # noqa: E402
from nbgrader.exchange import ExchangeFactory  # noqa: E402
from traitlets.config import Config  # noqa: E402

from instructor_tools.nbgrader_course import hub  # noqa: E402


def test_nbgraders_too_big_error_becomes_one_sentence(tmp_path, monkeypatch):
    exchange = tmp_path / "exchange"
    (exchange / "cs7643/outbound/hw1").mkdir(parents=True)
    (exchange / "cs7643/inbound").mkdir()
    (exchange / "cs7643/inbound").chmod(0o2733)
    work = tmp_path / "student"
    (work / "hw1").mkdir(parents=True)
    for name in ("weights.bin", "more_weights.bin"):  # sparse: 160 MB counted, no disk used
        with open(work / "hw1" / name, "wb") as f:
            f.truncate(80_000_000)
    monkeypatch.chdir(work)
    config = Config()
    config.Exchange.root = str(exchange)
    config.CourseDirectory.course_id = "cs7643"
    config.CourseDirectory.assignment_id = "hw1"
    config.CourseDirectory.max_dir_size = 100_000  # KB: nbgrader's default, 100 MB
    submit = ExchangeFactory(config=config).Submit(
        coursedir=CourseDirectory(config=config), authenticator=Authenticator(config=config),
        config=config)
    with pytest.raises(RuntimeError) as info:
        submit.start()
    # what nbgrader's AssignmentList hands the tab on failure: the formatted traceback
    value = "".join(traceback.format_exception(info.value))
    assert "Traceback" in value and "Directory size is too big" in value
    sentence = hub.too_big_sentence(value, "hw1")
    assert sentence == ("Nothing was submitted: your hw1 folder holds 160.0 MB and a hand-in "
                        "may hold at most 100 MB. Move data sets, checkpoints and other large files "
                        "out of the folder, then submit again.")
    assert not list((exchange / "cs7643/inbound").iterdir())
    assert hub.too_big_sentence("ExchangeError: Assignment not found", "hw1") is None
