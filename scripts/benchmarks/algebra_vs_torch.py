"""Benchmark: geomrep vs PyTorch, the Z_23 max-margin run of notes/algebraic.md D (claim 6), 20k full-batch GD steps.

Command (from the repository root; needs the ``bench`` extra for torch)::

    python scripts/benchmarks/algebra_vs_torch.py [--steps 20000] [--repeats 2] [--jax-threads 1|all]

Protocol. In one process, on the same data and the same float32 initial weights (entries N(0, 1/p) drawn once
with NumPy), both libraries run the same loop: the MEOZK quadratic net ``f(a, b) = (u[a] + v[b])² w`` with m = 128
neurons on all 23² pairs of Z_23, loss = mean cross-entropy + 1e-4 · Σ_i ‖ω_i‖³, plain gradient descent with
lr 0.05 doubled every 2000 steps, for ``--steps`` steps.

- geomrep: ``geomrep.algebra.training.max_margin_loss`` + ``optax.sgd(lr_doubling(...))`` run by
  ``training.make_chunk_runner``: the whole loop is one jitted ``lax.scan`` (one call of ``--steps`` steps).
  Reported twice: ``total`` includes tracing and XLA compilation (a fresh function each repeat), ``steady`` is a
  second call of the compiled loop.
- PyTorch: the same loop written the usual eager way (autograd, ``torch.nn.functional.cross_entropy``, in-place
  parameter updates under ``no_grad``), ``torch.set_num_threads(1)`` (stack.md §2: more threads make tiny ops on
  this shared 2-core machine 100-1000x slower).

Threads: ``--jax-threads 1`` (the default) sets ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1`` before JAX starts, so both libraries use one core; ``--jax-threads all`` leaves
XLA its default thread pool (both cores here) while torch keeps one.

Each side runs ``--repeats`` times; the fastest run counts (the machine is shared). Wall time is the headline;
CPU time (``time.process_time``, all threads of the process) is printed beside it because it is far less
sensitive to other processes on a shared machine. The output gives machine information, per-run seconds, the final loss and normalised margin / γ* of both (they must agree: same math, same
init, float32), and the ratios torch ÷ geomrep (> 1: geomrep is faster).
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
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--jax-threads", choices=("1", "all"), default="1")
    parser.add_argument("--p", type=int, default=23)
    parser.add_argument("--width", type=int, default=128)
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
import optax  # noqa: E402
import torch  # noqa: E402

from geomrep.algebra import margin, tasks, training  # noqa: E402

LR, DOUBLE_EVERY, REG = 0.05, 2000, 1e-4


def initial_weights(p: int, m: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    std = p**-0.5
    return {
        "u": (std * rng.standard_normal((p, m))).astype(np.float32),
        "v": (std * rng.standard_normal((p, m))).astype(np.float32),
        "w": (std * rng.standard_normal((m, p))).astype(np.float32),
    }


def run_geomrep(task, init, steps):
    loss_fn = training.max_margin_loss(task, reg=REG)
    tx = optax.sgd(training.lr_doubling(LR, double_every=DOUBLE_EVERY))
    start, cpu = time.perf_counter(), time.process_time()
    run = training.make_chunk_runner(loss_fn, tx, steps)  # a fresh jit: the first call compiles
    state = training.init_state({k: jnp.asarray(v) for k, v in init.items()}, tx)
    state, metrics = run(state)
    jax.block_until_ready(state.params)
    total = (time.perf_counter() - start, time.process_time() - cpu)
    state = training.init_state({k: jnp.asarray(v) for k, v in init.items()}, tx)
    start, cpu = time.perf_counter(), time.process_time()
    state, metrics = run(state)
    jax.block_until_ready(state.params)
    steady = (time.perf_counter() - start, time.process_time() - cpu)
    return total, steady, {k: np.asarray(v) for k, v in state.params.items()}


def run_torch(task, init, steps):
    p = task.num_symbols
    u, v, w = (torch.tensor(init[k], requires_grad=True) for k in "uvw")
    labels = torch.tensor(task.labels)
    m = u.shape[1]
    start, cpu = time.perf_counter(), time.process_time()
    for step in range(steps):
        lr = LR * 2.0 ** (step // DOUBLE_EVERY)
        h = u[:, None, :] + v[None, :, :]
        logits = (h * h).reshape(p * p, m) @ w
        ce = torch.nn.functional.cross_entropy(logits, labels)
        sq = (u * u).sum(0) + (v * v).sum(0) + (w * w).sum(1)
        loss = ce + REG * (sq**1.5).sum()
        gu, gv, gw = torch.autograd.grad(loss, (u, v, w))
        with torch.no_grad():
            u -= lr * gu
            v -= lr * gv
            w -= lr * gw
    seconds = (time.perf_counter() - start, time.process_time() - cpu)
    return seconds, {k: t.detach().numpy() for k, t in zip("uvw", (u, v, w), strict=True)}


def summary(task, params) -> tuple[float, float]:
    p64 = {k: jnp.asarray(v, jnp.float32) for k, v in params.items()}
    loss = training.max_margin_loss(task, reg=REG)(p64, None, None)[0]
    return float(loss), float(margin.normalized_margin(p64, task)) / margin.gamma_star(task)


def main() -> int:
    torch.set_num_threads(1)
    task = tasks.modular_addition(ARGS.p)
    init = initial_weights(ARGS.p, ARGS.width)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}; jax {jax.__version__} ({jax.default_backend()}, XLA threads: "
        f"{'1' if ARGS.jax_threads == '1' else 'default pool'}), torch {torch.__version__} "
        f"(threads {torch.get_num_threads()})"
    )
    print(
        f"task Z_{ARGS.p}, quadratic net m={ARGS.width}, float32, {ARGS.steps} full-batch GD steps, "
        f"lr {LR} x2 every {DOUBLE_EVERY}, reg {REG}·Σ‖ω‖³; best of {ARGS.repeats}"
    )
    g_total, g_steady, t_time = [], [], []
    for r in range(ARGS.repeats):
        total, steady, g_params = run_geomrep(task, init, ARGS.steps)
        g_total.append(total)
        g_steady.append(steady)
        seconds, t_params = run_torch(task, init, ARGS.steps)
        t_time.append(seconds)
        print(
            f"  repeat {r}: geomrep {total[0]:.2f} s wall / {total[1]:.2f} s CPU (incl. compile), {steady[0]:.2f} s / "
            f"{steady[1]:.2f} s (compiled); torch {seconds[0]:.2f} s / {seconds[1]:.2f} s"
        )
    g_loss, g_ratio = summary(task, g_params)
    t_loss, t_ratio = summary(task, t_params)
    print(f"final loss: geomrep {g_loss:.6f}, torch {t_loss:.6f}")
    print(f"final normalised margin / gamma*: geomrep {g_ratio:.4f}, torch {t_ratio:.4f}")
    for k, clock in enumerate(("wall", "CPU")):
        best_total, best_steady = min(t[k] for t in g_total), min(t[k] for t in g_steady)
        best_torch = min(t[k] for t in t_time)
        print(
            f"{clock} time per step: geomrep {1e6 * best_steady / ARGS.steps:.1f} us (compiled), "
            f"torch {1e6 * best_torch / ARGS.steps:.1f} us; ratio torch / geomrep: "
            f"{best_torch / best_total:.2f}x incl. compile, {best_torch / best_steady:.2f}x compiled loop"
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
