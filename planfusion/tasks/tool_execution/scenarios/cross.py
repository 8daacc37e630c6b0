"""Goal templates that span backends (tau-bench style): refunds through tickets, orders and the bank,
requests and invoices dropped as files, restock tickets from low stock. ``plant`` adds the linking
entities (a refund ticket naming an order, an order request file...) to a multi-backend world."""

from __future__ import annotations

import random
from typing import Any

from planfusion.tasks.tool_execution.scenarios.session import Piece, Session, needs, read_field


def plant(state: dict[str, Any], rng: random.Random) -> None:
    """Add cross-backend links to a freshly sampled world (only for the backends it has)."""
    orders = state.get("orders")
    if orders is not None and "tickets" in state:
        desk = state["tickets"]
        for order in rng.sample(sorted(orders["orders"]), min(3, len(orders["orders"]))):
            pending = orders["orders"][order]["status"] == "pending"
            title = f"Refund for order {order}" if pending else f"Where is order {order}?"
            ticket_id = f"T-{desk['next_id']}"
            desk["next_id"] += 1
            desk["tickets"][ticket_id] = {"id": ticket_id, "title": title, "customer": orders["orders"][order]["customer"],
                                          "status": "open", "priority": "normal", "assignee": None,
                                          "tags": ["refund" if title.startswith("Refund") else "shipping"], "comments": []}
    if "files" not in state:
        return
    fs = state["files"]
    fs["dirs"] = sorted(fs["dirs"] + ["/inbox"])
    if orders is not None:
        for n in rng.sample(range(10, 99), 3):
            product = rng.choice(sorted(orders["products"]))
            fs["files"][f"/inbox/order-{n}.txt"] = (f"customer: {rng.choice(sorted(_people(state)))}\nsku: {product}\n"
                                                   f"quantity: {rng.randint(1, 3)}\n")
    if "bank" in state:
        accounts = state["bank"]["accounts"]
        for n in rng.sample(range(100, 999), 3):
            payer, payee = rng.sample(sorted(accounts), 2)
            fs["files"][f"/inbox/invoice-{n}.txt"] = (f"payer: {accounts[payer]['owner']}\npayee_account: {payee}\n"
                                                     f"amount: {rng.randint(2, 40) * 10}\nreference: INV-{n}\n")
    fs["files"] = dict(sorted(fs["files"].items()))


def _people(state: dict[str, Any]) -> list[str]:
    if "bank" in state:
        return [a["owner"] for a in state["bank"]["accounts"].values()]
    return [o["customer"] for o in state["orders"]["orders"].values()]


def _open_titled(s: Session, prefix: str) -> list[dict[str, Any]]:
    return [t for t in s.state["tickets"]["tickets"].values()
            if t["status"] == "open" and t["title"].startswith(prefix)]


@needs(4)
def refund_ticket(s: Session) -> Piece | None:
    orders = s.state["orders"]["orders"]
    options = [t for t in _open_titled(s, "Refund for order ")
               if orders.get(t["title"].rsplit(" ", 1)[1], {}).get("status") == "pending"]
    payout = "bank" in s.state
    if payout:  # the refund is paid into the customer's first unfrozen account, so they need one
        options = [t for t in options if any(a["owner"] == t["customer"] and not a["frozen"]
                                             for a in s.state["bank"]["accounts"].values())]
    if not options or s.budget < (6 if payout else 4):
        return None
    ticket = s.rng.choice(options)
    got = s.call(f"Reading {ticket['id']} to see which order it is about.", "get_ticket", {"ticket_id": ticket["id"]})
    order_id = got["title"].rsplit(" ", 1)[1]
    cancelled = s.call(f"It is about {order_id}; cancelling that order.", "cancel_order", {"order_id": order_id}, got)
    note = f"Order {order_id} cancelled, refund ${cancelled['refund']}."
    if payout:
        customer = got["customer"]
        listed = s.call(f"Refund of ${cancelled['refund']} is due; finding {customer}'s accounts.", "list_accounts",
                        {"owner": customer}, got)
        account = next(a["id"] for a in listed["accounts"] if not a["frozen"])
        paid = s.call(f"Paying the refund into {account}, the first unfrozen account.", "deposit",
                      {"account_id": account, "amount": cancelled["refund"], "memo": f"refund {order_id}"},
                      cancelled, listed)
        note = f"Order {order_id} cancelled, ${cancelled['refund']} refunded to {account} ({paid['transaction_id']})."
        s.output("refund_transaction", paid, "transaction_id", label="the refund's transaction id")
    s.call("Recording what was done on the ticket.", "add_comment", {"ticket_id": ticket["id"], "text": note}, cancelled)
    s.call("Marking the ticket resolved.", "update_status", {"ticket_id": ticket["id"], "status": "resolved"}, got)
    refund = s.output("refund_amount", cancelled, "refund", label="the refund amount")
    how = " pay the refund into their first unfrozen account," if payout else ""
    request = s.rng.choice((f"Handle ticket {ticket['id']}: cancel the order it mentions,{how} note it on the ticket and "
                            "resolve it.",
                            f"Please process the refund request in {ticket['id']} end to end (cancel the order,{how} "
                            "comment, resolve) and tell me the amount."))
    return Piece(request, f"{note} Ticket {ticket['id']} is resolved; the refund came to ${refund}.")


