"""Goal templates over the file system: follow pointers, archive, back up, measure, bump, clean, annotate, report."""

from __future__ import annotations

from planfusion.tasks.tool_execution.env.files import basename, parent
from planfusion.tasks.tool_execution.scenarios.session import Obs, Piece, Session, needs, read_field
from planfusion.tasks.tool_execution.scenarios.text import listing, plural
from planfusion.tasks.tool_execution.scenarios.vocab import MEMOS

FIELDS = ("owner", "status", "budget")


def _docs(s: Session) -> list[str]:
    return [p for p in s.state["files"]["files"] if p.startswith("/projects/") and p.endswith(".txt")]


def _projects(s: Session) -> list[str]:
    return sorted(d.split("/")[2] for d in s.state["files"]["dirs"] if d.startswith("/projects/"))


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
    listed = s.call(think, "list_dir", {"path": parent(path)}, *uses)
    if basename(path) + "/" in listed["entries"]:
        return (listed,)
    return (listed, s.call(f"{path} does not exist yet; creating it.", "make_dir", {"path": path}, listed))


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
    request = s.say(f"Which document is the current one for project {project}? Give me its path and its {want}.",
                    f"Find the current {project} document (its folder has a CURRENT pointer) and tell me its {want}.",
                    f"I need the {want} of whatever document is current in {project}, and its path.",
                    f"Look up which {project} document is marked current and read me its {want}.")
    return Piece(request, f"The current {project} document is {target}; its {want} is {value}.")


@needs(3)
def archive_done(s: Session) -> Piece | None:
    fs = s.state["files"]
    options = []
    for project in _projects(s):
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
    uses = (found, *_ensure_dir(s, target, f"{plural(len(found['matches']), 'done document')}; checking whether "
                                           f"{target} exists."))
    _moves(s, f"Moving the done documents into {target}.", "moving",
           [("move_file", {"source": path, "destination": target}, uses) for path in found["matches"]])
    count = s.output(f"{project}_archived", found, "matches", extract="len",
                     label=f"the number of done {project} documents archived")
    request = s.say(f"Archive the finished work of project {project}: move every document whose status is done "
                    f"into {target}.",
                    f"Move all done documents of {project} to {target}, and tell me how many you moved.",
                    f"Project {project} has some documents marked done. Please file them under {target}.",
                    f"Clear the done documents out of /projects/{project} by moving them to {target}; how many were "
                    "there?")
    names = listing([basename(p) for p in found["matches"]])
    return Piece(request, f"I moved {plural(count, 'done document')} of {project} into {target}: {names}.")


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
    request = s.say(f"Back up {what} to the backup directory configured in /config/backup.conf.",
                    f"Please copy {what} into our configured backup folder and tell me where the copy is.",
                    f"Make a backup copy of {what} in the usual backup location.",
                    f"Before anyone edits it, save a copy of {what} to the backup folder and give me the copy's path.")
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
    listed = s.call(f"First the contents of {directory}.", "list_dir", {"path": directory})
    names = [n for n in listed["entries"] if not n.endswith("/")]
    infos = s.parallel(f"{plural(len(names), 'file')}; I will get the size of each.",
                       [("file_info", {"path": f"{directory}/{n}"}, (listed,)) for n in names])
    best = max(infos, key=lambda o: o["size"])
    path = s.output("largest_file", best, "path", label=f"the largest file in {directory}")
    size = s.output("largest_size", best, "size", label="its size in bytes")
    request = s.say(f"Which file in {directory} is the largest, and how many bytes is it?",
                    f"Find the biggest file directly inside {directory} and report its size.",
                    f"Something in {directory} is taking up space. Which file there is biggest, in bytes?",
                    f"Compare the sizes of the files in {directory} and name the largest one.")
    return Piece(request, f"The largest file in {directory} is {path} with {size} bytes.")


@needs(2)
def bump_build(s: Session) -> Piece | None:
    versions = [p for p in s.state["files"]["files"] if p.endswith("/VERSION") and s.pristine("files", "files", p)]
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
    request = s.say(f"Bump the build number of {project} by one (it is in {path}).",
                    f"Increase {project}'s build number in {path} and tell me the new value.",
                    f"We just cut a new {project} build: add one to the number in {path}.",
                    f"Please increment the build counter in {path} and report what it is now.")
    return Piece(request, f"The build number of {project} is now {new}.")


