# Sourced by bench/pinned.sh and bench/instructions.sh: an nginx origin on 127.0.0.1 serving a
# 1 KiB file at /1k from $WORK/www, one worker, no access log, keep-alive without a limit.
#
#   start_one_kib_origin PORT [COMMAND PREFIX...]   e.g. start_one_kib_origin 8080 taskset -c 0
#
# Needs $WORK (a world-traversable directory: nginx's workers run as nobody) and the PIDS array
# of the caller's cleanup, to which it adds nginx's.
start_one_kib_origin() {
    local port=$1
    shift
    mkdir -p "$WORK/www"
    head -c 1024 /dev/zero | tr '\0' 'a' >"$WORK/www/1k"
    cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/tmp-body; proxy_temp_path $WORK/tmp-proxy;
    fastcgi_temp_path $WORK/tmp-fcgi; uwsgi_temp_path $WORK/tmp-uwsgi; scgi_temp_path $WORK/tmp-scgi;
    server { listen 127.0.0.1:$port; root $WORK/www; }
}
CONF
    "$@" nginx -p "$WORK" -c "$WORK/nginx.conf" >/dev/null 2>&1 &
    PIDS+=($!)
}
