"""The JSON contract (doc/json.md, doc/memdiag.schema.json) on every command
of every lab kernel.

Every document opens with command, schema_version, memdiag_version (the
Makefile's VERSION) and kernel: the release the lab booted (info.json) and
the build id readelf reads from the vmlinux's GNU build-id note.  No number
is above 2^53, where jq and every double-based reader round, and every
address survives jq unchanged: the "0x..." strings jq prints are those the
document holds.
"""

import json
import os
import re
import subprocess

from lab import KERNELS, LAB_PLAN, REPO, WHATIS_LINE, dump, info
from test_slab import memdiag, schema_errors

COMMANDS = ("memdiag -s", "slableak", "slableak -l", "slableak kmalloc-128", "buddyfrag -v", "oomstate -a",
            "vmalloc -a", WHATIS_LINE, "snapshot")
ADDRESS = re.compile(r"^0x[0-9a-f]{16}$")


def makefile_version():
    return re.search(r"^VERSION := (\S+)$", open(os.path.join(REPO, "Makefile")).read(), re.M).group(1)


def build_id(vmlinux):
    out = subprocess.run(["readelf", "-n", vmlinux], stdout=subprocess.PIPE, text=True, check=True).stdout
    return re.search(r"Build ID: ([0-9a-f]+)", out).group(1)


def walk(v, path=""):
    """(path, value) of every scalar in a document."""
    if isinstance(v, dict):
        for k, x in v.items():
            yield from walk(x, path + "." + k)
    elif isinstance(v, list):
        for x in v:
            yield from walk(x, path + "[]")
    else:
        yield path, v


def test_every_document_keeps_the_contract():
    for k in KERNELS:
        for command in COMMANDS:
            def case(k=k, command=command):
                out = dump(k, "oom", "elf")
                text = memdiag(out, "--json", *command.split()).stdout
                doc = json.loads(text)
                assert list(doc)[:4] == ["command", "schema_version", "memdiag_version", "kernel"], list(doc)[:6]
                assert doc["command"] == command.split()[0] and doc["schema_version"] == 2, doc["command"]
                assert doc["memdiag_version"] == makefile_version(), doc["memdiag_version"]
                assert doc["kernel"] == {"release": info(out)["kernel_release"],
                                         "build_id": build_id(os.path.join(out, "vmlinux"))}, doc["kernel"]
                big = [(p, v) for p, v in walk(doc) if isinstance(v, int) and not isinstance(v, bool)
                       and abs(v) > 2 ** 53]
                assert not big, "numbers jq would round: %s" % big[:10]
                ours = sorted(v for _, v in walk(doc) if isinstance(v, str) and ADDRESS.match(v))
                jq = subprocess.run(["jq", "-r", '.. | strings | select(test("^0x[0-9a-f]{16}$"))'],
                                    input=text, stdout=subprocess.PIPE, text=True, check=True).stdout.split()
                assert sorted(jq) == ours, "jq and the document disagree on %d addresses" % len(set(jq) ^ set(ours))
                if command.startswith(("oomstate", "vmalloc", "whatis", "slableak")):
                    assert ours, "%s: no address in the document" % command
            yield "%s/%s" % (k, command), case


def test_every_document_validates_against_the_schema():
    """Every command's document on every lab dump (ELF; the filtered dumps'
    documents, with their nulls and errors, are validated by every test that
    reads one: test_slab.memdiag()) holds to doc/memdiag.schema.json, whose
    objects admit no key it does not describe."""
    for k in KERNELS:
        for scenario in LAB_PLAN[k]:
            def case(k=k, scenario=scenario):
                out = dump(k, scenario, "elf")
                for command in COMMANDS:
                    doc = json.loads(memdiag(out, "--json", *command.split(), validate=False).stdout)
                    errors = schema_errors(doc)
                    assert not errors, "%s: %s" % (command, errors[:5])
            yield "%s/%s" % (k, scenario), case


def test_the_schema_rejects_what_it_does_not_describe():
    """The validator is not vacuous: a key the schema does not name, a size
    that is not a number, an address that is not 0x and 16 digits fail."""
    out = dump(KERNELS[0], "baseline", "elf")
    doc = json.loads(memdiag(out, "--json", "slableak", "-n", "2").stdout)
    assert not schema_errors(doc)
    for mutate in (lambda d: d.update(bogus=1), lambda d: d["caches"][0].update(memory_bytes="1"),
                   lambda d: d["caches"][0].update(address="0x1234"), lambda d: d.update(schema_version=1),
                   lambda d: d["caches"][0].pop("name")):
        bad = json.loads(json.dumps(doc))
        mutate(bad)
        assert schema_errors(bad), bad
