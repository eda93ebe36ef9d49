#!/usr/bin/env python3
"""Serve this machine's pip setup over http on 127.0.0.1 while a command runs.

A `docker build --network host` cannot see the host's local package folders
(`file://` indexes, find-links folders) nor its CA bundle. This script reads
`pip config list`, links every local folder into a temporary tree, serves it on
127.0.0.1, writes a matching `pip.conf` there, then runs the command with
HW1_PIP_MIRROR=http://127.0.0.1:PORT in its environment. Inside the build,
docker/with_pip_mirror.sh fetches that pip.conf (plus CA bundle and constraints)
for one RUN step and deletes it afterwards, so nothing of it stays in the image.

Usage: scripts/pip_mirror.py [--port PORT] -- COMMAND [ARGS...]
Any "@PIP_MIRROR@" inside an argument is replaced by the mirror's URL.
The default port is fixed (HW1_PIP_MIRROR_PORT, default 38471) so the build
argument, and hence Docker's layer cache, stays the same from run to run.
Stdlib only: runs with any python3 that has pip.
"""
import argparse
import functools
import http.server
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse

CONTAINER_DIR = "/tmp/pipmirror"  # where with_pip_mirror.sh puts the files in the build


def pip_config(python: str) -> dict:
    """`pip config list` as {key: value}; later (more specific) entries win per key name."""
    try:
        out = subprocess.run([python, "-m", "pip", "config", "list"], capture_output=True,
                             text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    conf = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        name = key.rsplit(".", 1)[-1]
        conf[name] = value.strip().strip("'\"")
    return conf


def local_dir(url_or_path: str) -> pathlib.Path | None:
    if url_or_path.startswith("file://"):
        return pathlib.Path(urllib.parse.urlparse(url_or_path).path)
    if "://" not in url_or_path:
        return pathlib.Path(url_or_path)
    return None


def build_tree(conf: dict, root: pathlib.Path, base_url: str) -> str:
    """Link local sources under root and return the pip.conf text for the container."""
    lines = ["[global]", "trusted-host = 127.0.0.1", "disable-pip-version-check = true"]
    n = 0

    def serve(folder: pathlib.Path) -> str:
        nonlocal n
        name = f"src{n}"
        n += 1
        (root / name).symlink_to(folder.resolve())
        return f"{base_url}/{name}"

    def translate_index(url: str) -> str:
        folder = local_dir(url)
        if folder is None:
            return url
        # Simple indexes link their files relative to the index ("../../files/x.whl"):
        # serve the folder above so those links stay inside what is served.
        return f"{serve(folder.parent)}/{folder.name}"

    if "index-url" in conf:
        lines.append(f"index-url = {translate_index(conf['index-url'])}")
    extra = [translate_index(u) for u in conf.get("extra-index-url", "").split()]
    if extra:
        lines.append("extra-index-url = " + " ".join(extra))
    links = []
    for item in conf.get("find-links", "").split():
        folder = local_dir(item)
        if folder is None:
            links.append(item)
        elif folder.is_dir():
            links.append(serve(folder) + "/")
    if links:
        lines.append("find-links = " + " ".join(links))
    cert = conf.get("cert")
    if cert and pathlib.Path(cert).is_file():
        shutil.copyfile(cert, root / "ca.crt")
        lines.append(f"cert = {CONTAINER_DIR}/ca.crt")
    constraint = conf.get("constraint")
    if constraint and pathlib.Path(constraint).is_file():
        shutil.copyfile(constraint, root / "constraints.txt")
        lines.append(f"constraint = {CONTAINER_DIR}/constraints.txt")
    return "\n".join(lines) + "\n"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("HW1_PIP_MIRROR_PORT", 38471)))
    parser.add_argument("--python", default=os.environ.get("PIP_MIRROR_PYTHON", sys.executable),
                        help="python whose `pip config list` describes the sources")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")

    with tempfile.TemporaryDirectory(prefix="pip-mirror-") as tmp:
        root = pathlib.Path(tmp)
        handler = functools.partial(QuietHandler, directory=str(root))
        try:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
        except OSError as exc:
            print(f"error: cannot serve the pip mirror on 127.0.0.1:{args.port} ({exc}); "
                  "set HW1_PIP_MIRROR_PORT to a free port", file=sys.stderr)
            return 1
        base_url = f"http://127.0.0.1:{server.server_address[1]}"
        (root / "pip.conf").write_text(build_tree(pip_config(args.python), root, base_url))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f"==> pip mirror at {base_url} for: {shlex.join(command)}", file=sys.stderr)
        try:
            command = [arg.replace("@PIP_MIRROR@", base_url) for arg in command]
            return subprocess.run(command, env={**os.environ, "HW1_PIP_MIRROR": base_url}).returncode
        finally:
            server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
