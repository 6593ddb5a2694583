#!/bin/sh
# a2i2a batch as a Slurm job array: each task runs one shard of the batch (docs/scale-out.md).
#
#   scripts/slurm/a2i2a-array.sh [-n TASKS] SOURCE OUTDIR [a2i2a batch options...]
#
# submits an array of TASKS tasks (default 4) with sbatch and prints its job id; each task runs
#   a2i2a batch SOURCE -o OUTDIR --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT
# with --threads $SLURM_CPUS_PER_TASK (1 if unset) and the options given. OUTDIR must be on a
# filesystem every node shares (else give each task its own folder and gather them with
# a2i2a batch --merge). Submitting again after a failure or a cancel runs only what is missing:
# done items are skipped. The program: $A2I2A (default: a2i2a on PATH). sbatch's own options: its
# SBATCH_* variables (SBATCH_PARTITION, ...) or A2I2A_SBATCH_OPTIONS ("--cpus-per-task=2 --mem=4G").
set -eu
if [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
  source=$1 outdir=$2
  shift 2
  exec "${A2I2A:-a2i2a}" batch "$source" -o "$outdir" --shard "$SLURM_ARRAY_TASK_ID/${SLURM_ARRAY_TASK_COUNT:-1}" \
    --threads "${SLURM_CPUS_PER_TASK:-1}" --progress plain "$@"
fi
tasks=4
if [ "${1:-}" = "-n" ]; then
  tasks=${2:?"-n: how many tasks"}
  shift 2
fi
if [ $# -lt 2 ]; then
  echo "usage: $0 [-n TASKS] SOURCE OUTDIR [a2i2a batch options...]" >&2
  exit 2
fi
case $tasks in '' | *[!0-9]* | 0) echo "$0: -n: '$tasks' is not a number of tasks >= 1" >&2; exit 2 ;; esac
# shellcheck disable=SC2086
exec sbatch --parsable --array="0-$((tasks - 1))" --job-name=a2i2a-batch ${A2I2A_SBATCH_OPTIONS:-} "$0" "$@"
