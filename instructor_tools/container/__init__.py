"""Grading in hardened Docker containers: one container per submission, several in parallel.

Modules: `image` builds the grading image (Dockerfile), `hardening` says how a container is
confined, `runner` grades submissions in containers and collects their results, `inputs`
decides which results a re-run may reuse, `entrypoint` runs inside the container,
`docker_cli` talks to the engine.
"""
