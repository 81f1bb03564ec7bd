# SPDX-License-Identifier: MIT
"""DLPack export of host buffers, so numpy.from_dlpack() (and frameworks
that speak DLPack) take a tern host buffer's memory without a copy.

Host buffers are ordinary CPU memory the chip reaches by DMA: they are
exported as kDLCPU tensors. Device (HBM) buffers are not exported: DLPack
has no device type for tern, and a CPU mapping of HBM goes through the PCI
BAR, which is not memory a CPU framework may treat as its own. Copy them to
a host buffer first (Device.copy, or Buffer.to_numpy).

The exporter follows the DLPack protocol: __dlpack__() returns a PyCapsule
named "dltensor" holding a DLManagedTensor; the consumer renames it
"used_dltensor" and calls its deleter when done. Until then the buffer is
held (Buffer.free() refuses).
"""

import ctypes

import numpy as np

KDLCPU = 1
_KDLINT, _KDLUINT, _KDLFLOAT, _KDLBFLOAT = 0, 1, 2, 4


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", _DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class _DLManagedTensor(ctypes.Structure):
    pass


_DELETER = ctypes.CFUNCTYPE(None, ctypes.POINTER(_DLManagedTensor))
_DLManagedTensor._fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p),
                             ("deleter", _DELETER)]

_api = ctypes.pythonapi
_api.PyCapsule_New.restype = ctypes.py_object
_api.PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
# The capsule destructor gets a capsule whose reference count is 0: it must
# not become a Python object again, so these take it as a plain pointer.
_is_valid = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_IsValid", _api))
_get_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", _api))
_NAME = b"dltensor"

# Exports alive: address of the DLManagedTensor -> (buffer, the ctypes objects).
_live = {}


def _delete(mp):
    addr = ctypes.cast(mp, ctypes.c_void_p).value
    entry = _live.pop(addr, None)
    if entry is not None:
        entry[0]._drop()


_deleter = _DELETER(_delete)

_CAPSULE_DTOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def _capsule_dtor(cap):
    # Never consumed (still named "dltensor"): the producer deletes it.
    if _is_valid(cap, _NAME):
        p = _get_pointer(cap, _NAME)
        _delete(ctypes.cast(p, ctypes.POINTER(_DLManagedTensor)))


_capsule_dtor_c = _CAPSULE_DTOR(_capsule_dtor)


def _dl_dtype(npdt, tern_dt):
    if tern_dt == 2:                          # bf16
        return _DLDataType(_KDLBFLOAT, 16, 1)
    kind = {"f": _KDLFLOAT, "u": _KDLUINT, "i": _KDLINT}.get(npdt.kind)
    if kind is None:
        raise BufferError("no DLPack type for %s" % npdt)
    return _DLDataType(kind, npdt.itemsize * 8, 1)


def device_of(buf):
    if buf.kind != "host":
        raise BufferError("a tern device (HBM) buffer has no DLPack device: copy it to a "
                          "host buffer first (Documentation/python.rst, \"DLPack\")")
    return (KDLCPU, 0)


class Export:
    """A typed view of a host buffer for DLPack consumers."""

    def __init__(self, buf, dtype, shape, offset):
        from .runtime import _npdtype, dtype_code
        device_of(buf)
        self.buf = buf
        self.tern_dt = dtype_code(dtype) if isinstance(dtype, (str, int)) else None
        self.npdt = _npdtype(dtype)
        if shape is None:
            shape = ((buf.size - offset) // self.npdt.itemsize,)
        self.shape = tuple(int(s) for s in shape)
        nbytes = int(np.prod(self.shape)) * self.npdt.itemsize
        if offset < 0 or offset + nbytes > buf.size:
            raise ValueError("%d bytes at %d do not fit in a %d-byte buffer"
                             % (nbytes, offset, buf.size))
        self.offset = offset

    def __dlpack_device__(self):
        return (KDLCPU, 0)

    def __dlpack__(self, stream=None):
        if stream is not None and stream != -1:
            raise BufferError("tern host buffers take no stream (kDLCPU)")
        m = _DLManagedTensor()
        shape = (ctypes.c_int64 * len(self.shape))(*self.shape)
        t = m.dl_tensor
        t.data = self.buf.address()
        t.device = _DLDevice(KDLCPU, 0)
        t.ndim = len(self.shape)
        t.dtype = _dl_dtype(self.npdt, self.tern_dt)
        t.shape = shape
        t.strides = None                     # compact row-major
        t.byte_offset = self.offset
        m.manager_ctx = None
        m.deleter = _deleter
        addr = ctypes.addressof(m)
        self.buf._hold()
        _live[addr] = (self.buf, m, shape)
        return _api.PyCapsule_New(addr, _NAME,
                                  ctypes.cast(_capsule_dtor_c, ctypes.c_void_p))
