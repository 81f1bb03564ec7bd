#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""py_ops: matmul and softmax on a tern device from Python, checked
against numpy.

    PYTHONPATH=lib/python TERN_LIBRARY=build/lib/libtern.so.0 \
        python3 lib/examples/py_ops.py [--device N] [--m M --k K --n N]

(no environment needed once `make install` put the package and libtern in
place). Runs each op by itself (tern_op_run), then both fused in one
program launched on a core (Program, Device.launch), and compares every
result with numpy's, computed in float64. Exits 1 on a mismatch.
Documentation/python.rst walks through it.
"""

import argparse
import sys

import numpy as np

import tern


def check(name, got, want, rtol, atol):
    err = np.max(np.abs(got.astype(np.float64) - want))
    ok = np.allclose(got, want, rtol=rtol, atol=atol)
    print("%-22s %s  max |error| %.3g" % (name, "ok" if ok else "MISMATCH", err))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", type=int, default=0)
    ap.add_argument("--m", type=int, default=96)
    ap.add_argument("--k", type=int, default=80)
    ap.add_argument("--n", type=int, default=130)
    args = ap.parse_args()

    rng = np.random.default_rng(7)
    a = rng.standard_normal((args.m, args.k)).astype(np.float32)
    b = rng.standard_normal((args.k, args.n)).astype(np.float32)
    c_ref = a.astype(np.float64) @ b.astype(np.float64)
    e = np.exp(c_ref - c_ref.max(axis=1, keepdims=True))
    s_ref = e / e.sum(axis=1, keepdims=True)

    ok = True
    with tern.Device(args.device) as dev:
        info = dev.info()
        print("device %d: %s, %d cores, driver %s (UAPI %d.%d), libtern at %s"
              % (args.device, info["pci_address"], info["num_cores"], info["driver_version"],
                 info["uapi_major"], info["uapi_minor"], tern.library_path))
        ta = tern.tensor(dev, a)
        tb = tern.tensor(dev, b)
        tc = tern.empty(dev, (args.m, args.n))
        ts = tern.empty(dev, (args.m, args.n))

        st = tern.matmul(tc, ta, tb)
        ok &= check("matmul (op_run)", tc.numpy(), c_ref, 1e-4, 1e-4)
        print("  modeled %d ns on core %d" % (st["modeled_ns"], st["core"]))
        tern.softmax(ts, tc)
        ok &= check("softmax (op_run)", ts.numpy(), s_ref, 1e-4, 1e-6)

        # Both in one program: the softmax reads the matmul's result in HBM.
        tc.write(np.zeros((args.m, args.n), np.float32))
        ts.write(np.zeros((args.m, args.n), np.float32))
        # The ops share one list of slot buffers, the launch binds it.
        slots = []
        prog = tern.Program()
        prog.add(tern.Op(tern.ops.MATMUL, tc, [ta, tb], slots=slots))
        prog.add(tern.Op(tern.ops.SOFTMAX, ts, [tc], slots=slots))
        kernel = dev.load(prog.finish())
        prog.free()
        st = dev.launch(kernel, slots)
        ok &= check("matmul (fused launch)", tc.numpy(), c_ref, 1e-4, 1e-4)
        ok &= check("softmax (fused launch)", ts.numpy(), s_ref, 1e-4, 1e-6)
        print("  fused program: %d slots, modeled %d ns" % (kernel.slots, st["modeled_ns"]))
    print("py_ops: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
