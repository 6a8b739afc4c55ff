# Asks QEMU, through the QMP monitor of Packer's qmp_enable, for its user
# network (the forwarded SSH port among it) and prints QEMU's answer.
import json
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile("rw")
json.loads(f.readline())  # the greeting
for cmd in ({"execute": "qmp_capabilities"},
            {"execute": "human-monitor-command", "arguments": {"command-line": "info usernet"}}):
    f.write(json.dumps(cmd) + "\n")
    f.flush()
    while True:
        msg = json.loads(f.readline())
        if "return" in msg or "error" in msg:
            break
print(msg.get("return", msg))
