"""What the grading worker watches during a training run (issue 16): whether the weights a
model predicts with were learnt by its training steps or brought in.

Loaded by worker.py from beside it (bound into the sandbox as /grader/worker_trace.py); like
worker.py it imports nothing from the grader. TrainingTrace follows a torch model through
torch's global optimizer step hooks (Part 2); NumpyTrace wraps a Part 1 model's `loss`.
_training.trace_flags / numpy_trace_flags (autograder_tests) turn their reports into staff
flags.
"""
import hashlib
import importlib
import os


class TrainingTrace:
    """Follows a torch model's parameters through one training run (torch's global optimizer
    step hooks), so the grader can tell weights learnt by the optimizer's steps from weights
    brought in: the model's predictions on `probe` just before its first step, and every
    change of the parameters that no step made (between steps, or after the last one).

    A fingerprint of the parameters holds, per tensor, its element count, its sum (float64)
    and SAMPLES of its elements at positions drawn from `seed` (all of a smaller tensor): a
    replaced weight changes it, a stretch of training that left them alone does not. One
    pass over the parameters per fingerprint (MyModel's 4.8M: a few ms on a CPU); they stay
    on the model's device until `report`."""

    def __init__(self, model, probe, device, seed, train_x=None, planned_steps=None):
        import torch
        from torch.optim import optimizer as optim_mod
        global _TRACE
        if _TRACE is not None:
            _TRACE.close()
        _TRACE = self
        self.model, self.probe, self.device = model, probe, device
        self.index = self._batch_index(train_x) if train_x is not None else None
        self.last_input = None
        size = sum(p.numel() * p.element_size() for p in model.parameters())
        self.log = StepLog(planned_steps, 2 * size)
        self.generator = torch.Generator().manual_seed(int(seed))
        self.positions = {}      # (numel, device) -> sampled flat positions
        self.steps = 0
        self.first_preds = None
        self.optimizer = None
        self.pre, self.post = [], []
        self.start = self.fingerprint()
        self.handles = [optim_mod.register_optimizer_step_pre_hook(self._before_step),
                        optim_mod.register_optimizer_step_post_hook(self._after_step),
                        model.register_forward_pre_hook(self._saw_input)]

    def _batch_index(self, train_x):
        """BatchIndex of the training images as train.to_model_input makes them (on the
        model's device, as fit does), a chunk at a time."""
        import numpy as np
        import torch
        prepare = importlib.import_module("train").to_model_input
        images = torch.as_tensor(np.asarray(train_x))
        n_features = int(np.prod(images.shape[1:]))
        positions = torch.as_tensor(key_positions(n_features))
        keys = []
        with torch.no_grad():
            for s in range(0, len(images), 1000):
                x = prepare(images[s:s + 1000].to(self.device)).reshape(-1, n_features)
                keys.append(x[:, positions.to(x.device)].cpu().numpy())
        return BatchIndex(n_features=n_features, keys=np.concatenate(keys))

    def _saw_input(self, module, args):
        if module.training and args:
            self.last_input = args[0]

    def _batch(self):
        """(the last training forward's images as training indices, -1 where an image is
        not a training image as to_model_input makes it (e.g. augmented); key_digest of its
        values at the key positions), or (None, None)."""
        import torch
        x = self.last_input
        if self.index is None or not isinstance(x, torch.Tensor) or x.dim() < 2:
            return None, None
        with torch.no_grad():
            flat = x.detach().reshape(len(x), -1)
            if flat.shape[1] != self.index.n_features:
                return None, None
            pos = torch.as_tensor(self.index.positions, device=flat.device)
            keys = flat[:, pos].cpu().numpy()
            return self.index.lookup_keys(keys), key_digest(keys)

    def _grad_norm(self):
        """The norm of all parameters' gradients as the step finds them (float; None when
        unreadable): the grader replays a clip_grad_norm_ with it."""
        import torch
        try:
            with torch.no_grad():
                grads = [p.grad.detach().double().pow(2).sum() for p in self.model.parameters()
                         if p.grad is not None]
                return float(torch.stack([g.to(grads[0].device) for g in grads]).sum().sqrt()) \
                    if grads else None
        except Exception:
            return None

    def _state(self, optimizer):
        """A checkpoint: the parameters by name and the optimizer's momentum buffers."""
        params, momentum = [], []
        state = getattr(optimizer, "state", {})
        for name, p in self.model.named_parameters():
            params.append((name, p.detach().cpu().numpy().copy()))
            buf = state.get(p, {}).get("momentum_buffer") if hasattr(state, "get") else None
            if buf is not None:
                momentum.append((name, buf.detach().cpu().numpy().copy()))
        return {"params": params, "momentum": momentum}

    def segment(self, start):
        return self.log.segment(start)

    def predict_with(self, which, images, seed):
        """The student's predict on `images` with the model's parameters put back to where
        training started (`which` "start": the first checkpoint), replaced by a shuffle of
        their trained values (`which` "shuffled": each tensor's values permuted, seeded), or
        nudged (`which` "nudged": each value times 1 + NUDGE * N(0, 1));
        the trained parameters are restored afterwards. None when that cannot be done."""
        import torch
        params = dict(self.model.named_parameters())
        saved = {n: p.detach().clone() for n, p in params.items()}
        start = self.log.checkpoints.get(0)
        gen = torch.Generator().manual_seed(int(seed))
        try:
            with torch.no_grad():
                for name, p in params.items():
                    if which == "start":
                        value = torch.as_tensor(dict(start["params"])[name])
                    elif which == "nudged":     # 1e-4 of each value, at random
                        noise = torch.randn(saved[name].shape, generator=gen)
                        value = saved[name] * (1 + NUDGE * noise.to(saved[name].device))
                    else:
                        flat = saved[name].reshape(-1)
                        value = flat[torch.randperm(flat.numel(), generator=gen).to(flat.device)]
                    p.copy_(value.reshape(p.shape).to(p.device, p.dtype))
            return importlib.import_module("train").predict(self.model, images, self.device, 500)
        except Exception:
            return None
        finally:
            with torch.no_grad():
                for name, p in params.items():
                    p.copy_(saved[name])

    def _positions(self, n, device):
        import torch
        key = (n, str(device))
        if key not in self.positions:
            picked = (torch.arange(n) if n <= SAMPLES
                      else torch.randint(0, n, (SAMPLES,), generator=self.generator))
            self.positions[key] = picked.to(device)
        return self.positions[key]

    def fingerprint(self):
        import torch
        with torch.no_grad():
            params = [p.detach().reshape(-1) for p in self.model.parameters()]
            if not params:
                return None
            where = params[0].device
            parts = []
            for p in params:
                parts += [torch.tensor([float(p.numel())], dtype=torch.float64, device=p.device),
                          p.sum(dtype=torch.float64).reshape(1),
                          p[self._positions(p.numel(), p.device)].to(torch.float64)]
            return torch.cat([t.to(where) for t in parts])

    def _before_step(self, optimizer, args, kwargs):
        if self.steps == 0 and self.optimizer is None:
            self.optimizer = optimizer
            self.first_preds = self._probe()
        self.pre.append(self.fingerprint())
        groups = getattr(optimizer, "param_groups", None) or [{}]
        settings = {k: groups[0].get(k) for k in ("lr", "momentum", "dampening", "weight_decay",
                                                  "nesterov", "maximize")
                    if isinstance(groups[0].get(k), (bool, int, float))}
        settings.update(optimizer=type(optimizer).__name__, groups=len(groups),
                        grad_norm=self._grad_norm())
        batch, keys = self._batch()
        if keys is not None:
            settings["keys"] = keys
        self.log.record(batch, settings, lambda: self._state(optimizer))

    def _after_step(self, optimizer, args, kwargs):
        self.steps += 1
        self.post.append(self.fingerprint())

    def _probe(self):
        """The student's predict on the probe images, the model as it is (train mode kept)."""
        was_training = self.model.training
        try:
            return importlib.import_module("train").predict(self.model, self.probe, self.device, 500)
        except Exception:
            return None
        finally:
            self.model.train(was_training)

    def close(self):
        global _TRACE
        for h in self.handles:
            h.remove()
        self.handles = []
        if _TRACE is self:
            _TRACE = None

    def report(self):
        """What the run showed (call after training and predicting): steps, the first step's
        probe predictions, the steps before which the parameters had changed since the step
        before ("jumps", 1-based), whether they changed after the last step, and what
        stepped (the optimizer's class, whether its step and hooks are torch's own)."""
        import numpy as np
        import torch
        self.close()
        final = self.fingerprint()
        if final is None or self.start is None or not self.steps or any(
                f.shape != final.shape for f in self.pre + self.post):
            jumps, after_last = [], bool(self.steps) and final is None
        else:
            to_numpy = lambda fs: torch.stack(fs).cpu().numpy()
            pre, post = to_numpy(self.pre), to_numpy(self.post)
            known = np.vstack([to_numpy([self.start]), post])     # states a step left

            def equal(rows, f):
                scale = np.maximum(1.0, np.maximum(np.abs(rows), np.abs(f)))
                return np.all(np.abs(rows - f) <= 1e-9 * scale, axis=1)

            def seen_before(f, upto):
                """Is fingerprint f the last of the first `upto` known states, or (a best state
                put back) any of them?"""
                return bool(equal(known[upto - 1:upto], f)[0] or np.any(equal(known[:upto], f)))

            # before step k+1 the numbers must be those step k left (or an earlier state: a
            # best state put back); the numbers that predicted, those of some step
            jumps = [k + 1 for k in range(1, len(pre)) if not seen_before(pre[k], k + 1)]
            after_last = not seen_before(final.cpu().numpy(), len(known))
        audit = self.log.finish({"params": [(n, p.detach().cpu().numpy().copy())
                                            for n, p in self.model.named_parameters()]})
        return {"audit": audit, "steps": self.steps, "first_preds": self.first_preds,
                "jumps": jumps[:20], "n_jumps": len(jumps), "after_last": after_last,
                "optimizer": _optimizer_origin(self.optimizer, torch)}


