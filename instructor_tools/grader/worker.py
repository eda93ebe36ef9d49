"""The grading worker: the only process that runs student code.

Started by the grader (client.WorkerClient) as `python -I -S -B worker.py REQ_FD RESP_FD LIMITS`,
inside the sandbox (sandbox.py: bubblewrap, or the grading container), as an unprivileged
user, in a scratch copy of the submission, with resource limits and a clean environment. It answers requests that arrive on REQ_FD and writes replies to RESP_FD;
stdout and stderr belong to the student's code (prints never reach the protocol).

It imports nothing from the grader: this file is self-contained on purpose, so the worker
needs to read no file outside the submission copy and the Python installation.

Frame: 8-byte big-endian length, then a 4-byte length of the JSON header, the header, and
the blobs it lists (numpy .npy bytes, always loaded with allow_pickle=False).
Values in headers: JSON scalars and lists, plus tagged objects
  {"$nd": i} array (blob i)      {"$tensor": i} torch tensor (blob i)
  {"$npscalar": i} numpy scalar  {"$tuple": [...]}   {"$dict": [[key, value], ...]}
  {"$ref": n, "type": name} an object kept here (anything not plain data).
"""
import importlib
import io
import json
import os
import random
import struct
import sys
import time
import traceback

MAX_DEPTH = 12
MAX_ITEMS = 20000


class Codec:
    """Encode replies / decode requests; keeps non-plain objects in a handle table."""

    def __init__(self):
        self.handles = {}
        self.next_handle = 1

    def keep(self, obj):
        n = self.next_handle
        self.next_handle += 1
        self.handles[n] = obj
        return {"$ref": n, "type": type(obj).__name__}

    def encode(self, obj, blobs, depth=0):
        np = sys.modules.get("numpy")
        torch = sys.modules.get("torch")
        if obj is None or type(obj) in (bool, float, str):
            return obj
        if type(obj) is int:
            return obj if abs(obj) <= 2**62 else self.keep(obj)
        if depth > MAX_DEPTH:
            return self.keep(obj)
        if np is not None and isinstance(obj, np.ndarray) and obj.dtype != object:
            return {"$nd": self._blob(obj, blobs)}
        if np is not None and isinstance(obj, np.generic) and not isinstance(obj, np.object_):
            return {"$npscalar": self._blob(np.asarray(obj), blobs)}
        if torch is not None and isinstance(obj, torch.Tensor):
            arr = obj.detach().cpu()
            if arr.dtype == torch.bfloat16:
                arr = arr.float()
            return {"$tensor": self._blob(arr.numpy(), blobs)}
        if type(obj) in (list, tuple) and len(obj) <= MAX_ITEMS:
            items = [self.encode(v, blobs, depth + 1) for v in obj]
            return items if type(obj) is list else {"$tuple": items}
        if isinstance(obj, dict) and len(obj) <= MAX_ITEMS and all(type(k) in (str, int) for k in obj):
            return {"$dict": [[k, self.encode(v, blobs, depth + 1)] for k, v in obj.items()]}
        return self.keep(obj)

    @staticmethod
    def _blob(arr, blobs):
        import numpy as np
        buf = io.BytesIO()
        np.save(buf, arr if arr.flags.c_contiguous else arr.copy(order="C"), allow_pickle=False)
        blobs.append(buf.getvalue())
        return len(blobs) - 1

    def decode(self, value, blobs):
        if isinstance(value, list):
            return [self.decode(v, blobs) for v in value]
        if not isinstance(value, dict):
            return value
        (tag, payload), = value.items()
        if tag == "$nd":
            return _load(blobs[payload])
        if tag == "$npscalar":
            return _load(blobs[payload])[()]
        if tag == "$tensor":
            import torch
            return torch.from_numpy(_load(blobs[payload]))
        if tag == "$tuple":
            return tuple(self.decode(v, blobs) for v in payload)
        if tag == "$dtype":
            import numpy as np
            return np.dtype(payload).type
        if tag == "$dict":
            return {k: self.decode(v, blobs) for k, v in payload}
        if tag == "$ref":
            return self.handles[payload]
        raise ValueError(f"unknown tag {tag}")


def _load(blob):
    import numpy as np
    return np.load(io.BytesIO(blob), allow_pickle=False)


