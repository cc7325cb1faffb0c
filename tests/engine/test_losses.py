"""The losses of Gatys et al. against hand-computed values, and their gradients."""
import pytest
import torch

from generator.engine.losses import canvas_gram, content_loss, gram_matrix, style_layer_loss, style_loss, total_variation


def test_gram_of_known_matrix():
    # Two channels over a 2x2 map: F = [[1, 2, 3, 4], [0, 1, 0, -1]].
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, -1.0]]]])
    g = gram_matrix(f)
    # G_ij = sum_k F_ik F_jk: 1+4+9+16 = 30; 0+2+0-4 = -2; 0+1+0+1 = 2.
    assert g.shape == (1, 2, 2)
    assert torch.equal(g, torch.tensor([[[30.0, -2.0], [-2.0, 2.0]]]))


def test_gram_is_per_image_in_a_batch():
    f = torch.arange(24, dtype=torch.float64).reshape(2, 3, 2, 2)
    g = gram_matrix(f)
    for i in range(2):
        flat = f[i].reshape(3, 4)
        assert torch.equal(g[i], flat @ flat.T)


def test_canvas_gram_rescales_to_the_canvas_positions():
    """A painting of 4 positions against a canvas of 6: G * 6/4, or G * 6/3 when 3 positions are said to count."""
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, -1.0]]]])
    assert torch.equal(canvas_gram(f, 6), gram_matrix(f) * 1.5)
    assert torch.equal(canvas_gram(f, 6, positions=3), gram_matrix(f) * 2.0)


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_gram_gradient_is_autograds_in_the_features_own_layout(layout):
    # The hand-written backward, dF = (dG + dG^T) F, against autograd through the plain product,
    # for a weighting that is not symmetric (so dG is not), in both memory layouts.
    gen = torch.Generator().manual_seed(0)
    f = torch.randn(2, 5, 3, 4, generator=gen, dtype=torch.float64).contiguous(memory_format=layout)
    weights = torch.randn(2, 5, 5, generator=gen, dtype=torch.float64)
    mine = f.clone().requires_grad_(True)
    plain = f.clone().requires_grad_(True)
    mine_grad, = torch.autograd.grad((gram_matrix(mine) * weights).sum(), mine)  # raw, not re-laid out
    flat = plain.reshape(2, 5, 12)
    plain_grad, = torch.autograd.grad(((flat @ flat.transpose(1, 2)) * weights).sum(), plain)
    assert torch.allclose(mine_grad, plain_grad, rtol=1e-12, atol=1e-12)
    assert mine_grad.is_contiguous(memory_format=layout)


def test_content_loss_value():
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    p = torch.tensor([[[[0.0, 2.0], [5.0, 1.0]]]])
    # 1/2 * (1 + 0 + 4 + 9) = 7
    assert content_loss(x, p).item() == pytest.approx(7.0)
    assert content_loss(x, x).item() == 0.0


def test_style_layer_loss_normalisation():
    # N = 2 channels, M = 2x2 = 4 positions; target A = 0, so E = sum G^2 / (4 * 4 * 16).
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, -1.0]]]])
    target = torch.zeros(1, 2, 2)
    expected = (30.0**2 + 2 * 2.0**2 + 2.0**2) / (4 * 2**2 * 4**2)
    assert style_layer_loss(f, target).item() == pytest.approx(expected)
    assert style_layer_loss(f, gram_matrix(f)).item() == 0.0


def test_style_layer_loss_scales_with_map_size():
    # Tiling a map 2x2 times multiplies G by 4 and M by 4: with the target also scaled, E stays put.
    f = torch.tensor([[[[1.0, -1.0], [2.0, 0.5]]]])
    a = torch.tensor([[[3.0]]])
    tiled = f.repeat(1, 1, 2, 2)
    assert style_layer_loss(tiled, 4 * a).item() == pytest.approx(style_layer_loss(f, a).item())


def test_style_loss_weighted_sum():
    feats = {"a": torch.ones(1, 1, 2, 2), "b": torch.full((1, 2, 1, 1), 2.0)}
    targets = {"a": torch.zeros(1, 1, 1), "b": torch.zeros(1, 2, 2)}
    ea = style_layer_loss(feats["a"], targets["a"])
    eb = style_layer_loss(feats["b"], targets["b"])
    assert style_loss(feats, targets, {"a": 0.25, "b": 0.75}).item() == pytest.approx((0.25 * ea + 0.75 * eb).item())
    # Layers without a weight are ignored.
    assert style_loss(feats, targets, {"b": 1.0}).item() == pytest.approx(eb.item())


def test_total_variation_value():
    img = torch.tensor([[[[0.0, 1.0], [3.0, 1.0]]]])
    # vertical: (3-0)^2 + (1-1)^2 = 9; horizontal: (1-0)^2 + (1-3)^2 = 5
    assert total_variation(img).item() == pytest.approx(14.0)
    assert total_variation(torch.full((1, 3, 4, 5), 7.0)).item() == 0.0


@pytest.mark.parametrize("which", ["content", "style", "tv"])
def test_gradients(which):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 3, 4, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    other = torch.randn(1, 3, 4, 5, dtype=torch.float64, generator=gen)
    fn = {"content": lambda t: content_loss(t, other),
          "style": lambda t: style_layer_loss(t, gram_matrix(other)),
          "tv": total_variation}[which]
    assert torch.autograd.gradcheck(fn, (x,), eps=1e-6, atol=1e-6)


def test_content_gradient_is_difference():
    x = torch.tensor([[[[1.0, 2.0]]]], requires_grad=True)
    p = torch.tensor([[[[4.0, 0.0]]]])
    content_loss(x, p).backward()
    assert torch.equal(x.grad, x.detach() - p)
