"""Benchmark: geomrep's spectral helper (custom Daleckii–Krein JVP) vs a bare ``jnp.linalg.eigh``, forward+backward.

Command (from the repository root)::

    python scripts/benchmarks/spectral_vs_eigh.py [--batch 256] [--sizes 8 30] [--repeats 20] [--jax-threads 1|all]

Protocol. In one process, on the same batch of random SPD matrices X (B × n × n, eigenvalues spread over
[0.1, 10]) and the same cotangent G, each variant is one jitted ``jax.value_and_grad`` call (forward + backward),
timed after a warm-up call; the fastest of ``--repeats`` calls counts, and the variants are timed round robin so
that load from other processes on the shared machine hits them alike.

- ``geomrep``: loss Σ G ∘ f(X) with f = ``geomrep.manifolds.spectral.sym_logm`` (also ``sym_sqrtm``,
  ``sym_expm``): one ``eigh`` plus the Loewner-matrix backward.
- ``eigh+autodiff``: the same loss written with a bare ``jnp.linalg.eigh`` (U diag(f(λ)) Uᵀ) and JAX's own eigh
  derivative — the same math, NaN at repeated eigenvalues (random X has none, so it runs).
- ``eigh only``: loss Σ c·λ + Σ C ∘ U straight out of ``jnp.linalg.eigh`` (no matrix function at all): the floor
  any eigh-based matrix function pays.

The ratio printed is geomrep ÷ variant (target from issue 7: geomrep ≤ 1.5 × a bare eigh forward+backward).
``--jax-threads 1`` (default) pins XLA to one thread (``--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1``) so numbers are less noisy on the shared 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 30])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--jax-threads", choices=("1", "all"), default="1")
    return parser.parse_args()


ARGS = _parse()
if ARGS.jax_threads == "1":
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    ).strip()
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

from geomrep.manifolds import spectral  # noqa: E402

FUNCTIONS = {
    "logm": (spectral.sym_logm, jnp.log),
    "sqrtm": (spectral.sym_sqrtm, jnp.sqrt),
    "expm": (spectral.sym_expm, jnp.exp),
}


def _data(batch, n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(batch, n, n)))
    lam = np.exp(rng.uniform(np.log(0.1), np.log(10.0), size=(batch, n)))
    x = (q * lam[:, None, :]) @ np.swapaxes(q, -1, -2)
    x = 0.5 * (x + np.swapaxes(x, -1, -2))
    g = rng.normal(size=(batch, n, n))
    c = rng.normal(size=(batch, n))
    return (jnp.asarray(a, dtype) for a in (x, g, c))


def _best(fns, x, repeats):
    """Fastest of ``repeats`` calls of each function, interleaved (round robin) so that load from other processes
    on the shared machine hits every variant alike."""
    for fn in fns:
        jax.block_until_ready(fn(x))  # compile + warm up
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            jax.block_until_ready(fn(x))
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def main():
    print(
        f"# spectral_vs_eigh: jax {jax.__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, jax threads: {ARGS.jax_threads}, batch {ARGS.batch}, best of {ARGS.repeats}"
    )
    print(
        f"{'f':6s} {'dtype':8s} {'n':>4s} {'geomrep ms':>11s} {'eigh+autodiff ms':>17s} {'eigh only ms':>13s} "
        f"{'ratio vs eigh+ad':>17s} {'ratio vs eigh only':>19s}"
    )
    worst = 0.0
    for dtype_name in ARGS.dtypes:
        dtype = jnp.dtype(dtype_name)
        for n in ARGS.sizes:
            x, g, c = _data(ARGS.batch, n, dtype)

            def eigh_only(a, g=g, c=c):
                w, v = jnp.linalg.eigh(a)
                return jnp.sum(c * w) + jnp.sum(g * v)

            eigh_fn = jax.jit(jax.value_and_grad(eigh_only))
            for name, (ours, scalar) in FUNCTIONS.items():

                def geomrep_loss(a, ours=ours, g=g):
                    return jnp.sum(g * ours(a))

                def bare_loss(a, scalar=scalar, g=g):
                    w, v = jnp.linalg.eigh(a)
                    return jnp.sum(g * ((v * scalar(w)[..., None, :]) @ jnp.swapaxes(v, -1, -2)))

                fns = [jax.jit(jax.value_and_grad(f)) for f in (geomrep_loss, bare_loss)] + [eigh_fn]
                t_ours, t_bare, t_eigh = _best(fns, x, ARGS.repeats)
                worst = max(worst, t_ours / t_eigh)
                print(
                    f"{name:6s} {dtype_name:8s} {n:4d} {1e3 * t_ours:11.2f} {1e3 * t_bare:17.2f} "
                    f"{1e3 * t_eigh:13.2f} {t_ours / t_bare:17.2f} {t_ours / t_eigh:19.2f}",
                    flush=True,
                )
    print(f"# worst geomrep ÷ bare eigh (fwd+bwd) ratio: {worst:.2f} (target ≤ 1.5)")


if __name__ == "__main__":
    main()
