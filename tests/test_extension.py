"""The crash extension (extension/memdiag.c): memdiag's commands inside crash 8.0.2.

What is tested is the plumbing, not what slableak finds (tests/test_slab.py):
the object loads and registers one command per md_commands[] entry with a
help page made from that table; output goes through crash's fp, so pipes and
redirection work, and a pipe closed early ends the command quietly; errors
print as one "CMD: ..." line and crash goes on; `extend -u` and loading again
work, a second copy is refused without harm.

The target over crash's API is checked through a probe: a throwaway crash
extension built here from extension/memdiag.c plus an `mdprobe` command that
calls the target's operations.  Its answers are checked against pahole
reading the same vmlinux's DWARF, crash's own `struct -o`, `p` and `sym`,
and the lab dump's info.json.

The target takes its types from the vmlinux's BTF, or its DWARF through libdw
(lib/dwarf_types.c) when it has no BTF or MEMDIAG_TYPES=dwarf says so, or from
crash's gdb when it has neither or MEMDIAG_TYPES=gdb says so; the three are
probed on 6.1 and 6.12.  crash runs with tests/crash_malloc0.c preloaded (tests/lab.py): without
it, crash 8.0.2 corrupts its heap opening a 6.12 dump, and its gdb then
segfaults on nearly every type look-up.  A fault inside gdb is made on
purpose through the probe, to check that the extension survives it.
"""

import atexit
import difflib
import functools
import json
import os
import re
import shutil
import subprocess
import tempfile

from lab import (CRASH_HAS_ITS_OWN, CRASHES, EXTENSION_COMMANDS, KERNELS, REPO, Pahole, crash, dump, extension_session, in_crash,
                 info)

SO = os.path.join(REPO, "build", "memdiag.so")
LIB = os.path.join(REPO, "build", "libmemdiag.a")
MARK = "eval 0x%x"
MARK_BASE = 0x7e00

