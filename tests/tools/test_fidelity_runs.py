"""tools/fidelity-runs: a row's figures read from an export and its verification, the table's error summary, and the
command-line checks (python3 -m unittest, standard library; no tool is run)."""
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "fidelity-runs")
loader = importlib.machinery.SourceFileLoader("fidelity_runs", TOOL)
spec = importlib.util.spec_from_loader("fidelity_runs", loader)
fr = importlib.util.module_from_spec(spec)
loader.exec_module(fr)


def write_run(d: Path, luts_model: int, luts_ice40: int, fmax: float, clock: float) -> None:
    (d / "rtl").mkdir(parents=True)
    (d / "rtl" / "export.json").write_text(json.dumps({
        "format": "hwnas-export", "version": 1, "top": "hwnas_top", "files": [],
        "plan": {"input": {}, "classes": 10, "logit_bits": 20, "layers": []},
        "model": {"device": "ice40-hx8k", "luts": luts_model, "ffs": 100, "brams": 20.0, "dsps": 0,
                  "clock_mhz": clock,
                  "layers": [{"name": "conv0", "parallelism": {"Tn": 4, "Tm": 2}},
                             {"name": "fc", "parallelism": {"Tn": 1, "Tm": 1}}]},
        "simulation": {"images": 200, "logit_mismatches": 0, "interval_cycles": 7840,
                       "model_interval_cycles": 7840}}))
    (d / "rtl" / "verify.json").write_text(json.dumps({
        "flows": {"ice40": {"luts": luts_ice40, "ffs": 400, "brams": 16, "dsps": 0}},
        "pnr": {"device": "hx8k", "routed": True, "fmax_mhz": fmax, "meets_clock": fmax >= clock,
                "utilization": {}}}))


class Rows(unittest.TestCase):
    def test_a_row_holds_the_model_the_measurement_and_the_clock(self):
        with tempfile.TemporaryDirectory() as t:
            write_run(Path(t) / "r", 1000, 3000, 30.02, 25)
            r = fr.summarize(1, ("ice40-hx8k", 25, [], 1), Path(t) / "r")
            self.assertEqual(r["model"]["luts"], 1000)
            self.assertEqual(r["flows"]["ice40"]["luts"], 3000)
            self.assertEqual(r["layers"], 1)
            self.assertTrue(r["pnr"]["meets_clock"])
            text = fr.table([r], ["cmd"])
            self.assertIn("3000 (+200%)", text)
            self.assertIn("200 of 200, 7840 / 7840", text)
            self.assertIn("30.02 MHz (25) meets", text)

    def test_the_summary_gives_the_median_and_the_worst_lut_error(self):
        with tempfile.TemporaryDirectory() as t:
            rows = []
            for i, (m, x) in enumerate([(1000, 1100), (1000, 900), (1000, 1500)]):
                write_run(Path(t) / f"r{i}", m, x, 40.0, 25)
                rows.append(fr.summarize(i + 1, ("ice40-hx8k", 25, [], 1), Path(t) / f"r{i}"))
            text = fr.table(rows, [])
            self.assertIn("median error 10%, worst 50%", text)
            # an XC7 row is judged on its xilinx flow (the LUT6 the model priced), not on the ice40 one
            x = fr.summarize(9, ("xc7z020", 100, [], 1), Path(t) / "r0")
            x["flows"]["xilinx"] = {"luts": 1300, "ffs": 0, "brams": 0}
            self.assertIn("median error 30%, worst 30%", fr.table([x], []))

    def test_a_missed_clock_and_a_missing_run_are_said(self):
        with tempfile.TemporaryDirectory() as t:
            write_run(Path(t) / "slow", 1000, 3000, 29.89, 50)
            slow = fr.summarize(1, ("ice40-hx8k", 50, [], 1), Path(t) / "slow")
            gone = fr.summarize(2, ("ice40-up5k", 10, [], 1), Path(t) / "nothing")
            text = fr.table([slow, gone], [])
            self.assertIn("29.89 MHz (50) MISSES", text)
            self.assertIn("no export or verification", text)


