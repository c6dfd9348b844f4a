"""tools/fit-layer-shell: recovers known shell coefficients from synthetic exports, holds out one design at a time,
skips designs not priced on LUT4 parts and refuses directories without per-layer figures (python3 -m unittest,
standard library; no tool is run)."""
import importlib.machinery
import importlib.util
import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "fit-layer-shell")
loader = importlib.machinery.SourceFileLoader("fit_layer_shell", TOOL)
spec = importlib.util.spec_from_loader("fit_layer_shell", loader)
fls = importlib.util.module_from_spec(spec)
loader.exec_module(fls)

# The "true" shell of the synthetic designs: conv LUTs 400; conv FFs 150 (the control: the output registers are
# the model's array figure); classifier LUTs 2 logits + 100; classifier FFs 90.
def true_shell(g, acc):
    logits = g["out_channels"] * acc
    if g["classifier"]:
        return 2 * logits + 100, 90
    return 400, 150


def write_design(d: Path, device: str, layers: list, per_layer: bool = True) -> None:
    """layers: (geometry, accumulator bits, array LUTs, array FFs); the measured figures are array + true shell;
    the model's figures are array + a shell of 10 LUTs / 5 FFs that the tool must take out again."""
    d.mkdir(parents=True)
    plan, model, measured = [], [], {}
    for i, (g, acc, al, af) in enumerate(layers):
        name = "fc" if g["classifier"] else f"conv{i}"
        plan.append({"name": name, "model_accumulator_bits": acc, "geometry": g,
                     "shell_lut4": {"luts": 10, "ffs": 5}})
        model.append({"name": name, "luts": al + 10, "ffs": af + 5})
        sl, sf = true_shell(g, acc)
        measured["hwnas_top_fc" if g["classifier"] else f"hwnas_top_l{i}"] = {"luts": round(al + sl),
                                                                              "ffs": round(af + sf)}
    # whole designs: the layers and 7 LUTs / 3 FFs of top-level glue, in the model and in synthesis alike
    (d / "export.json").write_text(json.dumps({"top": "hwnas_top", "plan": {"layers": plan},
                                               "model": {"device": device, "layers": model,
                                                         "luts": sum(m["luts"] for m in model) + 7,
                                                         "ffs": sum(m["ffs"] for m in model) + 3}}))
    whole = {"luts": sum(m["luts"] for m in measured.values()) + 7, "ffs": sum(m["ffs"] for m in measured.values()) + 3}
    flows = {"ice40": {**whole, "layers": measured}} if per_layer else {"ice40": {"luts": 1}}
    (d / "verify.json").write_text(json.dumps({"flows": flows}))


def conv(m, ob, n, a, pool):
    return {"pixel_channels": n, "act_bits": a, "out_channels": m, "out_bits": ob, "pool": pool, "classifier": False}


def fc(m, c, a):
    return {"pixel_channels": c, "act_bits": a, "out_channels": m, "out_bits": 0, "pool": 1, "classifier": True}


