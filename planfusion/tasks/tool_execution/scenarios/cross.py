"""Goal templates that span backends (tau-bench style): a value read in one backend drives a call in another.
Every pair of backends has templates of at most three calls, so any multi-backend world can link its
backends from the first request on. ``plant`` adds the linking entities (a refund ticket naming an
order, order requests, invoices and issues dropped as files, account questions on the help desk)."""

from __future__ import annotations

import random
from typing import Any

from planfusion.tasks.tool_execution.scenarios.bank import fresh
from planfusion.tasks.tool_execution.scenarios.session import Piece, Session, needs, read_field
from planfusion.tasks.tool_execution.scenarios.text import plural
from planfusion.tasks.tool_execution.scenarios.vocab import TOPICS

ACCOUNTS_QUESTION = "How many accounts do I have?"
FEE_COMPLAINT = "Charged a fee by mistake"


def plant(state: dict[str, Any], rng: random.Random) -> None:
    """Add cross-backend links to a freshly sampled world (only for the backends it has)."""
    orders, desk = state.get("orders"), state.get("tickets")
    if orders is not None and desk is not None:
        for order in rng.sample(sorted(orders["orders"]), min(3, len(orders["orders"]))):
            pending = orders["orders"][order]["status"] == "pending"
            title = f"Refund for order {order}" if pending else f"Where is order {order}?"
            _ticket(desk, title, orders["orders"][order]["customer"], "refund" if pending else "shipping")
    if "bank" in state and desk is not None:
        owners = sorted({a["owner"] for a in state["bank"]["accounts"].values()})
        for title, tag, owner in zip((ACCOUNTS_QUESTION, FEE_COMPLAINT), ("accounts", "billing"), rng.sample(owners, 2)):
            _ticket(desk, title, owner, tag)
    if "files" not in state:
        return
    fs = state["files"]
    fs["dirs"] = sorted(fs["dirs"] + ["/inbox"])
    people = sorted(_people(state))
    if orders is not None:
        for n in rng.sample(range(10, 99), 3):
            product = rng.choice(sorted(orders["products"]))
            fs["files"][f"/inbox/order-{n}.txt"] = (f"customer: {rng.choice(people)}\nsku: {product}\n"
                                                   f"quantity: {rng.randint(1, 3)}\n")
    if "bank" in state:
        accounts = state["bank"]["accounts"]
        for n in rng.sample(range(100, 999), 3):
            payer, payee = rng.sample(sorted(accounts), 2)
            fs["files"][f"/inbox/invoice-{n}.txt"] = (f"payer: {accounts[payer]['owner']}\npayee_account: {payee}\n"
                                                     f"amount: {rng.randint(2, 40) * 10}\nreference: INV-{n}\n")
    if desk is not None:
        for n in rng.sample(range(10, 99), 2):
            title, tag = rng.choice(TOPICS)
            fs["files"][f"/inbox/issue-{n}.txt"] = (f"customer: {rng.choice(people)}\ntitle: {title}\n"
                                                   f"priority: {rng.choice(('normal', 'high'))}\ntag: {tag}\n")
    fs["files"] = dict(sorted(fs["files"].items()))


def _ticket(desk: dict[str, Any], title: str, customer: str, tag: str) -> None:
    ticket_id = f"T-{desk['next_id']}"
    desk["next_id"] += 1
    desk["tickets"][ticket_id] = {"id": ticket_id, "title": title, "customer": customer, "status": "open",
                                  "priority": "normal", "assignee": None, "tags": [tag], "comments": []}


def _people(state: dict[str, Any]) -> list[str]:
    if "bank" in state:
        return [a["owner"] for a in state["bank"]["accounts"].values()]
    if "orders" in state:
        return [o["customer"] for o in state["orders"]["orders"].values()]
    return [t["customer"] for t in state["tickets"]["tickets"].values()]


def _open_titled(s: Session, prefix: str) -> list[dict[str, Any]]:
    """Open tickets with this title start that no request of this conversation has touched yet."""
    return [t for t in s.state["tickets"]["tickets"].values()
            if t["status"] == "open" and t["title"].startswith(prefix) and s.pristine("tickets", "tickets", t["id"])]


def _slug(text: str) -> str:
    return text.lower().replace(" ", "-")


