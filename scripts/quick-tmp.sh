# quick interleave-free check of one workload: W=s3-get SIZE=4KiB C=16
source scripts/bench-common.sh
start_coffer
b() { target/release/coffer-bench --endpoint $endpoint --server-pid $pid --concurrency ${C:-16} --object-size ${SIZE:-4KiB} --objects ${N:-1000} --bucket bench-b --seconds ${S:-5} "$@"; }
b --populate --workloads ${BASE:-trivial-get} | jq -c "{workload,ops_per_sec,mib_per_sec,p99_us}"
b --workloads ${W:-s3-get} | jq -c "{workload,ops_per_sec,mib_per_sec,server_cpu_us_per_op,server_cpu_ms_per_mib,p99_us}"
