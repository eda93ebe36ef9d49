"""The challenge model: a small, fast all-convolutional network for CIFAR-10.

Ideas taken from the fast CIFAR-10 training recipes (ResNet-9 by Page, airbench by
Jordan): max pooling right after the first convolution of each block, so most
convolutions run at low resolution; batch normalisation and GELU after every
convolution; few but wide blocks; a global max pool; and a down-scaled final
layer, which suits label smoothing. The training recipe in train.py (flip and
translate augmentation, label smoothing, warm-up then linearly decaying learning
rate) matters as much as the architecture.

On a GPU the forward pass runs in bfloat16 (autocast) with channels-last tensors;
in eval mode the scores are averaged over each image and its mirror image
(test-time augmentation).
"""
import torch
import torch.nn as nn


def conv_bn_gelu(c_in, c_out, kernel_size, pool=False):
    """conv (no bias: the BN shift replaces it) [- 2x2 max pool] - BN - GELU."""
    layers = [nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2, bias=False)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    layers += [nn.BatchNorm2d(c_out), nn.GELU()]
    return nn.Sequential(*layers)


class MyModel(nn.Module):
    def __init__(self, im_size, hidden_dim, kernel_size, n_classes):
        """Stem conv, then three blocks (conv - pool - BN - GELU, conv - BN - GELU)
        of widths hidden_dim, 4*hidden_dim, 4*hidden_dim, then global max pool and
        a linear layer.

        Args:
            im_size (tuple): (channels, height, width) of the input images.
            hidden_dim (int): width of the first block (the others are 4x wider).
            kernel_size (int): odd size of the square filters.
            n_classes (int): number of classes to score.
        """
        super().__init__()
        channels = im_size[0]
        ### BEGIN SOLUTION
        widths = (hidden_dim, 4 * hidden_dim, 4 * hidden_dim)
        stem_width = max(hidden_dim // 2, 8)
        layers = [conv_bn_gelu(channels, stem_width, kernel_size)]
        c_in = stem_width
        for width in widths:
            layers += [conv_bn_gelu(c_in, width, kernel_size, pool=True),
                       conv_bn_gelu(width, width, kernel_size)]
            c_in = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c_in, n_classes, bias=False)
        self.logit_scale = 0.125  # small logits early on: calmer start, works with label smoothing
        ### END SOLUTION

    def scores(self, images):
        """Logits for one view of the images: float tensor (N, C, H, W) -> (N, n_classes)."""
        ### BEGIN SOLUTION
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=images.is_cuda):
            x = images.contiguous(memory_format=torch.channels_last) if images.is_cuda else images
            x = self.features(x)  # (N, 4*hidden_dim, H/8, W/8)
            x = torch.amax(x, dim=(2, 3))  # global max pool -> (N, 4*hidden_dim)
            logits = self.classifier(x) * self.logit_scale
        return logits.float()
        ### END SOLUTION

    def forward(self, images):
        """Scores for a batch of images.

        Args:
            images: float tensor (N, C, H, W).

        Returns:
            scores: float tensor (N, n_classes), logits (no softmax applied). In eval
            mode, the mean of the logits of the images and of their mirror images.
        """
        scores = None
        ### BEGIN SOLUTION
        scores = self.scores(images)
        if not self.training:
            scores = 0.5 * (scores + self.scores(images.flip(-1)))
        ### END SOLUTION
        return scores
