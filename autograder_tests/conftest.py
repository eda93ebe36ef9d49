# These files are graded checks run by `grade` (instructor_tools/grader), whose fixtures
# (student, ref, data, ...) pytest does not have. Keep pytest from collecting them.
collect_ignore_glob = ["test_*.py"]
