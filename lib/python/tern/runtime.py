# SPDX-License-Identifier: MIT
"""Devices, buffers, copies, fences, programs and launches over libtern."""

import ctypes
import errno as _errno
import weakref

import numpy as np

from . import _lib as L
from . import dlpack as _dlpack

MEM_HOST = 1
MEM_DEVICE = 2
CORE_ANY = -1
TIMEOUT_INFINITE = -1

# Element types (TERN_DT_* of tern_isa.h) and the numpy type that holds them.
FP32, BF16, FP16, FP8_E4M3, FP8_E5M2 = 1, 2, 3, 4, 5
DTYPES = {"fp32": FP32, "bf16": BF16, "fp16": FP16, "fp8_e4m3": FP8_E4M3,
          "fp8_e5m2": FP8_E5M2}
_STORAGE = {FP32: np.float32, BF16: np.uint16, FP16: np.float16, FP8_E4M3: np.uint8,
            FP8_E5M2: np.uint8}
_SIZE = {FP32: 4, BF16: 2, FP16: 2, FP8_E4M3: 1, FP8_E5M2: 1}


def dtype_code(dt):
    """TERN_DT_* of a name ("fp32"), a code, or a numpy float32/float16 dtype."""
    if isinstance(dt, str):
        if dt not in DTYPES:
            raise ValueError("unknown tern dtype %r (one of %s)" % (dt, ", ".join(DTYPES)))
        return DTYPES[dt]
    if isinstance(dt, int):
        if dt not in _SIZE:
            raise ValueError("unknown tern dtype code %d" % dt)
        return dt
    npdt = np.dtype(dt)
    if npdt == np.float32:
        return FP32
    if npdt == np.float16:
        return FP16
    raise ValueError("numpy dtype %s has no tern dtype (fp32, fp16; bf16 as uint16 bits)"
                     % npdt)


def _npdtype(dt):
    """The numpy dtype of a tern dtype name/code, or dt itself as a numpy dtype."""
    if isinstance(dt, (str, int)):
        return np.dtype(_STORAGE[dtype_code(dt)])
    return np.dtype(dt)


def dtype_size(dt):
    return _SIZE[dtype_code(dt)]


class TernError(Exception):
    """A libtern call failed.

    code is the negative errno value the call returned, errno its
    positive value, message what tern_last_error() said (the call, the
    ioctl, the argument) and call the C function's name.
    """

    def __init__(self, call, code, message):
        self.call = call
        self.code = code
        self.errno = -code
        self.message = message
        name = _errno.errorcode.get(-code, str(-code))
        super().__init__("%s: %s [%s]" % (call, message or L.tern_strerror(code).decode(), name))


def _check(call, ret):
    if ret < 0:
        raise TernError(call, ret, L.tern_last_error().decode(errors="replace"))
    return ret


def device_count():
    """Number of tern devices (0 when tern.ko is not loaded)."""
    return _check("tern_device_count", L.tern_device_count())


