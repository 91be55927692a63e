#!/usr/bin/env bash
# Integration test: a convbank job array on a real, throw-away, single-node Slurm cluster.
#
#   bash tests/slurm/run.sh BINARY        (as root; `make test-slurm` runs it on .build/debug/convbank)
#
# 1. Installs Debian's `slurm-wlm` and `munge` with apt-get when missing (root only).
# 2. Starts munged (creating /etc/munge/munge.key, 0600 munge:munge, if there is none), then slurmctld and
#    slurmd from a slurm.conf in a temporary folder, and waits until the node is idle.
# 3. Stages ~48 small PNG/JPEG files in subfolders, runs one unsharded `convbank apply` into OUT_SINGLE and
#    `sbatch --array=0-3 --wait examples/slurm/convbank-array.sbatch`, the same command (no --shard: each task
#    takes its shard from the SLURM_ARRAY_* variables) into one shared OUT_ARRAY.
# 4. Checks: every task succeeded (sbatch --wait exits with the highest task exit status) and said on stderr
#    which shard it took, the four shards are 0/4…3/4; the tasks' "N inputs" summary counts add up to the
#    single run's count (so, as the union covers every input, no input was done twice); where convbank writes
#    manifests, the tasks' input lists are disjoint and their union is the single run's; every shard is
#    non-empty; OUT_ARRAY equals OUT_SINGLE byte for byte (hidden files and manifests aside), with no temporary
#    file left. Then the same array is submitted again: every task must skip all its inputs (resume).
#
# Every wait has a timeout; the daemons it started (slurmd, slurmctld, munged) are always stopped on exit, by
# PID, and waited for. Last line: `slurm: 1 passed, 0 failed` or `slurm: 0 passed, 1 failed`; exit status 0 / 1.
set -uo pipefail

