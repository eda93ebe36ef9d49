"""Reading a student's run script (2_pytorch/run_<model>.sh) as text, never running it.

The grader needs the arguments of the script's one `train.py` command. A run script may
contain what people write in such scripts (source/hw1/README.md lists it for students):

- comments, blank lines, a `#!` line, `set -e` / `set -x` and other commands that do not
  run train.py (`echo`, `mkdir`, `cd`, `nvidia-smi`: ignored);
- `python`, `python3`, `python3.11`, a path to one (`/usr/bin/python3`, `.venv/bin/python`),
  Windows' `py -3`, `env python`, `time`, `nohup` or `exec` before it, interpreter options
  such as `-u`, `-B`, `-W ignore`, or `./train.py` itself;
- a command continued over several lines with a backslash at the end of each line;
- quotes ('...' and "..."), backslash escapes;
- output redirections (`> softmax.log`, `2>&1`, `&> log`) and `| tee [-a] FILE`;
- variables: `NAME=value` and `export NAME=value` lines, `NAME=value python ...` prefixes,
  and their use as `$NAME`, `${NAME}`, `${NAME:-default}` (unquoted: split into words, as
  the shell does); `$@` / `"$@"` (the grader passes no arguments: nothing);
- Windows (CRLF) or old Mac (CR) line endings, a UTF-8 byte-order mark, tabs.

Everything else that could change the train.py command is refused with a message that names
the construct and its line: loops and conditionals around it, functions, `$(...)` and
backquotes, `$1` (script arguments), variables the script never sets, pipes into anything but
`tee`, and more than one (or no) train.py command.

This is a small reader of the simple-command subset of the shell grammar, written here
rather than taken from a shell-parsing library: shlex drops the quoting that variable
expansion depends on and splits `2>&1` into words, and the full parsers on PyPI (bashlex)
are GPL-licensed and accept far more than the grader can honour without running the script.
"""
from __future__ import annotations

import dataclasses
import re

from .errors import RunScriptError

__all__ = ["RunScript", "RunScriptError", "read", "parse", "normalize_text"]

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.S)
PYTHON = re.compile(r"(?:.*[/\\])?(?:python|pypy|py)(?:\d+(?:\.\d+)*)?(?:\.exe)?$", re.I)
COMPOUND = {"if": "fi", "for": "done", "while": "done", "until": "done", "case": "esac",
            "select": "done", "{": "}", "(": ")"}
CLOSERS = {"fi", "done", "esac", "}", ")"}
MIDDLE = {"then", "else", "elif", "do", "in"}
# Interpreter options taking a separate value (python -W ignore, -X dev, -c is refused).
PY_OPTS_WITH_VALUE = {"-W", "-X", "--check-hash-based-pycs"}
PY_FLAGS = set("bBdEhiIOPqsSuvx")
PREFIX_COMMANDS = {"time", "nohup", "exec", "command", "builtin"}
SEPARATORS = {";", "&&", "||", "&", "\n"}
REDIRECTS = {">", ">>", "<", ">&", "<&", "&>", "&>>", ">|", "<>"}


@dataclasses.dataclass
class RunScript:
    """The train.py command of a run script: its arguments (`args`, what train.py's
    parse_args receives), the files its output goes to (`logs`), and its line number."""
    args: list
    logs: list
    line: int


def normalize_text(raw: bytes | str) -> str:
    """Text of a file as any editor may save it: a UTF-8 byte-order mark dropped, UTF-16 with a
    byte-order mark (Windows PowerShell's `>` and Out-File) decoded, CRLF and CR line endings
    turned into LF; bytes that cannot be decoded replaced (never an error)."""
    if isinstance(raw, bytes):
        utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))
        raw = raw.decode("utf-16" if utf16 else "utf-8-sig", errors="replace")
    raw = raw.lstrip("\ufeff")
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def read(path, name: str | None = None) -> RunScript:
    """Parse the run script at `path`; RunScriptError names what cannot be used."""
    import pathlib
    path = pathlib.Path(path)
    return parse(path.read_bytes(), name or path.name)


# ---------------------------------------------------------------- words and operators

