"""Initial states: small random worlds for each backend, rich enough that most goal templates apply."""

from __future__ import annotations

import random
from typing import Any

from planfusion.tasks.tool_execution.scenarios.vocab import (
    ADJECTIVES, AGENTS, DOC_STATUSES, DOCS, FIRST, LAST, MEMOS, PRODUCTS, PROJECTS, TEAMS, TOPICS,
)


_CATALOGUE = tuple(f"{a} {p}" for a in ADJECTIVES for p in PRODUCTS)


def people(rng: random.Random, n: int) -> list[str]:
    """Distinct full names, shared by all backends of one world (customers, account owners, doc owners)."""
    firsts, lasts = rng.sample(FIRST, n), rng.sample(LAST, n)
    return [f"{a} {b}" for a, b in zip(firsts, lasts)]


def files_world(rng: random.Random, names: list[str]) -> dict[str, Any]:
    projects = sorted(rng.sample(PROJECTS, rng.randint(2, 3)))
    dirs = ["/archive", "/config", "/projects", "/reports", "/tmp"] + [f"/projects/{p}" for p in projects]
    files: dict[str, str] = {}
    for project in projects:
        docs = rng.sample(DOCS, rng.randint(2, 4))
        for doc in docs:
            files[f"/projects/{project}/{doc}.txt"] = (
                f"title: {project} {doc}\nowner: {rng.choice(names)}\nstatus: {rng.choice(DOC_STATUSES)}\n"
                f"budget: {rng.randint(2, 90) * 100}\n" + "".join(f"note: {rng.choice(MEMOS)}\n"
                                                               for _ in range(rng.randint(0, 3))))
        if rng.random() < 0.7:
            files[f"/projects/{project}/CURRENT"] = f"current: /projects/{project}/{rng.choice(docs)}.txt\n"
        if rng.random() < 0.6:
            files[f"/projects/{project}/VERSION"] = f"build: {rng.randint(3, 240)}\n"
    backup = rng.choice(projects)
    files["/config/backup.conf"] = f"backup_dir: /archive/{backup}\nkeep: {rng.randint(2, 9)}\n"
    if rng.random() < 0.5:
        dirs.append(f"/archive/{backup}")
    for i in rng.sample(range(10, 99), rng.randint(1, 4)):
        kind = rng.choice(("cache-{}.tmp", "build-{}.log", "upload-{}.tmp"))
        files[f"/tmp/{kind.format(i)}"] = "x" * rng.randint(10, 400) + "\n"
    return {"dirs": sorted(dirs), "files": dict(sorted(files.items()))}


def tickets_world(rng: random.Random, names: list[str]) -> dict[str, Any]:
    teams = rng.sample(TEAMS, rng.randint(2, 3))
    agents = {a: {"team": teams[i % len(teams)]} for i, a in enumerate(sorted(rng.sample(AGENTS, rng.randint(4, 7))))}
    start = rng.randint(100, 899) * 10
    tickets: dict[str, Any] = {}
    for i in range(rng.randint(7, 13)):
        title, tag = rng.choice(TOPICS)
        status = rng.choices(("open", "pending", "resolved", "closed"), (5, 3, 2, 2))[0]
        assignee = None if status == "open" and rng.random() < 0.4 else rng.choice(sorted(agents))
        tags = sorted({tag, rng.choice(TOPICS)[1]}) if rng.random() < 0.3 else [tag]
        ticket_id = f"T-{start + i}"
        tickets[ticket_id] = {"id": ticket_id, "title": title, "customer": rng.choice(names), "status": status,
                              "priority": rng.choice(("low", "normal", "normal", "high", "urgent")),
                              "assignee": assignee, "tags": tags, "comments": []}
    return {"tickets": tickets, "agents": agents, "next_id": start + len(tickets)}


def orders_world(rng: random.Random, names: list[str]) -> dict[str, Any]:
    products: dict[str, Any] = {}
    for sku_n, name in zip(rng.sample(range(100, 999), 12), rng.sample(_CATALOGUE, rng.randint(6, 10))):
        sku = f"SKU-{sku_n}"
        products[sku] = {"sku": sku, "name": name, "price": rng.randint(4, 240),
                         "stock": rng.choice((0, 1, 2, 3)) if rng.random() < 0.3 else rng.randint(4, 40)}
    start = rng.randint(500, 899) * 10
    orders: dict[str, Any] = {}
    skus = sorted(products)
    for i in range(rng.randint(3, 8)):
        lines = [{"sku": sku, "quantity": rng.randint(1, 3), "price": products[sku]["price"]}
                 for sku in rng.sample(skus, rng.randint(1, 3))]
        order_id = f"O-{start + i}"
        orders[order_id] = {"id": order_id, "customer": rng.choice(names), "items": lines,
                            "total": sum(l["quantity"] * l["price"] for l in lines),
                            "status": rng.choices(("pending", "shipped", "cancelled"), (5, 4, 1))[0]}
    return {"products": dict(sorted(products.items())), "orders": orders, "next_id": start + len(orders)}


def bank_world(rng: random.Random, names: list[str]) -> dict[str, Any]:
    accounts: dict[str, Any] = {}
    numbers = iter(rng.sample(range(1000, 9999), 3 * len(names)))
    for owner in names:
        for _ in range(rng.choice((1, 2, 2, 3))):
            account_id = f"AC-{next(numbers)}"
            accounts[account_id] = {"id": account_id, "owner": owner, "balance": rng.randint(0, 60) * 50,
                                    "frozen": rng.random() < 0.1}
    start = rng.randint(200, 899) * 10
    ids = sorted(accounts)
    transactions = []
    for i in range(rng.randint(2, 8)):
        source, target = rng.sample(ids, 2)
        transactions.append({"id": f"TX-{start + i}", "from": source if rng.random() < 0.8 else None, "to": target,
                             "amount": rng.randint(1, 40) * 10, "memo": rng.choice(MEMOS)})
    return {"accounts": dict(sorted(accounts.items())), "transactions": transactions,
            "next_id": start + len(transactions)}


WORLDS = {"files": files_world, "tickets": tickets_world, "orders": orders_world, "bank": bank_world}

# What the system prompt tells the agent about each world's layout: every path or rule a reference
# program relies on without looking it up first must be stated here or in the request.
CONVENTIONS = {
    "files": ("Project documents live in /projects/<project>/, where a CURRENT file names the current document and "
              "a VERSION file holds the build number; /config/backup.conf sets the backup folder, reports go to "
              "/reports and incoming requests arrive in /inbox."),
    "tickets": "A ticket is active while it is open or pending; agents belong to teams.",
    "orders": "Only pending orders can be shipped or cancelled; cancelling puts the items back in stock.",
    "bank": "Amounts are whole dollars; a frozen account can neither send nor receive money.",
}
