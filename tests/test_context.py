"""Build contexts, decided as the docker CLI (20.10) decides: pure, no engine.

`read_dockerignore` follows moby's ignorefile.ReadAll, `PatternMatcher` moby's
fileutils.PatternMatcher, `select_files` archive.TarWithOptions. The engine tests
(test_build_engine.py) compare whole contexts against the CLI on a real engine; these pin the rules.
"""
from __future__ import annotations

import os
import tarfile

import pytest

from nbdocker.build import context
from nbdocker.build.context import (CELL_DOCKERFILE, PatternError, PatternMatcher, go_clean,
                              read_dockerignore, select_files)

_OPENED: list = []


def build_context(*args, **kwargs):
    """The context tar, closed after the test (the suite runs with ResourceWarning as an error)."""
    tar = context.build_context(*args, **kwargs)
    _OPENED.append(tar)
    return tar


@pytest.fixture(autouse=True)
def _close_contexts():
    yield
    while _OPENED:
        _OPENED.pop().close()

# ---------------------------------------------------------------- reading .dockerignore


def test_comments_only_at_column_zero():
    text = "# a comment\n  # not a comment\n#also a comment\n\t#pattern too\n"
    assert read_dockerignore(text) == ["# not a comment", "#pattern too"]


def test_a_bom_is_dropped_on_the_first_line_only():
    assert read_dockerignore("\ufeff# comment\nx\n") == ["x"]  # the BOM does not hide the comment
    assert read_dockerignore("\ufeffa\n\ufeffb\n") == ["a", "\ufeffb"]


def test_blank_lines_and_surrounding_space_are_dropped():
    assert read_dockerignore("\n   \n  a  \n\t\n") == ["a"]


def test_exceptions_keep_their_bang_and_are_cleaned():
    assert read_dockerignore("!keep\n! spaced \n!./x/../y/\n") == ["!keep", "!spaced", "!y"]


def test_a_lone_bang_is_kept_for_the_matcher_to_refuse():
    assert read_dockerignore("!\n") == ["!"]
    with pytest.raises(PatternError, match="illegal exclusion"):
        PatternMatcher(["!"])


@pytest.mark.parametrize("line, pattern", [
    ("/abs/path", "abs/path"),  # a leading / means the context's root
    ("//double", "double"),
    ("./a/./b//c/", "a/b/c"),
    ("a/../../b", "../b"),
    ("/", "/"),  # only a longer pattern loses its leading slash
    ("/..", "/"),
    (".", "."),
    ("dir/", "dir"),
])
def test_patterns_are_cleaned_as_go_cleans_paths(line, pattern):
    assert read_dockerignore(line + "\n") == [pattern]


def test_only_newline_ends_a_line():
    # bufio.ScanLines: "\r\n" is a line end, a lone "\r" is part of the line.
    assert read_dockerignore("a\r\nb\r\n") == ["a", "b"]
    assert read_dockerignore("a\rb\n") == ["a\rb"]
    assert read_dockerignore("a\x0cb\n") == ["a\x0cb"]  # str.splitlines would split here
    assert read_dockerignore("last") == ["last"]


def test_trimming_is_go_trimspace():
    # Go trims Unicode spaces (NBSP, NEL) but not the information separators \x1c-\x1f.
    assert read_dockerignore("\xa0a\x85\n\x1cb\x1f\n") == ["a", "\x1cb\x1f"]


@pytest.mark.parametrize("path, cleaned", [
    ("", "."), ("a//b", "a/b"), ("/../a", "/a"), ("../../a", "../../a"), ("a/b/../..", "."),
    ("//x", "/x"),
])
def test_go_clean(path, cleaned):
    assert go_clean(path) == cleaned


# ---------------------------------------------------------------- matching


def excluded(patterns: list[str], *paths: str) -> list[bool]:
    matcher = PatternMatcher(patterns)
    return [matcher.matches(p) for p in paths]


def test_star_stays_within_one_directory():
    assert excluded(["*.txt"], "a.txt", "d/a.txt") == [True, False]
    assert excluded(["*/*.txt"], "a.txt", "d/a.txt", "d/e/a.txt") == [False, True, False]