def bf16_from_f32(a):
    """bf16 bits (uint16 array) of float32 values, rounded to nearest even."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    r = ((u >> 16) & 1) + 0x7FFF
    out = ((u + r) >> 16).astype(np.uint16)
    nan = np.isnan(np.ascontiguousarray(a, dtype=np.float32))
    out[nan] = 0x7FC0
    return out


def bf16_to_f32(b):
    """float32 values of bf16 bits (a uint16 array)."""
    return (np.ascontiguousarray(b, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


class Device:
    """An open tern device: Device(index). Use as a context manager or close()."""

    def __init__(self, index=0):
        h = ctypes.c_void_p()
        _check("tern_device_open", L.tern_device_open(index, ctypes.byref(h)))
        self._h = h
        self.index = index
        self._buffers = weakref.WeakSet()
        self._kernels = weakref.WeakSet()

    @property
    def handle(self):
        if self._h is None:
            raise ValueError("the device is closed")
        return self._h

    def close(self):
        """Close the device; its buffers and kernels are freed first."""
        if self._h is None:
            return
        for k in list(self._kernels):
            k.free()
        for b in list(self._buffers):
            b.free()
        _check("tern_device_close", L.tern_device_close(self._h))
        self._h = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.close()
            return
        try:            # do not hide the exception that ended the block
            self.close()
        except Exception:
            pass

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def info(self):
        """A dict of struct tern_device_info."""
        i = L.DeviceInfo()
        _check("tern_device_info", L.tern_device_info(self.handle, ctypes.byref(i)))
        out = {}
        for name, _ in L.DeviceInfo._fields_:
            v = getattr(i, name)
            out[name] = v.decode() if isinstance(v, bytes) else v
        return out

    # ---- buffers ----
    def alloc(self, size, kind="device"):
        """A new Buffer of size bytes; kind "host" or "device" (HBM)."""
        return Buffer(self, size, kind)

    def from_numpy(self, array, kind="device"):
        """A Buffer holding a copy of array's bytes (C order)."""
        a = np.ascontiguousarray(array)
        buf = Buffer(self, max(a.nbytes, 1), kind)
        try:
            buf.write(a)
        except BaseException:
            buf.free()
            raise
        return buf

    # ---- copies ----
    def copy(self, dst, src, size=None, dst_offset=0, src_offset=0):
        """Copy size bytes (default: all of src) with the DMA engines and wait."""
        if size is None:
            size = src.size - src_offset
        _check("tern_copy", L.tern_copy(self.handle, dst.handle, dst_offset, src.handle,
                                        src_offset, size))

    def copy_async(self, dst, src, size=None, dst_offset=0, src_offset=0):
        """Start a copy; returns its Fence."""
        if size is None:
            size = src.size - src_offset
        f = ctypes.c_void_p()
        _check("tern_copy_async", L.tern_copy_async(self.handle, dst.handle, dst_offset,
                                                    src.handle, src_offset, size,
                                                    ctypes.byref(f)))
        return Fence(self, f, (dst, src))

    # ---- programs ----
    def load(self, image):
        """A Kernel from a program image (bytes, e.g. Program.finish())."""
        return Kernel(self, image)

    def launch(self, kernel, buffers, core=CORE_ANY):
        """Run kernel with buffers bound to slots 0.. and wait; a LaunchStatus dict."""
        arr = _slots(self, buffers)
        st = L.LaunchStatus()
        ret = L.tern_launch(self.handle, kernel.handle, core, arr, len(buffers),
                            ctypes.byref(st))
        _check("tern_launch", ret)
        return _status(st)

    def launch_async(self, kernel, buffers, core=CORE_ANY):
        """Start kernel; returns its Fence (fence.launch_status() after wait())."""
        arr = _slots(self, buffers)
        f = ctypes.c_void_p()
        _check("tern_launch_async", L.tern_launch_async(self.handle, kernel.handle, core, arr,
                                                        len(buffers), ctypes.byref(f)))
        return Fence(self, f, (kernel,) + tuple(buffers))


def _slots(dev, buffers):
    for b in buffers:
        if b.device is not dev:
            raise ValueError("a buffer of another device")
    return (ctypes.c_void_p * max(len(buffers), 1))(*[b.handle for b in buffers])


def _status(st):
    out = {}
    for name, _ in L.LaunchStatus._fields_:
        v = getattr(st, name)
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, ctypes.Array):
            v = list(v)
        out[name] = v
    return out


class Buffer:
    """Host or device memory of a Device (tern_buffer_alloc)."""

    def __init__(self, device, size, kind="device"):
        flags = {"host": MEM_HOST, "device": MEM_DEVICE}.get(kind)
        if flags is None:
            raise ValueError("kind must be \"host\" or \"device\", not %r" % (kind,))
        h = ctypes.c_void_p()
        _check("tern_buffer_alloc", L.tern_buffer_alloc(device.handle, size, flags,
                                                        ctypes.byref(h)))
        self._h = h
        self.device = device
        self.size = size
        self.kind = kind
        self._views = 0        # numpy views and DLPack exports alive
        device._buffers.add(self)

    @property
    def handle(self):
        if self._h is None:
            raise ValueError("the buffer was freed")
        return self._h

    def free(self):
        """Free the buffer; refused while numpy views or DLPack exports of it live."""
        if self._h is None:
            return
        if self._views:
            raise BufferError("tern buffer still has %d numpy view(s) or DLPack export(s)"
                              % self._views)
        L.tern_buffer_free(self._h)
        self._h = None
        self.device._buffers.discard(self)

    def __del__(self):
        try:
            if self._h is not None and not self._views:
                self.free()
        except Exception:
            pass

    def address(self):
        """The CPU address of byte 0 (tern_buffer_map)."""
        p = ctypes.c_void_p()
        _check("tern_buffer_map", L.tern_buffer_map(self.handle, ctypes.byref(p)))
        return p.value

    def _hold(self):
        self._views += 1

    def _drop(self):
        self._views -= 1

    def view(self, dtype=np.uint8, shape=None, offset=0):
        """A numpy array over the mapped memory itself (no copy).

        Host buffers are ordinary memory; a device buffer's view goes
        through the PCI BAR (slow; prefer to_numpy()). The buffer cannot
        be freed while the view lives.
        """
        npdt = _npdtype(dtype)
        count = (self.size - offset) // npdt.itemsize if shape is None else int(np.prod(shape))
        if offset < 0 or offset + count * npdt.itemsize > self.size:
            raise ValueError("view of %d bytes at %d does not fit in a %d-byte buffer"
                             % (count * npdt.itemsize, offset, self.size))
        raw = (ctypes.c_char * (count * npdt.itemsize)).from_address(self.address() + offset)
        self._hold()
        weakref.finalize(raw, self._drop)
        raw._tern_buffer = self          # keeps the buffer alive as long as the view
        a = np.frombuffer(raw, dtype=npdt, count=count)
        return a if shape is None else a.reshape(shape)

    def write(self, array, offset=0):
        """Copy array's bytes into the buffer at offset (device: by DMA)."""
        a = np.ascontiguousarray(array)
        if offset < 0 or offset + a.nbytes > self.size:
            raise ValueError("%d bytes at %d do not fit in a %d-byte buffer"
                             % (a.nbytes, offset, self.size))
        if self.kind == "host":
            ctypes.memmove(self.address() + offset, a.ctypes.data, a.nbytes)
            return
        stage = Buffer(self.device, max(a.nbytes, 1), "host")
        try:
            stage.write(a)
            self.device.copy(self, stage, a.nbytes, dst_offset=offset)
        finally:
            stage.free()

    def to_numpy(self, dtype=np.uint8, shape=None, offset=0):
        """A numpy copy of the buffer's contents (device: by DMA)."""
        npdt = _npdtype(dtype)
        count = (self.size - offset) // npdt.itemsize if shape is None else int(np.prod(shape))
        nbytes = count * npdt.itemsize
        if offset < 0 or offset + nbytes > self.size:
            raise ValueError("%d bytes at %d do not fit in a %d-byte buffer"
                             % (nbytes, offset, self.size))
        out = np.empty(count, dtype=npdt)
        if self.kind == "host":
            ctypes.memmove(out.ctypes.data, self.address() + offset, nbytes)
        else:
            stage = Buffer(self.device, max(nbytes, 1), "host")
            try:
                self.device.copy(stage, self, nbytes, src_offset=offset)
                ctypes.memmove(out.ctypes.data, stage.address(), nbytes)
            finally:
                stage.free()
        return out if shape is None else out.reshape(shape)

    # ---- DLPack (host buffers only) ----
    def as_dlpack(self, dtype="fp32", shape=None, offset=0):
        """An object numpy.from_dlpack() (or a framework) takes without a copy."""
        return _dlpack.Export(self, dtype, shape, offset)

    def __dlpack_device__(self):
        return _dlpack.device_of(self)

    def __dlpack__(self, stream=None):
        """The whole buffer as a 1-D uint8 tensor; see as_dlpack() for typed views."""
        return _dlpack.Export(self, np.uint8, None, 0).__dlpack__(stream)