def read_frame(fd):
    head = _read_exact(fd, 8)
    if head is None:
        return None
    (size,) = struct.unpack(">Q", head)
    payload = _read_exact(fd, size)
    (hlen,) = struct.unpack(">I", payload[:4])
    header = json.loads(payload[4:4 + hlen])
    blobs, pos = [], 4 + hlen
    for n in header.get("blobs", []):
        blobs.append(payload[pos:pos + n])
        pos += n
    return header, blobs


def _read_exact(fd, n):
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def write_frame(fd, header, blobs):
    header = dict(header, blobs=[len(b) for b in blobs])
    hbytes = json.dumps(header).encode()
    payload = b"".join([struct.pack(">I", len(hbytes)), hbytes, *blobs])
    data = struct.pack(">Q", len(payload)) + payload
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


# ---------------------------------------------------------------- requests

def resolve(codec, target):
    """target: {"module": "pkg.mod"} or {"ref": n}, plus an optional dotted "attr"."""
    if "ref" in target:
        obj = codec.handles[target["ref"]]
    else:
        obj = importlib.import_module(target["module"])
    for name in filter(None, target.get("attr", "").split(".")):
        obj = getattr(obj, name)
    return obj


def seed_everything(seed):
    random.seed(seed)
    import numpy as np
    np.random.seed(seed)
    if "torch" in sys.modules:
        import torch
        torch.manual_seed(seed)


def handle(codec, req, blobs):
    op = req["op"]
    args = codec.decode(req.get("args", []), blobs)
    kwargs = codec.decode(req.get("kwargs", {"$dict": []}), blobs)
    if op == "call":
        fn = resolve(codec, req["target"])
        result = fn(*args, **kwargs)
    elif op == "get":
        result = resolve(codec, req["target"])
    elif op == "getitem":
        result = resolve(codec, req["target"])[args[0]]
    elif op == "setattr":
        setattr(resolve(codec, req["target"]), req["name"], args[0])
        result = None
    elif op == "setitem":
        resolve(codec, req["target"])[args[0]] = args[1]
        result = None
    elif op == "seed":
        seed_everything(int(req["seed"]))
        result = None
    elif op == "load_npy":
        import numpy as np
        result = np.load(req["path"], allow_pickle=False, mmap_mode=req.get("mmap"))
    elif op == "helper":
        result = HELPERS[req["name"]](*args, **kwargs)
    else:
        raise ValueError(f"unknown op {op}")
    out_blobs = []
    value = codec.keep(result) if req.get("keep") else codec.encode(result, out_blobs)
    return {"ok": True, "value": value}, out_blobs


def describe_error(exc):
    """The student's own frames of the traceback (files inside the submission copy)."""
    root = os.getcwd().rsplit(os.sep, 1)[0]
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(root) and not f.filename.endswith("worker.py")]
    where = [f"{os.path.relpath(f.filename, root)}, line {f.lineno}, in {f.name}" for f in frames[-4:]]
    info = {"type": type(exc).__name__, "message": _readable(str, exc)[:2000], "where": where}
    if isinstance(exc, SyntaxError):
        info["file"] = os.path.relpath(exc.filename or "?", root)
        info["line"] = exc.lineno
        info["message"] = _readable(str, exc.msg)
    if isinstance(exc, SystemExit):
        info["message"] = f"sys.exit({_readable(repr, exc.code)}) was called"
    return info


def _readable(show, obj) -> str:
    """show(obj) (str or repr), or a sentence saying it could not be shown: the student's
    __str__/__repr__ may raise too (which ended the worker before, read as an exit)."""
    try:
        text = show(obj)
        return text if isinstance(text, str) else "(not text)"
    except BaseException as exc:  # noqa: BLE001 (the student's code: anything)
        return (f"(its {show.__name__}() raised {type(exc).__name__}, so the message "
                "cannot be shown)")


# ---------------------------------------------------------------- helpers
# Data preparation the notebooks do for the student (not graded code): kept here so the
# worker never needs grader files. The grader keeps their results in the worker (by reference).

# The training set the grader hands over ends with CIFAR-10's 1000 validation images (its
# training images 49000-49999); some images before them are held back (grader/data.py).
VALIDATION_IMAGES = 1000


