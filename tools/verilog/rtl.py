"""Verilog generators for the primitives and PE arrays that tools/calibrate synthesizes.

Python standard library only. Every generator returns the text of one module named `top`, so that each
design is synthesized exactly the same way whether it comes from a full calibration run or a re-check of a
single sample (yosys and ABC results can depend on names, so names are kept identical).

Arithmetic (docs/calibration.md, "What is synthesized"):
- activations are unsigned a-bit, weights signed (two's complement) w-bit; product `$signed({1'b0,a}) * w`,
  exact in a+w bits. A 1-bit weight is bipolar (hwnas's s0.0 = {-1, +1}: bit 1 is +1, bit 0 is -1), so a x 1 is
  `w ? a : -a`, a+1 bits, for every a, 1 included (1 x 1 gives {-1, 0, +1});
- an n-bit adder has two n-bit signed inputs and an (n+1)-bit signed output;
- an n-bit accumulator is `acc <= (clr ? 0 : acc) + x` with an n-bit signed input x (load-first clear: a new
  sum starts without a bubble cycle);
- the requantizer is round-half-away-from-zero shift + ReLU + saturation to an unsigned out-bit value
  (negative sums give 0, so for the values that survive, half-away equals half-up).
"""

from __future__ import annotations


def _check_bits(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or value < low or value > high:
        raise ValueError(f"{name} = {value!r} is out of range; use an integer in {low}..{high}")


def product_bits(a: int, w: int) -> int:
    """Width of the exact product of an unsigned a-bit activation and a signed w-bit weight (a 1-bit weight is
    bipolar, {-1, +1}: the product is +-a, a + 1 bits, like any a x 1 product)."""
    return a + w


def product_expr(a_sig: str, w_sig: str, a: int, w: int) -> str:
    """Verilog expression of the product of activation `a_sig` (a bits) and weight `w_sig` (w bits). A 1-bit weight
    is bipolar: bit 1 is +1, bit 0 is -1 (docs/fixed-point.md)."""
    if w == 1:
        return f"({w_sig} ? $signed({{1'b0, {a_sig}}}) : -$signed({{1'b0, {a_sig}}}))"
    return f"($signed({{1'b0, {a_sig}}}) * $signed({w_sig}))"


def multiplier(a: int, w: int) -> str:
    """Combinational a x w multiplier (no registers)."""
    _check_bits("activation bits a", a, 1, 32)
    _check_bits("weight bits w", w, 1, 32)
    p = product_bits(a, w)
    kind = "bipolar weight: +-a" if w == 1 else "exact product"
    return (
        f"// {a}-bit unsigned activation x {w}-bit signed weight ({kind})\n"
        f"module top(input [{a - 1}:0] a, input [{w - 1}:0] w, output signed [{p - 1}:0] p);\n"
        f"  assign p = {product_expr('a', 'w', a, w)};\n"
        f"endmodule\n"
    )


def adder(n: int) -> str:
    """Combinational adder: two n-bit signed inputs, (n+1)-bit signed sum."""
    _check_bits("adder bits n", n, 1, 64)
    return (
        f"// {n}-bit signed adder, {n + 1}-bit sum\n"
        f"module top(input signed [{n - 1}:0] x, input signed [{n - 1}:0] y, output signed [{n}:0] s);\n"
        f"  assign s = x + y;\n"
        f"endmodule\n"
    )


def accumulator(n: int) -> str:
    """n-bit accumulator register with load-first clear: acc <= (clr ? 0 : acc) + x."""
    _check_bits("accumulator bits n", n, 1, 64)
    return (
        f"// {n}-bit accumulator, acc <= (clr ? 0 : acc) + x\n"
        f"module top(input clk, input clr, input signed [{n - 1}:0] x, output reg signed [{n - 1}:0] acc);\n"
        f"  always @(posedge clk) acc <= (clr ? {n}'sd0 : acc) + x;\n"
        f"endmodule\n"
    )


def default_shift(a: int, w: int) -> int:
    """Requantizer shift used by the PE-array calibration: the weight's fraction bits, w-1 (at least 1).

    With activations Q(Ia.Fa), weights Q(0.w-1) and the next layer's activations in the same format as this
    layer's, the sum has Fa + w - 1 fraction bits and must be shifted right by w - 1.
    """
    return max(1, w - 1)


def requantizer_lines(acc: str, out: str, acc_bits: int, out_bits: int, shift: int, tag: str) -> list[str]:
    """Lines computing `out` (unsigned out_bits) from `acc` (signed acc_bits): round, shift, ReLU, saturate."""
    q_bits = acc_bits + 1 - shift  # (acc + 2^(shift-1)) >>> shift fits here
    lines = [
        f"  wire signed [{acc_bits}:0] {tag}_r = {acc} + $signed({acc_bits + 1}'d{1 << (shift - 1)});",
        f"  wire signed [{q_bits - 1}:0] {tag}_q = {tag}_r >>> {shift};",
    ]
    if q_bits - 1 > out_bits:  # value bits above the output: saturate when any is set
        lines.append(
            f"  wire {tag}_ovf = |{tag}_q[{q_bits - 2}:{out_bits}];"
        )
    else:
        lines.append(f"  wire {tag}_ovf = 1'b0;")
    lines.append(
        f"  assign {out} = {acc}[{acc_bits - 1}] ? {out_bits}'d0 : "
        f"{tag}_ovf ? {{{out_bits}{{1'b1}}}} : {tag}_q[{min(out_bits, q_bits - 1) - 1}:0];"
    )
    return lines


def requantizer(acc_bits: int, out_bits: int, shift: int) -> str:
    """Combinational requantizer alone (signed acc_bits -> unsigned out_bits)."""
    _check_bits("accumulator bits", acc_bits, 2, 64)
    _check_bits("output bits", out_bits, 1, acc_bits - 1)
    _check_bits("shift", shift, 1, acc_bits - 1)
    body = requantizer_lines("acc", "y", acc_bits, out_bits, shift, "rq")
    return (
        f"// requantizer: signed {acc_bits} -> unsigned {out_bits}, shift {shift}\n"
        f"module top(input signed [{acc_bits - 1}:0] acc, output [{out_bits - 1}:0] y);\n"
        + "\n".join(body)
        + "\nendmodule\n"
    )


def tree_output_bits(tn: int, a: int, w: int) -> int:
    """Width of an adder tree over tn products (each level one bit wider)."""
    bits, count = product_bits(a, w), tn
    while count > 1:
        count = (count + 1) // 2
        bits += 1
    return bits


def pe_array(tn: int, tm: int, a: int, w: int, acc_bits: int, out_bits: int, shift: int | None = None) -> str:
    """A pipelined-PE layer array (Lu'19): tn x tm multipliers, tm adder trees over tn inputs, tm accumulators
    and tm requantizers.

    Ports: act (tn activations of a bits, shared by the tm columns), wgt (tn*tm weights of w bits), clr (start
    a new sum, and capture the finished one into the output register), y (tm outputs of out_bits).
    Registers: every product (pipeline stage), every accumulator, every output (captured when clr is high).
    Combinational: multipliers, adder trees (level k adds (p+k-1)-bit pairs into p+k bits; an odd element
    is passed to the next level sign-extended), requantizers.
    """
    for name, v, lo, hi in (("tn", tn, 1, 256), ("tm", tm, 1, 256), ("a", a, 1, 16), ("w", w, 1, 16)):
        _check_bits(name, v, lo, hi)
    shift = default_shift(a, w) if shift is None else shift
    p = product_bits(a, w)
    t_bits = tree_output_bits(tn, a, w)
    if acc_bits < t_bits:
        raise ValueError(f"acc_bits = {acc_bits} is narrower than the adder tree output ({t_bits} bits); "
                         f"use acc_bits >= {t_bits}")
    _check_bits("out_bits", out_bits, 1, acc_bits - 1)
    _check_bits("shift", shift, 1, acc_bits - 1)
    psign = "signed "
    L = [
        f"// PE array: Tn={tn} x Tm={tm} multipliers of {a}x{w} bits, adder trees, {acc_bits}-bit accumulators,",
        f"// requantizers to {out_bits} unsigned bits (shift {shift})",
        f"module top(input clk, input clr, input [{tn * a - 1}:0] act, input [{tn * tm * w - 1}:0] wgt,",
        f"           output reg [{tm * out_bits - 1}:0] y);",
    ]
    for n in range(tn):
        L.append(f"  wire [{a - 1}:0] a{n} = act[{(n + 1) * a - 1}:{n * a}];")
    for m in range(tm):
        L.append(f"  // column {m}")
        for n in range(tn):
            k = m * tn + n
            L.append(f"  wire [{w - 1}:0] w{m}_{n} = wgt[{(k + 1) * w - 1}:{k * w}];")
            L.append(f"  reg {psign}[{p - 1}:0] p{m}_{n};")
            L.append(f"  always @(posedge clk) p{m}_{n} <= {product_expr(f'a{n}', f'w{m}_{n}', a, w)};")
        # adder tree
        sflag = "signed "
        level, names, bits = 0, [f"p{m}_{n}" for n in range(tn)], p
        while len(names) > 1:
            nxt = []
            for i in range(0, len(names) - 1, 2):
                nm = f"t{m}_{level + 1}_{i // 2}"
                L.append(f"  wire {sflag}[{bits}:0] {nm} = {names[i]} + {names[i + 1]};")
                nxt.append(nm)
            if len(names) % 2:
                nm = f"t{m}_{level + 1}_{len(names) // 2}"
                L.append(f"  wire {sflag}[{bits}:0] {nm} = {names[-1]};")
                nxt.append(nm)
            names, bits, level = nxt, bits + 1, level + 1
        L.append(f"  wire {sflag}[{bits - 1}:0] s{m} = {names[0]};")
        ext = f"s{m}"
        L.append(f"  reg signed [{acc_bits - 1}:0] acc{m};")
        L.append(f"  always @(posedge clk) acc{m} <= (clr ? {acc_bits}'sd0 : acc{m}) + {ext};")
        L.append(f"  wire [{out_bits - 1}:0] q{m};")
        L.extend(requantizer_lines(f"acc{m}", f"q{m}", acc_bits, out_bits, shift, f"rq{m}"))
        L.append(f"  always @(posedge clk) if (clr) y[{(m + 1) * out_bits - 1}:{m * out_bits}] <= q{m};")
    L.append("endmodule")
    return "\n".join(L) + "\n"


def pe_array_ffs(tn: int, tm: int, a: int, w: int, acc_bits: int, out_bits: int) -> int:
    """Flip-flops the PE array declares (before synthesis removes any constant ones)."""
    return tn * tm * product_bits(a, w) + tm * acc_bits + tm * out_bits


if __name__ == "__main__":
    import sys

    kinds = {"mult": multiplier, "adder": adder, "accumulator": accumulator, "requantizer": requantizer,
             "pe-array": pe_array}
    if len(sys.argv) < 2 or sys.argv[1] not in kinds:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(kinds)} INT...   (prints the Verilog of one design)")
    print(kinds[sys.argv[1]](*map(int, sys.argv[2:])), end="")
