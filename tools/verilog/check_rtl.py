#!/usr/bin/python3
"""Check that the generated Verilog computes hwnas's fixed-point arithmetic (not only that it synthesizes).

Evaluates the designs of rtl.py with yosys (`eval` for combinational ones, `sat -seq` for the PE array) on
random and edge inputs and compares with a Python model of DESIGN.md's arithmetic: exact products (a 1-bit
weight bipolar: +-a), exact adder trees, load-first accumulators, round-half-away + ReLU + saturate.

    tools/verilog/check_rtl.py            # a few seconds; exit 1 on any mismatch
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True
import rtl  # noqa: E402


def signed(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def product(av: int, wv: int, a: int, w: int) -> int:
    if w == 1:  # bipolar: bit 1 is +1, bit 0 is -1
        return av if wv else -av
    return av * signed(wv, w)


def requant(acc: int, out_bits: int, shift: int) -> int:
    if acc < 0:
        return 0
    return min((1 << out_bits) - 1, (acc + (1 << (shift - 1))) >> shift)


def yosys(verilog: str, commands: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        v = Path(tmp) / "d.v"
        v.write_text(verilog)
        r = subprocess.run(["yosys", "-p", f"read_verilog {v}; proc; flatten; opt_clean; {commands}"],
                           capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(r.stderr or r.stdout)
        return r.stdout


def eval_all(verilog: str, sets: list[dict[str, int]], out: str) -> list[str]:
    cmds = "; ".join("eval " + " ".join(f"-set {k} {v}" for k, v in s.items()) + f" -show {out}" for s in sets)
    values = []
    for text in re.findall(r"Eval result: \\\S+ = (\S+?)\.?$", yosys(verilog, cmds), re.M):
        if "'" in text:  # <width>'<binary digits>
            values.append(text.split("'")[1])
        else:  # yosys prints 32-bit results as a decimal integer
            values.append(format(int(text) & 0xFFFFFFFF, "032b"))
    return values


def check_multipliers(rnd: random.Random) -> int:
    bad = 0
    for a, w in [(1, 1), (1, 5), (4, 1), (2, 2), (3, 5), (8, 8), (16, 16), (5, 12)]:
        sets = [{"a": rnd.randrange(1 << a), "w": rnd.randrange(1 << w)} for _ in range(24)]
        sets += [{"a": (1 << a) - 1, "w": 1 << (w - 1)}, {"a": 0, "w": 0}]
        for s, bits in zip(sets, eval_all(rtl.multiplier(a, w), sets, "p")):
            got = signed(int(bits, 2), len(bits))
            if got != product(s["a"], s["w"], a, w):
                bad += 1
                print(f"MISMATCH mult {a}x{w} {s}: {got}, expected {product(s['a'], s['w'], a, w)}")
    return bad


def check_requantizers(rnd: random.Random) -> int:
    bad = 0
    for acc_bits, out_bits, shift in [(12, 2, 1), (16, 4, 3), (24, 8, 7), (10, 6, 1), (8, 6, 4)]:
        vals = [rnd.randrange(-(1 << (acc_bits - 1)), 1 << (acc_bits - 1)) for _ in range(24)]
        vals += [0, 1, -1, (1 << (acc_bits - 1)) - 1, -(1 << (acc_bits - 1))]
        top = ((1 << out_bits) - 1) << shift
        vals += [v for v in (top - 1, top, top + 1, top + (1 << (shift - 1)) - 1, top + (1 << (shift - 1)))
                 if v < (1 << (acc_bits - 1))]
        sets = [{"acc": v & ((1 << acc_bits) - 1)} for v in vals]
        for v, bits in zip(vals, eval_all(rtl.requantizer(acc_bits, out_bits, shift), sets, "y")):
            if int(bits, 2) != requant(v, out_bits, shift):
                bad += 1
                print(f"MISMATCH requantizer {acc_bits},{out_bits},{shift} acc={v}: {int(bits, 2)}, "
                      f"expected {requant(v, out_bits, shift)}")
    return bad


def check_pe_array(rnd: random.Random, tn: int, tm: int, a: int, w: int, acc_bits: int, out_bits: int,
                   steps: int = 7) -> int:
    shift = rtl.default_shift(a, w)
    acts = [[rnd.randrange(1 << a) for _ in range(tn)] for _ in range(steps)]
    wgts = [[[rnd.randrange(1 << w) for _ in range(tn)] for _ in range(tm)] for _ in range(steps)]
    clrs = [rnd.randrange(2) if t not in (1, steps - 2) else 1 for t in range(steps)]
    sets = []
    for t in range(steps):
        act = sum(v << (n * a) for n, v in enumerate(acts[t]))
        wgt = sum(wgts[t][m][n] << ((m * tn + n) * w) for m in range(tm) for n in range(tn))
        sets.append(f"-set-at {t + 1} act {act} -set-at {t + 1} wgt {wgt} -set-at {t + 1} clr {clrs[t]}")
    show = ",".join(["y"] + [f"acc{m}" for m in range(tm)])
    out = yosys(rtl.pe_array(tn, tm, a, w, acc_bits, out_bits),
                f"sat -seq {steps} -set-init-zero {' '.join(sets)} -show {show}")
    got = {(int(t), name): bits for t, name, bits in re.findall(r"^\s+(\d+)\s+\\(\w+)\s+\S+\s+\S+\s+([01]+)\s*$",
                                                                   out, re.M)}
    # model: register values seen during cycle t (1-based), all zero in cycle 1
    prods = [[0] * tn for _ in range(tm)]
    acc, y = [0] * tm, [0] * tm
    bad = 0
    for t in range(steps):
        for m in range(tm):
            if signed(int(got[(t + 1, f"acc{m}")], 2), acc_bits) != acc[m]:
                bad += 1
                print(f"MISMATCH pe-array {tn},{tm},{a},{w} cycle {t + 1} acc{m}: "
                      f"{signed(int(got[(t + 1, f'acc{m}')], 2), acc_bits)}, expected {acc[m]}")
        yv = int(got[(t + 1, "y")], 2)
        want = sum(v << (m * out_bits) for m, v in enumerate(y))
        if yv != want:
            bad += 1
            print(f"MISMATCH pe-array {tn},{tm},{a},{w} cycle {t + 1} y: {yv:#x}, expected {want:#x}")
        sums = [sum(prods[m]) for m in range(tm)]
        y = [requant(acc[m], out_bits, shift) if clrs[t] else y[m] for m in range(tm)]
        acc = [signed((0 if clrs[t] else acc[m]) + sums[m], acc_bits) for m in range(tm)]
        prods = [[product(acts[t][n], wgts[t][m][n], a, w) for n in range(tn)] for m in range(tm)]
    return bad


def main() -> int:
    rnd = random.Random(7)
    bad = check_multipliers(rnd) + check_requantizers(rnd)
    for cfg in [(2, 2, 4, 4, 16, 4), (3, 2, 2, 3, 10, 2), (1, 1, 8, 8, 24, 8), (3, 1, 1, 1, 6, 2),
                (5, 2, 3, 1, 12, 3), (4, 2, 8, 4, 20, 8)]:
        bad += check_pe_array(rnd, *cfg)
    print("check_rtl: " + ("all designs match the arithmetic model" if not bad else f"{bad} mismatch(es)"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
