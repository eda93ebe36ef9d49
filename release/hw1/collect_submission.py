"""Package your homework for submission: a PDF of every notebook, then one zip.

    bash collect_submission.sh            # from the hw1 folder; writes hw1_submission.zip

The PDFs are printed from your notebooks *as saved*: run every cell and save first, so that
your outputs, plots and answers appear. Printing works offline with a Chromium or Chrome
browser (set HW1_BROWSER=/path/to/browser if yours is not found); equations are drawn with
the MathJax copy that comes with the `jupyter-server-mathjax` package.

The zip holds your code, notebooks, PDFs, logs and plots, and leaves out what the graders do
not need: the CIFAR-10 data, model checkpoints, caches, build products, your environments
(.venv, venv, conda folders; named when left out), .git, and the files macOS and Windows leave
behind (._name, __MACOSX/, .DS_Store, Thumbs.db). Images your notebooks show
from files next to them (`![](sketch.png)`) are printed in the PDFs. A notebook that cannot be
read is named with what to do; everything else is still packaged.
"""
import argparse
import fnmatch
import json
import os
import pathlib
import re
import shutil
import sys
import tempfile
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
ZIP_NAME = "hw1_submission.zip"
MAX_FILE_BYTES = 10 << 20

EXCLUDED_DIRS = (".ipynb_checkpoints", "__pycache__", ".pytest_cache", "build", "dist",
                 "__MACOSX", ".Trashes", ".Spotlight-V100", ".fseventsd",
                 "*.egg-info", "cifar-10-batches-py", "data", "checkpoints",
                 ".mypy_cache", "pdf_build")
# Your own environments and tools: never in the zip, and named when left out. Any folder
# holding pyvenv.cfg (a venv, whatever its name) or conda-meta/ (a conda environment) is one.
ENVIRONMENTS = {".venv": "a Python environment", "venv": "a Python environment",
                "env": "a Python environment", ".env": "a Python environment",
                ".conda": "a conda environment", "node_modules": "Node.js packages",
                ".git": "git's history", ".tox": "tox environments"}
EXCLUDED_FILES = ("*.pyc", "*.so", "*.pyd", "*.o", "*.c", "*.pt", "*.pth", "*.ckpt", "*.npy",
                  "*.npz", "*.tar.gz", "*.tgz", "*.zip", ".DS_Store", "gradebook.db",
                  "._*", "Thumbs.db", "desktop.ini", "ehthumbs.db", "*~", ".~lock.*")
# The notebooks staff grade, and the names tools give a copy of one (Jupyter's File > Make a
# Copy: softmax-Copy1.ipynb; Windows: "softmax - Copy.ipynb"; macOS: "softmax copy.ipynb";
# Colab: "Copy of softmax.ipynb"; a browser: "softmax (1).ipynb").
ASSIGNMENT_NOTEBOOKS = tuple(pathlib.PurePath(n) for n in (
    "convnet.ipynb", "filter-viz.ipynb", "layers.ipynb", "softmax-classifier.ipynb",
    "softmax.ipynb", "two_layer_net.ipynb"))
NOTEBOOK_COPY = re.compile(r"^(?:Copy of )*(?P<stem>.+?)"
                           r"(?:-Copy\d*| - Copy(?: \(\d+\))?| copy(?: \d+)?| \(\d+\))*$", re.I)
# What must be installed to print the PDFs (the course environment has all of them).
NEEDED_MODULES = ("nbformat", "nbconvert", "playwright", "jupyter_server_mathjax")
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
                 "chrome", "msedge")
# --allow-file-access-from-files lets MathJax, loaded from a file, read its own fonts.
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync",
                "--allow-file-access-from-files"]


class SubmissionError(Exception):
    """Something the student can fix; the message says what and how."""


def _excluded(rel: pathlib.PurePath) -> bool:
    dirs, name = rel.parts[:-1], rel.name
    if any(fnmatch.fnmatch(d, pat) for d in dirs for pat in EXCLUDED_DIRS):
        return True
    return any(fnmatch.fnmatch(name, pat) for pat in EXCLUDED_FILES)