@dataclasses.dataclass
class _Word:
    parts: list           # (text, quoted: bool, var: str|None) pieces before expansion
    line: int
    bad: str = ""         # an unsupported construct inside this word (reported if used)

    @property
    def literal(self) -> str:
        """The word as written, quotes removed, variables not expanded."""
        return "".join(t if v is None else f"${{{v}}}" for t, q, v in self.parts)

    def plain(self) -> bool:
        return all(v is None for _, _, v in self.parts) and not self.bad


@dataclasses.dataclass
class _Op:
    text: str
    line: int


def _lex(text: str, where: str):
    """Tokens of the script: _Word and _Op (newlines are _Op('\\n'))."""
    tokens, i, n, line = [], 0, len(text), 1
    word: _Word | None = None

    def flush():
        nonlocal word
        if word is not None:
            tokens.append(word)
            word = None

    def add(piece, quoted=False, var=None):
        nonlocal word
        if word is None:
            word = _Word([], line)
        word.parts.append((piece, quoted, var))

    def mark(construct):
        nonlocal word
        if word is None:
            word = _Word([], line)
        word.bad = word.bad or construct

    def dollar(j, quoted):
        """Handle `$...` at text[j]; returns the index after it."""
        rest = text[j + 1:]
        if rest.startswith("(("):
            mark("arithmetic expansion $((...))")
            return _skip_parens(text, j + 1, where, line)
        if rest.startswith("("):
            mark("command substitution $(...)")
            return _skip_parens(text, j + 1, where, line)
        if rest.startswith("{"):
            close = text.find("}", j + 2)
            if close < 0:
                raise RunScriptError(f"{where}, line {line}: `${{` is never closed")
            inner = text[j + 2:close]
            m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)(.*))?", inner, re.S)
            if m and m.group(2):
                add(m.group(3), quoted, f"{m.group(1)}:-")  # default value follows the name
            elif m:
                add("", quoted, m.group(1))
            elif inner in ("@", "*"):
                add("", quoted, "@")
            else:
                mark(f"the parameter expansion ${{{inner}}}")
            return close + 1
        m = NAME.match(rest)
        if m:
            add("", quoted, m.group(0))
            return j + 1 + m.end()
        if rest[:1] in ("@", "*"):
            add("", quoted, "@")
            return j + 2
        if rest[:1].isdigit() or rest[:1] in ("#", "?", "$", "!", "-"):
            mark(f"${rest[:1]} (the script's own arguments or shell state)")
            return j + 2
        add("$", quoted)  # a lone $ is literal
        return j + 1

    while i < n:
        c = text[i]
        if c == "\\":
            nxt = text[i + 1:i + 2]
            if nxt == "\n":           # a continued line
                i, line = i + 2, line + 1
                continue
            m = re.match(r"\\[ \t]+\n", text[i:])
            if m:                     # `\` then stray spaces before the line end: continued too
                i, line = i + m.end(), line + 1
                continue
            add(nxt, True)
            i += 2
        elif c == "'":
            close = text.find("'", i + 1)
            if close < 0:
                raise RunScriptError(f"{where}, line {line}: a single quote (') is never closed")
            add(text[i + 1:close], True)
            line += text.count("\n", i, close)
            i = close + 1
        elif c == '"':
            if word is None:
                word = _Word([], line)
            word.parts.append(("", True, None))  # "" is an (empty) word
            j = i + 1
            while True:
                if j >= n:
                    raise RunScriptError(f'{where}, line {line}: a double quote (") is never closed')
                d = text[j]
                if d == '"':
                    break
                if d == "\\" and text[j + 1:j + 2] in ('"', "\\", "$", "`", "\n"):
                    if text[j + 1] != "\n":
                        add(text[j + 1], True)
                    else:
                        line += 1
                    j += 2
                elif d == "$":
                    j = dollar(j, True)
                elif d == "`":
                    mark("command substitution `...`")
                    j = _skip_to(text, j + 1, "`", where, line) + 1
                else:
                    line += d == "\n"
                    add(d, True)
                    j += 1
            i = j + 1
        elif c == "$":
            i = dollar(i, False)
        elif c == "`":
            mark("command substitution `...`")
            i = _skip_to(text, i + 1, "`", where, line) + 1
        elif c == "#" and word is None:
            while i < n and text[i] != "\n":
                i += 1
        elif c in " \t":
            flush()
            i += 1
        elif c == "\n":
            flush()
            tokens.append(_Op("\n", line))
            line += 1
            i += 1
        elif c in "|&;<>()":
            # a word of digits right before < or > is a file descriptor (2>&1, 2> err.log)
            if c in "<>" and word is not None and word.plain() and word.literal.isdigit():
                word = None
            else:
                flush()
            op = _operator(text, i)
            tokens.append(_Op(op, line))
            i += len(op)
        else:
            add(c)
            i += 1
    flush()
    return tokens


