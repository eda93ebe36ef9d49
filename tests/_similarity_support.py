"""Real submissions for the similarity tests and benchmark, written from the assignment itself.

- `build(dest, choose)`: a submission folder shaped like the release, every solution region of
  source/hw1 filled with the reference solution ("ref"), an independently written
  implementation ("alt1", "alt2": ALTERNATIVES below, written differently on purpose: loops
  where the reference vectorises, other names, other order of steps) or left as the release's
  stub ("stub", unfinished work). `choose(key)` picks for each region key
  (file, function, region number).
- `disguise(text, seed)`: what a student hiding a copy does to a Python file: local names
  renamed, comments rewritten, operators re-spaced, top-level functions and methods reordered.
- `archive_repo(dest)`: a public-solutions repository in cs231n's own layout
  (assignment1/cs231n/layers.py ...) and starter comments, holding ARCHIVE implementations.
"""
from __future__ import annotations

import ast
import io
import json
import pathlib
import random
import re
import shutil
import textwrap
import tokenize
import zipfile

REPO = pathlib.Path(__file__).resolve().parents[1]
SOURCE = REPO / "source" / "hw1"
RELEASE = REPO / "release" / "hw1"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
LAYERS = "1_cs231n/cs231n/layers.py"
SOFTMAX = "1_cs231n/cs231n/classifiers/softmax.py"
OPTIM = "1_cs231n/cs231n/optim.py"
NET = "1_cs231n/cs231n/classifiers/neural_net.py"
TWOLAYER = "2_pytorch/models/twolayernn.py"

