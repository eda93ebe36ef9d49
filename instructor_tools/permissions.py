"""Who may read the course root: the instructor (and an optional staff group), nobody else.

On a machine where students have Unix accounts (a JupyterHub, a lab server) a course root made
with the default umask (022) is world-readable: any student could read the solutions
(source/), the hidden checks (autograder_tests/), the gradebook and grades, and write into a
classmate's collected submission (nbgrader collect keeps the submit mode, 0777 for the
folders). Issue 18.

The rules (`secure_course_root` applies them, `check_course_root` lists what breaks them):

  course root        no listing by others: 0711 (0751 with a staff group, which then owns it).
                     Others may still pass through it to what is public by name (release/,
                     the venv). Python cannot import from a folder it cannot list: accounts
                     that run the course's tools from a checkout they do not own (course_config
                     is imported from it) must be in the staff group.
  PRIVATE entries    (course_config.PRIVATE_PATHS: solutions, hidden checks, gradebook,
                     collected/autograded submissions, feedback, grader results, data, staff
                     outputs): folders 0700 and files 0600; with a staff group, group-owned by
                     it, folders 2750 (new files inherit the group) and files 0640. The folders
                     that nbgrader and the grader create later (submitted/, autograded/, ...)
                     are made now, private, so that what lands in them is never exposed, even
                     when a tool outside bin/nbgrader (the formgrader) writes it with umask 022.
  inside them        nobody but the owner may write (the staff group reads, and enters, what
                     is inside): a collected submission of mode 0777 becomes 0755 inside its
                     private folder. Read bits inside are left alone (the folder above closes
                     them): nbgrader's release_feedback copies a feedback file's mode into the
                     exchange, where the student must read it.
  PUBLIC entries     (course_config.PUBLIC_PATHS: release/) readable by everyone, so a
                     student-facing copy stays usable whatever umask made it.

Entry points (bin/nbgrader, grade, leaderboard) also set `private_umask` so that new files are
private from the start. Symbolic links are never followed: what they point to is not ours to
change. Nothing here needs root; a path this account cannot change is reported with the
command that fixes it.

  python -m instructor_tools.permissions check  [ROOT]   # exit 1 and the problems, if any
  python -m instructor_tools.permissions secure [ROOT]   # repair; exit 1 if something is left
"""
from __future__ import annotations

import argparse
import contextlib
import grp
import os
import pathlib
import pwd
import runpy
import shlex
import stat
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent

STAFF_GROUP_ENV = "HW1_STAFF_GROUP"


class CoursePermissionError(Exception):
    """A course-root permission that this account cannot set (the message says what to run),
    or a staff group that does not exist."""


def _config(root=None):
    """(PRIVATE_PATHS, PRIVATE_FOLDERS, PUBLIC_PATHS, STAFF_GROUP) of the course's
    course_config.py: the one at `root` when it has one, else this checkout's (an installed
    copy of these tools, as in the hub's shared venv, is given the course root). Raises
    CoursePermissionError when neither can be read: what is private is declared only there."""
    candidates = [pathlib.Path(root) / "course_config.py"] if root else []
    candidates.append(REPO / "course_config.py")
    for path in candidates:
        if path.is_file():
            try:
                cc = runpy.run_path(str(path))
                return (tuple(cc["PRIVATE_PATHS"]), tuple(cc["PRIVATE_FOLDERS"]),
                        tuple(cc["PUBLIC_PATHS"]), cc.get("STAFF_GROUP"))
            except Exception as exc:
                raise CoursePermissionError(
                    f"{path} cannot be read ({type(exc).__name__}: {exc}): it declares which "
                    "parts of the course are private (PRIVATE_PATHS, PRIVATE_FOLDERS, "
                    "PUBLIC_PATHS); fix it and run the command again") from None
    raise CoursePermissionError(
        "no course_config.py found (looked in " + ", ".join(str(c.parent) for c in candidates)
        + "): it declares which parts of the course are private; run this from the course root")


def staff_group(explicit: str | None = None, root=None) -> str | None:
    """The staff group's name: `explicit`, else $HW1_STAFF_GROUP, else course_config.STAFF_GROUP
    (of `root`'s course_config, see _config; None: instructor only). Raises
    CoursePermissionError when that group does not exist."""
    name = explicit or os.environ.get(STAFF_GROUP_ENV) or _config(root)[3]
    if not name:
        return None
    try:
        grp.getgrnam(name)
    except KeyError:
        raise CoursePermissionError(
            f"the staff group '{name}' (course_config.STAFF_GROUP or ${STAFF_GROUP_ENV}) does "
            f"not exist on this machine: create it (`sudo groupadd {name}` and `sudo usermod "
            f"-aG {name} <staff account>`) or unset it") from None
    return name


