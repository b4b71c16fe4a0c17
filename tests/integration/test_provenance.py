"""Provenance (docs/FORMAT.md): every command that writes a checkpoint --
synth, merge, sweep, import -- records the documented root attributes, built
by one builder.  The inputs live in a folder whose name needs JSON escaping
(a control character, a quote, a backslash, non-ASCII), so mpiblend_inputs
must be valid JSON that gives back the exact paths; a safetensors folder
(export) carries only its documented __metadata__.

Usage: test_provenance.py WORKDIR"""
import datetime
import glob
import json
import os
import re
import shutil
import sys
import unittest

import h5py

import mpbtest
from mpbtest import run

WORK = os.path.join(sys.argv.pop(1) if len(sys.argv) > 1 else "/tmp", "provenance")
ODD = os.path.join(WORK, 'in "q" \\b\x01 é')
FORMAT_MARKS = {"mpiblend_format", "mpiblend_format_version", "mpiblend_version"}
EVERY = FORMAT_MARKS | {"mpiblend_ranks", "mpiblend_created"}
MERGE = EVERY | {"mpiblend_method", "mpiblend_config", "mpiblend_inputs",
                 "mpiblend_checksum", "mpiblend_input_checksums", "mpiblend_nonfinite"}


def attrs(path):
    with h5py.File(path, "r") as f:
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}


def folder_bytes(path):
    return sum(os.path.getsize(os.path.join(path, n)) for n in os.listdir(path)
               if os.path.isfile(os.path.join(path, n)))


class Provenance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(ODD)
        cls.start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        cls.a, cls.b = (os.path.join(ODD, n) for n in ("a.h5", "b.h5"))
        for seed, path in ((1, cls.a), (2, cls.b)):
            run(2, "synth", "--arch", "tiny", "--seed", seed, "--quiet", path, expect=0)
        # JSON strings are YAML double-quoted scalars: the paths go in exactly.
        models = "".join(f"  - model: {json.dumps(p, ensure_ascii=False)}\n"
                         for p in (cls.a, cls.b))
        cls.config = f"merge_method: interpolate\nmodels:\n{models}parameters:\n  lambda: 0.45\n"
        cls.config_path = mpbtest.write_text(WORK, "interp.yaml", cls.config)

    def check_common(self, a, ranks, keys):
        self.assertEqual(set(k for k in a if k.startswith("mpiblend_")), keys)
        self.assertEqual(a["mpiblend_format"], "mpiblend-checkpoint")
        self.assertEqual(int(a["mpiblend_format_version"]), 1)
        self.assertRegex(a["mpiblend_version"], r"^\d+\.\d+\.\d+$")
        self.assertEqual(a["mpiblend_ranks"], str(ranks))
        self.assertRegex(a["mpiblend_created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        created = datetime.datetime.strptime(a["mpiblend_created"], "%Y-%m-%dT%H:%M:%SZ")
        created = created.replace(tzinfo=datetime.timezone.utc)
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertTrue(self.start <= created <= now, (self.start, created, now))

    def check_inputs(self, a, paths, sizes):
        recorded = json.loads(a["mpiblend_inputs"])
        self.assertEqual(recorded, [{"path": p, "bytes": s} for p, s in zip(paths, sizes)])

    def test_synth(self):
        a = attrs(self.a)
        self.check_common(a, 2, EVERY | {"mpiblend_synth_arch", "mpiblend_synth_seed"})
        self.assertEqual(a["mpiblend_synth_arch"], "tiny")
        self.assertEqual(a["mpiblend_synth_seed"], "1")

    def test_merge(self):
        out = os.path.join(ODD, "merged.h5")
        run(3, "merge", self.config_path, "--out", out, "--force", "--quiet", expect=0)
        a = attrs(out)
        self.check_common(a, 3, MERGE)
        self.assertEqual(a["mpiblend_method"], "interpolate")
        self.assertEqual(a["mpiblend_config"], self.config)
        self.check_inputs(a, [self.a, self.b], [os.path.getsize(p) for p in (self.a, self.b)])
        self.assertRegex(a["mpiblend_checksum"], r"^crc32c:[0-9a-f]{8}$")

    def test_sweep(self):
        config = mpbtest.write_text(WORK, "sweep.yaml", self.config +
                                    "sweep:\n  output: \"mi-{lambda}.h5\"\n"
                                    "  parameters:\n    lambda: [0.25, 0.75]\n")
        out = os.path.join(WORK, "sweep")
        run(2, "sweep", config, "--out-dir", out, "--force", "--quiet", expect=0)
        keys = EVERY | {"mpiblend_method", "mpiblend_config", "mpiblend_inputs",
                        "mpiblend_sweep_point", "mpiblend_checksum"}
        points = sorted(glob.glob(os.path.join(out, "mi-*.h5")))
        self.assertEqual([os.path.basename(p) for p in points], ["mi-0.25.h5", "mi-0.75.h5"])
        for k, path in enumerate(points):
            a = attrs(path)
            self.check_common(a, 2, keys)
            self.assertEqual(a["mpiblend_method"], "interpolate")
            self.assertEqual(a["mpiblend_sweep_point"], str(k))
            # The point's own config: its lambda, no sweep section.
            self.assertNotIn("sweep", a["mpiblend_config"])
            self.assertRegex(a["mpiblend_config"], r"lambda: 0?%s\b" % ("0.25", "0.75")[k][1:])
            self.check_inputs(a, [self.a, self.b],
                              [os.path.getsize(p) for p in (self.a, self.b)])

    def test_import_and_export(self):
        folder = os.path.join(ODD, "hf")
        run(2, "export", self.a, folder, "--force", "--quiet", expect=0)
        # Safetensors outputs carry no provenance, only the documented mark.
        for shard in glob.glob(os.path.join(folder, "*.safetensors")):
            with open(shard, "rb") as f:
                n = int.from_bytes(f.read(8), "little")
                header = json.loads(f.read(n))
            self.assertEqual(header["__metadata__"], {"format": "pt"})
        out = os.path.join(ODD, "imported.h5")
        run(2, "import", folder, out, "--force", "--quiet", expect=0)
        a = attrs(out)
        self.check_common(a, 2, EVERY | {"mpiblend_inputs"})
        self.check_inputs(a, [folder], [folder_bytes(folder)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
