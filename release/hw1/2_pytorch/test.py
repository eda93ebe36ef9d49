"""Predict the classes of a set of images with a trained checkpoint.

    python test.py --checkpoint mymodel.pt --images images.npy --out predictions.csv

`images.npy` holds a uint8 array of shape (N, 32, 32, 3) (RGB, channels last, as
returned by cifar10.load_cifar10). The CSV has a header `image_id,label` and one
row per image, in order: image_id is the image's index 0..N-1, label its class 0..9.
"""
import argparse
import csv
import os
import pathlib
import sys

import numpy as np

from train import load_checkpoint, pick_device, positive_int, predict


class InputError(Exception):
    """Something wrong with the files given; the message says what to do."""


def load_images(path):
    """The uint8 (N, 32, 32, 3) array stored in the .npy file at `path`."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise InputError(f"No image file at {path}.")
    try:
        images = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise InputError(f"{path} is not a .npy array file ({e}). Save the images with "
                         "numpy.save(path, images).") from None
    if images.ndim != 4 or images.shape[1:] != (32, 32, 3):
        raise InputError(f"{path} holds an array of shape {images.shape}; expected "
                         "(N, 32, 32, 3): N images of 32x32 pixels, RGB last.")
    if images.dtype != np.uint8:
        raise InputError(f"{path} holds {images.dtype} values; expected uint8 pixels in "
                         "0..255 (convert with images.astype(np.uint8) if they are whole "
                         "numbers in that range).")
    return images


def write_predictions(path, labels):
    """Write `image_id,label` rows; through a temporary file, so a failure leaves no half file."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["image_id", "label"])
        writer.writerows(enumerate(int(label) for label in labels))
    os.replace(tmp, path)


def build_parser():
    p = argparse.ArgumentParser(description="Predict CIFAR-10 classes with a checkpoint "
                                            "written by train.py.")
    p.add_argument("--checkpoint", type=pathlib.Path, required=True,
                   help="checkpoint written by train.py (e.g. mymodel.pt)")
    p.add_argument("--images", type=pathlib.Path, required=True,
                   help=".npy file with a uint8 array (N, 32, 32, 3)")
    p.add_argument("--out", type=pathlib.Path, default=pathlib.Path("predictions.csv"),
                   help="CSV file to write (default: %(default)s)")
    p.add_argument("--batch-size", type=positive_int, default=1000,
                   help="images per batch (default: %(default)s)")
    p.add_argument("--no-cuda", action="store_true", help="predict on the CPU")
    return p


def main(argv=None):
    """Returns the predicted labels (numpy int64 (N,)); exits with a message on bad input."""
    args = build_parser().parse_args(argv)
    device = pick_device(args.no_cuda)
    try:
        images = load_images(args.images)
        model = load_checkpoint(args.checkpoint, device)
    except (InputError, FileNotFoundError, ValueError) as e:
        sys.exit(f"error: {e}")
    labels = predict(model, images, device, batch_size=args.batch_size)
    write_predictions(args.out, labels)
    print(f"Wrote {len(labels)} predictions to {args.out}")
    return labels


if __name__ == "__main__":
    main()
