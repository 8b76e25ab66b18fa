#!/usr/bin/env python3
"""Checks that a shared library's code outside the CPU kernels' AVX2 and AVX-512 levels
(src/backends/cpu/isa_target.h) uses no instruction beyond baseline x86-64, so the library
runs on any x86-64 CPU: no VEX/EVEX-encoded instruction (AVX, AVX2, FMA, F16C, AVX-512:
every one of them is spelled v...), no ymm/zmm/k register, no BMI1/2, LZCNT or MOVBE.
A function whose name mentions a level's namespace (isa_avx2, isa_avx512: its own, or a
template instance over its types, mangled or not) may use the level's instructions: it
runs only when the CPU has them. Usage: check_baseline_isa.py OBJDUMP LIBRARY...
Fails naming the first offending instructions of each function."""
import re
import subprocess
import sys

FUNCTION = re.compile(r"^[0-9a-f]+ <(.*)>:$")
INSTRUCTION = re.compile(r"^\s+[0-9a-f]+:\s+(?:(?:rep|repz|repnz|lock|notrack|bnd|data16|cs|ds)\s+)*([a-z][a-z0-9.]*)\s*(.*)$")
BEYOND = {"andn", "bextr", "blsi", "blsmsk", "blsr", "bzhi", "mulx", "pdep", "pext", "rorx",
          "sarx", "shlx", "shrx", "lzcnt", "movbe"}
WIDE_REGISTER = re.compile(r"%[yz]mm\d|%k[0-7]\b")
LEVELS = ("isa_avx2", "isa_avx512")


def beyond_baseline(mnemonic, operands):
    if mnemonic.startswith("v") and mnemonic not in ("verr", "verw"):
        return True
    return mnemonic in BEYOND or bool(WIDE_REGISTER.search(operands))


def check(objdump, library):
    out = subprocess.run([objdump, "-d", "-C", "--no-show-raw-insn", library], check=True,
                         capture_output=True, text=True).stdout
    bad = {}
    function, functions, in_level = "?", 0, False
    for line in out.splitlines():
        m = FUNCTION.match(line)
        if m:
            function, functions = m.group(1), functions + 1
            in_level = any(level in function for level in LEVELS)
            continue
        if in_level:
            continue
        m = INSTRUCTION.match(line)
        if m and beyond_baseline(m.group(1), m.group(2)):
            bad.setdefault(function, []).append(line.strip())
    if functions == 0:
        print(f"{library}: objdump found no functions")
        return False
    for function, lines in bad.items():
        print(f"{library}: {function} uses instructions beyond x86-64 outside a level:")
        for l in lines[:3]:
            print(f"    {l}")
    if not bad:
        print(f"{library}: {functions} functions, baseline x86-64 outside the AVX2/AVX-512 levels")
    return not bad


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    ok = all([check(sys.argv[1], lib) for lib in sys.argv[2:]])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