ALT1 = {
    (LAYERS, "affine_forward", 0): """
        n_examples = x.shape[0]
        flat = np.reshape(x, (n_examples, np.prod(x.shape[1:])))
        out = np.dot(flat, w) + b
    """,
    (LAYERS, "affine_backward", 0): """
        n_examples = x.shape[0]
        x_rows = np.reshape(x, (n_examples, -1))
        db = np.sum(dout, axis=0)
        dw = np.dot(x_rows.T, dout)
        dx = np.reshape(np.dot(dout, w.T), x.shape)
    """,
    (LAYERS, "conv_forward_naive", 0): """
        N, C, H, W = x.shape
        F, _, HH, WW = w.shape
        s = conv_param['stride']
        p = conv_param['pad']
        padded = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)], mode='constant')
        out = np.zeros((N, F, H_out, W_out))
        for n in range(N):
            for f in range(F):
                for r in range(H_out):
                    for c in range(W_out):
                        patch = padded[n, :, r * s:r * s + HH, c * s:c * s + WW]
                        out[n, f, r, c] = np.sum(patch * w[f]) + b[f]
    """,
    (LAYERS, "conv_backward_naive", 0): """
        N, C, H, W = x.shape
        F, _, HH, WW = w.shape
        s = conv_param['stride']
        p = conv_param['pad']
        H_out = 1 + (H + 2 * p - HH) // s
        W_out = 1 + (W + 2 * p - WW) // s
        padded = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)], mode='constant')
        dpadded = np.zeros(padded.shape)
        dw = np.zeros(w.shape)
        db = np.zeros(b.shape)
        for n in range(N):
            for f in range(F):
                db[f] += np.sum(dout[n, f])
                for r in range(H_out):
                    for c in range(W_out):
                        patch = padded[n, :, r * s:r * s + HH, c * s:c * s + WW]
                        dw[f] += dout[n, f, r, c] * patch
                        dpadded[n, :, r * s:r * s + HH, c * s:c * s + WW] += dout[n, f, r, c] * w[f]
        dx = dpadded[:, :, p:H + p, p:W + p]
    """,
    (LAYERS, "max_pool_forward_naive", 0): """
        N, C, H, W = x.shape
        out = np.zeros((N, C, H_out, W_out))
        for n in range(N):
            for ch in range(C):
                for r in range(H_out):
                    for c in range(W_out):
                        top, left = r * stride, c * stride
                        out[n, ch, r, c] = np.max(x[n, ch, top:top + ph, left:left + pw])
    """,
    (LAYERS, "max_pool_backward_naive", 0): """
        N, C, H, W = x.shape
        ph = pool_param['pool_height']
        pw = pool_param['pool_width']
        stride = pool_param['stride']
        H_out = 1 + (H - ph) // stride
        W_out = 1 + (W - pw) // stride
        dx = np.zeros_like(x, dtype=float)
        for n in range(N):
            for ch in range(C):
                for r in range(H_out):
                    for c in range(W_out):
                        top, left = r * stride, c * stride
                        region = x[n, ch, top:top + ph, left:left + pw]
                        a, bb = np.unravel_index(np.argmax(region), region.shape)
                        dx[n, ch, top + a, left + bb] += dout[n, ch, r, c]
    """,
    (LAYERS, "svm_loss", 0): """
        num = x.shape[0]
        correct = x[np.arange(num), y]
        margin = x - correct.reshape(-1, 1) + 1
        margin[margin < 0] = 0
        margin[np.arange(num), y] = 0
        loss = np.sum(margin) / num
        counts = np.sum(margin > 0, axis=1)
        dx = (margin > 0).astype(float)
        dx[np.arange(num), y] = -counts
        dx = dx / num
    """,
    (LAYERS, "softmax_loss", 0): """
        num = x.shape[0]
        z = x - np.max(x, axis=1).reshape(-1, 1)
        e = np.exp(z)
        p = e / np.sum(e, axis=1).reshape(-1, 1)
        loss = -np.mean(np.log(p[np.arange(num), y]))
        one_hot = np.zeros_like(p)
        one_hot[np.arange(num), y] = 1
        dx = (p - one_hot) / num
    """,
    (SOFTMAX, "softmax_loss_naive", 0): """
        C = W.shape[0]
        N = X.shape[1]
        for n in range(N):
            f = W.dot(X[:, n])
            f -= f.max()
            denom = 0.0
            for c in range(C):
                denom += np.exp(f[c])
            loss += -f[y[n]] + np.log(denom)
            for c in range(C):
                p = np.exp(f[c]) / denom
                if c == y[n]:
                    p -= 1
                dW[c, :] += p * X[:, n]
        loss /= N
        dW /= N
        loss += reg * np.sum(W ** 2)
        dW += reg * 2 * W
    """,
    (SOFTMAX, "softmax_loss_vectorized", 0): """
        N = X.shape[1]
        f = W.dot(X)
        f -= np.max(f, axis=0)
        p = np.exp(f) / np.sum(np.exp(f), axis=0)
        target = np.zeros_like(p)
        target[y, range(N)] = 1
        loss = np.sum(-np.log(p[y, range(N)])) / N
        loss += reg * np.sum(W ** 2)
        dW = (p - target).dot(X.T) / N
        dW += reg * 2 * W
    """,
    (OPTIM, "sgd_momentum", 0): """
        mu = config['momentum']
        lr = config['learning_rate']
        v = mu * v
        v = v - lr * dw
        next_w = w.copy()
        next_w += v
    """,
    (OPTIM, "rmsprop", 0): """
        decay = config['decay_rate']
        config['cache'] = decay * config['cache'] + (1 - decay) * np.square(dw)
        step = config['learning_rate'] * dw / (np.sqrt(config['cache']) + config['epsilon'])
        next_w = w - step
    """,
    (OPTIM, "adam", 0): """
        config['t'] += 1
        lr, b1, b2, eps = (config['learning_rate'], config['beta1'], config['beta2'],
                           config['epsilon'])
        config['m'] = b1 * config['m'] + (1 - b1) * dw
        config['v'] = b2 * config['v'] + (1 - b2) * np.square(dw)
        mt = config['m'] / (1 - np.power(b1, config['t']))
        vt = config['v'] / (1 - np.power(b2, config['t']))
        next_w = w - lr * mt / (np.sqrt(vt) + eps)
    """,
    (NET, "loss", 0): """
        z1 = X.dot(W1) + b1
        a1 = z1 * (z1 > 0)
        scores = a1.dot(W2) + b2
    """,
    (NET, "loss", 1): """
        z = scores - np.max(scores, axis=1, keepdims=True)
        p = np.exp(z)
        p /= np.sum(p, axis=1, keepdims=True)
        data_loss = np.sum(-np.log(p[np.arange(N), y])) / N
        reg_loss = reg * np.sum(W1 ** 2) + reg * np.sum(W2 ** 2)
        loss = data_loss + reg_loss

        delta = p.copy()
        delta[np.arange(N), y] -= 1
        delta /= N
        grads['b2'] = np.sum(delta, axis=0)
        grads['W2'] = a1.T.dot(delta) + 2 * reg * W2
        da1 = delta.dot(W2.T)
        da1[z1 <= 0] = 0
        grads['b1'] = np.sum(da1, axis=0)
        grads['W1'] = X.T.dot(da1) + 2 * reg * W1
    """,
    (NET, "predict", 0): """
        s = self.loss(X)
        y_pred = s.argmax(axis=1)
    """,
    (TWOLAYER, "__init__", 0): """
        c, h, w = im_size
        self.hidden = nn.Linear(c * h * w, hidden_dim)
        self.out = nn.Linear(hidden_dim, n_classes)
    """,
    (TWOLAYER, "forward", 0): """
        flat = images.view(images.size(0), -1)
        scores = self.out(F.relu(self.hidden(flat)))
    """,
}