def _unfrozen(s: Session, owner: str) -> str | None:
    """The owner's first unfrozen account (list_accounts sorts by id), if any."""
    return next((a for a in sorted(s.state["bank"]["accounts"]) if s.state["bank"]["accounts"][a]["owner"] == owner
                 and not s.state["bank"]["accounts"][a]["frozen"]), None)


# ---------------------------------------------------------------- orders + tickets (+ bank)


@needs(4)
def refund_ticket(s: Session) -> Piece | None:
    orders = s.state["orders"]["orders"]
    options = [t for t in _open_titled(s, "Refund for order ")
               if orders.get(t["title"].rsplit(" ", 1)[1], {}).get("status") == "pending"
               and s.pristine("orders", "orders", t["title"].rsplit(" ", 1)[1])]
    payout = "bank" in s.state
    if payout:  # the refund is paid into the customer's first unfrozen account, so they need one
        options = [t for t in options if (a := _unfrozen(s, t["customer"])) is not None
                   and fresh(s, {a: orders[t["title"].rsplit(" ", 1)[1]]["total"]})]
    if not options or s.budget < (6 if payout else 4):
        return None
    ticket = s.rng.choice(options)
    got = s.call(f"Reading {ticket['id']} to see which order it is about.", "get_ticket", {"ticket_id": ticket["id"]})
    order_id = got["title"].rsplit(" ", 1)[1]
    cancelled = s.call(f"It is about {order_id}; cancelling that order.", "cancel_order", {"order_id": order_id}, got)
    note = f"Order {order_id} cancelled, refund ${cancelled['refund']}."
    if payout:
        customer = got["customer"]
        listed = s.call(f"A refund of ${cancelled['refund']} is due; finding {customer}'s accounts.", "list_accounts",
                        {"owner": customer}, got)
        account = next(a["id"] for a in listed["accounts"] if not a["frozen"])
        paid = s.call(f"Paying the refund into {account}, the first unfrozen account.", "deposit",
                      {"account_id": account, "amount": cancelled["refund"], "memo": f"refund {order_id}"},
                      cancelled, listed)
        note = f"Order {order_id} cancelled, ${cancelled['refund']} refunded to {account} ({paid['transaction_id']})."
        s.output("refund_transaction", paid, "transaction_id", label="the refund's transaction id")
    s.call("Recording what was done on the ticket.", "add_comment", {"ticket_id": ticket["id"], "text": note}, cancelled)
    s.call("Marking the ticket resolved.", "update_status", {"ticket_id": ticket["id"], "status": "resolved"}, got)
    refund = s.output("refund_amount", cancelled, "refund", label=f"the refund for {order_id}")
    how = " pay the refund into their first unfrozen account," if payout else ""
    request = s.say(f"Handle ticket {ticket['id']}: cancel the order it mentions,{how} note it on the ticket and "
                    "resolve it.",
                    f"Please process the refund request in {ticket['id']} end to end (cancel the order,{how} comment, "
                    "resolve) and tell me the amount.",
                    f"{ticket['id']} asks for a refund. Cancel the order named there,{how} leave a comment saying what "
                    "you did, and set the ticket to resolved.",
                    f"Work through the refund in {ticket['id']}: the order it names gets cancelled,{how} the ticket gets "
                    "a note and is resolved. How much was refunded?")
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
    request = s.say(f"Answer the question in ticket {ticket['id']} with a comment giving the order's status.",
                    f"Ticket {ticket['id']} asks where an order is. Look it up, reply on the ticket, and tell me too.",
                    f"A customer is waiting on {ticket['id']}. Check the order it mentions and post its status as a "
                    "comment.",
                    f"Please reply to {ticket['id']} with the current status of the order it is about.")
    return Piece(request, f"Order {order_id} is {status}; I said so on {ticket['id']}.")


@needs(2)
def restock_tickets(s: Session) -> Piece | None:
    products = list(s.state["orders"]["products"].values())
    titles = {t["title"] for t in s.state["tickets"]["tickets"].values()}
    options = [t for t in range(2, 6) if 1 <= sum(p["stock"] < t for p in products) <= min(3, s.budget - 1)
               and not any(f"Restock {p['name']} ({p['sku']})" in titles for p in products if p["stock"] < t)]
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
    request = s.say(f"For every product with fewer than {threshold} units, open a high-priority ticket 'Restock <name> "
                    "(<sku>)' for customer Warehouse, tagged restock.",
                    f"File restock tickets (high priority, customer Warehouse, tag restock, title 'Restock <name> "
                    f"(<sku>)') for all products below {threshold} units. How many did you open?",
                    f"The warehouse needs to know what is running out: one ticket per product under {threshold} units, "
                    "titled 'Restock <name> (<sku>)', customer Warehouse, high priority, tag restock.",
                    f"Please raise a high-priority restock ticket for each product with less than {threshold} in stock "
                    "(customer Warehouse, tag restock, title 'Restock <name> (<sku>)').")
    return Piece(request, f"Opened {plural(count, 'restock ticket')}.")


