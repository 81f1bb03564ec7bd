# SPDX-License-Identifier: MIT
"""Loading libtern.so and the ctypes prototypes of its C API.

The library is looked for, in this order:
  1. $TERN_LIBRARY: the path of a libtern.so(.0) (a build tree, a DESTDIR);
  2. libtern.so.0 next to this package (a self-contained copy);
  3. the directory `make install` put it in (_installed.py);
  4. the dynamic linker's search path ("libtern.so.0").
Structures mirror lib/tern.h, tern_program.h and tern_ops.h field by field;
tests/install/python.sh checks their sizes against the C compiler's.
"""

import ctypes
import os

_here = os.path.dirname(os.path.abspath(__file__))


def _candidates():
    env = os.environ.get("TERN_LIBRARY")
    if env:
        return [env]
    paths = [os.path.join(_here, "libtern.so.0")]
    try:
        from . import _installed  # written by make install
        paths.append(os.path.join(_installed.LIBDIR, "libtern.so.0"))
    except ImportError:
        pass
    paths.append("libtern.so.0")
    return paths


def _load():
    tried = []
    for p in _candidates():
        if os.sep in p and not os.path.exists(p):
            tried.append("%s (missing)" % p)
            continue
        try:
            return ctypes.CDLL(p), p
        except OSError as e:
            tried.append("%s (%s)" % (p, e))
    raise ImportError("tern: cannot load libtern: tried " + "; ".join(tried) +
                      ". Set TERN_LIBRARY to the path of libtern.so.0.")


lib, path = _load()

c_uint = ctypes.c_uint
c_int = ctypes.c_int
u32 = ctypes.c_uint32
u64 = ctypes.c_uint64
i64 = ctypes.c_int64
vp = ctypes.c_void_p


class DeviceInfo(ctypes.Structure):
    _fields_ = [("index", c_uint), ("minor", c_uint), ("node", ctypes.c_char * 32),
                ("pci_address", ctypes.c_char * 32), ("revision", c_uint),
                ("platform", c_uint), ("hw_version", c_uint), ("caps", c_uint),
                ("num_cores", c_uint), ("num_queues", c_uint),
                ("num_dma_engines", c_uint), ("hbm_total", u64), ("hbm_used", u64),
                ("driver_name", ctypes.c_char * 32), ("driver_version", ctypes.c_char * 32),
                ("uapi_major", c_uint), ("uapi_minor", c_uint), ("chip_id", c_uint),
                ("fabric_id", c_uint), ("fabric_chips", c_uint), ("num_links", c_uint)]


class LaunchStatus(ctypes.Structure):
    _fields_ = [("result", c_int), ("core", c_uint), ("error", c_uint),
                ("error_name", ctypes.c_char * 32), ("engine", c_uint), ("index", c_uint),
                ("detail", u64), ("cycles", u64), ("modeled_ns", u64), ("busy", u64 * 4),
                ("insns", u32 * 4), ("device_ns", u64), ("wall_ns", u64)]


class Tensor(ctypes.Structure):
    _fields_ = [("slot", u32), ("dtype", u32), ("offset", u64), ("rows", u64),
                ("cols", u64), ("row_stride", i64), ("col_stride", i64)]


class Op(ctypes.Structure):
    _fields_ = [("kind", u32), ("func", u32), ("nin", u32), ("eps", ctypes.c_float),
                ("scale", ctypes.c_float), ("pad", u32), ("out", Tensor), ("inp", Tensor * 3)]


PP = ctypes.POINTER(vp)


def _proto(name, res, *args, optional=False):
    try:
        f = getattr(lib, name)
    except AttributeError:
        if optional:
            return None
        raise
    f.restype = res
    f.argtypes = list(args)
    return f


