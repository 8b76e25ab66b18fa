#pragma once
// matmul and gemm on cuBLASLt, in fp32 (TF32 only when CPPNN_CUDA_TF32=1) or fp16 with fp32
// accumulation. Bias and ReLU ride on the epilogue; other fused activations are split off
// into their own node before planning (split_epilogue_activations), so the product still
// runs on the GPU. Registered in the device-op table by add_cublaslt_ops (device_ops.h).
#include "backends/cuda/device_ops.h"
