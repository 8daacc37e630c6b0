"""Goal templates over the help desk: route to the least-loaded agent, escalate, follow up, resolve, hand over."""

from __future__ import annotations

from typing import Any

from planfusion.tasks.tool_execution.scenarios.session import Obs, Piece, Session, needs
from planfusion.tasks.tool_execution.scenarios.vocab import NOTES, TOPICS


def _tickets(s: Session) -> list[dict[str, Any]]:
    return list(s.state["tickets"]["tickets"].values())


def _teams(s: Session) -> list[str]:
    return sorted(dict.fromkeys(a["team"] for a in s.state["tickets"]["agents"].values()))


def _least_loaded(agents: Obs, exclude: str | None = None) -> dict[str, Any]:
    return min((a for a in agents["agents"] if a["name"] != exclude), key=lambda a: (a["active_tickets"], a["name"]))


def _routable_teams(s: Session) -> list[str]:
    """Teams whose least-loaded agent is not someone the user said is away (routing there would contradict them)."""
    return [team for team in _teams(s) if _planned_least_loaded(s, team) not in s.context.get("away", [])]


def _planned_least_loaded(s: Session, team: str, exclude: str | None = None) -> str | None:
    """Who list_agents will show as least loaded in ``team``, read from the world before the calls are made."""
    desk = s.state["tickets"]
    load = {name: 0 for name, info in desk["agents"].items() if info["team"] == team and name != exclude}
    for ticket in desk["tickets"].values():
        if ticket["status"] in ("open", "pending") and ticket["assignee"] in load:
            load[ticket["assignee"]] += 1
    return min(load, key=lambda name: (load[name], name)) if load else None


def _writes(s: Session, think: str, specs: list[tuple[str, dict[str, Any], tuple[Obs, ...]]]) -> None:
    if len(specs) > 1 and s.rng.random() < 0.4:
        s.parallel(think, specs)
        return
    for i, (name, arguments, uses) in enumerate(specs):
        s.call(think if i == 0 else f"Now {arguments['ticket_id']}.", name, arguments, *uses)


@needs(3)
def assign_least_loaded(s: Session) -> Piece | None:
    tickets = _tickets(s)
    options = [t for t in tickets if t["status"] == "open" and t["assignee"] is None and
               sum(u["customer"] == t["customer"] and u["status"] == "open" and u["title"] == t["title"]
                   for u in tickets) == 1]
    teams = _routable_teams(s)
    if not options or not teams or s.budget < 3:
        return None
    ticket, team = s.rng.choice(options), s.rng.choice(teams)
    customer, title = ticket["customer"], ticket["title"]
    found = s.call(f"I need the id of {customer}'s open ticket about '{title}'.", "search_tickets",
                   {"customer": customer, "status": "open"})
    i = next(i for i, t in enumerate(found["tickets"]) if t["title"] == title)
    ticket_id = found["tickets"][i]["id"]
    agents = s.call(f"It is {ticket_id}. Now the workloads of the {team} team.", "list_agents", {"team": team})
    best = _least_loaded(agents)
    done = s.call(f"{best['name']} has the fewest active tickets ({best['active_tickets']}); assigning {ticket_id}.",
                  "assign_ticket", {"ticket_id": ticket_id, "assignee": best["name"]}, found, agents)
    s.output("routed_ticket", found, "tickets", i, "id", label="the routed ticket")
    s.output("routed_to", done, "assignee", label="its assignee")
    s.remember("ticket", ticket_id, found, f"{customer}'s ticket about '{title}'")
    request = s.rng.choice((f"{customer} has an unassigned open ticket about '{title}'. Give it to the {team} agent "
                            "with the fewest active tickets (ties: first name alphabetically).",
                            f"Route {customer}'s open '{title}' ticket to whoever in {team} has the lightest load "
                            "(alphabetical on ties) and tell me the ticket id."))
    return Piece(request, f"Ticket {ticket_id} ('{title}') is now assigned to {best['name']} of {team}.")


@needs(2)
def escalate_tag(s: Session) -> Piece | None:
    tickets = _tickets(s)
    options = []
    for tag in sorted(dict.fromkeys(g for t in tickets for g in t["tags"])):
        hits = [t for t in tickets if tag in t["tags"] and t["status"] == "open"]
        if (hits and len(hits) <= 4 and all(t["priority"] != "urgent" for t in hits) and 1 + len(hits) <= s.budget
                and all(s.pristine("tickets", "tickets", t["id"], "priority") for t in hits)):
            options.append(tag)
    if not options:
        return None
    tag = s.rng.choice(options)
    found = s.call(f"Finding the open tickets tagged {tag}.", "search_tickets", {"tag": tag, "status": "open"})
    _writes(s, f"{len(found['tickets'])} ticket(s), none urgent yet; raising each to urgent.",
            [("set_priority", {"ticket_id": t["id"], "priority": "urgent"}, (found,)) for t in found["tickets"]])
    count = s.output(f"escalated_{tag}", found, "tickets", extract="len",
                     label=f"the number of {tag} tickets escalated")
    request = s.rng.choice((f"There is an incident around {tag}: set every open ticket tagged {tag} to urgent.",
                            f"Escalate all open {tag} tickets to urgent priority and tell me how many there were."))
    return Piece(request, f"Escalated {count} open {tag} ticket(s) to urgent: "
                          f"{', '.join(t['id'] for t in found['tickets'])}.")


