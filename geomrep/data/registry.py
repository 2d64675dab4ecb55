"""Data sets shipped inside the geomrep package (the ``geomrep/data/datasets/`` folder).

`dataset_path` turns a short name into the path of the shipped file, found next to this module so it
works from a source checkout and from an installed wheel alike. Provenance and licence of each file are
in ``datasets/README.txt`` and ``datasets/WORDNET_LICENSE.txt``.

Example:
    >>> dataset_path("mammals").name
    'mammal_closure.csv'
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DATASETS", "dataset_path"]

DATASET_DIR = Path(__file__).resolve().parent / "datasets"

# name -> (file in DATASET_DIR, one-line description)
DATASETS: dict[str, tuple[str, str]] = {
    "mammals": (
        "mammal_closure.csv",
        "WordNet 3.0 mammal transitive closure (Nickel & Kiela 2017): 1180 nodes, 6540 edges",
    ),
}


def dataset_path(name: str) -> Path:
    """Path of the shipped data set ``name``.

    Args:
        name: one of the keys of `DATASETS` (currently ``"mammals"``).

    Returns:
        The absolute path of the file inside the installed package.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
        FileNotFoundError: the package was installed without its data files.

    Example:
        >>> from geomrep.data import load_closure
        >>> load_closure(dataset_path("mammals")).num_edges
        6540
    """
    try:
        filename, _ = DATASETS[name]
    except (KeyError, TypeError):
        valid = ", ".join(f"{key!r} ({desc})" for key, (_, desc) in DATASETS.items())
        raise ValueError(f"unknown data set {name!r}; valid names: {valid}") from None
    path = DATASET_DIR / filename
    if not path.is_file():
        raise FileNotFoundError(
            f"shipped data set {name!r} is missing at {path}; geomrep was installed without its package "
            f"data (pyproject: [tool.setuptools.package-data] 'geomrep.data' = ['datasets/*'])"
        )
    return path
