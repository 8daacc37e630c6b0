"""Goal templates over the help desk: route to the least-loaded agent, escalate, follow up, resolve, hand over,
reopen, rebalance, nudge."""

from __future__ import annotations

from typing import Any

from planfusion.tasks.tool_execution.env.tickets import PRIORITIES
from planfusion.tasks.tool_execution.scenarios.session import Obs, Piece, Session, needs
from planfusion.tasks.tool_execution.scenarios.text import article, listing, plural
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


def _loads(s: Session, team: str, exclude: str | None = None) -> dict[str, int]:
    """Active tickets per agent of ``team``, read from the world before the calls that show it are made."""
    desk = s.state["tickets"]
    load = {name: 0 for name, info in desk["agents"].items() if info["team"] == team and name != exclude}
    for ticket in desk["tickets"].values():
        if ticket["status"] in ("open", "pending") and ticket["assignee"] in load:
            load[ticket["assignee"]] += 1
    return load


def _planned_least_loaded(s: Session, team: str, exclude: str | None = None) -> str | None:
    load = _loads(s, team, exclude)
    return min(load, key=lambda name: (load[name], name)) if load else None


def _from_before(s: Session, ticket_id: str, *fields: str) -> bool:
    """The ticket predates the conversation and no request changed these fields: changing them now cannot
    undo or overrule an earlier request."""
    return s.pristine("tickets", "tickets", ticket_id, *fields)


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
    request = s.say(f"{customer} has an unassigned open ticket about '{title}'. Give it to the {team} agent with the "
                    "fewest active tickets (ties: first name alphabetically).",
                    f"Route {customer}'s open '{title}' ticket to whoever in {team} has the lightest load (alphabetical "
                    "on ties) and tell me the ticket id.",
                    f"Nobody owns {customer}'s ticket '{title}' yet. Assign it within {team} to the least busy agent, "
                    "breaking ties by name, and give me its id.",
                    f"Please find {customer}'s open '{title}' ticket and hand it to the {team} member with the fewest "
                    "active tickets (earliest name on a tie).")
    return Piece(request, f"Ticket {ticket_id} ('{title}') is now assigned to {best['name']} of {team}.")


@needs(2)
def escalate_tag(s: Session) -> Piece | None:
    tickets = _tickets(s)
    options = []
    for tag in sorted(dict.fromkeys(g for t in tickets for g in t["tags"])):
        hits = [t for t in tickets if tag in t["tags"] and t["status"] == "open"]
        if (hits and len(hits) <= 4 and all(t["priority"] != "urgent" for t in hits) and 1 + len(hits) <= s.budget
                and all(_from_before(s, t["id"], "priority") for t in hits)):
            options.append(tag)
    if not options:
        return None
    tag = s.rng.choice(options)
    found = s.call(f"Finding the open tickets tagged {tag}.", "search_tickets", {"tag": tag, "status": "open"})
    _writes(s, f"{plural(len(found['tickets']), 'ticket')}, none urgent yet; raising each to urgent.",
            [("set_priority", {"ticket_id": t["id"], "priority": "urgent"}, (found,)) for t in found["tickets"]])
    count = s.output(f"escalated_{tag}", found, "tickets", extract="len", label=f"the number of {tag} tickets escalated")
    request = s.say(f"There is an incident around {tag}: set every open ticket tagged {tag} to urgent.",
                    f"Escalate all open {tag} tickets to urgent priority and tell me how many there were.",
                    f"The {tag} problems are getting worse. Make each open ticket with the {tag} tag urgent.",
                    f"Raise the priority of every open {tag}-tagged ticket to urgent and count them for me.")
    return Piece(request, f"Escalated {plural(count, f'open {tag} ticket')} to urgent: "
                          f"{listing([t['id'] for t in found['tickets']])}.")


@needs(3)
def follow_up(s: Session) -> Piece | None:
    options = [t["id"] for t in _tickets(s) if t["status"] in ("resolved", "closed")
               and not t["title"].startswith("Follow-up: ") and _from_before(s, t["id"], "comments")]
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
    request = s.say(f"Open a follow-up for {ticket_id}: same customer, priority and tags, title 'Follow-up: <old "
                    "title>', and leave a comment on the old ticket pointing to the new one.",
                    f"I need a follow-up ticket for {ticket_id} (copy customer, priority and tags; prefix the title with "
                    "'Follow-up: '). Note the new id on the original.",
                    f"The customer of {ticket_id} wrote back. Create a 'Follow-up: ' copy of it (same customer, priority "
                    "and tags) and mention the new ticket in a comment on the old one.",
                    f"Please spin off a follow-up from {ticket_id}, titled 'Follow-up: ' plus the old title with the same "
                    "customer, priority and tags, and cross-reference it with a comment.")
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
    _writes(s, f"{plural(len(found['tickets']), 'pending ticket')}; marking them resolved.",
            [("update_status", {"ticket_id": t["id"], "status": "resolved"}, (found,)) for t in found["tickets"]])
    count = s.output("resolved_count", found, "tickets", extract="len",
                     label=f"the number of {customer}'s tickets resolved")
    request = s.say(f"{customer} confirmed everything works now. Resolve all of their pending tickets.",
                    f"Mark every pending ticket of {customer} as resolved and tell me how many that was.",
                    f"Good news from {customer}: the issues are fixed. Close out their pending tickets as resolved.",
                    f"Please set all of {customer}'s pending tickets to resolved and give me the count.")
    return Piece(request, f"Resolved {plural(count, 'pending ticket')} of {customer}.")