def _operator(text: str, i: int) -> str:
    for op in ("&>>", "&&", "||", ";;", ">>", ">&", "<&", "&>", ">|", "<>", "|&"):
        if text.startswith(op, i):
            return op
    return text[i]


def _skip_to(text, j, char, where, line):
    close = text.find(char, j)
    if close < 0:
        raise RunScriptError(f"{where}, line {line}: `{char}` is never closed")
    return close


def _skip_parens(text, j, where, line):
    depth, k = 0, j
    while k < len(text):
        if text[k] == "(":
            depth += 1
        elif text[k] == ")":
            depth -= 1
            if depth == 0:
                return k + 1
        k += 1
    raise RunScriptError(f"{where}, line {line}: `$(` is never closed")


# ---------------------------------------------------------------- commands

def _commands(tokens):
    """Split into commands (lists of pipeline stages, each a list of tokens)."""
    commands, stages, stage = [], [], []
    for tok in tokens + [_Op("\n", -1)]:
        if isinstance(tok, _Op) and tok.text in SEPARATORS | {";;"}:
            if stage or stages:
                stages.append(stage)
                commands.append((stages, tok.text))
            stages, stage = [], []
        elif isinstance(tok, _Op) and tok.text in ("|", "|&"):
            stages.append(stage)
            stage = []
        else:
            stage.append(tok)
    return commands


def _expand(word: _Word, env: dict, where: str, what: str) -> list[str]:
    """The words `word` becomes once its variables are expanded (unquoted ones split)."""
    if word.bad:
        raise RunScriptError(f"{where}, line {word.line}: {what} uses {word.bad}, which the "
                             "grader cannot evaluate without running the script; write the "
                             "value out")
    out, current, has_text = [], "", False
    if any(var == "@" for _, _, var in word.parts) and \
            all(var == "@" or not text for text, _, var in word.parts):
        return []                   # "$@": the grader gives the script no arguments
    for text, quoted, var in word.parts:
        if var is None:
            current += text
            has_text = has_text or quoted or bool(text)
            continue
        if var == "@":
            continue
        name, default = (var[:-2], text) if var.endswith(":-") else (var, None)
        if name in env:
            value = env[name]
        elif default is not None:
            value = default
        else:
            raise RunScriptError(f"{where}, line {word.line}: {what} uses ${name}, which the "
                                 f"script never sets; set it in the script (`{name}=...`) or "
                                 "write the value out")
        if quoted:
            current += value
            has_text = True
        else:
            pieces = value.split()
            if not pieces:
                continue
            if value[:1].isspace() and (current or has_text):
                out.append(current)
                current = ""
            current += pieces[0]
            has_text = True
            for piece in pieces[1:]:
                out.append(current)
                current = piece
            if value[-1:].isspace():
                out.append(current)
                current, has_text = "", False
    if current or has_text:
        out.append(current)
    return out


def _strip_redirects(stage, where, env):
    """(words, redirect targets) of one pipeline stage."""
    words, targets, k = [], [], 0
    while k < len(stage):
        tok = stage[k]
        if isinstance(tok, _Op):
            if tok.text in REDIRECTS:
                target = stage[k + 1] if k + 1 < len(stage) else None
                if not isinstance(target, _Word):
                    raise RunScriptError(f"{where}, line {tok.line}: `{tok.text}` is not "
                                         "followed by a file name")
                if tok.text not in (">&", "<&") or not target.literal.isdigit():
                    if tok.text in (">", ">>", "&>", "&>>", ">|", ">&"):
                        targets.extend(_expand(target, env, where, "the output file"))
                k += 2
                continue
            raise RunScriptError(f"{where}, line {tok.line}: `{tok.text}` cannot be used here")
        words.append(tok)
        k += 1
    return words, targets