ALT2 = {
    (LAYERS, "affine_forward", 0): """
        D = w.shape[0]
        out = x.reshape(-1, D).dot(w)
        out += b
    """,
    (LAYERS, "affine_backward", 0): """
        D = w.shape[0]
        dw = x.reshape(-1, D).T.dot(dout)
        db = dout.sum(0)
        dx = dout.dot(w.T)
        dx = dx.reshape(*x.shape)
    """,
    (LAYERS, "conv_forward_naive", 0): """
        st, pd = conv_param.get('stride'), conv_param.get('pad')
        xp = np.pad(x, ((0,), (0,), (pd,), (pd,)))
        n_img, n_filt = x.shape[0], w.shape[0]
        kh, kw = w.shape[2], w.shape[3]
        w_rows = w.reshape(n_filt, -1)
        out = np.empty((n_img, n_filt, H_out, W_out))
        for a in range(H_out):
            for c in range(W_out):
                cols = xp[:, :, a*st:a*st+kh, c*st:c*st+kw].reshape(n_img, -1)
                out[:, :, a, c] = cols.dot(w_rows.T) + b
    """,
    (LAYERS, "max_pool_forward_naive", 0): """
        out = np.stack([np.stack([x[:, :, a*stride:a*stride+ph, c*stride:c*stride+pw]
                                  .max(axis=3).max(axis=2)
                                  for c in range(W_out)], axis=-1)
                        for a in range(H_out)], axis=-2)
    """,
    (LAYERS, "svm_loss", 0): """
        idx = np.arange(len(y))
        m = np.clip(x - x[idx, y][:, np.newaxis] + 1.0, 0, None)
        m[idx, y] = 0.0
        loss = m.sum() / len(y)
        ind = np.where(m > 0, 1.0, 0.0)
        ind[idx, y] = -ind.sum(axis=1)
        dx = ind / len(y)
    """,
    (LAYERS, "softmax_loss", 0): """
        idx = np.arange(len(y))
        logits = x - x.max(1)[:, None]
        lse = np.log(np.sum(np.exp(logits), 1))
        loss = np.mean(lse - logits[idx, y])
        dx = np.exp(logits - lse[:, None])
        dx[idx, y] = dx[idx, y] - 1.0
        dx = dx / len(y)
    """,
    (SOFTMAX, "softmax_loss_vectorized", 0): """
        cols = np.arange(len(y))
        logits = np.matmul(W, X)
        logits = logits - np.amax(logits, 0)
        lse = np.log(np.exp(logits).sum(0))
        loss = np.mean(lse - logits[y, cols]) + reg * (W * W).sum()
        g = np.exp(logits - lse)
        g[y, cols] = g[y, cols] - 1
        dW = np.matmul(g, X.T) / len(y) + 2.0 * reg * W
    """,
    (OPTIM, "adam", 0): """
        b1, b2 = config['beta1'], config['beta2']
        config['t'] = config['t'] + 1
        config['m'] = config['m'] * b1 + dw * (1 - b1)
        config['v'] = config['v'] * b2 + dw ** 2 * (1 - b2)
        corr = np.sqrt(1 - b2 ** config['t']) / (1 - b1 ** config['t'])
        next_w = w - config['learning_rate'] * corr * config['m'] / (np.sqrt(config['v']) + config['epsilon'])
    """,
    (TWOLAYER, "__init__", 0): """
        in_features = im_size[0] * im_size[1] * im_size[2]
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(in_features, hidden_dim), nn.ReLU(),
                                 nn.Linear(hidden_dim, n_classes))
    """,
    (TWOLAYER, "forward", 0): """
        scores = self.net(images)
    """,
}

