"""nbgrader configuration of the course: one place for ids, paths, timeouts and file lists.

`nbgrader_config.py` (read by the plain `nbgrader ...` commands run from the repository root)
calls `configure(get_config())`; the release build and the tests import the constants below.
nbgrader only *logs* an exception raised while loading its config and then runs with its
defaults, so `python -m instructor_tools.release build` checks that these values really loaded.

`nbgrader autograde` does not execute student notebooks here: its preprocessor lists (below)
run the course grader, which runs student code only in its sandbox, on the submitted folder
and writes each question's checks and score into its grade cell
(instructor_tools/nbgrader_course/preprocessors.py).
"""
import os
import pathlib

REPO = pathlib.Path(__file__).resolve().parent

COURSE_ID = "cs7643"
ASSIGNMENT = "hw1"
SOURCE_DIRECTORY = "source"
RELEASE_DIRECTORY = "release"

# Files (relative to the assignment folder) that students write or edit. At autograde nbgrader
# would otherwise overwrite them with the instructor's copies, and a student's empty file
# would pass. tests/test_release_config.py checks this list against the source: every file
# holding a solution region, the Part 1 hyperparameters and the Part 2 run scripts.
STUDENT_WRITTEN = (
    "1_cs231n/hyperparams.json",
    "1_cs231n/cs231n/classifiers/cnn.py",
    "1_cs231n/cs231n/classifiers/linear_classifier.py",
    "1_cs231n/cs231n/classifiers/neural_net.py",
    "1_cs231n/cs231n/classifiers/softmax.py",
    "1_cs231n/cs231n/layers.py",
    "1_cs231n/cs231n/optim.py",
    "2_pytorch/models/convnet.py",
    "2_pytorch/models/mymodel.py",
    "2_pytorch/models/softmax.py",
    "2_pytorch/models/twolayernn.py",
    "2_pytorch/run_convnet.sh",
    "2_pytorch/run_mymodel.sh",
    "2_pytorch/run_softmax.sh",
    "2_pytorch/run_twolayernn.sh",
    "2_pytorch/train.py",
)

# Never copied by nbgrader (CourseDirectory.ignore: generate, collect, feedback; globs matched
# on base names): caches, build products, data, checkpoints, zips, and the student's own
# environments and tools (the student README makes .venv inside hw1/: 6 GB with torch).
IGNORE = (
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".pytest_cache",
    "build", "*.so", "*.c", "*.o", "*.egg-info",
    "cifar-10-batches-py", "cifar-10-python.tar.gz", "*.npy", "*.npz",
    "*.pt", "*.pth", "*.ckpt", "checkpoints",
    "*.zip", "gradebook.db",
    ".venv", "venv", "env", ".conda", "node_modules", ".git", ".mypy_cache", ".tox",
)
# What running the reference writes next to the source. Never released (the build leaves it
# out of its copy; the post-generate hook deletes it after a plain `nbgrader
# generate_assignment`), but not in IGNORE: `nbgrader collect` must keep the students' logs,
# plots and PDFs, which staff grade.
REFERENCE_OUTPUTS = (
    "*.log", "*_lossvstrain.png", "*_valaccuracy.png", "*_gridfilt.png", "predictions.csv",
    "*.pdf",
)

# Seconds per notebook cell when a notebook runs in a kernel (`nbgrader validate`; the longest
# reference cell trains the numpy ConvNet for one epoch: 90-170 s on a 2-core laptop), and for
# a kernel to start. Students' validate reads the same values from release/hw1/nbgrader_config.py.
CELL_TIMEOUT_S = 900
KERNEL_STARTUP_TIMEOUT_S = 120

# `nbgrader autograde` grades only these questions when set (comma-separated ids, e.g.
# "Q8.1,Q8.3": CI and quick trials); the others keep the scores they have. The grader's own
# variables apply too (GRADER_SCALE=ci|full, GRADER_DEVICE, CIFAR10_DIR, ...).
AUTOGRADE_QUESTIONS_ENV = "HW1_AUTOGRADE_QUESTIONS"

# Runs after `nbgrader generate_assignment` has written the release: deletes
# REFERENCE_OUTPUTS, strips the solution regions of .py/.sh files (nbgrader copies those
# verbatim) and normalises notebook metadata (instructor_tools/release/hooks.py).
POST_GENERATE_HOOK = "instructor_tools.nbgrader_course.hooks.post_generate"

# What nbgrader strips solutions with; the .py/.sh stripping reuses these exact values.
CODE_STUB_PYTHON = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"

# The Q8.8 challenge's leaderboard (instructor_tools/leaderboard): `leaderboard create` and
# `make leaderboard` read these. deadline: an ISO date-time read in `timezone` (None: 14 days
# after the challenge is created).
LEADERBOARD = {"title": "CS7643 HW1 challenge: CIFAR-10", "deadline": None,
               "timezone": "America/New_York", "daily_limit": 3, "public_fraction": 0.1}

