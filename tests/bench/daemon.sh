# Sourced by the benchmark scripts: start_daemon BUILD NAME POLICIES [OPTIONS...] starts a
# release verdictd on $work/NAME.sock with the repository's data, adds its pid to the pids
# array, and waits until it answers (1 when it does not). Needs $work, $root and pids=().
start_daemon() {
  local build=$1 name=$2 policies=$3
  shift 3
  "$build/bin/verdictd" --socket "$work/$name.sock" --policies "$policies" \
    --data-dir "$root/data" --plugin-dir "$build/plugins" --log-level warn "$@" &
  pids+=($!)
  for _ in $(seq 100); do
    "$build/bin/verdict" --socket "$work/$name.sock" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "verdictd in $build did not start" >&2
  return 1
}
