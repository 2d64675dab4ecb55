#!/usr/bin/env bash
# Run one launcher command on every worker of a Cloud TPU VM slice (multi-host), with jax.distributed.
#
#   TPU_NAME=my-v4-32 ZONE=us-central2-b scripts/run_tpu.sh \
#       --experiment poincare_embeddings --config experiments/poincare_embeddings/configs/default.py:nouns_f32 \
#       --workdir gs://bucket/runs/nouns --config.data=/data/noun_closure.csv --config.sharding=rows
#
# Every worker runs the same command (SPMD); `--jax_distributed` makes scripts/launch.py call
# jax.distributed.initialize(), which on TPU VMs finds the coordinator by itself. The repository must be checked
# out at REPO_DIR (default: ~/geomrep) on every worker with `pip install -e .` done there, and the data file
# must exist at the same path on every worker. TPUs have no float64: use the *_f32 variants or dtype=float32.
set -euo pipefail
: "${TPU_NAME:?set TPU_NAME to the TPU VM name}"
: "${ZONE:?set ZONE to the TPU zone}"
REPO_DIR="${REPO_DIR:-~/geomrep}"
if [ "$#" -eq 0 ]; then
  echo "usage: TPU_NAME=... ZONE=... $0 --experiment NAME --config PATH:ARG --workdir DIR [--config.key=value ...]" >&2
  exit 2
fi
args=$(printf ' %q' "$@")
exec gcloud compute tpus tpu-vm ssh "$TPU_NAME" --zone "$ZONE" --worker=all \
  --command "cd $REPO_DIR && python scripts/launch.py --jax_distributed$args"