# A test-only extension: extension/memdiag.c with register_extension()
# renamed, so that an extra command, mdprobe, rides along with the real ones;
# and enumerator_value() renamed, so that gdb can be made to fault on one name
# (MDPROBE_SEGV) the way crash 8.0.2's gdb does on a heap crash corrupted.
PROBE_C = r'''
#define register_extension probe_register
#define enumerator_value probe_enumerator_value
#include "%(src)s"
#undef register_extension
#undef enumerator_value
void register_extension(struct command_table_entry *);
int enumerator_value(char *, long *);

/* A segfault inside gdb, as crash's gdb_interface() frames a gdb call:
 * restart() catches SIGSEGV, with IN_GDB set. */
int probe_enumerator_value(char *name, long *value)
{
	if (!strcmp(name, "MDPROBE_SEGV")) {
		struct sigaction sa = { .sa_handler = restart };

		sigaction(SIGSEGV, &sa, NULL);
		pc->flags |= IN_GDB;
		raise(SIGSEGV);
	}
	return enumerator_value(name, value);
}

static void cmd_mdprobe(void);
static char *help_mdprobe[] = { "mdprobe", "calls the target", "OP ARGS", " ", NULL };
static struct command_table_entry probe_table[64];

void probe_register(struct command_table_entry *t)
{
	int n = 0;

	for (; t[n].name && n < 62; n++)
		probe_table[n] = t[n];
	probe_table[n].name = "mdprobe";
	probe_table[n].func = cmd_mdprobe;
	probe_table[n].help_data = help_mdprobe;
	register_extension(probe_table);
}

static void join(char *buf, size_t size, int from, int to)
{
	buf[0] = 0;
	for (int i = from; i < to; i++)
		snprintf(buf + strlen(buf), size - strlen(buf), "%%s%%s", i > from ? " " : "", args[i]);
}

static void cmd_mdprobe(void)
{
	char type[1024], buf[512];
	struct md_error *err = NULL;
	const char *op = argcnt > 1 ? args[1] : "";

	run_begin();
	if (!strcmp(op, "commands")) {
		for (const struct md_command *c = md_commands; c->name; c++) {
			char *synopsis = md_command_synopsis(c), **help = md_command_help(c);

			fprintf(fp, "MDP CMD %%s\t%%s\t%%s\n", c->name, c->summary, synopsis);
			for (char **l = help; l && *l; l++)
				fprintf(fp, "MDP HELP %%s\t%%s\n", c->name, *l);
			free(synopsis);
			md_strings_free(help);
		}
	} else if (!strcmp(op, "size")) {
		uint64_t v;
		join(type, sizeof(type), 2, argcnt);
		if (!(err = t_type_size(NULL, type, &v)))
			fprintf(fp, "MDP OK %%lu\n", v);
	} else if (!strcmp(op, "member")) {
		struct md_member m;
		join(type, sizeof(type), 2, argcnt - 1);
		if (!(err = t_member(NULL, type, args[argcnt - 1], &m)))
			fprintf(fp, "MDP OK %%lu %%lu %%lu\n", m.bit_offset, m.bit_size, m.size);
	} else if (!strcmp(op, "enum")) {
		int64_t v;
		if (!(err = t_enumerator(NULL, args[2], &v)))
			fprintf(fp, "MDP OK %%ld\n", v);
	} else if (!strcmp(op, "vmcoreinfo")) {
		if (!(err = t_vmcoreinfo(NULL, args[2], buf, sizeof(buf))))
			fprintf(fp, "MDP OK %%s\n", buf);
	} else if (!strcmp(op, "sym")) {
		uint64_t v;
		if (!(err = t_symbol_address(NULL, args[2], &v)))
			fprintf(fp, "MDP OK %%lx\n", v);
	} else if (!strcmp(op, "name")) {	/* name SYMBOL DELTA */
		uint64_t v;
		if (!(err = t_symbol_address(NULL, args[2], &v)) &&
		    !(err = t_address_name(NULL, v + strtoull(args[3], NULL, 0), buf, sizeof(buf))))
			fprintf(fp, "MDP OK %%s\n", buf);
	} else if (!strcmp(op, "addr")) {
		if (!(err = t_address_name(NULL, strtoull(args[2], NULL, 16), buf, sizeof(buf))))
			fprintf(fp, "MDP OK %%s\n", buf);
	} else if (!strcmp(op, "read")) {	/* read HEX [phys] */
		uint64_t v = 0;
		if (!(err = t_read(NULL, argcnt > 3 ? MD_PHYSADDR : MD_KVADDR,
				   strtoull(args[2], NULL, 16), &v, sizeof(v))))
			fprintf(fp, "MDP OK %%016lx\n", v);
	} else if (!strcmp(op, "interrupted")) {
		fprintf(fp, "MDP OK %%d\n", t_interrupted(NULL));
	} else {
		fprintf(fp, "MDP ERR 0 unknown op\n");
	}
	if (err) {
		char *m = md_error_string(err);
		fprintf(fp, "MDP ERR %%d %%s\n", md_error_root_code(err), m);
		free(m);
		md_error_destroy(err);
	}
	run_end();
}
'''