class Fit(unittest.TestCase):
    def designs(self, t: Path):
        dirs = []
        shapes = [(16, 4, 1, 8, 2, 12, 4), (8, 6, 16, 4, 1, 16, 3), (32, 3, 8, 5, 2, 20, 6), (12, 5, 4, 7, 1, 8, 5),
                  (24, 2, 2, 3, 2, 10, 2)]
        for k, (m, ob, n, a, pool, c, ca) in enumerate(shapes):
            d = t / f"row{k + 1}"
            write_design(d, "ice40-hx8k", [(conv(m, ob, n, a, pool), 15, 100 + 50 * k, 30 + 7 * k),
                                           (fc(10, c, ca), 18 + k, 60 + 11 * k, 25 + k)])
            dirs.append(str(d))
        return dirs

    def test_known_coefficients_are_recovered_and_held_out_errors_are_small(self):
        with tempfile.TemporaryDirectory() as t:
            dirs = self.designs(Path(t))
            data = fls.load(dirs)
            self.assertEqual(len(data), 10)
            x = next(r for r in data if r["design"] == "row1" and not r["classifier"])
            self.assertEqual(x["array_luts"], 100)  # the model's shell taken out again
            for fig, is_fc, feats, fixed in fls.MODELS:
                rows = [r for r in data if r["classifier"] == is_fc]
                c = fls.fit(rows, fig, feats, fixed)
                want = {("luts", False): [400], ("ffs", False): [150], ("luts", True): [2, 100],
                        ("ffs", True): [90]}[(fig, is_fc)]
                for got, w in zip(c, want):
                    self.assertAlmostEqual(got, w, delta=0.02 * abs(w) + 1.0)
            out = io.StringIO()
            sys.argv = ["fit-layer-shell", *dirs]
            with redirect_stdout(out):
                self.assertEqual(fls.main(), 0)
            self.assertIn("held out: median", out.getvalue())
            # each whole design priced with shells fitted without it: the true shell is linear in the features, so
            # the five designs' held-out errors are within rounding
            text = out.getvalue()
            self.assertIn("whole designs, luts, shells fitted without the design", text)
            whole = [line for line in text.splitlines() if "synth_ice40" in line]
            self.assertEqual(len(whole), 10)  # five designs, LUTs and flip-flops
            for line in whole:
                pct = int(line.rsplit("(", 1)[1].split()[0])
                self.assertLessEqual(abs(pct), 1, line)

    def test_other_fabrics_are_skipped_and_missing_per_layer_figures_refused(self):
        with tempfile.TemporaryDirectory() as t:
            dirs = self.designs(Path(t))
            xc7 = Path(t) / "xc7"
            write_design(xc7, "xc7z020", [(conv(8, 4, 1, 8, 2), 15, 100, 30)])
            err = io.StringIO()
            with redirect_stderr(err):
                data = fls.load(dirs + [str(xc7)])
            self.assertEqual(len(data), 10)
            self.assertIn("not LUT4", err.getvalue())
            flat = Path(t) / "flat"
            write_design(flat, "ice40-up5k", [(conv(8, 4, 1, 8, 2), 15, 100, 30)], per_layer=False)
            with redirect_stderr(io.StringIO()) as e, self.assertRaises(SystemExit) as x:
                fls.load([str(flat)])
            self.assertEqual(x.exception.code, 2)
            self.assertIn("--per-layer", e.getvalue())
            # a JSON file that is not an export is refused with a message, not a traceback
            alien = Path(t) / "alien"
            alien.mkdir()
            (alien / "export.json").write_text('{"foo": 1}')
            (alien / "verify.json").write_text("{}")
            with redirect_stderr(io.StringIO()) as e, self.assertRaises(SystemExit) as x:
                fls.load([str(alien)])
            self.assertEqual(x.exception.code, 2)
            self.assertIn("not an export", e.getvalue())

    def test_fidelity_runs_rows_are_held_out_apart(self):
        # tools/fidelity-runs writes rowN/rtl: every directory is named rtl, yet each is its own design
        with tempfile.TemporaryDirectory() as t:
            dirs = []
            for k, d in enumerate(self.designs(Path(t))):
                rtl = Path(t) / f"run/row{k + 1}/rtl"
                rtl.parent.mkdir(parents=True)
                Path(d).rename(rtl)
                dirs.append(str(rtl))
            data = fls.load(dirs)
            self.assertEqual(len({x["key"] for x in data}), 5)
            self.assertEqual(data[0]["design"], "row1/rtl")

    def test_a_repriced_row_is_read_with_the_measurements_it_names(self):
        # tools/fidelity-runs --reprice writes rowN/rtl/export.json and rowN/measured_in.json, no verify.json
        with tempfile.TemporaryDirectory() as t:
            measured = Path(self.designs(Path(t))[0])
            row = Path(t) / "reprice" / "row1"
            (row / "rtl").mkdir(parents=True)
            (row / "rtl" / "export.json").write_text((measured / "export.json").read_text())
            with redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
                fls.load([str(row / "rtl")])  # no measurements anywhere: refused
            (row / "measured_in.json").write_text(json.dumps({"rtl": str(measured)}))
            (measured / "hwnas_top.v").write_text("module hwnas_top; endmodule\n")
            (row / "rtl" / "hwnas_top.v").write_text("module hwnas_top; endmodule\n")
            self.assertEqual(len(fls.load([str(row / "rtl")])), 2)
            # the same directory twice is one design
            with redirect_stderr(io.StringIO()) as e:
                self.assertEqual(len(fls.load([str(row / "rtl"), str(row / "rtl")])), 2)
            self.assertIn("given twice", e.getvalue())
            # hardware that is not what was measured is refused
            (row / "rtl" / "hwnas_top.v").write_text("module hwnas_top; wire x; endmodule\n")
            with redirect_stderr(io.StringIO()) as e, self.assertRaises(SystemExit):
                fls.load([str(row / "rtl")])
            self.assertIn("not what", e.getvalue())
            # a verify.json that is not an object is refused with a message
            (row / "rtl" / "hwnas_top.v").write_text("module hwnas_top; endmodule\n")
            (measured / "verify.json").write_text("[1, 2]")
            with redirect_stderr(io.StringIO()) as e, self.assertRaises(SystemExit):
                fls.load([str(row / "rtl")])


if __name__ == "__main__":
    unittest.main()
