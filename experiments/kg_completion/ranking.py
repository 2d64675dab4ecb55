"""Filtered ranking for link prediction (Bordes et al. 2013), jitted and computed in blocks of queries.

For a query ``(h, r, ?)`` with true answer ``t`` the model scores every entity ``e`` (1-vs-all). The *filtered* rank
of ``t`` ignores the other known answers of the query (train ∪ valid ∪ test), and ties count against the model::

    rank(t) = 1 + #{ e ∉ answers(h, r) : score(e) ≥ score(t) }        (t itself is in answers(h, r))

This is the convention of the reference code (gyrospd / kgc ``Runner.evaluate``: filtered scores set to −1e6, then
``sum(all_scores >= target_score) + 1``). A query whose target score is not finite gets the worst rank
``num_entities``, so a diverged model can never look good. Both directions of a triple are asked: ``(h, r, ?)`` and
``(t, r + R, ?)`` (`geomrep.data.kg.add_inverses`); MRR and Hits@k average over all of those queries.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

HITS_AT = (1, 3, 10)


def make_ranker(score_all: Callable, num_entities: int, block_size: int) -> Callable:
    """Builds ``ranks(params, queries, answers) -> int32 (q,)``, jitted, scoring ``block_size`` queries at a time.

    Args:
      score_all: ``score_all(params, h, r) -> (b, num_entities)`` scores of every entity as the tail of
        ``(h, r, ·)`` for int arrays ``h, r`` of shape (b,).
      num_entities: the candidate count N (also the padding value in ``answers``).
      block_size: queries per block; memory is O(block_size · N).

    The returned function takes ``queries`` (q, 3) int and ``answers`` (q, w) int (padded with N, as built by
    `geomrep.data.kg.answer_lists`); it pads q up to a multiple of ``block_size`` and runs one ``lax.map``.
    """

    def block_ranks(params, block):
        queries, answers = block
        scores = score_all(params, queries[:, 0], queries[:, 1])
        target = jnp.take_along_axis(scores, queries[:, 2:3], axis=1)
        rows = jnp.arange(scores.shape[0])[:, None]
        filtered = scores.at[rows, answers].set(-jnp.inf, mode="drop")
        better = jnp.sum(filtered >= target, axis=1, dtype=jnp.int32)
        ok = jnp.isfinite(target[:, 0]) & ~jnp.any(jnp.isnan(filtered), axis=1)
        return jnp.where(ok, 1 + better, num_entities)

    @jax.jit
    def ranks_padded(params, queries, answers):
        blocks = (
            queries.reshape(-1, block_size, queries.shape[-1]),
            answers.reshape(-1, block_size, answers.shape[-1]),
        )
        return jax.lax.map(lambda b: block_ranks(params, b), blocks).reshape(-1)

    def ranks(params, queries, answers):
        q = queries.shape[0]
        pad = (-q) % block_size
        queries = np.concatenate([np.asarray(queries), np.zeros((pad, 3), np.int32)]).astype(np.int32)
        answers = np.concatenate(
            [np.asarray(answers), np.full((pad, answers.shape[1]), num_entities, np.int32)]
        )
        return ranks_padded(params, jnp.asarray(queries), jnp.asarray(answers.astype(np.int32)))[:q]

    return ranks


def ranking_metrics(ranks, mask=None) -> dict[str, float]:
    """MRR, mean rank and Hits@1/3/10 of integer ranks (optionally only where ``mask`` is true).

    >>> ranking_metrics(np.array([1, 2, 20]))["mrr"] == (1 + 0.5 + 0.05) / 3
    True
    """
    ranks = np.asarray(ranks, np.float64)
    if mask is not None:
        ranks = ranks[np.asarray(mask, bool)]
    if ranks.size == 0:
        return {}
    out = {"mrr": float(np.mean(1.0 / ranks)), "mr": float(np.mean(ranks))}
    for k in HITS_AT:
        out[f"hits@{k}"] = float(np.mean(ranks <= k))
    return out