@needs(3)
def shipping_update(s: Session) -> Piece | None:
    options = [t for t in _open_titled(s, "Where is order ")
               if t["title"].removeprefix("Where is order ").rstrip("?") in s.state["orders"]["orders"]]
    if not options or s.budget < 3:
        return None
    ticket = s.rng.choice(options)
    got = s.call(f"Reading {ticket['id']}.", "get_ticket", {"ticket_id": ticket["id"]})
    order_id = got["title"].removeprefix("Where is order ").rstrip("?")
    order = s.call(f"The customer asks about {order_id}; checking it.", "get_order", {"order_id": order_id}, got)
    s.call("Answering on the ticket.", "add_comment",
           {"ticket_id": ticket["id"], "text": f"Order {order_id} is {order['status']}."}, order)
    status = s.output("order_status", order, "status", label=f"the status of {order_id}")
    request = s.rng.choice((f"Answer the question in ticket {ticket['id']} with a comment giving the order's status.",
                            f"Ticket {ticket['id']} asks where an order is. Look it up, reply on the ticket, and tell me too."))
    return Piece(request, f"Order {order_id} is {status}; I said so on {ticket['id']}.")


@needs(3)
def order_from_file(s: Session) -> Piece | None:
    files, products = s.state["files"]["files"], s.state["orders"]["products"]
    options = [p for p in files if p.startswith("/inbox/order-") and p.endswith(".txt")
               and p.removesuffix(".txt") + ".done" not in files
               and products[read_field(files[p], "sku")]["stock"] >= int(read_field(files[p], "quantity"))]
    if not options or s.budget < 3:
        return None
    path = s.rng.choice(options)
    read = s.call(f"Reading the order request {path}.", "read_file", {"path": path})
    customer, sku = read_field(read["content"], "customer"), read_field(read["content"], "sku")
    quantity = int(read_field(read["content"], "quantity"))
    created = s.call(f"{customer} wants {quantity} x {sku}; placing the order.", "create_order",
                     {"customer": customer, "items": [{"sku": sku, "quantity": quantity}]}, read)
    done = path.removesuffix(".txt") + ".done"
    s.call(f"Writing the confirmation to {done}.", "write_file",
           {"path": done, "content": f"order: {created['order_id']}\ntotal: {created['total']}\n"}, created)
    order_id = s.output("order_id", created, "order_id", label="the new order")
    total = s.output("order_total", created, "total", label="its total")
    s.remember("order", order_id, created, "the order from the inbox file")
    request = s.rng.choice((f"Place the order described in {path} and write 'order: <id>' and 'total: <total>' lines "
                            f"to {done}.",
                            f"There is an order request in {path}. Process it and leave a confirmation file {done} "
                            "with the order id and total."))
    return Piece(request, f"Placed {order_id} (total ${total}) from {path}; confirmation in {done}.")


