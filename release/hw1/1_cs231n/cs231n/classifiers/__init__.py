"""Classifiers: softmax, linear_classifier, neural_net (two-layer net) and cnn (ThreeLayerConvNet)."""
