#!/usr/bin/env bash
# hwnas-codesign --mpi under mpirun -np 3 (rank 0 searches, 2 ranks train) finds the trials of the same command on
# one process: same genomes, statuses, rewards and accuracies, in the same order; and --mpi on one rank is refused.
#   codesign_mpi.sh HWNAS_CODESIGN WORK_DIR MPIRUN
set -euo pipefail
codesign=$1 work=$2 mpirun=$3
rm -rf "$work"
mkdir -p "$work"
common=(--validation 200 --train-subset 600 --epochs 1 --retrain-epochs 1 --top-k 1 --threads 1 --trials 12
        --strategy evolution --unconstrained --in-flight 2)
"$codesign" "${common[@]}" --out "$work/one" > "$work/one.log" 2>&1 || { cat "$work/one.log"; exit 1; }
"$mpirun" -np 3 --oversubscribe "$codesign" "${common[@]}" --mpi --out "$work/mpi" > "$work/mpi.log" 2>&1 ||
  { cat "$work/mpi.log"; exit 1; }
# trial, status, reward, accuracy, LUTs, ..., genome: everything but the reason's wording is compared
fields=1,2,3,4,5,6,7,8,9,10,11,12
cut -d, -f$fields "$work/one/trials.csv" > "$work/one.csv"
cut -d, -f$fields "$work/mpi/trials.csv" > "$work/mpi.csv"
if ! diff "$work/one.csv" "$work/mpi.csv"; then
  echo "codesign_mpi: the MPI run's trials differ from the single-process run's" >&2
  exit 1
fi
trained=$(awk -F, 'NR > 1 && $2 == "trained"' "$work/mpi.csv" | wc -l)
((trained >= 3)) || { echo "codesign_mpi: only $trained trials trained; the comparison proves little" >&2; exit 1; }
grep -q "MPI: 3 ranks" "$work/mpi.log" || { echo "codesign_mpi: the MPI run did not say it used 3 ranks" >&2; exit 1; }
# One rank has no worker: a clear error, exit 2.
set +e
"$mpirun" -np 1 "$codesign" "${common[@]}" --mpi --out "$work/alone" > "$work/alone.log" 2>&1
rc=$?
set -e
if [[ $rc -eq 0 ]] || ! grep -q "N >= 2" "$work/alone.log"; then
  echo "codesign_mpi: --mpi on one rank should be refused (rc $rc):" >&2
  cat "$work/alone.log" >&2
  exit 1
fi
echo "codesign_mpi: $(($(wc -l < "$work/mpi.csv") - 1)) trials ($trained trained) equal on 3 ranks and on one process"