def private_umask(group: str | None = None) -> int:
    """Set the process umask so new files are private: 077, or 027 with a staff group (`group`,
    else the configured one; never looser than the umask already set). Returns the previous
    umask."""
    want = 0o027 if (group or _safe_group(None)) else 0o077
    old = os.umask(0)
    os.umask(old | want)
    return old


def _want(st_mode: int, is_dir: bool, top: bool, gid: int | None) -> int:
    """The permission bits a private path should have."""
    perm = stat.S_IMODE(st_mode)
    if top:
        if gid is None:
            return 0o700 if is_dir else 0o600
        return 0o2750 if is_dir else 0o640
    # inside a private folder: only write bits go (read bits are closed by the folder above);
    # with a staff group, the group may read (and enter) what is inside
    perm &= ~(stat.S_IWOTH | stat.S_IWGRP)
    if gid is None:
        return perm
    return perm | stat.S_IRGRP | (stat.S_IXGRP if is_dir or perm & stat.S_IXUSR else 0)


def _matches(root: pathlib.Path, patterns) -> list[pathlib.Path]:
    found = []
    for pattern in patterns:
        hits = sorted(root.glob(pattern)) if any(c in pattern for c in "*?[") else [root / pattern]
        for p in hits:
            if (p.exists() or p.is_symlink()) and p not in found:
                found.append(p)
    return found


def _plan(root: pathlib.Path, group: str | None):
    """(path, current mode, wanted mode, wanted gid or None) for every path whose permissions
    are wrong, and the private folders to create."""
    private, folders, public, _ = _config(root)
    gid = grp.getgrnam(group).gr_gid if group else None
    changes, seen = [], set()

    def note(p: pathlib.Path, want: int, want_gid=None):
        if p in seen:
            return
        seen.add(p)
        try:
            st = os.lstat(p)
        except FileNotFoundError:     # removed meanwhile (a SQLite journal, nbgrader's rewrite)
            return
        if stat.S_IMODE(st.st_mode) != want or (want_gid is not None and st.st_gid != want_gid):
            changes.append((p, stat.S_IMODE(st.st_mode), want, want_gid))

    # the root: nobody else lists it or writes in it (others keep x: the release and the venv
    # are reached by path); the staff group owns it and lists it (Python imports the course's
    # configuration from it: an unlistable folder is not importable)
    mode = stat.S_IMODE(os.stat(root).st_mode)
    if gid is None:
        note(root, mode & ~0o066)
    else:
        note(root, (mode & ~0o026) | 0o050, gid)
    for top in _matches(root, private):
        if top.is_symlink():
            continue
        try:
            is_dir = top.is_dir()
            note(top, _want(os.lstat(top).st_mode, is_dir, True, gid), gid)
        except FileNotFoundError:
            continue
        if not is_dir:
            continue
        for base, dirs, files in os.walk(top):
            for name in [*dirs, *files]:
                p = pathlib.Path(base, name)
                try:
                    if not p.is_symlink():
                        note(p, _want(os.lstat(p).st_mode, p.is_dir(), False, gid), gid)
                except FileNotFoundError:
                    pass
    for top in _matches(root, public):
        if top.is_symlink():
            continue
        for base, dirs, files in os.walk(top):
            for p in [pathlib.Path(base), *(pathlib.Path(base, n) for n in [*dirs, *files])]:
                try:
                    if p.is_symlink():
                        continue
                    mode = stat.S_IMODE(os.lstat(p).st_mode)
                except FileNotFoundError:
                    continue
                read = 0o555 if p.is_dir() or mode & 0o100 else 0o444
                if mode & read != read:
                    note(p, mode | read)
            dirs[:] = [d for d in dirs if not pathlib.Path(base, d).is_symlink()]
    missing = [root / f for f in folders if not (root / f).exists() and not (root / f).is_symlink()]
    return changes, missing, gid


def _owner(p: pathlib.Path) -> str:
    try:
        return pwd.getpwuid(os.lstat(p).st_uid).pw_name
    except KeyError:
        return str(os.lstat(p).st_uid)


def _describe(p, old, new, root) -> str:
    rel = "the course root" if p == root else str(p.relative_to(root))
    return f"{rel}: mode {old:04o}, should be {new:04o}"


def check_course_root(root, staff_group_name: str | None = None) -> list[str]:
    """Sentences, one per path of the course root `root` whose permissions let someone other
    than the instructor (and the staff group) read a private path or write a collected one,
    and per private folder not made yet. [] when all is as it should be. Raises
    CoursePermissionError for an unknown staff group, FileNotFoundError when `root` is
    missing."""
    root = pathlib.Path(root).absolute()
    if not root.is_dir():
        raise FileNotFoundError(f"no course root at {root}")
    group = staff_group(staff_group_name, root)
    changes, missing, _ = _plan(root, group)
    problems = [_describe(p, old, new, root) + (f", group {group}" if g is not None else "")
                for p, old, new, g in changes]
    problems += [f"{f.relative_to(root)}/: missing (made private by `secure`)" for f in missing]
    return problems