# Unfinished honest work: the few functions one student got to, in their own words.
PARTIAL = {
    (LAYERS, "affine_forward", 0): """
        batch = x.shape[0]
        out = np.einsum('nd,dm->nm', x.reshape(batch, -1), w)
        out = out + b[np.newaxis, :]
    """,
    (LAYERS, "relu_forward", 0): """
        out = np.where(x > 0, x, 0)
    """,
    (LAYERS, "svm_loss", 0): """
        n_rows, n_cols = x.shape
        loss = 0.0
        dx = np.zeros_like(x)
        for i in range(n_rows):
            for j in range(n_cols):
                if j == y[i]:
                    continue
                gap = x[i, j] - x[i, y[i]] + 1
                if gap > 0:
                    loss += gap
                    dx[i, j] += 1
                    dx[i, y[i]] -= 1
        loss /= n_rows
        dx /= n_rows
    """,
    (OPTIM, "sgd_momentum", 0): """
        velocity = config['momentum'] * v
        velocity -= config['learning_rate'] * dw
        next_w, v = w + velocity, velocity
    """,
}

# Solution cells of softmax.ipynb (the tuning loop): the reference's, one written
# independently, and the reference's with every name changed.
NOTEBOOK_REF = None  # filled from source/hw1/softmax.ipynb by notebook_cell("ref")
NOTEBOOK_ALT = """results = {}
best_val = -1.0
best_softmax = None
softmax_params = {}
grid = [(rate, strength) for rate in (1e-7, 4e-7) for strength in (5e3, 2.5e4)]
for rate, strength in grid:
    model = Softmax()
    model.train(X_train, y_train, learning_rate=rate, reg=strength, num_iters=200 if SMALL else 2000)
    accuracies = [float((model.predict(X) == labels).mean())
                  for X, labels in ((X_train, y_train), (X_val, y_val))]
    results[rate, strength] = tuple(accuracies)
    if accuracies[1] > best_val:
        best_val = accuracies[1]
        best_softmax = model
        softmax_params = {'learning_rate': rate, 'reg': strength, 'num_iters': 200 if SMALL else 2000}
"""


def notebook_cell(kind: str) -> str:
    """The softmax.ipynb solution cell: "ref" (the source's), "alt" or "copy" (the ref with
    its names changed and comments dropped)."""
    if kind == "alt":
        return NOTEBOOK_ALT
    nb = json.loads((SOURCE / "softmax.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")
                and c["cell_type"] == "code")
    src = "".join(cell["source"])
    src = "\n".join(l for l in src.split("\n") if "SOLUTION" not in l)
    if kind == "copy":
        for old, new in (("learning_rates", "lr_grid"), ("regs", "reg_grid"), ("candidate", "clf"),
                         ("train_acc", "acc_tr"), ("val_acc", "acc_va"), ("lr", "alpha")):
            src = re.sub(rf"\b{old}\b", new, src)
        src = re.sub(r"#.*", "", src)
    return src