def _split(train_x, num_train, num_val):
    """(training slice, validation slice): the first num_train images (at most all before the
    validation images) and the first num_val validation images (none for a count below 1:
    a negative count must not slice from the end)."""
    start = len(train_x) - VALIDATION_IMAGES
    return (slice(0, max(0, min(num_train, start))),
            slice(start, start + max(0, min(num_val, VALIDATION_IMAGES))))


def part1_columns(train_x, train_y, heldout_x, num_train, num_val=0):
    """softmax.ipynb: flatten, subtract the mean training image, one example per column
    with a row of ones appended: ((D+1, N) train, (N,) labels, (D+1, M) held out, and
    (D+1, num_val) validation images when num_val > 0)."""
    import numpy as np
    train, val = _split(train_x, num_train, num_val)
    xtr, xte, xval = _centred_rows(train_x[train], heldout_x, train_x[val])
    ones = lambda n: np.ones((1, n))
    # Column-major storage: sampling a minibatch of columns then reads contiguous memory
    # (10x faster than from a row-major array); the values are the same.
    columns = lambda x: np.asfortranarray(np.vstack([x.T, ones(len(x))]))
    out = (columns(xtr), np.asarray(train_y[train]), columns(xte))
    return out + (columns(xval),) if num_val else out


def part1_rows(train_x, train_y, heldout_x, num_train, num_val):
    """two_layer_net.ipynb: flatten and subtract the mean training image, one example per
    row. Validation: the first num_val validation images."""
    import numpy as np
    train, val = _split(train_x, num_train, num_val)
    xtr, xte, xval = _centred_rows(train_x[train], heldout_x, train_x[val])
    return xtr, np.asarray(train_y[train]), xval, np.asarray(train_y[val]), xte


def _centred_rows(train, *others):
    import numpy as np
    xtr = train.reshape(len(train), -1).astype(np.float64)
    mean = xtr.mean(axis=0)
    xtr -= mean
    rest = [o.reshape(len(o), -1).astype(np.float64) - mean for o in others]
    return (xtr, *rest)


def part1_images(train_x, train_y, heldout_x, num_train, num_val):
    """convnet.ipynb (get_CIFAR10_data): (N, 3, 32, 32) float images minus the mean training
    image. Returns (the Solver's data dict, held-out images)."""
    import numpy as np
    train, val = _split(train_x, num_train, num_val)
    xtr = train_x[train].astype(np.float64)
    mean = xtr.mean(axis=0)
    nchw = lambda a: np.ascontiguousarray((a - mean).transpose(0, 3, 1, 2))
    data = {"X_train": nchw(xtr), "y_train": np.asarray(train_y[train]),
            "X_val": nchw(train_x[val].astype(np.float64)), "y_val": np.asarray(train_y[val])}
    return data, nchw(heldout_x.astype(np.float64))


def predict_in_batches(model, X, batch_size):
    """argmax over classes of model.loss(X) (scores), a batch at a time."""
    import numpy as np
    preds = [np.argmax(model.loss(X[s:s + batch_size]), axis=1) for s in range(0, len(X), batch_size)]
    return np.concatenate(preds) if preds else np.zeros(0, dtype=np.int64)


def part2_split(train_x, train_y, num_train, num_val):
    """train.py's split: the first num_train images train, the validation images validate."""
    import numpy as np
    train, val = _split(train_x, num_train, num_val)
    return (np.ascontiguousarray(train_x[train]), np.asarray(train_y[train]),
            np.ascontiguousarray(train_x[val]), np.asarray(train_y[val]))


def _weights(obj):
    """A model's numbers as numpy arrays (a torch state_dict's floating tensors, else a
    `params` dict of arrays, else `W`), or None when it has none or reading them fails."""
    import numpy as np
    try:
        if hasattr(obj, "state_dict"):
            arrays = [v.detach().cpu().numpy() for _, v in sorted(obj.state_dict().items())
                      if getattr(v, "is_floating_point", lambda: False)()]
        elif isinstance(getattr(obj, "params", None), dict):
            arrays = [np.asarray(v) for _, v in sorted(obj.params.items())]
        elif getattr(obj, "W", None) is not None:
            arrays = [np.asarray(obj.W)]
        else:
            return None
        return [np.array(a, dtype=np.float64, copy=True) for a in arrays] or None
    except Exception:
        return None


