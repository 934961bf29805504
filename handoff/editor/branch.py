"""A planned change as a patch, and as a commit on the editor's own branch.

The commit is made with git's plumbing only (objects, a temporary index,
``commit-tree``, ``update-ref``): the working tree, the real index and the
checked-out branch are never touched, so the service can commit while the
project it reads from stays as it is.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from handoff.settings import child_environment
from support_rules.text import fold

if TYPE_CHECKING:
    from handoff.editor.project import Change, Plan

__all__ = ["BranchError", "branch_name", "commit_to_branch", "unified_patch"]

BRANCH_PREFIX = "editor/"
_ZERO = "0" * 40
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class BranchError(RuntimeError):
    """The change cannot be committed to the branch; the message says why."""


def _file_patch(change: Change) -> str:
    lines = [f"diff --git a/{change.path} b/{change.path}\n"]
    for line in difflib.unified_diff(
        change.before.splitlines(keepends=True),
        change.after.splitlines(keepends=True),
        fromfile=f"a/{change.path}",
        tofile=f"b/{change.path}",
    ):
        lines.append(line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n")
    return "".join(lines)


def unified_patch(plan: Plan) -> str:
    """The plan as a patch ``git apply`` takes (a/ and b/ paths, relative to the project root)."""
    return "".join(_file_patch(change) for change in plan.changes)


def branch_name(name: str) -> str:
    """``editor/<slug>``: a name git takes whatever the editor's name is ("Ayşe.Yılmaz" -> editor/ayse-yilmaz)."""
    name = name[len(BRANCH_PREFIX) :] if name.startswith(BRANCH_PREFIX) else name
    slug = _UNSAFE.sub("-", fold(name)).replace("..", ".").strip("-._")
    slug = re.sub(r"[-.]*\.lock$", "", slug).strip("-._") or "change"
    return f"{BRANCH_PREFIX}{slug[:100]}"


def _git(repo: Path, *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None) -> str:
    result = subprocess.run(
        ["git", *args], cwd=repo, env=env, input=stdin, capture_output=True, check=False, timeout=60
    )
    if result.returncode != 0:
        raise BranchError(f"git {args[0]} failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout.decode().strip()


def _blob(repo: Path, sha: str) -> str:
    result = subprocess.run(["git", "cat-file", "blob", sha], cwd=repo, capture_output=True, check=False, timeout=60)
    if result.returncode != 0:
        raise BranchError(f"git cat-file failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout.decode("utf-8", errors="replace")


def _resolve(repo: Path, ref: str) -> str | None:
    result = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=repo, capture_output=True, check=False
    )
    return result.stdout.decode().strip() if result.returncode == 0 else None


def commit_to_branch(repo: Path, plan: Plan, *, branch: str, author_name: str, author_email: str, message: str) -> str:
    """Commits the plan's files on ``editor/<slug of branch>`` and returns the commit's sha.

    The branch starts from the repository's HEAD when it does not exist, else
    the commit goes on its tip. A file that the tip has in the version the
    plan was made from gets the plan's version; one that differs is patched
    (in the temporary index) when the patch applies, else nothing is
    committed and BranchError says so. When the tip already holds every
    change, its sha is returned and no commit is made.
    """
    repo = Path(_git(Path(repo), "rev-parse", "--show-toplevel"))
    ref = f"refs/heads/{branch_name(branch)}"
    _git(repo, "check-ref-format", ref)
    checked_out = subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], cwd=repo, capture_output=True, check=False)
    if checked_out.stdout.decode().strip() == ref:
        raise BranchError(f"{ref[len('refs/heads/') :]} is the branch checked out in {repo}; commit there by hand.")
    tip = _resolve(repo, ref)
    parent = tip or _resolve(repo, "HEAD")
    if parent is None:
        raise BranchError(f"{repo} has no commit to start the branch from.")
    try:
        prefix = Path(plan.root).resolve().relative_to(repo.resolve())
    except ValueError:
        raise BranchError(f"The project {plan.root} is not inside the repository {repo}.") from None
    message = message.strip() or "Editor's change"
    with tempfile.TemporaryDirectory(prefix="editor-index-") as folder:
        env = child_environment({"GIT_INDEX_FILE": str(Path(folder) / "index")})
        _git(repo, "read-tree", parent, env=env)
        for change in plan.changes:
            path = (prefix / change.path).as_posix()
            listed = _git(repo, "ls-tree", parent, "--", path).split()
            mode = listed[0] if listed else "100644"
            current = _blob(repo, listed[2]) if listed else None
            if current == change.after:
                continue
            if current == change.before:
                blob = _git(repo, "hash-object", "-w", "--no-filters", "--stdin", stdin=change.after.encode("utf-8"))
                _git(repo, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}", env=env)
                continue
            patch = _file_patch(change).encode("utf-8")
            directory = ["--directory", prefix.as_posix()] if prefix.parts else []
            try:
                _git(repo, "apply", "--cached", "--reverse", "--check", *directory, "-", env=env, stdin=patch)
                continue  # the tip has this change already
            except BranchError:
                pass
            try:
                _git(repo, "apply", "--cached", *directory, "-", env=env, stdin=patch)
            except BranchError as error:
                raise BranchError(
                    f"{path} on {ref[len('refs/heads/') :]} differs from the version this change was made on: {error}"
                ) from None
        tree = _git(repo, "write-tree", env=env)
    if tree == _git(repo, "rev-parse", f"{parent}^{{tree}}"):
        return parent
    identity = {
        "GIT_AUTHOR_NAME": author_name,
        "GIT_AUTHOR_EMAIL": author_email,
        "GIT_COMMITTER_NAME": author_name,
        "GIT_COMMITTER_EMAIL": author_email,
    }
    commit = _git(repo, "commit-tree", tree, "-p", parent, env=child_environment(identity), stdin=message.encode())
    _git(repo, "update-ref", "-m", f"editor: {message.splitlines()[0]}", ref, commit, tip or _ZERO)
    return commit
