#!/usr/bin/env bash
# Serve the app as N replicas behind HAProxy with sticky sessions, until stopped.
# Usage: bash scripts/serve_replicas.sh N PORT [ADDRESS]
#   N replicas of `streamlit run app.py` on 127.0.0.1 (ports PORT+1 .. PORT+N, or the ports
#   listed in REPLICA_PORTS), and HAProxy on ADDRESS:PORT (default 127.0.0.1; 0.0.0.0 serves
#   the network). A session stays on one replica: HAProxy's SERVERID cookie names it (an IP
#   hash would not do: every browser behind one NAT, or on this machine, has the same IP), so
#   its page, its websocket (/_stcore/stream, upgraded through the proxy) and its reloads all
#   reach the replica that holds its session state. Every response names its replica in an
#   X-Replica header. HAProxy logs one line per request to stdout.
# Ctrl-C or SIGTERM stops the proxy and every replica; so does any of them exiting.
# Environment: PYTHON (default .venv/bin/python), HAPROXY (default: haproxy on the PATH or
# /usr/sbin/haproxy; `bash scripts/setup.sh` installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ] || ! [[ "$1" =~ ^[1-9][0-9]*$ ]] || ! [[ "$2" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: bash scripts/serve_replicas.sh N PORT [ADDRESS]" >&2
  exit 2
fi
replicas=$1
port=$2
address=${3:-127.0.0.1}
python=${PYTHON:-.venv/bin/python}
haproxy=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
if [ ! -x "$haproxy" ]; then
  echo "serve_replicas: HAProxy not found ($haproxy): run bash scripts/setup.sh" >&2
  exit 1
fi
read -r -a ports <<<"${REPLICA_PORTS:-}"
if [ "${#ports[@]}" -eq 0 ]; then
  for i in $(seq 1 "$replicas"); do ports+=($((port + i))); done
elif [ "${#ports[@]}" -ne "$replicas" ]; then
  echo "serve_replicas: REPLICA_PORTS names ${#ports[@]} ports for $replicas replicas" >&2
  exit 2
fi

workdir=$(mktemp -d -t serve_replicas.XXXXXX)
pids=()
stop() {
  # Ignored from here on: a signal sent to the whole process group (Ctrl-C, timeout, kill of
  # the group) reaches this shell more than once, and must not cut the cleanup short.
  trap - EXIT
  trap '' INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$workdir"
}
trap stop EXIT
trap 'exit 143' INT TERM

# One cookie secret for all replicas: Streamlit signs its XSRF cookie (uploads) with it, so
# a session that fails over to another replica keeps a valid token.
# (Streamlit takes it from the environment only, which also keeps it out of `ps`.)
STREAMLIT_SERVER_COOKIE_SECRET=$("$python" -c 'import secrets; print(secrets.token_hex(32))')
export STREAMLIT_SERVER_COOKIE_SECRET
for i in $(seq 1 "$replicas"); do
  "$python" -m streamlit run app.py \
    --server.headless true \
    --server.address 127.0.0.1 \
    --server.port "${ports[$((i - 1))]}" \
    --browser.gatherUsageStats false \
    > "$workdir/replica$i.log" 2>&1 &
  pids+=($!)
done

{
  cat <<EOF
global
    maxconn 4096
    log stdout format raw local0

defaults
    mode http
    log global
    # One line per request as soon as its headers are in (a websocket lives for hours):
    # replica, status, the SERVERID cookie the request carried, and the request line.
    option logasap
    log-format "%b/%s %ST sent=%CC %{+Q}r"
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    # An open websocket is a tunnel: Streamlit pings it, so idle means gone.
    timeout tunnel 1h

frontend app
    bind ${address}:${port}
    capture cookie SERVERID len 32
    default_backend replicas

backend replicas
    # Each new session (a request without the cookie) goes to the next replica in turn.
    balance roundrobin
    # Sticky by cookie, not by client IP. indirect: the replicas never see the cookie;
    # nocache: shared caches must not store a response that sets it.
    cookie SERVERID insert indirect nocache
    option httpchk GET /_stcore/health
    # A replica busy with a large run answers its health check late: give it time, and take
    # it out only after several misses in a row (its sessions would move to another replica).
    timeout check 10s
    http-response set-header X-Replica %[srv_name]
EOF
  for i in $(seq 1 "$replicas"); do
    echo "    server r$i 127.0.0.1:${ports[$((i - 1))]} cookie r$i check inter 2s fall 5 rise 1"
  done
} > "$workdir/haproxy.cfg"
"$haproxy" -c -q -f "$workdir/haproxy.cfg"
"$haproxy" -db -f "$workdir/haproxy.cfg" &
pids+=($!)
echo "serve_replicas: $replicas replicas (ports ${ports[*]}) behind http://$address:$port/" \
  "(logs and config in $workdir)"

# Runs until a signal, or until the proxy or a replica exits (then all stop).
set +e
wait -n "${pids[@]}"
status=$?
echo "serve_replicas: a process exited (status $status); stopping all. Replica logs:" >&2
tail -n 20 "$workdir"/replica*.log >&2
exit "$status"
