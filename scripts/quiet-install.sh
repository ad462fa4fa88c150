# Sourced by the install scripts of servers the tests start themselves (after
# as-root.sh and as_root): install Debian packages without leaving a daemon
# running. invoke-rc.d is told not to start a service (policy-rc.d, exit 101),
# and any process of the named binaries that starts during the install anyway is
# stopped by its process id (never one that ran before).
# Usage: quiet_install "<binary paths>" <apt-get install arguments...>

# Process ids running one of the binaries, by the executable (or, for another
# user's process a non-root user cannot resolve, its argv[0]), so a process
# merely named alike is never taken for one.
_quiet_pids() {
  local dir program binary
  for dir in /proc/[0-9]*; do
    program="$(readlink "$dir/exe" 2>/dev/null || true)"
    if [ -z "$program" ]; then
      # braces: a process gone meanwhile makes the redirection itself fail, which says so on stderr
      program="$({ tr '\0' '\n' <"$dir/cmdline" | head -n 1; } 2>/dev/null || true)"
    fi
    for binary in $1; do
      if [ "$program" = "$binary" ]; then
        echo "${dir#/proc/}"
      fi
    done
  done
}

quiet_install() {
  local binaries="$1" before policy=/usr/sbin/policy-rc.d added_policy="" pid
  shift
  before=" $(_quiet_pids "$binaries" | tr '\n' ' ') "
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# added by quiet-install.sh for the length of the install\nexit 101\n' \
      | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    added_policy=1
  fi
  # apt_install (as-root.sh) waits for the dpkg lock; on failure the policy is still removed.
  if ! apt_install "$@"; then
    [ -z "$added_policy" ] || $sudo rm -f "$policy"
    return 1
  fi
  [ -z "$added_policy" ] || $sudo rm -f "$policy"
  for pid in $(_quiet_pids "$binaries"); do
    case "$before" in
      *" $pid "*) ;; # it ran before the install: not ours to stop
      *)
        echo "Stopping $(readlink "/proc/$pid/exe" 2>/dev/null || echo "process $pid"), started by the install (pid $pid)"
        $sudo kill "$pid" 2>/dev/null || true
        ;;
    esac
  done
  for binary in $binaries; do
    if [ ! -x "$binary" ]; then
      echo "error: $binary is still missing after the install." >&2
      return 1
    fi
  done
}
