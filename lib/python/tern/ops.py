# SPDX-License-Identifier: MIT
"""The ops library (lib/tern_ops.h) on device tensors.

A DeviceTensor is a 2-D view of a device buffer: dtype, rows x cols,
offset and strides, as struct tern_tensor. An operation names its output
and inputs; run() (tern_op_run: the program is built once per distinct
operation and cached) or Program.add() + Device.launch() run it on a core.

    with tern.Device(0) as dev:
        a = tern.tensor(dev, np.random.rand(64, 32).astype(np.float32))
        b = tern.tensor(dev, np.random.rand(32, 16).astype(np.float32))
        c = tern.empty(dev, (64, 16))
        tern.matmul(c, a, b)
        print(c.numpy())
"""

import ctypes

import numpy as np

from . import _lib as L
from .runtime import Buffer, _check, _status, dtype_code, dtype_size, FP32, BF16, \
    bf16_from_f32, bf16_to_f32, CORE_ANY

MATMUL, BINARY, BIAS, ACTIVATION, SOFTMAX, LAYERNORM, RMSNORM, TRANSPOSE, ATTENTION = \
    1, 2, 3, 4, 5, 6, 7, 8, 9
ALU = {"add": 0, "sub": 1, "mul": 2, "div": 3, "max": 4, "min": 5}
ACT = {"identity": 0, "relu": 1, "gelu": 2, "gelu_tanh": 3, "silu": 4, "sigmoid": 5,
       "tanh": 6, "exp": 7, "log": 8, "sqrt": 9, "rsqrt": 10, "reciprocal": 11}
ATTN_CAUSAL = 1


class DeviceTensor:
    """rows x cols elements of dtype in a device buffer (struct tern_tensor)."""

    def __init__(self, buffer, dtype, shape, offset=0, strides=None):
        if buffer.kind != "device":
            raise ValueError("ops run on device (HBM) buffers; this one is a host buffer")
        self.buffer = buffer
        self.dtype = dtype_code(dtype)
        self.shape = (int(shape[0]), int(shape[1])) if len(shape) == 2 else (1, int(shape[0]))
        self.offset = offset
        self.strides = strides if strides is not None else (self.shape[1], 1)

    @property
    def T(self):
        """The transpose, as a view (no copy)."""
        return DeviceTensor(self.buffer, self.dtype, (self.shape[1], self.shape[0]),
                            self.offset, (self.strides[1], self.strides[0]))

    def _c(self, slot):
        return L.Tensor(slot, self.dtype, self.offset, self.shape[0], self.shape[1],
                        self.strides[0], self.strides[1])

    def _contiguous(self):
        return self.strides == (self.shape[1], 1)

    def numpy(self):
        """The values as a float32 array (bf16/fp16 converted); device -> host by DMA."""
        if not self._contiguous():
            raise ValueError("numpy() of a strided view: run an op into a contiguous tensor")
        n = self.shape[0] * self.shape[1]
        if self.dtype == FP32:
            a = self.buffer.to_numpy(np.float32, (n,), self.offset)
        elif self.dtype == BF16:
            a = bf16_to_f32(self.buffer.to_numpy(np.uint16, (n,), self.offset))
        elif self.dtype == 3:
            a = self.buffer.to_numpy(np.float16, (n,), self.offset).astype(np.float32)
        else:
            raise ValueError("numpy() of fp8 tensors: read the bytes with Buffer.to_numpy")
        return a.reshape(self.shape)

    def write(self, array):
        """Store array (any float type, converted to the tensor's dtype)."""
        if not self._contiguous():
            raise ValueError("write() to a strided view")
        a = np.asarray(array, dtype=np.float32).reshape(self.shape)
        if self.dtype == FP32:
            raw = a
        elif self.dtype == BF16:
            raw = bf16_from_f32(a)
        elif self.dtype == 3:
            raw = a.astype(np.float16)
        else:
            raise ValueError("write() of fp8 tensors: write the bytes with Buffer.write")
        self.buffer.write(raw, self.offset)


