"""Linear classifiers trained with minibatch stochastic gradient descent.

Column convention (as in softmax.py): X is (D+1) x N with a row of ones appended, W is
C x (D+1) with the biases in its last column, and the scores of all examples are W @ X
(shape C x N).
"""
import numpy as np
from tqdm.auto import tqdm

from cs231n.classifiers.softmax import softmax_loss_vectorized


class LinearClassifier:
    """A linear classifier; subclasses choose the loss by overriding `loss`."""

    def __init__(self):
        self.W = None

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False):
        """Train this classifier with minibatch stochastic gradient descent (SGD).

        Inputs:
        - X: training data, (D+1) x N, one example per column (last row all ones).
        - y: training labels, shape (N,); y[i] = c means column i of X has class c, 0 <= c < C.
        - learning_rate: (float) step size of each update.
        - reg: (float) regularization strength.
        - num_iters: (int) number of update steps.
        - batch_size: (int) number of training examples in each step's minibatch.
        - verbose: (bool) if True, print the loss every 100 iterations and show a progress bar.

        W is created on the first call (small random values, C = max(y) + 1 classes) and kept
        across calls, so calling train again continues training.

        Returns:
        - loss_history: a list with the loss of every iteration's minibatch.
        """
        dim, num_train = X.shape
        if np.shape(y) != (num_train,):
            raise ValueError(f"y must have shape ({num_train},), one label per column of X, got {np.shape(y)}.")
        num_classes = int(np.max(y)) + 1
        if self.W is None:
            self.W = 0.001 * np.random.randn(num_classes, dim)

        loss_history = []
        for it in tqdm(range(num_iters), disable=not verbose, desc="SGD"):
            X_batch, y_batch = None, None
            # Sample batch_size columns of X (with replacement: faster than without) and their
            # labels into X_batch, (D+1) x batch_size, and y_batch, (batch_size,). Then take
            # one gradient step on self.W.
            # YOUR CODE HERE
            raise NotImplementedError()
            loss_history.append(float(loss))
            if verbose and it % 100 == 0:
                tqdm.write(f"iteration {it} / {num_iters}: loss {loss:f}")
        return loss_history

    def predict(self, X):
        """Predict labels with the trained weights.

        Inputs:
        - X: data, (D+1) x N, one example per column (last row all ones).

        Returns:
        - y_pred: int array of shape (N,), the class with the highest score for each column.
        """
        y_pred = np.zeros(X.shape[1], dtype=np.int64)
        # YOUR CODE HERE
        raise NotImplementedError()
        return y_pred

    def loss(self, X_batch, y_batch, reg):
        """Loss and gradient on a minibatch; subclasses override this.

        Inputs: X_batch (D+1) x N, y_batch (N,), reg (float).
        Returns (loss, gradient with respect to self.W, same shape as self.W).
        """
        raise NotImplementedError("Use a subclass such as Softmax, which defines the loss.")


class Softmax(LinearClassifier):
    """A linear classifier trained with the softmax (cross-entropy) loss."""

    def loss(self, X_batch, y_batch, reg):
        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)
