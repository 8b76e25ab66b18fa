#!/usr/bin/env bash
# Prints the folder of PyTorch's own cuDNN (site-packages/nvidia/cudnn/lib, or wherever its
# libcudnn.so.* lies under site-packages/nvidia), or nothing. On the GPU machine that is
# cuDNN 9.19, the version whose headers the developer machine has; the system's is 9.14.
python3 - 2>/dev/null <<'PY'
import glob, os, site, sys
dirs = []
try:
    import nvidia.cudnn as c
    for p in list(getattr(c, "__path__", [])) + [os.path.dirname(c.__file__ or "")]:
        if p:
            dirs.append(os.path.join(p, "lib"))
except Exception:
    pass
roots = []
try:
    roots += site.getsitepackages()
except Exception:
    pass
try:
    roots.append(site.getusersitepackages())
except Exception:
    pass
roots += [p for p in sys.path if p.endswith("-packages")]
for r in roots:
    dirs += sorted({os.path.dirname(f) for f in glob.glob(os.path.join(r, "nvidia", "**", "libcudnn.so*"), recursive=True)})
for d in dirs:
    if glob.glob(os.path.join(d, "libcudnn.so*")):
        print(d)
        break
PY