def weights_snapshot(obj):
    """A copy of the model's numbers before training (kept in the worker), or None."""
    return _weights(obj)


def weights_change(obj, snapshot):
    """How far training moved the model's numbers: ||after - before|| / ||before|| over all
    of them (0.0: unchanged); None when either side cannot be read or the shapes differ.
    The grader flags a change too small to be learning (a model that arrived trained)."""
    import numpy as np
    after = _weights(obj)
    if snapshot is None or after is None or len(after) != len(snapshot) or any(
            a.shape != b.shape for a, b in zip(after, snapshot)):
        return None
    before = np.sqrt(sum(float(np.sum(b * b)) for b in snapshot))
    moved = np.sqrt(sum(float(np.sum((a - b) ** 2)) for a, b in zip(after, snapshot)))
    if not np.isfinite(moved):
        return None
    return float(moved / before) if before > 0 else (0.0 if moved == 0 else float("inf"))


def _trace_module():
    """worker_trace.py, beside this file (loaded by path: the worker runs with -I).

    main() loads it before confine() drops privileges: in the grading image the grader's files
    are root's only (0700), and the worker reads them as root before it becomes student0."""
    import importlib.util
    name = "hw1_worker_trace"
    if name not in sys.modules:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker_trace.py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


def trace_training(model, probe, device, seed, train_x=None, planned_steps=None):
    """A TrainingTrace on `model` from now on (kept in the worker; see its report)."""
    return _trace_module().TrainingTrace(model, probe, device, seed, train_x, planned_steps)


def trace_numpy_training(obj, probe, train=None, layout="columns", planned_steps=None,
                         solver=None):
    """A NumpyTrace on `obj` (kept in the worker; see its report)."""
    return _trace_module().NumpyTrace(obj, probe, train, layout, planned_steps, solver)


def training_report(trace):
    return trace.report()


def trace_predict_with(trace, which, images, seed):
    """TrainingTrace.predict_with: predictions with other parameters, then the trained ones back."""
    return trace.predict_with(which, images, seed)


def model_numbers(model):
    """worker_trace.model_numbers of `model`, the submission's modules being those under the
    working directory (the submission's copy)."""
    return _trace_module().model_numbers(model, os.getcwd())


def trace_segments(trace, starts):
    """The recorded stretches of training that begin at the steps `starts` (see StepLog)."""
    return [trace.segment(int(k)) for k in starts]


def head(arr, n):
    return arr[:n]


def take(arr, indices):
    """arr[indices] (indices: a list of positions along the first axis)."""
    import numpy as np
    return arr[np.asarray(indices, dtype=np.int64)]


def ignore(*args, **kwargs):
    """A log function that drops what it is given."""


def ignore_ref():
    return ignore


def build_extension():
    """setup.py build_ext --inplace in the current folder (the student's cs231n, inside the
    sandbox); returns {file name: its bytes as a uint8 array} of the modules it built."""
    import glob
    import runpy
    import numpy as np
    argv = sys.argv
    sys.argv = ["setup.py", "build_ext", "--inplace"]
    try:
        runpy.run_path("setup.py", run_name="__main__")
    finally:
        sys.argv = argv
    built = {}
    for name in sorted(glob.glob("im2col_cython*.so")):
        with open(name, "rb") as f:
            built[name] = np.frombuffer(f.read(), dtype=np.uint8)
    return built


HELPERS = {"build_extension": build_extension, "part1_columns": part1_columns, "part1_rows": part1_rows, "part1_images": part1_images,
           "predict_in_batches": predict_in_batches, "part2_split": part2_split,
           "head": head, "take": take, "model_numbers": model_numbers, "ignore": ignore_ref, "weights_snapshot": weights_snapshot,
           "weights_change": weights_change, "trace_training": trace_training,
           "trace_numpy_training": trace_numpy_training,
           "training_report": training_report, "trace_segments": trace_segments,
           "trace_predict_with": trace_predict_with}


# ---------------------------------------------------------------- main loop