@needs(2)
def order_complaint(s: Session) -> Piece | None:
    titles = {t["title"] for t in s.state["tickets"]["tickets"].values()}
    options = []
    for order in s.state["orders"]["orders"].values():
        mine = [o["id"] for o in s.state["orders"]["orders"].values()
                if o["customer"] == order["customer"] and o["status"] == "shipped"]
        if (order["status"] == "shipped" and order["id"] == max(mine)
                and f"Damaged items in order {order['id']}" not in titles):
            options.append(order["customer"])
    if not options or s.budget < 2:
        return None
    customer = s.rng.choice(sorted(options))
    listed = s.call(f"Listing {customer}'s shipped orders.", "list_orders", {"customer": customer, "status": "shipped"})
    latest = max(o["id"] for o in listed["orders"])
    new = s.call(f"The latest delivery is {latest}; opening the ticket.", "create_ticket",
                 {"title": f"Damaged items in order {latest}", "customer": customer, "priority": "high",
                  "tags": ["damage"]}, listed)
    new_id = s.output("damage_ticket", new, "ticket_id", label="the damage ticket")
    s.remember("ticket", new_id, new, "the damage ticket")
    request = s.say(f"{customer} says their last delivered order arrived damaged. Open a high-priority ticket 'Damaged "
                    "items in order <id>' for them, tagged damage.",
                    f"Log a damage report for {customer}'s most recent shipped order: ticket title 'Damaged items in "
                    "order <id>', high priority, tag damage. What is the ticket id?",
                    f"Please file a high-priority 'Damaged items in order <id>' ticket (tag damage) for the latest "
                    f"order {customer} received.",
                    f"{customer} called about broken items in the order we shipped them last. Open the usual 'Damaged "
                    "items in order <id>' ticket, high priority with tag damage.")
    return Piece(request, f"Opened {new_id} about {latest} for {customer}.")


# ---------------------------------------------------------------- files + orders


@needs(3)
def order_from_file(s: Session) -> Piece | None:
    files, products = s.state["files"]["files"], s.state["orders"]["products"]
    options = [p for p in files if p.startswith("/inbox/order-") and p.endswith(".txt")
               and p.removesuffix(".txt") + ".done" not in files
               and products[read_field(files[p], "sku")]["stock"] >= int(read_field(files[p], "quantity"))
               and s.pristine("orders", "products", read_field(files[p], "sku"), "stock")]
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
    request = s.say(f"Place the order described in {path} and write 'order: <id>' and 'total: <total>' lines to "
                    f"{done}.",
                    f"There is an order request in {path}. Process it and leave a confirmation file {done} with the "
                    "order id and total.",
                    f"Please book the order from {path}, then confirm it in {done} ('order: <id>', 'total: <total>').",
                    f"{path} came in overnight. Turn it into an order and record the id and total in {done}.")
    return Piece(request, f"Placed {order_id} (total ${total}) from {path}; confirmation in {done}.")


@needs(2)
def orders_report(s: Session) -> Piece | None:
    customers = sorted(dict.fromkeys(o["customer"] for o in s.state["orders"]["orders"].values()))
    files = s.state["files"]["files"]
    options = [c for c in customers if f"/reports/orders-{_slug(c)}.txt" not in files]
    if not options or s.budget < 2:
        return None
    customer = s.rng.choice(options)
    report = f"/reports/orders-{_slug(customer)}.txt"
    listed = s.call(f"Listing {customer}'s orders.", "list_orders", {"customer": customer})
    s.call(f"Writing one line per order to {report}.", "write_file",
           {"path": report, "content": "".join(f"{o['id']} {o['status']} {o['total']}\n" for o in listed["orders"])},
           listed)
    count = s.output("orders_listed", listed, "orders", extract="len", label=f"the number of {customer}'s orders listed")
    request = s.say(f"Write {customer}'s orders to {report}, one line per order: id, status, total.",
                    f"Export the order history of {customer} into {report} ('<id> <status> <total>' per line) and tell "
                    "me how many orders there are.",
                    f"Accounting wants {customer}'s orders in a file. Put them in {report} as '<id> <status> <total>' "
                    "lines.",
                    f"Please save a list of all of {customer}'s orders to {report}, each line giving id, status and "
                    "total.")
    return Piece(request, f"Wrote {plural(count, 'order')} of {customer} to {report}.")


