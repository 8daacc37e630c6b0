"""Goal templates over the file system: follow pointers, archive, back up, measure, bump, clean, report."""

from __future__ import annotations

from planfusion.tasks.tool_execution.env.files import basename, parent
from planfusion.tasks.tool_execution.scenarios.session import Obs, Piece, Session, needs, read_field

FIELDS = ("owner", "status", "budget")


def _docs(s: Session) -> list[str]:
    return [p for p in s.state["files"]["files"] if p.startswith("/projects/") and p.endswith(".txt")]


def _moves(s: Session, think: str, name: str, specs: list[tuple[str, dict, tuple[Obs, ...]]]) -> None:
    """Independent writes: sometimes one message with parallel calls, sometimes one call per message."""
    if len(specs) > 1 and s.rng.random() < 0.4:
        s.parallel(think, specs)
        return
    for i, (tool, arguments, uses) in enumerate(specs):
        s.call(think if i == 0 else f"Next: {name} {next(iter(arguments.values()))}.", tool, arguments, *uses)


def _ensure_dir(s: Session, path: str, think: str, *uses: Obs) -> tuple[Obs, ...]:
    """List the parent before relying on ``path``, and create it if the listing lacks it: the agent
    learns that a directory is missing from a tool, never from the hidden world."""
    listing = s.call(think, "list_dir", {"path": parent(path)}, *uses)
    if basename(path) + "/" in listing["entries"]:
        return (listing,)
    return (listing, s.call(f"{path} does not exist yet; creating it.", "make_dir", {"path": path}, listing))


@needs(2)
def follow_pointer(s: Session) -> Piece | None:
    files = s.state["files"]["files"]
    pointers = [p for p in files if p.endswith("/CURRENT") and read_field(files[p], "current") in files]
    if not pointers or s.budget < 2:
        return None
    pointer = s.rng.choice(pointers)
    project, want = pointer.split("/")[2], s.rng.choice(FIELDS)
    first = s.call(f"The CURRENT file in /projects/{project} says which document is current; reading it.",
                   "read_file", {"path": pointer})
    target = read_field(first["content"], "current")
    doc = s.call(f"It points to {target}; I will read that file to get the {want}.", "read_file", {"path": target}, first)
    s.output(f"{project}_current", first, "content", extract="field:current", label=f"the current {project} document")
    value = s.output(f"{project}_{want}", doc, "content", extract=f"field:{want}", label=f"its {want}")
    s.remember("file", target, first, f"the current {project} document")
    request = s.rng.choice((f"Which document is the current one for project {project}? Give me its path and its {want}.",
                            f"Find the current {project} document (its folder has a CURRENT pointer) and tell me its {want}."))
    return Piece(request, f"The current {project} document is {target}; its {want} is {value}.")


@needs(3)
def archive_done(s: Session) -> Piece | None:
    fs = s.state["files"]
    options = []
    for project in sorted(d.split("/")[2] for d in fs["dirs"] if d.startswith("/projects/")):
        done = [p for p, text in fs["files"].items() if p.startswith(f"/projects/{project}/") and "status: done" in text]
        target = f"/archive/{project}"
        if target in fs["files"] or any(f"{target}/{basename(p)}" in fs["files"] for p in done):
            continue
        size = 2 + len(done) + (target not in fs["dirs"])
        if done and len(done) <= 4 and size <= s.budget:
            options.append((project, target))
    if not options:
        return None
    project, target = s.rng.choice(options)
    found = s.call(f"I need every document in /projects/{project} whose status is done.", "find_files",
                   {"directory": f"/projects/{project}", "contains": "status: done"})
    uses = (found, *_ensure_dir(s, target, f"{len(found['matches'])} done document(s); checking whether {target} exists."))
    _moves(s, f"Moving the done documents into {target}.", "moving",
           [("move_file", {"source": path, "destination": target}, uses) for path in found["matches"]])
    count = s.output(f"{project}_archived", found, "matches", extract="len",
                     label=f"the number of done {project} documents archived")
    request = s.rng.choice((f"Archive the finished work of project {project}: move every document whose status is "
                            f"done into {target}.",
                            f"Move all done documents of {project} to {target}, and tell me how many you moved."))
    return Piece(request, f"I moved {count} done document(s) of {project} into {target}: "
                          f"{', '.join(basename(p) for p in found['matches'])}.")


