#!/usr/bin/env bash
# A real single-node Slurm on this machine, for the Slurm tests and for trying the
# Slurm training service: installs Debian's slurmctld, slurmd, slurm-client and munge
# (once), starts munged, slurmctld and slurmd bound to 127.0.0.1 with a one-node
# config written from `slurmd -C`, waits until the node is idle; `stop` ends exactly
# the daemons it started (by PID). No systemd is involved.
#
#   bash scripts/slurm-dev.sh start     # prints the state folder
#   bash scripts/slurm-dev.sh stop
#   bash scripts/slurm-dev.sh status
#
# State (config, logs, PID files): $ARCHON_SLURM_DIR or /tmp/archon-slurm. Needs root
# (it writes /etc/slurm/slurm.conf and starts munged as the munge user).
set -euo pipefail
state="${ARCHON_SLURM_DIR:-/tmp/archon-slurm}"
say() { echo "[slurm-dev] $*" >&2; }

# A PID counts as alive only if it exists and is not a zombie.
alive() {
    local pid="$1" st
    st="$(ps -o stat= -p "$pid" 2>/dev/null | tr -d ' ')" || return 1
    [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}

pid_of() { [ -f "$state/$1.pid" ] && cat "$state/$1.pid" || true; }

stop_one() {
    local name="$1" pid
    pid="$(pid_of "$name")"
    [ -n "$pid" ] || return 0
    if alive "$pid"; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
        alive "$pid" && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$state/$name.pid"
}

install() {
    local need=()
    command -v slurmctld >/dev/null || need+=(slurmctld)
    command -v slurmd >/dev/null || need+=(slurmd)
    command -v sbatch >/dev/null || need+=(slurm-client)
    command -v munged >/dev/null || need+=(munge)
    if [ ${#need[@]} -gt 0 ]; then
        say "installing ${need[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fi
}

start() {
    install
    mkdir -p "$state/ctld" "$state/spool"
    # munge: a key readable by munge only, its run folders, the daemon as munge.
    mkdir -p /run/munge /var/lib/munge /var/log/munge /etc/munge
    [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=128 count=1 status=none
    chown munge:munge /etc/munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
    chmod 0700 /etc/munge
    chmod 0400 /etc/munge/munge.key
    if ! { pid="$(pid_of munged)"; [ -n "$pid" ] && alive "$pid"; }; then
        rm -f /run/munge/munge.socket.2 /run/munge/munged.pid
        runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
        for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
        cp /run/munge/munged.pid "$state/munged.pid"
    fi
    munge -n | unmunge >/dev/null || { say "munge does not work"; exit 1; }

    local host node
    host="$(hostname -s)"
    node="$(slurmd -C | head -n 1)"
    mkdir -p /etc/slurm
    cat > /etc/slurm/slurm.conf <<CONF
# Written by archon's scripts/slurm-dev.sh: one node on loopback, for tests.
ClusterName=archon
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
JobCompType=jobcomp/filetxt
JobCompLoc=$state/jobcomp.txt
ReturnToService=2
KillWait=2
MinJobAge=60
InactiveLimit=0
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    if ! { pid="$(pid_of slurmctld)"; [ -n "$pid" ] && alive "$pid"; }; then
        slurmctld -i
    fi
    if ! { pid="$(pid_of slurmd)"; [ -n "$pid" ] && alive "$pid"; }; then
        slurmd
    fi
    for _ in $(seq 150); do
        if [ "$(sinfo -h -o %t 2>/dev/null | head -n 1)" = "idle" ]; then
            say "up: node $(sinfo -h -o %N) idle; state in $state"
            echo "$state"
            return 0
        fi
        scontrol update nodename="$(sinfo -h -o %N 2>/dev/null | head -n 1)" state=resume >/dev/null 2>&1 || true
        sleep 0.2
    done
    say "the node did not become idle; see $state/slurmctld.log and $state/slurmd.log"
    sinfo >&2 || true
    exit 1
}

stop() {
    # Jobs first, then the daemons this script started.
    command -v scancel >/dev/null && scancel --user="$(id -un)" >/dev/null 2>&1 || true
    stop_one slurmd
    stop_one slurmctld
    stop_one munged
    say "stopped"
}

status() {
    for d in munged slurmctld slurmd; do
        pid="$(pid_of "$d")"
        if [ -n "$pid" ] && alive "$pid"; then echo "$d: running ($pid)"; else echo "$d: not running"; fi
    done
    sinfo 2>/dev/null || true
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
