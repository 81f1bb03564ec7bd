# SPDX-License-Identifier: MIT
"""tern: Python binding of libtern, the tern accelerator runtime.

ctypes over the stable C API of libtern.so.0 (lib/tern.h, tern_ops.h,
tern_coll.h) with numpy arrays. Every failing call raises TernError with
the runtime's own message (tern_last_error()). Documentation/python.rst.
"""

from ._lib import path as library_path
from .runtime import (TernError, Device, Buffer, Fence, Program, Kernel, device_count,
                      bf16_from_f32, bf16_to_f32, dtype_code, MEM_HOST, MEM_DEVICE,
                      CORE_ANY, TIMEOUT_INFINITE, FP32, BF16, FP16, FP8_E4M3, FP8_E5M2)
from .ops import (DeviceTensor, Op, empty, tensor, matmul, softmax, binary, activation,
                  transpose, layernorm, attention)
from . import coll

__version__ = "0.1.0"

__all__ = ["TernError", "Device", "Buffer", "Fence", "Program", "Kernel", "device_count",
           "bf16_from_f32", "bf16_to_f32", "dtype_code", "DeviceTensor", "Op", "empty",
           "tensor", "matmul", "softmax", "binary", "activation", "transpose", "layernorm",
           "attention", "coll", "library_path", "MEM_HOST", "MEM_DEVICE", "CORE_ANY",
           "TIMEOUT_INFINITE", "FP32", "BF16", "FP16", "FP8_E4M3", "FP8_E5M2"]
