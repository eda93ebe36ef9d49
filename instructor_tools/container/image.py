"""`python -m instructor_tools.container.image build|info`: build and describe the grading
image (the code: instructor_tools/grader/executors/docker/image.py)."""
from __future__ import annotations

import sys

from ..grader.executors.docker.image import main

if __name__ == "__main__":
    sys.exit(main())
