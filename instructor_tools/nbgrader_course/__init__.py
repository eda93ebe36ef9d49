"""The course's plug-ins for plain nbgrader (registered in course_config.py).

`nbgrader autograde hw1` does not execute student notebooks: its sanitize step keeps the
submitted notebooks' outputs (staff grade the plots from them), repairs duplicated or deleted
locked cells with a named note, and its autograde step runs the course grader
(`instructor_tools.grader.api.Grader`, student code only in the grader's sandbox) on the
student's submitted folder, writing each question's checks and score into its grade cell,
where nbgrader's own `SaveAutoGrades` reads it. See preprocessors.py.
"""
