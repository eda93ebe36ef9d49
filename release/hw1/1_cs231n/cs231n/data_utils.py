"""Loading CIFAR-10 (provided).

The data lives in the folder `cifar-10-batches-py` of the official Python release:
by default `cs231n/datasets/cifar-10-batches-py`, or wherever the environment variable
CIFAR10_DIR points (the path of the `cifar-10-batches-py` folder itself).
Get it with `bash cs231n/datasets/get_datasets.sh`, run from the assignment folder.
"""
import os
import pickle

import numpy as np

DATASETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "datasets")
GET_DATA_COMMAND = "bash cs231n/datasets/get_datasets.sh"
IMAGES_PER_BATCH = 10000
CIFAR10_CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class CIFAR10NotFoundError(FileNotFoundError):
    """CIFAR-10 is missing or unreadable; the message says which file and what to run."""


def default_cifar10_dir():
    """$CIFAR10_DIR if set, else cs231n/datasets/cifar-10-batches-py."""
    return os.environ.get("CIFAR10_DIR") or os.path.join(DATASETS_DIR, "cifar-10-batches-py")


def _data_problem(path, what):
    return CIFAR10NotFoundError(
        f"CIFAR-10 {what}: {path}\n"
        f"To download it (about 170 MB), run from the assignment folder:  {GET_DATA_COMMAND}\n"
        f"If you keep the data elsewhere, set CIFAR10_DIR to your cifar-10-batches-py folder."
    )


def load_CIFAR_batch(filename):
    """Load one batch file of CIFAR-10.

    Returns a tuple of:
    - X: float64 array of shape (10000, 32, 32, 3), pixel values 0..255, channels last.
    - Y: int64 array of shape (10000,), labels 0..9.
    Raises CIFAR10NotFoundError (with the command to run) if the file is missing or damaged.
    """
    if not os.path.isfile(filename):
        raise _data_problem(filename, "file not found")
    try:
        with open(filename, "rb") as f:
            batch = pickle.load(f, encoding="latin1")
        data = np.asarray(batch["data"], dtype=np.uint8)
        labels = np.asarray(batch["labels"], dtype=np.int64)
        X = data.reshape(IMAGES_PER_BATCH, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float64)
    except Exception as error:  # a truncated or foreign file can fail in many ways
        raise _data_problem(filename, f"file is damaged ({type(error).__name__}: {error})") from None
    if labels.shape != (IMAGES_PER_BATCH,) or labels.min() < 0 or labels.max() > 9:
        raise _data_problem(filename, "file is damaged (labels are not 10000 values in 0..9)")
    return X, labels


def load_CIFAR10(root=None):
    """Load all of CIFAR-10 from the folder `root` (default: see default_cifar10_dir()).

    Returns a tuple of:
    - Xtr: float64 array (50000, 32, 32, 3), the training images, channels last.
    - Ytr: int64 array (50000,), their labels.
    - Xte: float64 array (10000, 32, 32, 3), the test images.
    - Yte: int64 array (10000,), their labels.
    """
    root = os.fspath(root) if root is not None else default_cifar10_dir()
    if not os.path.isdir(root):
        raise _data_problem(root, "folder not found")
    xs, ys = [], []
    for b in range(1, 6):
        X, Y = load_CIFAR_batch(os.path.join(root, f"data_batch_{b}"))
        xs.append(X)
        ys.append(Y)
    Xtr, Ytr = np.concatenate(xs), np.concatenate(ys)
    Xte, Yte = load_CIFAR_batch(os.path.join(root, "test_batch"))
    return Xtr, Ytr, Xte, Yte


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000, subtract_mean=True,
                     cifar10_dir=None):
    """Load CIFAR-10 and split it into training, validation and test sets for a classifier.

    The validation set is the num_validation training images that follow the first
    num_training ones; the test set is the first num_test images of the official test batch.
    With subtract_mean=True the mean image of the training set is subtracted from all three
    sets (the same mean for all, so no information leaks from validation or test data).

    Returns a dict with:
    - 'X_train' (num_training, 3, 32, 32), 'y_train' (num_training,)
    - 'X_val' (num_validation, 3, 32, 32), 'y_val' (num_validation,)
    - 'X_test' (num_test, 3, 32, 32), 'y_test' (num_test,)
    Images are float64 in (N, C, H, W) order ("channels first"); labels are int64 in 0..9.
    """
    if num_training + num_validation > 50000 or num_test > 10000:
        raise ValueError(
            f"CIFAR-10 has 50000 training and 10000 test images; asked for "
            f"{num_training} + {num_validation} training/validation and {num_test} test images."
        )
    X_train, y_train, X_test, y_test = load_CIFAR10(cifar10_dir)
    val = slice(num_training, num_training + num_validation)
    X_val, y_val = X_train[val], y_train[val]
    X_train, y_train = X_train[:num_training], y_train[:num_training]
    X_test, y_test = X_test[:num_test], y_test[:num_test]
    if subtract_mean:
        mean_image = X_train.mean(axis=0)
        X_train = X_train - mean_image
        X_val = X_val - mean_image
        X_test = X_test - mean_image
    return {
        "X_train": X_train.transpose(0, 3, 1, 2).copy(), "y_train": y_train,
        "X_val": X_val.transpose(0, 3, 1, 2).copy(), "y_val": y_val,
        "X_test": X_test.transpose(0, 3, 1, 2).copy(), "y_test": y_test,
    }


def to_columns_with_bias(X):
    """Images (N, C, H, W) or rows (N, D) as the columns of a (D+1) x N matrix with a row of ones.

    This is the layout of the softmax classifier: each column is one example, and the last
    row of ones lets the last column of W act as the bias. The matrix is stored column by
    column (Fortran order), so picking a minibatch of columns, X[:, batch], reads contiguous
    memory and stays fast.
    """
    X = np.asarray(X)
    N = X.shape[0]
    columns = np.empty((int(np.prod(X.shape[1:])) + 1, N), dtype=X.dtype, order="F")
    columns[:-1] = X.reshape(N, -1).T
    columns[-1] = 1
    return columns
