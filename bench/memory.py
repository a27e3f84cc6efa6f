"""Peak resident memory of a child process, for bench.py and peer/compare.py (Linux).

Standard library only: VmHWM sampled from /proc while the child runs, os.wait4's ru_maxrss,
and GNU time's figure as a cross-check.
"""

import os
import subprocess
import time


def read_hwm_kib(pid):
    """VmHWM (peak RSS of the process's current address space, i.e. since exec) in KiB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def sample_peak(argv, env):
    """Runs `argv` once and returns its VmHWM (KiB), sampled every ~1 ms until exit, and
    os.wait4's ru_maxrss (KiB)."""
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        v = read_hwm_kib(p.pid)
        if v:
            peak = max(peak, v)
        time.sleep(0.001)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"memory run {argv[:2]} exited {p.returncode}")
    return peak, ru.ru_maxrss


def gnu_time_kib(argv, env):
    """GNU time's maximum resident set size (KiB) of one run, or None without /usr/bin/time."""
    if not os.path.exists("/usr/bin/time"):
        return None
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        return int(r.stderr.strip().splitlines()[-1]) if r.returncode == 0 else None
    except (ValueError, IndexError):
        return None
