"""nbgrader's settings for checking and handing in your notebooks. From this folder:

    nbgrader validate softmax.ipynb      (or: nbgrader validate *.ipynb)
    nbgrader submit . --course cs7643    (when your course hands in through nbgrader)

validate runs the notebook from the top and reports every cell that fails (a function still
raising NotImplementedError, any other error) and any graded cell that was deleted. "Success!"
means the notebook runs; your score comes from the course grader after you submit.
"""
c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.Execute.timeout = 900          # seconds per cell: training cells take minutes on a laptop
c.Execute.startup_timeout = 120
c.Validator.validate_all = True  # an error in any code cell fails, not only in graded cells
c.Validator.width = 110

# `nbgrader submit .` from this folder: leave out the data set, checkpoints, build products and
# your own environments and tools (.venv, venv, conda folders: any folder holding pyvenv.cfg or
# conda-meta/, node_modules, .git). What is left out never counts toward max_dir_size (KB), and
# submit names the environments it left out.
c.CourseDirectory.ignore = [
    '.ipynb_checkpoints', '*.pyc', '__pycache__', 'feedback', '.pytest_cache', 'build',
    '*.so', '*.c', '*.o', '*.egg-info', 'cifar-10-batches-py', 'cifar-10-python.tar.gz',
    '*.npy', '*.npz', '*.pt', '*.pth', '*.ckpt', 'checkpoints', '*.zip', 'gradebook.db',
    '.venv', 'venv', 'env', '.conda', 'node_modules', '.git', '.mypy_cache', '.tox',
]
c.CourseDirectory.max_dir_size = 2_000_000
ENVIRONMENTS = {'.venv': 'a Python environment', 'venv': 'a Python environment',
                'env': 'a Python environment', '.conda': 'a conda environment',
                'node_modules': 'Node.js packages', '.git': "git's history",
                '.tox': 'tox environments'}


# Names tools give a copy of a notebook (Jupyter's File > Make a Copy: softmax-Copy1.ipynb;
# Windows: "softmax - Copy.ipynb"; macOS: "softmax copy.ipynb"; Colab: "Copy of softmax.ipynb";
# a browser: "softmax (1).ipynb").
NOTEBOOK_COPY = (r"^(?:Copy of )*(?P<stem>.+?)"
                 r"(?:-Copy\d*| - Copy(?: \(\d+\))?| copy(?: \d+)?| \(\d+\))*$")


def renamed_notebooks(folder):
    """Sentences on notebooks of `folder` that staff would not grade: copies of an assignment
    notebook, and names that differ from the assignment's only in case."""
    import os
    import re
    stems = {name.lower(): name for name in GRADED_CELLS}
    out = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return out
    for name in names:
        stem, ext = os.path.splitext(name)
        if ext.lower() != '.ipynb' or stem in GRADED_CELLS:
            continue
        m = re.match(NOTEBOOK_COPY, stem, re.I)
        want = stems.get(stem.lower()) or (stems.get(m.group('stem').lower()) if m else None)
        if not want:
            continue
        if stem.lower() == want.lower():
            out.append(f'{name} is named {want}.ipynb in the assignment (the case differs): '
                       f'rename it to {want}.ipynb, the notebook staff grade.')
        else:
            out.append(f'{name} looks like a copy of {want}.ipynb: only {want}.ipynb is graded '
                       f'(written answers, plots). Put your work in {want}.ipynb (or rename the '
                       'copy to it) before you submit.')
    return out