@needs(2)
def price_list(s: Session) -> Piece | None:
    products = s.state["orders"]["products"].values()
    nouns = sorted({p["name"].split(" ", 1)[1] for p in products})
    options = [n for n in nouns if f"/reports/prices-{_slug(n)}.txt" not in s.state["files"]["files"]]
    if not options or s.budget < 2:
        return None
    noun = s.rng.choice(options)
    report = f"/reports/prices-{_slug(noun)}.txt"
    found = s.call(f"Searching the catalogue for '{noun}'.", "search_products", {"query": noun})
    s.call(f"Writing the price list to {report}.", "write_file",
           {"path": report, "content": "".join(f"{p['sku']} {p['name']}: ${p['price']}\n" for p in found["products"])},
           found)
    count = s.output("priced", found, "products", extract="len", label=f"the number of products matching '{noun}'")
    request = s.say(f"Make a price list of every product whose name contains '{noun}' in {report}, one '<sku> <name>: "
                    "$<price>' line each.",
                    f"Write the current prices of all '{noun}' products to {report} ('<sku> <name>: $<price>' per line).",
                    f"A customer asked what our '{noun}' products cost. Save them to {report} as '<sku> <name>: "
                    "$<price>' lines and tell me how many there are.",
                    f"Please export the '{noun}' range with prices into {report}, formatted '<sku> <name>: $<price>'.")
    return Piece(request, f"{report} lists {plural(count, 'product')} matching '{noun}'.")


@needs(2)
def low_stock_report(s: Session) -> Piece | None:
    products = list(s.state["orders"]["products"].values())
    files = s.state["files"]["files"]
    options = [t for t in range(2, 8) if 1 <= sum(p["stock"] < t for p in products) <= 6
               and f"/reports/low-stock-{t}.txt" not in files]
    if not options or s.budget < 2:
        return None
    threshold = s.rng.choice(options)
    report = f"/reports/low-stock-{threshold}.txt"
    low = s.call(f"Listing products under {threshold} units.", "list_low_stock", {"threshold": threshold})
    s.call(f"Writing them to {report}.", "write_file",
           {"path": report, "content": "".join(f"{p['sku']} {p['stock']}\n" for p in low["products"])}, low)
    count = s.output("low_stock", low, "products", extract="len", label=f"the number of products under {threshold} units")
    request = s.say(f"Write every product with fewer than {threshold} units to {report}, one '<sku> <stock>' line each.",
                    f"Which products are below {threshold} in stock? Save them to {report} as '<sku> <stock>' lines.",
                    f"Purchasing needs a low-stock list (threshold {threshold}) in {report}, formatted '<sku> <stock>'.",
                    f"Please put the products with less than {threshold} units into {report} ('<sku> <stock>' per "
                    "line) and tell me how many there are.")
    return Piece(request, f"{report} lists {plural(count, 'product')} under {threshold} units.")


# ---------------------------------------------------------------- files + bank


@needs(5)
def pay_invoice(s: Session) -> Piece | None:
    files, accounts = s.state["files"]["files"], s.state["bank"]["accounts"]
    options = []
    for path in (p for p in files if p.startswith("/inbox/invoice-") and "paid: " not in files[p]):
        text = files[path]
        payer, payee, amount = read_field(text, "payer"), read_field(text, "payee_account"), int(read_field(text, "amount"))
        live = sorted(((a["balance"], a["id"]) for a in accounts.values() if a["owner"] == payer and not a["frozen"]),
                      reverse=True)
        if (live and len(live) + 4 <= s.budget and (len(live) == 1 or live[0][0] != live[1][0])
                and live[0][0] >= amount and not accounts[payee]["frozen"] and accounts[payee]["owner"] != payer
                and fresh(s, {live[0][1]: -amount, payee: amount})):
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
    request = s.say(f"Pay the invoice in {path} from the payer's fullest unfrozen account (memo: the invoice "
                    "reference), then append a 'paid: <transaction id>' line to the file.",
                    f"Settle {path}: take the money from the payer's unfrozen account with the highest balance, use the "
                    "reference as memo, and mark the file paid with the transaction id.",
                    f"Please handle the invoice {path}. The payer's richest unfrozen account pays, the memo is the "
                    "invoice reference, and the file gets a 'paid: <transaction id>' line.",
                    f"{path} is due today. Pay it out of the payer's unfrozen account holding the most, with the "
                    "reference as memo, and note 'paid: <transaction id>' at the end of the file.")
    return Piece(request, f"Paid {reference}: ${amount} from {fullest['account_id']} to {payee} as {txn}.")


