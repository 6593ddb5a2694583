# a2i2a batch on a real one-node Slurm cluster started here (munged, slurmctld, slurmd in a
# temporary folder, stopped by their pid files at the end): scripts/slurm/a2i2a-array.sh submits
# an array of 4 tasks over 8 items and each item is done exactly once; then, in a second batch,
# one task is cancelled mid-run and the array submitted again: only the missing items run and
# the result is byte for byte the uninterrupted batch. Needs root (skipped otherwise, but not in
# CI: A2I2A_FIXTURES_REQUIRED=1).
set -u
. tests/support/ok.sh
skip() {
  [ "${A2I2A_FIXTURES_REQUIRED:-}" = 1 ] && { echo "cannot run the Slurm test: $1"; exit 1; }
  echo "skipped: $1"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "a one-node Slurm cluster needs root"
for p in munged slurmctld slurmd sbatch squeue scancel; do
  command -v $p >/dev/null || PATH=$PATH:/usr/sbin command -v $p >/dev/null || skip "$p is missing (Debian slurm-wlm and munge, in scripts/install-deps.sh)"
done
export PATH=$PATH:/usr/sbin
T=$(mktemp -d) && chmod 755 "$T" # munged wants its socket reachable by all
C=$T/slurm
stop_cluster() {
  for d in slurmd slurmctld munged; do
    [ -s "$C/$d.pid" ] || continue
    pid=$(cat "$C/$d.pid")
    kill "$pid" 2>/dev/null
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
}
trap 'stop_cluster; rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache"
unset A2I2A_MODEL
. tests/support/batch.sh

# --- the cluster: munge with a key of its own, Slurm with every path in $C and two free ports
mkdir -m 755 "$C" "$C/run" && mkdir -m 700 "$C/munge" && mkdir -p "$C/state" "$C/spool" "$C/log"
head -c 1024 /dev/urandom > "$C/munge/key" && chmod 400 "$C/munge/key"
munged --key-file="$C/munge/key" --socket="$C/run/munge.socket" --pid-file="$C/munged.pid" \
  --log-file="$C/munge/log" --seed-file="$C/munge/seed" 2>"$C/munged.err" || skip "munged does not start: $(head -1 "$C/munged.err")"
read -r P1 P2 <<< "$(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1", 0)) for x in s]
print(*[x.getsockname()[1] for x in s])')"
host=$(hostname -s)
cat > "$C/slurm.conf" <<CONF
ClusterName=a2i2atest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$C/run/munge.socket
CredType=cred/munge
SlurmctldPort=$P1
SlurmdPort=$P2
StateSaveLocation=$C/state
SlurmdSpoolDir=$C/spool
SlurmctldPidFile=$C/slurmctld.pid
SlurmdPidFile=$C/slurmd.pid
SlurmctldLogFile=$C/log/slurmctld.log
SlurmdLogFile=$C/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
KillWait=5
MpiDefault=none
SchedulerType=sched/backfill
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$C/slurm.conf
slurmctld -c 2>"$C/slurmctld.err" || skip "slurmctld does not start: $(head -1 "$C/slurmctld.err")"
slurmd 2>"$C/slurmd.err" || skip "slurmd does not start: $(head -1 "$C/slurmd.err")"
for i in $(seq 100); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 0.2; done
sinfo -h -o %t 2>/dev/null | grep -q idle || skip "the node does not come up: $(sinfo -h 2>&1 | head -1)"

# wait_jobs: until the queue is empty (at most 150 s)
wait_jobs() { for i in $(seq 750); do [ -z "$(squeue -h 2>/dev/null)" ] && return 0; sleep 0.2; done; return 1; }
submit() { # submit OUTDIR LOGDIR: the array's job id
  mkdir -p "$2"
  A2I2A="$(cd "$(dirname "$A2I2A")" && pwd)/$(basename "$A2I2A")" A2I2A_SBATCH_OPTIONS="--cpus-per-task=1 --output=$2/%a.out" \
    scripts/slurm/a2i2a-array.sh -n 4 "$T/lib" "$1" $SLOW --seeds 1,2
}
# 4 sounds x 2 seeds: 8 items of a few seconds each (enough steps that a cancel lands mid-item)
sounds "$T/lib" 4
SLOW="${QUICK/--steps 2/--steps 200}"
"$A2I2A" batch "$T/lib" $SLOW --seeds 1,2 --list > "$T/ids"

# --- an array of 4 tasks over 8 items: each item once
job=$(submit "$T/whole" "$T/log1")
ok "sbatch: a job id ($job)" '[ -n "$job" ]'
wait_jobs; rc=$?
ok "the array finishes" '[ $rc -eq 0 ]'
ok "each of the 8 items ran exactly once ($(ran_ids "$T"/log1/*.out | wc -l) runs)" \
  '[ "$(ran_ids "$T"/log1/*.out | LC_ALL=C sort)" = "$(LC_ALL=C sort "$T/ids")" ]'
ok "four tasks, two items each" '[ "$(ls "$T"/log1/*.out | wc -l)" -eq 4 ] && for f in "$T"/log1/*.out; do [ "$(ran_ids "$f" | wc -l)" -eq 2 ] || exit 1; done'
"$A2I2A" batch --status "$T/whole" > "$T/status"
ok "--status: 8 done ($(head -1 "$T/status"))" '[ "$(head -1 "$T/status")" = "8 items: 8 done, 0 failed, 0 pending" ]'

# --- again, task 0 cancelled while it works; then the array submitted again
job=$(submit "$T/again" "$T/log2")
for i in $(seq 750); do grep -q "^a2i2a batch: 1/2 " "$T/log2/0.out" 2>/dev/null && break; sleep 0.2; done
scancel "${job}_0"
wait_jobs
# the items done when the queue emptied, and those the second submission has to run
for i in $(cat "$T/ids"); do [ -f "$T/again/$i/run.json" ] && echo "$i"; done | LC_ALL=C sort > "$T/done2"
done_before=$(wc -l < "$T/done2")
ok "the cancel left items missing ($done_before of 8 done)" '[ "$done_before" -lt 8 ]'
job=$(submit "$T/again" "$T/log3")
wait_jobs
ok "resubmitted: exactly the $((8 - done_before)) missing items ran" \
  '[ "$(ran_ids "$T"/log3/*.out | LC_ALL=C sort)" = "$(LC_ALL=C sort "$T/ids" | comm -23 - "$T/done2")" ]'
ok "resubmitted: byte for byte the uninterrupted batch" '[ "$(tree_digest "$T/again")" = "$(tree_digest "$T/whole")" ]'
ok "resubmitted: no private folder left" '[ -z "$(find "$T/again" -name ".a2i2a-run.*")" ]'

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