class Designs(unittest.TestCase):
    def test_an_earlier_runs_mapping_is_exported_again(self):
        with tempfile.TemporaryDirectory() as t:
            src = Path(t) / "old" / "row1"
            write_run(src, 1000, 3000, 30.02, 25)
            plan = json.loads((src / "rtl" / "export.json").read_text())
            plan["plan"]["layers"] = [{"Tn": 4, "Tm": 2}, {"Tn": 1, "Tm": 1}]
            (src / "rtl" / "export.json").write_text(json.dumps(plan))
            run_dir = Path(t) / "new" / "row1"
            self.assertEqual(fr.write_mapping(src, run_dir), "")
            self.assertEqual(json.loads((run_dir / "mapping.json").read_text()),
                             {"layers": [{"Tn": 4, "Tm": 2}, {"Tn": 1, "Tm": 1}]})
            cmd = fr.export_command(Path("/b"), fr.ROWS[0], run_dir, src)
            self.assertEqual(cmd[0], "/b/examples/hwnas-export")
            self.assertIn(str(src / "best_integer_network.json"), cmd)
            self.assertEqual(cmd[cmd.index("--device") + 1], fr.ROWS[0][0])
            self.assertEqual(cmd[cmd.index("--out") + 1], str(run_dir / "rtl"))
            # a directory without a design says so, and writes nothing
            self.assertIn("no design", fr.write_mapping(Path(t) / "nothing", Path(t) / "x"))
            self.assertFalse((Path(t) / "x" / "mapping.json").exists())


class Reprice(unittest.TestCase):
    def test_a_row_priced_again_takes_the_measurements_of_the_run_it_came_from(self):
        with tempfile.TemporaryDirectory() as t:
            src = Path(t) / "old" / "row1"
            write_run(src, 1000, 3000, 30.02, 25)
            (src / "rtl" / "hwnas_top.v").write_text("module hwnas_top; endmodule\n")
            # the new export: the same Verilog, a new model figure, no simulation or synthesis of its own
            new = Path(t) / "new" / "row1"
            (new / "rtl").mkdir(parents=True)
            ex = json.loads((src / "rtl" / "export.json").read_text())
            ex["model"]["luts"] = 2900
            del ex["simulation"]
            (new / "rtl" / "export.json").write_text(json.dumps(ex))
            (new / "rtl" / "hwnas_top.v").write_text("module hwnas_top; endmodule\n")
            (new / "measured_in.json").write_text(json.dumps({"rtl": str(src / "rtl")}))
            self.assertTrue(fr.done(fr.ROWS[0], new))
            r = fr.summarize(1, ("ice40-hx8k", 25, [], 1), new)
            self.assertEqual(r["model"]["luts"], 2900)
            self.assertEqual(r["flows"]["ice40"]["luts"], 3000)
            self.assertEqual(r["simulation"]["images"], 200)
            self.assertTrue(r["pnr"]["meets_clock"])
            # Verilog that is not what was measured: the row is refused, not priced against old measurements
            (new / "rtl" / "hwnas_top.v").write_text("module hwnas_top; wire x; endmodule\n")
            r = fr.summarize(1, ("ice40-hx8k", 25, [], 1), new)
            self.assertIn("not what", r["error"])
            self.assertIn("--designs", r["error"])
            cmd = fr.reprice_command(Path("/b"), fr.ROWS[0], new, src)
            self.assertNotIn("--simulate", cmd)
            self.assertEqual(cmd[cmd.index("--out") + 1], str(new / "rtl"))
            # the weights are hardware too: a memory file that differs is refused like the Verilog
            (new / "rtl" / "hwnas_top.v").write_text("module hwnas_top; endmodule\n")
            (src / "rtl" / "hwnas_top_l0_w.mem").write_text("01\n")
            (new / "rtl" / "hwnas_top_l0_w.mem").write_text("02\n")
            self.assertIn("hwnas_top_l0_w.mem", fr.summarize(1, ("ice40-hx8k", 25, [], 1), new)["error"])
            (new / "rtl" / "hwnas_top_l0_w.mem").write_text("01\n")
            self.assertNotIn("error", fr.summarize(1, ("ice40-hx8k", 25, [], 1), new))
            # damaged measurements are the row's error, not a traceback
            (src / "rtl" / "verify.json").write_text("[1, 2")
            self.assertIn("damaged", fr.summarize(1, ("ice40-hx8k", 25, [], 1), new)["error"])
            (src / "rtl" / "verify.json").write_text('{"flows": {"ice40": {"luts": "many"}}}')
            self.assertIn("error", fr.summarize(1, ("ice40-hx8k", 25, [], 1), new))

    def test_the_network_of_a_designs_run_is_where_its_export_names_it(self):
        with tempfile.TemporaryDirectory() as t:
            src = Path(t) / "run" / "row1"
            write_run(src, 1000, 3000, 30.02, 25)
            net = Path(t) / "elsewhere.json"
            net.write_text("{}")
            ex = json.loads((src / "rtl" / "export.json").read_text())
            ex["network"] = str(net)
            (src / "rtl" / "export.json").write_text(json.dumps(ex))
            self.assertEqual(fr.network_of(src), net)
            (src / "best_integer_network.json").write_text("{}")
            self.assertEqual(fr.network_of(src), src / "best_integer_network.json")


