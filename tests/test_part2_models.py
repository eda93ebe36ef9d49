"""Part 2 models: shapes, learning on one batch, MyModel's whitening layer."""
import pytest
import torch
import torch.nn.functional as F

import train
from models import CNN, MODELS, MyModel, Softmax, TwoLayerNN
from _part2_support import one_torch_thread  # noqa: F401 (autouse fixture)


def make(name, im_size=(3, 32, 32), hidden_dim=16, kernel_size=3, n_classes=10):
    kwargs = train.constructor_kwargs(name, hidden_dim, kernel_size, im_size, n_classes)
    return MODELS[name](**{k: tuple(v) if k == "im_size" else v for k, v in kwargs.items()})


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("im_size,n_classes", [((3, 32, 32), 10), ((3, 16, 16), 7)])
def test_output_shape_train_and_eval(name, im_size, n_classes):
    torch.manual_seed(0)
    model = make(name, im_size=im_size, n_classes=n_classes)
    x = torch.randn(5, *im_size)
    assert model(x).shape == (5, n_classes)
    model.eval()
    with torch.no_grad():
        out = model(x)
    assert out.shape == (5, n_classes) and out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_constructors_take_the_assignment_arguments():
    Softmax((3, 32, 32), 10)
    TwoLayerNN((3, 32, 32), 20, 10)
    CNN((3, 32, 32), 8, 5, 10)
    MyModel((3, 32, 32), 8, 3, 10)


def test_convnet_rejects_even_kernels():
    with pytest.raises(ValueError, match="odd"):
        CNN((3, 32, 32), 8, 4, 10)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_model_fits_one_small_batch(name):
    """Returns logits that cross_entropy can push toward the labels: the loss on a fixed
    batch of 16 images falls well below its starting value within 25 steps."""
    torch.manual_seed(0)
    model = make(name, hidden_dim=16)
    x, y = torch.randn(16, 3, 32, 32), torch.arange(16) % 10
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    first = train.train_step(model, opt, x, y)
    for _ in range(25):
        last = train.train_step(model, opt, x, y)
    assert last < 0.5 * first


def test_train_step_returns_the_batch_loss_and_updates_weights():
    torch.manual_seed(0)
    model = make("softmax")
    x, y = torch.randn(8, 3, 32, 32), torch.arange(8)
    expected = F.cross_entropy(model(x), y).item()
    before = model.linear.weight.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    assert train.train_step(model, opt, x, y) == pytest.approx(expected, rel=1e-5)
    assert not torch.equal(before, model.linear.weight)


def test_mymodel_whitening_decorrelates_patches():
    torch.manual_seed(0)
    model = MyModel((3, 32, 32), 8, 3, 10)
    # Strongly correlated colour channels, as in natural images.
    base = torch.randn(64, 1, 32, 32)
    images = torch.cat([base, 0.9 * base + 0.1 * torch.randn_like(base),
                        0.8 * base + 0.2 * torch.randn_like(base)], dim=1)
    model.init_from_data(images, eps=0.0)
    with torch.no_grad():
        out = F.conv2d(images, model.whitening.weight)[:, :12]  # first half, no bias
    flat = out.permute(0, 2, 3, 1).reshape(-1, 12)
    cov = torch.cov(flat.T)
    assert torch.allclose(cov, torch.eye(12), atol=0.05)
    assert not model.whitening.weight.requires_grad


def test_mymodel_tolerates_missing_whitening_layer():
    model = MyModel((3, 32, 32), 8, 3, 10)
    del model.whitening  # a student's model without one: init_from_data does nothing
    model.init_from_data(torch.randn(2, 3, 32, 32))
