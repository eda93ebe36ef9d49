"""python -m instructor_tools.release build [--out DIR]   |   ... audit DIR"""
import argparse
import pathlib
import sys

from . import audit, build
from .course import HIDDEN_TESTS, REPO, SOURCE


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor_tools.release",
                                     description="Build or audit the student release of hw1.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="generate release/hw1 from source/hw1, then audit it")
    b.add_argument("--out", type=pathlib.Path, default=REPO / "release",
                   help="folder that receives hw1/ (default: release/)")
    a = sub.add_parser("audit", help="check a release folder for anything that must not ship")
    a.add_argument("dir", type=pathlib.Path, help="the release's assignment folder, e.g. release/hw1")
    a.add_argument("--source", type=pathlib.Path, default=SOURCE,
                   help="the assignment source with solutions (default: source/hw1)")
    a.add_argument("--hidden", type=pathlib.Path, default=HIDDEN_TESTS,
                   help="the hidden test suite (default: autograder_tests/)")
    args = parser.parse_args(argv)

    if args.command == "build":
        try:
            build.build(out=args.out)
        except build.BuildError as err:
            print(f"release build FAILED: {err}", file=sys.stderr)
            return 1
        return 0
    findings = audit.audit(args.dir, args.source, args.hidden)
    for finding in findings:
        print(finding, file=sys.stderr)
    if findings:
        print(f"audit FAILED: {len(findings)} problem(s) in {args.dir}", file=sys.stderr)
        return 1
    print(f"audit: {args.dir} is clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
