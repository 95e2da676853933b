#!/usr/bin/env bash
# The GitHub Actions runner in the runner image, run by the install-runner Image Builder component.
#
#   install-runner.sh install   (build phase) resolves the release — the newest one or the pinned
#                               one —, refuses it when it is older than the floor, downloads the
#                               archive, checks its SHA-256 and unpacks it. Any failure fails the
#                               build: no image is published, launches keep the previous one.
#   install-runner.sh report    (test phase, on an instance of the new image) writes the runner
#                               version of the image to VERSION_PARAMETER, where the control plane
#                               compares it with what GitHub Enterprise Server ships.
#
# Settings (environment; the component sets the first ones from its parameters):
#   RUNNER_VERSION          `latest`, or a version like 2.329.0
#   RUNNER_SHA256_X64       SHA-256 of the pinned release's linux-x64 archive (unused for latest)
#   RUNNER_SHA256_ARM64     SHA-256 of the pinned release's linux-arm64 archive (unused for latest)
#   MINIMUM_VERSION         a version below this one is refused
#   FLOOR_PARAMETER         SSM parameter holding the runner version the GitHub server ships, written
#                           by the control plane; a version below it is refused. Not there yet: no
#                           such floor. Empty: not read.
#   VERSION_PARAMETER       SSM parameter `report` writes the image's runner version to
#   GITHUB_API              https://api.github.com
#   GITHUB_DOWNLOADS        https://github.com
#   IMDS_ENDPOINT           http://169.254.169.254
#   SSM_ENDPOINT            https://ssm.<region>.amazonaws.com
#   RUNNER_DIR              /opt/actions-runner
#   RUNNER_USER             runner
#   MACHINE                 the output of `uname -m`
set -euo pipefail

GITHUB_API="${GITHUB_API:-https://api.github.com}"
GITHUB_DOWNLOADS="${GITHUB_DOWNLOADS:-https://github.com}"
IMDS_ENDPOINT="${IMDS_ENDPOINT:-http://169.254.169.254}"
RUNNER_DIR="${RUNNER_DIR:-/opt/actions-runner}"
RUNNER_USER="${RUNNER_USER:-runner}"
MACHINE="${MACHINE:-$(uname -m)}"
VERSION_PATTERN='^[0-9]+\.[0-9]+\.[0-9]+$'

fail() {
  echo "install-runner: $1" >&2
  exit 1
}

# True when version $1 is older than version $2 (both x.y.z).
older_than() {
  [[ "$1" != "$2" && "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" == "$1" ]]
}

imds() {
  local token
  token="$(curl -sS --fail --max-time 2 --retry 5 --retry-connrefused -X PUT \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$IMDS_ENDPOINT/latest/api/token")"
  curl -sS --fail --max-time 2 --retry 5 --retry-connrefused \
    -H "X-aws-ec2-metadata-token: $token" "$IMDS_ENDPOINT/latest/$1"
}

# One SSM call (JSON 1.1, SigV4 with the instance role's credentials from IMDSv2): the build
# instance's role may read parameters (Image Builder's documented AmazonSSMManagedInstanceCore) and
# write VERSION_PARAMETER. Usage: ssm_call OPERATION BODY; prints the answer, fails on an error status.
ssm_call() {
  local region role credentials
  region="$(imds meta-data/placement/region)"
  role="$(imds meta-data/iam/security-credentials/ | head -n 1)"
  credentials="$(imds "meta-data/iam/security-credentials/$role")"
  curl -sS --max-time 10 --retry 3 -X POST -w '\n%{http_code}' \
    --aws-sigv4 "aws:amz:${region}:ssm" \
    --user "$(jq -r .AccessKeyId <<<"$credentials"):$(jq -r .SecretAccessKey <<<"$credentials")" \
    -H "x-amz-security-token: $(jq -r .Token <<<"$credentials")" \
    -H 'content-type: application/x-amz-json-1.1' -H "x-amz-target: AmazonSSM.$1" \
    --data "$2" "${SSM_ENDPOINT:-https://ssm.${region}.amazonaws.com}/"
}

# The version in FLOOR_PARAMETER; nothing when the parameter does not exist yet.
ghes_floor() {
  [[ -n "${FLOOR_PARAMETER:-}" ]] || return 0
  local answer status body
  answer="$(ssm_call GetParameter "$(jq -nc --arg name "$FLOOR_PARAMETER" '{Name: $name}')")"
  status="$(tail -n 1 <<<"$answer")"
  body="$(sed '$d' <<<"$answer")"
  if [[ "$status" == 200 ]]; then
    jq -r .Parameter.Value <<<"$body"
  elif [[ "$status" != 400 || "$(jq -r '.__type // ""' <<<"$body")" != *ParameterNotFound ]]; then
    fail "reading ${FLOOR_PARAMETER} failed (HTTP ${status}): ${body}"
  fi
}