@needs(3)
def hand_over(s: Session) -> Piece | None:
    tickets, agents, away = _tickets(s), s.state["tickets"]["agents"], s.context.get("away", [])
    options = []
    for name, info in agents.items():
        mine = [t["id"] for t in tickets if t["assignee"] == name and t["status"] == "open"]
        if (1 <= len(mine) <= 4 and len(mine) + 2 <= s.budget and name not in away
                and all(_from_before(s, t, "assignee") for t in mine)):
            heir = _planned_least_loaded(s, info["team"], exclude=name)
            if heir is not None and heir not in away:
                options.append((name, info["team"]))
    if not options:
        return None
    leaving, team = s.rng.choice(options)
    found = s.call(f"Finding {leaving}'s open tickets.", "search_tickets", {"assignee": leaving, "status": "open"})
    agents_obs = s.call(f"{plural(len(found['tickets']), 'ticket')}. Checking who in {team} has capacity.",
                        "list_agents", {"team": team})
    best = _least_loaded(agents_obs, exclude=leaving)
    _writes(s, f"{best['name']} is the least loaded of {leaving}'s teammates; moving the tickets.",
            [("assign_ticket", {"ticket_id": t["id"], "assignee": best["name"]}, (found, agents_obs))
             for t in found["tickets"]])
    s.output("handed_to", agents_obs, "agents", agents_obs["agents"].index(best), "name", label="the new assignee")
    count = s.output("handed_over", found, "tickets", extract="len", label="the number of tickets handed over")
    s.context.setdefault("away", []).append(leaving)
    request = s.say(f"{leaving} is out this week. Move their open tickets to the least loaded other person in {team} "
                    "(alphabetical on ties).",
                    f"Reassign all open tickets of {leaving} to one teammate in {team}: whoever has the fewest active "
                    "tickets, first name alphabetically on ties.",
                    f"{leaving} is on leave from today. Give everything they have open to the {team} colleague with the "
                    "lightest load (earliest name wins a tie) and tell me who that is.",
                    f"Please cover for {leaving}: their open tickets should go to the least busy other {team} agent, "
                    "ties by name.")
    return Piece(request, f"Moved {plural(count, 'open ticket')} from {leaving} to {best['name']}.")


@needs(3)
def close_with_note(s: Session) -> Piece | None:
    if s.budget < 3:
        return None
    handle = s.recall("ticket")
    live = s.state["tickets"]["tickets"]
    uses: tuple[Obs, ...] = ()
    # never a ticket this conversation opened or moved along: closing it would undo the request that did
    if handle is not None and live[handle[0]]["status"] in ("open", "pending") and _from_before(s, handle[0], "status"):
        ticket_id, uses, what = handle[0], (handle[1],), handle[2]
    else:
        options = [t["id"] for t in _tickets(s) if t["status"] in ("open", "pending") and _from_before(s, t["id"], "status")]
        if not options:
            return None
        ticket_id = what = s.rng.choice(options)
    note = s.rng.choice(NOTES)
    got = s.call(f"Reading {ticket_id} first to see whose it is.", "get_ticket", {"ticket_id": ticket_id}, *uses)
    s.call("Adding the closing note.", "add_comment", {"ticket_id": ticket_id, "text": note}, *uses)
    s.call(f"Closing {ticket_id}.", "update_status", {"ticket_id": ticket_id, "status": "closed"}, *uses)
    customer = s.output("closed_for", got, "customer", label=f"the customer of {ticket_id}")
    request = s.say(f"Close {what} with the note '{note}' and tell me which customer it belonged to.",
                    f"Please add the comment '{note}' to {what}, close it, and remind me whose ticket it was.",
                    f"{what} can go: comment '{note}' on it, set it to closed, and tell me the customer.",
                    f"Wrap up {what}. Leave the note '{note}', close the ticket, and let me know who raised it.")
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
    request = s.say(f"Open {article(priority)} ticket '{title}' (tag {tag}) for {customer} and assign it to the least "
                    f"loaded {team} agent (alphabetical on ties).",
                    f"{customer} reports: '{title}'. File it as {priority} with tag {tag}, route it to the {team} agent "
                    "with the fewest active tickets (ties alphabetical), and give me the id.",
                    f"New issue from {customer}, '{title}'. Log it ({priority} priority, tagged {tag}) and give it to "
                    f"whoever in {team} is least busy, earliest name on a tie.",
                    f"Please create a ticket titled '{title}' for {customer}, priority {priority}, tag {tag}, and assign "
                    f"it to the {team} agent with the lightest load (alphabetical on ties).")
    return Piece(request, f"Opened {new_id} for {customer} and assigned it to {best['name']}.")


