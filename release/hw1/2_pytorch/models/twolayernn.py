"""A two-layer fully connected network, as in Part 1, written with torch.nn."""
import math

import torch.nn as nn
import torch.nn.functional as F


class TwoLayerNN(nn.Module):
    def __init__(self, im_size, hidden_dim, n_classes):
        """affine - ReLU - affine on the flattened image.

        Args:
            im_size (tuple): (channels, height, width) of the input images.
            hidden_dim (int): number of hidden units.
            n_classes (int): number of classes to score.
        """
        super().__init__()
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
