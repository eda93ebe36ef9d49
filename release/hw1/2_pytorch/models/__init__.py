"""The four Part 2 classifiers. Each takes images as float tensors of shape
(N, C, H, W) (already normalised by `train.to_model_input`) and returns raw
class scores (logits) of shape (N, n_classes); `F.cross_entropy` applies the
softmax itself, so no model ends with one."""
from .softmax import Softmax
from .twolayernn import TwoLayerNN
from .convnet import CNN
from .mymodel import MyModel

MODELS = {"softmax": Softmax, "twolayernn": TwoLayerNN, "convnet": CNN, "mymodel": MyModel}

__all__ = ["Softmax", "TwoLayerNN", "CNN", "MyModel", "MODELS"]