# The deadline policy of `grade` and `bin/nbgrader autograde` (instructor_tools/grader/
# lateness.py). due: an ISO date-time read in `timezone` (None: nothing is late unless
# `grade --due` or Gradescope's metadata gives one). The rule, the course's default: 6 free
# late days per student for the semester, then 25% of the earned points per further day
# late; every started 24 hours (after grace_minutes) counts as a day; max_days_late (None: no
# limit) refuses later ones. extensions: a CSV of `student_id,due` lines (a date-time, or
# days added such as 2 or 36h); late_days_ledger: a CSV of `student_id,late_days_used` (free
# days spent on earlier assignments); relative paths are read from the course root.
# file_times: time a submission without timestamp.txt / submission_metadata.json by its files.
DEADLINE = {"due": None, "timezone": "America/New_York", "free_late_days": 6,
            "penalty_per_day": 0.25, "grace_minutes": 0, "max_days_late": None,
            "extensions": None, "late_days_ledger": None, "file_times": False}

# Who sees the autograder's details, in Gradescope's levels (visible, hidden, after_due_date,
# after_published): "results" the whole result in Gradescope, "checks" each check's details
# (Gradescope's tests and feedback.html's check tables). instructor_tools/grader/visibility.py.
RESULTS_VISIBILITY = {"results": "visible", "checks": "visible"}

# The Canvas gradebook column HW1's points go to (`grade collect --canvas`, the nbgrader
# exporter instructor_tools.nbgrader_course.export.CanvasExportPlugin): Canvas's
# "<name> (<assignment id>)"; with no id, the roster's column of that name is used, else
# Canvas makes a new assignment of that name on import.
CANVAS = {"assignment": "HW1", "assignment_id": None}


# Who may read the course root (instructor_tools/permissions.py; `make setup`, bin/nbgrader,
# `grade` and `leaderboard` apply it). PRIVATE_PATHS (globs at the course root): readable by
# the instructor only, or also by STAFF_GROUP (a Unix group of TAs; $HW1_STAFF_GROUP
# overrides; None: the instructor alone); nobody else may write inside them. PRIVATE_FOLDERS
# are made private before nbgrader or the grader first write into them (.git: the history holds
# every solution and hidden check; a course root that is a clone has one). PUBLIC_PATHS stay
# readable by everyone (students on a shared machine fetch the release).
STAFF_GROUP = None
PRIVATE_PATHS = ("source", "autograder_tests", "gradebook.db", "gradebook.db-journal",
                 "gradebook.db-wal", "gradebook.db-shm", "submitted", "autograded", "feedback",
                 "grader_results", "out", "data", "grades.csv", "*.csv", ".nbgrader.log",
                 ".git", "build", ".pytest_cache")
PRIVATE_FOLDERS = ("submitted", "autograded", "feedback", "grader_results", "out")
PUBLIC_PATHS = ("release",)

def configure(c):
    """Fill a traitlets config `c` (what `get_config()` returns in nbgrader_config.py)."""
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.root = str(REPO)
    c.CourseDirectory.source_directory = SOURCE_DIRECTORY
    c.CourseDirectory.release_directory = RELEASE_DIRECTORY
    c.CourseDirectory.ignore = list(IGNORE)

    c.ClearSolutions.code_stub = {"python": CODE_STUB_PYTHON}
    c.ClearSolutions.text_stub = TEXT_STUB
    c.GenerateAssignment.post_convert_hook = POST_GENERATE_HOOK

    c.Autograde.exclude_overwriting = {ASSIGNMENT: list(STUDENT_WRITTEN)}
    # Execute: `nbgrader validate` (and anything else that runs a notebook in a kernel).
    c.Execute.timeout = CELL_TIMEOUT_S
    c.Execute.startup_timeout = KERNEL_STARTUP_TIMEOUT_S
    c.Execute.interrupt_on_timeout = True
    c.Validator.validate_all = True   # report errors in every code cell, not only grade cells

    # autograde: no kernel, the course grader (see the module docstring).
    from nbgrader.preprocessors import (CheckCellMetadata, IgnorePattern, LimitOutput,
                                        OverwriteCells, OverwriteKernelspec)
    from instructor_tools.nbgrader_course.lateness import AssignCourseLatePenalties
    from instructor_tools.nbgrader_course.preprocessors import (
        CheckLockedCells, GradeWithCourseGrader, SaveCourseGrades)
    c.Autograde.sanitize_preprocessors = [CheckLockedCells, OverwriteKernelspec, OverwriteCells,
                                          CheckCellMetadata]
    # (nbgrader's default list also has nbconvert's ClearMetadataPreprocessor, disabled by
    # default; left out: SaveCourseGrades reads the grader's cell metadata)
    # AssignCourseLatePenalties: nbgrader's AssignLatePenalties with DEADLINE's due date,
    # extensions and rule (instructor_tools/nbgrader_course/lateness.py)
    c.Autograde.autograde_preprocessors = [GradeWithCourseGrader, IgnorePattern, LimitOutput,
                                           SaveCourseGrades, AssignCourseLatePenalties,
                                           CheckCellMetadata]
    wanted = os.environ.get(AUTOGRADE_QUESTIONS_ENV, "")
    if wanted.strip():
        c.GradeWithCourseGrader.questions = [q.strip() for q in wanted.split(",") if q.strip()]

    # nbgrader's feedback shows hidden tests unless told otherwise (nbgrader #917).
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import ClearHiddenTests, GetGrades
    c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
    return c
