#pragma once
#include "cppnn/context.h"
#include "cppnn/engine.h"
#include "cppnn/error.h"
#include "cppnn/graph.h"
#include "cppnn/onnx.h"
#include "cppnn/tensor.h"
#include "cppnn/types.h"
