"""Goal templates over the shop: order by product name, cancel, restock, ship, discount, look up."""

from __future__ import annotations

from typing import Any

from planfusion.tasks.tool_execution.scenarios.session import Obs, Piece, Session, needs


def _customers(s: Session, status: str | None = None, most: int = 99) -> list[str]:
    orders = s.state["orders"]["orders"].values()
    counts: dict[str, int] = {}
    for order in orders:
        if status is None or order["status"] == status:
            counts[order["customer"]] = counts.get(order["customer"], 0) + 1
    return sorted(c for c, n in counts.items() if n <= most)


def _latest(s: Session, customer: str, status: str | None = None) -> str:
    return max(o["id"] for o in s.state["orders"]["orders"].values()
               if o["customer"] == customer and (status is None or o["status"] == status))


def _writes(s: Session, think: str, specs: list[tuple[str, dict[str, Any], tuple[Obs, ...]]]) -> None:
    if len(specs) > 1 and s.rng.random() < 0.4:
        s.parallel(think, specs)
        return
    for i, (name, arguments, uses) in enumerate(specs):
        s.call(think if i == 0 else f"Next {next(iter(arguments.values()))}.", name, arguments, *uses)


@needs(2)
def place_order(s: Session) -> Piece | None:
    products = s.state["orders"]["products"].values()
    names = [p["name"] for p in products]
    options = [p for p in products if p["stock"] >= 1 and names.count(p["name"]) == 1
               and s.pristine("orders", "products", p["sku"], "stock")]  # stock moved already: it might move back
    if not options or s.budget < 2:
        return None
    picks = [s.rng.choice(options)]
    others = [p for p in options if p["name"].split(" ", 1)[1] != picks[0]["name"].split(" ", 1)[1]]
    if others and s.budget >= 3 and s.rng.random() < 0.4:
        picks.append(s.rng.choice(others))  # a different noun, so the two searches differ
    customer = s.rng.choice(s.people)
    wanted = [(p["name"], s.rng.randint(1, min(3, p["stock"]))) for p in picks]
    specs = [("search_products", {"query": name.split(" ", 1)[1]}, ()) for name, _ in wanted]
    think = "I need the sku of " + " and of ".join(f"the {name}" for name, _ in wanted) + "."
    found = s.parallel(think, specs)
    items, uses = [], []
    for (name, quantity), obs in zip(wanted, found):
        sku = next(p["sku"] for p in obs["products"] if p["name"] == name)
        items.append({"sku": sku, "quantity": quantity})
        uses.append(obs)
    created = s.call("Placing the order with " + ", ".join(f"{i['quantity']} x {i['sku']}" for i in items) + ".",
                     "create_order", {"customer": customer, "items": items}, *uses)
    order_id = s.output("order_id", created, "order_id", label="the new order")
    total = s.output("order_total", created, "total", label="its total")
    s.remember("order", order_id, created, "that new order")
    basket = " and ".join(f"{q} x {name}" for name, q in wanted)
    request = s.rng.choice((f"Order {basket} for {customer}.",
                            f"{customer} wants {basket}. Place the order and tell me the id and total."))
    return Piece(request, f"Placed order {order_id} for {customer} ({basket}); the total is ${total}.")


@needs(2)
def cancel_latest(s: Session) -> Piece | None:
    options = [c for c in _customers(s, "pending") if s.pristine("orders", "orders", _latest(s, c, "pending"))]
    if not options or s.budget < 2:
        return None
    customer = s.rng.choice(options)
    listed = s.call(f"Listing {customer}'s pending orders.", "list_orders", {"customer": customer, "status": "pending"})
    latest = max(o["id"] for o in listed["orders"])
    done = s.call(f"The most recent pending one is {latest}; cancelling it.", "cancel_order", {"order_id": latest}, listed)
    s.output("cancelled_order", done, "order_id", label="the cancelled order")
    refund = s.output("refund", done, "refund", label="the refund amount")
    request = s.rng.choice((f"{customer} changed their mind: cancel their most recent pending order.",
                            f"Cancel the latest pending order of {customer} and tell me the refund amount."))
    return Piece(request, f"Cancelled {latest} for {customer}; the refund is ${refund}.")


