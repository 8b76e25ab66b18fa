# The README's commands. `make demo` and `make test` set up a fresh Debian 12 machine
# (apt-get, pip), build once into build/, and reuse that build.
SHARED ?= $(abspath ../shared)
BUILD ?= build
JOBS ?= $(shell nproc)
PYTHON ?= python3
MODELS := $(BUILD)/models
# GPU generations the plugin's hand-written kernels are compiled for. Empty: CMake's default
# list (sm_75 PTX, sm_80/86/89/90/120 machine code). CI, which has no GPU and 2 cores, proves
# they compile for the oldest (PTX) and one real architecture; NVRTC's generated kernels are
# compiled for sm_75..sm_120 by the tests either way.
CUDA_ARCHS ?= $(if $(CI),75-virtual;90-real,)

.PHONY: setup build demo test test-cpp test-python bench models clean

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCPPNN_WERROR=ON \
	  $(if $(CUDA_ARCHS),-DCMAKE_CUDA_ARCHITECTURES="$(CUDA_ARCHS)",) >/dev/null
	@ninja -C $(BUILD) -j $(JOBS)

# The main job: MobileNetV2 from ONNX on a fixed input, top-5 classes and latency.
demo: build
	@$(BUILD)/cppnn run $(SHARED)/models/mobilenet_v2.onnx --iterations 50

# ResNet-50 and BERT-base for tests and benchmarks, generated locally (not committed).
models: setup
	@mkdir -p $(MODELS)
	@test -f $(MODELS)/resnet50.onnx -a -f $(MODELS)/mobilenet_v2.onnx -a -f $(MODELS)/bert_base.onnx || \
	  $(PYTHON) $(SHARED)/models/make_models_onnx.py $(MODELS) --models resnet50,mobilenet_v2,bert_base >/dev/null

test: build models
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@CPPNN_BUILD=$(abspath $(BUILD)) CPPNN_SHARED=$(SHARED) CPPNN_MODELS=$(abspath $(MODELS)) \
	  PYTHONPATH=$(abspath $(BUILD))/python $(PYTHON) -m pytest -q tests/python

bench: build models
	@CPPNN_BUILD=$(abspath $(BUILD)) CPPNN_SHARED=$(SHARED) CPPNN_MODELS=$(abspath $(MODELS)) \
	  $(PYTHON) bench/bench_cpu.py

clean:
	rm -rf $(BUILD)