def test_double_star_crosses_directories():
    assert excluded(["**/*.pyc"], "a.pyc", "d/a.pyc", "d/e/a.pyc", "a.py") == [True, True, True, False]
    assert excluded(["d/**"], "d", "d/x", "d/e/x", "dx") == [False, True, True, False]
    assert excluded(["d/**/x"], "d/x", "d/e/x", "d/e/f/x", "d/e/y") == [True, True, True, False]


def test_question_mark_and_classes():
    assert excluded(["?.md"], "a.md", "ab.md", "/.md") == [True, False, False]
    assert excluded(["[ab].txt"], "a.txt", "c.txt") == [True, False]
    assert excluded(["[^ab].txt"], "a.txt", "c.txt") == [False, True]


def test_a_directory_pattern_excludes_what_is_inside():
    assert excluded(["build"], "build", "build/x", "build/y/z", "builder") == [True, True, True, False]


def test_the_last_matching_pattern_wins():
    assert excluded(["*.md", "!README.md"], "a.md", "README.md") == [True, False]
    assert excluded(["!README.md", "*.md"], "README.md") == [True]
    assert excluded(["docs", "!docs/keep.md", "docs/keep.md"], "docs/keep.md") == [True]


def test_an_exception_inside_an_excluded_directory():
    assert excluded(["docs", "!docs/keep.md"], "docs", "docs/keep.md", "docs/other.md") == [True, False, True]


def test_backslash_escapes_a_character():
    assert excluded([r"\*.txt"], "*.txt", "a.txt") == [True, False]
    assert excluded([r"a\?"], "a?", "ab") == [True, False]


def test_dots_and_dollars_are_literal():
    assert excluded(["a.c"], "a.c", "abc") == [True, False]
    assert excluded(["$x"], "$x") == [True]


@pytest.mark.parametrize("pattern", ["[", "a[", "[]", "[a-]", "x\\"])
def test_malformed_patterns_are_refused_like_the_cli(pattern):
    with pytest.raises(PatternError):
        PatternMatcher([pattern])


# ---------------------------------------------------------------- walking a directory


@pytest.fixture
def tree(tmp_path):
    for name in ["a.txt", "b.md", "README.md", "docs/keep.md", "docs/drop.md", "docs/sub/x.md",
                 "src/m.py", "src/m.pyc", "src/deep/n.pyc", "build/out.bin", "Dockerfile"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    return tmp_path


def test_select_files_walks_like_the_cli(tree):
    patterns = read_dockerignore("*.md\n!README.md\ndocs\n!docs/keep.md\n**/*.pyc\nbuild\n")
    assert select_files(str(tree), patterns) == [
        "Dockerfile", "README.md", "a.txt", "docs/keep.md", "src", "src/deep", "src/m.py",
    ]  # the excluded directory "docs" itself is not sent, only the file let back in


def test_without_exceptions_an_excluded_directory_is_not_entered(tree):
    assert select_files(str(tree), ["docs", "src/deep", "build", "*.md"]) == [
        "Dockerfile", "a.txt", "src", "src/m.py", "src/m.pyc",
    ]


def test_an_exception_pattern_with_a_wildcard_does_not_reopen_a_directory(tree):
    # The CLI enters an excluded directory only when an exception *starts with* its path.
    assert "docs/keep.md" not in select_files(str(tree), ["docs", "!*/keep.md"])


def test_symlinks_are_sent_as_links_and_not_followed(tree):
    os.symlink("docs", tree / "link")
    files = select_files(str(tree), [])
    assert "link" in files and not any(f.startswith("link/") for f in files)


# ---------------------------------------------------------------- the tar


def members(fileobj) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=fileobj) as tar:
        return {m.name.rstrip("/"): m for m in tar.getmembers()}


def read_member(fileobj, name: str) -> str:
    fileobj.seek(0)
    with tarfile.open(fileobj=fileobj) as tar:
        return tar.extractfile(name).read().decode()


