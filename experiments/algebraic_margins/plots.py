"""PNG plots of a max-margin run (matplotlib is imported lazily: it costs ~0.5 s)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from geomrep.train import read_metrics


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    tmp.replace(path)


def plot_margin(workdir: Path, task_name: str, final: dict) -> None:
    """Normalised margin / reference over training (MEOZK Fig. 1c, 5, 6a)."""
    plt = _pyplot()
    rows = [r for r in read_metrics(workdir) if "margin_ratio" in r and "loss" in r]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([r["step"] for r in rows], [r["margin_ratio"] for r in rows], label="trained net")
    names = {"gamma_star": "γ* (MEOZK theorem)", "lp_margin": "single-irrep LP certificate"}
    ax.axhline(1.0, color="k", ls="--", lw=1, label=names[final["reference"]])
    if final["reference"] == "gamma_star" and math.isfinite(final.get("lp_margin", math.nan)):
        ratio = final["lp_margin"] / final["gamma_star"]
        if abs(ratio - 1) > 1e-6:
            ax.axhline(ratio, color="tab:red", ls=":", lw=1, label=f"irrep LP certificate ({ratio:.3f}x)")
    ax.set_ylim(bottom=max(-0.1, ax.get_ylim()[0]))
    ax.set_xlabel("step")
    ax.set_ylabel("normalised margin / reference")
    ax.set_title(f"{task_name}: final {final['margin_ratio']:.4f}")
    ax.legend(loc="lower right")
    _save(fig, workdir / "margin.png")
    plt.close(fig)


def plot_neuron_power(workdir: Path, task_name: str, final: dict) -> None:
    """Histogram of each live neuron's max irrep power in u, v, w (MEOZK Fig. 4: ≈ 1 for the quadratic net)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(0, 1, 41)
    for part in "uvw":
        ax.hist(final[f"max_power_{part}"], bins=bins, histtype="step", lw=1.5, label=part)
    ax.set_yscale("log")
    ax.set_xlabel("max normalised irrep power of the neuron's weights")
    ax.set_ylabel("neurons (log scale)")
    ax.set_title(f"{task_name}: {final['fraction_single_irrep']:.1%} of live neurons > 0.9 in u, v and w")
    ax.legend(loc="upper left")
    _save(fig, workdir / "neuron_power.png")
    plt.close(fig)


def plot_norm_shares(workdir: Path, task_name: str, final: dict) -> None:
    """Share of Σ‖ω_i‖³ per irrep vs the LP prediction (= d^2.5 / Σ d^2.5 where Thm 9 holds)."""
    plt = _pyplot()
    names = [f"{n}\n(d={d})" for n, d in zip(final["irrep_names"], final["irrep_dims"], strict=True)][1:]
    measured, predicted = final["norm_shares"][1:], final["predicted_norm_shares"][1:]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(names)), 4))
    ax.bar(x - 0.2, measured, width=0.4, label="trained (dominant irrep of each neuron)")
    ax.bar(x + 0.2, predicted, width=0.4, label="max-margin prediction (LP)")
    ax.set_xticks(x, names, fontsize=7 if len(names) > 8 else 9)
    ax.set_ylim(0, 1.3 * max(max(measured), max(predicted)))
    ax.set_ylabel("share of Σ‖ω‖³")
    ax.set_title(f"{task_name}: norm shares per irrep")
    ax.legend()
    _save(fig, workdir / "norm_shares.png")
    plt.close(fig)


def write_all(workdir: Path, task, final: dict) -> None:
    workdir = Path(workdir)
    plot_margin(workdir, task.name, final)
    if "norm_shares" in final:
        plot_neuron_power(workdir, task.name, final)
        plot_norm_shares(workdir, task.name, final)
