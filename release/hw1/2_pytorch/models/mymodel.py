"""The challenge model: a small, fast all-convolutional network for CIFAR-10.

Ideas taken from the fast CIFAR-10 training recipes (ResNet-9 by Page, airbench by
Jordan), written anew here:
- a fixed first layer that whitens 2x2 pixel patches (set from the training data
  by `init_from_data`, which train.fit calls before training), so the network
  starts from decorrelated inputs;
- max pooling right after the first convolution of each block, so most
  convolutions run at low resolution; batch normalisation and GELU after every
  convolution; few but wide blocks; a global max pool; a down-scaled last layer,
  which suits label smoothing;
- in eval mode, the scores are averaged over the image, its mirror image and two
  copies shifted by one pixel (test-time augmentation).
The training recipe in train.py (flips and translations, label smoothing, warm-up
then linearly decaying learning rate) matters as much as the architecture.
On a GPU the forward pass runs in bfloat16 (autocast) on channels-last tensors.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_gelu(c_in, c_out, kernel_size, pool=False):
    """conv (no bias: the BN shift replaces it) [- 2x2 max pool] - BN - GELU."""
    layers = [nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2, bias=False)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    # momentum 0.4: the running statistics used in eval mode follow the last few batches,
    # so they are right even after a short run (the default 0.1 lags for ~20 steps).
    layers += [nn.BatchNorm2d(c_out, momentum=0.4), nn.GELU()]
    return nn.Sequential(*layers)


class MyModel(nn.Module):
    def __init__(self, im_size, hidden_dim, kernel_size, n_classes):
        """Whitening layer (2x2 patches -> 8*C channels) - GELU, then three blocks
        (conv - pool - BN - GELU, conv - BN - GELU) of widths hidden_dim,
        4*hidden_dim, 4*hidden_dim, then global max pool and a linear layer.

        Args:
            im_size (tuple): (channels, height, width) of the input images.
            hidden_dim (int): width of the first block (the others are 4x wider).
            kernel_size (int): odd size of the square filters.
            n_classes (int): number of classes to score.
        """
        super().__init__()
        channels = im_size[0]
        # YOUR CODE HERE
        raise NotImplementedError()

    @torch.no_grad()
    def init_from_data(self, images, eps=5e-4):
        """Set `self.whitening`, a 2x2 conv with 2*C*4 filters, from training images.

        train.fit calls this once before training, with normalised float images
        (N, C, H, W); a model without a `whitening` layer is left unchanged. Each
        2x2 patch (C*4 numbers) is projected on the eigenvectors of the patches'
        covariance and divided by the square root of the eigenvalue, so the outputs
        are uncorrelated with unit variance (the second half: the same, negated).
        """
        whitening = getattr(self, "whitening", None)
        if whitening is None:
            return
        c = images.shape[1]
        patches = images.float().unfold(2, 2, 1).unfold(3, 2, 1)  # (N, C, H-1, W-1, 2, 2)
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, c * 4)
        patches = patches - patches.mean(0)
        covariance = (patches.T @ patches / (len(patches) - 1)).double()  # (C*4, C*4)
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
        filters = eigenvectors.T / torch.sqrt(eigenvalues + eps)[:, None]  # (C*4, C*4)
        filters = filters.reshape(-1, c, 2, 2).to(whitening.weight)
        whitening.weight.copy_(torch.cat([filters, -filters]))

    def scores(self, images):
        """Logits for one view of the images: float tensor (N, C, H, W) -> (N, n_classes)."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def forward(self, images):
        """Scores for a batch of images.

        Args:
            images: float tensor (N, C, H, W).

        Returns:
            scores: float tensor (N, n_classes), logits (no softmax applied). In eval
            mode, averaged over the images, their mirror images and shifted copies.
        """
        scores = None
        # YOUR CODE HERE
        raise NotImplementedError()
        return scores
