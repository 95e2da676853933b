#!/usr/bin/env bash
# Boot of an ephemeral runner instance: ask the register endpoint for a just-in-time runner config,
# run exactly one job with it, then power the instance off (its shutdown behaviour is terminate).
# A warm pool instance runs this on every boot (cloud-init per-boot): on its first, the endpoint
# answers 410 with action `park`, and it reads the runner's files once (so its volume holds them) and
# powers off into `stopped` (its shutdown behaviour is stop); started again for a job, it asks again
# and this time gets its config. An image without the runner (no run.sh) asks
# for nothing: it reports so to the endpoint, which holds its pool's launches, and powers off.
#
# It holds no secret. Its identity is the instance role, proved by SigV4 with the credentials from
# IMDSv2; the JIT config is minted seconds before use, kept in memory, and never written to disk.
#
# Settings (environment; user data sets the first, the rest have production defaults):
#   REGISTER_URL          the register endpoint, e.g. https://abc.lambda-url.eu-west-1.on.aws/
#   REGISTER_SERVICE      SigV4 service name of the endpoint: lambda (Function URL) or execute-api
#   IMDS_ENDPOINT         http://169.254.169.254
#   IMDS_TOKEN_REFRESH_SECONDS  18000: age at which an IMDSv2 token is replaced (tokens last 21600 s)
#   RUNNER_DIR            /opt/actions-runner (holds run.sh)
#   RUNNER_USER           runner (unprivileged; the job runs as this user)
#   CONFIG_TIMEOUT_SECONDS   power off when no config came by then (600)
#   MAX_LIFETIME_SECONDS     power off after this long whatever happens (21600)
#   POWEROFF_COMMAND      systemctl poweroff
#   LOG_GROUP_NAME        CloudWatch Logs group its own lines go to, as stream <instance id>, every
#                         LOG_SHIP_SECONDS while the instance lives and once more as it powers off
#                         (unset: they stay in cloud-init's output only)
#   LOGS_ENDPOINT         https://logs.<region>.amazonaws.com
#   LOG_BUFFER            /run/ephemeral-runners-bootstrap.log (its lines, shipped from there)
#   LOG_SHIP_SECONDS      5: how often new lines are shipped and a spot interruption notice looked for
#   RUNNER_DIAGNOSTIC_LOGS   1: the runner's own logs go to the log group too, stream <instance id>/<file>
#   RUNNER_DIAG_DIR       $RUNNER_DIR/_diag (where the runner writes Runner_*.log and Worker_*.log)
#   JOB_{STARTED,COMPLETED}_HOOK_BASE64 or _URL  the config's job hooks: a script, or its S3 object
#   HOOK_DIR              /opt/ephemeral-runners/hooks (where they go: not the runner's directory)
#   READ_AHEAD_PATHS      $RUNNER_DIR: what a warm pool instance reads once before it parks, so that
#                         its volume holds those blocks when a job starts it (space-separated)
#   READ_AHEAD_SECONDS    120: the most the read-ahead may take
set -euo pipefail

REGISTER_SERVICE="${REGISTER_SERVICE:-lambda}"
IMDS_ENDPOINT="${IMDS_ENDPOINT:-http://169.254.169.254}"
IMDS_TOKEN_REFRESH_SECONDS="${IMDS_TOKEN_REFRESH_SECONDS:-18000}"
IMDS_TOKEN=''
IMDS_TOKEN_AT=0
RUNNER_DIR="${RUNNER_DIR:-/opt/actions-runner}"
RUNNER_USER="${RUNNER_USER:-runner}"
CONFIG_TIMEOUT_SECONDS="${CONFIG_TIMEOUT_SECONDS:-600}"
MAX_LIFETIME_SECONDS="${MAX_LIFETIME_SECONDS:-21600}"
POWEROFF_COMMAND="${POWEROFF_COMMAND:-systemctl poweroff}"
LOG_BUFFER="${LOG_BUFFER:-/run/ephemeral-runners-bootstrap.log}"
HOOK_DIR="${HOOK_DIR:-/opt/ephemeral-runners/hooks}"
READ_AHEAD_PATHS="${READ_AHEAD_PATHS-$RUNNER_DIR}"
READ_AHEAD_SECONDS="${READ_AHEAD_SECONDS:-120}"
LOG_SHIP_SECONDS="${LOG_SHIP_SECONDS:-5}"
RUNNER_DIAG_DIR="${RUNNER_DIAG_DIR:-$RUNNER_DIR/_diag}"
RUNNER_HOOK_ENV=() # VAR=file words for the runner: its job hooks
declare -A SHIPPED=() # log file -> how many of its lines are shipped
declare -A STREAMS=() # log streams created
SHIPPER_PID=''