def confine(limits):
    """Applied before any student code runs: (in a sandbox, as root) the supervisor, resource
    limits, no network (when allowed), no privilege gain, the unprivileged user, then (in a
    sandbox) the scratch copy of the submission. Every step that needs root is best effort
    outside a sandbox and reported back."""
    import resource
    report = {"network_isolated": False}
    if limits.get("remount"):          # in a sandbox, as root: the inode caps (see remount)
        report["inode_caps"] = remount(limits["remount"])
    if limits.get("status_fd") is not None:
        supervise(int(limits["status_fd"]), limits.get("uid"))
    parent = os.getppid()
    if limits.get("isolate_network"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            report["network_isolated"] = libc.unshare(0x40000000) == 0  # CLONE_NEWNET
        except OSError:
            pass
    for name, value in limits.get("rlimits", {}).items():
        which = getattr(resource, name)
        hard = resource.getrlimit(which)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        # CPU: SIGXCPU at the limit (with soft == hard the kernel would send SIGKILL, which
        # looks like a kill from outside); SIGKILL only 10 s later, if SIGXCPU is ignored
        top = value + 10 if name == "RLIMIT_CPU" else value
        resource.setrlimit(which, (value, top if hard == resource.RLIM_INFINITY else min(top, hard)))
    try:
        import ctypes
        ctypes.CDLL(None).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: no setuid programs
    except (OSError, AttributeError):
        pass
    uid, gid = limits.get("uid"), limits.get("gid")
    if uid is not None and uid != os.getuid():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        try:
            os.setuid(0)
        except PermissionError:
            pass
        else:
            raise SystemExit("could not drop privileges")
    try:  # die with the grader (set after the user change, which would clear it)
        import ctypes
        import signal
        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)
    fresh_keyrings()
    if limits.get("seccomp"):
        report["seccomp"] = refuse_syscalls()
    os.umask(0o077)
    for d in limits.get("mkdirs") or []:
        os.makedirs(d, exist_ok=True)
    if limits.get("copy"):  # in a sandbox: our own copy of the tree, on the capped tmpfs
        import shutil
        src, dest = limits["copy"]
        try:
            shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True)
        except (OSError, shutil.Error) as exc:
            report["setup_error"] = str(exc)[:500]
        os.chdir(dest)
    sys.path.extend(limits.get("site_dirs", []))  # started with -S: only these packages
    report["uid"] = os.getuid()
    return report


# Signals that end a process and that a process does not bring on itself by running: the
# grader reads a worker's death by one of them as a kill from outside (attribution.who_ended), so
# nothing inside the sandbox may send them (refuse_syscalls).
TERMINATING = (9, 15, 1, 2)   # SIGKILL, SIGTERM, SIGHUP, SIGINT
EPERM = 1