def secure_course_root(root, staff_group_name: str | None = None) -> list[pathlib.Path]:
    """Apply the rules of this module to the course root `root`: returns the paths whose mode
    or group was changed, and the private folders made. Raises CoursePermissionError (message:
    the exact commands to run, e.g. as the owner or with sudo) for paths this account may not
    change; everything else is repaired first."""
    root = pathlib.Path(root).absolute()
    if not root.is_dir():
        raise FileNotFoundError(f"no course root at {root}")
    group = staff_group(staff_group_name, root)
    changes, missing, gid = _plan(root, group)
    repaired: list[pathlib.Path] = []
    failed: list[str] = []
    for folder in missing:
        want = 0o700 if gid is None else 0o2750
        try:
            folder.mkdir(mode=0o700)
            if gid is not None:
                os.chown(folder, -1, gid)
            folder.chmod(want)
            repaired.append(folder)
        except PermissionError:
            # (a staff member who does not own the root: nothing is open, only not made yet;
            # the owner's next command makes it)
            pass
    for p, old, new, g in changes:
        try:
            if g is not None and os.lstat(p).st_gid != g:
                os.chown(p, -1, g, follow_symlinks=False)
            os.chmod(p, new)
            repaired.append(p)
        except PermissionError:
            cmd = f"chmod {new:04o} {shlex.quote(str(p))}"
            if g is not None:
                cmd = f"chgrp {shlex.quote(group)} {shlex.quote(str(p))} && " + cmd
            failed.append(f"  {_describe(p, old, new, root)} (owner {_owner(p)}): {cmd}")
    if failed:
        raise CoursePermissionError(
            f"{len(failed)} path(s) of the course root {root} are open to other accounts and "
            "this account may not change them; run as their owner (or with sudo):\n"
            + "\n".join(failed[:20])
            + (f"\n  ... and {len(failed) - 20} more: run `python -m "
               f"instructor_tools.permissions secure {shlex.quote(str(root))}` as root"
               if len(failed) > 20 else ""))
    return repaired


def secure_output(folder, staff_group_name: str | None = None) -> bool:
    """Close an output folder outside the course root (e.g. `grade --out /tmp/x`) to other
    accounts: mode 0700 (2750 with a staff group). True when it was changed; a folder that is
    not ours is left alone (False)."""
    folder = pathlib.Path(folder)
    if not folder.is_dir() or folder.is_symlink() or os.stat(folder).st_uid != os.getuid():
        return False
    if shared_folder(folder):
        raise CoursePermissionError(
            f"{folder} is a shared folder (e.g. /tmp or a home): its mode is left as it is, and "
            "what is written directly in it may be readable by other accounts; use a folder "
            f"of its own, e.g. {folder / 'hw1-grades'}")
    group = staff_group(staff_group_name)
    want = 0o700 if group is None else 0o2750
    st = os.stat(folder)
    gid = grp.getgrnam(group).gr_gid if group else None
    if stat.S_IMODE(st.st_mode) == want and (gid is None or st.st_gid == gid):
        return False
    if gid is not None and st.st_gid != gid:
        os.chown(folder, -1, gid)
    folder.chmod(want)
    return True


def shared_folder(folder) -> bool:
    """True for a folder whose mode is not ours to narrow: the root, a mount point, a home
    folder, a sticky world-writable folder (/tmp)."""
    folder = pathlib.Path(folder).absolute()
    st = os.stat(folder)
    homes = {os.path.expanduser("~")}
    with contextlib.suppress(KeyError, OSError):
        homes.add(pwd.getpwuid(st.st_uid).pw_dir)
    return (folder == pathlib.Path("/") or os.path.ismount(folder)
            or str(folder) in homes or bool(st.st_mode & stat.S_ISVTX))


def close_output(folder, log=None, create: bool = True) -> None:
    """What `grade` and `leaderboard` call on the folder they write (made when missing, unless
    `create` is False: then a missing folder is left to the caller): inside
    a course root, that course root is secured (its out/ and grader_results/ are private);
    elsewhere the folder itself becomes private (`secure_output`). A course root this account
    cannot repair is reported through `log` (default: stderr) with the command to run; the
    caller goes on."""
    log = log or (lambda m: print(m, file=sys.stderr))
    folder = pathlib.Path(folder).absolute()
    if not create and not folder.is_dir():
        return
    try:
        if not folder.exists():
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir(mode=0o700, exist_ok=True)
        root = course_root_of(folder)
        if root is not None:
            secure_course_root(root)
        else:
            secure_output(folder)
    except (CoursePermissionError, OSError) as exc:
        log(f"warning: course permissions: {exc}")