log() {
  # One JSON line per event, for the instance's log group. Never logs credentials or the config.
  # Quotes, backslashes and control characters (an endpoint's answer may hold any) would break the JSON.
  local message line
  message="$(printf '%s' "$1" | tr -d '\000-\037\134' | tr '"' "'")"
  line="$(printf '{"time":"%s","source":"bootstrap","instance":"%s","message":"%s"}' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${INSTANCE_ID:-unknown}" "$message")"
  printf '%s\n' "$line" >&2
  if [[ -n "${LOG_GROUP_NAME:-}" ]]; then
    printf '%s %s\n' "$(date +%s%3N)" "$line" >>"$LOG_BUFFER" 2>/dev/null || true
  fi
}

# Ships what is new in the log files: the script's own lines, and the runner's when RUNNER_DIAGNOSTIC_LOGS
# is 1. Best effort: a failure here must never keep the instance running or fail the job. Returns 1 when
# lines were left for a later round (no credentials, a call throttled or not answered).
ship_logs() {
  if [[ -z "${LOG_GROUP_NAME:-}" || -z "${REGION:-}" || -z "${INSTANCE_ID:-}" ]]; then
    return 0
  fi
  load_credentials || return 1
  local left=0
  if [[ -s "$LOG_BUFFER" ]]; then
    ship_file "$LOG_BUFFER" "$INSTANCE_ID" stamped || left=1
  fi
  if [[ "${RUNNER_DIAGNOSTIC_LOGS:-}" == 1 ]]; then
    local file
    for file in "$RUNNER_DIAG_DIR"/Runner_*.log "$RUNNER_DIAG_DIR"/Worker_*.log; do
      if [[ -f "$file" ]]; then ship_file "$file" "$INSTANCE_ID/${file##*/}" raw || left=1; fi
    done
  fi
  return "$left"
}

