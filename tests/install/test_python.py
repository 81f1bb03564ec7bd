#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_python: the tern Python binding on a device (TAP output).

Run by python.sh with the package installed; uses device 0 (and device 1
for the collectives if there is one)."""

import errno
import os
import subprocess
import sys
import traceback

import numpy as np

results = []


def test(fn):
    results.append(fn)
    return fn


@test
def imported_from_install():
    import tern
    assert tern.__file__.startswith("/usr/local/lib/python"), tern.__file__
    assert tern.library_path == "/usr/local/lib/libtern.so.0", tern.library_path
    assert np.__file__.startswith("/usr/lib/python3/dist-packages/"), np.__file__
    return "tern from %s, libtern %s, Debian's numpy %s" % (
        os.path.dirname(tern.__file__), tern.library_path, np.__version__)


@test
def struct_layouts_match_c():
    from tern import _lib as L
    text = open(os.environ["TERN_C_SIZES"]).read()
    try:
        want = dict(line.split() for line in text.splitlines())
    except ValueError:
        raise AssertionError("sample --sizes printed: " + text)
    import ctypes
    got = {"tern_device_info": ctypes.sizeof(L.DeviceInfo),
           "tern_launch_status": ctypes.sizeof(L.LaunchStatus),
           "tern_tensor": ctypes.sizeof(L.Tensor), "tern_op": ctypes.sizeof(L.Op)}
    for k, v in got.items():
        assert int(want[k]) == v, "%s: C %s bytes, ctypes %d" % (k, want[k], v)
    return ", ".join("%s %d" % kv for kv in got.items())


@test
def devices_and_info():
    import tern
    n = tern.device_count()
    assert n >= 1, n
    with tern.Device(0) as dev:
        i = dev.info()
    assert i["driver_name"] == "tern" and i["node"].startswith("/dev/accel/accel"), i
    assert i["uapi_major"] == 1 and i["num_cores"] >= 1, i
    return "%d devices; device 0 %s, %d cores" % (n, i["pci_address"], i["num_cores"])


@test
def errors_are_exceptions_with_the_runtime_message():
    import tern
    try:
        tern.Device(999)
    except tern.TernError as e:
        assert e.errno == errno.ENODEV and "no tern device with index 999" in str(e), str(e)
        msg = str(e)
    else:
        raise AssertionError("Device(999) did not raise")
    with tern.Device(0) as dev:
        try:
            dev.alloc(0, "host")
        except tern.TernError as e:
            assert e.errno == errno.EINVAL and e.call == "tern_buffer_alloc", str(e)
            assert e.message, "empty message"
        else:
            raise AssertionError("alloc(0) did not raise")
    return msg


@test
def buffers_and_copies():
    import tern
    rng = np.random.default_rng(1)
    a = rng.integers(0, 255, 3 * 4096 + 123, dtype=np.uint8)
    with tern.Device(0) as dev:
        h = dev.from_numpy(a, "host")
        d = dev.alloc(a.nbytes, "device")
        dev.copy(d, h)
        back = d.to_numpy(np.uint8)
        assert np.array_equal(back, a)
        h2 = dev.alloc(a.nbytes, "host")
        f = dev.copy_async(h2, d)
        assert f.wait()
        f.release()
        assert np.array_equal(h2.view(np.uint8), a)
        # a copy out of range fails, changes nothing, says why
        try:
            dev.copy(h2, d, a.nbytes, dst_offset=100)
        except tern.TernError as e:
            assert e.errno == errno.EINVAL, str(e)
        else:
            raise AssertionError("an out-of-range copy did not raise")
        assert np.array_equal(h2.view(np.uint8), a)
    return "%d bytes host -> HBM -> host, sync and async" % a.nbytes


@test
def dlpack_host_buffer_without_copy():
    import tern
    with tern.Device(0) as dev:
        buf = dev.alloc(64 * 4, "host")
        x = np.from_dlpack(buf.as_dlpack("fp32", (8, 8)))
        assert x.shape == (8, 8) and x.dtype == np.float32
        assert x.__array_interface__["data"][0] == buf.address()
        # the same memory: what a DMA copy writes into the buffer, x shows
        want = np.arange(64, dtype=np.float32)
        d = dev.from_numpy(want, "device")
        dev.copy(buf, d)
        assert np.array_equal(x, want.reshape(8, 8)), x
        try:
            buf.free()
        except BufferError:
            pass
        else:
            raise AssertionError("a buffer with a live DLPack export was freed")
        raw = np.from_dlpack(buf)                   # the whole buffer, bytes
        assert raw.dtype == np.uint8 and raw.size == 256
        assert buf.__dlpack_device__() == (1, 0)
        try:
            d.__dlpack_device__()
        except BufferError as e:
            assert "host buffer" in str(e)
        else:
            raise AssertionError("a device buffer claimed a DLPack device")
        del x, raw
        import gc
        gc.collect()
        buf.free()                                  # released by the deleters
        d.free()
    return "numpy.from_dlpack shares the host buffer (kDLCPU); HBM refused"


@test
def matmul_and_softmax_ops():
    import tern
    rng = np.random.default_rng(2)
    a = rng.standard_normal((40, 70)).astype(np.float32)
    b = rng.standard_normal((70, 33)).astype(np.float32)
    with tern.Device(0) as dev:
        ta, tb = tern.tensor(dev, a), tern.tensor(dev, b)
        tc, ts = tern.empty(dev, (40, 33)), tern.empty(dev, (40, 33))
        tern.matmul(tc, ta, tb)
        ref = a.astype(np.float64) @ b
        assert np.allclose(tc.numpy(), ref, rtol=1e-4, atol=1e-4)
        tern.softmax(ts, tc)
        e = np.exp(ref - ref.max(axis=1, keepdims=True))
        assert np.allclose(ts.numpy(), e / e.sum(axis=1, keepdims=True), rtol=1e-4, atol=1e-6)
        # a transposed view: A^T . B with A^T read from A's memory
        tt = tern.empty(dev, (70, 33))
        tern.matmul(tt, ta.T, tc)                   # (40x70)^T view . (40x33)
        assert np.allclose(tt.numpy(), a.T.astype(np.float64) @ tc.numpy(), rtol=1e-4,
                           atol=1e-3)
        # bad shapes: the op's own message
        try:
            tern.matmul(tc, ta, ta)
        except tern.TernError as e:
            assert e.errno == errno.EINVAL and e.message, str(e)
        else:
            raise AssertionError("a shape mismatch did not raise")
    return "matmul 40x70x33, softmax, a transposed view; bad shapes raise"


@test
def program_launch():
    import tern
    x = np.linspace(-3, 3, 128 * 64, dtype=np.float32).reshape(128, 64)
    with tern.Device(0) as dev:
        tx, ty = tern.tensor(dev, x), tern.empty(dev, (128, 64))
        slots = []
        prog = tern.Program()
        prog.add(tern.Op(tern.ops.ACTIVATION, ty, [tx], func=tern.ops.ACT["relu"], slots=slots))
        k = dev.load(prog.finish())
        prog.free()
        st = dev.launch(k, slots)
        assert st["result"] == 0, st
        assert np.array_equal(ty.numpy(), np.maximum(x, 0))
        f = dev.launch_async(k, slots, core=0)
        assert f.wait()
        st = f.launch_status()
        f.release()
        assert st["result"] == 0 and st["core"] == 0, st
        k.free()
    return "relu program: launch and launch_async on core 0"


@test
def collectives_bound():
    import tern
    if not tern.coll.available:
        raise AssertionError("this libtern has no tern_comm_create")
    n = tern.device_count()
    devs = [tern.Device(i) for i in range(n)]
    try:
        fabric = {d.info()["fabric_id"] for d in devs}
        try:
            comm = tern.coll.Communicator(devs)
        except tern.TernError as e:
            # chips in no fabric cannot form a communicator: a clear refusal
            assert 0 in fabric and e.message, str(e)
            return "%d unlinked chips refused: %s" % (n, e)
        with comm:
            count = 1024
            send = [d.from_numpy(np.full(count, r + 1, np.float32)) for r, d in enumerate(devs)]
            comm.all_reduce(send, send, count)
            want = n * (n + 1) / 2
            for s in send:
                assert np.all(s.to_numpy(np.float32) == want)
        return "all_reduce over %d chips" % n
    finally:
        for d in devs:
            d.close()


@test
def example_py_ops():
    p = subprocess.run([sys.executable, os.environ["TERN_PY_EXAMPLE"]], capture_output=True,
                       text=True, timeout=600)
    if p.returncode != 0 or "py_ops: PASS" not in p.stdout:
        raise AssertionError("exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
    return p.stdout.strip().replace("\n", " | ")


def main():
    print("TAP version 13")
    print("1..%d" % len(results))
    failed = 0
    for i, fn in enumerate(results, 1):
        try:
            note = fn()
            print("ok %d %s" % (i, fn.__name__))
            if note:
                print("# " + str(note).replace("\n", "\n# "))
        except Exception:
            failed += 1
            print("not ok %d %s" % (i, fn.__name__))
            print("# " + traceback.format_exc().rstrip().replace("\n", "\n# "))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
