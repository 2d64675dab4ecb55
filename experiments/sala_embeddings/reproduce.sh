#!/usr/bin/env bash
# Every run of the README table, one launcher command each (sequential: the machine has 2 cores).
# Usage: experiments/sala_embeddings/reproduce.sh [hmds|combinatorial|sgd|all] [RUNS_DIR]
# Data: ../shared/data (see ../shared/data/SOURCES.md). Results: RUNS_DIR/<method>/<graph>[_<setting>]/metrics.jsonl;
# experiments/sala_embeddings/collect.py RUNS_DIR prints the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
WHAT=${1:-all}
RUNS=${2:-runs/sala}
DATA=../shared/data
PY=${PYTHON:-.venv/bin/python}
CONFIG=experiments/sala_embeddings/configs/default.py
declare -A GRAPH=(
  [balanced_tree]=$DATA/balanced_tree/smalltree.edges
  [phylo]=$DATA/phylo_tree/phylo_tree.edges
  [cs_phd]=$DATA/cs_phd/ca-CSphd.edges
  [diseases]=$DATA/diseases/bio-diseasome.edges
  [yeast]=$DATA/yeast/bio-yeast.edges
  [grqc]=$DATA/grqc/grqc.edges
)
SMALL="balanced_tree phylo cs_phd diseases yeast grqc"

run() {  # run WORKDIR VARIANT FLAGS...
  local workdir=$1 variant=$2; shift 2
  if [[ -f $workdir/metrics.jsonl ]] && grep -q '"wall_seconds"' "$workdir/metrics.jsonl"; then return; fi
  echo "+ $PY scripts/launch.py --experiment sala_embeddings --config $CONFIG:$variant --workdir $workdir $*"
  "$PY" scripts/launch.py --experiment sala_embeddings --config "$CONFIG:$variant" --workdir "$workdir" "$@"
}

if [[ $WHAT == hmds || $WHAT == all ]]; then
  for g in $SMALL; do
    for t in 1.0 0.1; do
      for k in 2 5 10 50 100; do
        run "$RUNS/hmds/${g}_t${t}_r${k}" hmds --config.data="${GRAPH[$g]}" --config.dim=$k --config.scale=$t
      done
    done
  done
fi
if [[ $WHAT == combinatorial || $WHAT == all ]]; then
  for g in $SMALL; do
    for eps in 0.1 1.0; do
      run "$RUNS/combinatorial/${g}_eps${eps}" combinatorial --config.data="${GRAPH[$g]}" --config.eps=$eps
    done
  done
  run "$RUNS/combinatorial/wordnet_eps0.1" combinatorial --config.data=$DATA/wordnet_hypernym_graph/wordnet.edges \
    --config.eps=0.1 --config.eval_tree=False
fi
if [[ $WHAT == sgd || $WHAT == all ]]; then
  run "$RUNS/sgd/phylo_h10" sgd --config.data="${GRAPH[phylo]}" --config.dim=10
fi
