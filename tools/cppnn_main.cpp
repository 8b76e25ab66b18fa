#include <cstdio>

#include "cppnn/cppnn.h"

int main() { std::puts("cppnn"); return 0; }
