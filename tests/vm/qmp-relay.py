#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# qmp-relay.py OUT QMP_SOCKET: let tests in the guest ask QEMU for a few
# things through the results share (run-vm.sh starts it in the background in
# modes test, fabric and bench, and stops it when the VM has ended).
#
# The guest sees OUT at the same path (virtio-9p, writable). A request is a
# file OUT/relay/req-<name> holding one line, written by the guest under
# another name and renamed into place, so the relay never reads half a
# request:
#     qom-get CHIP PROPERTY
#     qom-set CHIP PROPERTY VALUE
# The relay turns it into a QMP command on /machine/peripheral/tern<CHIP>
# (nothing else: only these two verbs, only tern devices, and qom-set only
# of the properties in SETTABLE, each value checked by its own pattern before
# QEMU sees it: link-down MASK, inject-dma-abort QUEUE, inject-core-hang
# CORE, inject-ecc ce:OFF|ue:OFF, inject-lost-completion queue:Q|core:C,
# inject-aer correctable|nonfatal|fatal; Documentation/chip/spec.rst,
# "Fault injection"), writes the answer to OUT/relay/.resp-<name>,
# renames it to OUT/relay/resp-<name> and deletes the request. An answer is
# one line, "ok VALUE" (qom-get: the property's value, JSON-encoded unless it
# is a number or a string; qom-set: "ok") or "error MESSAGE".
#
# OUT/relay/ready exists while the relay is connected to QEMU; the guest's
# tern_fabric_test.h reports -ENOSYS when it is missing. The relay ends when
# QEMU closes the QMP connection, or on SIGTERM. Python 3 standard library
# only; see Documentation/vm-runner.rst.
import json
import os
import re
import signal
import socket
import sys
import time

def _int_value(text, hi):
    try:
        value = int(text, 0)
    except ValueError:
        raise ValueError("value '%s' is not an integer" % text[:40])
    if not 0 <= value <= hi:
        raise ValueError("value %d out of range (0..%#x)" % (value, hi))
    return value


def _str_value(pattern, what):
    rx = re.compile(pattern)

    def check(text):
        if not rx.match(text):
            raise ValueError("value '%s' is not %s" % (text[:40], what))
        return text
    return check


# property -> function turning the request's text into the QMP value
SETTABLE = {
    "link-down": lambda t: _int_value(t, 0xFFFFFFFF),
    "inject-dma-abort": lambda t: _int_value(t, 63),
    "inject-core-hang": lambda t: _int_value(t, 7),
    "inject-ecc": _str_value(r"^(ce|ue):(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$",
                             "ce:OFFSET or ue:OFFSET"),
    "inject-lost-completion": _str_value(r"^(queue:[0-9]{1,2}|core:[0-9])$",
                                         "queue:Q or core:C"),
    "inject-aer": _str_value(r"^(correctable|nonfatal|fatal)$",
                             "correctable, nonfatal or fatal"),
}
PROP_RE = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
NAME_RE = re.compile(r"^req-[A-Za-z0-9_.-]{1,100}$")
MAX_REQ = 256
POLL_S = 0.02
CONNECT_S = 60


def log(msg):
    print("qmp-relay: %s" % msg, file=sys.stderr, flush=True)


class Qmp:
    def __init__(self, path):
        deadline = time.monotonic() + CONNECT_S
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError as e:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise OSError("cannot connect to %s: %s" % (path, e))
                time.sleep(0.1)
        self.buf = b""
        self.next_id = 0
        greeting = self._read()
        if "QMP" not in greeting:
            raise OSError("no QMP greeting on %s" % path)
        self.command("qmp_capabilities")

    def _read(self):
        """One JSON object from QEMU; raises EOFError when it went away."""
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("QEMU closed the QMP connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def command(self, name, **args):
        """Return (True, value) or (False, message)."""
        self.next_id += 1
        cid = "relay-%d" % self.next_id
        msg = {"execute": name, "id": cid}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if reply.get("id") != cid:
                continue  # an event, or an answer to no one
            if "error" in reply:
                err = reply["error"]
                return False, "%s: %s" % (err.get("class", "Error"), err.get("desc", ""))
            return True, reply.get("return")


def parse(text):
    """(verb, chip, prop, value) of a request line, or raise ValueError."""
    words = text.split()
    if not words:
        raise ValueError("empty request")
    verb = words[0]
    if verb == "qom-get" and len(words) == 3:
        value = None
    elif verb == "qom-set" and len(words) == 4:
        value = words[3]
    else:
        raise ValueError("unknown request '%s' (qom-get CHIP PROP | qom-set CHIP PROP VALUE)"
                         % text.strip()[:80])
    if not words[1].isdigit() or int(words[1]) > 1023:
        raise ValueError("chip '%s' is not a number 0..1023" % words[1])
    prop = words[2]
    if not PROP_RE.match(prop):
        raise ValueError("bad property name '%s'" % prop[:64])
    if verb == "qom-set" and prop not in SETTABLE:
        raise ValueError("property '%s' may not be set (allowed: %s)"
                         % (prop, ", ".join(sorted(SETTABLE))))
    if verb == "qom-set":
        value = SETTABLE[prop](value)
    return verb, int(words[1]), prop, value


def handle(qmp, text):
    try:
        verb, chip, prop, value = parse(text)
    except ValueError as e:
        return "error %s" % e
    path = "/machine/peripheral/tern%d" % chip
    if verb == "qom-get":
        ok, ret = qmp.command("qom-get", path=path, property=prop)
    else:
        ok, ret = qmp.command("qom-set", path=path, property=prop, value=value)
    if not ok:
        return "error %s" % ret
    if verb == "qom-set":
        log("%s %s = %s" % (path, prop, value))
        return "ok"
    if isinstance(ret, bool):
        return "ok %s" % ("true" if ret else "false")
    if isinstance(ret, (int, str)):
        return "ok %s" % str(ret).replace("\n", " ")
    return "ok %s" % json.dumps(ret)


def write_atomic(path, text):
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path))
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.rename(tmp, path)


def main():
    if len(sys.argv) != 3:
        print("usage: qmp-relay.py OUT_DIR QMP_SOCKET", file=sys.stderr)
        return 2
    out, sock_path = sys.argv[1], sys.argv[2]
    rdir = os.path.join(out, "relay")
    ready = os.path.join(rdir, "ready")
    os.makedirs(rdir, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        qmp = Qmp(sock_path)
    except (OSError, EOFError, ValueError) as e:
        log(str(e))
        return 1
    write_atomic(ready, "pid %d" % os.getpid())
    served = 0
    try:
        while True:
            for name in sorted(os.listdir(rdir)):
                if not NAME_RE.match(name):
                    continue
                req = os.path.join(rdir, name)
                try:
                    with open(req, "rb") as f:
                        data = f.read(MAX_REQ + 1)
                except OSError:
                    continue
                if len(data) > MAX_REQ:
                    answer = "error request longer than %d bytes" % MAX_REQ
                else:
                    answer = handle(qmp, data.decode("utf-8", "replace"))
                write_atomic(os.path.join(rdir, "resp-" + name[4:]), answer)
                try:
                    os.unlink(req)
                except OSError:
                    pass
                served += 1
            time.sleep(POLL_S)
    except EOFError:
        pass
    except (OSError, ValueError) as e:
        log("stopped: %s" % e)
        return 1
    finally:
        try:
            os.unlink(ready)
        except OSError:
            pass
        log("served %d request(s)" % served)
    return 0


if __name__ == "__main__":
    sys.exit(main())