@needs(3)
def backup_file(s: Session) -> Piece | None:
    fs = s.state["files"]
    conf = fs["files"].get("/config/backup.conf")
    if conf is None:
        return None
    backup_dir = read_field(conf, "backup_dir")
    size = 3 + (backup_dir not in fs["dirs"])
    if backup_dir in fs["files"] or size > s.budget:
        return None
    handle = s.recall("file")
    uses: tuple[Obs, ...] = ()
    if handle is not None and handle[0] in fs["files"] and f"{backup_dir}/{basename(handle[0])}" not in fs["files"]:
        source, uses, what = handle[0], (handle[1],), handle[2]
    else:
        docs = [p for p in _docs(s) if parent(p) != backup_dir and f"{backup_dir}/{basename(p)}" not in fs["files"]]
        if not docs:
            return None
        source = s.rng.choice(docs)
        what = source
    conf_obs = s.call("The backup location is configured in /config/backup.conf; reading it.", "read_file",
                      {"path": "/config/backup.conf"})
    uses += (conf_obs, *_ensure_dir(s, backup_dir, f"Backups go to {backup_dir}; checking that it exists.", conf_obs))
    copied = s.call(f"Copying {source} into {backup_dir}.", "copy_file", {"source": source, "destination": backup_dir},
                    *uses)
    path = s.output("backup_path", copied, "path", label="the backup copy")
    request = s.rng.choice((f"Back up {what} to the backup directory configured in /config/backup.conf.",
                            f"Please copy {what} into our configured backup folder and tell me where the copy is."))
    return Piece(request, f"Backed up {source} to {path}.")


@needs(3)
def largest_file(s: Session) -> Piece | None:
    fs = s.state["files"]
    options = []
    for directory in fs["dirs"]:
        sizes = {p: len(t.encode("utf-8")) for p, t in fs["files"].items() if parent(p) == directory}
        top = sorted(sizes.values())
        if 2 <= len(sizes) <= 4 and top[-1] != top[-2] and 1 + len(sizes) <= s.budget:
            options.append(directory)
    if not options:
        return None
    directory = s.rng.choice(options)
    listing = s.call(f"First the contents of {directory}.", "list_dir", {"path": directory})
    names = [n for n in listing["entries"] if not n.endswith("/")]
    infos = s.parallel(f"{len(names)} files; I will get the size of each.",
                       [("file_info", {"path": f"{directory}/{n}"}, (listing,)) for n in names])
    best = max(infos, key=lambda o: o["size"])
    path = s.output("largest_file", best, "path", label=f"the largest file in {directory}")
    size = s.output("largest_size", best, "size", label="its size in bytes")
    request = s.rng.choice((f"Which file in {directory} is the largest, and how many bytes is it?",
                            f"Find the biggest file directly inside {directory} and report its size."))
    return Piece(request, f"The largest file in {directory} is {path} with {size} bytes.")


@needs(2)
def bump_build(s: Session) -> Piece | None:
    versions = [p for p in s.state["files"]["files"] if p.endswith("/VERSION")]
    if not versions or s.budget < 2:
        return None
    path = s.rng.choice(versions)
    project = path.split("/")[2]
    read = s.call(f"Reading the current build number of {project}.", "read_file", {"path": path})
    build = int(read_field(read["content"], "build")) + 1
    written = s.call(f"The build is {build - 1}; writing {build} back.", "write_file",
                     {"path": path, "content": f"build: {build}\n", "overwrite": True}, read)
    new = s.output(f"{project}_build", written, "content", where="arguments", extract="field:build",
                   label=f"the new {project} build number")
    request = s.rng.choice((f"Bump the build number of {project} by one (it is in {path}).",
                            f"Increase {project}'s build number in {path} and tell me the new value."))
    return Piece(request, f"The build number of {project} is now {new}.")


