#!/usr/bin/env bash
# Runs each argument as a command, side by side, and fails if any of them fails. The test task runs
# the type check and the lint this way: each is one process on one core.
set -u
pids=()
for command in "$@"; do
  bash -c "$command" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
exit "$status"