# A public solutions repository's own implementations (cs231n style, its own starter text).
ARCHIVE = {
    "affine_forward": ("x, w, b", "out = None", """
        N = x.shape[0]
        x_row = x.reshape(N, -1)
        out = x_row.dot(w) + b
    """, "cache = (x, w, b)\n    return out, cache"),
    "affine_backward": ("dout, cache", "x, w, b = cache\n    dx, dw, db = None, None, None", """
        N = x.shape[0]
        x_row = x.reshape(N, -1)
        dx_row = dout.dot(w.T)
        dx = dx_row.reshape(x.shape)
        dw = x_row.T.dot(dout)
        db = np.sum(dout, axis=0, keepdims=False)
    """, "return dx, dw, db"),
    "conv_forward_naive": ("x, w, b, conv_param", "out = None", """
        N, C, H, W = x.shape
        F, C, HH, WW = w.shape
        stride, pad = conv_param['stride'], conv_param['pad']
        H_prime = 1 + (H + 2 * pad - HH) // stride
        W_prime = 1 + (W + 2 * pad - WW) // stride
        x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
        out = np.zeros((N, F, H_prime, W_prime))
        for n in range(N):
            for f in range(F):
                for hi in range(H_prime):
                    for wi in range(W_prime):
                        hs, ws = hi * stride, wi * stride
                        window = x_padded[n, :, hs:hs + HH, ws:ws + WW]
                        out[n, f, hi, wi] = np.sum(window * w[f, :, :, :]) + b[f]
    """, "cache = (x, w, b, conv_param)\n    return out, cache"),
    "max_pool_forward_naive": ("x, pool_param", "out = None", """
        N, C, H, W = x.shape
        HH, WW = pool_param['pool_height'], pool_param['pool_width']
        stride = pool_param['stride']
        H_prime = 1 + (H - HH) // stride
        W_prime = 1 + (W - WW) // stride
        out = np.zeros((N, C, H_prime, W_prime))
        for n in range(N):
            for c in range(C):
                for hi in range(H_prime):
                    for wi in range(W_prime):
                        hs, ws = hi * stride, wi * stride
                        out[n, c, hi, wi] = np.max(x[n, c, hs:hs + HH, ws:ws + WW])
    """, "cache = (x, pool_param)\n    return out, cache"),
    "svm_loss": ("x, y", "", """
        N = x.shape[0]
        correct_class_scores = x[np.arange(N), y]
        margins = np.maximum(0, x - correct_class_scores[:, np.newaxis] + 1.0)
        margins[np.arange(N), y] = 0
        loss = np.sum(margins) / N
        num_pos = np.sum(margins > 0, axis=1)
        dx = np.zeros_like(x)
        dx[margins > 0] = 1
        dx[np.arange(N), y] -= num_pos
        dx /= N
    """, "return loss, dx"),
    "softmax_loss": ("x, y", "", """
        shifted_logits = x - np.max(x, axis=1, keepdims=True)
        Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
        log_probs = shifted_logits - np.log(Z)
        probs = np.exp(log_probs)
        N = x.shape[0]
        loss = -np.sum(log_probs[np.arange(N), y]) / N
        dx = probs.copy()
        dx[np.arange(N), y] -= 1
        dx /= N
    """, "return loss, dx"),
}
ARCHIVE_STARTER = """
    ###########################################################################
    # TODO: Implement the {name}. Store the result in the variables above.    #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
{body}
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
"""


