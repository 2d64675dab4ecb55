"""Max-margin features of MEOZK's homogeneous nets (Morwani et al. 2023): full-batch GD on CE + λ Σ_i ‖ω_i‖^ν.

Command (Z_23, claim 6 of notes/algebraic.md D; about 10 s on a 2-core CPU):

    python scripts/launch.py --experiment algebraic_margins \
        --config experiments/algebraic_margins/configs/default.py:z23 --workdir runs/z23 [--config.width=88 ...]

Variants (the argument after ``:``; "claim N" = row N of the notes' table D, whose threshold the tests assert):
  z7       Z_7, x², m=40, λ=1e-4, lr 0.05 ×2 every 400, 4k steps (claim 5: ≥ 0.95 γ*).
  z23      Z_23, m=128, λ=1e-4, lr 0.05 ×2 every 2000, 20k steps (claim 6: ≥ 0.95 γ*).
  z23_m88  as z23 with the theorem's minimal width m = 4(p−1) = 88 (claim 6b: ≥ 0.90 γ*).
  s3       S3, m=30, λ=1e-5, lr 0.05 ×2 every 1500, 20k steps (claim 7: ≥ 0.93 γ*).
  s4       S4, m=200, λ=1e-5, lr 0.05 ×2 every 3000 capped at 51.2, 30k steps (claim 8: ≥ 0.8 γ*).
  d5       D5, m=60, λ=1e-5, lr 0.05 ×2 every 2000, 20k steps (claim 9: ≥ 0.85 γ*).
  parity   (10,4)-parity, x⁴, m=40, λ=1e-3 Σ‖ω‖⁵, lr 0.1, 30k steps (claim 10: ≥ 0.97 γ*).
  a5       A5, m=500, λ=1e-5, lr 0.05 ×2 every 3000 capped at 51.2, 30k steps (notes A15; Thm 9 fails, the LP
           certificate is 1.034× its formula; minutes on CPU).
  z71      MEOZK's Z_71 run: m=500, λ=1e-4, lr 0.05 doubled every 1k up to 51.2, 40k steps (GPU-sized).
  s5       MEOZK's S5 run, full batch: m=2000, λ=1e-5, lr 0.05 ×2 every 9375 up to 12.8, 75k steps (GPU-sized).
  smoke    Z_5, m=16, 300 steps, for tests (seconds).

Keys: task (modular_addition | group_composition | sparse_parity), p (modulus), group (Z7, D5, S4, A5, S3xZ3, ...),
n, k (parity), width, reg (λ), norm (l2nu: λ Σ_i ‖ω_i‖^ν, the MEOZK norm | l2: λ ‖θ‖_2^ν), lr, double_every
(steps; 0 = constant lr), max_lr (0 = no cap), num_steps, eval_every (steps per jitted scan; divides num_steps),
ckpt_every (steps, a multiple of eval_every; 0 = only at the end), dtype (float32 | float64), init_scale (entries
N(0, init_scale²/n)), seed.
"""

import ml_collections


def get_config(arg: str = "z23") -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.task = "modular_addition"
    c.p = 23
    c.group = "S3"
    c.n = 10
    c.k = 4
    c.width = 128
    c.reg = 1e-4
    c.norm = "l2nu"
    c.lr = 0.05
    c.double_every = 2000
    c.max_lr = 0.0
    c.num_steps = 20_000
    c.eval_every = 500
    c.ckpt_every = 0
    c.dtype = "float32"
    c.init_scale = 1.0
    c.seed = 0

    if arg == "z23":
        pass
    elif arg == "z7":
        c.p, c.width, c.double_every, c.num_steps, c.eval_every = 7, 40, 400, 4000, 200
    elif arg == "z23_m88":
        c.width = 88
    elif arg == "s3":
        c.task, c.group, c.width, c.reg, c.double_every = "group_composition", "S3", 30, 1e-5, 1500
    elif arg == "s4":
        c.task, c.group, c.width, c.reg = "group_composition", "S4", 200, 1e-5
        c.double_every, c.max_lr, c.num_steps = 3000, 51.2, 30_000
    elif arg == "d5":
        c.task, c.group, c.width, c.reg = "group_composition", "D5", 60, 1e-5
    elif arg == "parity":
        c.task, c.width, c.reg, c.lr, c.double_every, c.num_steps = "sparse_parity", 40, 1e-3, 0.1, 0, 30_000
        c.eval_every = 1000
    elif arg == "a5":
        c.task, c.group, c.width, c.reg = "group_composition", "A5", 500, 1e-5
        c.double_every, c.max_lr, c.num_steps, c.eval_every, c.ckpt_every = 3000, 51.2, 30_000, 1000, 5000
    elif arg == "z71":
        c.p, c.width, c.double_every, c.max_lr, c.num_steps = 71, 500, 1000, 51.2, 40_000
        c.eval_every, c.ckpt_every = 1000, 5000
    elif arg == "s5":
        c.task, c.group, c.width, c.reg = "group_composition", "S5", 2000, 1e-5
        c.double_every, c.max_lr, c.num_steps, c.eval_every, c.ckpt_every = 9375, 12.8, 75_000, 1000, 5000
    elif arg == "smoke":
        c.p, c.width, c.double_every, c.num_steps, c.eval_every, c.ckpt_every = 5, 16, 100, 300, 50, 150
    else:
        raise ValueError(
            f"unknown config variant {arg!r}; choose z7, z23, z23_m88, s3, s4, d5, parity, a5, z71, s5 or smoke"
        )
    return c