SCRIPT_STARTED=$(date +%s)
FAILURES=()
fail() { FAILURES+=("$*"); echo "slurm-test: FAIL: $*" >&2; }
say() { echo "slurm-test: $*" >&2; }
verdict() {  # the verdict line, always the last line printed
    if [ ${#FAILURES[@]} -eq 0 ]; then echo "slurm: 1 passed, 0 failed"; exit 0
    else echo "slurm: 0 passed, 1 failed"; exit 1; fi
}
finish() { if [ ${#FAILURES[@]} -eq 0 ]; then exit 0; else exit 1; fi; }  # cleanup (trap EXIT) prints the verdict
abort() { fail "$*"; [ -n "${WORK:-}" ] && finish; verdict; }

[ $# -eq 1 ] || { echo "usage: bash tests/slurm/run.sh BINARY" >&2; echo "slurm: 0 passed, 1 failed"; exit 2; }
WORK=""
BINARY=$(realpath -e "$1" 2>/dev/null) || abort "no binary at '$1' (build first: swift build)"
[ -x "$BINARY" ] || abort "'$BINARY' is not executable"
REPO=$(cd "$(dirname "$0")/../.." && pwd)

# ---------------------------------------------------------------- 1. packages
if [ "$(id -u)" != 0 ]; then
    abort "must run as root (it installs slurm-wlm/munge and starts slurmctld, slurmd and munged as root)"
fi
missing=""
for p in slurm-wlm munge; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
    say "installing$missing with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    { timeout 300 apt-get update -q && timeout 600 apt-get install -y -q --no-install-recommends $missing; } >&2 \
        || abort "apt-get install$missing failed"
fi
for cmd in munged munge unmunge slurmctld slurmd sbatch sinfo squeue scancel runuser timeout; do
    command -v "$cmd" >/dev/null || [ -x "/usr/sbin/$cmd" ] || abort "'$cmd' not found after installing slurm-wlm and munge"
done
PATH="$PATH:/usr/sbin:/sbin"

# ---------------------------------------------------------------- cleanup (always)
WORK=$(mktemp -d /tmp/convbank-slurm.XXXXXX) || abort "mktemp failed"
chmod 755 "$WORK"
MUNGED_PID="" SLURMCTLD_PID="" SLURMD_PID=""
MUNGE_PIDFILE=/run/munge/munged.pid

# Running, and not a zombie waiting for a PID 1 that may never reap it (containers).
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
# Sends SIGTERM to PID and waits up to 15 s for it to exit, then SIGKILL and up to 5 s more.
stop_pid() {
    local name=$1 pid=$2 i
    [ -n "$pid" ] || return 0
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 150; i++)); do alive "$pid" || { say "stopped $name (pid $pid)"; return 0; }; sleep 0.1; done
    say "$name (pid $pid) ignored SIGTERM for 15 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do alive "$pid" || return 0; sleep 0.1; done
    say "$name (pid $pid) is still running"
    return 1
}
read_pidfile() { [ -s "$1" ] && tr -dc '0-9' <"$1"; }

cleanup() {
    local status=$?
    trap - EXIT
    trap '' INT TERM  # a second Ctrl-C must not leave the daemons running
    if [ -n "$SLURMCTLD_PID" ] && alive "$SLURMCTLD_PID"; then
        # No job outlives the cluster: cancel whatever is left (e.g. after a timeout) and give it a moment.
        timeout 10 scancel --quiet --full --user=root >/dev/null 2>&1
        for ((i = 0; i < 50; i++)); do [ -z "$(timeout 5 squeue -h 2>/dev/null)" ] && break; sleep 0.1; done
    fi
    [ -n "$SLURMD_PID" ] || SLURMD_PID=$(read_pidfile "$WORK/slurmd.pid")
    [ -n "$SLURMCTLD_PID" ] || SLURMCTLD_PID=$(read_pidfile "$WORK/slurmctld.pid")
    stop_pid slurmd "$SLURMD_PID"
    stop_pid slurmctld "$SLURMCTLD_PID"
    stop_pid munged "$MUNGED_PID"
    if [ ${#FAILURES[@]} -eq 0 ] && [ "$status" = 0 ]; then rm -rf "$WORK"
    else say "kept $WORK (slurm.conf, logs, task stderr, outputs)"; fi
    say "took $(( $(date +%s) - SCRIPT_STARTED )) s"
    [ "$status" = 0 ] || [ ${#FAILURES[@]} -gt 0 ] || FAILURES+=("exit status $status")
    verdict
}
trap cleanup EXIT
trap 'fail "interrupted"; finish' INT TERM

# ---------------------------------------------------------------- 2a. munge
munge_works() { timeout 5 munge -n 2>/dev/null | timeout 5 unmunge >/dev/null 2>&1; }
if munge_works; then
    say "munged is already running: using it (and leaving it running)"
else
    getent passwd munge >/dev/null || abort "no 'munge' user (the munge package creates it)"
    KEY=/etc/munge/munge.key
    if [ ! -s "$KEY" ]; then
        say "creating $KEY"
        install -d -m 0700 -o munge -g munge /etc/munge
        if command -v mungekey >/dev/null || [ -x /usr/sbin/mungekey ]; then
            mungekey --create --keyfile="$KEY" --force >&2 || abort "mungekey --create failed"
        else
            dd if=/dev/urandom of="$KEY" bs=1024 count=1 status=none || abort "cannot write $KEY"
        fi
    fi
    # munged refuses a key readable by anyone else, and must own it.
    chown munge:munge "$KEY" && chmod 0600 "$KEY" || abort "cannot set $KEY to 0600 munge:munge"
    for d in /run/munge /var/lib/munge /var/log/munge; do
        mkdir -p "$d" && chown munge:munge "$d" || abort "cannot prepare $d"
    done
    chmod 0755 /run/munge
    # A stale pid file from a killed munged makes it refuse to start.
    old=$(read_pidfile "$MUNGE_PIDFILE")
    if [ -n "$old" ] && ! alive "$old"; then rm -f "$MUNGE_PIDFILE"; fi
    runuser -u munge -- /usr/sbin/munged >&2 || abort "munged did not start (see /var/log/munge/munged.log)"
    for ((i = 0; i < 100; i++)); do MUNGED_PID=$(read_pidfile "$MUNGE_PIDFILE"); [ -n "$MUNGED_PID" ] && break; sleep 0.1; done
    [ -n "$MUNGED_PID" ] || abort "munged wrote no $MUNGE_PIDFILE within 10 s"
    for ((i = 0; i < 100; i++)); do munge_works && break; sleep 0.1; done
    munge_works || abort "munge -n | unmunge fails with munged running (pid $MUNGED_PID)"
    say "munged running (pid $MUNGED_PID)"
fi

# ---------------------------------------------------------------- 2b. slurmctld + slurmd
for p in $(pgrep -x slurmctld; pgrep -x slurmd); do
    alive "$p" && abort "a slurmctld or slurmd is already running (pid $p); this test starts its own (ports 6817/6818)"
done
NODE=$(hostname -s 2>/dev/null || uname -n | cut -d. -f1)
CPUS=$(nproc)
MEM=$(slurmd -C 2>/dev/null | tr ' ' '\n' | sed -n 's/^RealMemory=//p' | head -n1)
[ -n "$MEM" ] || MEM=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
mkdir -p "$WORK/state" "$WORK/spool"
export SLURM_CONF="$WORK/slurm.conf"
cat >"$SLURM_CONF" <<EOF
# Throw-away single-node cluster for convbank's tests/slurm/run.sh
ClusterName=convbanktest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SchedulerParameters=batch_sched_delay=0
MinJobAge=4
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF

show_logs() {
    for f in "$WORK/slurmctld.log" "$WORK/slurmd.log"; do
        [ -f "$f" ] && { echo "----- last lines of $f" >&2; tail -n 25 "$f" >&2; }
    done
}
wait_pidfile() {  # wait_pidfile FILE NAME -> prints the pid
    local pid i
    for ((i = 0; i < 100; i++)); do pid=$(read_pidfile "$1"); [ -n "$pid" ] && { echo "$pid"; return 0; }; sleep 0.1; done
    return 1
}
slurmctld -f "$SLURM_CONF" >&2 || { show_logs; abort "slurmctld did not start"; }
SLURMCTLD_PID=$(wait_pidfile "$WORK/slurmctld.pid") || { show_logs; abort "slurmctld wrote no pid file within 10 s"; }
slurmd -f "$SLURM_CONF" -N "$NODE" >&2 || { show_logs; abort "slurmd did not start"; }
SLURMD_PID=$(wait_pidfile "$WORK/slurmd.pid") || { show_logs; abort "slurmd wrote no pid file within 10 s"; }
say "slurmctld (pid $SLURMCTLD_PID) and slurmd (pid $SLURMD_PID) running; node $NODE, $CPUS CPUs, ${MEM} MB"

state=""
for ((i = 0; i < 600; i++)); do  # 60 s
    state=$(timeout 5 sinfo -h -N -o %t 2>/dev/null | head -n1)
    [ "$state" = idle ] && break
    alive "$SLURMCTLD_PID" || { show_logs; abort "slurmctld exited"; }
    alive "$SLURMD_PID" || { show_logs; abort "slurmd exited"; }
    sleep 0.1
done
[ "$state" = idle ] || { show_logs; abort "node not idle within 60 s (state '${state:-none}')"; }
say "node $NODE idle after $(( $(date +%s) - SCRIPT_STARTED )) s"

# ---------------------------------------------------------------- 3. images
IN="$WORK/images"
FIX="$REPO/Tests/ConvBankTests/Fixtures/testdata"
mkdir -p "$IN/pngsuite/plain" "$IN/pngsuite/interlaced" "$IN/pngsuite/background" "$IN/jpeg/deeper/still deeper" \
    "$IN/with space"
cp "$FIX"/pngsuite/basn*.png "$IN/pngsuite/plain/" 2>/dev/null
cp "$FIX"/pngsuite/basi*.png "$IN/pngsuite/interlaced/" 2>/dev/null
cp "$FIX"/pngsuite/bg*.png "$IN/pngsuite/background/" 2>/dev/null
for f in ycc411 ycc420_odd_restart ycc440 gray_progressive; do cp "$FIX/jpeg/$f.jpg" "$IN/jpeg/" 2>/dev/null; done
for f in cmyk cmyk_orient8 ycck gray_progressive_orient6; do cp "$FIX/jpeg/$f.jpg" "$IN/jpeg/deeper/still deeper/" 2>/dev/null; done
cp "$REPO/SampleImages/chelsea-gray.png" "$IN/with space/chelsea gray.png" 2>/dev/null
cp "$FIX/pngsuite/basn2c08.png" "$IN/top-level.PNG" 2>/dev/null
STAGED=$(find "$IN" -type f | wc -l)
[ "$STAGED" -ge 20 ] || abort "only $STAGED images staged from $FIX and SampleImages (expected ~48)"
say "staged $STAGED images in $(find "$IN" -mindepth 1 -type d | wc -l) subfolders"

# ---------------------------------------------------------------- 3b. single run and array run
BANK=edges
OUT_SINGLE="$WORK/out-single"
OUT_ARRAY="$WORK/out-array"
# The reference run must not be sharded whatever environment this script runs in.
env -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_COUNT -u SLURM_ARRAY_TASK_MIN -u JOB_COMPLETION_INDEX \
    -u CONVBANK_SHARD_COUNT timeout 120 "$BINARY" apply "$IN" --bank "$BANK" --output "$OUT_SINGLE" \
    2>"$WORK/single.err"
rc=$?
[ "$rc" = 0 ] || { cat "$WORK/single.err" >&2; abort "single run exited $rc"; }
grep -q "taking shard" "$WORK/single.err" && fail "the single run took a shard: $(grep 'taking shard' "$WORK/single.err")"
summary_count() { sed -n 's/^convbank: \([0-9][0-9]*\) inputs\{0,1\}: .*/\1/p' "$1" | tail -n1; }
SINGLE_N=$(summary_count "$WORK/single.err")
[ -n "$SINGLE_N" ] || { cat "$WORK/single.err" >&2; abort "no 'convbank: N inputs: …' summary in the single run's stderr"; }
[ "$SINGLE_N" = "$STAGED" ] || fail "the single run counted $SINGLE_N inputs, $STAGED were staged"
say "single run: $(grep '^convbank: [0-9]' "$WORK/single.err")"

# The shipped example itself, its #SBATCH defaults (16 tasks, 8 CPUs, 8G, logs/) overridden for this small
# node; it runs `convbank apply "$INPUT" --bank "$BANK" --output "$OUTPUT" --jobs "$SLURM_CPUS_PER_TASK"` with
# no --shard. Each task's stdout and stderr go to task-<index>.err. Tasks inherit this environment (sbatch's
# default) minus a stray Kubernetes shard; Slurm sets SLURM_ARRAY_*.
SBATCH_SCRIPT="$REPO/examples/slurm/convbank-array.sbatch"
[ -f "$SBATCH_SCRIPT" ] || abort "no $SBATCH_SCRIPT"
ARRAY_STARTED=$(date +%s)
INPUT="$IN" BANK="$BANK" OUTPUT="$OUT_ARRAY" CONVBANK="$BINARY" \
    timeout 120 env -u JOB_COMPLETION_INDEX -u CONVBANK_SHARD_COUNT \
    sbatch --wait --quiet --array=0-3 --cpus-per-task=1 --mem=256M --time=00:03:00 --job-name=convbank-test \
        --chdir="$WORK" --output="$WORK/task-%a.err" "$SBATCH_SCRIPT" >"$WORK/sbatch.out" 2>&1
rc=$?
[ "$rc" = 0 ] || { cat "$WORK/sbatch.out" >&2; [ "$rc" = 124 ] && say "sbatch --wait timed out after 120 s"; }
say "array job finished in $(( $(date +%s) - ARRAY_STARTED )) s (sbatch --wait exit $rc)"
[ "$rc" = 0 ] || fail "sbatch --array=0-3 --wait exited $rc"

# ---------------------------------------------------------------- 4. checks
TOTAL=0
SHARDS=""
for t in 0 1 2 3; do
    err="$WORK/task-$t.err"
    if [ ! -f "$err" ]; then
        fail "task $t left no stderr ($err)"
        continue
    fi
    line=$(grep -m1 "taking shard" "$err")
    if [ -z "$line" ]; then
        cat "$err" >&2; fail "task $t did not say it took a shard from the Slurm array"
    else
        case "$line" in
            *"taking shard $t/4 from the Slurm array task"*) ;;
            *) fail "task $t: expected shard $t/4 from the Slurm array, got: $line" ;;
        esac
        SHARDS="$SHARDS $t"
    fi
    n=$(summary_count "$err")
    if [ -z "$n" ]; then
        cat "$err" >&2; fail "task $t printed no 'convbank: N inputs: …' summary"
    else
        summary=$(grep '^convbank: [0-9]' "$err" | tail -n1)
        case "$summary" in
            "convbank: $n input"*": $n succeeded,"*" 0 failed;"*", shard $t/4") ;;
            *) fail "task $t: expected '$n succeeded, … 0 failed … shard $t/4' in: $summary" ;;
        esac
        [ "$n" -gt 0 ] || fail "task $t (shard $t/4) got no input at all"
        TOTAL=$((TOTAL + n))
        say "task $t: $line | $(grep '^convbank: [0-9]' "$err")"
    fi
done
[ "$TOTAL" = "$SINGLE_N" ] \
    || fail "the tasks processed $TOTAL inputs in all, the single run $SINGLE_N (an input done twice, or one missed)"

# Where convbank keeps a manifest (one JSON line per input: manifest.jsonl, manifest.shard-K-of-N.jsonl), the
# tasks' input lists must be disjoint and together equal the single run's.
if command -v python3 >/dev/null && [ -f "$OUT_SINGLE/manifest.jsonl" ]; then
    if python3 - "$OUT_SINGLE/manifest.jsonl" "$OUT_ARRAY"/manifest.shard-*-of-4.jsonl >"$WORK/manifests.txt" 2>&1 <<'PY'
import collections, json, sys
def inputs(path):
    with open(path) as f:
        return [json.loads(line)["input"] for line in f if line.strip()]
single, shards = inputs(sys.argv[1]), [inputs(p) for p in sys.argv[2:]]
seen = collections.Counter(i for s in shards for i in s)
twice = sorted(i for i, n in seen.items() if n > 1)
missing, extra = sorted(set(single) - set(seen)), sorted(set(seen) - set(single))
print(f"{len(sys.argv) - 2} shard manifests, {sum(map(len, shards))} inputs; single run {len(single)}")
for name, items in (("done twice", twice), ("missing", missing), ("not in the single run", extra)):
    for i in items[:5]: print(f"{name}: {i}")
sys.exit(1 if twice or missing or extra or len(sys.argv) - 2 != 4 else 0)
PY
    then say "manifests: $(head -n1 "$WORK/manifests.txt"): disjoint, union = single run"
    else cat "$WORK/manifests.txt" >&2; fail "the tasks' manifests are not 4 disjoint lists whose union is the single run's"
    fi
fi

if [ -d "$OUT_ARRAY" ]; then
    if diff -r --exclude='.*' --exclude=stats.csv --exclude=index.html --exclude='manifest*' \
        "$OUT_SINGLE" "$OUT_ARRAY" >"$WORK/diff.txt" 2>&1; then
        files=$(find "$OUT_SINGLE" -type f ! -name '.*' ! -name 'manifest*' | wc -l)
        say "union of the 4 tasks' outputs equals the single run: $files files, byte for byte"
    else
        head -n 20 "$WORK/diff.txt" >&2
        fail "OUT_ARRAY differs from OUT_SINGLE ($(wc -l <"$WORK/diff.txt") lines of diff -r)"
    fi
    leftovers=$(find "$OUT_ARRAY" -name '.*.tmp-*' | head -n 3)
    [ -z "$leftovers" ] || fail "temporary files left in OUT_ARRAY: $leftovers"
else
    fail "no $OUT_ARRAY"
fi
# Resubmitting the same array resumes: every input is already complete, so every task skips all of its own.
if [ ${#FAILURES[@]} -eq 0 ] && grep -q ' skipped, ' "$WORK/task-0.err"; then
    RERUN_STARTED=$(date +%s)
    INPUT="$IN" BANK="$BANK" OUTPUT="$OUT_ARRAY" CONVBANK="$BINARY" \
        timeout 120 env -u JOB_COMPLETION_INDEX -u CONVBANK_SHARD_COUNT \
        sbatch --wait --quiet --array=0-3 --cpus-per-task=1 --mem=256M --time=00:03:00 --job-name=convbank-rerun \
            --chdir="$WORK" --output="$WORK/rerun-%a.err" "$SBATCH_SCRIPT" >"$WORK/sbatch-rerun.out" 2>&1
    rc=$?
    [ "$rc" = 0 ] || { cat "$WORK/sbatch-rerun.out" >&2; fail "the second sbatch --array=0-3 --wait exited $rc"; }
    for t in 0 1 2 3; do
        n=$(summary_count "$WORK/task-$t.err")
        summary=$(grep '^convbank: [0-9]' "$WORK/rerun-$t.err" 2>/dev/null | tail -n1)
        case "$summary" in
            "convbank: $n input"*": 0 succeeded, $n skipped, 0 failed;"*", shard $t/4") ;;
            *) fail "rerun of task $t: expected '0 succeeded, $n skipped, 0 failed … shard $t/4' in: ${summary:-nothing}" ;;
        esac
    done
    say "rerun of the array finished in $(( $(date +%s) - RERUN_STARTED )) s: every task skipped all its inputs"
    diff -r --exclude='.*' --exclude='manifest*' "$OUT_SINGLE" "$OUT_ARRAY" >/dev/null 2>&1 \
        || fail "OUT_ARRAY differs from OUT_SINGLE after the rerun"
fi
[ ${#FAILURES[@]} -eq 0 ] || show_logs
finish
