#!/usr/bin/env bash
# A sweep as a Slurm array job: task i of n runs `camsync sweep --shard i/n`
# into its own directory; a last job, started after the array, merges them.
#
#   mkdir -p sweep-out && jobid=$(sbatch --parsable scenarios/sweeps/slurm-array.sh)
#   sbatch --dependency=afterok:$jobid --wrap \
#     'camsync sweep merge sweep-out/shard-* --out sweep-out/all && camsync report sweep-out/all --html sweep-out/report'
#
# A task that is cut off (preempted, over time) is simply run again: the
# rows already in its directory are kept and only the missing runs are made.
#SBATCH --job-name=camsync-sweep
#SBATCH --array=0-15
#SBATCH --cpus-per-task=4
#SBATCH --time=01:00:00
#SBATCH --output=sweep-out/slurm-%A_%a.log
set -euo pipefail
SWEEP=${SWEEP:-scenarios/sweeps/buffer-servo.toml}
OUT=${OUT:-sweep-out}
: "${SLURM_ARRAY_TASK_ID:?run this under sbatch --array}"
# The shard count is the array's size (0-15: 16 tasks).
SHARDS=${SLURM_ARRAY_TASK_COUNT:-16}
mkdir -p "$OUT"
# -q: no progress bar in a batch log; --jobs: the cores Slurm gave the task.
exec camsync -q sweep "$SWEEP" \
  --out "$OUT/shard-$SLURM_ARRAY_TASK_ID" \
  --shard "$SLURM_ARRAY_TASK_ID/$SHARDS" \
  --jobs "${SLURM_CPUS_PER_TASK:-1}"
