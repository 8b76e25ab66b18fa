#!/usr/bin/env bash
# Copies what tests/gpu/run_python.sh needs beyond run.sh's carry into the carry folder:
# nanobind (a header + source library, built with the extension: no pip on the GPU
# machine). Run on the developer machine, from the main checkout:
#   bash tests/gpu/pack_python_deps.sh [carry]        (default: ./carry)
# It writes carry/nanobind/ (the installed package as is: cmake/, include/, src/, ext/,
# stubgen.py), about 1.5 MB.
set -euo pipefail
carry=${1:-carry}
nb_cmake=$(python3 -c "import nanobind; print(nanobind.cmake_dir())")
nb_dir=$(dirname "$nb_cmake")
mkdir -p "$carry"
rm -rf "$carry/nanobind"
cp -r "$nb_dir" "$carry/nanobind"
rm -rf "$carry/nanobind/__pycache__"
echo "nanobind $(python3 -c 'import nanobind; print(nanobind.__version__)') -> $carry/nanobind ($(du -sh "$carry/nanobind" | cut -f1))"