@needs(2)
def statement_file(s: Session) -> Piece | None:
    files = s.state["files"]["files"]
    busy = sorted({a for t in s.state["bank"]["transactions"] for a in (t["from"], t["to"]) if a is not None})
    options = [a for a in busy if f"/reports/statement-{a}.txt" not in files]
    if not options or s.budget < 2:
        return None
    account = s.rng.choice(options)
    report = f"/reports/statement-{account}.txt"
    history = s.call(f"Reading the last five transactions of {account}.", "list_transactions",
                     {"account_id": account, "limit": 5})
    s.call(f"Writing the statement to {report}.", "write_file",
           {"path": report, "content": "".join(f"{t['id']} {t['amount']} {t['memo']}\n" for t in history["transactions"])},
           history)
    count = s.output("statement_lines", history, "transactions", extract="len", label=f"the number of lines in {report}")
    request = s.say(f"Write the last five transactions of {account} to {report}, one '<id> <amount> <memo>' line each.",
                    f"Put a mini statement of {account} (up to five latest transactions as '<id> <amount> <memo>') into "
                    f"{report}.",
                    f"The owner of {account} wants a statement. Save its five most recent transactions to {report}, "
                    "formatted '<id> <amount> <memo>'.",
                    f"Please export the recent activity of {account} (at most five transactions) to {report} and tell "
                    "me how many lines it has.")
    return Piece(request, f"{report} holds {plural(count, 'transaction')} of {account}.")


@needs(3)
def balance_report(s: Session) -> Piece | None:
    files = s.state["files"]["files"]
    owners = sorted({a["owner"] for a in s.state["bank"]["accounts"].values()})
    options = [o for o in owners if f"/reports/balances-{_slug(o)}.txt" not in files
               and sum(a["owner"] == o for a in s.state["bank"]["accounts"].values()) + 2 <= s.budget]
    if not options:
        return None
    owner = s.rng.choice(options)
    report = f"/reports/balances-{_slug(owner)}.txt"
    listed = s.call(f"Listing {owner}'s accounts.", "list_accounts", {"owner": owner})
    balances = s.parallel(f"{plural(len(listed['accounts']), 'account')}; reading each balance.",
                          [("get_balance", {"account_id": a["id"]}, (listed,)) for a in listed["accounts"]])
    s.call(f"Writing the balances to {report}.", "write_file",
           {"path": report, "content": "".join(f"{b['account_id']} {b['balance']}\n" for b in balances)}, *balances)
    count = s.output("reported_accounts", listed, "accounts", extract="len", label=f"the number of {owner}'s accounts")
    request = s.say(f"Write the balance of each of {owner}'s accounts to {report}, one '<account> <balance>' line each.",
                    f"Save an overview of {owner}'s balances in {report} ('<account> <balance>' per account).",
                    f"{owner} asked for their balances in writing. Put every account with its balance into {report}.",
                    f"Please list all of {owner}'s accounts with their current balances in {report} and tell me how "
                    "many accounts that is.")
    return Piece(request, f"{report} lists {plural(count, 'account')} of {owner}.")


# ---------------------------------------------------------------- files + tickets