class Fence:
    """The completion of an asynchronous copy or launch."""

    def __init__(self, device, h, keep):
        self.device = device
        self._h = h
        self._keep = keep        # buffers/kernel in use until released

    def wait(self, timeout_ns=TIMEOUT_INFINITE):
        """Wait; True when done, False on timeout (TernError if the job failed)."""
        ret = L.tern_fence_wait(self.device.handle, self._h, timeout_ns)
        if ret == -_errno.ETIME:
            return False
        _check("tern_fence_wait", ret)
        return True

    def launch_status(self):
        st = L.LaunchStatus()
        _check("tern_fence_launch_status", L.tern_fence_launch_status(self._h, ctypes.byref(st)))
        return _status(st)

    def release(self):
        if self._h is not None:
            L.tern_fence_release(self._h)
            self._h = None
            self._keep = None

    def __del__(self):
        try:
            self.release()
        except Exception:
            pass


class Program:
    """A program being built (tern_prog_create); add ops, then finish()."""

    def __init__(self, sbuf_size=0):
        h = ctypes.c_void_p()
        _check("tern_prog_create", L.tern_prog_create(sbuf_size, ctypes.byref(h)))
        self._h = h

    def add(self, op):
        """Append an operation (ops.Op) to the program."""
        _check("tern_op_emit(%s)" % op.name, L.tern_op_emit(self._h, ctypes.byref(op.c)))

    def finish(self):
        """The program image, as bytes."""
        img = ctypes.c_void_p()
        size = ctypes.c_size_t()
        _check("tern_prog_finish", L.tern_prog_finish(self._h, ctypes.byref(img),
                                                      ctypes.byref(size)))
        return ctypes.string_at(img.value, size.value)

    def free(self):
        if self._h is not None:
            L.tern_prog_free(self._h)
            self._h = None

    def __del__(self):
        self.free()


class Kernel:
    """A program image loaded into a device's memory (tern_kernel_load)."""

    def __init__(self, device, image):
        h = ctypes.c_void_p()
        _check("tern_kernel_load", L.tern_kernel_load(device.handle, bytes(image), len(image),
                                                      ctypes.byref(h)))
        self._h = h
        self.device = device
        device._kernels.add(self)

    @property
    def handle(self):
        if self._h is None:
            raise ValueError("the kernel was freed")
        return self._h

    @property
    def slots(self):
        return L.tern_kernel_slots(self.handle)

    def free(self):
        if self._h is not None:
            L.tern_kernel_free(self._h)
            self._h = None
            self.device._kernels.discard(self)

    def __del__(self):
        try:
            self.free()
        except Exception:
            pass