def parse(raw: bytes | str, where: str = "the run script") -> RunScript:
    """The train.py command of a run script's text (see the module docstring)."""
    text = normalize_text(raw).replace("\t", " ")
    tokens = _lex(text, where)
    env: dict[str, str] = {}
    unknown: dict[str, str] = {}     # variables set to something the grader cannot evaluate
    stack: list[tuple[str, int]] = []
    found: list[RunScript] = []
    for stages, _sep in _commands(tokens):
        first, closes = list(stages[0]), 0
        while first:
            head = first[0]
            if isinstance(head, _Op) and head.text in ("(", ")"):
                if head.text == "(":
                    stack.append(("(", head.line))
                elif stack:
                    stack.pop()
                first.pop(0)
            elif isinstance(head, _Word) and head.plain() and head.literal in \
                    set(COMPOUND) | CLOSERS | MIDDLE | {"function"}:
                lit = head.literal
                if lit in COMPOUND or lit == "function":
                    stack.append((lit if lit in COMPOUND else "function", head.line))
                elif lit in CLOSERS and stack:
                    stack.pop()
                first.pop(0)
                if lit in COMPOUND or lit == "function":
                    first = [] if lit != "{" else first
            else:
                break
        if len(first) >= 2 and isinstance(first[0], _Word) and isinstance(first[1], _Op) \
                and first[1].text == "(":            # name() { ... }
            stack.append(("function", first[0].line))
            continue
        while first and isinstance(first[-1], _Op) and first[-1].text == ")":
            first.pop()
            closes += 1
        if first and isinstance(first[-1], _Word) and first[-1].plain() and first[-1].literal == "}":
            first.pop()
            closes += 1
        stages = [first] + stages[1:]
        is_train = any("train.py" in w.literal for s in stages for w in s if isinstance(w, _Word))
        if not is_train:
            _assignments(first, env, unknown, where)
        else:
            line = next(w.line for s in stages for w in s if isinstance(w, _Word))
            if stack:
                kind, opened = stack[-1]
                what = {"if": "an `if` block", "for": "a `for` loop", "while": "a `while` loop",
                        "until": "an `until` loop", "case": "a `case` block",
                        "select": "a `select` loop", "function": "a shell function",
                        "(": "a subshell `( ... )`", "{": "a `{ ... }` group"}[kind]
                raise RunScriptError(
                    f"{where}, line {line}: the train.py command is inside {what} (from line "
                    f"{opened}); the grader runs one train.py command with fixed settings: "
                    "write it out once, outside any block")
            words0, targets = _strip_redirects(first, where, env)
            while words0 and _is_assignment(words0[0]):     # NAME=value python train.py ...
                words0.pop(0)
            found.append(_train_command(stages, words0, targets, env, unknown, where, line))
        for _ in range(closes):
            if stack:
                stack.pop()
    if not found:
        raise RunScriptError(f"{where} has no train.py command; it should hold one line such as "
                             "`python -u train.py --model ... | tee <model>.log`")
    if len(found) > 1:
        lines = ", ".join(str(f.line) for f in found)
        raise RunScriptError(f"{where} holds {len(found)} train.py commands (lines {lines}); "
                             "keep exactly one, with the settings you want graded")
    return found[0]


def _is_assignment(w) -> bool:
    return isinstance(w, _Word) and bool(w.parts) and w.parts[0][2] is None \
        and not w.parts[0][1] and bool(ASSIGNMENT.fullmatch(w.literal))


