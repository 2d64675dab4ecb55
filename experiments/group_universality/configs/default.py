"""Universality of group-composition circuits (Chughtai, Chan & Nanda 2023): CCN's ReLU MLP trained with AdamW on
part of the group's multiplication table, several seeds at once.

Command (C23, claim 11 of notes/algebraic.md D; seconds on a 2-core CPU):

    python scripts/launch.py --experiment group_universality \
        --config experiments/group_universality/configs/default.py:c23 --workdir runs/c23 [--config.seeds="(0,1,2)"]

Every seed has its own init and its own train/test split (as in CCN, whose split is seeded too). The seeds are
trained together in one jitted scan on stacked parameters; AdamW is elementwise, so each seed's trajectory is
exactly that of a run on its own.

Variants (the argument after ``:``):
  c23     Z_23, frac 0.7, 20k epochs (claim 11: test acc >= 0.99 within 20k; >= 3 frequencies with logit sim > 0.05).
  d13     D13 (order 26), frac 0.6, 20k epochs (claim 12: test acc >= 0.99 within 20k).
  s4      S4, frac 0.75, 20k epochs (claim 13: test acc >= 0.99 within 20k).
  c23_neg Z_23, frac 0.4, 20k epochs (claim 14, negative control: no generalisation expected at this size).
  s5      CCN's mainline S5 run: frac 0.4, 250k epochs, seed 2 (GPU-sized; key irreps sign + standard).
  a5      CCN's A5 MLP: frac 0.5, 250k epochs, 4 seeds (GPU-sized).
  smoke   Z_7, frac 0.6, 2 seeds, small MLP, 200 epochs (seconds; for tests).

Keys: group (Z23, D13, S4, S5, A5, S3xZ3, ...), train_fraction, embed_dim (E), hidden_dim (H), lr, weight_decay,
b1, b2, num_epochs (full-batch AdamW steps), eval_every (divides num_epochs), ckpt_every (multiple of
eval_every; 0 = only at the end), seeds (a tuple; seed s sets the init and the split), dtype (float32 | float64),
key_threshold (logit similarity above which an irrep is "key", CCN: 0.005), grok_accuracy (test accuracy that
counts as generalised; the epoch it is first reached is reported).
"""

import ml_collections


def get_config(arg: str = "c23") -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.group = "Z23"
    c.train_fraction = 0.7
    c.embed_dim = 256
    c.hidden_dim = 128
    c.lr = 1e-3
    c.weight_decay = 1.0
    c.b1 = 0.9
    c.b2 = 0.98
    c.num_epochs = 20_000
    c.eval_every = 500
    c.ckpt_every = 0
    c.seeds = (0,)
    c.dtype = "float32"
    c.key_threshold = 0.005
    c.grok_accuracy = 0.99

    if arg == "c23":
        pass
    elif arg == "d13":
        c.group, c.train_fraction = "D13", 0.6
    elif arg == "s4":
        c.group, c.train_fraction = "S4", 0.75
    elif arg == "c23_neg":
        c.train_fraction = 0.4
    elif arg == "s5":
        c.group, c.train_fraction, c.num_epochs, c.eval_every, c.ckpt_every = "S5", 0.4, 250_000, 5000, 25_000
        c.seeds = (2,)
    elif arg == "a5":
        c.group, c.train_fraction, c.num_epochs, c.eval_every, c.ckpt_every = "A5", 0.5, 250_000, 5000, 25_000
        c.seeds = (1, 2, 3, 4)
    elif arg == "smoke":
        c.group, c.train_fraction, c.embed_dim, c.hidden_dim = "Z7", 0.6, 16, 32
        c.num_epochs, c.eval_every, c.ckpt_every, c.seeds, c.lr = 200, 50, 100, (0, 1), 3e-3
    else:
        raise ValueError(f"unknown config variant {arg!r}; choose c23, d13, s4, c23_neg, s5, a5 or smoke")
    return c
