"""whatis against crash 9.0.2 and drgn 0.3.0 (the lab's sid chroot).

The addresses come from the peers' own walks of the same dump, not from
memdiag.  crash: objects from `kmem -S CACHE` (allocated ones in brackets,
free ones bare), free blocks from `kmem -F`, vmap areas from `kmem -v`,
task stacks from `task -R stack`; whatis must agree with crash's
`kmem ADDRESS` on each (the cache, the object and whether it is allocated;
the struct page and its physical address; the vmap area) and with the walk
it came from (a free block's order, a stack's task).  crash 9.0.2 cannot
walk 7.x's slabs ("kmem: -S not supported for this kernel"): drgn's walks
(tests/peers/drgn_whatis.py) and its identify_address() are the oracle for
objects there, and a second one on every kernel.
"""

import json
import os
import re
import subprocess

from lab import KERNELS, PEER, REPO, dump, kernel_line, peer_crash
from test_slab import memdiag

# Small caches with objects both allocated and free on every kernel; the
# leak's cache on leak-tracked.
CACHES = ("kmem_cache", "task_struct", "mm_struct")
PER_CACHE = 8           # allocated objects, and as many free, at most
OBJECT_OFFSETS = (0, 0x18)
MARK = 0x4d4449        # "MDI": crash's `eval` of it separates the answers