class CommandLine(unittest.TestCase):
    def run_tool(self, *args):
        return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)

    def test_list_prints_every_row_with_its_device_and_clock(self):
        r = self.run_tool("--list")
        self.assertEqual(r.returncode, 0)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(len(lines), len(fr.ROWS))
        self.assertIn("--device ice40-hx8k --clock-mhz 25", lines[0])

    def test_designs_list_prints_exports_and_a_bad_source_is_refused(self):
        with tempfile.TemporaryDirectory() as t:
            r = self.run_tool("--designs", t, "--only", "2", "--list", "--out", str(Path(t) / "out"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("hwnas-export --network " + str(Path(t) / "row2" / "best_integer_network.json"), r.stdout)
            r = self.run_tool("--designs", str(Path(t) / "missing"), "--list")
            self.assertEqual(r.returncode, 2)
            self.assertIn("earlier run", r.stderr)

    def test_an_out_that_is_not_ours_is_refused(self):
        with tempfile.TemporaryDirectory() as t:
            user = Path(t) / "notes.txt"
            user.write_text("mine")
            r = self.run_tool("--only", "1", "--out", str(user))
            self.assertEqual(r.returncode, 2)
            self.assertIn("a file is there", r.stderr)
            proj = Path(t) / "proj"
            proj.mkdir()
            (proj / "table.md").write_text("my table")
            (proj / "results.json").write_text('{"mine": 1}')
            r = self.run_tool("--only", "1", "--out", str(proj))
            self.assertEqual(r.returncode, 2)
            self.assertIn("not a fidelity-runs output", r.stderr)
            self.assertEqual((proj / "results.json").read_text(), '{"mine": 1}')
            self.assertTrue(fr.ours(Path(t) / "proj" / ".." / "proj") is False)
            run = Path(t) / "run"
            (run / "row3").mkdir(parents=True)
            (run / "results.json").write_text('[{"row": 3, "device": "ice40-hx8k"}]')
            self.assertTrue(fr.ours(run))

    def test_designs_and_reprice_together_are_refused(self):
        with tempfile.TemporaryDirectory() as t:
            r = self.run_tool("--designs", t, "--reprice", t, "--list")
            self.assertEqual(r.returncode, 2)
            self.assertIn("not both", r.stderr)

    def test_bad_rows_are_refused(self):
        for bad in ("0", "99", "x"):
            r = self.run_tool("--only", bad, "--list")
            self.assertEqual(r.returncode, 2, bad)


if __name__ == "__main__":
    unittest.main()