_TRACE = None
# The relative size of TrainingTrace.predict_with's "nudged" change of the parameters.
NUDGE = 1e-4
# Loss functions a Part 1 train loop may call directly instead of the model's `loss`; NumpyTrace
# follows them in the model's modules (linear_classifier.py imports softmax_loss_vectorized).
DIRECT_LOSSES = ("softmax_loss_vectorized", "softmax_loss_naive")
# Elements of each parameter tensor (Part 2) or of all of a Part 1 model's numbers that a
# fingerprint samples.
SAMPLES = 4096


class NumpyTrace:
    """Follows a Part 1 model's numbers (its `params` dict, else `W`) through one training
    run by wrapping its `loss` (an instance attribute, so the student's train loop or Solver
    calls it): at the first call with labels, predictions on `probe` (`predict(probe)`, else
    the argmax of `loss(probe)`); at every call with labels, the update since the call before
    and how it lines up with the gradient that call returned. Scores-only calls (y None)
    pass through.

    An update is the change of the numbers from one labelled call to the next (the last: to
    the numbers at `report`), read at SAMPLES positions drawn once (all of a smaller model);
    its cosine with minus the previous gradient is 1 for plain SGD and positive for momentum
    and Adam; weights brought in make a step far larger than the run's usual one that does
    not follow the gradient. The student's np.random stream is not touched."""

    def __init__(self, obj, probe, train=None, layout="columns", planned_steps=None,
                 solver=None):
        self.obj, self.probe = obj, probe
        self.layout, self.solver = layout, solver
        self.pending = False
        self.index = None
        if train is not None:
            import numpy as np
            train = np.asarray(train)
            if layout == "images":
                train = train.reshape(len(train), -1)
            self.index = BatchIndex(train.T if layout == "columns" else train)
        full = self._full()
        self.log = StepLog(planned_steps, sum(a.nbytes for _, a in full) if full else 1)
        self.original = obj.loss
        self.inside = False
        self.patched = []       # (module, name, function): loss functions of the model's modules
        for module in {importlib.import_module(c.__module__) for c in type(obj).__mro__
                       if c.__module__ not in ("builtins", "__main__")}:
            for name in DIRECT_LOSSES:
                fn = module.__dict__.get(name)
                if callable(fn):
                    self.patched.append((module, name, fn))
                    setattr(module, name, self._direct(fn))
        self.first_preds = None
        self.calls = 0
        self.positions = None    # per array, the sampled flat positions
        self.previous = None     # (sampled numbers, minus sampled gradient), last labelled call
        self.sizes, self.cosines = [], []
        self.seen = []           # the sampled numbers at each labelled call
        obj.loss = self._loss

    def _arrays(self, source):
        import numpy as np
        if isinstance(source, dict):
            return [np.asarray(v) for _, v in sorted(source.items())]
        return [] if source is None else [np.asarray(source)]

    def _sample(self, arrays):
        """The numbers of `arrays` at the sampled positions (float64), or None."""
        import numpy as np
        if not arrays:
            return None
        if self.positions is None:
            rng = np.random.default_rng(7643)
            total = sum(a.size for a in arrays)
            self.positions = [
                np.arange(a.size) if a.size <= max(64, SAMPLES * a.size // max(total, 1))
                else rng.integers(0, a.size, max(64, SAMPLES * a.size // total))
                for a in arrays]
        if len(arrays) != len(self.positions) or any(
                len(p) and p.max() >= a.size for a, p in zip(arrays, self.positions)):
            return None
        return np.concatenate([a.reshape(-1)[p].astype(np.float64)
                               for a, p in zip(arrays, self.positions)])

    def _numbers(self):
        params = getattr(self.obj, "params", None)
        return self._sample(self._arrays(params if isinstance(params, dict)
                                         else getattr(self.obj, "W", None)))

    def _step(self, now):
        import numpy as np
        numbers, minus_grad = self.previous
        if numbers is None or now is None or len(numbers) != len(now):
            return
        update = now - numbers
        size = float(np.linalg.norm(update))
        self.sizes.append(size)
        if minus_grad is not None and len(minus_grad) == len(update):
            denominator = size * float(np.linalg.norm(minus_grad))
            self.cosines.append(float(update @ minus_grad) / denominator if denominator else 1.0)
        else:
            self.cosines.append(None)

    def _loss(self, *args, **kwargs):
        y = args[1] if len(args) > 1 else kwargs.get("y", kwargs.get("y_batch"))
        if y is None:
            if self.pending and self.solver is not None:
                # a Solver checks accuracy here and may put these numbers back at the end
                self.pending = False
                self.log.checkpoint_now(self._checkpoint)
            return self.original(*args, **kwargs)
        return self._labelled(lambda: self.original(*args, **kwargs), args, kwargs)

    def _labelled(self, compute, args, kwargs):
        """One labelled loss call (a training step): record it, then `compute()` it (the loss
        functions it calls are not followed again)."""
        self.pending = True
        try:
            now = self._numbers()
        except Exception:
            now = None
        if self.calls == 0:
            self.first_preds = self._probe()
        elif self.previous is not None:
            self._step(now)
        self.calls += 1
        self.seen.append(now)
        self.log.record(self._batch(args, kwargs), {}, self._checkpoint)
        self.inside = True
        try:
            out = compute()
        finally:
            self.inside = False
        try:
            grads = out[1] if isinstance(out, tuple) and len(out) == 2 else None
            sampled = self._sample(self._arrays(grads)) if grads is not None else None
            minus = -sampled if sampled is not None else None
        except Exception:
            minus = None
        self.previous = (now, minus)
        return out

    def _direct(self, fn):
        """`fn` (a loss function of the model's module), followed like the model's `loss` when
        train calls it directly (softmax_loss_vectorized(self.W, ...)), not through `loss`."""
        def call(W, X, y, reg, *args, **kwargs):
            if self.inside:
                return fn(W, X, y, reg, *args, **kwargs)
            return self._labelled(lambda: fn(W, X, y, reg, *args, **kwargs), (X, y), {})
        return call

    def _full(self):
        """A copy of all of the model's numbers, [(name, array)] by name, each in its own
        floating-point type (a float32 ThreeLayerConvNet trains in float32, and its replay
        must too: Adam's normalised steps turn float32-vs-float64 rounding into differences of
        ~1e-2 of a stretch's move); other types as float64."""
        try:
            params = getattr(self.obj, "params", None)
            if isinstance(params, dict):
                return [(k, _float_copy(v)) for k, v in sorted(params.items())]
            W = getattr(self.obj, "W", None)
            return None if W is None else [("W", _float_copy(W))]
        except Exception:
            return None

    def _checkpoint(self):
        """The numbers, and with a Solver its update rule's configs (copied)."""
        import copy
        if self.solver is None:
            return self._full()
        configs = getattr(self.solver, "optim_configs", None)
        configs = sorted(copy.deepcopy(configs).items()) if isinstance(configs, dict) else []
        return {"params": self._full(), "configs": configs}

    def _batch(self, args, kwargs):
        """The minibatch's training indices (-1: not a training example), or None."""
        import numpy as np
        X = args[0] if args else kwargs.get("X", kwargs.get("X_batch"))
        if self.index is None or X is None:
            return None
        try:
            X = np.asarray(X)
            if self.layout == "images":
                X = X.reshape(len(X), -1)
            return self.index.lookup(X.T if self.layout == "columns" else X)
        except Exception:
            return None

    def segment(self, start):
        return self.log.segment(start)

    def _probe(self):
        import numpy as np
        try:
            if callable(getattr(self.obj, "predict", None)):
                return np.asarray(self.obj.predict(self.probe))
            return np.argmax(self.original(self.probe), axis=1)
        except Exception:
            return None

    def report(self):
        """{"calls", "first_preds", "restored", "sizes", "cosines"} (per update, in order;
        the last is from the last labelled call to now, left out when the numbers now are
        an earlier state put back); the model's own `loss` is put back."""
        import numpy as np
        if self.obj.__dict__.get("loss") == self._loss:
            del self.obj.loss
        for module, name, fn in self.patched:
            setattr(module, name, fn)
        self.patched = []
        restored, now = False, None
        if self.previous is not None:
            try:
                now = self._numbers()
            except Exception:
                now = None
            # a Solver puts back the best numbers it saw: an earlier state, not new weights
            restored = now is not None and any(
                s is not None and len(s) == len(now) and np.allclose(s, now, rtol=1e-9, atol=1e-12)
                for s in self.seen[:-1])
            if not restored:
                self._step(now)
        moved = [not _same(a, b) for a, b in zip(self.seen, self.seen[1:] + [now])]
        audit = self.log.finish(self._full(), moved)
        return {"audit": audit, "calls": self.calls, "first_preds": self.first_preds, "restored": restored,
                "sizes": np.asarray(self.sizes, dtype=np.float64),
                "cosines": np.asarray([np.nan if c is None else c for c in self.cosines],
                                      dtype=np.float64)}



def _float_copy(value):
    """A copy of `value` as an array of its own float type (float16/32/64), else float64."""
    import numpy as np
    arr = np.asarray(value)
    return np.array(arr, dtype=arr.dtype if arr.dtype.kind == "f" else np.float64)


def digest(named_arrays) -> str:
    """A commitment to a model's numbers: blake2b (16 bytes, hex) of each (name, array)'s
    name, dtype, shape and bytes, in order. The grader recomputes it on the arrays the worker
    hands over (autograder_tests/_audit.py), so those must be the ones committed to."""
    import numpy as np
    h = hashlib.blake2b(digest_size=16)
    for name, arr in named_arrays:
        arr = np.ascontiguousarray(arr)
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def key_digest(keys) -> str:
    """Digest of a minibatch's values at the key positions ((B, K) float32): the grader
    compares it with the minibatch it expects at that step (an augmented one: BatchIndex
    cannot name its images)."""
    import numpy as np
    return hashlib.blake2b(np.ascontiguousarray(keys, dtype=np.float32).tobytes(),
                           digest_size=16).hexdigest()


# Feature positions whose exact values identify a training example (BatchIndex).
KEY_FEATURES = 24


def key_positions(n_features: int):
    """The KEY_FEATURES feature positions (of n_features) that BatchIndex keys on; the same
    in the worker and the grader."""
    import numpy as np
    return np.random.default_rng(1729).choice(n_features, min(KEY_FEATURES, n_features),
                                              replace=False)


class BatchIndex:
    """Which training examples a minibatch holds: each example (a row of `rows`, (N, D)) is
    known by the exact bytes of its values at key_positions(D); a minibatch row, copied from
    the training data, has the same bytes. Rows found nowhere (changed, made up) are -1."""

    def __init__(self, rows=None, n_features=None, keys=None):
        import numpy as np
        self.n_features = rows.shape[1] if rows is not None else n_features
        self.positions = key_positions(self.n_features)
        if keys is None:
            keys = rows[:, self.positions]
        keys = np.ascontiguousarray(keys)
        if keys.dtype.kind == "f":      # float64 data is found in a float32 copy as well
            keys = keys.astype(np.float32)
        self.dtype = keys.dtype
        self.table = {keys[i].tobytes(): i for i in range(len(keys))}

    def lookup(self, rows):
        import numpy as np
        return self.lookup_keys(np.asarray(rows)[:, self.positions])

    def lookup_keys(self, keys):
        """Indices of the examples whose values at the key positions are `keys` (B, K)."""
        import numpy as np
        keys = np.ascontiguousarray(keys).astype(self.dtype, copy=False)
        return np.array([self.table.get(k.tobytes(), -1) for k in keys], dtype=np.int32)


# Memory the checkpoints of one training run may hold in the worker (bytes), and the steps
# between two checkpoints when that memory allows (the grader replays whole stretches).
CHECKPOINT_BYTES = 256 * 2**20
SEGMENT_STEPS = 8


class StepLog:
    """What the grader needs to replay stretches of a training run from outside (issue 16):
    for every step, the training examples of its minibatch (BatchIndex) and its settings
    (the learning rate); every `every` steps a checkpoint (a full copy of the numbers, with
    the optimizer's state where it has one) and its digest. The digests go to the grader
    first (report); only then does the grader name the stretches it replays (segment), so
    the checkpoints it receives are those of the run."""

    def __init__(self, planned_steps, bytes_per_checkpoint):
        planned = max(1, int(planned_steps or 1))
        most = max(2, CHECKPOINT_BYTES // max(1, int(bytes_per_checkpoint)))
        self.every = max(SEGMENT_STEPS, -(-planned // most))
        self.steps, self.batches, self.settings, self.moved = 0, [], [], []
        self.checkpoints, self.digests = {}, {}
        self.final = None

    def record(self, batch, settings, checkpoint):
        """One step: its batch's indices, its settings (a dict), and `checkpoint()` (the
        numbers before the step, [(name, array)] or a dict with "params") when one is due."""
        if self.steps % self.every == 0:
            self.checkpoint_now(checkpoint)
        self.batches.append(batch)
        self.settings.append(settings)
        self.steps += 1

    def checkpoint_now(self, checkpoint):
        """A checkpoint before the next step (a state a Solver may put back later)."""
        if self.steps not in self.checkpoints:
            state = checkpoint()
            self.checkpoints[self.steps] = state
            self.digests[self.steps] = (digest(checkpoint_arrays(state)),
                                        digest(checkpoint_params(state)))

    def finish(self, state, moved=None):
        """The numbers after the last step or put back (and, per step, whether it changed
        them). "final" digests the numbers alone, as "checkpoints"' second digest does."""
        self.final = state
        self.moved = list(moved) if moved is not None else [True] * self.steps
        return {"every": self.every, "steps": self.steps,
                "checkpoints": [[k, d, p] for k, (d, p) in sorted(self.digests.items())],
                "final": digest(checkpoint_params(state)) if state is not None else None,
                "unknown_batches": int(sum(int((b < 0).any()) if b is not None else 1
                                           for b in self.batches))}

    def segment(self, start):
        """Steps `start` .. the next checkpoint (or the end): the numbers before and after
        (the last stretch: the final numbers, unless a checkpoint follows its last step; then
        the final numbers too, as "final"), each step's batch indices, settings and whether it
        moved the numbers."""
        if start not in self.checkpoints:
            return None
        later = [k for k in self.checkpoints if k > start]
        end = min(later) if later else self.steps
        out = {"start": start, "end": end, "before": self.checkpoints[start],
               "after": self.checkpoints[end] if later else self.final,
               "batches": self.batches[start:end], "settings": self.settings[start:end],
               "moved": self.moved[start:end]}
        if end == self.steps:
            out["final"] = self.final
        return out


def _same(a, b):
    import numpy as np
    return a is not None and b is not None and len(a) == len(b) and bool(np.array_equal(a, b))


def checkpoint_params(state):
    """[(name, array)] of a checkpoint's numbers."""
    return list(state["params"]) if isinstance(state, dict) else state


def checkpoint_arrays(state):
    """[(name, array)] of a checkpoint: the numbers, then the optimizer's state if any (torch
    SGD's momentum buffers; a Solver's per-parameter update-rule configs)."""
    if not isinstance(state, dict):
        return state
    import numpy as np
    out = list(state["params"]) + [("momentum:" + n, a) for n, a in state.get("momentum", [])]
    for name, config in state.get("configs", []):
        out += [(f"config:{name}:{k}", np.asarray(config[k])) for k in sorted(config)]
    return out



def _code_file(fn):
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    return code.co_filename if code is not None else None


def _optimizer_origin(optimizer, torch):
    """{"name": class, "own": False when the class, its step or a step hook comes from
    outside torch}, or None when nothing stepped."""
    if optimizer is None:
        return None
    root = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep
    cls = type(optimizer)
    hooks = list(getattr(optimizer, "_optimizer_step_pre_hooks", {}).values()) + list(
        getattr(optimizer, "_optimizer_step_post_hooks", {}).values())
    from torch.optim import optimizer as optim_mod
    ours = {id(getattr(h, "__func__", h)) for h in (TrainingTrace._before_step, TrainingTrace._after_step)}
    hooks += [h for h in list(optim_mod._global_optimizer_pre_hooks.values())
              + list(optim_mod._global_optimizer_post_hooks.values())
              if id(getattr(h, "__func__", h)) not in ours]
    files = [_code_file(cls.step)] + [_code_file(h) for h in hooks]
    foreign = [f for f in files if f is None or not os.path.abspath(f).startswith(root)]
    return {"name": f"{cls.__module__}.{cls.__qualname__}",
            "own": cls.__module__.startswith("torch.optim") and not foreign}


# What model_numbers reports: places holding at least NUMBERS_MIN numbers, or TEXT_MIN
# characters of str/bytes (shorter literals are literal_data's concern).
NUMBERS_MIN = 256
TEXT_MIN = 2048
DISTINCT_SAMPLE = 100_000
WALK_LIMIT = 50_000


def model_numbers(model, root):
    """Digests of the numbers a torch `model` computes with, for the grader's fresh-worker
    check (_training.fresh_worker_flags): {name: [count, distinct, sha1]}, where
    - each floating state_dict entry of at least NUMBERS_MIN elements is named as there;
    - what lies outside the state_dict is named "outside: <where>" (" #k": the k-th array
      of at least NUMBERS_MIN numbers found there; " (small values)": the smaller ones
      together): tensors that are no state_dict entry (plain attributes, non-persistent buffers,
      modules kept outside `_modules`), numpy arrays, lists of numbers and str/bytes, reached
      from the attributes of the model's modules, the closures and defaults of functions kept
      there (hooks too), and the globals and class attributes of the submission's modules
      (files under `root`; dunder names left out).
    distinct: how many different values among the first DISTINCT_SAMPLE (an identity, a mask
    or a constant has few). The walk stops after WALK_LIMIT objects."""
    import sys
    walk = _NumberWalk(model)
    for name, t in walk.state.items():
        if t.is_floating_point() and t.numel() >= NUMBERS_MIN:
            walk.out[name] = _summary([t.detach().cpu().numpy()])
    for prefix, module in model.named_modules():
        dot = prefix + "." if prefix else ""
        for key, value in list(vars(module).items()):
            if key == "_modules" or key.startswith("__"):
                continue
            if key in ("_parameters", "_buffers"):
                for sub, tensor in list(value.items()):
                    walk.place(dot + sub, tensor)
            else:
                walk.place(dot + key, value)
    root = os.path.abspath(root) + os.sep
    for modname, mod in sorted(sys.modules.items()):
        path = getattr(mod, "__file__", None)
        if not isinstance(path, str) or not os.path.abspath(path).startswith(root):
            continue
        for key, value in list(vars(mod).items()):
            if key.startswith("__"):
                continue
            if isinstance(value, type) and getattr(value, "__module__", None) == modname:
                for ckey, cvalue in list(vars(value).items()):
                    if not ckey.startswith("__"):
                        walk.place(f"{modname}.{key}.{ckey}", cvalue)
            else:
                walk.place(f"{modname}.{key}", value)
    return walk.out


def _summary(arrays):
    """[count, distinct values among the first DISTINCT_SAMPLE, sha1 of dtypes and bytes]."""
    import hashlib as _hashlib
    import numpy as np
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays if a.size]
    h = _hashlib.sha1()
    for a in flat:
        h.update(str(a.dtype).encode())
        h.update(a.tobytes())
    sample = np.concatenate([a[:DISTINCT_SAMPLE].astype(np.float64) for a in flat]) \
        if flat else np.zeros(0)
    return [int(sum(a.size for a in flat)), int(len(np.unique(sample[:DISTINCT_SAMPLE]))),
            h.hexdigest()]


def _storage(t):
    try:
        return t.untyped_storage().data_ptr()
    except Exception:
        return None


class _NumberWalk:
    """model_numbers' walk: what objects reached from a place hold that `model`'s state_dict
    does not, each object once, at most WALK_LIMIT objects and 6 levels deep."""

    def __init__(self, model):
        import torch
        self.state = {k: t for k, t in model.state_dict().items() if isinstance(t, torch.Tensor)}
        self.in_state = {_storage(t) for t in self.state.values()}
        self.registered = {id(m) for m in model.modules()}
        self.seen, self.budget, self.out = set(), WALK_LIMIT, {}

    def place(self, where, value):
        """Record what `value` holds under "outside: <where>" (see model_numbers)."""
        found = []
        self.leaves(value, 1, found)
        large = [a for a in found if a.size >= NUMBERS_MIN]
        small = [a for a in found if a.size < NUMBERS_MIN]
        name = f"outside: {where}"[:200]
        for k, array in enumerate(large):
            self.out[name + (f" #{k + 1}" if len(large) > 1 else "")] = _summary([array])
        if sum(a.size for a in small) >= NUMBERS_MIN:
            self.out[name + " (small values)"] = _summary(small)

    def leaves(self, obj, depth, found):
        """Append what `obj` holds to `found` as flat arrays (text as bytes)."""
        import functools
        import types
        import numpy as np
        import torch
        if self.budget <= 0 or id(obj) in self.seen or depth > 6:
            return
        self.seen.add(id(obj))
        self.budget -= 1
        if isinstance(obj, torch.Tensor):
            if _storage(obj) not in self.in_state and not obj.is_sparse:
                found.append(obj.detach().cpu().reshape(-1).to(torch.float64).numpy())
        elif isinstance(obj, np.ndarray):
            if obj.dtype.kind in "biufc":
                found.append(obj.reshape(-1))
        elif isinstance(obj, (str, bytes, bytearray)):
            data = obj.encode("utf-8", "surrogatepass") if isinstance(obj, str) else bytes(obj)
            if len(data) >= TEXT_MIN:
                found.append(np.frombuffer(data, dtype=np.uint8))
        elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
            found.append(np.asarray([obj], dtype=np.float64))
        elif isinstance(obj, torch.nn.Module) and id(obj) in self.registered:
            return
        elif isinstance(obj, dict):
            self.each(list(obj.values()), depth, found)
        elif isinstance(obj, (list, tuple, set, frozenset)):
            self.each(list(obj), depth, found)
        elif isinstance(obj, types.FunctionType):
            cells = []
            for cell in obj.__closure__ or ():
                try:
                    cells.append(cell.cell_contents)
                except ValueError:      # an empty cell
                    pass
            self.each(cells + [obj.__defaults__ or (), obj.__kwdefaults__ or {}], depth, found)
        elif isinstance(obj, types.MethodType):
            self.leaves(obj.__func__, depth + 1, found)
        elif isinstance(obj, functools.partial):
            self.leaves((obj.func, obj.args, obj.keywords), depth + 1, found)
        elif isinstance(obj, (types.ModuleType, type)) or callable(obj) and not hasattr(obj, "__dict__"):
            return
        elif isinstance(getattr(obj, "__dict__", None), dict):
            self.leaves(vars(obj), depth + 1, found)

    def each(self, values, depth, found):
        for value in values:
            self.leaves(value, depth + 1, found)
