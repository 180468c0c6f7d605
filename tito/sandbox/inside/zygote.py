"""The kernel zygote: runs inside one grading worker's sandbox, imports once what every
kernel needs, then forks one isolated Jupyter kernel per request (tito.sandbox.zygote is
the host's side).

A request is one JSON line on stdin naming the child's own folder under /run/tito (its
sockets, connection file and the data files to show). Each child, before any student
code:

- gets new user, PID, mount, IPC and network namespaces (its kernel is PID 2 under a
  small init that is PID 1: when the init dies, the kernel's whole tree dies with it);
- tells the host who it is over a Unix socket (the host reads its PID from the socket's
  credentials and moves it into the child's own cgroup), and waits until that is done;
- sees only its own folder under /run/tito, a fresh size-capped /tmp (HOME and the working
  folder) and /dev/shm, and a read-only / and /dev;
- gets its rlimits, default signal handlers, no inherited file, no capability, no new
  privileges, PR_SET_DUMPABLE 0 (no ptrace, no /proc/<pid>/mem), fresh random seeds;
- and only then starts ipykernel's own IPKernelApp on the connection file, telling the
  host once its sockets are bound (a client that connects earlier waits for ZMQ's
  reconnection interval and the IOPub check of jupyter_client's wait_for_ready).

It runs with only this file and the standard library until `preload()`.
"""

import ctypes
import json
import os
import resource
import signal
import socket
import sys

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWIPC, CLONE_NEWNET = (
    0x00020000, 0x10000000, 0x20000000, 0x08000000, 0x40000000)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
RUN = "/run/tito"
USER = 1000
HOME, WORKDIR = "/tmp/home", "/tmp/work"
_libc = ctypes.CDLL(None, use_errno=True)


class SetupFailed(Exception):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        raise SetupFailed(f"{what}: {os.strerror(ctypes.get_errno())}")


def _mount(source, target, fstype, flags, data=None) -> None:
    def encode(text):
        return text.encode() if text is not None else None

    _check(_libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
           f"mount {target}")


def _prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl {option}")


def preload() -> None:
    """What every kernel imports before the first cell, imported once here."""
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # (debugpy's start-up warning)
    import sqlite3  # noqa: F401

    import ipykernel.debugger  # noqa: F401  (what IPKernelApp.initialize would import: 0.1 s)
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import ipykernel.zmqshell  # noqa: F401
    import IPython.core.interactiveshell  # noqa: F401
    import numpy  # noqa: F401


def serve() -> None:
    preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    _prctl(PR_SET_DUMPABLE, 0)
    control_in, control_out = sys.stdin.buffer, sys.stdout.buffer
    control_out.write(b"ready\n")
    control_out.flush()
    for line in control_in:
        request = json.loads(line)
        if os.fork() == 0:
            _child(request)  # never returns


def _child(request: dict) -> None:
    """The intermediate: new namespaces, then the init (PID 1) forked into them."""
    code = 70
    try:
        for signum in range(1, signal.NSIG):
            if signum not in (signal.SIGKILL, signal.SIGSTOP):
                try:
                    signal.signal(signum, signal.SIG_DFL)
                except (OSError, ValueError):
                    pass
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)  # the zygote's stdin and stdout are the host's control channel
        os.closerange(3, 1 << 16)
        os.setsid()
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _prctl(PR_SET_DUMPABLE, 1)  # (inherited 0 from the zygote) to write its own id maps below
        uid, gid = os.getuid(), os.getgid()
        _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET), "unshare")
        _write("/proc/self/setgroups", "deny")
        # the kernel's user: an ordinary uid inside (mapping uid 0 would need CAP_SETFCAP)
        _write("/proc/self/uid_map", f"{USER} {uid} 1")
        _write("/proc/self/gid_map", f"{USER} {gid} 1")
        _prctl(PR_SET_DUMPABLE, 0)  # it stays in view of the kernel's /proc: no ptrace of it either
        init = os.fork()
        if init == 0:
            _init(request)
        while True:
            pid, status = os.waitpid(init, 0)
            if pid == init:
                code = os.waitstatus_to_exitcode(status) & 0xFF
                break
    except BaseException as error:  # noqa: BLE001  (reported to the host, never raised into the zygote)
        _report_failure(request, f"{type(error).__name__}: {error}")
    os._exit(code)


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w") as file:
            file.write(text)
    except OSError as error:
        raise SetupFailed(f"writing {path}: {error.strerror}") from None


