"""tools/simulate-cluster against cases whose answer is known by hand (python3 -m unittest, standard library)."""
import importlib.machinery
import importlib.util
import json
import os
import sys
import tempfile
import unittest

TOOL = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "simulate-cluster")
loader = importlib.machinery.SourceFileLoader("simulate_cluster", TOOL)
spec = importlib.util.spec_from_loader("simulate_cluster", loader)
sim = importlib.util.module_from_spec(spec)
loader.exec_module(sim)


class Simulate(unittest.TestCase):
    def test_equal_trials_scale_linearly_with_a_window_of_the_workers(self):
        costs = [(0.0, 1.0)] * 64
        for w in (1, 2, 4, 16):
            makespan, work = sim.simulate(costs, w, w, 0.0, 0.0)
            self.assertAlmostEqual(makespan, 64 / w)
            self.assertAlmostEqual(work / (w * makespan), 1.0)

    def test_a_window_of_one_uses_one_worker(self):
        makespan, work = sim.simulate([(0.0, 1.0)] * 8, 4, 1, 0.0, 0.0)
        self.assertAlmostEqual(makespan, 8.0)
        self.assertAlmostEqual(work / (4 * makespan), 0.25)

    def test_the_coordinator_bounds_the_rate(self):
        # 10 ms of coordinator time per trial: at most 100 trials/s, whatever the workers
        makespan, _ = sim.simulate([(0.0, 0.1)] * 1000, 256, 512, 0.01, 0.0)
        self.assertGreaterEqual(makespan, 10.0)

    def test_messages_add_two_latencies_per_trial(self):
        makespan, _ = sim.simulate([(0.0, 1.0)] * 3, 1, 1, 0.0, 0.5)
        self.assertAlmostEqual(makespan, 3 * (1.0 + 2 * 0.5))

    def test_a_long_trial_holds_the_window(self):
        # trial 0 takes 10 s, the rest 1 s; window 2 on 2 workers: trials 2 and 3 are asked only once trial 0 is
        # told (at 10 s), so they end at 11 s; worker B idles from 1 s to 10 s. A window of 8 asks them at once.
        costs = [(0.0, 10.0)] + [(0.0, 1.0)] * 3
        makespan, _ = sim.simulate(costs, 2, 2, 0.0, 0.0)
        self.assertAlmostEqual(makespan, 11.0)
        wide, _ = sim.simulate(costs, 2, 8, 0.0, 0.0)
        self.assertAlmostEqual(wide, 10.0)

    def test_the_journal_reader_skips_the_header_rejected_trials_and_repeats(self):
        lines = [{"hwnas_journal": 1, "settings": {}},
                 {"genome": [0], "status": "trained", "reward": 0.5, "accuracy": 0.5, "luts": 9, "fps": 1.0,
                  "training_seconds": 2.0, "mapping_seconds": 0.001},
                 {"genome": [1], "status": "infeasible", "reward": 0.0, "accuracy": None,
                  "training_seconds": 0.0, "mapping_seconds": 0.002},
                 {"genome": [2], "status": "trained", "reward": 0.5, "accuracy": 0.5, "luts": 9, "fps": 1.0,
                  "training_seconds": 2.0, "mapping_seconds": 0.001, "repeated": True},
                 {"genome": [3], "status": "trained", "reward": 0.5, "accuracy": 0.5, "luts": 9, "fps": 1.0,
                  "training_seconds": 2.0}]  # an older journal's repeat: the first trial's exact figures
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write("\n".join(json.dumps(x) for x in lines) + "\n{\"genome\": [4")  # and a torn last line
        try:
            costs = sim.read_costs(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(costs, [(0.001, 2.0), (0.002, None), (0.001, None), (0.0, None)])


if __name__ == "__main__":
    unittest.main()
