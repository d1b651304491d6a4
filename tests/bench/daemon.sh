# Sourced by the benchmark scripts: start_daemon BUILD NAME POLICIES [OPTIONS...] starts a
# release verdictd on $work/NAME.sock with the repository's data, adds its pid to the pids
# array, and waits until it answers (1 when it does not); at exit the daemons are stopped and
# $work removed. Needs $work and $root.
pids=()
stop_daemons() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop_daemons EXIT

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