def environment_kind(folder: pathlib.Path):
    """What `folder` is when it is an environment or tool folder (ENVIRONMENTS), else None."""
    if folder.is_symlink() or not folder.is_dir():
        return None
    if (folder / "pyvenv.cfg").is_file():
        return "a Python environment"
    if (folder / "conda-meta").is_dir():
        return "a conda environment"
    return ENVIRONMENTS.get(folder.name)


def files_to_submit(root: pathlib.Path, environments: dict | None = None):
    """(included, skipped-for-size) relative paths under root, sorted. Environments are not
    entered (a 6 GB .venv is never walked); `environments` receives {folder: kind}."""
    included, too_big = [], []
    for here, dirs, names in os.walk(root):
        here = pathlib.Path(here)
        for d in sorted(dirs):
            kind = environment_kind(here / d)
            if kind or (here / d).is_symlink() or _excluded((here / d).relative_to(root) / "x"):
                dirs.remove(d)
                if kind and environments is not None:
                    environments[(here / d).relative_to(root).as_posix()] = kind
        for name in names:
            path = here / name
            rel = path.relative_to(root)
            if not path.is_file() or _excluded(rel):
                continue
            (too_big if path.stat().st_size > MAX_FILE_BYTES else included).append(rel)
    return sorted(included), sorted(too_big)


# ---------------------------------------------------------------- notebooks to PDF

def find_browser() -> str | None:
    if os.environ.get("HW1_BROWSER"):
        return os.environ["HW1_BROWSER"]
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None  # playwright may still have its own (`python -m playwright install chromium`)


def mathjax_url() -> str:
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise SubmissionError("the package jupyter-server-mathjax is missing: "
                              "`pip install -r requirements.txt` installs it") from None
    static = pathlib.Path(jupyter_server_mathjax.__file__).parent / "static" / "MathJax.js"
    return static.as_uri() + "?config=TeX-AMS-MML_HTMLorMML-full"


def notebook_html(notebook: pathlib.Path) -> str:
    import nbformat
    from nbconvert import HTMLExporter
    exporter = HTMLExporter(template_name="webpdf", mathjax_url=mathjax_url())
    nb = nbformat.read(notebook, as_version=4)
    html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": notebook.stem}})
    # The local MathJax ships only the STIX-Web fonts: ask for them (else it falls back to
    # plain system fonts).
    html = html.replace("messageStyle: 'none',", "messageStyle: 'none', " + MATHJAX_FONTS, 1)
    # Images and links written relative to the notebook (![](sketch.png)) are found from the
    # notebook's own folder, although the page is printed from a temporary one.
    base = f'<base href="{notebook.resolve().parent.as_uri()}/">'
    html = html.replace("<head>", "<head>" + base, 1) if "<head>" in html else base + html
    return html.replace("</head>", PRINT_CSS + "</head>", 1)


MATHJAX_FONTS = ('"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", '
                 'imageFont: null},')

# Wrap long lines of code and output instead of cutting them off at the page's edge.
PRINT_CSS = """<style>
.jp-InputArea-editor pre, .jp-OutputArea-output pre, .highlight pre {
  white-space: pre-wrap !important; overflow-wrap: anywhere; }
.jp-OutputArea-output img { max-width: 100%; height: auto; }
</style>"""

WAIT_FOR_MATHJAX = """() => new Promise(resolve => {
    if (!window.MathJax || !window.MathJax.Hub) { resolve("no MathJax"); return; }
    window.MathJax.Hub.Queue(() => resolve("typeset"));
})"""


