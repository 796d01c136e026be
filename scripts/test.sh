#!/usr/bin/env bash
# Run the whole test suite: set up this machine (engines, dockerd, test user,
# images), then every unit test and every real-engine test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-host.sh
# Real-engine tests start nested engines: two at a time suits a 2-core machine.
cargo test --locked -- --test-threads="${DINDBOX_TEST_THREADS:-2}"
