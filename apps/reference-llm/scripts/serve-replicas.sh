#!/usr/bin/env bash
# Two `reference-llm serve` replicas behind nginx (Debian's, round robin), on loopback: checks that
# requests and streams pass through, that both replicas take requests, and that when one replica
# dies the other keeps answering (nginx marks it failed and retries the request on the other).
#
#   bash apps/reference-llm/scripts/serve-replicas.sh [RUN_DIR]
#
# RUN_DIR is a run folder to serve (default: a 20-step `tiny` pretrain made here). Needs the
# app built (npm run build) and nginx (apt-get install nginx). Exits non-zero on a failed check.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=dist/cli.js
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "serve-replicas: $*" >&2
  for log in "$work"/*.log; do echo "--- $log" >&2; tail -20 "$log" >&2; done
  exit 1
}

command -v nginx >/dev/null || fail 'nginx is not installed (apt-get install nginx)'
run=${1:-}
if [ -z "$run" ]; then
  run="$work/tiny"
  node "$cli" pretrain --preset tiny --steps 20 --out "$run" >"$work/pretrain.log" 2>&1 ||
    fail 'pretrain failed'
fi

# Each replica on a free port of its own; it prints "serving on http://127.0.0.1:PORT".
start_replica() {
  node "$cli" serve --model "tiny=$run" --port 0 --max-batch 4 >"$work/$1.log" 2>&1 &
  pids+=($!)
}
url_of() {
  local name=$1 pid=$2 url
  for _ in $(seq 600); do
    url=$(grep -o 'serving on http://[0-9.:]*' "$work/$name.log" | cut -d' ' -f3 || true)
    if [ -n "$url" ]; then echo "$url"; return; fi
    kill -0 "$pid" 2>/dev/null || fail "replica $name exited"
    sleep 0.2
  done
  fail "replica $name did not start"
}
start_replica a
pid_a=${pids[-1]}
start_replica b
pid_b=${pids[-1]}
a=$(url_of a "$pid_a")
b=$(url_of b "$pid_b")
echo "replicas: $a $b"

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  upstream tessera {
    # Round robin; a replica that fails once is left out for 10 s (passive health checks).
    server ${a#http://} max_fails=1 fail_timeout=10s;
    server ${b#http://} max_fails=1 fail_timeout=10s;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://tessera;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;                # stream server-sent events as they come
      proxy_read_timeout 300s;
      proxy_next_upstream error timeout http_502 http_503;
    }
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' >"$work/nginx.out.log" 2>&1 &
pids+=($!)
lb="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$lb/health" >/dev/null && break; sleep 0.1; done
curl -sf "$lb/health" | grep -q '"status":"ok"' || fail "nginx at $lb does not answer /health"
echo "nginx: $lb"

complete() {
  curl -sf "$lb/v1/completions" -H 'content-type: application/json' \
    -d '{"model": "tiny", "prompt": "ROMEO:", "max_tokens": 8, "seed": 1}'
}
served() { # completions a replica answered, from its own metrics
  curl -sf "$1/metrics" | awk '/^tessera_requests_total\{route="\/v1\/completions",status="200"\}/ {print $2}'
}

for _ in $(seq 10); do complete | grep -q '"object":"text_completion"' || fail 'a completion through nginx failed'; done
ca=$(served "$a"); cb=$(served "$b")
echo "round robin: replica a answered ${ca:-0}, replica b ${cb:-0} of 10"
[ "${ca:-0}" -ge 3 ] && [ "${cb:-0}" -ge 3 ] || fail 'the requests did not go to both replicas'

stream=$(curl -sfN "$lb/v1/chat/completions" -H 'content-type: application/json' \
  -d '{"model": "tiny", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8, "stream": true}')
echo "$stream" | grep -q '^data: \[DONE\]' || fail 'a stream through nginx did not end with [DONE]'
echo "streaming: $(echo "$stream" | grep -c '^data: ') events through nginx"

kill "$pid_a"
wait "$pid_a" 2>/dev/null || true
for _ in $(seq 6); do complete | grep -q '"object":"text_completion"' || fail 'a completion failed after replica a died'; done
echo 'failover: 6 of 6 completions answered after replica a stopped'
echo 'serve-replicas: all checks passed'
