"""A small convolutional network: Part 1's conv - ReLU - 2x2 max pool block,
used twice, then an affine layer to the class scores."""
import torch.nn as nn
import torch.nn.functional as F


class CNN(nn.Module):
    def __init__(self, im_size, hidden_dim, kernel_size, n_classes):
        """conv - ReLU - pool - conv - ReLU - pool - affine.

        Both convolutions have `hidden_dim` filters of size kernel_size x kernel_size,
        stride 1 and zero padding that keeps height and width ("same" padding, so
        kernel_size must be odd); each 2x2 max pool halves height and width.

        Args:
            im_size (tuple): (channels, height, width) of the input images.
            hidden_dim (int): number of filters in each convolution.
            kernel_size (int): odd width and height of the square filters.
            n_classes (int): number of classes to score.
        """
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd (got {kernel_size}) so that "
                             "'same' padding keeps the image size.")
        channels, height, width = im_size
        # YOUR CODE HERE
        raise NotImplementedError()

    def forward(self, images):
        """Scores for a batch of images.

        Args:
            images: float tensor (N, C, H, W).

        Returns:
            scores: float tensor (N, n_classes), logits (no softmax applied).
        """
        scores = None
        # YOUR CODE HERE
        raise NotImplementedError()
        return scores