def region_keys() -> list[tuple[str, str, int]]:
    """(file, function, region number) of every solution region of the source's .py files."""
    keys = []
    for path in sorted(SOURCE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if BEGIN in text:
            rel = path.relative_to(SOURCE).as_posix()
            for func, k, _ in _regions(text):
                keys.append((rel, func, k))
    return keys


def _regions(text: str):
    """(function, region number within it, line index of BEGIN) of each region."""
    func, count, out = None, {}, []
    for i, line in enumerate(text.split("\n")):
        m = re.match(r"\s*(?:async\s+)?def\s+(\w+)", line)
        if m:
            func = m.group(1)
        if BEGIN in line:
            out.append((func, count.get(func, 0), i))
            count[func] = count.get(func, 0) + 1
    return out


def variants(key) -> list[str]:
    """The implementations available for a region key: always "ref" and "stub"."""
    return ["ref"] + [name for name, table in (("alt1", ALT1), ("alt2", ALT2)) if key in table] \
        + ["stub"]


class _Rephrase(ast.NodeTransformer):
    """Rewrites that keep what code does but not how it reads: operands of + and * swapped,
    `a @ b` as np.dot(a, b) (and back), `x.sum(...)`-style methods as np functions, `x -= y`
    as `x = x - y`, each with probability p."""
    METHODS = ("sum", "max", "mean", "dot", "exp", "argmax")

    def __init__(self, rng, p):
        self.rng, self.p = rng, p

    def coin(self):
        return self.rng.random() < self.p

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (ast.Add, ast.Mult)) and self.coin():
            return ast.BinOp(node.right, node.op, node.left)
        if isinstance(node.op, ast.MatMult) and self.coin():
            return ast.Call(ast.Attribute(ast.Name("np"), "dot"), [node.left, node.right], [])
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in self.METHODS and not node.args \
                and not (isinstance(f.value, ast.Name) and f.value.id in ("np", "self", "torch",
                                                                         "nn", "F", "math")) \
                and self.coin():
            return ast.Call(ast.Attribute(ast.Name("np"), f.attr), [f.value], node.keywords)
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if isinstance(node.target, ast.Name) and self.coin():
            return ast.Assign([ast.Name(node.target.id, ast.Store())],
                              ast.BinOp(ast.Name(node.target.id), node.op, node.value))
        return node


def rephrase(code: str, rng: random.Random, p: float = 0.5) -> str:
    """`code` (statements) written another way (_Rephrase), or as it is if it does not parse."""
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return code
    tree = ast.fix_missing_locations(_Rephrase(rng, p).visit(tree))
    return ast.unparse(tree)


def fill(text: str, rel: str, choose, rng: random.Random | None = None) -> str:
    """The source file `text` with each region replaced as `choose((rel, func, k))` says
    (rephrased with `rng` when given: synthetic independent work)."""
    lines = text.split("\n")
    starts = {i: (func, k) for func, k, i in _regions(text)}
    out, i = [], 0
    while i < len(lines):
        if i not in starts:
            out.append(lines[i])
            i += 1
            continue
        indent = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
        j = i
        while END not in lines[j]:
            j += 1
        func, k = starts[i]
        kind = choose((rel, func, k))
        if kind == "ref":
            code = "\n".join(lines[i + 1:j])
        else:
            code = STUB if kind == "stub" else \
                {"alt1": ALT1, "alt2": ALT2, "partial": PARTIAL}[kind][(rel, func, k)]
        if rng is not None and kind != "stub":
            code = rephrase(code, rng)
        body = [indent + line if line.strip() else ""
                for line in textwrap.dedent(code).strip("\n").split("\n")]
        out.extend(body)
        i = j + 1
    return "\n".join(out)


def build(dest: pathlib.Path, choose, notebooks: dict | None = None,
          rng: random.Random | None = None) -> pathlib.Path:
    """A submission folder at `dest` (the release's files, regions filled per `choose`,
    rephrased with `rng` when given); `notebooks` ({name: code of its solution cell}) fills the
    notebooks' solution cells."""
    shutil.copytree(RELEASE, dest, ignore=shutil.ignore_patterns("*.png", "*.jpg"))
    for path in sorted(SOURCE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if BEGIN in text:
            rel = path.relative_to(SOURCE).as_posix()
            (dest / rel).write_text(fill(text, rel, choose, rng), encoding="utf-8")
    for name, code in (notebooks or {}).items():
        nb = json.loads((dest / name).read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution") \
                    and cell["cell_type"] == "code":
                cell["source"] = code
                break
        (dest / name).write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return dest


def zip_folder(folder: pathlib.Path, zpath: pathlib.Path) -> pathlib.Path:
    """`folder` zipped as collect_submission.sh does (its contents at the top)."""
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder).as_posix())
    return zpath


WORDS = ("value", "tmp", "acc", "buf", "item", "part", "res", "mat", "arr", "vec", "q", "z")