@needs(2)
def queue_report(s: Session) -> Piece | None:
    files, tickets = s.state["files"]["files"], s.state["tickets"]["tickets"].values()
    options = [a for a in sorted(s.state["tickets"]["agents"]) if f"/reports/queue-{a}.txt" not in files
               and 1 <= sum(t["assignee"] == a and t["status"] == "open" for t in tickets) <= 6]
    if not options or s.budget < 2:
        return None
    agent = s.rng.choice(options)
    report = f"/reports/queue-{agent}.txt"
    found = s.call(f"Finding {agent}'s open tickets.", "search_tickets", {"assignee": agent, "status": "open"})
    s.call(f"Writing the queue to {report}.", "write_file",
           {"path": report, "content": "".join(f"{t['id']} {t['priority']} {t['title']}\n" for t in found["tickets"])},
           found)
    count = s.output("queued", found, "tickets", extract="len", label=f"the number of tickets in {agent}'s queue")
    request = s.say(f"Write {agent}'s open tickets to {report}, one '<id> <priority> <title>' line each.",
                    f"Save the open queue of {agent} in {report} ('<id> <priority> <title>' per ticket) and tell me its "
                    "length.",
                    f"{agent} wants a printout of their open tickets. Put them in {report}, one per line with id, "
                    "priority and title.",
                    f"Please dump {agent}'s open tickets into {report} as '<id> <priority> <title>' lines.")
    return Piece(request, f"{report} lists {plural(count, 'open ticket')} of {agent}.")


@needs(3)
def file_ticket(s: Session) -> Piece | None:
    files = s.state["files"]["files"]
    options = [p for p in files if p.startswith("/inbox/issue-") and "ticket: " not in files[p]]
    if not options or s.budget < 3:
        return None
    path = s.rng.choice(options)
    read = s.call(f"Reading the issue report {path}.", "read_file", {"path": path})
    fields = {k: read_field(read["content"], k) for k in ("customer", "title", "priority", "tag")}
    new = s.call(f"{fields['customer']} reports '{fields['title']}'; opening a {fields['priority']} ticket.",
                 "create_ticket", {"title": fields["title"], "customer": fields["customer"],
                                   "priority": fields["priority"], "tags": [fields["tag"]]}, read)
    s.call("Recording the ticket id in the file.", "append_file",
           {"path": path, "content": f"ticket: {new['ticket_id']}\n"}, new)
    new_id = s.output("filed_ticket", new, "ticket_id", label="the ticket opened")
    s.remember("ticket", new_id, new, "the ticket from the inbox")
    request = s.say(f"Open a ticket for the issue described in {path} (customer, title, priority and tag are in the "
                    "file) and append a 'ticket: <id>' line to it.",
                    f"There is an issue report in {path}. File it on the help desk and note the new ticket id in the "
                    "file as 'ticket: <id>'.",
                    f"Please turn {path} into a ticket with the details it gives, then mark the file with 'ticket: <id>'.",
                    f"{path} was dropped in the inbox. Create the ticket it asks for and write 'ticket: <id>' at the end "
                    "of the file.")
    return Piece(request, f"Opened {new_id} for {fields['customer']} from {path} and noted it in the file.")


# ---------------------------------------------------------------- bank + tickets


@needs(3)
def accounts_reply(s: Session) -> Piece | None:
    options = _open_titled(s, ACCOUNTS_QUESTION)
    if not options or s.budget < 3:
        return None
    ticket = s.rng.choice(options)
    got = s.call(f"Reading {ticket['id']} to see who is asking.", "get_ticket", {"ticket_id": ticket["id"]})
    listed = s.call(f"{got['customer']} asks; listing their accounts.", "list_accounts", {"owner": got["customer"]}, got)
    n = len(listed["accounts"])
    s.call("Answering on the ticket.", "add_comment",
           {"ticket_id": ticket["id"], "text": f"You have {plural(n, 'account')} with us."}, listed)
    count = s.output("accounts_answered", listed, "accounts", extract="len",
                     label=f"the number of accounts of {got['customer']}")
    request = s.say(f"Answer the question in {ticket['id']} with a comment, using the bank records.",
                    f"A customer asks in {ticket['id']} how many accounts they hold. Look it up and reply on the ticket.",
                    f"Please check the bank for the customer of {ticket['id']} and post the number of their accounts as "
                    "a comment.",
                    f"{ticket['id']} is an account question. Reply on it with the right count and tell me the number.")
    return Piece(request, f"{got['customer']} has {plural(count, 'account')}; I replied on {ticket['id']}.")


