"""The challenge model (Q8.8): a network of your own design, for the best test accuracy
you can reach on CIFAR-10.

The interface is fixed, the design is yours:
- `MyModel(im_size, hidden_dim, kernel_size, n_classes)`: train.py builds it with
  `--hidden-dim` and `--kernel-size` from run_mymodel.sh; use them as you see fit (for
  example as the number of filters and the filter size), or ignore them.
- `forward(images)` takes a float tensor (N, C, H, W), already normalised by
  `train.to_model_input`, and returns raw class scores (logits) of shape
  (N, n_classes); `F.cross_entropy` applies the softmax itself.
- Optional: a method `init_from_data(self, images)`, which train.fit calls once before
  training with normalised training images (N, C, H, W) on the training device, for any
  set-up that depends on the data (see `python train.py -h`, `--init-images`).

Things to try (from the assignment):
- filter size (e.g. 3x3 or 5x5 filters) and the number of filters;
- network depth and patterns such as [conv-relu-pool]xN - [affine]xM,
  [conv-relu-conv-relu-pool]xN - [affine]xM, or [batchnorm-relu-conv]xN - [affine]xM;
- batch normalisation, dropout, global average pooling;
- the update rule and its settings (train.py uses SGD with momentum: change
  build_optimizer if you want another), the learning rate and its schedule, weight
  decay, the batch size and the number of epochs (run_mymodel.sh and train.py's
  options, such as --augment, --label-smoothing and --lr-schedule).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MyModel(nn.Module):
    def __init__(self, im_size, hidden_dim, kernel_size, n_classes):
        """Build the layers of your network.

        Args:
            im_size (tuple): (channels, height, width) of the input images.
            hidden_dim (int): --hidden-dim of run_mymodel.sh.
            kernel_size (int): --kernel-size of run_mymodel.sh (train.py checks it is odd).
            n_classes (int): number of classes to score.
        """
        super().__init__()
        channels = im_size[0]
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