@needs(5)
def pay_invoice(s: Session) -> Piece | None:
    files, accounts = s.state["files"]["files"], s.state["bank"]["accounts"]
    options = []
    for path in (p for p in files if p.startswith("/inbox/invoice-") and "paid: " not in files[p]):
        text = files[path]
        payer, payee = read_field(text, "payer"), read_field(text, "payee_account")
        live = sorted(a["balance"] for a in accounts.values() if a["owner"] == payer and not a["frozen"])
        if (live and len(live) + 4 <= s.budget and (len(live) == 1 or live[-1] != live[-2])
                and live[-1] >= int(read_field(text, "amount")) and not accounts[payee]["frozen"]
                and accounts[payee]["owner"] != payer):
            options.append(path)
    if not options:
        return None
    path = s.rng.choice(options)
    read = s.call(f"Reading the invoice {path}.", "read_file", {"path": path})
    payer, payee = read_field(read["content"], "payer"), read_field(read["content"], "payee_account")
    amount, reference = int(read_field(read["content"], "amount")), read_field(read["content"], "reference")
    listed = s.call(f"{payer} owes ${amount} to {payee}; listing {payer}'s accounts.", "list_accounts",
                    {"owner": payer}, read)
    live = [a["id"] for a in listed["accounts"] if not a["frozen"]]
    balances = s.parallel("Checking the balance of each unfrozen account.",
                          [("get_balance", {"account_id": i}, (listed,)) for i in live])
    fullest = max(balances, key=lambda o: o["balance"])
    paid = s.call(f"Paying from {fullest['account_id']} (${fullest['balance']}), with the invoice reference as memo.",
                  "transfer", {"from_account": fullest["account_id"], "to_account": payee, "amount": amount,
                               "memo": reference}, read, *balances)
    s.call("Marking the invoice paid.", "append_file", {"path": path, "content": f"paid: {paid['transaction_id']}\n"},
           paid)
    txn = s.output("invoice_payment", paid, "transaction_id", label="the invoice payment's transaction id")
    request = s.rng.choice((f"Pay the invoice in {path} from the payer's fullest unfrozen account (memo: the invoice "
                            "reference), then append a 'paid: <transaction id>' line to the file.",
                            f"Settle {path}: take the money from the payer's unfrozen account with the highest balance, "
                            "use the reference as memo, and mark the file paid with the transaction id."))
    return Piece(request, f"Paid {reference}: ${amount} from {fullest['account_id']} to {payee} as {txn}.")


@needs(2)
def restock_tickets(s: Session) -> Piece | None:
    products = list(s.state["orders"]["products"].values())
    options = [t for t in range(2, 6) if 1 <= sum(p["stock"] < t for p in products) <= min(3, s.budget - 1)]
    if not options:
        return None
    threshold = s.rng.choice(options)
    low = s.call(f"Finding products under {threshold} units.", "list_low_stock", {"threshold": threshold})
    for p in low["products"]:
        new = s.call(f"Opening a restock ticket for {p['sku']}.", "create_ticket",
                     {"title": f"Restock {p['name']} ({p['sku']})", "customer": "Warehouse", "priority": "high",
                      "tags": ["restock"]}, low)
        s.remember("ticket", new["ticket_id"], new, f"the restock ticket for {p['name']}")
    count = s.output("restock_tickets", low, "products", extract="len", label="the number of restock tickets opened")
    request = s.rng.choice((f"For every product with fewer than {threshold} units, open a high-priority ticket "
                            "'Restock <name> (<sku>)' for customer Warehouse, tagged restock.",
                            f"File restock tickets (high priority, customer Warehouse, tag restock, title 'Restock <name> "
                            f"(<sku>)') for all products below {threshold} units. How many did you open?"))
    return Piece(request, f"Opened {count} restock ticket(s).")


@needs(2)
def orders_report(s: Session) -> Piece | None:
    customers = sorted(dict.fromkeys(o["customer"] for o in s.state["orders"]["orders"].values()))
    files = s.state["files"]["files"]
    options = [c for c in customers if f"/reports/orders-{c.lower().replace(' ', '-')}.txt" not in files]
    if not options or s.budget < 2:
        return None
    customer = s.rng.choice(options)
    report = f"/reports/orders-{customer.lower().replace(' ', '-')}.txt"
    listed = s.call(f"Listing {customer}'s orders.", "list_orders", {"customer": customer})
    s.call(f"Writing one line per order to {report}.", "write_file",
           {"path": report, "content": "".join(f"{o['id']} {o['status']} {o['total']}\n" for o in listed["orders"])},
           listed)
    count = s.output("orders_listed", listed, "orders", extract="len",
                     label=f"the number of {customer}'s orders listed")
    request = s.rng.choice((f"Write {customer}'s orders to {report}, one line per order: id, status, total.",
                            f"Export the order history of {customer} into {report} ('<id> <status> <total>' per line) "
                            "and tell me how many orders there are."))
    return Piece(request, f"Wrote {count} order(s) of {customer} to {report}.")


# (template, backends it needs)
TEMPLATES = (
    (refund_ticket, ("orders", "tickets")),
    (shipping_update, ("orders", "tickets")),
    (order_from_file, ("files", "orders")),
    (pay_invoice, ("bank", "files")),
    (restock_tickets, ("orders", "tickets")),
    (orders_report, ("files", "orders")),
)