@needs(3)
def reopen(s: Session) -> Piece | None:
    tickets = _tickets(s)
    options = [t for t in tickets if t["status"] == "resolved" and _from_before(s, t["id"])
               and sum(u["customer"] == t["customer"] and u["status"] == "resolved" and u["title"] == t["title"]
                       for u in tickets) == 1]
    if not options or s.budget < 3:
        return None
    ticket = s.rng.choice(options)
    customer, title = ticket["customer"], ticket["title"]
    found = s.call(f"Looking for {customer}'s resolved ticket about '{title}'.", "search_tickets",
                   {"customer": customer, "status": "resolved"})
    i = next(i for i, t in enumerate(found["tickets"]) if t["title"] == title)
    ticket_id = found["tickets"][i]["id"]
    s.call(f"It is {ticket_id}; setting it back to open.", "update_status", {"ticket_id": ticket_id, "status": "open"},
           found)
    s.call("Noting why it was reopened.", "add_comment",
           {"ticket_id": ticket_id, "text": "Reopened: the customer reports the problem is back."}, found)
    s.output("reopened", found, "tickets", i, "id", label="the reopened ticket")
    request = s.say(f"{customer} says the '{title}' problem is back. Reopen their resolved ticket about it with the "
                    "comment 'Reopened: the customer reports the problem is back.'",
                    f"Reopen {customer}'s resolved '{title}' ticket, add the comment 'Reopened: the customer reports the "
                    "problem is back.' and tell me its id.",
                    f"The fix for '{title}' did not hold for {customer}. Put their resolved ticket back to open and "
                    "comment 'Reopened: the customer reports the problem is back.'",
                    f"Please set {customer}'s ticket about '{title}' from resolved to open again, with the note "
                    "'Reopened: the customer reports the problem is back.'")
    return Piece(request, f"Reopened {ticket_id} for {customer} and noted why.")


@needs(3)
def rebalance(s: Session) -> Piece | None:
    away, options = s.context.get("away", []), []
    for team in _teams(s):
        load = _loads(s, team)
        ranked = sorted(load, key=lambda name: (-load[name], name))
        busiest, idlest = ranked[0], min(load, key=lambda name: (load[name], name))
        movable = [t for t in _tickets(s) if t["assignee"] == busiest and t["status"] == "open"]
        if (load[busiest] >= load[idlest] + 2 and idlest not in away and movable
                and _from_before(s, min(t["id"] for t in movable), "assignee")):
            options.append(team)
    if not options or s.budget < 3:
        return None
    team = s.rng.choice(options)
    agents = s.call(f"Checking the workloads in {team}.", "list_agents", {"team": team})
    busiest = min(agents["agents"], key=lambda a: (-a["active_tickets"], a["name"]))
    idlest = _least_loaded(agents)
    found = s.call(f"{busiest['name']} has the most ({busiest['active_tickets']}); listing their open tickets.",
                   "search_tickets", {"assignee": busiest["name"], "status": "open"}, agents)
    ticket_id = found["tickets"][0]["id"]
    s.call(f"Moving the oldest one, {ticket_id}, to {idlest['name']}.", "assign_ticket",
           {"ticket_id": ticket_id, "assignee": idlest["name"]}, agents, found)
    s.output("moved_ticket", found, "tickets", 0, "id", label="the ticket moved")
    s.output("moved_to", agents, "agents", agents["agents"].index(idlest), "name", label="its new assignee")
    request = s.say(f"The {team} team is unevenly loaded. Move the oldest open ticket of the busiest agent to the least "
                    "busy one (ties by name).",
                    f"Take the lowest-numbered open ticket from whoever in {team} has the most active tickets and give it "
                    "to whoever has the fewest; ties go by first name.",
                    f"Even out {team} a little: one open ticket (the oldest) from the most loaded agent to the least "
                    "loaded. Tell me which ticket moved and to whom.",
                    f"Please rebalance {team} by reassigning the busiest agent's oldest open ticket to the agent with "
                    "the lightest load, names deciding ties.")
    return Piece(request, f"Moved {ticket_id} from {busiest['name']} to {idlest['name']} in {team}.")