# Sets VERSION and SHA256 from the newest release: its tag, and the SHA-256 GitHub publishes for
# the archive — the asset's `digest`, computed by GitHub at upload
# (https://github.blog/changelog/2025-06-03-releases-now-expose-digests-for-release-assets/), and
# the sum the release notes carry between `<!-- BEGIN SHA linux-<arch> -->` markers
# (actions/runner's releaseNote.md). At least one must be there; both there, they must agree.
resolve_latest() {
  local release digest noted
  release="$(curl -sS --fail --max-time 30 --retry 5 -H 'Accept: application/vnd.github+json' \
    "$GITHUB_API/repos/actions/runner/releases/latest")" || fail "could not read the newest runner release from $GITHUB_API"
  VERSION="$(jq -r '.tag_name // ""' <<<"$release")"
  VERSION="${VERSION#v}"
  [[ "$VERSION" =~ $VERSION_PATTERN ]] || fail "the newest runner release has the tag '${VERSION}', not a version like 2.329.0"
  digest="$(jq -r --arg name "actions-runner-linux-${ARCH}-${VERSION}.tar.gz" \
    '[.assets[]? | select(.name == $name) | .digest // ""][0] // "" | ltrimstr("sha256:")' <<<"$release")"
  noted="$(jq -r '.body // ""' <<<"$release" \
    | sed -n "s/.*<!-- BEGIN SHA linux-${ARCH} -->\\([0-9a-fA-F]\\{64\\}\\)<!-- END SHA linux-${ARCH} -->.*/\\1/p" \
    | head -n 1 | tr 'A-F' 'a-f')"
  if [[ -n "$digest" && -n "$noted" && "$digest" != "$noted" ]]; then
    fail "runner ${VERSION} linux-${ARCH}: the asset digest (${digest}) and the release notes (${noted}) disagree"
  fi
  SHA256="${digest:-$noted}"
  [[ -n "$SHA256" ]] || fail "runner ${VERSION} publishes no SHA-256 for linux-${ARCH} (no asset digest, none in the release notes)"
}

install() {
  case "$MACHINE" in
    x86_64) ARCH=x64 ;;
    aarch64) ARCH=arm64 ;;
    *) fail "unsupported architecture ${MACHINE}" ;;
  esac
  if [[ "${RUNNER_VERSION:-}" == latest ]]; then
    resolve_latest
  else
    VERSION="${RUNNER_VERSION:-}"
    [[ "$VERSION" =~ $VERSION_PATTERN ]] || fail "RUNNER_VERSION '${VERSION}' is neither latest nor a version like 2.329.0"
    if [[ "$ARCH" == x64 ]]; then SHA256="${RUNNER_SHA256_X64:-}"; else SHA256="${RUNNER_SHA256_ARM64:-}"; fi
  fi
  [[ "$SHA256" =~ ^[0-9a-f]{64}$ ]] || fail "the SHA-256 for runner ${VERSION} linux-${ARCH} is not 64 hex digits"

  local floor
  floor="$(ghes_floor)"
  if [[ -n "$floor" ]]; then
    [[ "$floor" =~ $VERSION_PATTERN ]] || fail "${FLOOR_PARAMETER} holds '${floor}', not a version like 2.329.0"
    if older_than "$VERSION" "$floor"; then
      fail "runner ${VERSION} is older than ${floor}, the version the GitHub server ships (${FLOOR_PARAMETER}); it would refuse the runner. Use RunnerVersion.latest() or pin ${floor} or newer"
    fi
  fi
  if [[ -n "${MINIMUM_VERSION:-}" ]] && older_than "$VERSION" "$MINIMUM_VERSION"; then
    fail "runner ${VERSION} is older than the minimum ${MINIMUM_VERSION}"
  fi

  local archive="actions-runner-linux-${ARCH}-${VERSION}.tar.gz" dir
  dir="$(mktemp -d)"
  curl -fsSL --retry 5 -o "${dir}/${archive}" "${GITHUB_DOWNLOADS}/actions/runner/releases/download/v${VERSION}/${archive}"
  echo "${SHA256}  ${dir}/${archive}" | sha256sum --check --strict || fail "${archive} does not have the SHA-256 GitHub publishes (${SHA256})"
  mkdir -p "$RUNNER_DIR"
  tar -xzf "${dir}/${archive}" -C "$RUNNER_DIR"
  rm -rf "$dir"
  "$RUNNER_DIR/bin/installdependencies.sh"
  chown -R "${RUNNER_USER}:${RUNNER_USER}" "$RUNNER_DIR"
  echo "install-runner: runner ${VERSION} linux-${ARCH} installed (SHA-256 ${SHA256})"
}

report() {
  [[ -n "${VERSION_PARAMETER:-}" ]] || fail "VERSION_PARAMETER is not set"
  local version answer
  version="$("$RUNNER_DIR/bin/Runner.Listener" --version)"
  [[ "$version" =~ $VERSION_PATTERN ]] || fail "the runner in the image answers '${version}' to --version"
  answer="$(ssm_call PutParameter "$(jq -nc --arg name "$VERSION_PARAMETER" --arg value "$version" \
    '{Name: $name, Value: $value, Type: "String", Overwrite: true}')")"
  [[ "$(tail -n 1 <<<"$answer")" == 200 ]] || fail "writing ${VERSION_PARAMETER} failed: $(sed '$d' <<<"$answer")"
  echo "install-runner: the image's runner is ${version} (${VERSION_PARAMETER})"
}

case "${1:-}" in
  install) install ;;
  report) report ;;
  *) fail "usage: install-runner.sh install|report" ;;
esac