def _closed_folder(path: pathlib.Path) -> pathlib.Path | None:
    """The first folder on the way to `path` that other accounts cannot pass through."""
    for d in [*reversed(path.parents), path] if path.is_dir() else reversed(path.parents):
        try:
            if not os.stat(d).st_mode & stat.S_IXOTH:
                return d
        except OSError:
            return None
    return None


def venv_problems(venv) -> list[str]:
    """Why accounts other than its owner (non-root instructors, staff, students on the same
    machine) cannot use the virtual environment `venv`: a folder on its path they cannot pass
    through (e.g. /root, mode 0700), or its interpreter (a venv's python is a link to the one
    it was made with, e.g. root's pyenv under /root) or packages closed to them. [] when they
    can."""
    venv = pathlib.Path(venv).absolute()
    problems = []
    closed = _closed_folder(venv)
    if closed is not None:
        mode = stat.S_IMODE(os.stat(closed).st_mode)
        return [f"{closed} (mode {mode:04o}, owner {_owner(closed)}) cannot be passed through "
                "by other accounts"]
    for p in (venv / "bin" / "python", *sorted(venv.glob("lib/python3*/site-packages"))[:1]):
        what = "run" if p.name == "python" else "read"
        try:
            real = p.resolve()
            mode = stat.S_IMODE(os.stat(real).st_mode)
        except OSError:
            continue
        closed = _closed_folder(real)
        if closed is not None:
            cmode = stat.S_IMODE(os.stat(closed).st_mode)
            problems.append(f"{p} is {real}, inside {closed} (mode {cmode:04o}, owner "
                            f"{_owner(closed)}): other accounts cannot {what} it")
        elif mode & 0o005 != 0o005:
            problems.append(f"{real} has mode {mode:04o}: other accounts cannot {what} it")
    return problems


def course_root_of(path) -> pathlib.Path | None:
    """The course root (a folder with course_config.py or nbgrader_config.py and source/) that
    holds `path`, or None."""
    p = pathlib.Path(path).absolute()
    for d in [p, *p.parents]:
        if (d / "course_config.py").is_file() and (d / "source").is_dir():
            return d
    return None


def _safe_group(name):
    try:
        return staff_group(name)
    except CoursePermissionError:
        return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m instructor_tools.permissions",
                                description="Check or repair who may read the course root.")
    p.add_argument("action", choices=("check", "secure", "venv"),
                   help="check: list problems; secure: repair; venv: can other accounts use "
                        "the venv ROOT (exit 1 and why, if not)")
    p.add_argument("root", nargs="?", type=pathlib.Path, default=REPO,
                   help="the course root (default: %(default)s)")
    p.add_argument("--staff-group", help=f"group that may read the private paths too (default: "
                                         f"${STAFF_GROUP_ENV} or course_config.STAFF_GROUP)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    p.add_argument("--print-umask", action="store_true",
                   help="print the umask that keeps new files private (077, 027 with a staff "
                        "group) on stdout: bin/nbgrader sets it")
    p.add_argument("--if-exists", action="store_true",
                   help="a course root that does not exist yet is not an error")
    args = p.parse_intermixed_args(argv)
    if args.if_exists and not args.root.is_dir():
        if args.print_umask:
            print("027" if _safe_group(args.staff_group) else "077")
        return 0
    prog = "course permissions"
    if args.action == "venv":
        problems = venv_problems(args.root)
        for line in problems:
            print(f"{prog}: the virtual environment {args.root}: {line}", file=sys.stderr)
        return 1 if problems else 0
    try:
        if args.action == "check":
            problems = check_course_root(args.root, args.staff_group)
            for line in problems:
                print(f"{prog}: {line}", file=sys.stderr)
            if problems:
                print(f"{prog}: repair with: python -m instructor_tools.permissions secure "
                      f"{shlex.quote(str(args.root))}", file=sys.stderr)
            return 1 if problems else 0
        repaired = secure_course_root(args.root, args.staff_group)
    except (CoursePermissionError, FileNotFoundError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    if args.print_umask:
        print("027" if staff_group(args.staff_group) else "077")
    if repaired and not args.quiet:
        root = pathlib.Path(args.root).absolute()
        cut = 8 if len(repaired) > 9 else len(repaired)   # never "and 1 more"
        shown = [("." if r == root else str(r.relative_to(root))) for r in repaired[:cut]]
        more = f" and {len(repaired) - cut} more" if len(repaired) > cut else ""
        print(f"{prog}: made private or repaired in {root}: {', '.join(shown)}{more}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
