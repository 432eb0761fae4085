#!/usr/bin/env bash
# Create or renew broker users: a random password per user, hashed into DIR/passwd (mosquitto's
# password_file, via mosquitto_passwd -U so no password appears on a command line); the plain password is
# written once to DIR/<user>.secret (mode 600), to be handed to that client and nowhere else.
# Users already in DIR/passwd and not named are kept. Nothing here is committed to the repository.
#
#   deploy/mqtt-users.sh DIR USER [USER...]
#     zerocarbon-ingest   the ingest service (reads zc/#)
#     zerocarbon-doctor   the queue probe of `zerocarbon doctor --probe-queue` (reads and writes
#                         zerocarbon-doctor/#, nothing under zc/)
#     <org>/<site>        a gateway of that organisation's site (writes zc/<org>/<site>/#), e.g. ACME/HF01;
#                         its secret is DIR/<org>/<site>.secret
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 DIR USER [USER...]" >&2
  exit 2
fi
command -v mosquitto_passwd >/dev/null || { echo "mosquitto_passwd not found (Debian: apt install mosquitto)" >&2; exit 2; }
dir=$1
shift
for user in "$@"; do
  case "$user" in
    ""|*[:+#[:space:]]*|/*|*/|*/*/*|*..*) echo "user name '$user' may not be empty, hold : + # .. or spaces, or more than one /" >&2; exit 2 ;;
  esac
done
umask 077
mkdir -p "$dir"
new=$(mktemp "$dir/.passwd.XXXXXX")
trap 'rm -f "$new"' EXIT
for user in "$@"; do
  secret=$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | cut -c1-32)
  printf '%s:%s\n' "$user" "$secret" >>"$new"
  mkdir -p "$(dirname "$dir/$user.secret")"
  printf '%s\n' "$secret" >"$dir/$user.secret"
done
mosquitto_passwd -U "$new"
if [ -f "$dir/passwd" ]; then
  # keep the users not renewed now
  awk -F: 'NR == FNR { renewed[$1] = 1; next } !($1 in renewed)' <(printf '%s\n' "$@") "$dir/passwd" >>"$new"
fi
chmod 600 "$new"
mv "$new" "$dir/passwd"
trap - EXIT
echo "wrote $dir/passwd and $dir/<user>.secret for: $*"
echo "mosquitto must be able to read $dir/passwd (chown mosquitto if it runs as that user); reload it: kill -HUP <pid>"
