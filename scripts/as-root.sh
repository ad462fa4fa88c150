# Sourced by the install scripts: sets $sudo to "" (root) or "sudo", or stops
# with the apt-get command to run as root. Usage: as_root "<what is missing>" "<packages>"
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    sudo=""
  elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "error: $1 is missing and installing it needs root: run" >&2
    echo "       'apt-get install $2' as root." >&2
    exit 1
  fi
}

# apt-get update, then install the packages given, as root. Another apt or dpkg
# (unattended upgrades on a new machine) may hold the dpkg lock for a while:
# wait up to 15 minutes for it rather than fail at once.
apt_install() {
  $sudo apt-get -o DPkg::Lock::Timeout=900 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=900 install -y -qq "$@" >/dev/null
}