def print_pdfs(pages: list[tuple[pathlib.Path, pathlib.Path]], browser: str | None) -> None:
    """Print each (html file, pdf file) pair with one headless browser."""
    from playwright.sync_api import Error as PlaywrightError, sync_playwright
    with sync_playwright() as pw:
        try:
            launch = dict(args=BROWSER_ARGS, headless=True)
            if browser:
                launch["executable_path"] = browser
            chrome = pw.chromium.launch(**launch)
        except PlaywrightError as err:
            raise SubmissionError(
                "no browser to print the PDFs with. Install Chromium or Chrome (or run "
                "`python -m playwright install chromium`), or set HW1_BROWSER to its path.\n"
                f"(browser tried: {browser or 'playwright default'}; {str(err).splitlines()[0]})"
            ) from None
        try:
            page = chrome.new_page()
            for html, pdf in pages:
                page.goto(html.as_uri(), wait_until="load")
                page.wait_for_function("() => document.readyState === 'complete'")
                page.evaluate(WAIT_FOR_MATHJAX)
                page.emulate_media(media="print")
                page.pdf(path=str(pdf), format="Letter", print_background=True,
                         margin={"top": "0.5in", "bottom": "0.5in", "left": "0.4in",
                                 "right": "0.4in"})
        finally:
            chrome.close()


def notebooks_to_pdf(notebooks, out_dir: pathlib.Path, browser=None, problems=None):
    """PDFs of the notebooks that can be read; a notebook that cannot is added to `problems`
    (name, what to do) and skipped."""
    out_dir.mkdir(parents=True, exist_ok=True)
    problems = [] if problems is None else problems
    pdfs = []
    with tempfile.TemporaryDirectory(prefix="hw1-pdf-") as tmp:
        pages = []
        for nb in notebooks:
            html = pathlib.Path(tmp) / (nb.stem + ".html")
            try:
                html.write_text(notebook_html(nb), encoding="utf-8")
            except SubmissionError:
                raise
            except Exception as err:  # a damaged notebook: name it, package the rest
                problems.append(f"{nb.name} could not be printed to PDF ({type(err).__name__}: "
                                f"{str(err).splitlines()[0][:200] if str(err) else ''}). "
                                + FIX_NOTEBOOK)
                continue
            pages.append((html, out_dir / (nb.stem + ".pdf")))
        if pages:
            print_pdfs(pages, browser if browser is not None else find_browser())
        pdfs = [pdf for _, pdf in pages]
    return pdfs


FIX_NOTEBOOK = ("Open it in Jupyter and save it again (File > Save), or restore the last good "
                "copy from .ipynb_checkpoints/; it is still put in the zip as it is.")


def read_notebook(path: pathlib.Path):
    """The notebook's JSON, or None when it cannot be read (damaged, empty, not a notebook)."""
    try:
        nb = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError, OSError):
        return None
    return nb if isinstance(nb, dict) and isinstance(nb.get("cells"), list) else None


def check_environment() -> None:
    """SubmissionError, with what to do, when the packages that print PDFs are missing."""
    import importlib.util
    missing = [m for m in NEEDED_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise SubmissionError(
            f"this Python ({sys.executable}) lacks {', '.join(missing)}: run this script in "
            "the environment you used for the assignment (source .venv/bin/activate, or conda "
            "activate cs7643-hw1; on Windows: source .venv/Scripts/activate), or install the "
            "packages there with `pip install -r requirements.txt`.")


# ---------------------------------------------------------------- checks and the zip

def warnings_for(root: pathlib.Path, notebooks) -> list[str]:
    """Things that are probably unfinished; reported, never fatal."""
    notes = []
    for nb_path in notebooks:
        nb = read_notebook(nb_path)
        if nb is None:
            notes.append(f"{nb_path.name} cannot be read (it is not a valid notebook file). "
                         + FIX_NOTEBOOK)
            continue
        cells = [c for c in nb["cells"] if isinstance(c, dict)]
        if not any(c.get("outputs") for c in cells if c.get("cell_type") == "code"):
            notes.append(f"{nb_path.name} has no outputs: run all its cells and save it "
                         "before collecting, or its PDF will be empty of results.")
    stems = {nb.stem.lower(): nb.stem for nb in ASSIGNMENT_NOTEBOOKS}
    for nb_path in notebooks:
        m = NOTEBOOK_COPY.match(nb_path.stem)
        want = stems.get(nb_path.stem.lower()) or (stems.get(m.group("stem").lower()) if m else None)
        if not want or nb_path.stem == want:
            continue
        if nb_path.stem.lower() == want.lower():
            notes.append(f"{nb_path.name} is named {want}.ipynb in the assignment (the case "
                         f"differs): rename it to {want}.ipynb, the notebook staff grade.")
        else:
            notes.append(f"{nb_path.name} looks like a copy of {want}.ipynb: only {want}.ipynb "
                         "is graded (written answers, plots). Put your work in "
                         f"{want}.ipynb (or rename the copy to it) and run this again.")
    for rel in files_to_submit(root)[0]:
        path = root / rel
        if path.name != path.name.rstrip("\r\n\t "):
            rel = rel.as_posix()
            notes.append(f"{rel!r}: the name ends in an invisible carriage return or space (a run "
                         "script with Windows line endings wrote it). Convert the scripts with "
                         "`perl -pi -e 's/\\r$//' 2_pytorch/run_*.sh` and rename the file "
                         "(`mv` it to the name without the ending).")
    hp = root / "1_cs231n" / "hyperparams.json"
    if hp.is_file():
        try:
            raw = hp.read_bytes()  # as Notepad or PowerShell may save it: BOM, UTF-16
            values = json.loads(raw.decode("utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff")
                                           else "utf-8-sig"))
            untuned = sorted(k for k, v in values.items()
                             if isinstance(v, dict) and any(x is None for x in v.values()))
        except (ValueError, AttributeError):
            untuned = ["(the file is not valid JSON)"]
        if untuned:
            notes.append("1_cs231n/hyperparams.json is not filled in for: " + ", ".join(untuned)
                         + " (the tuning cells of the Part 1 notebooks write it).")
    return notes


