#!/usr/bin/env bash
# The agent's CPU and RSS at a steady connection rate from one long-lived process with a secret
# on its command line, with the built-in redactor once per process (perProcess, the default)
# and on every flow (perProcess: false), alternately; and whether the secret reached the output.
# Needs root (BPF). usage: sudo bash bench/agent-redaction.sh [RATE=800] [ROUNDS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-800}; ROUNDS=${ROUNDS:-2}; LOAD_SECS=60; MEASURE_SECS=50
work=$(mktemp -d /tmp/procflow-agent-redaction.XXXXXX); chmod 700 "$work"
trap 'pkill -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
for mode in on off; do
  cat > "$work/$mode.yaml" <<YAML
flushInterval: 2s
aggregationKindForAllowed: 0
includeLoopback: true
statsInterval: 20s
dataDir: $work/data-$mode
sinks:
  - { type: file, path: $work/data-$mode/flows.log, maxFileSizeMB: 50, maxFiles: 2 }
plugins:
  chain:
    - { name: redact-args, stage: redactor, path: "builtin:redact-args", perProcess: $([ $mode = on ] && echo true || echo false) }
YAML
done
echo "agent-redaction: $RATE connections/s for ${LOAD_SECS}s per run, CPU measured over ${MEASURE_SECS}s; node $(node --version)"
for round in $(seq 1 "$ROUNDS"); do
  for mode in on off; do
    rm -rf "$work/data-$mode"; mkdir -m 700 "$work/data-$mode"
    node bin/procflow.js run --config "$work/$mode.yaml" --duration $((LOAD_SECS + 15))s > "$work/agent-$mode.log" 2>&1 &
    agent=$!
    for _ in $(seq 1 150); do grep -q '"msg":"procflow ready' "$work/agent-$mode.log" && break; sleep 0.2; done
    grep -q '"msg":"procflow ready' "$work/agent-$mode.log" || { echo "the agent did not start:"; cat "$work/agent-$mode.log"; exit 1; }
    RATE=$RATE SECS=$LOAD_SECS node bench/lib/conn-load.mjs "$work" --password=hunter2-bench-secret > /dev/null &
    sleep 5
    c0=$(awk '{print $14+$15}' /proc/$agent/stat); t0=$(date +%s.%N)
    sleep $MEASURE_SECS
    c1=$(awk '{print $14+$15}' /proc/$agent/stat); t1=$(date +%s.%N)
    rss=$(awk '/VmRSS/{print $2}' /proc/$agent/status)
    wait
    leaked=$(cat "$work/data-$mode"/flows.log* | grep -c 'hunter2-bench-secret' || true)
    records=$(grep -o '"records":[0-9]*,"msg":"stopped"' "$work/agent-$mode.log" | grep -o '[0-9]*' || echo '?')
    printf 'round %s perProcess %-3s agent CPU %5.1f %% of a core, RSS %d MiB, %s records, secret in output: %s\n' \
      "$round" "$mode" "$(echo "100 * ($c1 - $c0) / $(getconf CLK_TCK) / ($t1 - $t0)" | bc -l)" $((rss / 1024)) "$records" "$leaked"
  done
done