def crash_walks(out, caches):
    """Addresses to ask about, from crash's own walks: {kind: [(addr, truth)]}."""
    cmds = ["kmem -S %s" % c for c in caches] + ["kmem -v", "kmem -F", "ps"]
    text = peer_crash(out, cmds)
    assert "ended on signal" not in text, text[-2000:]
    found = {"object": [], "free page": [], "vmalloc": [], "stack": []}
    cache = None
    allocated, free = {}, {}
    for line in text.splitlines():
        m = re.match(r"^([0-9a-f]{16})\s+\d+\s+-?\d+\s+\d+\s+\d+\s+\d+k\s+(\S+)$", line)
        if m:
            cache = m.group(2)
            continue
        m = re.match(r"^  \[([0-9a-f]{16})\]$", line)
        if m and cache:
            allocated.setdefault(cache, []).append(int(m.group(1), 16))
            continue
        m = re.match(r"^   ([0-9a-f]{16})(?:  \(cpu \d+ cache\))?$", line)
        if m and cache:
            free.setdefault(cache, []).append(int(m.group(1), 16))
    for c in caches:
        for addr in allocated.get(c, [])[:PER_CACHE]:
            found["object"] += [(addr + off, (c, addr, True)) for off in OBJECT_OFFSETS]
        for addr in free.get(c, [])[:PER_CACHE]:
            found["object"] += [(addr + off, (c, addr, False)) for off in OBJECT_OFFSETS]
    # kmem -F: "AREA SIZE FREE_AREA_STRUCT" then "  ORDER  SIZE ..." then the blocks' struct pages
    order = None
    for line in text[text.find("ZONE  NAME"):].splitlines():
        m = re.match(r"^\s*(\d+)\s+\d+k\s+[0-9a-f]{16}\s*$", line)
        if m:
            order = int(m.group(1))
            continue
        m = re.match(r"^([0-9a-f]{16})$", line)
        if m and order is not None and len(found["free page"]) < 12:
            found["free page"].append((int(m.group(1), 16), order))
    areas = re.findall(r"^[0-9a-f]{16}\s+[0-9a-f]{16}\s+([0-9a-f]{16}) - ([0-9a-f]{16})\s+\d+$", text, re.M)
    step = max(1, len(areas) // 12)
    found["vmalloc"] = [(int(s, 16) + 0x10, (int(s, 16), int(e, 16))) for s, e in areas[::step]][:12]
    pids = re.findall(r"^>?\s+(\d+)\s+\d+\s+\d+\s+([0-9a-f]{16})\s+\S+\s+[\d.]+\s+\d+\s+\d+\s+(\S+)", text, re.M)
    return found, [(int(p), int(t, 16), comm) for p, t, comm in pids if int(p) > 0][:6]


def slab_walks(out):
    """Whether crash 9.0.2's `kmem -S` walks this kernel's slabs, and its
    `kmem ADDRESS` works: not on 7.x ("kmem: -S not supported for this
    kernel"; "invalid structure member offset: page_first_page" in its
    compound_head()), where only `kmem -p PAGE` still prints a page."""
    return kernel_line(out) < (7, 0)


def crash_kmem(out, addrs, pages=()):
    """crash's `kmem ADDRESS` of each address (`kmem -p` of those in pages,
    struct pages): {addr: text}."""
    cmds = []
    for a in addrs:
        cmds += ["eval %#x" % MARK, "kmem %s%#x" % ("-p " if a in pages else "", a)]
    text = peer_crash(out, cmds)
    assert "ended on signal" not in text, text[-2000:]
    parts = re.split(r"^hexadecimal: %x.*$" % MARK, text, flags=re.M)[1:]
    assert len(parts) == len(addrs), "%d answers to %d addresses:\n%s" % (len(parts), len(addrs), text[-3000:])
    # eval's other three lines (decimal, octal, binary) open each part
    return {a: "\n".join(p.splitlines()[4:]) for a, p in zip(addrs, parts)}


def crash_page(text):
    """(struct page, physical) of crash's PAGE line, or None."""
    m = re.search(r"^\s+PAGE\s+PHYSICAL.*\n([0-9a-f]{16})\s+([0-9a-f]+)\s", text, re.M)
    return (int(m.group(1), 16), int(m.group(2), 16)) if m else None


def whatis(out, addrs):
    doc = json.loads(memdiag(out, "--json", "whatis", *["%#x" % a for a in addrs]).stdout)
    assert len(doc["addresses"]) == len(addrs), doc
    return {int(w["address"], 16): w for w in doc["addresses"]}


def stack_addresses(out, tasks):
    """(address inside the stack, pid, comm) of some tasks, from crash's task_struct.stack."""
    text = peer_crash(out, ["task -R stack %d" % pid for pid, _, _ in tasks])
    stacks = [int(s, 16) for s in re.findall(r"^\s+stack = 0x([0-9a-f]+),?$", text, re.M)]
    assert len(stacks) == len(tasks), text[-2000:]
    return [(s + 0x3f00, pid, comm) for s, (pid, _, comm) in zip(stacks, tasks)]


def test_whatis_agrees_with_crash():
    """At least 50 addresses a dump (objects allocated and free and inside
    them, free blocks, vmap areas, stacks): each as crash tells it."""
    for k in KERNELS:
        # 7.x: crash's walks only (see slab_walks()), on one dump
        line = tuple(int(x) for x in k.split("-")[0].split("."))
        for s in ("baseline", "leak-tracked") if line < (7, 0) else ("baseline",):
            def case(k=k, s=s):
                out = dump(k, s, "elf")
                caches = CACHES + (("kmalloc-128",) if s == "leak-tracked" else ())
                found, tasks = crash_walks(out, caches if slab_walks(out) else ())
                stacks = stack_addresses(out, tasks)
                addrs = ([a for a, _ in found["object"]] + [a for a, _ in found["free page"]] +
                         [a for a, _ in found["vmalloc"]] + [a for a, _, _ in stacks])
                assert len(addrs) >= (50 if slab_walks(out) else 25), {kind: len(v) for kind, v in found.items()}
                # 7.x: `kmem -p` of the free blocks; crash says nothing of the others' pages
                theirs = crash_kmem(out, addrs if slab_walks(out) else [a for a, _ in found["free page"]],
                                    () if slab_walks(out) else [a for a, _ in found["free page"]])
                theirs = {a: theirs.get(a, "") for a in addrs}
                ours = whatis(out, addrs)
                wrong = []
                for a, (cache, obj, alloc) in found["object"]:
                    w, m = ours[a], re.search(r"^\s+(\[)?([0-9a-f]{16})\]?", theirs[a].split("FREE / [ALLOCATED]")[-1],
                                              re.M)
                    got = w["slab"] and (w["slab"]["cache"], int(w["slab"]["object"], 16),
                                         w["slab"]["state"] == "allocated")
                    if got != (cache, obj, alloc) or not m or int(m.group(2), 16) != obj or bool(m.group(1)) != alloc:
                        wrong.append("%#x: whatis %s, kmem -S %s, kmem %s" % (a, got, (cache, obj, alloc),
                                                                               m and m.group(0)))
                    elif crash_page(theirs[a]) != (int(w["page"]["page"], 16), int(w["page"]["physical"], 16) & ~0xfff):
                        wrong.append("%#x: page %s, crash %s" % (a, w["page"], crash_page(theirs[a])))
                for a, order in found["free page"]:
                    w = ours[a]
                    if not w["page"] or crash_page(theirs[a]) != (int(w["page"]["page"], 16),
                                                                  int(w["page"]["physical"], 16)):
                        wrong.append("%#x: page %s, crash %s" % (a, w["page"], crash_page(theirs[a])))
                    elif w["page"]["owner"] != "free" or w["page"]["free_block"]["order"] != order or \
                            w["page"]["free_block"]["pfn"] != w["page"]["pfn"]:
                        wrong.append("%#x: %s, crash's kmem -F: a free block of order %d" % (a, w["page"], order))
                for a, (start, end) in found["vmalloc"]:
                    w, m = ours[a], re.search(r"^[0-9a-f]{16}\s+[0-9a-f]{16}\s+([0-9a-f]{16}) - ([0-9a-f]{16})", theirs[a], re.M)
                    if not w["vmalloc"] or (int(w["vmalloc"]["start"], 16), int(w["vmalloc"]["end"], 16)) != \
                            (start, end) or slab_walks(out) and (not m or (int(m.group(1), 16),
                                                                           int(m.group(2), 16)) != (start, end)):
                        wrong.append("%#x: vmalloc %s, crash %s" % (a, w["vmalloc"], m and m.groups()))
                    elif crash_page(theirs[a]) and (not w["page"] or crash_page(theirs[a]) !=
                                                    (int(w["page"]["page"], 16), int(w["page"]["physical"], 16) & ~0xfff)):
                        wrong.append("%#x: page %s, crash %s" % (a, w["page"], crash_page(theirs[a])))
                for a, pid, comm in stacks:
                    w = ours[a]
                    if not w["task"] or (w["task"]["pid"], w["task"]["part"]) != (pid, "kernel stack"):
                        wrong.append("%#x: task %s, crash: the stack of pid %d (%s)" % (a, w["task"], pid, comm))
                    elif slab_walks(out) and crash_page(theirs[a]) != (int(w["page"]["page"], 16),
                                                                       int(w["page"]["physical"], 16) & ~0xfff):
                        wrong.append("%#x: page %s, crash %s" % (a, w["page"], crash_page(theirs[a])))
                # a slab object's struct page (vmemmap) is told as its slab's page
                pages = {crash_page(theirs[a])[0]: cache for a, (cache, _, _) in found["object"]
                         if crash_page(theirs[a])}
                for page, w in (whatis(out, list(pages)) if pages else {}).items():
                    if not w["page"] or (w["page"]["owner"], w["page"]["owner_detail"]) != ("slab", pages[page]):
                        wrong.append("%#x: page %s, crash: a slab page of %s" % (page, w["page"], pages[page]))
                assert not wrong, "%d of %d addresses differ:\n%s" % (len(wrong), len(addrs), "\n".join(wrong[:30]))
            yield "%s/%s" % (k, s), case


def drgn_walks(out, caches):
    """tests/peers/drgn_whatis.py's addresses and drgn's identify_address() of each."""
    path = os.path.join(REPO, "build", "tests", "drgn-whatis-%d.json" % os.getpid())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    p = subprocess.run([PEER, "drgn", "-q", "-c", os.path.realpath(os.path.join(out, "vmcore")),
                        "-s", os.path.realpath(os.path.join(out, "vmlinux")),
                        os.path.join(REPO, "tests", "peers", "drgn_whatis.py"), path] + list(caches),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    assert p.returncode == 0, "drgn failed:\n" + p.stdout[-3000:]
    try:
        return json.load(open(path))
    finally:
        os.unlink(path)


def test_whatis_agrees_with_drgn():
    """drgn's walks (allocated objects, free slots of their slabs, vmap areas,
    task stacks) and its identify_address(): whatis says the same of each."""
    for k in KERNELS:
        for s in ("baseline", "leak-tracked"):
            def case(k=k, s=s):
                out = dump(k, s, "elf")
                found = drgn_walks(out, CACHES + (("kmalloc-128",) if s == "leak-tracked" else ()))
                assert len(found) >= 50, found
                ours = whatis(out, [f["address"] for f in found])
                wrong = []
                for f in found:
                    a, w, truth, ident = f["address"], ours[f["address"]], f["truth"], f["identify"] or ""
                    if f["kind"] == "object":
                        got = w["slab"] and [w["slab"]["cache"], int(w["slab"]["object"], 16),
                                             w["slab"]["state"] == "allocated"]
                        said = "%sslab object: %s+%#x" % ("" if truth[2] else "free ", truth[0], a - truth[1])
                        # an allocated task_struct is named as its task
                        m = re.match(r"task: (\d+) ", ident)
                        if m:
                            said = ident if w["task"] and w["task"]["pid"] == int(m.group(1)) and \
                                w["task"]["part"] == "task_struct" else "task_struct of pid " + m.group(1)
                        if got != truth or ident != said:
                            wrong.append("%#x: whatis %s %s, drgn %s, %r" % (a, got, w["task"], truth, ident))
                    elif f["kind"] == "vmalloc":
                        got = w["vmalloc"] and [int(w["vmalloc"]["start"], 16), int(w["vmalloc"]["end"], 16)]
                        m = re.match(r"task stack: (\d+) ", ident)
                        if got != truth or (m and (not w["task"] or w["task"]["pid"] != int(m.group(1)))):
                            wrong.append("%#x: whatis %s %s, drgn %s, %r" % (a, got, w["task"], truth, ident))
                    else:
                        got = w["task"] and [w["task"]["pid"], w["task"]["comm"], w["task"]["part"]]
                        if got != truth + ["kernel stack"] or not ident.startswith("task stack: %d " % truth[0]):
                            wrong.append("%#x: whatis %s, drgn %s, %r" % (a, got, truth, ident))
                assert not wrong, "%d of %d addresses differ:\n%s" % (len(wrong), len(found), "\n".join(wrong[:30]))
            yield "%s/%s" % (k, s), case


def test_whatis_names_what_it_cannot_tell():
    """An address in no region, a user address, a symbol and a bad argument:
    each said plainly, the others still answered."""
    out = dump(KERNELS[0], "baseline", "elf")
    doc = json.loads(memdiag(out, "--json", "whatis", "0x1000", "init_task", "0xffffff0000000000").stdout)
    regions = [w["region"] for w in doc["addresses"]]
    assert regions == ["user space", "kernel image", "none"], regions
    assert doc["addresses"][1]["symbol"] == "init_task+0x0", doc["addresses"][1]
    p = memdiag(out, "whatis", "nosuch_symbol_here", check=False)
    assert p.returncode != 0 and "neither a hex address nor a symbol" in p.stderr, p.stderr
