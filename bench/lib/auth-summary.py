"""Sums up bench/auth-checks.sh's output (on standard input): per kind of
message and way of connecting, the range over the rounds of the accept
rate and of the server's CPU time per message, checks on and off, and what
the checks cost: the share of the rate lost (1 - on/off, from the
medians) and the CPU time added per message."""

import re
import statistics
import sys

HEADING = re.compile(r"^== checks (on|off), (\w+), 20 sessions, (.+)$")
RATE = re.compile(r"^message\s+\d+ msgs\s+([\d.]+) msgs/s")
CPU = re.compile(r"^server CPU: ([\d.]+) ms")


def main():
    figures = {}
    current = None
    for line in sys.stdin:
        line = line.rstrip("\n")
        if m := HEADING.match(line):
            current = (m.group(3), m.group(2), m.group(1))
            figures.setdefault(current, {"rate": [], "cpu": []})
        elif current and (m := RATE.match(line)):
            figures[current]["rate"].append(float(m.group(1)))
        elif current and (m := CPU.match(line)):
            figures[current]["cpu"].append(float(m.group(1)))
    print("| messages, connections | checks on: msgs/s | checks off: msgs/s | rate lost | "
          "CPU ms/msg on | CPU ms/msg off | CPU added |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for connections, kind in dict.fromkeys((c, k) for c, k, _ in figures):
        on, off = figures.get((connections, kind, "on")), figures.get((connections, kind, "off"))
        if not on or not off or not on["rate"] or not off["rate"]:
            continue

        def span(values, form):
            low, high = min(values), max(values)
            return form.format(low) if low == high else (form + "-" + form).format(low, high)

        lost = 1 - statistics.median(on["rate"]) / statistics.median(off["rate"])
        added = statistics.median(on["cpu"]) - statistics.median(off["cpu"])
        print(f"| {kind}, {connections} | {span(on['rate'], '{:.0f}')} | {span(off['rate'], '{:.0f}')} | "
              f"{lost:.0%} | {span(on['cpu'], '{:.3f}')} | {span(off['cpu'], '{:.3f}')} | {added:+.3f} |")


if __name__ == "__main__":
    main()