def _assignments(first, env, unknown, where):
    """Record NAME=value (alone, or after export/readonly/declare/local) in env."""
    words = [t for t in first if isinstance(t, _Word)]
    if words and words[0].plain() and words[0].literal in ("export", "readonly", "local",
                                                          "declare", "typeset"):
        words = [w for w in words[1:] if _is_assignment(w)]
    elif not words or not all(_is_assignment(w) for w in words):
        return                      # some other command (echo, mkdir, cd, set -e): ignored
    for w in words:
        name = ASSIGNMENT.fullmatch(w.literal).group(1)
        value_word = _value_word(w, name)
        try:
            env[name] = " ".join(_expand(value_word, env, where, f"the variable {name}"))
            unknown.pop(name, None)
        except RunScriptError:
            env.pop(name, None)
            unknown[name] = value_word.bad or "a variable the script never sets"


def _value_word(w: _Word, name: str) -> _Word:
    """The value part of a NAME=value word."""
    parts, cut = [], len(name) + 1
    for text, quoted, var in w.parts:
        if cut > 0 and var is None:
            take = min(cut, len(text))
            text, cut = text[take:], cut - take
            if not text and not quoted:
                continue
        parts.append((text, quoted, var))
    return _Word(parts or [("", True, None)], w.line, w.bad)


def _train_command(stages, words0, targets, env, unknown, where, line) -> RunScript:
    for k, stage in enumerate(stages[1:], 1):
        if any(isinstance(w, _Word) and "train.py" in w.literal for w in stage):
            raise RunScriptError(f"{where}, line {line}: train.py is run after a pipe `|`; start "
                                 "the line with the train.py command")
    words = []
    for w in words0:
        words.extend(_expand_checked(w, env, unknown, where))
    # prefixes: time, nohup, exec, env [VAR=value ...]
    while words and (words[0] in PREFIX_COMMANDS or words[0] == "env" or
                     (words[0].endswith("/env") and len(words) > 1)):
        words.pop(0)
        while words and ASSIGNMENT.fullmatch(words[0]) and not words[0].startswith("-"):
            words.pop(0)
    if not words:
        raise RunScriptError(f"{where}, line {line}: the train.py command cannot be read")
    k = 0
    if PYTHON.match(words[0]):
        k = 1
        while k < len(words) and words[k].startswith("-") and not words[k].endswith("train.py"):
            opt = words[k]
            if opt in PY_OPTS_WITH_VALUE:
                k += 2
                continue
            if opt.startswith(("-W", "-X")) or (len(opt) > 1 and set(opt[1:]) <= PY_FLAGS) \
                    or re.fullmatch(r"-\d+(?:\.\d+)?(?:-(?:32|64))?", opt):  # py -3.11 (Windows)
                k += 1
                continue
            raise RunScriptError(f"{where}, line {line}: the Python option `{opt}` before "
                                 "train.py is not supported; use `python -u train.py ...`")
    if k >= len(words) or not words[k].endswith("train.py") or \
            words[k].rsplit("/", 1)[-1] != "train.py":
        got = words[k] if k < len(words) else "nothing"
        raise RunScriptError(f"{where}, line {line}: the command should be `python -u train.py "
                             f"...`; `{got}` stands where train.py should")
    logs = list(targets)
    for stage in stages[1:]:
        stage_words, stage_targets = _strip_redirects(stage, where, env)
        expanded = [x for w in stage_words for x in _expand_checked(w, env, unknown, where)]
        if not expanded or expanded[0].rsplit("/", 1)[-1] != "tee":
            raise RunScriptError(f"{where}, line {line}: the output of train.py goes through "
                                 f"`| {' '.join(expanded[:2]) or '?'}`; only `| tee FILE` is "
                                 "supported (or `> FILE`)")
        logs.extend(x for x in expanded[1:] if not x.startswith("-"))
        logs.extend(stage_targets)
    return RunScript(words[k + 1:], logs, line)


def _expand_checked(word: _Word, env, unknown, where):
    for _, _, var in word.parts:
        name = (var or "").split(":")[0]
        if name in unknown and name not in env:
            raise RunScriptError(f"{where}, line {word.line}: the train.py command uses ${name}, "
                                 f"whose value comes from {unknown[name]}; the grader cannot "
                                 "evaluate it without running the script: write the value out")
    return _expand(word, env, where, "the train.py command")
