"""Benchmark: one SPDNet training step (BiMap → ReEig → LogEig → linear MLR, cross-entropy, Riemannian SGD) in
geomrep (JAX) vs the same network in PyTorch, on the same CPU, in one process.

Command (from the repository root)::

    python scripts/benchmarks/spdnet_vs_torch.py [--batch 256] [--n 30] [--out 15 30] [--classes 10]
        [--dtypes float64 float32] [--steps 20] [--repeats 5] [--torch-threads 1]

Protocol. For each BiMap output size in ``--out`` and each dtype, both frameworks start from the same numbers:
256 SPD n×n inputs X = exp(S) (S symmetric, entries N(0, 0.5²/n), seed 0), labels uniform in 10 classes, the
BiMap weight W ∈ St(n, out) (QR of a Gaussian matrix) and the linear layer (weights N(0, 1/d), bias 0) on the
isometric upper-triangle vector of LogEig's output (d = out(out+1)/2). One step is::

    H = ReEig(Wᵀ X W, 1e-4); Z = vec(LogEig(H)); loss = cross_entropy(Z Aᵀ + b, y)
    gradients (backprop through two eigendecompositions);
    W ← proj(Exp_W(−lr · (G − W sym(WᵀG))))  (Riemannian gradient on the Stiefel manifold, its geodesic and
                                             the polar projection, as geomrep.optim.apply_updates does);
    A, b ← A, b − lr · ∇

- geomrep: ``geomrep.nn`` layers (``BiMap``, ``ReEig``, ``LogEig(vectorize=True)``, ``nnx.Linear``), the step of
  ``geomrep.train.make_train_step`` with ``geomrep.optim.rsgd`` and ``apply_updates`` (the Stiefel retraction of
  ``geomrep.manifolds.Stiefel``), jitted with the state donated. ReEig/LogEig differentiate through
  ``geomrep.manifolds.spectral`` (custom JVP, Daleckii–Krein).
- PyTorch: the same network with ReEig/LogEig as ``torch.autograd.Function``s that run ``torch.linalg.eigh`` and
  backpropagate with the Loewner matrix (the SPDNet / torchspdnet / SPDMLR way: autograd through eigh is NaN at
  repeated eigenvalues), the Stiefel step written out with the same formula and retraction, plain SGD for the
  linear layer. ``torch.set_num_threads(--torch-threads)`` (default 1: on a shared 2-core machine more threads
  make small ops 100-1000x slower, see notes/stack.md). jaxlib's LAPACK kernels run on OpenBLAS, limited to one
  thread the same way (``OPENBLAS_NUM_THREADS=1`` unless already set; its worker threads stall ~25 ms per call on
  a loaded machine); XLA's own thread pool is not limited (it may use both cores for fused elementwise code).

Both frameworks run the same number of steps from the same start; the losses after 3 steps are printed side by
side (they agree to rounding, which checks that the two steps compute the same thing). Timing: 3 warm-up steps
each (JAX compiles in the first), then ``--repeats`` rounds of ``--steps`` steps of geomrep followed by
``--steps`` steps of torch (alternating, so load changes on a shared machine hit both), every step synchronised
(the loss is read back as a float); reported: each side's best round in milliseconds per step, and the ratio
torch / geomrep (> 1 means geomrep is faster). geomrep runs twice: layer by layer (ReEig then LogEig, two
eigendecompositions, exactly the torch peer's computation) and "fused" (``LogEig(floor=1e-4)``, which computes
LogEig(ReEig(·)) from one eigendecomposition with the same value and gradient, tested in
tests/nn/test_spd_modules.py): the second is what a geomrep user writes for an SPDNet head.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import sys
import time
from pathlib import Path

# jaxlib's CPU LAPACK kernels (eigh, LU solve inside expm, ...) run on OpenBLAS, whose worker threads stall ~25 ms
# per call on a loaded 2-core machine (measured: a 60x60 expm took 0.1 ms or 25 ms at random). Single-threaded
# LAPACK on both sides: this here, torch.set_num_threads(1) for MKL below. Must be set before numpy/jax load.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from flax import nnx  # noqa: E402

from geomrep.manifolds import Stiefel  # noqa: E402
from geomrep.nn import BiMap, LogEig, ReEig, manifold_labels_of  # noqa: E402
from geomrep.optim import apply_updates, rsgd  # noqa: E402
from geomrep.train import TrainState, jit_train_step, make_train_step  # noqa: E402

REEIG_EPS = 1e-4
LR = 0.05


def make_problem(batch, n, out, classes, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((batch, n, n)) * (0.5 / np.sqrt(n))
    s = 0.5 * (a + np.swapaxes(a, 1, 2))
    lam, U = np.linalg.eigh(s)
    X = (U * np.exp(lam)[:, None, :]) @ np.swapaxes(U, 1, 2)
    y = rng.integers(0, classes, batch)
    q, r = np.linalg.qr(rng.standard_normal((n, out)))
    W = q * np.sign(np.diag(r))
    d = out * (out + 1) // 2
    A = rng.standard_normal((classes, d)) / np.sqrt(d)
    return X, y, W, A, np.zeros(classes)


# ---------------------------------------------------------------------------------------------------------------
# geomrep


class GeomrepSPDNet(nnx.Module):
    """``fused=True`` folds ReEig into LogEig (``LogEig(floor=1e-4)``: one eigh instead of two, same value and
    gradient); ``fused=False`` is the layer-by-layer network, exactly as the torch peer computes it."""

    def __init__(self, W, A, b, dtype, fused=False):
        n, out = W.shape
        self.bimap = BiMap(n, out, param_dtype=dtype, rngs=nnx.Rngs(0))
        self.bimap.weight[...] = jnp.asarray(W, dtype)
        self.reeig = (lambda H: H) if fused else ReEig(REEIG_EPS)
        self.logeig = LogEig(vectorize=True, floor=REEIG_EPS if fused else None)
        self.linear = nnx.Linear(A.shape[1], A.shape[0], param_dtype=dtype, rngs=nnx.Rngs(0))
        self.linear.kernel[...] = jnp.asarray(A.T, dtype)
        self.linear.bias[...] = jnp.asarray(b, dtype)

    def __call__(self, X):
        return self.linear(self.logeig(self.reeig(self.bimap(X))))


def geomrep_runner(X, y, W, A, b, dtype, fused=False):
    model = GeomrepSPDNet(W, A, b, dtype, fused)
    graphdef, params = nnx.split(model, nnx.Param)
    labels = manifold_labels_of(params)
    assert isinstance(labels["bimap"]["weight"], Stiefel)
    tx = rsgd(LR, labels)

    def loss_fn(params, batch, key):
        X, y = batch
        logits = nnx.merge(graphdef, params)(X)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))

    step = jit_train_step(make_train_step(loss_fn, tx, functools.partial(apply_updates, manifolds=labels)))
    state = TrainState.create(params, tx, seed=0)
    batch = (jnp.asarray(X, dtype), jnp.asarray(y, jnp.int32))
    holder = {"state": state}

    def run_step():
        holder["state"], metrics = step(holder["state"], batch)
        return float(metrics["loss"])  # synchronises

    return run_step


# ---------------------------------------------------------------------------------------------------------------
# PyTorch peer


class _EigFunction(torch.autograd.Function):
    """U f(Λ) Uᵀ with the Daleckii–Krein (Loewner matrix) backward; f = max(·, eps) (ReEig) or log (LogEig)."""

    @staticmethod
    def forward(ctx, X, kind):
        lam, U = torch.linalg.eigh(X)
        f = lam.clamp_min(REEIG_EPS) if kind == "reeig" else lam.log()
        ctx.save_for_backward(lam, U, f)
        ctx.kind = kind
        return (U * f.unsqueeze(-2)) @ U.mT

    @staticmethod
    def backward(ctx, G):
        lam, U, f = ctx.saved_tensors
        if ctx.kind == "reeig":
            fprime = (lam > REEIG_EPS).to(lam.dtype)
        else:
            fprime = 1.0 / lam
        d = lam.unsqueeze(-1) - lam.unsqueeze(-2)
        df = f.unsqueeze(-1) - f.unsqueeze(-2)
        scale = torch.maximum(lam.abs().unsqueeze(-1), lam.abs().unsqueeze(-2))
        close = d.abs() <= torch.finfo(lam.dtype).eps ** (1 / 3) * scale
        L = torch.where(
            close, 0.5 * (fprime.unsqueeze(-1) + fprime.unsqueeze(-2)), df / torch.where(close, 1.0, d)
        )
        Gs = 0.5 * (G + G.mT)
        return U @ (L * (U.mT @ Gs @ U)) @ U.mT, None


def _sym_to_vec(S):
    n = S.shape[-1]
    rows, cols = torch.triu_indices(n, n)
    scale = torch.where(rows == cols, 1.0, 2.0**0.5).to(S.dtype)
    return S[..., rows, cols] * scale


def torch_stiefel_update(W, D):
    """geomrep's ``apply_updates`` on Stiefel, written in torch: proj(expmap_W(Δ)) with the embedded-metric
    geodesic [W, Δ] exp([[A, −S], [I, A]])[:, :p] exp(−A) (A = WᵀΔ skew, S = ΔᵀΔ) and the polar projection
    X (XᵀX)^{-1/2}."""
    p = W.shape[-1]
    A = W.mT @ D
    A = 0.5 * (A - A.mT)
    S = D.mT @ D
    eye = torch.eye(p, dtype=W.dtype)
    block = torch.cat([torch.cat([A, -S], dim=-1), torch.cat([eye, A], dim=-1)], dim=-2)
    Xn = torch.cat([W, D], dim=-1) @ torch.linalg.matrix_exp(block)[:, :p] @ torch.linalg.matrix_exp(-A)
    lam, U = torch.linalg.eigh(Xn.mT @ Xn)
    return Xn @ ((U * lam.rsqrt().unsqueeze(-2)) @ U.mT)


def torch_runner(X, y, W, A, b, dtype):
    tdtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
    Xt = torch.from_numpy(np.asarray(X)).to(tdtype)
    yt = torch.from_numpy(np.asarray(y)).long()
    Wt = torch.from_numpy(np.asarray(W)).to(tdtype).requires_grad_()
    At = torch.from_numpy(np.asarray(A)).to(tdtype).requires_grad_()
    bt = torch.from_numpy(np.asarray(b)).to(tdtype).requires_grad_()

    def run_step():
        H = _EigFunction.apply(Wt.mT @ Xt @ Wt, "reeig")
        Z = _sym_to_vec(_EigFunction.apply(H, "logeig"))
        loss = torch.nn.functional.cross_entropy(Z @ At.T + bt, yt)
        loss.backward()
        with torch.no_grad():
            G = Wt.grad
            WtG = Wt.mT @ G
            rgrad = G - Wt @ (0.5 * (WtG + WtG.mT))
            Wt.copy_(torch_stiefel_update(Wt, -LR * rgrad))
            At.sub_(LR * At.grad)
            bt.sub_(LR * bt.grad)
            for p in (Wt, At, bt):
                p.grad = None
        return float(loss.detach())

    return run_step


# ---------------------------------------------------------------------------------------------------------------


def _time_runners(runners, steps, repeats):
    """Best mean seconds per step of each runner; runs alternate (a, b, c, a, b, c, ...) so that load changes on
    a shared machine hit all alike."""
    for _ in range(3):
        for run_step in runners:
            run_step()
    best = [float("inf")] * len(runners)
    for _ in range(repeats):
        for i, run_step in enumerate(runners):
            t0 = time.perf_counter()
            for _ in range(steps):
                run_step()
            best[i] = min(best[i], (time.perf_counter() - t0) / steps)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--out", type=int, nargs="+", default=[15, 30])
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"], choices=["float64", "float32"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--torch-threads", type=int, default=1)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.torch_threads)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f} at start; python {platform.python_version()}, jax {jax.__version__}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} thread(s)); JAX devices {jax.devices()}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}"
    )
    print(
        f"SPDNet step: batch {args.batch} of {args.n}x{args.n} SPD, BiMap {args.n}->out, ReEig({REEIG_EPS}), "
        f"LogEig, linear to {args.classes} classes, cross-entropy, Riemannian SGD lr {LR}"
    )
    print(
        "geomrep: ReEig then LogEig, two eighs, as torch; geomrep fused: LogEig(floor=1e-4), one eigh, same "
        "value and gradient"
    )
    header = (
        f"{'out':>4} {'dtype':>8} {'geomrep ms':>11} {'fused ms':>9} {'torch ms':>9} {'torch/geomrep':>14} "
        f"{'torch/fused':>12}  losses after 3 steps (geomrep / fused / torch)"
    )
    print(header)
    for out in args.out:
        for dtype in args.dtypes:
            problem = make_problem(args.batch, args.n, out, args.classes)
            ours = geomrep_runner(*problem, jnp.dtype(dtype))
            fused = geomrep_runner(*problem, jnp.dtype(dtype), fused=True)
            peer = torch_runner(*problem, dtype)
            losses = [[run() for _ in range(3)][-1] for run in (ours, fused, peer)]
            t_ours, t_fused, t_peer = _time_runners((ours, fused, peer), args.steps, args.repeats)
            print(
                f"{out:>4} {dtype:>8} {1e3 * t_ours:>11.2f} {1e3 * t_fused:>9.2f} {1e3 * t_peer:>9.2f} "
                f"{t_peer / t_ours:>14.2f} {t_peer / t_fused:>12.2f}  "
                + " / ".join(f"{v:.6f}" for v in losses),
                flush=True,
            )
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
