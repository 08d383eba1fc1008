#!/usr/bin/env bash
# `make run`: run `lantern serve` in the foreground against a nats-server.
#
# - If nothing answers at NATS_URL's host:port (and that host is this machine),
#   starts nats-server >= 2.10 (scripts/nats.sh) with deploy/nats/single.conf
#   (JetStream, sync_interval: always), storing under $LANTERN_DATA_DIR/nats,
#   logging to $LANTERN_DATA_DIR/nats-server.log, and stops it on exit.
#   If a NATS server already answers there, uses it as it is.
# - NATS is not open: the started nats-server lets in only Lantern's user
#   (deploy/nats/accounts.conf). Unless NATS_USER and NATS_PASSWORD are set,
#   the user is `lantern` and the password the one kept in
#   $LANTERN_DATA_DIR/nats-password, generated the first time; both go to
#   nats-server and to lantern. A store written before NATS had accounts
#   (its stream in the global account) is moved into Lantern's account once.
# - If LANTERN_ADMIN_TOKEN is unset, uses the one kept in
#   $LANTERN_DATA_DIR/admin-token, generating (and printing) it the first time.
# - Ctrl-C (or SIGTERM) is forwarded to lantern once, which shuts down
#   gracefully; a second Ctrl-C kills it. nats-server is stopped after lantern.
#
# Builds nothing: `make run` builds first. Extra arguments go to `lantern serve`.
#
# Environment:
#   NATS_URL            default nats://127.0.0.1:4222
#   LANTERN_HTTP_ADDR   default 127.0.0.1:8080
#   LANTERN_DATA_DIR    default <repo>/var
#   LANTERN_ADMIN_TOKEN default: kept in $LANTERN_DATA_DIR/admin-token
#   NATS_USER           default lantern
#   NATS_PASSWORD       default: kept in $LANTERN_DATA_DIR/nats-password
#   LANTERN_BIN         default <repo>/target/debug/lantern
#   NATS_SERVER_BIN     nats-server to start (default: see scripts/nats.sh)
#   NATS_MONITOR_PORT   if set, the started nats-server serves monitoring
#                       (/varz, /jsz, /healthz) on 127.0.0.1:<port>
#   NATS_START_TIMEOUT  seconds to wait for the started nats-server (default 30)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT

log() { printf 'run.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Relative paths the user gave are relative to where they ran us from.
absolute() {
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$PWD" "${1#./}" ;;
    esac
}

NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"
LANTERN_HTTP_ADDR="${LANTERN_HTTP_ADDR:-127.0.0.1:8080}"
if [[ -n "${LANTERN_DATA_DIR:-}" ]]; then
    LANTERN_DATA_DIR="$(absolute "$LANTERN_DATA_DIR")"
else
    LANTERN_DATA_DIR="$ROOT/var"
fi
if [[ -n "${LANTERN_BIN:-}" ]]; then
    LANTERN_BIN="$(absolute "$LANTERN_BIN")"
else
    LANTERN_BIN="$ROOT/target/debug/lantern"
fi
if [[ -n "${LANTERN_SECRET_FILE:-}" ]]; then
    LANTERN_SECRET_FILE="$(absolute "$LANTERN_SECRET_FILE")"
    export LANTERN_SECRET_FILE
fi
export NATS_URL LANTERN_HTTP_ADDR LANTERN_DATA_DIR

cd "$ROOT"

[[ -x "$LANTERN_BIN" && ! -d "$LANTERN_BIN" ]] \
    || die "$LANTERN_BIN is not there; build it first: cargo build -p lantern (make run does)"

mkdir -p "$LANTERN_DATA_DIR"

# Run children in their own session when setsid(1) exists: a Ctrl-C on the
# terminal then reaches only this script, which stops lantern first and
# nats-server after it, instead of both dying at once.
detach=()
if command -v setsid >/dev/null 2>&1; then
    detach=(setsid)
fi

nats_pid=""
lantern_pid=""
signals=0

# stop_child PID NAME: SIGTERM, wait up to 15 s, then SIGKILL; reaps it.
# shellcheck disable=SC2317  # called from traps
stop_child() {
    local pid=$1 name=$2 i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name (pid $pid) did not stop within 15 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # called from traps
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [[ -n "$lantern_pid" ]]; then
        stop_child "$lantern_pid" lantern
    fi
    if [[ -n "$nats_pid" ]]; then
        log "stopping the nats-server started for this run (pid $nats_pid)"
        stop_child "$nats_pid" nats-server
    fi
    exit "$rc"
}

# shellcheck disable=SC2317  # called from traps
on_signal() {
    local sig=$1
    signals=$((signals + 1))
    if [[ -n "$lantern_pid" ]] && kill -0 "$lantern_pid" 2>/dev/null; then
        if ((signals == 1)); then
            log "SIG$sig: stopping lantern (pid $lantern_pid); again to kill it"
            kill -s "$sig" "$lantern_pid" 2>/dev/null || true
        else
            log "SIG$sig again: killing lantern (pid $lantern_pid)"
            kill -KILL "$lantern_pid" 2>/dev/null || true
        fi
        return 0
    fi
    case "$sig" in
        INT) exit 130 ;;
        HUP) exit 129 ;;
        *) exit 143 ;;
    esac
}