@needs(2)
def restock_low(s: Session) -> Piece | None:
    products = list(s.state["orders"]["products"].values())
    options = [t for t in range(2, 7) if 1 <= sum(p["stock"] < t for p in products) <= min(4, s.budget - 1)]
    if not options:
        return None
    threshold, level = s.rng.choice(options), s.rng.choice((20, 25, 30))
    low = s.call(f"Finding products with fewer than {threshold} units.", "list_low_stock", {"threshold": threshold})
    _writes(s, f"{len(low['products'])} product(s) to top up to {level} units each.",
            [("restock", {"sku": p["sku"], "quantity": level - p["stock"]}, (low,)) for p in low["products"]])
    count = s.output("restocked", low, "products", extract="len", label="the number of products restocked")
    request = s.rng.choice((f"Bring every product with fewer than {threshold} units in stock up to exactly {level} units.",
                            f"Restock: anything under {threshold} units should end at {level}. How many products was that?"))
    return Piece(request, f"Restocked {count} product(s) to {level} units: "
                          f"{', '.join(p['sku'] for p in low['products'])}.")


@needs(2)
def ship_pending(s: Session) -> Piece | None:
    options = _customers(s, "pending", most=min(4, s.budget - 1))
    if not options:
        return None
    customer = s.rng.choice(options)
    listed = s.call(f"Listing {customer}'s pending orders.", "list_orders", {"customer": customer, "status": "pending"})
    _writes(s, f"{len(listed['orders'])} pending order(s) to ship.",
            [("ship_order", {"order_id": o["id"]}, (listed,)) for o in listed["orders"]])
    count = s.output("shipped", listed, "orders", extract="len", label=f"the number of {customer}'s orders shipped")
    request = s.rng.choice((f"Ship all pending orders of {customer}.",
                            f"Everything {customer} ordered is packed: mark their pending orders shipped and tell me how many."))
    return Piece(request, f"Shipped {count} order(s) for {customer}.")


@needs(2)
def discount(s: Session) -> Piece | None:
    products = s.state["orders"]["products"].values()
    names = [p["name"] for p in products]
    pct = s.rng.choice((10, 20, 25, 50))
    options = [p for p in products if names.count(p["name"]) == 1 and p["price"] * pct // 100 >= 1
               and s.pristine("orders", "products", p["sku"], "price")]
    if not options or s.budget < 2:
        return None
    product = s.rng.choice(options)
    found = s.call(f"Looking up the {product['name']} to get its sku and current price.", "search_products",
                   {"query": product["name"]})
    hit = next(p for p in found["products"] if p["name"] == product["name"])
    new_price = hit["price"] - hit["price"] * pct // 100
    done = s.call(f"{hit['sku']} costs ${hit['price']}; {pct}% off (rounded down to whole dollars off) gives ${new_price}.",
                  "update_price", {"sku": hit["sku"], "price": new_price}, found)
    price = s.output("new_price", done, "price", label=f"the new price of the {product['name']}")
    request = s.rng.choice((f"Put the {product['name']} on sale at {pct}% off (round the discount down to whole dollars).",
                            f"Reduce the price of the {product['name']} by {pct}%, discount rounded down to whole dollars, "
                            "and tell me the new price."))
    return Piece(request, f"The {product['name']} ({hit['sku']}) now costs ${price}.")


@needs(2)
def order_lookup(s: Session) -> Piece | None:
    handle = s.recall("order")
    if s.budget < 2:
        return None
    if handle is not None:
        got = s.call(f"Fetching {handle[0]}.", "get_order", {"order_id": handle[0]}, handle[1])
        what = handle[2]
    else:
        customer = s.rng.choice(_customers(s))
        listed = s.call(f"Listing {customer}'s orders.", "list_orders", {"customer": customer})
        latest = max(o["id"] for o in listed["orders"])
        got = s.call(f"The most recent is {latest}; fetching its details.", "get_order", {"order_id": latest}, listed)
        what = f"{customer}'s most recent order"
    status = s.output("order_status", got, "status", label="the order's status")
    items = s.output("order_lines", got, "items", extract="len", label="the number of products in it")
    return Piece(f"What is the status of {what}, and how many different products are in it?",
                 f"Order {got['id']} is {status} and has {items} product line(s).")


def stock_check(s: Session) -> Piece | None:
    sku = s.rng.choice([k for k in sorted(s.state["orders"]["products"]) if not s.repeats("get_product", {"sku": k})])
    got = s.call(f"Reading {sku}.", "get_product", {"sku": sku})
    stock = s.output(f"{sku}_stock", got, "stock", label=f"the stock of {sku}")
    return Piece(f"How many units of {sku} are in stock?", f"{sku} ({got['name']}) has {stock} units in stock.")


TEMPLATES = (place_order, cancel_latest, restock_low, ship_pending, discount, order_lookup)
FILLERS = (stock_check,)
