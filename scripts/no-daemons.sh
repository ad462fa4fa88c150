# Sourced by the install scripts of servers the tests start themselves
# (Prometheus, VictoriaMetrics...): install Debian packages as root (see
# as-root.sh) without leaving a service running. The packages' maintainer
# scripts are told not to start one (policy-rc.d), and any daemon that starts
# during the install anyway is stopped by its process id.
#
# Usage: install_without_daemons "<what is missing>" <binary>... -- <package>...
# The binaries are the daemons to watch for; each must exist afterwards.
. "$(dirname "${BASH_SOURCE[0]}")/as-root.sh"

# Process ids running one of the binaries, by the executable (or, for another
# user's process that a non-root user cannot resolve, its argv[0]), so a
# process merely named alike is never taken for them.
_daemon_pids() {
  local dir program binary
  for dir in /proc/[0-9]*; do
    program="$(readlink "$dir/exe" 2>/dev/null || true)"
    if [ -z "$program" ]; then
      program="$({ tr "\0" "\n" <"$dir/cmdline" | head -n 1; } 2>/dev/null || true)"
    fi
    for binary in "$@"; do
      if [ "$program" = "$binary" ]; then
        echo "${dir#/proc/}"
      fi
    done
  done
}

install_without_daemons() {
  local what="$1" binaries=() packages=() before pid binary
  shift
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
    binaries+=("$1")
    shift
  done
  shift
  packages=("$@")
  as_root "$what" "--no-install-recommends ${packages[*]}"
  before=" $(_daemon_pids "${binaries[@]}" | tr '\n' ' ') "

  # invoke-rc.d asks /usr/sbin/policy-rc.d whether it may start a service; exit
  # code 101 means no. Put one in place for the install unless there is one.
  local policy=/usr/sbin/policy-rc.d added_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# added by scripts/no-daemons.sh for the length of the install\nexit 101\n' \
      | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    added_policy=1
  fi
  echo "Installing Debian's ${packages[*]} for the tests"
  local status=0
  apt_install --no-install-recommends "${packages[@]}" || status=$?
  if [ -n "$added_policy" ]; then
    $sudo rm -f "$policy"
  fi
  if [ "$status" -ne 0 ]; then
    echo "error: 'apt-get install ${packages[*]}' failed (exit $status)." >&2
    return "$status"
  fi

  # Stop whatever the install started (a package whose script ignores policy-rc.d).
  for pid in $(_daemon_pids "${binaries[@]}"); do
    case "$before" in
      *" $pid "*) ;; # it ran before the install: not ours to stop
      *)
        echo "Stopping $(readlink "/proc/$pid/exe" 2>/dev/null || echo "process $pid"), started by the install (pid $pid)"
        $sudo kill "$pid" 2>/dev/null || true
        ;;
    esac
  done

  for binary in "${binaries[@]}"; do
    if [ ! -x "$binary" ]; then
      echo "error: $binary is still missing after the install." >&2
      return 1
    fi
  done
}