@needs(3)
def clean_tmp(s: Session) -> Piece | None:
    entries = [p for p in s.state["files"]["files"] if parent(p) == "/tmp"]
    stale = [p for p in entries if p.endswith(".tmp")]
    if not stale or len(stale) + 2 > s.budget:
        return None
    first = s.call("Listing /tmp to see which files are temporary.", "list_dir", {"path": "/tmp"})
    doomed = [f"/tmp/{n}" for n in first["entries"] if n.endswith(".tmp")]
    _moves(s, f"{plural(len(doomed), '.tmp file')} to delete.", "deleting",
           [("delete_file", {"path": p}, (first,)) for p in doomed])
    after = s.call("Listing /tmp again to confirm what is left.", "list_dir", {"path": "/tmp"})
    left = s.output("tmp_files_left", after, "entries", extract="len", label="the number of entries left in /tmp")
    request = s.say("Delete every .tmp file in /tmp, then tell me how many entries remain there.",
                    "Clean the temporary .tmp files out of /tmp and report how many entries are left.",
                    "/tmp is cluttered. Remove the .tmp files and let me know what count is left afterwards.",
                    "Please get rid of all the .tmp files under /tmp and then count what remains in it.")
    return Piece(request, f"Deleted {plural(len(doomed), '.tmp file')} from /tmp; {plural(left, 'entry')} remain.")


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
    s.call(f"{plural(len(found['matches']), 'document')}; writing the list to {report}.", "write_file",
           {"path": report, "content": "".join(f"{p}\n" for p in found["matches"])}, found)
    count = s.output("owned_documents", found, "matches", extract="len", label=f"the number of documents {owner} owns")
    request = s.say(f"Write a list of every project document owned by {owner} to {report}, one path per line.",
                    f"How many project documents does {owner} own? Save their paths to {report}.",
                    f"{owner} is leaving the team. Put the paths of all the documents they own into {report}.",
                    f"Collect {owner}'s documents from all projects into a list at {report} and give me the count.")
    return Piece(request, f"{owner} owns {plural(count, 'document')}; the list is in {report}.")


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
    request = s.say(f"Move {path} from draft to review by editing its status line, and tell me its owner.",
                    f"Set the status of {path} to review (keep the rest of the file) and tell me who owns it.",
                    f"{path} is ready for review. Update its status and tell me whom to ping about it.",
                    f"Change the draft status in {path} to review and let me know the document's owner.")
    return Piece(request, f"{path} is now in review; its owner is {owner}, who should hear about it.")


@needs(3)
def biggest_budget(s: Session) -> Piece | None:
    files = s.state["files"]["files"]
    options = []
    for project in _projects(s):
        docs = [p for p in files if parent(p) == f"/projects/{project}" and p.endswith(".txt")]
        budgets = sorted(int(read_field(files[p], "budget")) for p in docs)
        if 2 <= len(docs) <= 4 and 1 + len(docs) <= s.budget and budgets[-1] != budgets[-2]:
            options.append(project)
    if not options:
        return None
    project = s.rng.choice(options)
    folder = f"/projects/{project}"
    listed = s.call(f"Listing {folder} to find its documents.", "list_dir", {"path": folder})
    docs = [f"{folder}/{n}" for n in listed["entries"] if n.endswith(".txt")]
    reads = s.parallel(f"{plural(len(docs), 'document')}; reading each for its budget line.",
                       [("read_file", {"path": p}, (listed,)) for p in docs])
    top = max(reads, key=lambda o: int(read_field(o["content"], "budget")))
    path = s.output(f"{project}_top_budget", top, "path", label=f"the {project} document with the largest budget")
    amount = s.output(f"{project}_top_amount", top, "content", extract="field:budget", label="its budget")
    request = s.say(f"Which document in project {project} has the largest budget, and how much is it?",
                    f"Go through the {project} documents and tell me which one carries the biggest budget.",
                    f"Finance wants to know where most of the {project} money is: name the document with the highest "
                    "budget and the amount.",
                    f"Read the budgets of all {project} documents and report the largest one with its path.")
    return Piece(request, f"{path} has the largest budget in {project}: {amount}.")


@needs(2)
def append_note(s: Session) -> Piece | None:
    handle = s.recall("file")
    files, docs = s.state["files"]["files"], _docs(s)
    if s.budget < 2 or not docs:
        return None
    if handle is not None and handle[0] in files:
        path, uses, what = handle[0], (handle[1],), handle[2]
    else:
        path = s.rng.choice(docs)
        uses, what = (), path
    note = s.rng.choice(MEMOS)
    s.call(f"Appending the note line to {path}.", "append_file", {"path": path, "content": f"note: {note}\n"}, *uses)
    info = s.call("Checking how many lines it has now.", "file_info", {"path": path}, *uses)
    lines = s.output("lines_after_note", info, "lines", label=f"the number of lines in {path}")
    request = s.say(f"Add a line 'note: {note}' at the end of {what} and tell me how many lines it has now.",
                    f"Append the note '{note}' (as a 'note: {note}' line) to {what}; how long is the file afterwards, "
                    "in lines?",
                    f"Please record 'note: {note}' at the bottom of {what} and report its line count.",
                    f"Put a 'note: {note}' line on the end of {what}, then count its lines.")
    return Piece(request, f"Added the note to {path}; it now has {plural(lines, 'line')}.")


