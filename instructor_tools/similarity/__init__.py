"""`grade similarity`: which submissions share code with each other or with public solutions.

    assignment.py  what of a file is the student's own (solution functions, minus given lines)
    documents.py   submissions (found by grader/submission.py) and archived repositories, cut
                   into units and fingerprinted with copydetect
    compare.py     pair scores (0..1) from copydetect's matches, unit by unit, in parallel
    report.py      similarity.csv and the self-contained similarity.html
    cli.py         the command

Imports go one way: cli -> report -> compare; cli -> documents -> compare, assignment;
assignment -> release.fingerprints; documents -> grader.submission.
"""
