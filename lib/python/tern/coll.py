# SPDX-License-Identifier: MIT
"""Collectives across the chips of a fabric (lib/tern_coll.h), when the
library has them (tern.coll.available)."""

import ctypes

from . import _lib as L
from .runtime import _check, dtype_code

available = L.tern_comm_create is not None
SUM, MAX = 1, 2
AUTO, RING, TREE = 0, 1, 2


def _need():
    if not available:
        raise NotImplementedError("this libtern has no collectives (tern_coll.h)")


def _bufs(bufs):
    return (ctypes.c_void_p * len(bufs))(*[b.handle for b in bufs])


class Communicator:
    """Ranks 0..n-1 over open devices of one fabric (tern_comm_create)."""

    def __init__(self, devices):
        _need()
        arr = (ctypes.c_void_p * len(devices))(*[d.handle for d in devices])
        h = ctypes.c_void_p()
        _check("tern_comm_create", L.tern_comm_create(arr, len(devices), ctypes.byref(h)))
        self._h = h
        self.devices = list(devices)

    @property
    def size(self):
        return L.tern_comm_size(self._h)

    def set_algorithm(self, algorithm):
        _check("tern_comm_set_algorithm", L.tern_comm_set_algorithm(self._h, algorithm))

    def all_reduce(self, send, recv, count, dtype="fp32", op=SUM):
        _check("tern_all_reduce", L.tern_all_reduce(self._h, _bufs(send), _bufs(recv), count,
                                                    dtype_code(dtype), op))

    def all_gather(self, send, recv, count, dtype="fp32"):
        _check("tern_all_gather", L.tern_all_gather(self._h, _bufs(send), _bufs(recv), count,
                                                    dtype_code(dtype)))

    def reduce_scatter(self, send, recv, count, dtype="fp32", op=SUM):
        _check("tern_reduce_scatter", L.tern_reduce_scatter(self._h, _bufs(send), _bufs(recv),
                                                            count, dtype_code(dtype), op))

    def broadcast(self, bufs, count, dtype="fp32", root=0):
        _check("tern_broadcast", L.tern_broadcast(self._h, _bufs(bufs), count,
                                                  dtype_code(dtype), root))

    def send_recv(self, src_rank, src, dst_rank, dst, size, src_offset=0, dst_offset=0):
        _check("tern_send_recv", L.tern_send_recv(self._h, src_rank, src.handle, src_offset,
                                                  dst_rank, dst.handle, dst_offset, size))

    def destroy(self):
        if self._h is not None:
            L.tern_comm_destroy(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy()
