"""The classifiers of the SPD / Grassmann benchmarks, built from geomrep.nn layers.

Names (``config.models``, comma-separated):

==============  ===================================================================================
spdnet          BiMap(n→d₁) → ReEig → … → BiMap(→d_k) → ReEig → LogEig → vec → Linear (Huang & Van Gool 2017)
mlr_<m>         SPDGyroMLR(n, K, metric m) for m in ai, le, lc (Nguyen & Yang 2023)
gyrofc_<m>      SPDGyroFC(n→d₁, m) → … → SPDGyroFC(→d_k, m) → SPDGyroMLR(d_k, K, m)  (the "GyroFC stack")
gr_mlr          GrassmannMLR(n, p, K)
gr_fc           GrassmannFC(n, p → n', p') → GrassmannMLR
==============  ===================================================================================
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from geomrep import nn as gnn

SPD_MODELS = ("spdnet", "mlr_ai", "mlr_le", "mlr_lc", "gyrofc_ai", "gyrofc_le", "gyrofc_lc")
GRASSMANN_MODELS = ("gr_mlr", "gr_fc")
ALL_MODELS = SPD_MODELS + GRASSMANN_MODELS


class SPDNet(nnx.Module):
    """BiMap-ReEig blocks, LogEig, isometric vectorisation and a linear classifier (SPDNet, [HV17])."""

    def __init__(self, n, num_classes, dims, *, eps=1e-4, param_dtype=jnp.float32, rngs):
        sizes = (n, *dims)
        self.bimaps = nnx.List(
            [
                gnn.BiMap(a, b, param_dtype=param_dtype, rngs=rngs)
                for a, b in zip(sizes[:-1], sizes[1:], strict=True)
            ]
        )
        self.reeig = gnn.ReEig(eps)
        self.logeig = gnn.LogEig(vectorize=True)
        d = sizes[-1]
        self.linear = nnx.Linear(d * (d + 1) // 2, num_classes, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, X):
        for bimap in self.bimaps:
            X = self.reeig(bimap(X))
        return self.linear(self.logeig(X))


class GyroFCStack(nnx.Module):
    """SPD gyro-FC layers followed by an SPD gyro-MLR, all under one metric ([MMNN++] + [NY23])."""

    def __init__(self, n, num_classes, dims, *, metric, weight_std=None, param_dtype=jnp.float32, rngs):
        sizes = (n, *dims)
        # the FC layers always start from random normals (with W = I their outputs would all be I)
        self.fcs = nnx.List(
            [
                gnn.SPDGyroFC(a, b, metric=metric, param_dtype=param_dtype, rngs=rngs)
                for a, b in zip(sizes[:-1], sizes[1:], strict=True)
            ]
        )
        self.mlr = gnn.SPDGyroMLR(
            sizes[-1], num_classes, metric=metric, weight_std=weight_std, param_dtype=param_dtype, rngs=rngs
        )

    def __call__(self, X):
        for fc in self.fcs:
            X = fc(X)
        return self.mlr(X)


def build_model(name, *, n, num_classes, config, param_dtype, seed, p=None):
    """The model called ``name`` (see the module docstring) for inputs of size n (and p for Grassmann)."""
    rngs = nnx.Rngs(seed)
    # config.gyro_weight_std: -1 = the layer default (None), 0 = W = I (the congruence variant needs this start)
    weight_std = None if config.gyro_weight_std == -1 else float(config.gyro_weight_std)
    if name == "spdnet":
        return SPDNet(
            n, num_classes, config.spdnet_dims, eps=config.reeig_eps, param_dtype=param_dtype, rngs=rngs
        )
    if name.startswith("mlr_"):
        return gnn.SPDGyroMLR(
            n, num_classes, metric=name[4:], weight_std=weight_std, param_dtype=param_dtype, rngs=rngs
        )
    if name.startswith("gyrofc_"):
        return GyroFCStack(
            n,
            num_classes,
            config.fc_dims,
            metric=name[7:],
            weight_std=weight_std,
            param_dtype=param_dtype,
            rngs=rngs,
        )
    if name == "gr_mlr":
        return gnn.GrassmannMLR(n, p, num_classes, param_dtype=param_dtype, rngs=rngs)
    if name == "gr_fc":
        n_out, p_out = config.gr_fc_dims
        return nnx.Sequential(
            gnn.GrassmannFC(n, p, n_out, p_out, param_dtype=param_dtype, rngs=rngs),
            gnn.GrassmannMLR(n_out, p_out, num_classes, param_dtype=param_dtype, rngs=rngs),
        )
    raise ValueError(f"unknown model {name!r}; valid models: {', '.join(ALL_MODELS)}")