def disguise(text: str, seed: int) -> str:
    """`text` (Python) as a student hiding a copy would leave it: every local name assigned in
    a function renamed, each comment replaced, operators re-spaced, top-level functions and the
    methods of each class in another order. The result still parses."""
    rng = random.Random(seed)
    tree = ast.parse(text)
    params, local = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            params |= {a.arg for a in node.args.args + node.args.kwonlyargs}
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    local.add(sub.id)
    module_names = {n.id for n in tree.body if isinstance(n, ast.Assign)
                    for n in n.targets if isinstance(n, ast.Name)}
    names = sorted(local - params - module_names - {"_", "self"})
    rng.shuffle(names)
    rename = {name: f"{WORDS[k % len(WORDS)]}{k}_{seed % 97}" for k, name in enumerate(names)}
    edits = {}
    toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    depth = 0
    for k, tok in enumerate(toks):
        prev = toks[k - 1].string if k else ""
        nxt = toks[k + 1].string if k + 1 < len(toks) else ""
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        keyword_arg = depth > 0 and nxt == "=" and prev in ("(", ",")
        if tok.type == tokenize.NAME and tok.string in rename and prev not in (".", "def") \
                and not keyword_arg:
            new = rename[tok.string]
        elif tok.type == tokenize.COMMENT:
            new = "# " + " ".join(rng.choice(WORDS) for _ in range(3))
        elif tok.type == tokenize.OP and tok.string in ("+", "-", "*", "/", "@", "==", "<", ">") \
                and prev not in ("(", ",", "=", "[", "**", "*"):
            new = tok.string
            edits.setdefault(tok.start[0], []).append((tok.start[1], tok.end[1], new, True))
            continue
        else:
            continue
        edits.setdefault(tok.start[0], []).append((tok.start[1], tok.end[1], new, False))
    lines = text.split("\n")
    for row, items in edits.items():
        line = lines[row - 1]
        for start, end, new, squeeze in sorted(items, reverse=True):
            if squeeze:
                left, right = line[:start].rstrip(" "), line[end:].lstrip(" ")
                if left.strip():
                    line = left + new + right
                continue
            line = line[:start] + new + line[end:]
        lines[row - 1] = line
    return _reorder("\n".join(lines), rng)


def _reorder(text: str, rng: random.Random) -> str:
    """Top-level functions, and the methods of each class, shuffled among their places."""
    def shuffle_blocks(body, lines, base_indent):
        spans = []
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
                spans.append((start, node.end_lineno))
        if len(spans) < 2:
            return {}
        blocks = [lines[a:b] for a, b in spans]
        order = list(range(len(blocks)))
        while order == sorted(order):
            rng.shuffle(order)
        return {spans[k]: blocks[order[k]] for k in range(len(spans))}

    lines = text.split("\n")
    tree = ast.parse(text)
    swaps = shuffle_blocks(tree.body, lines, "")
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            swaps.update(shuffle_blocks(node.body, lines, "    "))
    out, i = [], 0
    starts = {a: (a, b) for a, b in swaps}
    while i < len(lines):
        if i in starts:
            span = starts[i]
            out.extend(swaps[span])
            i = span[1]
        else:
            out.append(lines[i])
            i += 1
    return "\n".join(out)


def archive_repo(dest: pathlib.Path, rng: random.Random | None = None) -> dict:
    """A public solutions repository in cs231n's layout: assignment1/cs231n/layers.py with
    cs231n's starter comments around ARCHIVE's implementations (rephrased with `rng` when
    given), plus files of other names. Returns {function: the code used}."""
    layers = ['from builtins import range\nimport numpy as np\n']
    used = {}
    for name, (args, before, body, after) in ARCHIVE.items():
        body = rephrase(body, rng) if rng is not None else textwrap.dedent(body)
        used[name] = body
        code = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        layers.append(f'\ndef {name}({args}):\n    """\n    Computes the {name} of a layer.\n'
                      f'    """\n    {before}\n' + ARCHIVE_STARTER.format(
                          name=name.replace("_", " "), body=code) + f"    {after}\n")
    target = dest / "assignment1" / "cs231n" / "layers.py"
    target.parent.mkdir(parents=True)
    target.write_text("\n".join(layers), encoding="utf-8")
    (dest / "assignment1" / "cs231n" / "data_utils.py").write_text(
        "import pickle\n\n\ndef load_pickle(f):\n    return pickle.load(f)\n", encoding="utf-8")
    (dest / "README.md").write_text("# cs231n solutions\n", encoding="utf-8")
    return used


