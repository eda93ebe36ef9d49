"""Helpers to look at images and learned filters (provided)."""
import numpy as np


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Tile a batch of images into one image, for plt.imshow.

    Inputs:
    - Xs: images, shape (N, H, W, C) (channels last; for filters W1 of shape (F, C, H, W)
      pass W1.transpose(0, 2, 3, 1)).
    - ubound: every image is rescaled to the range [0, ubound].
    - padding: number of blank pixels between neighbouring images.

    Returns an array (grid_height, grid_width, C) with the images in a near-square grid.
    """
    N, H, W, C = Xs.shape
    grid_size = int(np.ceil(np.sqrt(N)))
    grid_height = H * grid_size + padding * (grid_size - 1)
    grid_width = W * grid_size + padding * (grid_size - 1)
    grid = np.zeros((grid_height, grid_width, C))
    for k in range(N):
        row, col = divmod(k, grid_size)
        img = Xs[k]
        low, high = np.min(img), np.max(img)
        y0, x0 = row * (H + padding), col * (W + padding)
        scale = ubound / (high - low) if high > low else 0.0
        grid[y0:y0 + H, x0:x0 + W] = (img - low) * scale
    return grid


def show_cifar_examples(X, y, classes, samples_per_class=7):
    """Plot samples_per_class random training images of every class (X: (N, 32, 32, 3), 0..255)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(samples_per_class, len(classes), figsize=(len(classes), samples_per_class))
    for c, name in enumerate(classes):
        picks = np.random.choice(np.flatnonzero(y == c), samples_per_class, replace=False)
        for row, index in enumerate(picks):
            ax = axes[row, c]
            ax.imshow(X[index].astype("uint8"))
            ax.axis("off")
            if row == 0:
                ax.set_title(name)
    return fig
