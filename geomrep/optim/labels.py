"""Manifold label pytrees: which manifold each parameter lives on.

A label tree is a pytree of (static, hashable) manifold values parallel to the parameters, or a prefix of them:
``PoincareBall(1.0)`` alone labels every leaf; ``{"emb": PoincareBall(1.0), "mlp": Euclidean()}`` labels whole
subtrees.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import jax

from geomrep.manifolds import Euclidean


def _path_str(path) -> str:
    parts = []
    for entry in path:
        for attr in ("key", "name", "idx"):
            if hasattr(entry, attr):
                parts.append(str(getattr(entry, attr)))
                break
        else:
            parts.append(str(entry))
    return "/".join(parts)


def manifold_labels(params, rules: Iterable[tuple[str, object]] = (), default=None):
    """Label each parameter leaf with a manifold by matching its ``/``-joined path against regexes.

    Args:
      params: a pytree of parameters.
      rules: ``(regex, manifold)`` pairs; the first whose regex ``re.search``-es the leaf path wins.
      default: manifold for leaves no rule matches; ``Euclidean()`` when None.

    Returns:
      A pytree with the structure of ``params`` whose leaves are manifold values.

    >>> from geomrep.manifolds import PoincareBall
    >>> labels = manifold_labels({"emb": 0.0, "w": 0.0}, [("^emb$", PoincareBall(1.0))])
    >>> labels["emb"].name, labels["w"].name
    ('poincare', 'euclidean')
    """
    default = Euclidean() if default is None else default
    compiled = [(re.compile(pattern), manifold) for pattern, manifold in rules]

    def label(path, _):
        name = _path_str(path)
        for pattern, manifold in compiled:
            if pattern.search(name):
                return manifold
        return default

    return jax.tree_util.tree_map_with_path(label, params)


def broadcast_manifolds(manifolds, params):
    """Expand a label tree that is a prefix of ``params`` to one manifold value per parameter leaf.

    Raises a ValueError naming both structures when ``manifolds`` is not a prefix of ``params``.
    """
    try:
        return jax.tree.map(lambda m, sub: jax.tree.map(lambda _: m, sub), manifolds, params)
    except ValueError as err:
        raise ValueError(
            "the manifold label tree must be parallel to (or a prefix of) the params: "
            f"labels {jax.tree.structure(manifolds)} vs params {jax.tree.structure(params)}"
        ) from err