@needs(5)
def goodwill_credit(s: Session) -> Piece | None:
    options = [t for t in _open_titled(s, FEE_COMPLAINT) if _unfrozen(s, t["customer"]) is not None]
    if not options or s.budget < 5:
        return None
    ticket, amount = s.rng.choice(options), s.rng.choice((10, 15, 20, 25, 30))
    if not fresh(s, {_unfrozen(s, ticket["customer"]): amount}):
        return None
    got = s.call(f"Reading {ticket['id']}.", "get_ticket", {"ticket_id": ticket["id"]})
    listed = s.call(f"It is from {got['customer']}; finding their accounts.", "list_accounts",
                    {"owner": got["customer"]}, got)
    account = next(a["id"] for a in listed["accounts"] if not a["frozen"])
    paid = s.call(f"Crediting ${amount} to {account}, their first unfrozen account.", "deposit",
                  {"account_id": account, "amount": amount, "memo": f"goodwill {ticket['id']}"}, got, listed)
    s.call("Telling the customer on the ticket.", "add_comment",
           {"ticket_id": ticket["id"], "text": f"We credited ${amount} to {account} ({paid['transaction_id']})."}, paid)
    s.call("Resolving the ticket.", "update_status", {"ticket_id": ticket["id"], "status": "resolved"}, got)
    txn = s.output("goodwill_transaction", paid, "transaction_id", label="the credit's transaction id")
    request = s.say(f"Refund the fee complained about in {ticket['id']}: deposit ${amount} (memo 'goodwill "
                    f"{ticket['id']}') into the customer's first unfrozen account, comment on the ticket and resolve it.",
                    f"Give the customer of {ticket['id']} a ${amount} goodwill credit on their first unfrozen account "
                    f"(memo 'goodwill {ticket['id']}'), tell them on the ticket, and close it as resolved.",
                    f"Please settle {ticket['id']} with a ${amount} credit (memo 'goodwill {ticket['id']}') to the "
                    "customer's first unfrozen account; note the transaction on the ticket and resolve it.",
                    f"{ticket['id']} is a fee complaint we accept. Pay ${amount} back into the customer's first "
                    f"unfrozen account with memo 'goodwill {ticket['id']}', comment, and resolve.")
    return Piece(request, f"Credited ${amount} to {account} as {txn}, commented on {ticket['id']} and resolved it.")


# ---------------------------------------------------------------- orders + bank


@needs(2)
def refund_to_account(s: Session) -> Piece | None:
    options = []
    for order in s.state["orders"]["orders"].values():
        account = _unfrozen(s, order["customer"])
        if (order["status"] == "pending" and account is not None and s.pristine("orders", "orders", order["id"])
                and fresh(s, {account: order["total"]})):
            options.append((order["id"], order["customer"], account))
    if not options or s.budget < 2:
        return None
    order_id, customer, account = s.rng.choice(options)
    done = s.call(f"Cancelling {order_id}.", "cancel_order", {"order_id": order_id})
    paid = s.call(f"Refund is ${done['refund']}; paying it into {account}.", "deposit",
                  {"account_id": account, "amount": done["refund"], "memo": f"refund {order_id}"}, done)
    refund = s.output("account_refund", done, "refund", label=f"the refund for {order_id}")
    txn = s.output("account_refund_transaction", paid, "transaction_id", label="the transaction paying it")
    request = s.say(f"Cancel order {order_id} and pay the refund into {customer}'s account {account} (memo 'refund "
                    f"{order_id}').",
                    f"{customer} does not want {order_id} any more. Cancel it and deposit the refund to {account} with "
                    f"memo 'refund {order_id}'.",
                    f"Please call off {order_id} and send the money back to {account}, memo 'refund {order_id}'; how much "
                    "was it?",
                    f"Refund {order_id} to {account}: cancel the order first, then deposit whatever it refunds (memo "
                    f"'refund {order_id}').")
    return Piece(request, f"Cancelled {order_id} and deposited the ${refund} refund into {account} ({txn}).")


