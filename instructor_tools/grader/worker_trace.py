"""What the grading worker watches during a training run (issue 16): whether the weights a
model predicts with were learnt by its training steps or brought in.

Loaded by worker.py from beside it (bound into the sandbox as /grader/worker_trace.py); like
worker.py it imports nothing from the grader. TrainingTrace follows a torch model through
torch's global optimizer step hooks (Part 2); NumpyTrace wraps a Part 1 model's `loss`.
_training.trace_flags / numpy_trace_flags (autograder_tests) turn their reports into staff
flags.
"""
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

    def __init__(self, model, probe, device, seed):
        import torch
        from torch.optim import optimizer as optim_mod
        global _TRACE
        if _TRACE is not None:
            _TRACE.close()
        _TRACE = self
        self.model, self.probe, self.device = model, probe, device
        self.generator = torch.Generator().manual_seed(int(seed))
        self.positions = {}      # (numel, device) -> sampled flat positions
        self.steps = 0
        self.first_preds = None
        self.optimizer = None
        self.pre, self.post = [], []
        self.start = self.fingerprint()
        self.handles = [optim_mod.register_optimizer_step_pre_hook(self._before_step),
                        optim_mod.register_optimizer_step_post_hook(self._after_step)]

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
        return {"steps": self.steps, "first_preds": self.first_preds,
                "jumps": jumps[:20], "n_jumps": len(jumps), "after_last": after_last,
                "optimizer": _optimizer_origin(self.optimizer, torch)}


_TRACE = None
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

    def __init__(self, obj, probe):
        self.obj, self.probe = obj, probe
        self.original = obj.loss
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
            return self.original(*args, **kwargs)
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
        out = self.original(*args, **kwargs)
        try:
            grads = out[1] if isinstance(out, tuple) and len(out) == 2 else None
            sampled = self._sample(self._arrays(grads)) if grads is not None else None
            minus = -sampled if sampled is not None else None
        except Exception:
            minus = None
        self.previous = (now, minus)
        return out

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
        restored = False
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
        return {"calls": self.calls, "first_preds": self.first_preds, "restored": restored,
                "sizes": np.asarray(self.sizes, dtype=np.float64),
                "cosines": np.asarray([np.nan if c is None else c for c in self.cosines],
                                      dtype=np.float64)}




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
