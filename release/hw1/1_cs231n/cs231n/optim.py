"""First-order update rules for training neural networks.

Every rule has the interface

    next_w, config = update(w, dw, config=None)

Inputs:
- w: the current weights (a numpy array of any shape).
- dw: the gradient of the loss with respect to w, same shape as w.
- config: a dictionary of hyperparameters (learning rate, ...) and of the rule's running
  state (velocity, moving averages, ...). Pass None the first time: the defaults are filled in.

Returns:
- next_w: the weights after one update.
- config: the same dictionary, with the running state updated, to pass to the next call.

The Solver keeps one config per parameter, so state is never shared between parameters.
"""
import numpy as np


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: w -= learning_rate * dw.

    config:
    - learning_rate: scalar learning rate (default 1e-2).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with momentum.

        v = momentum * v - learning_rate * dw
        next_w = w + v

    config:
    - learning_rate: scalar learning rate (default 1e-2).
    - momentum: scalar between 0 and 1 (default 0.9); momentum = 0 gives plain SGD.
    - velocity: v, an array of the same shape as w (starts at zeros); store the new one here.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))

    next_w = None
    # YOUR CODE HERE
    raise NotImplementedError()
    config["velocity"] = v
    return next_w, config


def rmsprop(w, dw, config=None):
    """RMSProp: divide each step by a moving average of the squared gradients.

        cache = decay_rate * cache + (1 - decay_rate) * dw**2
        next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)

    config:
    - learning_rate: scalar learning rate (default 1e-2).
    - decay_rate: scalar between 0 and 1, the decay of the moving average (default 0.99).
    - epsilon: small scalar that avoids dividing by zero (default 1e-8).
    - cache: the moving average of dw**2, same shape as w (starts at zeros); store the new one here.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))

    next_w = None
    # YOUR CODE HERE
    raise NotImplementedError()
    return next_w, config


def adam(w, dw, config=None):
    """Adam: moving averages of the gradient and of its square, with bias correction.

        t = t + 1
        m = beta1 * m + (1 - beta1) * dw
        v = beta2 * v + (1 - beta2) * dw**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        next_w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    Increase t before using it, so the first update uses t = 1.

    config:
    - learning_rate: scalar learning rate (default 1e-3).
    - beta1: decay of the moving average of the gradient (default 0.9).
    - beta2: decay of the moving average of the squared gradient (default 0.999).
    - epsilon: small scalar that avoids dividing by zero (default 1e-8).
    - m, v: the moving averages, same shape as w (start at zeros); store the new ones here.
    - t: the number of updates made so far (starts at 0); store the new one here.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)

    next_w = None
    # YOUR CODE HERE
    raise NotImplementedError()
    return next_w, config