@needs(2)
def retarget_current(s: Session) -> Piece | None:
    files = s.state["files"]["files"]
    options = []
    for pointer in (p for p in files if p.endswith("/CURRENT") and s.pristine("files", "files", p)):
        folder, now = parent(pointer), read_field(files[pointer], "current")
        others = [p for p in files if parent(p) == folder and p.endswith(".txt") and p != now]
        if others:
            options.append((pointer, others))
    if not options or s.budget < 2:
        return None
    pointer, others = s.rng.choice(options)
    target, project = s.rng.choice(others), pointer.split("/")[2]
    old = s.call(f"Reading {pointer} to see what it points to now.", "read_file", {"path": pointer})
    s.call(f"Pointing it at {target}.", "write_file",
           {"path": pointer, "content": f"current: {target}\n", "overwrite": True}, old)
    before = s.output(f"{project}_previous", old, "content", extract="field:current",
                      label=f"the previous current {project} document")
    request = s.say(f"Make {target} the current document of {project} by updating {pointer}, and tell me which one "
                    "it replaced.",
                    f"From now on {target} is the current {project} document. Update the CURRENT pointer and tell me "
                    "what it pointed to before.",
                    f"Switch {project}'s CURRENT file over to {target}; which document was current until now?",
                    f"Please repoint /projects/{project}/CURRENT to {target} and let me know the old target.")
    return Piece(request, f"{pointer} now points to {target}; before, the current document was {before}.")


@needs(2)
def drafts_report(s: Session) -> Piece | None:
    fs = s.state["files"]
    report = "/reports/drafts.txt"
    drafts = [p for p in _docs(s) if "status: draft" in fs["files"][p]]
    if report in fs["files"] or not drafts or s.budget < 2 or "/reports" not in fs["dirs"]:
        return None
    found = s.call("Searching all projects for documents still in draft.", "find_files",
                   {"directory": "/projects", "contains": "status: draft"})
    s.call(f"{plural(len(found['matches']), 'draft')}; writing their paths to {report}.", "write_file",
           {"path": report, "content": "".join(f"{p}\n" for p in found["matches"])}, found)
    count = s.output("drafts", found, "matches", extract="len", label="the number of drafts")
    request = s.say(f"List every project document that is still a draft in {report}, one path per line.",
                    f"How many documents across all projects are still drafts? Write their paths to {report}.",
                    f"I want a draft overview: put the path of each draft document into {report} and tell me the "
                    "total.",
                    f"Find the drafts in /projects and save the list to {report}.")
    return Piece(request, f"There are {plural(count, 'draft')}; their paths are in {report}.")


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
    request = s.say(f"What is the {want} of {what}?", f"Tell me the {want} listed in {what}.",
                    f"Quick check: which {want} does {what} give?")
    return Piece(request, f"The {want} of {path} is {value}.")


def count_entries(s: Session) -> Piece | None:
    directory = s.rng.choice([d for d in s.state["files"]["dirs"] if not s.repeats("list_dir", {"path": d})])
    listed = s.call(f"Listing {directory}.", "list_dir", {"path": directory})
    count = s.output("entries", listed, "entries", extract="len", label=f"the number of entries in {directory}")
    request = s.say(f"How many entries are in {directory}?", f"Count the entries in {directory} for me.",
                    f"How full is {directory}? Just the number of entries.")
    return Piece(request, f"{directory} has {plural(count, 'entry')}.")


def line_count(s: Session) -> Piece | None:
    docs = [p for p in _docs(s) if not s.repeats("file_info", {"path": p})]
    if not docs:
        return None
    path = s.rng.choice(docs)
    info = s.call(f"Getting the size of {path}.", "file_info", {"path": path})
    lines = s.output("lines", info, "lines", label=f"the number of lines in {path}")
    request = s.say(f"How many lines does {path} have?", f"What is the line count of {path}?",
                    f"Is {path} long? Tell me its number of lines.")
    return Piece(request, f"{path} has {plural(lines, 'line')}.")


TEMPLATES = (follow_pointer, archive_done, backup_file, largest_file, bump_build, clean_tmp, owner_report,
             promote_draft, biggest_budget, append_note, retarget_current, drafts_report)
FILLERS = (read_detail, count_entries, line_count)
