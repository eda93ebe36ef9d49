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

# `nbgrader submit .` from this folder: leave out the data set, checkpoints and build products.
# nbgrader counts every file of the folder against max_dir_size (KB) before it leaves any
# out, so the limit is raised above the size of CIFAR-10 and a few checkpoints.
c.CourseDirectory.ignore = [
    '.ipynb_checkpoints', '*.pyc', '__pycache__', 'feedback', '.pytest_cache', 'build',
    '*.so', '*.c', '*.o', '*.egg-info', 'cifar-10-batches-py', 'cifar-10-python.tar.gz',
    '*.npy', '*.npz', '*.pt', '*.pth', '*.ckpt', 'checkpoints', '*.zip', 'gradebook.db',
]
c.CourseDirectory.max_dir_size = 2_000_000

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
