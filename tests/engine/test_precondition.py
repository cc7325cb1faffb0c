"""The pyramid preconditioner (precondition.py) and L-BFGS with it (lbfgs.py)."""
import pytest
import torch

from generator.engine.lbfgs import LBFGS
from generator.engine.precondition import enlarge, enlarge_adjoint, preconditioner, pyramid, pyramid_sizes
from generator.engine.runtime import check_schedule

SHAPE = (2, 3, 12, 17)


def test_pyramid_sizes_halve_and_stop_at_one_pixel():
    assert pyramid_sizes(252, 512, 4) == [(126, 256), (63, 128), (32, 64)]
    assert pyramid_sizes(3, 2, 4) == [(2, 1), (1, 1), (1, 1)]


def test_enlarge_adjoint_is_the_transpose():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(2, 3, 5, 7, generator=gen, dtype=torch.float64)
    b = torch.randn(2, 3, 12, 17, generator=gen, dtype=torch.float64)
    assert torch.allclose((enlarge(a, (12, 17)) * b).sum(), (a * enlarge_adjoint(b, (5, 7))).sum())


def test_pyramid_is_symmetric_positive_and_favours_broad_changes():
    gen = torch.Generator().manual_seed(1)
    M = pyramid(SHAPE)
    u, v = (torch.randn(2, 3 * 12 * 17, generator=gen, dtype=torch.float64) for _ in range(2))
    assert torch.allclose((M(u) * v).sum(), (u * M(v)).sum())
    assert (M(u) * u).sum() > (u * u).sum()
    flat = torch.ones(SHAPE, dtype=torch.float64).reshape(2, -1)
    checker = ((torch.arange(12)[:, None] + torch.arange(17)[None, :]) % 2 * 2 - 1).double().expand(SHAPE).reshape(2, -1)
    gain = lambda v: ((M(v) * v).sum() / (v * v).sum()).item()
    assert gain(flat) > 1.5 and gain(checker) < 1.01


def test_preconditioner_refuses_an_unknown_kind():
    assert preconditioner("none", SHAPE) is None
    with pytest.raises(ValueError, match="precondition"):
        preconditioner("multigrid", SHAPE)
    with pytest.raises(ValueError, match="precondition"):
        check_schedule("float32", "lbfgs", "multigrid")


def quartic(x, target):
    """A small style-like loss: a Gram matrix's squared gap plus a content term, kept under 1 so
    both optimisers' first step is lr * g (t = min(1, 1/|g|_1) = 1)."""
    f = x.reshape(3, -1)
    return 1e-5 * ((f @ f.T - target) ** 2).sum() + 1e-4 * (x ** 2).sum()


def test_preconditioned_lbfgs_is_lbfgs_in_the_pyramid_parametrisation():
    """x = P z with P = [I, w U_1, w^2 U_2, ...]: plain L-BFGS on z and L-BFGS on x with M = P P^T
    visit the same canvases."""
    shape = (1, 3, 12, 17)
    gen = torch.Generator().manual_seed(2)
    x0 = torch.randn(shape, generator=gen, dtype=torch.float64) * 0.3
    target = torch.randn(3, 3, generator=gen, dtype=torch.float64)
    target = target @ target.T
    sizes = pyramid_sizes(12, 17)
    w = 0.7

    def synth(z):
        parts = torch.split(z[0], [3 * 12 * 17] + [3 * h * ww for h, ww in sizes])
        x = x0 + parts[0].view(shape)
        for k, (size, part) in enumerate(zip(sizes, parts[1:]), start=1):
            x = x + w ** k * enlarge(part.view(1, 3, *size), (12, 17))
        return x

    z = torch.zeros(1, sum(3 * h * ww for h, ww in [(12, 17)] + sizes), dtype=torch.float64)
    x = x0.clone()
    by_z, by_x = LBFGS(z, history=5), LBFGS(x, history=5, precondition=pyramid(shape, ratio=w))
    for _ in range(12):
        zz = z.clone().requires_grad_(True)
        gz, = torch.autograd.grad(quartic(synth(zz), target), zz)
        xx = x.clone().requires_grad_(True)
        gx, = torch.autograd.grad(quartic(xx, target), xx)
        assert gz.abs().sum() < 1 and gx.abs().sum() < 1
        by_z.step(gz)
        by_x.step(gx)
        assert torch.allclose(synth(z), x, rtol=1e-9, atol=1e-12)
    assert not torch.allclose(x, x0, atol=1e-3)   # it moved


def test_without_preconditioner_nothing_changes():
    """precondition=None is the identity: the same iterates as before it existed (M = I)."""
    gen = torch.Generator().manual_seed(3)
    x0 = torch.randn(1, 3, 8, 8, generator=gen, dtype=torch.float64) * 0.3
    target = torch.eye(3, dtype=torch.float64)
    a, b = x0.clone(), x0.clone()
    plain, identity = LBFGS(a, history=4), LBFGS(b, history=4, precondition=lambda v: v)
    for _ in range(6):
        for x, opt in ((a, plain), (b, identity)):
            xx = x.clone().requires_grad_(True)
            g, = torch.autograd.grad(quartic(xx, target), xx)
            opt.step(g)
    assert torch.equal(a, b)
