#!/usr/bin/env bash
# Install foiarchive and what it needs on Debian: Tesseract and friends from apt, the package
# in a virtualenv at .venv. Safe to run again. Usage: scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
packages=(python3 python3-venv python3-pip tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd
          poppler-utils fonts-dejavu-core ghostscript
          libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui)
if [ "${1:-}" = "--test" ]; then
  extras="[test]"
  packages+=(chromium)  # the browser tests drive Debian's Chromium; Playwright downloads none
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# setuptools builds in ./build and never empties it: a module moved or removed since the last
# install would be installed again from there.
rm -rf build
.venv/bin/python -m pip install -q ".${extras}"
echo "setup: foiarchive $(.venv/bin/foiarchive --version | awk '{print $NF}') ready in .venv"