def submit_without_environments():
    """nbgrader's submit, except that what is left out (the ignore list above, and any folder
    holding pyvenv.cfg or conda-meta/) is not counted toward max_dir_size, the environments
    left out are named, a folder still too big gets a sentence instead of a traceback, and
    copies of notebooks (softmax-Copy1.ipynb) are named."""
    import fnmatch
    import os
    from nbgrader.exchange.default.submit import ExchangeSubmit

    def kind_of(path):
        name = os.path.basename(path)
        if os.path.islink(path) or not os.path.isdir(path):
            return None
        if os.path.isfile(os.path.join(path, 'pyvenv.cfg')):
            return 'a Python environment'
        if os.path.isdir(os.path.join(path, 'conda-meta')):
            return 'a conda environment'
        return ENVIRONMENTS.get(name)

    class SubmitWithoutEnvironments(ExchangeSubmit):
        told = False

        def check_filename_diff(self):
            super().check_filename_diff()
            for sentence in renamed_notebooks(self.src_path):
                self.log.warning(sentence)

        def ignored(self, name):
            return any(fnmatch.fnmatch(name, glob) for glob in self.coursedir.ignore)

        def environments(self, root):
            found = {}
            for here, dirs, _ in os.walk(root):
                for d in list(dirs):
                    kind = kind_of(os.path.join(here, d))
                    if kind or self.ignored(d):
                        dirs.remove(d)
                    if kind:
                        found[os.path.relpath(os.path.join(here, d), root)] = kind
            return found

        def get_size(self, root):
            total = 0
            for here, dirs, files in os.walk(root):
                dirs[:] = [d for d in dirs if not self.ignored(d)]
                for f in files:
                    path = os.path.join(here, f)
                    if not self.ignored(f) and not os.path.islink(path):
                        size = os.path.getsize(path)
                        if size <= 1000 * self.coursedir.max_file_size:   # else not copied
                            total += size
            return total

        def do_copy(self, src, dest, log=None):
            found = self.environments(src)
            if found and not self.told:
                self.told = True
                self.log.warning('Left out (not part of the hand-in, not counted toward the '
                                 'size limit): ' + ', '.join(f'{p}/ ({k})'
                                                             for p, k in sorted(found.items())))
            saved = list(self.coursedir.ignore)
            self.coursedir.ignore = saved + sorted({os.path.basename(p) for p in found})
            try:
                size, limit = self.get_size(src), 1000 * self.coursedir.max_dir_size
                if size > limit:
                    big = sorted(((self.get_size(os.path.join(src, n)) if os.path.isdir(
                        os.path.join(src, n)) else os.path.getsize(os.path.join(src, n)), n)
                        for n in os.listdir(src) if not self.ignored(n)), reverse=True)[:3]
                    self.fail(f'{src} holds {size / 1e9:.1f} GB to submit, over the course '
                              f'limit of {limit / 1e9:.1f} GB (the data set, checkpoints and '
                              'environments are already left out). Largest: '
                              + ', '.join(f'{n} ({s / 1e6:.0f} MB)' for s, n in big)
                              + '. Move large files you made out of this folder and submit '
                              'again.')
                super().do_copy(src, dest, log)
            finally:
                self.coursedir.ignore = saved

    return SubmitWithoutEnvironments


c.ExchangeFactory.submit = submit_without_environments()

# The graded cells of each notebook (nbgrader grade ids; tests/test_nbgrader_validate.py
# keeps this list equal to the notebooks').
GRADED_CELLS = {
    "convnet": ["convnet-plots", "convnet-q1", "autograde_q8_4"],
    "filter-viz": ["filter-plots", "filter-q1"],
    "layers": ["layers-q1", "autograde_q8_3"],
    "softmax-classifier": ["autograde_q8_5", "autograde_q8_6", "autograde_q8_7",
                           "pytorch-plots", "pytorch-q1", "autograde_q8_8", "mymodel-report"],
    "softmax": ["softmax-q1", "softmax-plots", "softmax-q2", "autograde_q8_1"],
    "two_layer_net": ["two-layer-plots", "two-layer-q1", "autograde_q8_2"],
}


def name_deleted_graded_cells(notebook, **_):
    """Before the run: append a failing cell for each graded cell missing from this notebook
    (the notebook is recognised by the graded cells it still has)."""
    from nbformat.v4 import new_code_cell
    present = {cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
               for cell in notebook.cells}
    name, expected = max(GRADED_CELLS.items(), key=lambda kv: len(present & set(kv[1])))
    if not present & set(expected):
        return
    for grade_id in expected:
        if grade_id not in present:
            why = (f"graded cell {grade_id!r} of {name}.ipynb was deleted; copy it back "
                   "from a fresh copy")
            notebook.cells.append(new_code_cell(
                f"# added by nbgrader validate (nbgrader_config.py)\nraise LookupError({why!r})"))


c.Execute.on_notebook_start = name_deleted_graded_cells