def empty(device, shape, dtype="fp32"):
    """A new device tensor (its own device buffer), contents undefined."""
    rows, cols = shape if len(shape) == 2 else (1, shape[0])
    buf = Buffer(device, rows * cols * dtype_size(dtype), "device")
    return DeviceTensor(buf, dtype, (rows, cols))


def tensor(device, array, dtype=None):
    """A new device tensor holding a 2-D (or 1-D) numpy array's values."""
    a = np.asarray(array)
    if a.ndim not in (1, 2):
        raise ValueError("tern tensors are 2-D (or 1-D: one row)")
    if dtype is None:
        dtype = "fp16" if a.dtype == np.float16 else "fp32"
    t = empty(device, a.shape if a.ndim == 2 else (1, a.shape[0]), dtype)
    try:
        t.write(a)
    except BaseException:
        t.buffer.free()
        raise
    return t


class Op:
    """One operation as data (struct tern_op) and the buffers of its slots."""

    def __init__(self, kind, out, inputs, func=0, eps=0.0, scale=0.0, slots=None):
        """slots: a list of buffers shared by the ops of one Program (their
        slot numbers are positions in it; buffers new to it are appended);
        launch the program with that list."""
        self.kind = kind
        self.buffers = slots if slots is not None else []
        c = L.Op()
        c.kind = kind
        c.func = func
        c.nin = len(inputs)
        c.eps = eps
        c.scale = scale
        c.out = out._c(self._slot(out.buffer))
        for i, t in enumerate(inputs):
            c.inp[i] = t._c(self._slot(t.buffer))
        self.c = c
        self.device = out.buffer.device

    def _slot(self, buf):
        for i, b in enumerate(self.buffers):
            if b is buf:
                return i
        self.buffers.append(buf)
        return len(self.buffers) - 1

    @property
    def name(self):
        n = L.tern_op_name(self.kind)
        return n.decode() if n else "op %d" % self.kind

    def run(self, core=CORE_ANY):
        """Run on the device and wait (tern_op_run); the launch status as a dict."""
        slots = (ctypes.c_void_p * len(self.buffers))(*[b.handle for b in self.buffers])
        st = L.LaunchStatus()
        _check("tern_op_run(%s)" % self.name,
               L.tern_op_run(self.device.handle, core, ctypes.byref(self.c), slots,
                             len(self.buffers), ctypes.byref(st)))
        return _status(st)


def matmul(c, a, b, core=CORE_ANY):
    """c = a @ b on the device."""
    return Op(MATMUL, c, [a, b]).run(core)


def softmax(out, x, core=CORE_ANY):
    """out = softmax of each row of x."""
    return Op(SOFTMAX, out, [x]).run(core)


def binary(alu, out, a, b, core=CORE_ANY):
    """out = a <alu> b elementwise; alu: add, sub, mul, div, max, min."""
    return Op(BINARY, out, [a, b], func=ALU[alu]).run(core)


def activation(func, out, x, core=CORE_ANY):
    """out = func(x) elementwise; func: relu, gelu, silu, sigmoid, tanh, exp, ..."""
    return Op(ACTIVATION, out, [x], func=ACT[func]).run(core)


def transpose(out, x, core=CORE_ANY):
    """out = x^T."""
    return Op(TRANSPOSE, out, [x]).run(core)


def layernorm(out, x, gamma=None, beta=None, eps=1e-5, core=CORE_ANY):
    ins = [x] + ([gamma] if gamma is not None else []) + ([beta] if beta is not None else [])
    return Op(LAYERNORM, out, ins, eps=eps).run(core)


def attention(out, q, k, v, scale, causal=False, core=CORE_ANY):
    """One attention head: out = softmax(scale q k^T) v."""
    return Op(ATTENTION, out, [q, k, v], func=ATTN_CAUSAL if causal else 0,
              scale=scale).run(core)