# Ships FILE's complete lines not shipped yet to STREAM, 200 per call (each under 2000 bytes, so a call
# stays under PutLogEvents' 1 MiB). `stamped` lines are "<epoch ms> <JSON line>" (the buffer); `raw` ones
# are the runner's, cleaned (clean_lines) and stamped with the time they are shipped. Returns 1 when it
# left lines for a later round.
# Usage: ship_file FILE STREAM stamped|raw
ship_file() {
  local file="$1" stream="$2" kind="$3" shipped total to events answer left=0
  shipped="${SHIPPED[$file]:-0}"
  total="$(wc -l <"$file")" || return 0
  while ((shipped < total)); do
    to=$((shipped + 200 < total ? shipped + 200 : total))
    if [[ "$kind" == stamped ]]; then
      events="$(sed -n "$((shipped + 1)),${to}p" "$file" | to_events)"
    else
      events="$(sed -n "$((shipped + 1)),${to}p" "$file" | clean_lines | sed "s/^/$(date +%s%3N) /" | to_events)"
    fi
    if [[ -n "$events" ]]; then
      if [[ -z "${STREAMS[$stream]:-}" ]]; then
        # The stream may exist already: a warm pool instance boots again. Any other failure leaves it to
        # create at the next round: CreateLogStream is throttled past 50 TPS per account and Region
        # (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogStream.html).
        answer="$(logs_call CreateLogStream "{\"logGroupName\":\"${LOG_GROUP_NAME}\",\"logStreamName\":\"${stream}\"}")"
        case "$answer" in
          '200 '* | '400 ResourceAlreadyExistsException') STREAMS[$stream]=1 ;;
          '400 ThrottlingException') ;;
          # Refused for good (no permission, no such log group): its lines are dropped rather than
          # asked for again every round, which across a fleet would eat the account's 50 TPS.
          '400 '*) STREAMS[$stream]=refused ;;
        esac
        if [[ -z "${STREAMS[$stream]:-}" ]]; then
          left=1
          break
        fi
      fi
      if [[ "${STREAMS[$stream]}" == refused ]]; then
        shipped=$to
        continue
      fi
      answer="$(logs_call PutLogEvents "{\"logGroupName\":\"${LOG_GROUP_NAME}\",\"logStreamName\":\"${stream}\",\"logEvents\":[${events}]}")"
      # A refused batch (400) will not pass later either, but for throttling and a stream that is gone
      # (forgotten, so the next round creates it again); anything else (no answer, 5xx, expired
      # credentials) is tried again at the next round.
      case "$answer" in
        '200 '*) ;;
        '400 ResourceNotFoundException') unset 'STREAMS[$stream]' && left=1 && break ;;
        '400 ThrottlingException') left=1 && break ;;
        '400 '*) ;;
        *) left=1 && break ;;
      esac
    fi
    shipped=$to
  done
  SHIPPED[$file]=$shipped
  return "$left"
}

# PutLogEvents' events from lines "<epoch ms> <text>": the text is the message, escaped for JSON.
to_events() {
  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' \
    -e 's/^\([0-9]*\) \(.*\)$/{"timestamp":\1,"message":"\2"}/' | paste -sd, -
}

# The runner's lines, fit to ship: at most 2000 bytes, valid UTF-8, no control characters but tabs,
# no empty line (an event's message may not be empty), and what looks like a credential redacted.
# The runner masks the secrets it knows in its own logs already (src/Runner.Common/Tracing.cs of
# actions/runner); this is a second net for tokens it never knew: GitHub tokens, JWTs, and any long
# base64 run such as a JIT config.
clean_lines() {
  # iconv -c drops invalid sequences (a line cut mid-character too) and then exits 1: not a failure here.
  cut -b 1-2000 | { iconv -c -f UTF-8 -t UTF-8 || true; } | tr -d '\000-\010\013-\037' | sed -E \
    -e 's/gh[pousr]_[A-Za-z0-9_]{20,}/[redacted]/g' \
    -e 's/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/[redacted]/g' \
    -e 's#[A-Za-z0-9+/=_-]{100,}#[redacted]#g' \
    -e '/^$/d'
}

# While the instance lives, ship new lines every LOG_SHIP_SECONDS, and look for a spot interruption
# notice as often (IMDS answers 404 until there is one; AWS suggests polling every 5 s:
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html). At a
# notice the instance has two minutes left: it is logged and shipped at once. SIGTERM ships what is
# left and ends the shipper (stop_log_shipper).
start_log_shipper() {
  if [[ -z "${LOG_GROUP_NAME:-}" ]]; then
    return 0
  fi
  (
    # The signal only marks the end: a round it interrupts finishes, then one more ships the rest.
    stopping=''
    trap 'stopping=1' TERM
    notice=''
    while true; do
      if [[ -z "$stopping" ]]; then
        sleep "$LOG_SHIP_SECONDS" &
        wait $! || true
      fi
      refresh_imds_token || true
      if [[ -z "$stopping$notice" ]] && notice="$(imds_get meta-data/spot/instance-action 2>/dev/null)"; then
        log "spot interruption notice: $notice"
      fi
      if [[ -n "$stopping" ]]; then
        # No next round: what a throttled or failed call left is tried twice more, a second apart.
        ship_logs || { sleep 1 && ship_logs; } || { sleep 1 && ship_logs; } || true
        exit 0
      fi
      ship_logs || true
    done
  ) &
  SHIPPER_PID=$!
}

