"""PNG plots of a universality run (matplotlib is imported lazily: it costs ~0.5 s)."""

from __future__ import annotations

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


def write_all(workdir: Path, group_name: str, final: dict) -> None:
    """accuracy.png, logit_similarity.png (first seed), key_irreps.png and fve.png (first seed)."""
    plt = _pyplot()
    workdir = Path(workdir)
    rows = [r for r in read_metrics(workdir) if "test_accuracy" in r and "train_loss" in r]
    steps = np.array([r["step"] for r in rows])
    seeds = final["seeds"]
    names = final["irrep_names"]

    fig, ax = plt.subplots(figsize=(6, 4))
    for i, s in enumerate(seeds):
        ax.plot(steps, [r["train_accuracy"][i] for r in rows], color=f"C{i}", ls=":", lw=1)
        ax.plot(
            steps,
            [r["test_accuracy"][i] for r in rows],
            color=f"C{i}",
            label=f"seed {s} (test; train dotted)",
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{group_name}: CCN MLP, AdamW wd 1")
    ax.legend(fontsize=8)
    _save(fig, workdir / "accuracy.png")
    plt.close(fig)

    sims = np.array([r["logit_similarity"][0] for r in rows])  # [evals, irreps], first seed
    fig, ax = plt.subplots(figsize=(7, 4))
    order = np.argsort(-np.abs(sims[-1]))
    for rank, j in enumerate(order):
        ax.plot(steps, sims[:, j], lw=1.5 if rank < 6 else 0.6, label=names[j] if rank < 6 else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("logit similarity with χ_ρ(ab c⁻¹)")
    ax.set_title(f"{group_name}, seed {seeds[0]}: logit attribution per irrep")
    ax.legend(fontsize=8)
    _save(fig, workdir / "logit_similarity.png")
    plt.close(fig)

    final_sims = np.array(final["logit_similarity"])  # [seeds, irreps]
    fig, ax = plt.subplots(figsize=(max(5, 0.45 * len(names)), 1.2 + 0.45 * len(seeds)))
    im = ax.imshow(final_sims, cmap="viridis", vmin=0, vmax=max(final_sims.max(), 1e-3), aspect="auto")
    for i, keys in enumerate(final["key_irreps"]):
        for j, name in enumerate(names):
            if name in keys:
                ax.text(j, i, "key", ha="center", va="center", color="w", fontsize=7)
    ax.set_xticks(range(len(names)), names, rotation=60, fontsize=7)
    ax.set_yticks(range(len(seeds)), [f"seed {s}" for s in seeds])
    ax.set_title(f"{group_name}: key irreps per seed")
    fig.colorbar(im, ax=ax, label="logit similarity")
    _save(fig, workdir / "key_irreps.png")
    plt.close(fig)

    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(names)), 4))
    for k, (key, label) in enumerate(
        [("fve_embed_a", "E_a W_1"), ("fve_embed_b", "E_b W_2"), ("fve_unembed", "W_U")]
    ):
        ax.bar(x + (k - 1) * 0.27, final[key][0], width=0.27, label=label)
    ax.set_xticks(x, names, rotation=60, fontsize=7)
    ax.set_ylabel("fraction of ‖W‖² per irrep")
    ax.set_title(f"{group_name}, seed {seeds[0]}: FVE of embeddings and unembedding")
    ax.legend()
    _save(fig, workdir / "fve.png")
    plt.close(fig)
