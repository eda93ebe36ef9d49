"""A three-layer convolutional network built from the modular layers."""
import numpy as np

from cs231n.layer_utils import (
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from cs231n.layers import affine_backward, affine_forward, softmax_loss


class ThreeLayerConvNet:
    """A three-layer convolutional network with the architecture

        conv - relu - 2x2 max pool - affine - relu - affine - softmax

    It works on minibatches of N images of shape (C, H, W). The convolution keeps the
    height and width of its input (stride 1, pad (filter_size - 1) // 2, so filter_size must
    be odd); the pool (2x2, stride 2) halves them (so H and W must be even).

    Parameters, in the dictionary self.params:
    - 'W1' (num_filters, C, filter_size, filter_size), 'b1' (num_filters,): convolution.
    - 'W2' (num_filters * H/2 * W/2, hidden_dim), 'b2' (hidden_dim,): hidden affine layer.
    - 'W3' (hidden_dim, num_classes), 'b3' (num_classes,): output affine layer.

    Loss: mean softmax cross-entropy plus 0.5 * reg * (sum(W1**2) + sum(W2**2) + sum(W3**2));
    the factor 0.5 makes the gradient of the regularization simply reg * W. Biases are not
    regularized.
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                 num_classes=10, weight_scale=1e-3, reg=0.0, dtype=np.float32):
        """Create the network's parameters.

        Inputs:
        - input_dim: tuple (C, H, W), the shape of one input image.
        - num_filters: number of filters of the convolutional layer.
        - filter_size: height and width of each filter (odd).
        - hidden_dim: number of units in the hidden affine layer.
        - num_classes: number of classes to score.
        - weight_scale: standard deviation of the initial weights (weights start as
          weight_scale * standard normal values; biases start at zero).
        - reg: regularization strength.
        - dtype: numpy dtype of the parameters and of the computation; float32 is faster,
          use float64 for numerical gradient checks.
        """
        C, H, W = input_dim
        if filter_size % 2 != 1:
            raise ValueError(
                f"filter_size must be odd so that the convolution keeps the image size (pad = "
                f"(filter_size - 1) // 2); got {filter_size}."
            )
        if H % 2 or W % 2:
            raise ValueError(f"the 2x2 pool needs an even image height and width; input_dim is {input_dim}.")
        self.params = {}
        self.reg = reg
        self.dtype = dtype

        # Initialize W1, b1, W2, b2, W3, b3 in self.params with the shapes listed in the
        # class docstring.
        # YOUR CODE HERE
        raise NotImplementedError()

        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """Class scores, or the loss and gradients, for a minibatch.

        Inputs:
        - X: images, shape (N, C, H, W).
        - y: labels, shape (N,), 0 <= y[i] < num_classes. Optional.

        Returns:
        - If y is None: scores, shape (N, num_classes).
        - Otherwise a tuple (loss, grads): the loss (a float) and a dictionary grads with the
          same keys as self.params holding the gradient of each parameter (same shape).
        """
        X = np.asarray(X).astype(self.dtype, copy=False)
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        W3, b3 = self.params["W3"], self.params["b3"]

        filter_size = W1.shape[2]
        conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

        scores = None
        # Forward pass: compute the class scores with the functions of cs231n.layer_utils and
        # cs231n.layers, keeping every cache for the backward pass.
        # YOUR CODE HERE
        raise NotImplementedError()

        if y is None:
            return scores

        loss, grads = 0, {}
        # Backward pass: the loss (softmax_loss plus regularization) and the gradient of every
        # parameter, stored in grads under the same names as in self.params.
        # YOUR CODE HERE
        raise NotImplementedError()
        return loss, grads
