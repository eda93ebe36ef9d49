"""A two-layer fully connected neural network, written out by hand."""
import numpy as np
from tqdm.auto import tqdm


class TwoLayerNet:
    """A two-layer fully connected network: affine - ReLU - affine - softmax.

    The network takes inputs of dimension D, has a hidden layer of H units and scores C
    classes. Examples are rows here: X has shape (N, D).

    Parameters, in the dictionary self.params:
    - 'W1': first layer weights, shape (D, H)
    - 'b1': first layer biases, shape (H,)
    - 'W2': second layer weights, shape (H, C)
    - 'b2': second layer biases, shape (C,)

    Loss: mean softmax cross-entropy over the minibatch plus
    reg * (sum(W1**2) + sum(W2**2)) (the biases are not regularized).
    """

    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        """Weights start as small random values (std * standard normal), biases as zeros.

        Inputs:
        - input_size: the dimension D of the input data.
        - hidden_size: the number H of hidden units.
        - output_size: the number C of classes.
        - std: standard deviation of the initial weights.
        """
        self.params = {
            "W1": std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }

    def loss(self, X, y=None, reg=0.0):
        """Class scores, or the loss and gradients, for a minibatch.

        Inputs:
        - X: input data, shape (N, D); each row is one example.
        - y: labels, shape (N,); 0 <= y[i] < C is the class of X[i]. Optional.
        - reg: regularization strength (float).

        Returns:
        - If y is None: scores, shape (N, C), where scores[i, c] is the score of class c for X[i].
        - Otherwise a tuple (loss, grads): the loss (a float) on this minibatch, and a dictionary
          grads with the same keys as self.params, grads[k] being the gradient of the loss with
          respect to self.params[k] (same shape).
        """
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        if X.ndim != 2 or X.shape[1] != W1.shape[0]:
            raise ValueError(
                f"X must have shape (N, {W1.shape[0]}), one example per row, but it has shape {X.shape}."
            )
        N = X.shape[0]

        scores = None
        # Forward pass: compute the class scores, shape (N, C).
        # YOUR CODE HERE
        raise NotImplementedError()
        if y is None:
            return scores

        loss, grads = None, {}
        # Loss (softmax cross-entropy + regularization) and the backward pass: fill grads.
        # YOUR CODE HERE
        raise NotImplementedError()
        return loss, grads

    def train(self, X, y, X_val, y_val, learning_rate=1e-3, learning_rate_decay=0.95, reg=5e-6,
              num_iters=100, batch_size=200, verbose=False):
        """Train this network with minibatch stochastic gradient descent (SGD).

        Inputs:
        - X: training data, shape (N, D).
        - y: training labels, shape (N,); 0 <= y[i] < C.
        - X_val: validation data, shape (N_val, D).
        - y_val: validation labels, shape (N_val,).
        - learning_rate: step size of the updates.
        - learning_rate_decay: after every epoch the learning rate is multiplied by this.
        - reg: regularization strength.
        - num_iters: number of update steps.
        - batch_size: number of training examples per step.
        - verbose: if True, print progress.

        Returns a dictionary with:
        - 'loss_history': the minibatch loss of every iteration.
        - 'train_acc_history': accuracy on the current minibatch, once per epoch.
        - 'val_acc_history': accuracy on the validation set, once per epoch.
        An epoch is max(N / batch_size, 1) iterations.
        """
        num_train = X.shape[0]
        iterations_per_epoch = max(num_train // batch_size, 1)

        loss_history, train_acc_history, val_acc_history = [], [], []
        for it in tqdm(range(num_iters), disable=not verbose, desc="SGD"):
            batch = np.random.choice(num_train, batch_size, replace=True)
            X_batch, y_batch = X[batch], y[batch]

            loss, grads = self.loss(X_batch, y_batch, reg=reg)
            loss_history.append(float(loss))

            # Update every parameter in self.params with one SGD step, using grads.
            # YOUR CODE HERE
            raise NotImplementedError()

            if verbose and it % 100 == 0:
                tqdm.write(f"iteration {it} / {num_iters}: loss {loss:f}")

            if (it + 1) % iterations_per_epoch == 0:
                train_acc_history.append(float((self.predict(X_batch) == y_batch).mean()))
                val_acc_history.append(float((self.predict(X_val) == y_val).mean()))
                learning_rate *= learning_rate_decay

        return {
            "loss_history": loss_history,
            "train_acc_history": train_acc_history,
            "val_acc_history": val_acc_history,
        }

    def predict(self, X):
        """Predict labels with the trained weights.

        Inputs:
        - X: data, shape (N, D).

        Returns:
        - y_pred: int array of shape (N,), the class with the highest score for each row of X.
        """
        y_pred = None
        # YOUR CODE HERE
        raise NotImplementedError()
        return y_pred
