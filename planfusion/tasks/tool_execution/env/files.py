"""A small file system: state {"dirs": [sorted absolute paths], "files": {absolute path: text}}; "/" always exists."""

from __future__ import annotations

import bisect
from typing import Any

from planfusion.tasks.tool_execution.env.base import State, Tool, require, tool
from planfusion.tasks.tool_execution.env.schema import boolean, string

BACKEND = "files"


def parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def basename(path: str) -> str:
    return path.rsplit("/", 1)[1]


def _valid(path: str) -> str:
    require(path.startswith("/") and (path == "/" or not path.endswith("/")) and "//" not in path,
            f"invalid path {path!r}: use an absolute path without a trailing slash")
    return path


def _is_dir(state: State, path: str) -> bool:
    return path == "/" or path in state["dirs"]


def _need_file(state: State, path: str) -> str:
    require(_valid(path) in state["files"], f"no such file: {path}")
    return path


def _free_target(state: State, source: str, destination: str) -> str:
    """Where a copy or move lands: into ``destination`` if it is a directory, else at that path."""
    target = _valid(destination)
    if _is_dir(state, target):
        target = ("" if target == "/" else target) + "/" + basename(source)
    require(_is_dir(state, parent(target)), f"no such directory: {parent(target)}")
    require(target not in state["files"] and target not in state["dirs"], f"already exists: {target}")
    return target


def list_dir(state: State, path: str) -> dict[str, Any]:
    require(_is_dir(state, _valid(path)), f"no such directory: {path}")
    start = len(path) + (path != "/")
    names = [p[start:] for p in state["files"] if parent(p) == path]
    names += [d[start:] + "/" for d in state["dirs"] if parent(d) == path]
    return {"path": path, "entries": sorted(names)}


def read_file(state: State, path: str) -> dict[str, Any]:
    return {"path": path, "content": state["files"][_need_file(state, path)]}


def file_info(state: State, path: str) -> dict[str, Any]:
    content = state["files"][_need_file(state, path)]
    return {"path": path, "size": len(content.encode("utf-8")), "lines": len(content.splitlines())}


def find_files(state: State, directory: str, contains: str) -> dict[str, Any]:
    require(_is_dir(state, _valid(directory)), f"no such directory: {directory}")
    require(contains != "", "contains must not be empty")
    prefix = "/" if directory == "/" else directory + "/"
    matches = sorted(p for p, text in state["files"].items() if p.startswith(prefix) and contains in text)
    return {"directory": directory, "contains": contains, "matches": matches}


def write_file(state: State, path: str, content: str, overwrite: bool = False) -> dict[str, Any]:
    require(_is_dir(state, parent(_valid(path))), f"no such directory: {parent(path)}")
    require(path not in state["dirs"], f"is a directory: {path}")
    require(overwrite or path not in state["files"], f"already exists: {path} (pass overwrite=true to replace it)")
    state["files"][path] = content
    return {"path": path, "size": len(content.encode("utf-8"))}


def append_file(state: State, path: str, content: str) -> dict[str, Any]:
    text = state["files"][_need_file(state, path)] + content
    state["files"][path] = text
    return {"path": path, "size": len(text.encode("utf-8"))}


def copy_file(state: State, source: str, destination: str) -> dict[str, Any]:
    target = _free_target(state, _need_file(state, source), destination)
    state["files"][target] = state["files"][source]
    return {"source": source, "path": target}


def move_file(state: State, source: str, destination: str) -> dict[str, Any]:
    target = _free_target(state, _need_file(state, source), destination)
    state["files"][target] = state["files"].pop(source)
    return {"source": source, "path": target}


def delete_file(state: State, path: str) -> dict[str, Any]:
    del state["files"][_need_file(state, path)]
    return {"deleted": path}


def make_dir(state: State, path: str) -> dict[str, Any]:
    require(_valid(path) != "/" and not _is_dir(state, path) and path not in state["files"], f"already exists: {path}")
    require(_is_dir(state, parent(path)), f"no such directory: {parent(path)}")
    bisect.insort(state["dirs"], path)
    return {"created": path}


_PATH = string("absolute path, e.g. /projects/notes.txt")
TOOLS: tuple[Tool, ...] = (
    tool(BACKEND, list_dir, "List the entries of a directory (sub-directories end with '/').",
         {"path": string("absolute directory path")}, ("path",), writes=False),
    tool(BACKEND, read_file, "Read the full text of a file.", {"path": _PATH}, ("path",), writes=False),
    tool(BACKEND, file_info, "Size in bytes and number of lines of a file.", {"path": _PATH}, ("path",), writes=False),
    tool(BACKEND, find_files, "Paths of all files under a directory (recursively) whose text contains a string.",
         {"directory": string("absolute directory path"), "contains": string("text to look for")},
         ("directory", "contains"), writes=False),
    tool(BACKEND, write_file, "Create a file; replacing an existing one needs overwrite=true.",
         {"path": _PATH, "content": string("full text of the file"),
          "overwrite": boolean("replace the file if it exists (default false)")}, ("path", "content"), writes=True),
    tool(BACKEND, append_file, "Append text to the end of an existing file.",
         {"path": _PATH, "content": string("text to append")}, ("path", "content"), writes=True),
    tool(BACKEND, copy_file, "Copy a file to a new path or into a directory.",
         {"source": _PATH, "destination": string("target path or directory")}, ("source", "destination"), writes=True),
    tool(BACKEND, move_file, "Move or rename a file to a new path or into a directory.",
         {"source": _PATH, "destination": string("target path or directory")}, ("source", "destination"), writes=True),
    tool(BACKEND, delete_file, "Delete a file.", {"path": _PATH}, ("path",), writes=True),
    tool(BACKEND, make_dir, "Create a directory (its parent must exist).",
         {"path": string("absolute directory path")}, ("path",), writes=True),
)
