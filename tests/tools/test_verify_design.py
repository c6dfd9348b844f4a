"""tools/verify-design refuses what it cannot verify, with exit code 2 and a line that says what to do, before any
tool runs: no export, a file that is not JSON or not ours, an unfinished or empty export, missing design files, bad
options, and routing on another part than the one the design was priced on (python3 -m unittest, standard library;
yosys is not run)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "verify-design")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True, timeout=60)


def manifest(**over) -> dict:
    m = {"format": "hwnas-export", "status": "done", "top": "hwnas_top", "files": ["hwnas_top.v"],
         "model": {"device": "ice40-hx8k", "luts": 100, "ffs": 50, "brams": 2, "dsps": 0, "clock_mhz": 25,
                   "layers": []},
         "plan": {"input": {"channels": 1, "bits": 8}, "classes": 10, "logit_bits": 12}}
    m.update(over)
    return m


class Refusals(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def export(self, m, files=("hwnas_top.v",)) -> str:
        (self.dir / "export.json").write_text(m if isinstance(m, str) else json.dumps(m))
        for f in files:
            (self.dir / f).write_text("module hwnas_top; endmodule\n")
        return str(self.dir)

    def refused(self, args, *words):
        r = run(*args)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        for w in words:
            self.assertIn(w, r.stderr)
        self.assertFalse((self.dir / "verify.json").exists())  # nothing written on a refusal

    def test_no_export(self):
        self.refused([str(self.dir)], "not found", "hwnas-export")

    def test_not_json(self):
        self.refused([self.export("{ damaged")], "is not JSON")

    def test_not_ours(self):
        self.refused([self.export({"format": "something else"})], "not an hwnas-export manifest")

    def test_unfinished_and_empty(self):
        self.refused([self.export(manifest(status="in progress"))], "did not finish")
        self.refused([self.export(manifest(status="nothing exported", reason="no feasible design"))],
                     "holds no design", "no feasible design")

    def test_damaged_fields(self):
        self.refused([self.export(manifest(files=["../x.v"]))], "\"files\"")
        bad = manifest()
        bad["model"]["luts"] = "many"
        self.refused([self.export(bad)], "not a number")
        bad = manifest()
        bad["model"]["clock_mhz"] = 0
        self.refused([self.export(bad)], "not a number")
        bad = manifest()
        del bad["plan"]
        self.refused([self.export(bad)], "\"plan\"")
        # a top module the files do not hold (or not a Verilog name) is a damaged export, not a tool failure
        self.refused([self.export(manifest(top="foo"))], "top module \"foo\"")
        self.refused([self.export(manifest(top="a b; rm"))], "top module")

    def test_damaged_layers_and_input_are_refused_before_synthesis(self):
        bad_layer = manifest()
        bad_layer["model"]["layers"] = [{"name": "conv0", "ffs": 3, "brams": 1}]
        self.refused([self.export(bad_layer), "--per-layer"], "damaged layer")
        bad_input = manifest()
        bad_input["plan"]["input"] = {"bits": 8}
        self.refused([self.export(bad_input), "--pnr", "hx8k"], "input (channels, bits)")

    def test_missing_design_file(self):
        self.refused([self.export(manifest(files=["hwnas_top.v", "hwnas_top_l0.v"]))], "lacks hwnas_top_l0.v")

    def test_bad_options(self):
        d = self.export(manifest())
        self.refused([d, "--timeout", "0"], "--timeout")
        self.refused([d, "--flow", ","], "names no flow")
        self.refused([d, "--flow", "ice40,vivado"], "unknown flow 'vivado'")
        self.refused([d, "--pnr", "ecp5"], "unknown --pnr device 'ecp5'")

    def test_routes_on_the_part_it_was_priced_on(self):
        self.refused([self.export(manifest()), "--pnr", "up5k"], "priced on ice40-hx8k", "--pnr hx8k")


if __name__ == "__main__":
    unittest.main()