@needs(4)
def refund_order(s: Session) -> Piece | None:
    options = []
    for customer in sorted({o["customer"] for o in s.state["orders"]["orders"].values() if o["status"] == "pending"}):
        latest = max(o["id"] for o in s.state["orders"]["orders"].values()
                     if o["customer"] == customer and o["status"] == "pending")
        account = _unfrozen(s, customer)
        if (account is not None and s.pristine("orders", "orders", latest)
                and fresh(s, {account: s.state["orders"]["orders"][latest]["total"]})):
            options.append(customer)
    if not options or s.budget < 4:
        return None
    customer = s.rng.choice(options)
    listed = s.call(f"Listing {customer}'s pending orders.", "list_orders", {"customer": customer, "status": "pending"})
    latest = max(o["id"] for o in listed["orders"])
    done = s.call(f"The newest is {latest}; cancelling it.", "cancel_order", {"order_id": latest}, listed)
    accounts = s.call(f"Finding {customer}'s accounts for the ${done['refund']} refund.", "list_accounts",
                      {"owner": customer})
    account = next(a["id"] for a in accounts["accounts"] if not a["frozen"])
    paid = s.call(f"Depositing it into {account}, the first unfrozen one.", "deposit",
                  {"account_id": account, "amount": done["refund"], "memo": f"refund {latest}"}, done, accounts)
    s.output("refunded_order", done, "order_id", label="the cancelled order")
    txn = s.output("refund_deposit", paid, "transaction_id", label="the refund's transaction id")
    request = s.say(f"{customer} wants their money back for their latest pending order. Cancel it and deposit the refund "
                    "into their first unfrozen account (memo 'refund <order id>').",
                    f"Cancel {customer}'s most recent pending order and pay the refund to their first unfrozen account "
                    "with memo 'refund <order id>'.",
                    f"Please refund {customer}'s newest unshipped order: cancel it, then deposit the amount into the "
                    "first of their accounts that is not frozen, memo 'refund <order id>'.",
                    f"{customer} returned the goods of their last pending order before it shipped. Cancel it and credit "
                    "the refund (memo 'refund <order id>') to their first unfrozen account.")
    return Piece(request, f"Cancelled {latest} and refunded ${done['refund']} to {account} ({txn}).")


@needs(3)
def reimburse_order(s: Session) -> Piece | None:
    orders = s.state["orders"]["orders"]
    options = []
    for customer in sorted({o["customer"] for o in orders.values()}):
        latest, account = max(o["id"] for o in orders.values() if o["customer"] == customer), _unfrozen(s, customer)
        if account is not None and fresh(s, {account: orders[latest]["total"]}):
            options.append(customer)
    if not options or s.budget < 3:
        return None
    customer = s.rng.choice(options)
    listed = s.call(f"Listing {customer}'s orders to find the latest.", "list_orders", {"customer": customer})
    latest = listed["orders"][-1]
    accounts = s.call(f"{latest['id']} came to ${latest['total']}; finding {customer}'s accounts.", "list_accounts",
                      {"owner": customer})
    account = next(a["id"] for a in accounts["accounts"] if not a["frozen"])
    paid = s.call(f"Depositing ${latest['total']} into {account}, the first unfrozen one.", "deposit",
                  {"account_id": account, "amount": latest["total"], "memo": f"reimbursement {latest['id']}"},
                  listed, accounts)
    amount = s.output("reimbursed", paid, "amount", where="arguments", label="the amount reimbursed")
    txn = s.output("reimbursement", paid, "transaction_id", label="its transaction id")
    request = s.say(f"{customer}'s employer covers their latest order. Deposit its total into their first unfrozen "
                    "account with memo 'reimbursement <order id>'.",
                    f"Reimburse {customer} for the most recent order they placed: pay the order total into their first "
                    "unfrozen account (memo 'reimbursement <order id>').",
                    f"Please credit {customer} with the amount of their newest order, to the first account of theirs "
                    "that is not frozen, memo 'reimbursement <order id>'. How much was it?",
                    f"Expenses approved for {customer}'s last order: deposit exactly its total (memo 'reimbursement "
                    "<order id>') into their first unfrozen account and give me the transaction id.")
    return Piece(request, f"Deposited ${amount} for {latest['id']} into {account} ({txn}).")


# (template, backends it needs)
TEMPLATES = (
    (refund_ticket, ("orders", "tickets")),
    (shipping_update, ("orders", "tickets")),
    (restock_tickets, ("orders", "tickets")),
    (order_complaint, ("orders", "tickets")),
    (order_from_file, ("files", "orders")),
    (orders_report, ("files", "orders")),
    (price_list, ("files", "orders")),
    (low_stock_report, ("files", "orders")),
    (pay_invoice, ("bank", "files")),
    (statement_file, ("bank", "files")),
    (balance_report, ("bank", "files")),
    (queue_report, ("files", "tickets")),
    (file_ticket, ("files", "tickets")),
    (accounts_reply, ("bank", "tickets")),
    (goodwill_credit, ("bank", "tickets")),
    (refund_to_account, ("bank", "orders")),
    (refund_order, ("bank", "orders")),
    (reimburse_order, ("bank", "orders")),
)