@functools.lru_cache(None)
def build():
    env = dict(os.environ)
    env.pop("SANITIZE", None)
    p = subprocess.run(["make", "-s", "build/memdiag.so"], cwd=REPO, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, "make build/memdiag.so failed:\n" + p.stdout
    return SO


@functools.lru_cache(None)
def build_probe():
    build()
    tmp = tempfile.mkdtemp(prefix="memdiag-probe-")
    atexit.register(shutil.rmtree, tmp, True)
    src = os.path.join(tmp, "probe.c")
    with open(src, "w") as f:
        f.write(PROBE_C % {"src": os.path.join(REPO, "extension", "memdiag.c")})
    so = os.path.join(tmp, "probe.so")
    p = subprocess.run(["gcc", "-std=gnu11", "-D_GNU_SOURCE", "-DX86_64", "-O2", "-g", "-fPIC",
                        "-shared", "-rdynamic", "-Wno-format", "-I", os.path.join(REPO, "lib"),
                        "-o", so, src, LIB, "-ldw", "-lelf", "-pthread"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, "probe build failed:\n" + p.stdout
    return so


def run_groups(outdir, groups, env=None):
    """Run crash once over [(key, [commands])]; returns {key: [output lines]}.

    Groups are told apart by `eval` markers (crash's own, no gdb involved).
    Lines written by children (pipes, `!`) can land anywhere: only crash's
    own output is looked at here.
    """
    cmds = []
    for i, (_, group) in enumerate(groups):
        cmds.append(MARK % (MARK_BASE + i))
        cmds.extend(group)
    cmds.append(MARK % (MARK_BASE + len(groups)))
    lines = crash(outdir, cmds, env=env).splitlines()
    starts = {}
    for i, line in enumerate(lines):
        m = re.match(r"^hexadecimal: 7e([0-9a-f]{2})\s*$", line)
        if m:
            starts[int(m.group(1), 16)] = i
    out = {}
    for i, (key, _) in enumerate(groups):
        assert i in starts and i + 1 in starts, \
            "crash stopped before group %r:\n%s" % (key, "\n".join(lines[-40:]))
        # The marker prints 4 lines: hexadecimal, decimal, octal, binary.
        out[key] = [l for l in lines[starts[i] + 4:starts[i + 1]] if l.strip()]
    return out


def md_commands_table():
    """md_commands[] as the probe prints it: {name: (summary, synopsis, [help lines])}."""
    return probe_session()["commands"][1]


# --- the real extension on 6.1 ------------------------------------------------

@functools.lru_cache(None)
def session_61():
    so = build()
    names = sorted(md_commands_table())
    tmp = tempfile.mkdtemp(prefix="memdiag-ext-")
    copy_dir = os.path.join(tmp, "copy")
    os.makedirs(copy_dir)
    shutil.copy(so, copy_dir)
    pipe_files = [os.path.join(tmp, "pipe%d.txt" % i) for i in range(3)]
    redirect_file = os.path.join(tmp, "redirect.txt")
    groups = [
        ("load", ["extend " + so]),
        ("load again", ["extend " + so]),
        ("list", ["extend"]),
    ] + [("help " + n, ["help " + in_crash(n)]) for n in names] + [
        # The first run builds the session (about a second), so the reader
        # is usually gone before the first write: EPIPE, which must end the
        # command quietly instead of crash's SIGPIPE longjmp through the core.
        ("closed pipe", ["slableak | sleep 0.2"]),
        ("direct", ["slableak -n 5"]),
    ] + [("pipe %d" % i, ["slableak -n 5 | head -3 > " + f]) for i, f in enumerate(pipe_files)] + [
        ("redirect", ["slableak -n 5 > " + redirect_file]),
        ("append", ["slableak -n 5 >> " + redirect_file]),
        ("two", ["slableak -n 2"]),
        ("bad -x", ["slableak -x"]),
        ("bad -n", ["slableak -n"]),
        ("bad -n abc", ["slableak -n abc"]),
        ("bad many", ["slableak a b c"]),
        # the one option parser (lib/options.c): --json and -h in crash too
        ("json", ["slableak -n 3 --json"]),
        ("json vmalloc", ["vmalloc -n2 --json"]),
        ("self help", ["buddyfrag -h"]),
        ("after json", ["slableak -n 2"]),
        ("sys", ["sys"]),
        ("unload", ["extend -u " + so]),
        ("gone", ["slableak -n 2"]),
        ("reload", ["extend " + so]),
        ("two after reload", ["slableak -n 2"]),
        ("copy", ["extend " + os.path.join(copy_dir, "memdiag.so")]),
        ("two after copy", ["slableak -n 2"]),
        ("sys at end", ["sys"]),
    ]
    try:
        out = run_groups(dump("6.1", "leak-tracked", "elf"), groups)
        read = lambda f: open(f).read().splitlines() if os.path.exists(f) else None
        files = {"pipes": [read(f) for f in pipe_files], "redirect": read(redirect_file)}
    finally:
        shutil.rmtree(tmp)
    return out, files, copy_dir


def no_crash_trouble(lines, what):
    for l in lines:
        assert "segmentation violation" not in l and "Broken pipe" not in l \
            and "embedded signal" not in l, "%s: %s" % (what, l)


# What `extend` prints: a line for each command registered under another
# name (crash has its own), then crash's own.
LOADED = ["memdiag.so: crash has its own \"%s\": memdiag's is \"%s\"" % (n, in_crash(n)) for n in CRASH_HAS_ITS_OWN] + \
    [SO + ": shared object loaded"]


def test_extension_loads_and_registers_md_commands():
    out, _, _ = session_61()
    assert out["load"] == LOADED, out["load"]
    assert out["load again"] == [SO + ": shared object already loaded"], out["load again"]
    rows = [l.split() for l in out["list"] if l.startswith(SO)]
    assert len(rows) == 1, out["list"]
    assert sorted(rows[0][1:]) == sorted(map(in_crash, md_commands_table())), (rows, sorted(md_commands_table()))


def test_help_pages_come_from_md_commands():
    out, _, _ = session_61()
    for name, (summary, synopsis, lines) in sorted(md_commands_table().items()):
        page = out["help " + name]
        want = ["NAME", "  %s - %s" % (in_crash(name), summary), "SYNOPSIS", "  %s %s" % (in_crash(name), synopsis),
                "DESCRIPTION"] + ["  " + l for l in lines if l.strip()]
        assert [l.rstrip() for l in page] == [l.rstrip() for l in want], \
            "help %s:\n%s\nwanted:\n%s" % (name, "\n".join(page), "\n".join(want))


PIPE_FAILED = ["crash: pipe operation failed"]


def test_output_goes_through_fp():
    """A pipe and a redirection get exactly what the terminal would have.

    crash 8.0.2 sets a pipe up by polling /proc for the piped-to process
    (cmdline.c output_command_to_pids(), about 10 ms); on a busy machine it
    can give up with "pipe operation failed", written into the pipe, before
    the command runs.  So the pipe is tried three times; each time either
    that happened or the pipe got the terminal's first three lines."""
    out, files, _ = session_61()
    direct = out["direct"]
    assert len(direct) >= 3 and not any(l.startswith("slableak:") for l in direct), direct
    # the terminal's lines as the session reads them: without blank lines
    pipes = [[l for l in p if l.strip()] if p is not None else p for p in files["pipes"]]
    first = [p for p in pipes if p != PIPE_FAILED]
    assert all(p and p == direct[:len(p)] for p in first), "pipes got %r, terminal %r" % (pipes, direct[:3])
    assert first, "crash could set up none of the pipes: %r" % pipes
    # crash may also print its own "pipe operation failed" on the terminal.
    leaked = [l for k in ("pipe 0", "pipe 1", "pipe 2", "redirect", "append") for l in out[k]
              if l != "crash: pipe operation failed"]
    assert leaked == [], "redirected output reached the terminal: %r" % leaked
    nonblank = [l for l in direct if l.strip()]
    assert [l for l in files["redirect"] if l.strip()] == nonblank + nonblank, \
        "redirect file:\n%s" % "\n".join(files["redirect"])


def test_closed_pipe_ends_the_command_quietly():
    out, _, _ = session_61()
    no_crash_trouble(out["closed pipe"], "slableak | sleep 0.2")
    assert not any(l.startswith("slableak:") for l in out["closed pipe"]), out["closed pipe"]
    # The session it was building is still good: the next runs agree.
    assert out["two"] and out["two"][0] == out["direct"][0], out["two"]
    assert out["two after reload"] == out["two"], (out["two after reload"], out["two"])


def test_bad_arguments_print_one_error_and_crash_goes_on():
    out, _, _ = session_61()
    for key in ("bad -x", "bad -n", "bad -n abc", "bad many"):
        lines = out[key]
        no_crash_trouble(lines, key)
        assert len(lines) == 1 and lines[0].startswith("slableak: "), "%s: %r" % (key, lines)
        assert not lines[0].startswith("slableak: slableak:"), "%s: %r" % (key, lines)
    assert any(re.match(r"^\s+RELEASE: 6\.1\.", l) for l in out["sys"]), out["sys"]


def memdiag(outdir, *args):
    from test_slab import memdiag as run
    return run(outdir, *args)


def memdiag_help(name):
    return subprocess.run([os.path.join(REPO, "build", "memdiag"), "--help", name], check=True,
                          stdout=subprocess.PIPE, text=True).stdout


def test_json_and_help_options_inside_crash():
    """`--json` and `-h` are the core's options, so crash has them too: the
    document is the standalone program's, the page is `memdiag --help`'s, and
    the next command is text again."""
    out, _, _ = session_61()
    d = dump("6.1", "leak-tracked", "elf")
    for key, args in (("json", ["slableak", "-n", "3"]), ("json vmalloc", ["vmalloc", "-n", "2"])):
        no_crash_trouble(out[key], key)
        ours = json.loads("\n".join(out[key]))
        cli = json.loads(memdiag(d, "--json", *args).stdout)
        assert ours == cli, (key, ours, cli)
    page = memdiag_help("buddyfrag")
    # (the session's reader drops blank lines)
    assert [l.rstrip() for l in out["self help"]] == [l.rstrip() for l in page.splitlines() if l.strip()], \
        out["self help"]
    assert out["after json"] == out["two"], out["after json"]


def test_unload_reload_and_a_second_copy():
    out, _, copy_dir = session_61()
    assert out["unload"] == [SO + ": shared object unloaded"], out["unload"]
    assert any("command not found: slableak" in l for l in out["gone"]), out["gone"]
    assert out["reload"] == LOADED, out["reload"]
    assert out["two after reload"] == out["two"], out["two after reload"]
    copy = os.path.join(copy_dir, "memdiag.so")
    assert any("duplicate of a currently-existing command" in l for l in out["copy"]), out["copy"]
    assert any(l.endswith(copy + ": shared object unloaded") for l in out["copy"]), out["copy"]
    # The refused copy's destructor must not have touched the loaded one.
    assert out["two after copy"] == out["two"], out["two after copy"]
    assert any(re.match(r"^\s+RELEASE: 6\.1\.", l) for l in out["sys at end"]), out["sys at end"]


# --- the target, through the probe, on 6.1 ------------------------------------

MEMBERS = [
    ("struct slab", "inuse"), ("struct slab", "objects"), ("struct slab", "frozen"),
    ("struct slab", "counters"), ("struct slab", "slab_cache"), ("struct slab", "freelist"),
    ("struct slab", "slab_list"), ("struct slab", "next"), ("struct slab", "slabs"),
    ("struct kobject", "state_initialized"), ("struct kobject", "state_in_sysfs"),
    ("struct kobject", "uevent_suppress"), ("struct kobject", "kref"),
    ("struct kmem_cache", "size"), ("struct kmem_cache", "oo"), ("struct kmem_cache", "node"),
    ("struct kmem_cache", "cpu_slab"), ("struct kmem_cache", "kobj"),
    ("struct page", "flags"), ("struct page", "compound_head"), ("struct page", "_mapcount"),
    ("struct kmem_cache_node", "nr_slabs"), ("struct kmem_cache_node", "partial"),
    ("struct task_struct", "in_execve"), ("struct task_struct", "sched_reset_on_fork"),
    ("struct task_struct", "pid"),
]
DOTTED = [("struct kmem_cache", "oo.x", ("kmem_cache", "oo"), ("kmem_cache_order_objects", "x")),
          ("struct kmem_cache", "kobj.state_in_sysfs", ("kmem_cache", "kobj"), ("kobject", "state_in_sysfs")),
          ("struct kmem_cache_node", "nr_slabs.counter", ("kmem_cache_node", "nr_slabs"), ("atomic_long_t", "counter"))]
# type as the core names it -> as gdb's sizeof wants it
SIZES = {"struct kmem_cache": None, "struct slab": None, "struct page": None,
         "kmem_cache": "struct kmem_cache", "atomic_long_t": None, "enum zone_type": None,
         "unsigned long": None, "_Bool": None, "struct page *": None}
STRUCT_O = ("kmem_cache", "slab", "page")
ENUMERATORS = ["MIGRATE_MOVABLE", "PG_slab", "ZONE_NORMAL", "NR_FREE_PAGES"]
ABSENT = ["member struct slab no_such_member", "member struct kmem_cache node.x",
          "member struct kmem_cache cpu_slab.freelist", "size struct no_such_struct",
          "size jiffies", "enum NO_SUCH_ENUMERATOR", "enum PGTY_slab", "sym no_such_symbol_at_all",
          "vmcoreinfo NO_SUCH_KEY"]


def probe_lines(lines):
    return [l[4:] for l in lines if l.startswith("MDP ")]


# (kernel, type source) pairs the probe runs on.
PROBES = [("6.1", "gdb"), ("6.1", "btf"), ("6.1", "dwarf"), ("6.12", "gdb"), ("6.12", "btf"), ("6.12", "dwarf")]


def types_env(types):
    return {"MEMDIAG_TYPES": types}


@functools.lru_cache(None)
def probe_session(kernel="6.1", types="gdb"):
    so = build_probe()
    outdir = dump(kernel, "leak-tracked", "elf")
    absent = [a for a in ABSENT if not (a == "enum PGTY_slab" and kernel != "6.1")]
    groups = [("load", ["extend " + so]), ("commands", ["mdprobe commands"])]
    for t, m in MEMBERS:
        groups.append(("member %s %s" % (t, m), ["mdprobe member %s %s" % (t, m)]))
    for t, path, _, _ in DOTTED:
        groups.append(("member %s %s" % (t, path), ["mdprobe member %s %s" % (t, path)]))
    for t, c in SIZES.items():
        groups.append(("size " + t, ["mdprobe size " + t, "p sizeof(%s)" % (c or t)]))
    for t in STRUCT_O:
        groups.append(("struct -o " + t, ["struct %s -o" % t]))
    for e in ENUMERATORS:
        groups.append(("enum " + e, ["mdprobe enum " + e, "p (long)" + e]))
    for a in absent:
        groups.append((a, ["mdprobe " + a]))
    groups += [
        ("again", ["mdprobe member struct slab frozen", "mdprobe member struct kmem_cache oo.x"]),
        ("vmcoreinfo", ["mdprobe vmcoreinfo OSRELEASE", "mdprobe vmcoreinfo PAGESIZE"]),
        ("sym", ["mdprobe sym slab_caches", "sym slab_caches"]),
        ("module name", ["mdprobe name leaky_alloc_one 0x10", "sym leaky_alloc_one"]),
        ("kernel name", ["mdprobe name kmem_cache_alloc 0", "mdprobe name slab_caches 8"]),
        ("no name", ["mdprobe addr ffff888000000000", "mdprobe addr 0"]),
        ("read", ["mdprobe read 0", "mdprobe read ffffffffffff0000", "mdprobe read 1000 phys",
                  "mdprobe name slab_caches 0"]),
        ("interrupted", ["mdprobe interrupted"]),
    ]
    if types == "gdb":
        groups += [
            ("gdb fault", ["mdprobe enum MDPROBE_SEGV"]),
            ("gdb fault again", ["mdprobe enum MDPROBE_SEGV"]),
            ("after gdb fault", ["mdprobe enum ZONE_DMA32", "mdprobe member struct list_head prev", "sys"]),
        ]
    if kernel != "6.1":   # crash's own answers are compared on 6.1
        groups = [(k, [c for c in g if c.startswith(("mdprobe", "extend", "sys"))]) for k, g in groups]
    out = run_groups(outdir, groups, env=types_env(types))
    cmds = {}
    for l in probe_lines(out["commands"]):
        kind, _, rest = l.partition(" ")
        if kind == "CMD":
            name, summary, synopsis = rest.split("\t")
            cmds[name] = (summary, synopsis, [])
        elif kind == "HELP":
            name, line = rest.split("\t", 1)
            cmds[name][2].append(line)
    out["commands"] = (out["commands"], cmds)
    return out


@functools.lru_cache(None)
@functools.lru_cache(None)
def pahole(kernel):
    """pahole's DWARF view (lab.Pahole) of the structs MEMBERS and DOTTED
    name, and of the types their dotted paths go through."""
    vmlinux = os.path.join(dump(kernel, "leak-tracked", "elf"), "vmlinux")
    structs = ({t.split()[-1] for t, _ in MEMBERS} | {a[0] for _, _, a, _ in DOTTED} |
               {b[0] for _, _, _, b in DOTTED} | {"atomic64_t"})  # atomic_long_t's
    return Pahole(vmlinux, "dwarf", names=sorted(structs))


def ok(lines, what):
    got = probe_lines(lines)
    assert len(got) == 1 and got[0].startswith("OK "), "%s: %r" % (what, lines)
    return got[0][3:]


def test_target_members_against_pahole():
    for kernel, types in PROBES:
        yield "%s/%s" % (kernel, types), lambda k=kernel, t=types: members_against_pahole(k, t)


def members_against_pahole(kernel, types):
    out = probe_session(kernel, types)
    pa = pahole(kernel)
    for t, m in MEMBERS:
        want = pa.member(t, m)
        got = tuple(int(x) for x in ok(out["member %s %s" % (t, m)], t + "." + m).split())
        assert got == want, "%s.%s: target (bit_offset, bit_size, size) %s, pahole %s" % (t, m, got, want)
    for t, path, _, _ in DOTTED:
        want = pa.member(t, path)  # the outer member's offset plus the inner's
        got = tuple(int(x) for x in ok(out["member %s %s" % (t, path)], path).split())
        assert got == want, "%s.%s: target %s, pahole %s" % (t, path, got, want)
    # Cached answers are the same answers.
    again = [l for l in probe_lines(out["again"])]
    assert again == [probe_lines(out["member struct slab frozen"])[0],
                     probe_lines(out["member struct kmem_cache oo.x"])[0]], again
    for t in SIZES:
        if t.startswith("struct ") and not t.endswith("*"):
            got = int(ok(out["size " + t], t))
            assert got == pa.size(t), "%s: target %d, pahole %s" % (t, got, pa.size(t))


def test_target_members_against_crash_struct_o():
    """crash's `struct -o` prints byte offsets (a bit-field's rounded down)."""
    for types in ("gdb", "btf"):
        yield types, lambda t=types: members_against_struct_o(t)


def members_against_struct_o(types):
    out = probe_session("6.1", types)
    checked = 0
    for t in STRUCT_O:
        offsets = {}
        for l in out["struct -o " + t]:
            m = re.match(r"^\s*\[(\d+)\]\s.*?\b(\w+)(?:\[\d+\])*(?:\s*:\s*\d+)?;$", l)
            if m:
                offsets.setdefault(m.group(2), int(m.group(1)))
        assert offsets, "crash printed no struct %s" % t
        for tt, m in MEMBERS:
            if tt == "struct " + t:
                got = int(ok(out["member %s %s" % (tt, m)], m).split()[0])
                assert got // 8 == offsets[m], "%s.%s: target bit %d, crash byte %d" % (t, m, got, offsets[m])
                checked += 1
    assert checked >= 15, checked


def test_target_sizes_and_enumerators_against_crash():
    for types in ("gdb", "btf"):
        yield types, lambda t=types: sizes_and_enumerators_against_crash(t)


def sizes_and_enumerators_against_crash(types):
    out = probe_session("6.1", types)
    pa = pahole("6.1")
    for t in SIZES:
        got = int(ok(out["size " + t], t))
        printed = [l for l in out["size " + t] if l.startswith("$")]
        assert printed and re.match(r"^\$\d+ = %d$" % got, printed[0]), "sizeof(%s): target %d, crash %r" % (t, got, printed)
        if t.startswith("struct ") and not t.endswith("*"):
            assert got == pa.size(t), "%s: target %d, pahole %s" % (t, got, pa.size(t))
    for e in ENUMERATORS:
        got = int(ok(out["enum " + e], e))
        printed = [l for l in out["enum " + e] if l.startswith("$")]
        assert printed and re.match(r"^\$\d+ = %d$" % got, printed[0]), "%s: target %d, crash %r" % (e, got, printed)


def test_target_absent_names_are_lookup_errors():
    for kernel, types in PROBES:
        yield "%s/%s" % (kernel, types), lambda k=kernel, t=types: absent_names(k, t)


def absent_names(kernel, types):
    out = probe_session(kernel, types)
    for a in ABSENT:
        if a not in out:
            continue
        got = probe_lines(out[a])
        # MD_ERR_LOOKUP is 3 (lib/error.h); 6.1 has no PGTY_slab (6.12 has).
        assert len(got) == 1 and got[0].startswith("ERR 3 "), "%s: %r" % (a, out[a])


def test_target_symbols_names_vmcoreinfo_reads():
    out = probe_session()
    meta = info(dump("6.1", "leak-tracked", "elf"))
    vmci = probe_lines(out["vmcoreinfo"])
    assert vmci == ["OK " + meta["kernel_release"], "OK 4096"], vmci
    addr = ok(out["sym"][:1], "sym slab_caches")
    assert any(re.match(r"^%s \(\w\) slab_caches$" % addr, l) for l in out["sym"]), out["sym"]
    # A module address: " [module]"; crash's own `sym` names the same module.
    name = probe_lines(out["module name"])
    assert name == ["OK leaky_alloc_one+0x10 [leaky]"], out["module name"]
    assert any(l.rstrip().endswith("leaky_alloc_one [leaky]") for l in out["module name"]), out["module name"]
    assert probe_lines(out["kernel name"]) == ["OK kmem_cache_alloc+0x0", "OK slab_caches+0x8"], out["kernel name"]
    assert [l[:6] for l in probe_lines(out["no name"])] == ["ERR 3 "] * 2, out["no name"]
    reads = probe_lines(out["read"])
    assert reads[0].startswith("ERR 2 ") and "0x0" in reads[0], reads     # MD_ERR_FAULT names the address
    assert reads[1].startswith("ERR 2 ") and "0xffffffffffff0000" in reads[1], reads
    assert reads[2].startswith("OK "), reads
    assert reads[3].startswith("OK "), reads
    assert probe_lines(out["interrupted"]) == ["OK 0"], out["interrupted"]


# --- gdb's types on 6.12, and a fault inside gdb ---------------------------------

def test_gdb_types_on_6_12():
    """With gdb's types forced (MEMDIAG_TYPES=gdb) on 6.12, slableak prints
    what it prints with the vmlinux's BTF.  (crash 8.0.2's gdb segfaulted on
    nearly every 6.12 type look-up while crash ran on the heap its start-up
    corrupted; tests/crash_malloc0.c keeps that heap whole.)"""
    so = build()
    out = {t: run_groups(dump("6.12", "leak-tracked", "elf"),
                         [("load", ["extend " + so]), ("slableak", ["slableak -n 3"]),
                          ("kmem", ["kmem -s kmalloc-128"])], env=types_env(t))
           for t in ("gdb", "btf")}
    assert out["gdb"]["load"] == LOADED, out["gdb"]["load"]
    no_crash_trouble(out["gdb"]["slableak"], "slableak with gdb's types on 6.12")
    assert len(out["btf"]["slableak"]) >= 4 and any("OBJSIZE" in l for l in out["btf"]["slableak"][:3]), \
        out["btf"]["slableak"]
    assert out["gdb"]["slableak"] == out["btf"]["slableak"], (out["gdb"]["slableak"], out["btf"]["slableak"])
    assert any(l.endswith(" kmalloc-128") for l in out["gdb"]["kmem"]), out["gdb"]["kmem"]


def test_gdb_fault_is_remembered():
    """A look-up gdb faults in (the probe's MDPROBE_SEGV): crash catches the
    SIGSEGV and goes on; asking again is an error naming the fault, without
    asking gdb (which would fault again); other look-ups still work."""
    for kernel, types in PROBES:
        if types == "gdb":
            yield kernel, lambda k=kernel: gdb_fault_is_remembered(k)


def gdb_fault_is_remembered(kernel):
    out = probe_session(kernel, "gdb")
    assert probe_lines(out["gdb fault"]) == [], out["gdb fault"]
    assert any("segmentation violation" in l for l in out["gdb fault"]), out["gdb fault"]
    again = probe_lines(out["gdb fault again"])
    # MD_ERR_FORMAT is 6 (lib/error.h).
    assert again == ["ERR 6 crash's gdb crashed looking up enumerator MDPROBE_SEGV: "
                     "this crash cannot read this vmlinux's types"], out["gdb fault again"]
    after = probe_lines(out["after gdb fault"])
    assert len(after) == 2 and all(l.startswith("OK ") for l in after), out["after gdb fault"]
    assert any(l.lstrip().startswith("RELEASE: ") for l in out["after gdb fault"]), out["after gdb fault"]


def test_every_command_in_both_crashes():
    """memdiag.so in crash 8.0.2 (Debian 12's) and crash 9.0.2 (the lab's sid
    chroot), one session each on every kernel line's oom dump: every command
    prints exactly what the standalone program prints.  crash 8.0.2 starts on
    7.x only with --no_kmem_cache, and neither crash walks 7.x's slab caches
    itself: there the extension is crash users' slab answer (README)."""
    for k in KERNELS:
        for version in CRASHES:
            yield "%s/%s" % (k, version), lambda k=k, v=version: every_command(k, v)


def every_command(kernel, version):
    build()
    out = dump(kernel, "oom", "kdump")
    outputs, session = extension_session(out, version)
    assert "memdiag.so: shared object loaded" in session, session[-3000:]
    for command in EXTENSION_COMMANDS:
        p = subprocess.run([os.path.join(REPO, "build", "memdiag"), os.path.join(out, "vmlinux"),
                            os.path.join(out, "vmcore")] + command.split(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=600)
        assert p.returncode == 0, (command, p.stderr)
        assert len(p.stdout.splitlines()) > 5, (command, p.stdout)
        assert outputs[command] == p.stdout, "%s in crash %s differs from the standalone program:\n%s" % (
            command, version, "\n".join(difflib.unified_diff(p.stdout.splitlines(), outputs[command].splitlines(),
                                                            "standalone", "crash " + version, lineterm="", n=1))[:3000]
            + "\ncrash's own output:\n" + session[-2000:])
