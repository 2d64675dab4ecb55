#!/usr/bin/env bash
# Every row of Nickel & Kiela 2017 Table 1 (WordNet nouns: reconstruction and link prediction; Euclidean and
# Poincaré at dims 5, 10, 20, 50, 100, 200) and of their 2018 Table 2 (nouns, the Lorentz model, undirected
# protocol), one launcher command each, sequential (the machine has 2 cores; each run takes hours there, the
# dim-10 rows come first). A run already finished is skipped; an interrupted one resumes from its checkpoint.
#
# Usage: scripts/reproduce_nk_tables.sh [recon|lp|lorentz|all] [RUNS_DIR] [-- extra --config.key=value flags]
#   DATA=path/to/noun_closure.csv (default ../shared/data/wordnet_nouns/noun_closure.csv), PYTHON=.venv/bin/python,
#   DIMS="10 5 20 50 100 200" (the 2017 table's) and LORENTZ_DIMS="10 5 2" (the 2018 table's) override the defaults.
# Results: RUNS_DIR/<task>/<model>_d<dim>/metrics.jsonl (last line: eval/closure_map, eval/closure_mean_rank,
# their _undirected twins, eval/lp_* for link prediction, train_and_eval_seconds);
# `python experiments/poincare_embeddings/collect.py RUNS_DIR` prints the table beside the paper's numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
WHAT=${1:-all}
RUNS=${2:-runs/nk_tables}
shift $(( $# < 2 ? $# : 2 ))
[[ ${1:-} == -- ]] && shift
EXTRA=("$@")
DATA=${DATA:-../shared/data/wordnet_nouns/noun_closure.csv}
PY=${PYTHON:-.venv/bin/python}
DIMS=${DIMS:-10 5 20 50 100 200}
LORENTZ_DIMS=${LORENTZ_DIMS:-10 5 2}
CONFIG=experiments/poincare_embeddings/configs/default.py
[[ -f $DATA ]] || { echo "reproduce_nk_tables.sh: closure file $DATA not found (set DATA=...)" >&2; exit 2; }

run() {  # run WORKDIR VARIANT [FLAGS...]
  local workdir=$1 variant=$2; shift 2
  if [[ -f $workdir/metrics.jsonl ]] && grep -q '"train_and_eval_seconds"' "$workdir/metrics.jsonl"; then
    echo "= $workdir done"; return
  fi
  local cmd=("$PY" scripts/launch.py --experiment poincare_embeddings --config "$CONFIG:$variant"
             --workdir "$workdir" --config.data="$DATA" "$@" "${EXTRA[@]}")
  echo "+ ${cmd[*]}"
  "${cmd[@]}"
}

for dim in $DIMS; do
  if [[ $WHAT == recon || $WHAT == all ]]; then
    run "$RUNS/recon/poincare_d$dim" nouns --config.dim="$dim"
    run "$RUNS/recon/euclidean_d$dim" nouns_euclidean --config.dim="$dim"
  fi
  if [[ $WHAT == lp || $WHAT == all ]]; then
    run "$RUNS/lp/poincare_d$dim" nouns_lp --config.dim="$dim"
    run "$RUNS/lp/euclidean_d$dim" nouns_euclidean_lp --config.dim="$dim"
  fi
done
if [[ $WHAT == lorentz || $WHAT == all ]]; then  # the 2018 protocol: train on the undirected closure
  for dim in $LORENTZ_DIMS; do
    run "$RUNS/lorentz/lorentz_sym_d$dim" nouns_lorentz --config.dim="$dim" --config.symmetric=True
    run "$RUNS/lorentz/poincare_sym_d$dim" nouns_sym --config.dim="$dim"
  done
fi