@needs(2)
def nudge_pending(s: Session) -> Piece | None:
    tickets, away, options = _tickets(s), s.context.get("away", []), []
    for name in sorted(s.state["tickets"]["agents"]):
        mine = [t for t in tickets if t["assignee"] == name and t["status"] == "pending"]
        if 1 <= len(mine) <= min(4, s.budget - 1) and name not in away:
            options.append(name)
    if not options:
        return None
    agent, note = s.rng.choice(options), "Reminder sent to the customer."
    found = s.call(f"Finding {agent}'s pending tickets.", "search_tickets", {"assignee": agent, "status": "pending"})
    _writes(s, f"{plural(len(found['tickets']), 'pending ticket')}; adding the reminder note to each.",
            [("add_comment", {"ticket_id": t["id"], "text": note}, (found,)) for t in found["tickets"]])
    count = s.output("nudged", found, "tickets", extract="len", label=f"the number of {agent}'s tickets nudged")
    request = s.say(f"Add the comment '{note}' to every pending ticket assigned to {agent}.",
                    f"{agent} chased all their waiting customers today. Note '{note}' on each of their pending tickets.",
                    f"Please log '{note}' on {agent}'s pending tickets and tell me how many got it.",
                    f"Every ticket {agent} has in pending should get the comment '{note}'. How many is that?")
    return Piece(request, f"Added the reminder note to {plural(count, 'pending ticket')} of {agent}.")


@needs(2)
def bump_priority(s: Session) -> Piece | None:
    rank = PRIORITIES.index
    options = [t for t in _tickets(s) if t["status"] in ("open", "pending") and t["assignee"] is not None
               and t["assignee"] not in s.context.get("away", []) and rank(t["priority"]) < rank("high")
               and _from_before(s, t["id"], "priority")]
    if not options or s.budget < 2:
        return None
    ticket, priority = s.rng.choice(options), s.rng.choice(("high", "urgent"))
    got = s.call(f"Reading {ticket['id']} to see its priority and owner.", "get_ticket", {"ticket_id": ticket["id"]})
    s.call(f"It is {got['priority']}; raising it to {priority}.", "set_priority",
           {"ticket_id": ticket["id"], "priority": priority}, got)
    owner = s.output("priority_owner", got, "assignee", label=f"the agent on {ticket['id']}")
    request = s.say(f"The customer on {ticket['id']} is blocked. Raise the ticket to {priority} and tell me who is "
                    "working on it.",
                    f"Set {ticket['id']} to {priority} priority; which agent has it?",
                    f"Please bump {ticket['id']} up to {priority} and let me know whom to talk to about it.",
                    f"{ticket['id']} needs attention: make it {priority} and name its assignee.")
    return Piece(request, f"{ticket['id']} is now {priority}; {owner} is working on it.")


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
    request = s.say(f"What is the status of {what}?", f"Where does {what} stand right now?",
                    f"Can you check the current status of {what}?")
    return Piece(request, f"{ticket_id} is {status}.")


def agent_load(s: Session) -> Piece | None:
    agent = s.rng.choice([a for a in sorted(s.state["tickets"]["agents"])
                          if not s.repeats("search_tickets", {"assignee": a, "status": "open"})])
    found = s.call(f"Searching {agent}'s open tickets.", "search_tickets", {"assignee": agent, "status": "open"})
    count = s.output(f"{agent}_open", found, "tickets", extract="len", label=f"the number of open tickets of {agent}")
    request = s.say(f"How many open tickets does {agent} have?", f"Count {agent}'s open tickets for me.",
                    f"How busy is {agent}? Just the number of open tickets.")
    return Piece(request, f"{agent} has {plural(count, 'open ticket')}.")


def team_size(s: Session) -> Piece | None:
    team = s.rng.choice([t for t in _teams(s) if not s.repeats("list_agents", {"team": t})])
    agents = s.call(f"Listing the {team} team.", "list_agents", {"team": team})
    count = s.output(f"{team}_agents", agents, "agents", extract="len", label=f"the number of agents in {team}")
    request = s.say(f"How many agents are in the {team} team?", f"What is the headcount of {team}?",
                    f"Tell me how many people work in {team}.")
    return Piece(request, f"The {team} team has {plural(count, 'agent')}.")


TEMPLATES = (assign_least_loaded, escalate_tag, follow_up, resolve_pending, hand_over, close_with_note, open_and_route,
             reopen, rebalance, nudge_pending, bump_priority)
FILLERS = (ticket_status, agent_load, team_size)