@needs(3)
def clean_tmp(s: Session) -> Piece | None:
    entries = [p for p in s.state["files"]["files"] if parent(p) == "/tmp"]
    stale = [p for p in entries if p.endswith(".tmp")]
    if not stale or len(stale) + 2 > s.budget:
        return None
    listing = s.call("Listing /tmp to see which files are temporary.", "list_dir", {"path": "/tmp"})
    doomed = [f"/tmp/{n}" for n in listing["entries"] if n.endswith(".tmp")]
    _moves(s, f"{len(doomed)} .tmp file(s) to delete.", "deleting",
           [("delete_file", {"path": p}, (listing,)) for p in doomed])
    after = s.call("Listing /tmp again to confirm what is left.", "list_dir", {"path": "/tmp"})
    left = s.output("tmp_files_left", after, "entries", extract="len", label="the number of files left in /tmp")
    request = s.rng.choice(("Delete every .tmp file in /tmp, then tell me how many files remain there.",
                            "Clean the temporary .tmp files out of /tmp and report how many entries are left."))
    return Piece(request, f"Deleted {len(doomed)} .tmp file(s) from /tmp; {left} file(s) remain.")


@needs(2)
def owner_report(s: Session) -> Piece | None:
    fs = s.state["files"]
    owners = sorted({read_field(fs["files"][p], "owner") for p in _docs(s) if "owner: " in fs["files"][p]})
    owners = [o for o in owners if f"/reports/{o.lower().replace(' ', '-')}.txt" not in fs["files"]]
    if not owners or s.budget < 2 or "/reports" not in fs["dirs"]:
        return None
    owner = s.rng.choice(owners)
    report = f"/reports/{owner.lower().replace(' ', '-')}.txt"
    found = s.call(f"Searching all projects for documents owned by {owner}.", "find_files",
                   {"directory": "/projects", "contains": f"owner: {owner}"})
    s.call(f"{len(found['matches'])} document(s); writing the list to {report}.", "write_file",
           {"path": report, "content": "".join(f"{p}\n" for p in found["matches"])}, found)
    count = s.output("owned_documents", found, "matches", extract="len", label=f"the number of documents {owner} owns")
    request = s.rng.choice((f"Write a list of every project document owned by {owner} to {report}, one path per line.",
                            f"How many project documents does {owner} own? Save their paths to {report}."))
    return Piece(request, f"{owner} owns {count} document(s); the list is in {report}.")


@needs(2)
def promote_draft(s: Session) -> Piece | None:
    files = s.state["files"]["files"]
    drafts = [p for p in _docs(s) if "status: draft" in files[p]]
    if not drafts or s.budget < 2:
        return None
    path = s.rng.choice(drafts)
    read = s.call(f"Reading {path} so I can change only its status line.", "read_file", {"path": path})
    s.call("Rewriting the file with status review and everything else unchanged.", "write_file",
           {"path": path, "content": read["content"].replace("status: draft", "status: review", 1), "overwrite": True},
           read)
    owner = s.output("reviewer_to_ping", read, "content", extract="field:owner", label=f"the owner of {path}")
    request = s.rng.choice((f"Move {path} from draft to review by editing its status line, and tell me its owner.",
                            f"Set the status of {path} to review (keep the rest of the file) and tell me who owns it."))
    return Piece(request, f"{path} is now in review; its owner is {owner}.")


def read_detail(s: Session) -> Piece | None:
    handle = s.recall("file")
    files = s.state["files"]["files"]
    want = s.rng.choice(FIELDS)
    if (handle is not None and handle[0] in files and f"{want}: " in files[handle[0]]
            and not s.repeats("read_file", {"path": handle[0]})):
        path, uses, what = handle[0], (handle[1],), handle[2]
    else:
        docs = [p for p in _docs(s) if f"{want}: " in files[p] and not s.repeats("read_file", {"path": p})]
        if not docs:
            return None
        path = s.rng.choice(docs)
        uses, what = (), path
    read = s.call(f"Reading {path} for its {want}.", "read_file", {"path": path}, *uses)
    value = s.output(want, read, "content", extract=f"field:{want}", label=f"the {want} of {path}")
    return Piece(f"What is the {want} of {what}?", f"The {want} of {path} is {value}.")


def count_entries(s: Session) -> Piece | None:
    directory = s.rng.choice([d for d in s.state["files"]["dirs"] if not s.repeats("list_dir", {"path": d})])
    listing = s.call(f"Listing {directory}.", "list_dir", {"path": directory})
    count = s.output("entries", listing, "entries", extract="len", label=f"the number of entries in {directory}")
    return Piece(f"How many entries are in {directory}?", f"{directory} has {count} entries.")


TEMPLATES = (follow_pointer, archive_done, backup_file, largest_file, bump_build, clean_tmp, owner_report,
             promote_draft)
FILLERS = (read_detail, count_entries)