def refuse_syscalls():
    """Install a seccomp filter (libseccomp, through ctypes) on this process and everything
    it starts, before any student code runs. Refused with EPERM (Python raises
    PermissionError): sending SIGKILL/SIGTERM/SIGHUP/SIGINT to any process (kill, tkill,
    tgkill, rt_[tg]sigqueueinfo, pidfd_send_signal) and the indirect ways to have the kernel
    send one (timer_create, mq_notify, fcntl F_SETSIG, ptrace, a terminal's TIOCSCTTY,
    TIOCSIG and TIOCSTI ioctls; the sandbox has no pseudo-terminals either; a child whose
    exit signal is anything but SIGCHLD, or that is made a child of the worker's parent:
    clone with such flags, and clone3, whose flags seccomp cannot read, with ENOSYS so that
    the C library falls back to clone; setsid and setpgid, without which no process group of
    the worker can become orphaned with a stopped member, which has the kernel send SIGHUP
    to the whole group); the kernel keyrings (keyctl,
    add_key, request_key: a pool uid's user keyring outlives its processes and would carry
    data to the next student on that uid). So a worker that dies of one of those signals was
    killed from outside the sandbox, and a student's attempt is the student's error.
    Returns True, or the reason it could not be installed (then attribution.who_ended falls back to
    counting the sandbox's other processes)."""
    import ctypes
    import errno
    try:
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    except OSError as exc:
        return f"libseccomp.so.2 not found ({exc})"

    class Cmp(ctypes.Structure):
        _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                    ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(Cmp)]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    allow, refuse = 0x7FFF0000, 0x00050000 | errno.EPERM
    unknown = 0x00050000 | errno.ENOSYS
    masked_eq = 7                                   # SCMP_CMP_MASKED_EQ: (arg & a) == b
    ctx = lib.seccomp_init(allow)
    if not ctx:
        return "seccomp_init failed"
    try:
        def rule(name, *cmps, action=refuse):
            """Refuse syscall `name` when every (arg, value[, mask]) matches (no cmps:
            always)."""
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:
                return                                # not on this architecture
            arr = (Cmp * max(1, len(cmps)))(*[Cmp(c[0], masked_eq, c[2] if len(c) > 2 else 0xFFFFFFFF, c[1])
                                             for c in cmps])
            rc = lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), arr)
            if rc < 0:
                raise OSError(-rc, f"seccomp rule for {name}: {os.strerror(-rc)}")
        for name, sig_arg in (("kill", 1), ("tkill", 1), ("tgkill", 2), ("rt_sigqueueinfo", 1),
                              ("rt_tgsigqueueinfo", 2), ("pidfd_send_signal", 1)):
            for sig in TERMINATING:
                rule(name, (sig_arg, sig))
        for name in ("timer_create", "mq_notify", "ptrace", "keyctl", "add_key", "request_key",
                     "setsid", "setpgid"):
            rule(name)
        # clone's flags (x86-64 and arm64: argument 0): the low byte is the signal the kernel
        # sends the parent when the child ends; threads have 0, fork() SIGCHLD (17)
        for exit_signal in range(1, 65):
            if exit_signal != 17:
                rule("clone", (0, exit_signal, 0xFF))
        rule("clone", (0, 0x8000, 0x8000))           # CLONE_PARENT: a child of the supervisor
        rule("clone3", action=unknown)
        rule("fcntl", (1, 10))                        # F_SETSIG
        # a terminal of its own: TIOCSCTTY (then its hangup: SIGHUP), TIOCSIG, TIOCSTI
        for request in (0x540E, 0x40045436, 0x5412):
            rule("ioctl", (1, request))
        rc = lib.seccomp_load(ctx)
        if rc < 0:
            return f"seccomp_load failed ({os.strerror(-rc)})"
        return True
    except OSError as exc:
        return str(exc)
    finally:
        lib.seccomp_release(ctx)


def fresh_keyrings():
    """Empty the user keyrings of this uid (what an earlier process of it left, e.g. before
    keyring calls were refused) and join a new anonymous session keyring. Best effort: the
    seccomp filter then refuses every keyring call."""
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        for ring in (-4, -5):                 # KEY_SPEC_USER_KEYRING, _USER_SESSION_KEYRING
            libc.syscall(250, 7, ring)        # keyctl(KEYCTL_CLEAR, ring)
        libc.syscall(250, 1, None)            # keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)
    except (OSError, AttributeError):
        pass


def remount(caps):
    """Cap the files (inodes) of each writable tmpfs of the sandbox: {mount point: [bytes,
    inodes]}. bubblewrap 0.8 has no nr_inodes option, so this process (root inside the
    sandbox, with CAP_SYS_ADMIN, before it forks the worker) remounts each tmpfs with
    nr_inodes and the same size, keeping its flags and what is bound inside it, then drops
    CAP_SYS_ADMIN for good. Returns {mount point: inodes} of the caps set."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    done = {}
    for point, (size, inodes) in caps.items():
        flags = 0x20                                  # MS_REMOUNT
        st = os.statvfs(point)
        for st_bit, ms_bit in ((1, 1), (2, 2), (4, 4), (8, 8), (1024, 1024)):
            if st.f_flag & st_bit:                    # ST_RDONLY/NOSUID/NODEV/NOEXEC/NOATIME
                flags |= ms_bit
        data = f"size={int(size)},nr_inodes={int(inodes)}".encode()
        if libc.mount(None, point.encode(), None, flags, data) != 0:
            done[point] = f"not capped: {os.strerror(ctypes.get_errno())}"
        else:
            done[point] = int(inodes)
    drop_capability(21)                               # CAP_SYS_ADMIN
    return done


def drop_capability(cap):
    """Remove capability `cap` from this process's effective, permitted and inheritable
    sets (capset(2); no privilege is needed to lower them)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)     # _LINUX_CAPABILITY_VERSION_3, this pid
    data = (ctypes.c_uint32 * 6)()                   # {effective, permitted, inheritable} x 2
    if libc.capget(header, data) != 0:
        raise SystemExit(f"worker: capget failed: {os.strerror(ctypes.get_errno())}")
    word, bit = divmod(cap, 32)
    for k in range(3):
        data[word * 3 + k] &= ~(1 << bit) & 0xFFFFFFFF
    if libc.capset(header, data) != 0:
        raise SystemExit(f"worker: capset failed: {os.strerror(ctypes.get_errno())}")


