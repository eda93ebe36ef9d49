"""The `docker` executor: one hardened container of the grading image per submission, N at a
time (runner.py; hardening.py says how each is confined, inputs.py which results a re-run
reuses, image.py builds the image, docker_cli.py talks to the engine). The settings travel into each container as JSON; folders
of this machine (reference, hidden checks, CIFAR-10) do not: the image carries its own."""
from __future__ import annotations

import argparse
import dataclasses
import sys

from ...config import IMAGE_TAG, MEMORY_MB, host_paths_given
from ...errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .image import DEFAULT_TAG
    g = parser.add_argument_group("containers (--executor docker)")
    g.add_argument("--image", default=DEFAULT_TAG, help="grading image (default: %(default)s)")
    g.add_argument("--parallel", type=int, default=None, metavar="N",
                   help="containers at a time (default: one per GPU, else one per 2 CPU cores)")
    g.add_argument("--container-timeout", type=int, default=1800, metavar="S",
                   help="wall clock per container, then it is killed (default: %(default)s)")
    g.add_argument("--container-memory-mb", type=int, default=None, metavar="MB",
                   help="memory per container (default: the machine's memory shared out, at most "
                        f"{MEMORY_MB})")
    g.add_argument("--container-cpus", type=float, default=None, metavar="CPUS",
                   help="CPUs per container (default: the machine's cores shared out)")
    g.add_argument("--container-pids", type=int, default=512, metavar="N",
                   help="processes + threads per container (default: %(default)s)")
    g.add_argument("--regrade", action="store_true",
                   help="grade again even when a submission's inputs are unchanged "
                   "(docker, and slurm: which otherwise skips what it graded before)")


@dataclasses.dataclass
class DockerSettings:
    """The docker executor's own settings (JSON-able, so a Slurm task can rebuild them)."""
    image: str = IMAGE_TAG
    parallel: int | None = None
    container_timeout: int = 1800
    container_memory_mb: int | None = None
    container_cpus: float | None = None
    container_pids: int = 512
    regrade: bool = False

    @classmethod
    def from_args(cls, args) -> "DockerSettings":
        return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
                      if getattr(args, f.name, None) is not None})


def from_args(args, config) -> "DockerExecutor":
    """Raises UsageError when host folders were named (the image has its own)."""
    named = host_paths_given(args)
    if named:
        raise UsageError(f"{', '.join(named)} name folders on this machine; with "
                         "--executor docker the grading image carries its own (rebuild it to "
                         "change them)")
    return DockerExecutor(config, DockerSettings.from_args(args), quiet=args.quiet)


class DockerExecutor:
    name = "docker"

    def __init__(self, config, settings: DockerSettings | None = None, quiet: bool = False):
        from . import docker_cli, hardening
        from .runner import ContainerOptions
        self.config, self.settings, self.quiet = config, settings or DockerSettings(), quiet
        s = self.settings
        gpus = docker_cli.gpu_indices() if config.device != "cpu" else []
        parallel = s.parallel or hardening.default_parallel(gpus)
        if parallel < 1:
            raise UsageError("--parallel must be at least 1")
        limits = hardening.default_limits(parallel, s.container_timeout)
        memory = s.container_memory_mb or limits.memory_mb
        limits = hardening.ContainerLimits(memory_mb=memory, cpus=s.container_cpus or limits.cpus,
                                           pids=s.container_pids, wall_seconds=s.container_timeout)
        # Student code gets what the container has, less room for the grader and the tmpfs.
        inside = dataclasses.replace(config, memory_mb=max(512, min(config.memory_mb, memory - 1536)))
        self.options = ContainerOptions(image=s.image, parallel=parallel, limits=limits, gpus=gpus,
                                        config=inside, reuse=not s.regrade)

    def run(self, jobs, out, log=None, on_result=None) -> list:
        from tqdm import tqdm

        from ... import reports
        from .runner import grade_all, warn_if_stale
        log = log or (lambda m: tqdm.write(m, file=sys.stderr))
        o = self.options
        warn_if_stale(o.image, log)
        gpu_text = f", GPUs {o.gpus}" if o.gpus else ""
        log(f"grading {len(jobs)} submission(s) in containers of {o.image}: {o.parallel} at a "
            f"time, each {o.limits.describe()}{gpu_text}")
        bar = tqdm(total=len(jobs), unit="submission", desc="containers", disable=self.quiet,
                   file=sys.stderr)

        def done(outcome):
            bar.update(1)
            tag = "" if outcome.outcome == "graded" else f" [{outcome.outcome}]"
            log(f"{outcome.student}: {reports.fmt(outcome.result.score)}/"
                f"{reports.fmt(outcome.result.max_score)}{tag}")
            if on_result:
                on_result(outcome.result)

        try:
            outcomes = grade_all(jobs, out, o, log=log, progress=done)
        finally:
            bar.close()
        counts: dict = {}
        for oc in outcomes:
            counts[oc.outcome] = counts.get(oc.outcome, 0) + 1
        print("containers: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
        self.outcomes = outcomes
        return [oc.result for oc in outcomes]