def copy_from_archive(text: str, bodies: dict | None = None) -> str:
    """A student's layers.py (release layout) whose ARCHIVE functions are replaced by the
    archive's implementations (or `bodies`, {function: code}, as archive_repo returned them),
    each fitted into our starter (the student's "own" file)."""
    out = text
    bodies = bodies or {name: body for name, (_, _, body, _) in ARCHIVE.items()}
    for name, body in bodies.items():
        tree = ast.parse(out)
        lines = out.split("\n")
        node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
        seg = lines[node.lineno - 1:node.end_lineno]
        try:
            i = next(k for k, l in enumerate(seg) if l.strip() == "# YOUR CODE HERE")
        except StopIteration:
            continue
        code = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ").split("\n")
        seg = seg[:i] + code + seg[i + 2:]
        out = "\n".join(lines[:node.lineno - 1] + seg + lines[node.end_lineno:])
    return out


HONEST = ("alice", "bob", "carol", "dave", "erin", "pat", "quinn")
COPIES = {("alice", "mallory"), ("oscar", "archive:cs231n-2019")}


def build_archive(root: pathlib.Path) -> pathlib.Path:
    """The tests' archive folder: two clones, cs231n-2019 (ARCHIVE's code, with .git) and
    other-solutions (files of other names and functions)."""
    archive_repo(root / "cs231n-2019")
    (root / "cs231n-2019" / ".git").mkdir()
    other = root / "other-solutions" / "assignment1" / "cs231n"
    other.mkdir(parents=True)
    (other / "optim.py").write_text("import numpy as np\n\n\ndef sgd(w, dw, config=None):\n"
                                    "    w -= config['learning_rate'] * dw\n    return w, config\n")
    return root


def relu_only(key):
    return "ref" if key[1] in ("relu_forward", "relu_backward") else "stub"


def build_class(root: pathlib.Path) -> dict:
    """The tests' class, {student: their hw1 folder} under root/submitted/<student>/hw1
    (nbgrader's layout). Honest: alice (the reference), bob and carol (independent
    implementations, the rest unfinished), dave (a few functions of their own), erin (the
    starter untouched), pat and quinn (only the relu functions, written alike). mallory:
    alice's files disguised (and her notebook cell renamed); oscar: layers.py from ARCHIVE."""
    sub = lambda name: root / "submitted" / name / "hw1"  # noqa: E731
    folders = {
        "alice": build(sub("alice"), lambda k: "ref", {"softmax.ipynb": notebook_cell("ref")}),
        "bob": build(sub("bob"), lambda k: "alt1" if k in ALT1 else "stub",
                     {"softmax.ipynb": notebook_cell("alt")}),
        "carol": build(sub("carol"), lambda k: "alt2" if k in ALT2 else "stub"),
        "dave": build(sub("dave"), lambda k: "partial" if k in PARTIAL else "stub"),
        "erin": build(sub("erin"), lambda k: "stub"),
        "pat": build(sub("pat"), relu_only),
        "quinn": build(sub("quinn"), relu_only),
        "mallory": build(sub("mallory"), lambda k: "ref",
                         {"softmax.ipynb": notebook_cell("copy")}),
        "oscar": build(sub("oscar"), lambda k: "alt2" if k in ALT2 and k[0] != LAYERS
                       else "stub"),
    }
    for f in folders["mallory"].rglob("*.py"):
        rel = f.relative_to(folders["mallory"]).as_posix()
        if (SOURCE / rel).is_file() and BEGIN in (SOURCE / rel).read_text():
            f.write_text(disguise(f.read_text(), seed=7))
    layers = folders["oscar"] / LAYERS
    layers.write_text(copy_from_archive(layers.read_text()))
    return folders
