"""`make publish` deploys the built site to the gh-pages branch of a remote (a local bare repository)."""
import shutil
import subprocess

import pytest

from helpers import PY, ROOT, SKIP_NOTEBOOK, subprocess_env

KATEX = "docs/vendor/katex/katex.min.js"


def git(cwd, *args, env):
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("git") is None or shutil.which("make") is None, reason="needs git and make")
def test_make_publish_to_bare_repo(built_site, project_copy_factory, tmp_path):
    if not (ROOT / KATEX).exists():
        pytest.skip(f"{KATEX} missing in the source tree (run `make setup`); publish needs the KaTeX files")
    # The build's cache comes along, so `make publish`'s figures step is a no-op rebuild.
    root = project_copy_factory("publish", source=built_site.root, with_build=True)
    shutil.rmtree(root / "site", ignore_errors=True)
    # Only this test's own repositories: no global or system git configuration, no other remote.
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    # SKIP_NOTEBOOK: the deployed notebook page is built, its cells not run (no test reads it here).
    env = subprocess_env(GIT_CONFIG_GLOBAL=str(empty), GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0",
                         HOME=str(tmp_path), **SKIP_NOTEBOOK)
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", str(bare), env=env)
    git(root, "init", "--quiet", "-b", "main", env=env)
    git(root, "config", "user.name", "Test", env=env)
    git(root, "config", "user.email", "test@example.invalid", env=env)
    git(root, "add", "-A", env=env)
    git(root, "commit", "--quiet", "-m", "snapshot", env=env)
    git(root, "remote", "add", "origin", str(bare), env=env)
    assert git(root, "remote", env=env).split() == ["origin"]

    # -o: the copied KaTeX files count as up to date (no npm in a test).
    proc = subprocess.run(["make", "-o", KATEX, "publish", f"PY={PY}", "PROFILE=tiny", "REMOTE=origin"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "build: 0 computed" in proc.stdout  # the figures came from the cache

    files = git(bare, "ls-tree", "-r", "--name-only", "gh-pages", env=env).split("\n")
    assert "index.html" in files
    assert any(f.startswith("generated/") and f.endswith(".jpg") for f in files)
    assert any(f.startswith("vendor/katex/") for f in files)
    index = git(bare, "show", "gh-pages:index.html", env=env)
    assert "<html" in index.lower()
    # the working branch is untouched and was not pushed
    assert git(bare, "branch", "--format=%(refname:short)", env=env).split() == ["gh-pages"]
