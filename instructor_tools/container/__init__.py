"""Entry points of container grading: what runs inside the grading image (`entrypoint`),
`python -m instructor_tools.container` (= `grade --executor docker`, `cli`) and
`python -m instructor_tools.container.image` (build the image).

The code they run lives in the grader: instructor_tools/grader/executors/docker/ (`runner`
grades submissions in containers, `hardening` says how a container is confined, `inputs`
decides which results a re-run may reuse, `image` builds the image, `docker_cli` talks to
the engine). Imports run one way: this package imports the grader, never the reverse.
"""