def supervise(status_fd, uid):
    """Fork. The child returns and becomes the worker; this process stays (root inside the
    sandbox, so student code, another uid, cannot signal it), waits for the worker and
    writes how it ended to status_fd, a pipe that only this process holds:
    {"signal": n} or {"exit": n}, plus "others": how many other processes of the worker's
    uid were alive in the sandbox at that moment (who could have sent a signal) and "cpu":
    the CPU seconds it used (at its RLIMIT_CPU, a SIGKILL is its own limit's)."""
    pid = os.fork()
    if pid == 0:
        os.close(status_fd)
        return
    os.closerange(0, status_fd)
    os.closerange(status_fd + 1, 65536)
    cpu_limit = None
    try:  # before reaping it: the CPU limit it died with (it may have lowered its own)
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        with open(f"/proc/{pid}/limits") as f:
            hard = next(l for l in f if l.startswith("Max cpu time")).split()[4]
        cpu_limit = None if hard == "unlimited" else int(hard)
    except (OSError, StopIteration, ValueError, IndexError):
        pass
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(1)
    others = 0
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (pid, os.getpid()):
            try:
                with open(f"/proc/{name}/status") as f:
                    line = next(l for l in f if l.startswith("Uid:"))
                others += int(line.split()[1]) == uid
            except (OSError, StopIteration, ValueError):
                pass
    report = ({"signal": os.WTERMSIG(status)} if os.WIFSIGNALED(status)
              else {"exit": os.WEXITSTATUS(status)})
    report["others"] = others
    report["cpu"] = usage.ru_utime + usage.ru_stime
    report["cpu_limit"] = cpu_limit
    os.write(status_fd, json.dumps(report).encode())
    os._exit(0)


def main():
    if sys.argv[1] == "--probe":       # worker.py --probe LIMITS CODE ARG...: run CODE confined
        report = confine(json.loads(sys.argv[2]))   # (CODE sees it as __confined__)
        code = sys.argv[3]
        sys.argv = [sys.argv[0]] + sys.argv[4:]
        exec(compile(code, "<probe>", "exec"), {"__name__": "__main__", "__confined__": report})
        return
    if sys.argv[1] == "--exec":        # worker.py --exec LIMITS PROGRAM ARG...: exec it confined
        confine(json.loads(sys.argv[2]))
        os.execvp(sys.argv[3], sys.argv[3:])
    req_fd, resp_fd = int(sys.argv[1]), int(sys.argv[2])
    limits = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    _trace_module()                    # stdlib only at import; must be read before confine()
    confined = confine(limits)
    os.set_inheritable(req_fd, False)
    os.set_inheritable(resp_fd, False)
    codec = Codec()
    first = read_frame(req_fd)
    if first is None:
        return
    init = first[0]
    for p in reversed(init.get("paths", [])):
        sys.path.insert(0, p)
    if init.get("cwd"):
        os.chdir(init["cwd"])
    confined["pid"] = os.getpid()
    write_frame(resp_fd, {"ok": True, "value": {"$dict": list(confined.items())}}, [])
    while True:
        frame = read_frame(req_fd)
        if frame is None:
            return
        req, blobs = frame
        start = time.perf_counter()
        try:
            reply, out_blobs = handle(codec, req, blobs)
        except BaseException as exc:  # student code may raise anything, SystemExit included
            reply, out_blobs = {"ok": False, "error": describe_error(exc)}, []
        reply["seconds"] = time.perf_counter() - start
        try:
            write_frame(resp_fd, reply, out_blobs)
        except MemoryError:
            write_frame(resp_fd, {"ok": False, "error": {
                "type": "MemoryError", "message": "the result was too large to send back",
                "where": []}}, [])


if __name__ == "__main__":
    main()