tern_strerror = _proto("tern_strerror", ctypes.c_char_p, c_int)
tern_last_error = _proto("tern_last_error", ctypes.c_char_p)
tern_device_count = _proto("tern_device_count", c_int)
tern_device_open = _proto("tern_device_open", c_int, c_uint, PP)
tern_device_close = _proto("tern_device_close", c_int, vp)
tern_device_info = _proto("tern_device_info", c_int, vp, ctypes.POINTER(DeviceInfo))
tern_buffer_alloc = _proto("tern_buffer_alloc", c_int, vp, u64, c_uint, PP)
tern_buffer_map = _proto("tern_buffer_map", c_int, vp, PP)
tern_buffer_size = _proto("tern_buffer_size", u64, vp)
tern_buffer_flags = _proto("tern_buffer_flags", c_uint, vp)
tern_buffer_free = _proto("tern_buffer_free", None, vp)
tern_copy = _proto("tern_copy", c_int, vp, vp, u64, vp, u64, u64)
tern_copy_async = _proto("tern_copy_async", c_int, vp, vp, u64, vp, u64, u64, PP)
tern_fence_wait = _proto("tern_fence_wait", c_int, vp, vp, i64)
tern_fence_release = _proto("tern_fence_release", None, vp)
tern_fence_launch_status = _proto("tern_fence_launch_status", c_int, vp,
                                  ctypes.POINTER(LaunchStatus))
tern_kernel_load = _proto("tern_kernel_load", c_int, vp, ctypes.c_char_p, ctypes.c_size_t, PP)
tern_kernel_slots = _proto("tern_kernel_slots", c_uint, vp)
tern_kernel_free = _proto("tern_kernel_free", None, vp)
tern_launch = _proto("tern_launch", c_int, vp, vp, c_int, ctypes.POINTER(vp), c_uint,
                     ctypes.POINTER(LaunchStatus))
tern_launch_async = _proto("tern_launch_async", c_int, vp, vp, c_int, ctypes.POINTER(vp),
                           c_uint, PP)
tern_prog_create = _proto("tern_prog_create", c_int, u32, PP)
tern_prog_free = _proto("tern_prog_free", None, vp)
tern_prog_finish = _proto("tern_prog_finish", c_int, vp, PP, ctypes.POINTER(ctypes.c_size_t))
tern_op_emit = _proto("tern_op_emit", c_int, vp, ctypes.POINTER(Op))
tern_op_run = _proto("tern_op_run", c_int, vp, c_int, ctypes.POINTER(Op), ctypes.POINTER(vp),
                     c_uint, ctypes.POINTER(LaunchStatus))
tern_op_name = _proto("tern_op_name", ctypes.c_char_p, c_uint)

# Collectives (lib/tern_coll.h): bound when the library has them.
tern_comm_create = _proto("tern_comm_create", c_int, ctypes.POINTER(vp), c_uint, PP,
                          optional=True)
tern_comm_destroy = _proto("tern_comm_destroy", None, vp, optional=True)
tern_comm_size = _proto("tern_comm_size", c_uint, vp, optional=True)
tern_comm_set_algorithm = _proto("tern_comm_set_algorithm", c_int, vp, c_uint, optional=True)
tern_all_reduce = _proto("tern_all_reduce", c_int, vp, ctypes.POINTER(vp), ctypes.POINTER(vp),
                         u64, c_uint, c_uint, optional=True)
tern_all_gather = _proto("tern_all_gather", c_int, vp, ctypes.POINTER(vp), ctypes.POINTER(vp),
                         u64, c_uint, optional=True)
tern_reduce_scatter = _proto("tern_reduce_scatter", c_int, vp, ctypes.POINTER(vp),
                             ctypes.POINTER(vp), u64, c_uint, c_uint, optional=True)
tern_broadcast = _proto("tern_broadcast", c_int, vp, ctypes.POINTER(vp), u64, c_uint, c_uint,
                        optional=True)
tern_send_recv = _proto("tern_send_recv", c_int, vp, c_uint, vp, u64, c_uint, vp, u64, u64,
                        optional=True)
