# Sourced by the scripts/bench* scripts: builds the release binaries and starts (and stops) a
# release Coffer on a fresh data dir with a known root key. Sets $data, $pid and $endpoint.
# COFFER_BIN runs another build of Coffer instead (scripts/bench-compare).
# COFFER_BENCH_FRESH_FS=SIZE (e.g. 24G; needs root) puts the data dir on a journaled ext4 made
# for the run in a loop file under /var/tmp, removed at exit: a disk's history (and a
# file system without a journal) skews PUT figures, see docs/DESIGN.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p coffer -p coffer-bench >&2
fresh_fs=""
if [ -n "${COFFER_BENCH_FRESH_FS:-}" ]; then
    fresh_fs="$(mktemp -d /var/tmp/coffer-benchfs.XXXXXX)"
    truncate -s "$COFFER_BENCH_FRESH_FS" "$fresh_fs.img"
    mkfs.ext4 -q -F "$fresh_fs.img"
    mount -o loop "$fresh_fs.img" "$fresh_fs"
    data="$(mktemp -d "$fresh_fs/coffer-bench.XXXXXX")"
else
    data="$(mktemp -d "${TMPDIR:-/tmp}/coffer-bench.XXXXXX")"
fi
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
pid=""
endpoint=""
start_coffer() {
    COFFER_ROOT_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" COFFER_ROOT_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" \
    COFFER_LOG=warn "${COFFER_BIN:-target/release/coffer}" serve --data-dir "$data/coffer" --listen 127.0.0.1:0 \
        --console-listen 127.0.0.1:0 >"$data/log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q "Coffer is serving" "$data/log" 2>/dev/null && break; sleep 0.1; done
    endpoint="$(sed -n 's/^Coffer is serving S3, IAM and STS at \(https\{0,1\}:[^ ]*\).*/\1/p' "$data/log")"
    [ -n "$endpoint" ] || { cat "$data/log" >&2; exit 1; }
}
stop_coffer() { kill "$pid"; wait "$pid" 2>/dev/null || true; }
cleanup() {
    kill $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    rm -rf "$data"
    if [ -n "$fresh_fs" ]; then
        umount "$fresh_fs" && rm -rf "$fresh_fs" "$fresh_fs.img"
    fi
}
trap cleanup EXIT
