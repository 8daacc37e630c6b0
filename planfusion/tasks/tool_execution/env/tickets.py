"""A help desk: state {"tickets": {id: ticket}, "agents": {name: {"team"}}, "next_id": int}.

Ticket ids are "T-<n>" from the seeded counter ``next_id``; a ticket is
{"id", "title", "customer", "status", "priority", "assignee" (name or null), "tags": [...], "comments": [...]}.
"""

from __future__ import annotations

from typing import Any

from planfusion.tasks.tool_execution.env.base import State, Tool, require, tool
from planfusion.tasks.tool_execution.env.schema import array, string

BACKEND = "tickets"
STATUSES = ("open", "pending", "resolved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
ACTIVE = ("open", "pending")


def _ticket(state: State, ticket_id: str) -> dict[str, Any]:
    require(ticket_id in state["tickets"], f"no ticket with id {ticket_id}")
    return state["tickets"][ticket_id]


def _summary(ticket: dict[str, Any]) -> dict[str, Any]:
    return {k: ticket[k] for k in ("id", "title", "customer", "status", "priority", "assignee")}


def search_tickets(state: State, status: str | None = None, customer: str | None = None,
                   assignee: str | None = None, tag: str | None = None) -> dict[str, Any]:
    require(any(v is not None for v in (status, customer, assignee, tag)), "give at least one filter")
    found = [_summary(t) for t in state["tickets"].values()
             if (status is None or t["status"] == status) and (customer is None or t["customer"] == customer)
             and (assignee is None or t["assignee"] == assignee) and (tag is None or tag in t["tags"])]
    return {"tickets": sorted(found, key=lambda t: t["id"])}


def get_ticket(state: State, ticket_id: str) -> dict[str, Any]:
    ticket = _ticket(state, ticket_id)
    return {**ticket, "tags": list(ticket["tags"]), "comments": list(ticket["comments"])}


def create_ticket(state: State, title: str, customer: str, priority: str, tags: list[str] | None = None) -> dict[str, Any]:
    require(title.strip() != "", "title must not be empty")
    ticket_id = f"T-{state['next_id']}"
    state["next_id"] += 1
    state["tickets"][ticket_id] = {"id": ticket_id, "title": title, "customer": customer, "status": "open",
                                   "priority": priority, "assignee": None, "tags": sorted(tags or []), "comments": []}
    return {"ticket_id": ticket_id, "status": "open"}


def assign_ticket(state: State, ticket_id: str, assignee: str) -> dict[str, Any]:
    ticket = _ticket(state, ticket_id)
    require(assignee in state["agents"], f"no agent named {assignee!r}")
    require(ticket["status"] in ACTIVE,
            f"ticket {ticket_id} is {ticket['status']}; only open or pending tickets can be assigned")
    require(ticket["assignee"] != assignee, f"ticket {ticket_id} is already assigned to {assignee}")
    ticket["assignee"] = assignee
    return {"ticket_id": ticket_id, "assignee": assignee}


def update_status(state: State, ticket_id: str, status: str) -> dict[str, Any]:
    ticket = _ticket(state, ticket_id)
    require(ticket["status"] != "closed", f"ticket {ticket_id} is closed")
    require(ticket["status"] != status, f"ticket {ticket_id} is already {status}")
    ticket["status"] = status
    return {"ticket_id": ticket_id, "status": status}


def set_priority(state: State, ticket_id: str, priority: str) -> dict[str, Any]:
    ticket = _ticket(state, ticket_id)
    require(ticket["priority"] != priority, f"ticket {ticket_id} already has priority {priority}")
    ticket["priority"] = priority
    return {"ticket_id": ticket_id, "priority": priority}


def add_comment(state: State, ticket_id: str, text: str) -> dict[str, Any]:
    ticket = _ticket(state, ticket_id)
    require(text.strip() != "", "comment text must not be empty")
    ticket["comments"].append(text)
    return {"ticket_id": ticket_id, "comments": len(ticket["comments"])}


def list_agents(state: State, team: str | None = None) -> dict[str, Any]:
    load = {name: 0 for name in state["agents"]}
    for ticket in state["tickets"].values():
        if ticket["status"] in ACTIVE and ticket["assignee"] in load:
            load[ticket["assignee"]] += 1
    agents = [{"name": name, "team": info["team"], "active_tickets": load[name]}
              for name, info in sorted(state["agents"].items()) if team is None or info["team"] == team]
    require(bool(agents), f"no agents in team {team!r}")
    return {"agents": agents}


_ID = string("ticket id, e.g. T-1042")
TOOLS: tuple[Tool, ...] = (
    tool(BACKEND, search_tickets, "Find tickets matching all given filters (at least one).",
         {"status": string("ticket status", STATUSES), "customer": string("customer name"),
          "assignee": string("agent name"), "tag": string("a tag the ticket carries")}, writes=False),
    tool(BACKEND, get_ticket, "All fields of one ticket, including tags and comments.",
         {"ticket_id": _ID}, ("ticket_id",), writes=False),
    tool(BACKEND, list_agents, "Support agents with their team and number of open or pending tickets.",
         {"team": string("only agents of this team")}, writes=False),
    tool(BACKEND, create_ticket, "Open a new unassigned ticket; returns its id.",
         {"title": string("short summary"), "customer": string("customer name"),
          "priority": string("priority", PRIORITIES), "tags": array(string("tag"), "optional tags")},
         ("title", "customer", "priority"), writes=True),
    tool(BACKEND, assign_ticket, "Assign an open or pending ticket to an agent.",
         {"ticket_id": _ID, "assignee": string("agent name")}, ("ticket_id", "assignee"), writes=True),
    tool(BACKEND, update_status, "Change the status of a ticket (closed tickets stay closed).",
         {"ticket_id": _ID, "status": string("new status", STATUSES)}, ("ticket_id", "status"), writes=True),
    tool(BACKEND, set_priority, "Change the priority of a ticket.",
         {"ticket_id": _ID, "priority": string("new priority", PRIORITIES)}, ("ticket_id", "priority"), writes=True),
    tool(BACKEND, add_comment, "Add a comment to a ticket.",
         {"ticket_id": _ID, "text": string("comment text")}, ("ticket_id", "text"), writes=True),
)