# Ends the shipper after its last round (at most 15 s); without one, ships here.
stop_log_shipper() {
  if [[ -z "$SHIPPER_PID" ]]; then
    ship_logs || true
    return 0
  fi
  kill -TERM "$SHIPPER_PID" 2>/dev/null || return 0
  local waited=0
  while kill -0 "$SHIPPER_PID" 2>/dev/null && ((waited < 150)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -KILL "$SHIPPER_PID" 2>/dev/null || true
  SHIPPER_PID=''
}

# Prints the HTTP status (000: no answer) and the answer's error type, e.g. `400 ThrottlingException`
# (`200 ` for a success). JSON 1.1 services may prefix the type with its namespace (`...#Name`).
logs_call() {
  local response status
  response="$(signed_post logs "${LOGS_ENDPOINT:-https://logs.${REGION}.amazonaws.com}/" "$2" --max-time 5 -w '\n%{http_code}' \
    -H 'content-type: application/x-amz-json-1.1' -H "x-amz-target: Logs_20140328.$1")" || true
  status="${response##*$'\n'}"
  response="$(json_field __type <<<"${response%$'\n'*}")"
  printf '%s %s' "${status:-000}" "${response##*#}"
}

# POST with SigV4 for an AWS service, signed with the instance role's credentials (load_credentials).
# The body goes on stdin, byte for byte: as an argument, a PutLogEvents batch may pass Linux's 128 KiB
# for one argument (MAX_ARG_STRLEN) and curl would not even start.
# Usage: signed_post SERVICE URL BODY [curl options...]
signed_post() {
  local service="$1" url="$2" data="$3"
  shift 3
  printf '%s' "$data" | curl -sS -X POST "$@" \
    --aws-sigv4 "aws:amz:${REGION}:${service}" \
    --user "${ACCESS_KEY_ID}:${SECRET_ACCESS_KEY}" \
    -H "x-amz-security-token: ${SESSION_TOKEN}" \
    --data-binary @- "$url"
}

power_off() {
  log "powering off: $1"
  stop_log_shipper
  # shellcheck disable=SC2086 # the command is a word list on purpose
  $POWEROFF_COMMAND || true
  exit 0
}

# The maximum lifetime watchdog survives this script: if the job hangs, the instance still ends.
start_lifetime_watchdog() {
  (
    sleep "$MAX_LIFETIME_SECONDS"
    log "maximum lifetime of ${MAX_LIFETIME_SECONDS}s reached"
    # shellcheck disable=SC2086
    $POWEROFF_COMMAND || true
  ) &
  disown || true
}

imds_token() {
  # IMDSv2 only: the launch template requires tokens (hop limit 1 keeps containers out).
  curl -sS --fail --max-time 2 --retry 5 --retry-connrefused --retry-delay 1 -X PUT \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' "$IMDS_ENDPOINT/latest/api/token"
}

# A token lasts at most 6 hours and an instance may live longer (the pool's maximum runner lifetime has
# no upper bound): one older than IMDS_TOKEN_REFRESH_SECONDS is replaced. Each process renews its own
# copy (the log shipper is a subshell), so call this in the shell that uses the token, never in $(...).
refresh_imds_token() {
  if [[ -n "$IMDS_TOKEN" ]] && ((SECONDS - IMDS_TOKEN_AT < IMDS_TOKEN_REFRESH_SECONDS)); then
    return 0
  fi
  local token
  token="$(imds_token)" || return 1
  IMDS_TOKEN="$token"
  IMDS_TOKEN_AT=$SECONDS
}

imds_get() {
  curl -sS --fail --max-time 2 --retry 5 --retry-connrefused --retry-delay 1 \
    -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" "$IMDS_ENDPOINT/latest/$1"
}

json_field() {
  # The credentials document is flat JSON written by IMDS; sed keeps the image free of extra tools.
  sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}

load_credentials() {
  local role document
  # A failed renewal leaves the old token, good until its TTL ends.
  refresh_imds_token || true
  role="$(imds_get meta-data/iam/security-credentials/ | head -n 1)"
  document="$(imds_get "meta-data/iam/security-credentials/$role" | tr -d '\n')"
  ACCESS_KEY_ID="$(json_field AccessKeyId <<<"$document")"
  SECRET_ACCESS_KEY="$(json_field SecretAccessKey <<<"$document")"
  SESSION_TOKEN="$(json_field Token <<<"$document")"
  if [[ -z "$ACCESS_KEY_ID" || -z "$SECRET_ACCESS_KEY" ]]; then
    return 1
  fi
}

# Job hooks: the runner runs the files named by ACTIONS_RUNNER_HOOK_JOB_STARTED / _COMPLETED with
# `bash -e` around each job; a non-zero exit fails the job (GitHub: "Running scripts before or after
# a job"). Root-owned, mode 755. Usage: add_hook NAME BASE64 URL VARIABLE
add_hook() {
  local file="$HOOK_DIR/$1.sh" try
  mkdir -p "$HOOK_DIR"
  if [[ -n "$2" ]]; then
    base64 -d <<<"$2" >"$file" || power_off "the $1 hook in the user data is not valid base64"
  else
    # From S3 as the instance role (S3 wants x-amz-content-sha256: a GET's is the empty hash). One
    # that cannot be had fails every job, saying so, rather than have instances relaunched for ever.
    for try in 1 2 3 0; do
      load_credentials && curl -sS --fail --max-time 30 -o "$file" --aws-sigv4 "aws:amz:${REGION}:s3" \
        --user "${ACCESS_KEY_ID}:${SECRET_ACCESS_KEY}" -H "x-amz-security-token: ${SESSION_TOKEN}" \
        -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' "$3" && break
      ((try)) || printf 'echo "the %s hook could not be downloaded from %s" >&2\nexit 1\n' "$1" "$3" >"$file"
      sleep "$try"
    done
  fi
  chmod 755 "$file"
  RUNNER_HOOK_ENV+=("$4=$file")
  log "installed the $1 hook ($(wc -c <"$file") bytes)"
}

# Posts BODY to the register endpoint until it answers one of the statuses in SETTLED, or the config
# timeout passes (return 1). The answer is left in ANSWER_STATUS and ANSWER_BODY: in memory, as a JIT
# config must never touch the disk. Any other answer may pass, and is retried with a growing delay:
# a 403 of AWS_IAM auth right after a deploy (IAM propagation) or before the clock is synced, a 503
# for an instance not recorded yet, a 5xx, no answer at all (status 000).
# Usage: ask_register BODY "STATUS ..."
ask_register() {
  local body="$1" settled=" $2 " deadline=$((SECONDS + CONFIG_TIMEOUT_SECONDS)) delay=1 response
  while ((SECONDS < deadline)); do
    # Role credentials rotate; read them before every attempt.
    if load_credentials; then
      response="$(signed_post "$REGISTER_SERVICE" "$REGISTER_URL" "$body" \
        --max-time 30 -w '\n%{http_code}' -H 'content-type: application/json')" || true
      ANSWER_STATUS="${response##*$'\n'}"
      ANSWER_BODY="${response%$'\n'*}"
      if [[ "$settled" == *" $ANSWER_STATUS "* ]]; then
        return 0
      fi
      # A 200 not asked for (the report expects none) carries a runner config: its body is never logged.
      [[ "$ANSWER_STATUS" != 200 ]] || ANSWER_BODY='(a runner config, not logged)'
      log "register endpoint answered ${ANSWER_STATUS:-nothing}: ${ANSWER_BODY:0:200}; retrying"
    else
      log "no role credentials yet"
    fi
    sleep "$delay"
    delay=$((delay < 16 ? delay * 2 : 30))
  done
  return 1
}

# Reads the files under READ_AHEAD_PATHS once, before a warm pool instance parks. Its root volume was
# created from the image's snapshot, and EBS fetches each block from S3 the first time it is read
# ("Initialize Amazon EBS volumes", https://docs.aws.amazon.com/ebs/latest/userguide/initalize-volume.html);
# a stopped instance keeps its volume, so the runner a job starts later loads from fetched blocks.
# Bounded by READ_AHEAD_SECONDS (timeout ends find and the cats it started): a slow volume delays
# the parking, never a job.
read_ahead() {
  local started=$SECONDS bytes paths
  read -ra paths <<<"$READ_AHEAD_PATHS"
  ((${#paths[@]})) || return 0
  bytes="$(timeout "$READ_AHEAD_SECONDS" find "${paths[@]}" -type f -exec cat {} + 2>/dev/null | wc -c)" || true
  log "read ${bytes:-0} bytes of ${READ_AHEAD_PATHS} ahead of parking, in $((SECONDS - started))s"
}

main() {
  if [[ -z "${REGISTER_URL:-}" ]]; then
    log "REGISTER_URL is not set; the launch template's user data must set it"
    power_off "no register endpoint"
  fi
  start_lifetime_watchdog
  refresh_imds_token || power_off "IMDSv2 unreachable"
  INSTANCE_ID="$(imds_get meta-data/instance-id)" || power_off "no instance id"
  REGION="$(imds_get meta-data/placement/region)" || power_off "no region"
  start_log_shipper
  if [[ ! -x "$RUNNER_DIR/run.sh" ]]; then
    # The endpoint retires the instance and holds its pool's launches, as every instance of the
    # image would end the same way. Any of its own answers settles it (not 403: IAM propagation).
    log "this image holds no runner: $RUNNER_DIR/run.sh is missing or not executable"
    if ask_register '{"problem":"runner-missing"}' '400 409 410'; then
      log "register endpoint answered $ANSWER_STATUS to the report"
    fi
    power_off "the image holds no runner ($RUNNER_DIR/run.sh)"
  fi
  local kind b64 url
  for kind in STARTED COMPLETED; do
    b64="JOB_${kind}_HOOK_BASE64" url="JOB_${kind}_HOOK_URL"
    if [[ -n "${!b64:-}${!url:-}" ]]; then
      add_hook "job-${kind,,}" "${!b64:-}" "${!url:-}" "ACTIONS_RUNNER_HOOK_JOB_${kind}"
    fi
  done

  log "asking for a runner config"
  ask_register '{}' '200 410' || power_off "no runner config within ${CONFIG_TIMEOUT_SECONDS}s"
  if [[ "$ANSWER_STATUS" == 410 ]]; then
    # The endpoint decided: the demand this instance was launched for is gone, it is retired, or it
    # is a warm pool instance's first boot, which parks stopped (shutdown behaviour `stop`).
    log "register endpoint answered 410: ${ANSWER_BODY:0:300}"
    if [[ "$(json_field action <<<"$ANSWER_BODY")" == park ]]; then
      read_ahead
      power_off "parking: a warm pool instance waits stopped until a job claims it"
    fi
    power_off "the register endpoint declined this instance"
  fi
  local jit_config="$ANSWER_BODY"
  unset ANSWER_BODY

  if [[ ! "$jit_config" =~ ^[A-Za-z0-9+/=]+$ ]]; then
    power_off "the register endpoint returned something that is not a JIT config"
  fi
  log "starting the runner"
  local status=0
  # `env` hands the hooks' variables over whatever runuser keeps of this environment.
  if [[ "$(id -un)" == "$RUNNER_USER" ]]; then
    env "${RUNNER_HOOK_ENV[@]}" "$RUNNER_DIR/run.sh" --jitconfig "$jit_config" || status=$?
  else
    runuser -u "$RUNNER_USER" -- env "${RUNNER_HOOK_ENV[@]}" "$RUNNER_DIR/run.sh" --jitconfig "$jit_config" || status=$?
  fi
  unset jit_config
  power_off "the runner exited with status $status"
}

main "$@"