@needs(3)
def follow_up(s: Session) -> Piece | None:
    options = [t["id"] for t in _tickets(s)
               if t["status"] in ("resolved", "closed") and not t["title"].startswith("Follow-up: ")]
    if not options or s.budget < 3:
        return None
    ticket_id = s.rng.choice(options)
    got = s.call(f"Reading {ticket_id} to copy its title, customer and priority.", "get_ticket", {"ticket_id": ticket_id})
    new = s.call("Opening the follow-up with the same customer, priority and tags.", "create_ticket",
                 {"title": f"Follow-up: {got['title']}", "customer": got["customer"], "priority": got["priority"],
                  "tags": got["tags"]}, got)
    s.call(f"Linking the new ticket {new['ticket_id']} from {ticket_id}.", "add_comment",
           {"ticket_id": ticket_id, "text": f"Follow-up opened as {new['ticket_id']}."}, new)
    new_id = s.output("follow_up_ticket", new, "ticket_id", label="the follow-up ticket")
    s.remember("ticket", new_id, new, "the follow-up ticket")
    request = s.rng.choice((f"Open a follow-up for {ticket_id}: same customer, priority and tags, "
                            "title 'Follow-up: <old title>', "
                            "and leave a comment on the old ticket pointing to the new one.",
                            f"I need a follow-up ticket for {ticket_id} (copy customer, priority and tags; prefix the title "
                            "with 'Follow-up: '). Note the new id on the original."))
    return Piece(request, f"Opened follow-up {new_id} for {ticket_id} and linked it in a comment.")


@needs(2)
def resolve_pending(s: Session) -> Piece | None:
    tickets = _tickets(s)
    options = [c for c in sorted(dict.fromkeys(t["customer"] for t in tickets))
               if 1 <= sum(t["customer"] == c and t["status"] == "pending" for t in tickets) <= min(4, s.budget - 1)]
    if not options:
        return None
    customer = s.rng.choice(options)
    found = s.call(f"Looking up {customer}'s pending tickets.", "search_tickets", {"customer": customer, "status": "pending"})
    _writes(s, f"{len(found['tickets'])} pending ticket(s); marking them resolved.",
            [("update_status", {"ticket_id": t["id"], "status": "resolved"}, (found,)) for t in found["tickets"]])
    count = s.output("resolved_count", found, "tickets", extract="len",
                     label=f"the number of {customer}'s tickets resolved")
    request = s.rng.choice((f"{customer} confirmed everything works now. Resolve all of their pending tickets.",
                            f"Mark every pending ticket of {customer} as resolved and tell me how many that was."))
    return Piece(request, f"Resolved {count} pending ticket(s) of {customer}.")


@needs(3)
def hand_over(s: Session) -> Piece | None:
    tickets, agents, away = _tickets(s), s.state["tickets"]["agents"], s.context.get("away", [])
    options = []
    for name, info in agents.items():
        mine = [t["id"] for t in tickets if t["assignee"] == name and t["status"] == "open"]
        if (1 <= len(mine) <= 4 and len(mine) + 2 <= s.budget and name not in away
                and all(s.pristine("tickets", "tickets", t, "assignee") for t in mine)):
            heir = _planned_least_loaded(s, info["team"], exclude=name)
            if heir is not None and heir not in away:
                options.append((name, info["team"]))
    if not options:
        return None
    leaving, team = s.rng.choice(options)
    found = s.call(f"Finding {leaving}'s open tickets.", "search_tickets", {"assignee": leaving, "status": "open"})
    agents_obs = s.call(f"{len(found['tickets'])} ticket(s). Checking who in {team} has capacity.", "list_agents",
                        {"team": team})
    best = _least_loaded(agents_obs, exclude=leaving)
    _writes(s, f"{best['name']} is the least loaded of {leaving}'s teammates; moving the tickets.",
            [("assign_ticket", {"ticket_id": t["id"], "assignee": best["name"]}, (found, agents_obs))
             for t in found["tickets"]])
    s.output("handed_to", agents_obs, "agents", agents_obs["agents"].index(best), "name", label="the new assignee")
    count = s.output("handed_over", found, "tickets", extract="len", label="the number of tickets handed over")
    s.context.setdefault("away", []).append(leaving)
    request = s.rng.choice((f"{leaving} is out this week. Move their open tickets to the least loaded other person "
                            f"in {team} (alphabetical on ties).",
                            f"Reassign all open tickets of {leaving} to one teammate in {team}: whoever has the fewest "
                            "active tickets, first name alphabetically on ties."))
    return Piece(request, f"Moved {count} open ticket(s) from {leaving} to {best['name']}.")