trap cleanup EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

# probe HOST PORT: is a NATS server answering there?
#   0: yes (its INFO line is printed); 1: nothing answers; 2: something else answers
probe() {
    local line rc=0
    # shellcheck disable=SC2016  # $1, $2 expand in the inner bash
    line="$(timeout 3 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 10
        IFS= read -r -t 2 line <&3 || exit 11
        printf "%s\n" "$line"' probe "$1" "$2" 2>/dev/null)" || rc=$?
    case "$rc" in
        0)
            if [[ "$line" == INFO\ * ]]; then
                printf '%s\n' "$line"
                return 0
            fi
            return 2
            ;;
        11) return 2 ;;
        *) return 1 ;; # refused, unreachable, or connect timed out
    esac
}

# split_hostport ENTRY -> sets host, port (default 4222). ENTRY is one server
# of NATS_URL: [scheme://][user[:pass]@]host[:port][/...], IPv6 in brackets.
split_hostport() {
    local u=$1
    if [[ "$u" == *://* ]]; then u="${u#*://}"; fi
    u="${u##*@}"
    u="${u%%/*}"
    if [[ "$u" =~ ^\[([^]]+)\](:([0-9]+))?$ ]]; then
        host="${BASH_REMATCH[1]}"
        port="${BASH_REMATCH[3]:-4222}"
    elif [[ "$u" =~ ^([^:/]+)(:([0-9]+))?$ ]]; then
        host="${BASH_REMATCH[1]}"
        port="${BASH_REMATCH[3]:-4222}"
    else
        die "cannot read host and port from NATS_URL=$NATS_URL"
    fi
}

version_ge() {
    [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]
}

check_info() {
    local info=$1 where=$2 version=""
    if [[ "$info" =~ \"version\":\"([0-9]+\.[0-9]+\.[0-9]+)[^\"]*\" ]]; then
        version="${BASH_REMATCH[1]}"
    fi
    log "using the nats-server ${version:-of unknown version} already answering at $where"
    if [[ -n "$version" ]] && ! version_ge "$version" 2.10.0; then
        log "warning: nats-server $version at $where is older than 2.10: it cannot run with sync_interval: always, so acknowledged events can be lost on power failure; stop it, or unset NATS_URL to let this script start a pinned one"
    fi
    if [[ "$info" != *'"jetstream":true'* ]]; then
        log "warning: the nats-server at $where does not advertise JetStream; lantern needs it (nats-server -c deploy/nats/single.conf)"
    fi
}

# --- NATS credentials -------------------------------------------------------

# keep_secret FILE: prints the secret kept in FILE, generating it first when
# there is none (mode 600; a concurrent run that wins the race keeps its own).
# Letters, digits, '-' and '_', starting with a letter: nats-server reads the
# password from its environment as a config token (deploy/nats/accounts.conf).
keep_secret() {
    local file=$1 tmp secret
    if [[ ! -s "$file" ]]; then
        tmp="$(mktemp "$LANTERN_DATA_DIR/.secret.XXXXXX")" # mode 600
        printf 'p%s\n' "$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')" >"$tmp"
        ln "$tmp" "$file" 2>/dev/null || true
        rm -f "$tmp"
    fi
    chmod 600 "$file"
    secret="$(tr -d '[:space:]' <"$file")"
    [[ -n "$secret" ]] || die "$file is empty; delete it to get a new one"
    printf '%s\n' "$secret"
}

if [[ -n "${NATS_USER:-}" || -n "${NATS_PASSWORD:-}" ]]; then
    [[ -n "${NATS_USER:-}" && -n "${NATS_PASSWORD:-}" ]] \
        || die "set both NATS_USER and NATS_PASSWORD, or neither (then the password kept in $LANTERN_DATA_DIR/nats-password is used)"
else
    NATS_USER=lantern
    NATS_PASSWORD="$(keep_secret "$LANTERN_DATA_DIR/nats-password")"
fi
[[ "$NATS_PASSWORD" =~ ^[A-Za-z][A-Za-z0-9_-]*$ ]] \
    || log "warning: NATS_PASSWORD has characters nats-server may not read from its environment as written (use letters, digits, '-' and '_', starting with a letter)"
export NATS_USER NATS_PASSWORD

# --- NATS -------------------------------------------------------------------

IFS=',' read -r -a nats_servers <<<"$NATS_URL"
found=""
for entry in "${nats_servers[@]}"; do
    entry="${entry//[[:space:]]/}"
    [[ -n "$entry" ]] || continue
    split_hostport "$entry"
    rc=0
    info="$(probe "$host" "$port")" || rc=$?
    case "$rc" in
        0)
            check_info "$info" "$host:$port"
            found=1
            break
            ;;
        2) die "something accepts connections at $host:$port but does not speak NATS; set NATS_URL to a free port or to your nats-server" ;;
    esac
done

if [[ -z "$found" ]]; then
    ((${#nats_servers[@]} == 1)) || die "no NATS server answers at any of NATS_URL=$NATS_URL; start them, or use a single local URL to let this script start one"
    case "$host" in
        localhost) bind=127.0.0.1 ;;
        127.* | ::1) bind="$host" ;;
        *) die "nothing answers at $host:$port (NATS_URL=$NATS_URL), and that is not this machine; start that server, or unset NATS_URL to run one locally" ;;
    esac

    nats_bin="$("$ROOT/scripts/nats.sh" path)"
    store="$LANTERN_DATA_DIR/nats"
    nats_log="$LANTERN_DATA_DIR/nats-server.log"
    mkdir -p "$store"
    # Before NATS had accounts, the stream lived in the global account ($G);
    # the server now keeps Lantern's in its account LANTERN. Move it over
    # once, with the server stopped, so that no event is left behind.
    if [[ -d "$store/jetstream/\$G/streams/LANTERN" && ! -e "$store/jetstream/LANTERN" ]]; then
        log "moving the stream LANTERN of $store from the global account into the account LANTERN"
        mv "$store/jetstream/\$G" "$store/jetstream/LANTERN"
    fi
    args=(-c "$ROOT/deploy/nats/single.conf" -a "$bind" -p "$port")
    if [[ -n "${NATS_MONITOR_PORT:-}" ]]; then
        args+=(-m "$NATS_MONITOR_PORT")
    fi
    log "starting $("$nats_bin" --version 2>/dev/null || echo nats-server) on $bind:$port (store $store, log $nats_log)"
    printf '\n==== %s run.sh: %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$nats_bin" "${args[*]}" >>"$nats_log"
    log_offset="$(stat -c %s "$nats_log")"
    NATS_STORE_DIR="$store" "${detach[@]}" "$nats_bin" "${args[@]}" </dev/null >>"$nats_log" 2>&1 &
    nats_pid=$!

    timeout_s="${NATS_START_TIMEOUT:-30}"
    deadline=$((SECONDS + timeout_s))
    while :; do
        if ! kill -0 "$nats_pid" 2>/dev/null; then
            wait "$nats_pid" 2>/dev/null || true
            nats_pid=""
            log "nats-server exited during start-up; the end of $nats_log:"
            tail -c "+$((log_offset + 1))" "$nats_log" | tail -n 20 >&2 || true
            exit 1
        fi
        rc=0
        info="$(probe "$bind" "$port")" || rc=$?
        if ((rc == 0)) && [[ "$info" == *'"jetstream":true'* ]]; then
            break
        fi
        if ((SECONDS >= deadline)); then
            log "nats-server did not answer on $bind:$port within ${timeout_s} s; the end of $nats_log:"
            tail -c "+$((log_offset + 1))" "$nats_log" | tail -n 20 >&2 || true
            exit 1
        fi
        sleep 0.2
    done
    log "nats-server is ready on $bind:$port (pid $nats_pid, JetStream, sync_interval: always)"
fi

# --- admin token ------------------------------------------------------------

if [[ -z "${LANTERN_ADMIN_TOKEN:-}" ]]; then
    token_file="$LANTERN_DATA_DIR/admin-token"
    if [[ ! -s "$token_file" ]]; then
        new_token="$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
        tmp_token="$(mktemp "$LANTERN_DATA_DIR/.admin-token.XXXXXX")" # mode 600
        printf '%s\n' "$new_token" >"$tmp_token"
        # ln refuses to replace an existing file: if a concurrent run won the
        # race, its token stands and ours is dropped.
        if ln "$tmp_token" "$token_file" 2>/dev/null; then
            cat >&2 <<EOF

  ================================================================
  A new admin token was generated for this Lantern (shown only now):

      $new_token

  It is kept in $token_file (mode 600) and used on later runs.
  Use it as:  Authorization: Bearer <token>
  ================================================================

EOF
        fi
        rm -f "$tmp_token"
    fi
    chmod 600 "$token_file"
    LANTERN_ADMIN_TOKEN="$(tr -d '[:space:]' <"$token_file")"
    [[ -n "$LANTERN_ADMIN_TOKEN" ]] || die "$token_file is empty; delete it to get a new token"
    if [[ -z "${new_token:-}" || "$LANTERN_ADMIN_TOKEN" != "$new_token" ]]; then
        log "using the admin token kept in $token_file"
    fi
fi
export LANTERN_ADMIN_TOKEN

# --- lantern ----------------------------------------------------------------

log "starting lantern serve on http://$LANTERN_HTTP_ADDR (NATS_URL=$NATS_URL as $NATS_USER, LANTERN_DATA_DIR=$LANTERN_DATA_DIR); Ctrl-C stops it"
"${detach[@]}" "$LANTERN_BIN" serve "$@" &
lantern_pid=$!

# `wait` returns early when a trapped signal arrives (the trap forwards it);
# keep waiting until lantern itself has exited.
while :; do
    rc=0
    wait "$lantern_pid" || rc=$?
    if ! kill -0 "$lantern_pid" 2>/dev/null; then
        break
    fi
done
# If the last `wait` was cut short by a signal just as lantern exited, its
# real status is still there to collect (127: already collected above).
rc2=0
wait "$lantern_pid" 2>/dev/null || rc2=$?
if ((rc2 != 127)); then rc=$rc2; fi
lantern_pid=""
if ((rc != 0)); then
    log "lantern exited with status $rc"
fi
exit "$rc"
