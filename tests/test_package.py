"""What an installation gives a user: `make install` and `make uninstall`
with PREFIX and DESTDIR, the man page, bash completion, and the Debian
packaging's version.

The packages themselves are built and checked in a clean Debian 12 chroot
by `make pkgcheck` (scripts/pkgcheck: dpkg-buildpackage, lintian, install,
`memdiag --version`, `man memdiag`, crash's `extend memdiag.so`), which
takes minutes and is not part of `make check`.
"""

import os
import re
import shutil
import subprocess
import tempfile

from lab import REPO
from test_slab import build

MEMDIAG = os.path.join(REPO, "build", "memdiag")


def makefile_version():
    return re.search(r"^VERSION := (\S+)$", open(os.path.join(REPO, "Makefile")).read(), re.M).group(1)


def commands():
    listing = subprocess.run([MEMDIAG, "--help"], stdout=subprocess.PIPE, text=True, check=True).stdout
    return re.findall(r"^  (\w+) +\1\b", listing, re.M)


def test_install_and_uninstall_honour_prefix_and_destdir():
    """Every file goes under DESTDIR/PREFIX (the crash extension too), and
    uninstall takes every one away again."""
    build("build/memdiag")
    tmp = tempfile.mkdtemp(prefix="memdiag-install-")
    try:
        args = ["make", "-s", "-C", REPO, "DESTDIR=" + tmp, "PREFIX=/opt/md"]
        subprocess.run(args + ["install"], check=True, stdout=subprocess.DEVNULL)
        files = sorted(os.path.relpath(os.path.join(d, f), tmp) for d, _, fs in os.walk(tmp) for f in fs)
        assert files == ["opt/md/bin/memdiag", "opt/md/lib/crash/extensions/memdiag.so",
                         "opt/md/share/bash-completion/completions/memdiag", "opt/md/share/doc/memdiag/json.md",
                         "opt/md/share/doc/memdiag/memdiag.schema.json", "opt/md/share/man/man1/memdiag.1"], files
        p = subprocess.run([os.path.join(tmp, "opt/md/bin/memdiag"), "--version"], stdout=subprocess.PIPE,
                           text=True, check=True)
        assert p.stdout == "memdiag %s\n" % makefile_version(), p.stdout
        subprocess.run(args + ["uninstall"], check=True, stdout=subprocess.DEVNULL)
        left = [os.path.join(d, f) for d, _, fs in os.walk(tmp) for f in fs]
        assert left == [], left
    finally:
        shutil.rmtree(tmp)


def test_man_page_has_every_command():
    """memdiag(1) is made from the help pages: a subsection per command,
    each with its synopsis, rendered by man without a warning."""
    build("build/memdiag")
    subprocess.run(["make", "-s", "-C", REPO, "build/memdiag.1"], check=True)
    p = subprocess.run(["man", "--warnings", "-l", os.path.join(REPO, "build", "memdiag.1")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=dict(os.environ, MANPAGER="cat", MANWIDTH="80"))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    text = p.stdout
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS", "FILES", "SEE ALSO"):
        assert re.search(r"^%s$" % section, text, re.M), section
    names = commands()
    assert len(names) >= 7, names
    for name in names:
        synopsis = subprocess.run([MEMDIAG, "--help", name], stdout=subprocess.PIPE, text=True,
                                  check=True).stdout.split("\nSYNOPSIS\n  ")[1].split("\n")[0]
        assert re.search(r"^   %s$" % name, text, re.M), name
        assert " ".join(synopsis.split()) in " ".join(text.split()), (name, synopsis)
    assert "memdiag %s" % makefile_version() in text


def complete(line):
    """What bash completion offers for a command line (the cursor at its end)."""
    script = """
source /usr/share/bash-completion/bash_completion
source %s
PATH=%s:$PATH
COMP_LINE=%s
COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_memdiag memdiag "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%%s\\n' "${COMPREPLY[@]}"
""" % (os.path.join(REPO, "doc", "memdiag.bash-completion"), os.path.join(REPO, "build"),
       "'" + line.replace("'", "'\\''") + "'")
    p = subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       cwd=tempfile.gettempdir())
    assert p.returncode == 0, p.stderr
    return set(p.stdout.split())


def test_bash_completion():
    """Commands, and each command's own options, come from the program."""
    build("build/memdiag")
    assert "slableak" in complete("memdiag /x/vmcore sl")
    assert set(commands()) <= complete("memdiag /x/vmcore ")
    assert {"-n", "-l", "-u", "--json", "--wide", "-h", "--help"} <= complete("memdiag /x/vmcore slableak -")
    assert {"-z", "-o", "-v"} <= complete("memdiag /x/vmcore buddyfrag -")
    assert {"--json", "--system-map", "--version"} <= complete("memdiag --")


def test_debian_version_is_the_makefiles():
    """The package's version (debian/changelog) is the one --version prints."""
    first = open(os.path.join(REPO, "debian", "changelog")).readline()
    assert re.match(r"^memdiag \(%s\) " % re.escape(makefile_version()), first), first