@needs(3)
def close_with_note(s: Session) -> Piece | None:
    if s.budget < 3:
        return None
    handle = s.recall("ticket")
    live = s.state["tickets"]["tickets"]
    uses: tuple[Obs, ...] = ()
    if handle is not None and live[handle[0]]["status"] in ("open", "pending") and handle[0] in s.initial["tickets"]["tickets"]:
        ticket_id, uses, what = handle[0], (handle[1],), handle[2]
    else:  # never a ticket this conversation opened: closing it would undo the request that opened it
        options = [t["id"] for t in _tickets(s) if t["status"] in ("open", "pending") and t["id"] in s.initial["tickets"]["tickets"]]
        if not options:
            return None
        ticket_id = what = s.rng.choice(options)
    note = s.rng.choice(NOTES)
    got = s.call(f"Reading {ticket_id} first to see whose it is.", "get_ticket", {"ticket_id": ticket_id}, *uses)
    s.call("Adding the closing note.", "add_comment", {"ticket_id": ticket_id, "text": note}, *uses)
    s.call(f"Closing {ticket_id}.", "update_status", {"ticket_id": ticket_id, "status": "closed"}, *uses)
    customer = s.output("closed_for", got, "customer", label=f"the customer of {ticket_id}")
    request = s.rng.choice((f"Close {what} with the note '{note}' and tell me which customer it belonged to.",
                            f"Please add the comment '{note}' to {what}, close it, and remind me whose ticket it was."))
    return Piece(request, f"Closed {ticket_id} with the note; it belonged to {customer}.")


@needs(3)
def open_and_route(s: Session) -> Piece | None:
    teams = _routable_teams(s)
    if not teams:
        return None
    title, tag = s.rng.choice(TOPICS)
    customer = s.rng.choice(sorted(dict.fromkeys(t["customer"] for t in _tickets(s))))
    priority, team = s.rng.choice(("normal", "high", "urgent")), s.rng.choice(teams)
    new = s.call(f"Opening the ticket for {customer} first.", "create_ticket",
                 {"title": title, "customer": customer, "priority": priority, "tags": [tag]})
    agents = s.call(f"Created {new['ticket_id']}; checking the {team} team's workloads.", "list_agents", {"team": team})
    best = _least_loaded(agents)
    s.call(f"{best['name']} is least loaded; assigning.", "assign_ticket",
           {"ticket_id": new["ticket_id"], "assignee": best["name"]}, new, agents)
    new_id = s.output("new_ticket", new, "ticket_id", label="the new ticket")
    s.remember("ticket", new_id, new, f"the new '{title}' ticket")
    request = s.rng.choice((f"Open a {priority} ticket '{title}' (tag {tag}) for {customer} and assign it to the "
                            f"least loaded {team} agent (alphabetical on ties).",
                            f"{customer} reports: '{title}'. File it as {priority} with tag {tag}, route it to the {team} "
                            "agent with the fewest active tickets (ties alphabetical), and give me the id."))
    return Piece(request, f"Opened {new_id} for {customer} and assigned it to {best['name']}.")


def ticket_status(s: Session) -> Piece | None:
    handle = s.recall("ticket")
    if handle is not None and not s.repeats("get_ticket", {"ticket_id": handle[0]}):
        ticket_id, uses, what = handle[0], (handle[1],), handle[2]
    else:
        ticket_id = what = s.rng.choice([t for t in sorted(s.state["tickets"]["tickets"])
                                         if not s.repeats("get_ticket", {"ticket_id": t})])
        uses = ()
    got = s.call(f"Looking up {ticket_id}.", "get_ticket", {"ticket_id": ticket_id}, *uses)
    status = s.output("ticket_status", got, "status", label=f"the status of {ticket_id}")
    return Piece(f"What is the status of {what}?", f"{ticket_id} is {status}.")


def agent_load(s: Session) -> Piece | None:
    agent = s.rng.choice([a for a in sorted(s.state["tickets"]["agents"])
                          if not s.repeats("search_tickets", {"assignee": a, "status": "open"})])
    found = s.call(f"Searching {agent}'s open tickets.", "search_tickets", {"assignee": agent, "status": "open"})
    count = s.output(f"{agent}_open", found, "tickets", extract="len", label=f"the number of open tickets of {agent}")
    return Piece(f"How many open tickets does {agent} have?", f"{agent} has {count} open ticket(s).")


TEMPLATES = (assign_least_loaded, escalate_tag, follow_up, resolve_pending, hand_over, close_with_note, open_and_route)
FILLERS = (ticket_status, agent_load)
