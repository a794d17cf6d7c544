#!/bin/sh
# Every built-in scenario on every model, short windows (the scenario table of docs/scenarios.md).
# Usage: sh bench/all-scenarios.sh [extra bench flags...]   (after npm run build)
set -u
for s in $(node dist/cli/main.js --list-scenarios | cut -d' ' -f1); do
  case "$s" in
    c10k) window="--duration 5" ;;
    *) window="--duration 3 --warmup 1" ;;
  esac
  echo "\$ npm run bench -- --scenario $s --model all $window $*"
  # shellcheck disable=SC2086
  node dist/cli/main.js bench --scenario "$s" --model all $window "$@" --out results/scenarios 2>&1 | grep -v '^\[' 
  echo
done