def collect(root: pathlib.Path = HERE, out: pathlib.Path | None = None, browser=None) -> pathlib.Path:
    root = root.resolve()
    out = (out or root / ZIP_NAME).resolve()
    notebooks = sorted(p for p in root.glob("*.ipynb") if p.is_file() and not _excluded(
        p.relative_to(root)))
    if not notebooks:
        raise SubmissionError(f"no notebooks in {root}: run this script from your hw1 folder.")
    check_environment()
    for note in warnings_for(root, notebooks):
        print(f"warning: {note}", file=sys.stderr)
    readable = [nb for nb in notebooks if read_notebook(nb) is not None]

    print(f"Printing {len(readable)} notebooks to PDF ...", flush=True)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hw1-submission-") as tmp:
        pdfs = notebooks_to_pdf(readable, pathlib.Path(tmp), browser, problems)
        for problem in problems:
            print(f"warning: {problem}", file=sys.stderr)
        environments: dict = {}
        files, too_big = files_to_submit(root, environments)
        if environments:
            print("note: left out " + ", ".join(f"{p}/ ({k})" for p, k in sorted(
                environments.items())) + ": not part of the hand-in (never graded, never "
                "counted toward the size limit).", file=sys.stderr)
        # Top-level PDFs are replaced by the freshly printed ones.
        files = [f for f in files if (root / f).resolve() != out
                 and not (f.suffix == ".pdf" and len(f.parts) == 1)]
        for rel in too_big:
            print(f"warning: left out {rel} ({(root / rel).stat().st_size >> 20} MB): "
                  f"files over {MAX_FILE_BYTES >> 20} MB are not submitted.", file=sys.stderr)
        partial = out.with_name(out.name + ".partial")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for rel in files:
                zf.write(root / rel, rel.as_posix())
            for pdf in pdfs:
                zf.write(pdf, pdf.name)
        partial.replace(out)
    print(f"Wrote {out} ({out.stat().st_size // 1024} KB): {len(files)} files and "
          f"{len(pdfs)} PDFs. Check the PDFs, then submit the zip.")
    unprinted = [nb.name for nb in notebooks if nb.stem not in {p.stem for p in pdfs}]
    if unprinted:
        print(f"warning: no PDF for {', '.join(unprinted)} (see above): fix "
              f"{'it' if len(unprinted) == 1 else 'them'} and run this again.", file=sys.stderr)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=None,
                        help=f"zip to write (default: {ZIP_NAME} in the hw1 folder)")
    args = parser.parse_args(argv)
    try:
        collect(HERE, args.out)
    except SubmissionError as err:
        print(f"collect_submission: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