def _report_failure(request: dict, message: str) -> None:
    try:
        _write(os.path.join(request["folder"], "failed"), message)
    except OSError:
        pass


def _init(request: dict) -> None:
    """PID 1 of the child's namespace: joins its cgroup, builds the child's view of the
    files, forks the kernel and reaps everything until the kernel ends."""
    code = 71
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        host = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        host.connect(os.path.join(request["folder"], "hello"))
        if host.recv(1) != b"j":  # the host has moved this process into the child's cgroup
            raise SetupFailed("the host did not place the kernel in its cgroup")
        try:
            _build_view(request)
        except BaseException as error:
            host.sendall(f"error {type(error).__name__}: {error}\n".encode())
            raise
        kernel = os.fork()
        if kernel == 0:
            _kernel(request, host)
        host.close()  # the kernel says "ok" once its sockets are bound
        _drop_privileges()
        while True:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            if pid == kernel:
                code = os.waitstatus_to_exitcode(status) & 0xFF
                break
    except BaseException as error:  # noqa: BLE001
        _report_failure(request, f"{type(error).__name__}: {error}")
    os._exit(code)


def _build_view(request: dict) -> None:
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount(request["folder"], RUN, None, MS_BIND)  # its own folder only, not the other children's
    kept = _mounts_under("/tmp")  # the site and the Python environment when they live under /tmp
    old_tmp = os.open("/tmp", os.O_PATH | os.O_DIRECTORY)
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(request['disk_bytes'])},mode=1777")
    for path in kept:  # bound again, read-only, from the /tmp now hidden
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{old_tmp}/{os.path.relpath(path, '/tmp')}", path, None, MS_BIND | MS_REC)
        _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.close(old_tmp)
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=65536k,mode=1777")
    for folder in (HOME, WORKDIR):
        os.makedirs(folder)
    for name in request["inputs"]:
        target = os.path.join(WORKDIR, os.path.basename(name))
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o444))
        _mount(os.path.join(RUN, "work", os.path.basename(name)), target, None, MS_BIND)
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    for root in ("/", "/dev"):  # bwrap's own tmpfs folders, shared by every child of this zygote
        _mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _mounts_under(folder: str) -> list[str]:
    """The outermost mount points below `folder` (not `folder` itself)."""
    with open("/proc/self/mountinfo") as table:
        points = [line.split()[4].encode().decode("unicode_escape") for line in table]
    below = sorted({point for point in points if point.startswith(folder + "/")})
    return [point for point in below if not any(point.startswith(other + "/") for other in below)]


def _drop_privileges() -> None:
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    for capability in range(64):
        _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # EINVAL past the last one: ignored

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    empty = (Data * 2)()
    _check(_libc.capset(ctypes.byref(Header(0x20080522, 0)), empty), "capset")
    _prctl(PR_SET_DUMPABLE, 0)


def _kernel(request: dict, host: socket.socket) -> None:
    code = 72
    try:
        _drop_privileges()
        for name, value in request["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (value, value))
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(WORKDIR)
        import random

        import numpy

        random.seed()
        numpy.random.seed()
        from ipykernel.kernelapp import IPKernelApp

        sys.argv = ["ipykernel_launcher", "-f", os.path.join(RUN, "kernel.json"), *request["arguments"]]
        app = IPKernelApp.instance()
        app.initialize(sys.argv[1:])
        host.sendall(b"ok\n")  # its sockets are bound: the grader connects at once, with no retry
        host.close()
        app.start()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # noqa: BLE001
        code = 73
    os._exit(code)


if __name__ == "__main__":
    serve()
