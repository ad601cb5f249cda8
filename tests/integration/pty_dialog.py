#!/usr/bin/env python3
"""Drive an interactive program in a new pseudo-terminal, expect-style.

Usage: pty_dialog.py SCRIPT -- COMMAND [ARG...]

SCRIPT has one step per line:
    send TEXT      write TEXT and a newline (\\n escapes are honoured)
    ctrl C         write the control character ^C (any letter)
    expect REGEX   wait (up to --timeout seconds) until the output read since
                   the previous match matches REGEX
    sleep SECONDS
Lines starting with # are comments. Exit status: 0 when every expect
matched and the program exited; 1 on a failed expect (the output read so
far is printed); 2 on usage errors. The program runs as the session
leader of the new terminal, like a login shell.
"""
import os
import pty
import re
import select
import sys
import time


def main():
    args = sys.argv[1:]
    timeout = 20.0
    if args and args[0].startswith("--timeout="):
        timeout = float(args.pop(0).split("=", 1)[1])
    if len(args) < 3 or args[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    steps = [l.rstrip("\n") for l in open(args[0]) if l.strip() and not l.startswith("#")]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(args[2], args[2:])
    out = b""
    seen = 0

    def pump(deadline):
        nonlocal out
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.time()))
        if not r:
            return False
        try:
            data = os.read(fd, 4096)
        except OSError:
            return None
        if not data:
            return None
        out += data
        return True

    for step in steps:
        cmd, _, arg = step.partition(" ")
        if cmd == "send":
            os.write(fd, arg.encode().decode("unicode_escape").encode() + b"\n")
        elif cmd == "ctrl":
            os.write(fd, bytes([ord(arg.upper()) - 64]))
        elif cmd == "sleep":
            time.sleep(float(arg))
        elif cmd == "expect":
            rx = re.compile(arg.encode())
            deadline = time.time() + timeout
            while True:
                m = rx.search(out, seen)
                if m:
                    seen = m.end()
                    break
                got = pump(deadline)
                if not got:
                    sys.stdout.write(out.decode(errors="replace"))
                    print(f"\npty_dialog: no match for {arg!r}"
                          f" ({'timeout' if got is False else 'EOF'})")
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    return 1
        else:
            print(f"pty_dialog: bad step {step!r}", file=sys.stderr)
            return 2
    deadline = time.time() + timeout
    while pump(deadline):
        pass
    for _ in range(int(timeout * 10)):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        print("pty_dialog: the program did not exit")
        return 1
    sys.stdout.write(out.decode(errors="replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
