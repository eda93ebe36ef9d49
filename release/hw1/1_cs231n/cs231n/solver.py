"""Solver: trains a classification model with minibatch gradient descent (provided)."""
import pickle

import numpy as np
from tqdm.auto import tqdm

from cs231n import optim


class Solver:
    """Trains a model with an update rule from cs231n.optim and keeps the best parameters.

    The model must have:
    - model.params: a dict mapping parameter names to numpy arrays.
    - model.loss(X, y=None): with y=None, the scores (N, C) of the minibatch X; with labels y
      (N,), a tuple (loss, grads) where grads has the same keys and shapes as model.params.

    Example:

        data = {'X_train': ..., 'y_train': ..., 'X_val': ..., 'y_val': ...}
        model = ThreeLayerConvNet(reg=1e-3)
        solver = Solver(model, data, update_rule='adam', optim_config={'learning_rate': 1e-3},
                        num_epochs=1, batch_size=50, print_every=20)
        solver.train()

    After train(), model.params holds the parameters that reached the best validation accuracy
    (checked once per epoch), and the solver has:
    - loss_history: the loss of every iteration's minibatch.
    - train_acc_history, val_acc_history: accuracies at the end of every epoch (and at the start).
    - best_val_acc and best_params.
    """

    def __init__(self, model, data, update_rule="sgd", optim_config=None, lr_decay=1.0,
                 batch_size=100, num_epochs=10, num_train_samples=1000, num_val_samples=None,
                 checkpoint_name=None, print_every=10, verbose=True, progress=False):
        """Inputs:
        - model: the model to train (see the class docstring).
        - data: dict with 'X_train' (N_train, ...), 'y_train' (N_train,), 'X_val', 'y_val'.
        - update_rule: name of a function in cs231n.optim ('sgd', 'sgd_momentum', 'rmsprop', 'adam').
        - optim_config: dict of hyperparameters for the update rule; every parameter of the
          model gets its own copy (learning_rate is the one you always want to set).
        - lr_decay: after every epoch the learning rate is multiplied by this.
        - batch_size: number of examples per minibatch.
        - num_epochs: number of passes over the training data.
        - num_train_samples: number of training examples the training accuracy is measured on
          (None: all of them).
        - num_val_samples: the same for validation accuracy (None: all of them).
        - checkpoint_name: if given, the model and histories are saved to
          '<checkpoint_name>_epoch_<k>.pkl' after every epoch.
        - print_every: print the loss every print_every iterations (if verbose).
        - verbose: print progress; set False to train silently.
        - progress: show a progress bar over the iterations.
        """
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        if len(self.X_train) != len(self.y_train) or len(self.X_val) != len(self.y_val):
            raise ValueError(
                f"data: X_train/y_train have {len(self.X_train)}/{len(self.y_train)} examples and "
                f"X_val/y_val {len(self.X_val)}/{len(self.y_val)}; each pair must have the same number."
            )
        if not hasattr(optim, update_rule) or update_rule.startswith("_"):
            raise ValueError(
                f"Unknown update_rule '{update_rule}'; choose one of 'sgd', 'sgd_momentum', 'rmsprop', 'adam'."
            )
        self.update_rule = getattr(optim, update_rule)
        self.optim_config = dict(optim_config or {})
        self.lr_decay = lr_decay
        self.batch_size = batch_size
        self.num_epochs = num_epochs
        self.num_train_samples = num_train_samples
        self.num_val_samples = num_val_samples
        self.checkpoint_name = checkpoint_name
        self.print_every = print_every
        self.verbose = verbose
        self.progress = progress
        self._reset()

    def _reset(self):
        self.epoch = 0
        self.best_val_acc = 0
        self.best_params = {}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}

    def _step(self):
        """One gradient update on a random minibatch."""
        num_train = self.X_train.shape[0]
        batch = np.random.choice(num_train, self.batch_size)
        loss, grads = self.model.loss(self.X_train[batch], self.y_train[batch])
        self.loss_history.append(float(loss))
        for name, value in self.model.params.items():
            next_value, self.optim_configs[name] = self.update_rule(value, grads[name], self.optim_configs[name])
            self.model.params[name] = next_value

    def _save_checkpoint(self):
        if self.checkpoint_name is None:
            return
        checkpoint = {
            "model": self.model, "update_rule": self.update_rule.__name__, "lr_decay": self.lr_decay,
            "optim_config": self.optim_config, "batch_size": self.batch_size,
            "num_train_samples": self.num_train_samples, "num_val_samples": self.num_val_samples,
            "epoch": self.epoch, "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history, "val_acc_history": self.val_acc_history,
        }
        filename = f"{self.checkpoint_name}_epoch_{self.epoch}.pkl"
        if self.verbose:
            print(f'Saving checkpoint to "{filename}"')
        with open(filename, "wb") as f:
            pickle.dump(checkpoint, f)

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Accuracy of the model on (X, y), optionally on a random subsample of num_samples.

        Returns the fraction of correctly classified examples (a float between 0 and 1).
        """
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            subset = np.random.choice(N, num_samples)
            X, y, N = X[subset], y[subset], num_samples
        y_pred = [np.argmax(self.model.loss(X[start:start + batch_size]), axis=1)
                  for start in range(0, N, batch_size)]
        return float(np.mean(np.concatenate(y_pred) == y)) if N else 0.0

    def _record_accuracy(self):
        train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        self._save_checkpoint()
        if self.verbose:
            tqdm.write(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; val_acc: {val_acc:f}")
        if val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_params = {k: v.copy() for k, v in self.model.params.items()}

    def train(self):
        """Run the optimization; afterwards model.params holds the best parameters found."""
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch

        for t in tqdm(range(num_iterations), disable=not self.progress, desc="training"):
            if t == 0:
                self._record_accuracy()
            self._step()
            if self.verbose and t % self.print_every == 0:
                tqdm.write(f"(Iteration {t + 1} / {num_iterations}) loss: {self.loss_history[-1]:f}")
            if (t + 1) % iterations_per_epoch == 0:
                self.epoch += 1
                for config in self.optim_configs.values():
                    config["learning_rate"] = config.get("learning_rate", 1e-2) * self.lr_decay
                self._record_accuracy()

        if self.best_params:
            self.model.params = self.best_params