def test_without_a_directory_the_context_is_the_dockerfile_alone():
    tar = build_context(None, "Dockerfile", "FROM busybox\n", "buildkit")
    assert list(members(tar)) == ["Dockerfile"]
    assert read_member(tar, "Dockerfile") == "FROM busybox\n"


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_the_first_member_is_readable_from_the_first_1024_bytes(tree, builder):
    # Engine 20.10's BuildKit reads only 1,024 bytes to decide "tar or Dockerfile": a PAX record
    # before the first member (Python adds one for a float mtime) made it parse the tar as a
    # Dockerfile. Long and non-ASCII names still get their PAX records, later in the tar.
    (tree / ("é" * 120)).write_text("x")
    for text in (None, "FROM busybox\n"):
        tar = build_context(str(tree), CELL_DOCKERFILE if text else "Dockerfile", text, builder)
        head = tar.read(1024)
        first = tarfile.TarInfo.frombuf(head[:512], "utf-8", "surrogateescape")
        assert first.type in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE)
        assert not first.name.startswith("././@")
        tar.seek(0)
        names = members(tar)
        assert "é" * 120 in names


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_members_are_owned_by_root_with_whole_second_mtimes(tree, builder):
    os.utime(tree / "a.txt", (1_600_000_000.75, 1_600_000_000.75))
    got = members(build_context(str(tree), "Dockerfile", None, builder))
    assert all(m.uid == 0 and m.gid == 0 and m.uname == "" and m.gname == "" for m in got.values())
    assert got["a.txt"].mtime == 1_600_000_000
    assert not any(m.pax_headers for m in got.values())


def test_classic_lists_the_cells_dockerfile_in_the_dockerignore_it_sends(tree):
    # The CLI's AddDockerfileToBuildContext: the engine then leaves the Dockerfile out of COPY.
    tar = build_context(str(tree), CELL_DOCKERFILE, "FROM busybox\n", "classic")
    assert CELL_DOCKERFILE in members(tar)
    assert read_member(tar, ".dockerignore") == f".dockerignore\n{CELL_DOCKERFILE}\n"
    (tree / ".dockerignore").write_text("*.md")
    tar = build_context(str(tree), CELL_DOCKERFILE, "FROM busybox\n", "classic")
    assert read_member(tar, ".dockerignore") == f"*.md\n{CELL_DOCKERFILE}\n"
    assert "b.md" not in members(tar)


def test_buildkit_sends_the_tar_as_the_cli_would_copy_it(tree):
    # BuildKit through the API copies the tar as it is: nothing is added, a .dockerignore that
    # excludes itself is not sent.
    (tree / ".dockerignore").write_text(".dockerignore\nb.md\n")
    got = members(build_context(str(tree), CELL_DOCKERFILE, "FROM busybox\n", "buildkit"))
    assert ".dockerignore" not in got and "b.md" not in got and CELL_DOCKERFILE in got
    assert read_member(build_context(str(tree), CELL_DOCKERFILE, "FROM x\n", "buildkit"),
                       CELL_DOCKERFILE) == "FROM x\n"


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_an_excluded_dockerfile_in_the_context_is_still_sent(tree, builder):
    (tree / "sub").mkdir()
    (tree / "sub" / "my.df").write_text("FROM busybox\n")
    (tree / ".dockerignore").write_text("sub\n*.df\n")
    got = members(build_context(str(tree), "sub/my.df", None, builder))
    assert "sub/my.df" in got
    assert ".dockerignore" in got  # not excluded by itself: sent with both builders


def test_a_classic_context_always_carries_its_dockerignore(tree):
    (tree / ".dockerignore").write_text(".dockerignore\nDockerfile\n")
    got = members(build_context(str(tree), "Dockerfile", None, "classic"))
    # The engine reads both, then leaves them out of COPY because the .dockerignore lists them.
    assert ".dockerignore" in got and "Dockerfile" in got


def test_the_tar_carries_file_contents_and_modes(tree):
    os.chmod(tree / "a.txt", 0o751)
    tar = build_context(str(tree), "Dockerfile", None, "classic")
    assert members(tar)["a.txt"].mode == 0o751
    assert read_member(tar, "docs/keep.md") == "docs/keep.md"


def test_an_unreadable_context_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        build_context(str(tmp_path / "missing"), "Dockerfile", "FROM busybox\n", "classic")


def test_a_bad_pattern_fails_before_anything_is_packed(tree):
    (tree / ".dockerignore").write_text("ok\n[\n")
    with pytest.raises(PatternError, match=r"'\['"):
        build_context(str(tree), "Dockerfile", None, "classic")
