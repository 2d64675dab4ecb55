"""Test-wide settings: float64 on (the CPU reference); float32 paths are tested with explicit dtypes."""

import jax

jax.config.update("jax_enable_x64", True)
