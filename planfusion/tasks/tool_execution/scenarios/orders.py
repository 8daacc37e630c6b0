"""Goal templates over the shop: order by product name, reorder, cancel, restock, receive, ship, reprice, look up."""

from __future__ import annotations

from typing import Any

from planfusion.tasks.tool_execution.scenarios.session import Obs, Piece, Session, needs
from planfusion.tasks.tool_execution.scenarios.text import listing, plural


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


def _unique_products(s: Session) -> list[dict[str, Any]]:
    """Products whose name no other product shares, so a search by name finds exactly one."""
    products = list(s.state["orders"]["products"].values())
    names = [p["name"] for p in products]
    return [p for p in products if names.count(p["name"]) == 1]


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
    request = s.say(f"Order {basket} for {customer}.",
                    f"{customer} wants {basket}. Place the order and tell me the id and total.",
                    f"Please put in an order for {customer}: {basket}. What does it come to?",
                    f"New order from {customer} on the phone, {basket}. Book it and give me the order id.")
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
    request = s.say(f"{customer} changed their mind: cancel their most recent pending order.",
                    f"Cancel the latest pending order of {customer} and tell me the refund amount.",
                    f"Please call off {customer}'s newest order that has not shipped yet; how much do they get back?",
                    f"{customer} no longer needs their last pending order. Cancel it and report the refund.")
    return Piece(request, f"Cancelled {latest} for {customer}; the refund is ${refund}.")


@needs(2)
def restock_low(s: Session) -> Piece | None:
    products = list(s.state["orders"]["products"].values())
    options = [t for t in range(2, 7) if 1 <= sum(p["stock"] < t for p in products) <= min(4, s.budget - 1)]
    if not options:
        return None
    threshold, level = s.rng.choice(options), s.rng.choice((20, 25, 30))
    low = s.call(f"Finding products with fewer than {threshold} units.", "list_low_stock", {"threshold": threshold})
    _writes(s, f"{plural(len(low['products']), 'product')} to top up to {level} units each.",
            [("restock", {"sku": p["sku"], "quantity": level - p["stock"]}, (low,)) for p in low["products"]])
    count = s.output("restocked", low, "products", extract="len", label="the number of products restocked")
    request = s.say(f"Bring every product with fewer than {threshold} units in stock up to exactly {level} units.",
                    f"Restock: anything under {threshold} units should end at {level}. How many products was that?",
                    f"We are running low on a few items. Top up each product below {threshold} units to {level} in stock.",
                    f"Please refill the shelves: every product with less than {threshold} units goes to {level} units, "
                    "and tell me how many you touched.")
    return Piece(request, f"Restocked {plural(count, 'product')} to {level} units: "
                          f"{listing([p['sku'] for p in low['products']])}.")


@needs(2)
def ship_pending(s: Session) -> Piece | None:
    options = _customers(s, "pending", most=min(4, s.budget - 1))
    if not options:
        return None
    customer = s.rng.choice(options)
    listed = s.call(f"Listing {customer}'s pending orders.", "list_orders", {"customer": customer, "status": "pending"})
    _writes(s, f"{plural(len(listed['orders']), 'pending order')} to ship.",
            [("ship_order", {"order_id": o["id"]}, (listed,)) for o in listed["orders"]])
    count = s.output("shipped", listed, "orders", extract="len", label=f"the number of {customer}'s orders shipped")
    request = s.say(f"Ship all pending orders of {customer}.",
                    f"Everything {customer} ordered is packed: mark their pending orders shipped and tell me how many.",
                    f"The courier is here for {customer}. Set each of their pending orders to shipped.",
                    f"Please send out whatever {customer} still has pending and give me the number of orders.")
    return Piece(request, f"Shipped {plural(count, 'order')} for {customer}.")


@needs(2)
def discount(s: Session) -> Piece | None:
    pct = s.rng.choice((10, 20, 25, 50))
    options = [p for p in _unique_products(s) if p["price"] * pct // 100 >= 1
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
    request = s.say(f"Put the {product['name']} on sale at {pct}% off (round the discount down to whole dollars).",
                    f"Reduce the price of the {product['name']} by {pct}%, discount rounded down to whole dollars, and "
                    "tell me the new price.",
                    f"Mark the {product['name']} down {pct}%. The discount is rounded down to whole dollars.",
                    f"We are clearing out the {product['name']}: take {pct}% off its price (whole dollars off, rounded "
                    "down) and report the sale price.")
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
    request = s.say(f"What is the status of {what}, and how many different products are in it?",
                    f"Check on {what} for me: is it shipped yet, and how many distinct products does it hold?",
                    f"Where is {what} at, and how many product lines does it have?",
                    f"Give me the status of {what} and its number of different products.")
    return Piece(request, f"Order {got['id']} is {status} and has {plural(items, 'product line')}.")


@needs(3)
def reorder(s: Session) -> Piece | None:
    products, options = s.state["orders"]["products"], []
    for customer in _customers(s, "shipped"):
        last = s.state["orders"]["orders"][_latest(s, customer, "shipped")]
        if all(products.get(i["sku"], {}).get("stock", 0) >= i["quantity"]
               and s.pristine("orders", "products", i["sku"], "stock") for i in last["items"]):
            options.append(customer)
    if not options or s.budget < 3:
        return None
    customer = s.rng.choice(options)
    listed = s.call(f"Listing {customer}'s shipped orders.", "list_orders", {"customer": customer, "status": "shipped"})
    latest = max(o["id"] for o in listed["orders"])
    got = s.call(f"The most recent shipped one is {latest}; reading its items.", "get_order", {"order_id": latest},
                 listed)
    items = [{"sku": i["sku"], "quantity": i["quantity"]} for i in got["items"]]
    created = s.call("Placing the same items again at current prices.", "create_order",
                     {"customer": customer, "items": items}, got)
    order_id = s.output("reorder_id", created, "order_id", label="the repeat order")
    total = s.output("reorder_total", created, "total", label="its total")
    s.remember("order", order_id, created, "the repeat order")
    request = s.say(f"{customer} wants exactly what they got in their last shipped order again. Place it and tell me "
                    "the total.",
                    f"Repeat {customer}'s most recent shipped order (same products and quantities, today's prices).",
                    f"Please reorder for {customer}: copy the items of their latest shipped order into a new order and "
                    "give me its id.",
                    f"Same again for {customer}, the last order of theirs that shipped. What does the new one cost?")
    return Piece(request, f"Placed {order_id} for {customer} with the items of {latest}; the total is ${total}.")


@needs(2)
def raise_price(s: Session) -> Piece | None:
    options = [p for p in _unique_products(s) if s.pristine("orders", "products", p["sku"], "price")]
    if not options or s.budget < 2:
        return None
    product, step = s.rng.choice(options), s.rng.choice((1, 2, 3, 5, 10))
    found = s.call(f"Looking up the {product['name']}.", "search_products", {"query": product["name"]})
    hit = next(p for p in found["products"] if p["name"] == product["name"])
    done = s.call(f"{hit['sku']} costs ${hit['price']}; raising it by ${step}.", "update_price",
                  {"sku": hit["sku"], "price": hit["price"] + step}, found)
    price = s.output("raised_price", done, "price", label=f"the new price of the {product['name']}")
    request = s.say(f"Our supplier got dearer: raise the price of the {product['name']} by ${step}.",
                    f"Add ${step} to the price of the {product['name']} and tell me what it costs now.",
                    f"Please put the {product['name']} up by ${step}.",
                    f"The {product['name']} has to cost ${step} more from today; what is the new price?")
    return Piece(request, f"The {product['name']} ({hit['sku']}) now costs ${price}.")


@needs(2)
def ship_oldest(s: Session) -> Piece | None:
    options = [c for c in _customers(s, "pending") if sum(o["customer"] == c and o["status"] == "pending"
                                                          for o in s.state["orders"]["orders"].values()) >= 2]
    if not options or s.budget < 2:
        return None
    customer = s.rng.choice(options)
    listed = s.call(f"Listing {customer}'s pending orders.", "list_orders", {"customer": customer, "status": "pending"})
    oldest = listed["orders"][0]
    s.call(f"{oldest['id']} is the oldest; shipping it.", "ship_order", {"order_id": oldest["id"]}, listed)
    s.output("shipped_oldest", listed, "orders", 0, "id", label="the order shipped")
    total = s.output("shipped_total", listed, "orders", 0, "total", label="its total")
    request = s.say(f"Ship the oldest pending order of {customer} and tell me its total.",
                    f"{customer} has several orders waiting. Send out the one that has waited longest.",
                    f"Please mark {customer}'s earliest pending order as shipped; which one was it?",
                    f"Only one parcel for {customer} fits on today's van: ship their oldest pending order.")
    return Piece(request, f"Shipped {oldest['id']} for {customer}; its total was ${total}.")


@needs(2)
def largest_order(s: Session) -> Piece | None:
    options = []
    for customer in _customers(s):
        totals = sorted(o["total"] for o in s.state["orders"]["orders"].values() if o["customer"] == customer)
        if len(totals) >= 2 and totals[-1] != totals[-2]:
            options.append(customer)
    if not options or s.budget < 2:
        return None
    customer = s.rng.choice(options)
    listed = s.call(f"Listing {customer}'s orders.", "list_orders", {"customer": customer})
    i = max(range(len(listed["orders"])), key=lambda k: listed["orders"][k]["total"])
    top = listed["orders"][i]
    got = s.call(f"{top['id']} has the largest total (${top['total']}); reading its items.", "get_order",
                 {"order_id": top["id"]}, listed)
    s.output("largest_order", listed, "orders", i, "id", label=f"{customer}'s largest order")
    lines = s.output("largest_order_lines", got, "items", extract="len", label="the number of products in it")
    request = s.say(f"Which of {customer}'s orders is the biggest by total, and how many different products are in it?",
                    f"Find {customer}'s largest order and tell me how many product lines it has.",
                    f"What is the most expensive order {customer} ever placed? I also need its number of products.",
                    f"Look through {customer}'s orders, pick the one with the highest total and count its products.")
    return Piece(request, f"{customer}'s largest order is {top['id']} (${top['total']}) with "
                          f"{plural(lines, 'product line')}.")


@needs(2)
def receive_stock(s: Session) -> Piece | None:
    options = [p for p in _unique_products(s) if s.pristine("orders", "products", p["sku"], "stock")]
    if not options or s.budget < 2:
        return None
    product, units = s.rng.choice(options), s.rng.randint(2, 24)
    found = s.call(f"Finding the sku of the {product['name']}.", "search_products", {"query": product["name"]})
    hit = next(p for p in found["products"] if p["name"] == product["name"])
    done = s.call(f"It is {hit['sku']}; adding {units} units.", "restock", {"sku": hit["sku"], "quantity": units}, found)
    stock = s.output("received_stock", done, "stock", label=f"the stock of the {product['name']}")
    request = s.say(f"A delivery of {units} {product['name']} units just arrived. Add them to stock.",
                    f"Book {units} more units of the {product['name']} into stock and tell me the new level.",
                    f"Please restock the {product['name']} by {units} and report how many we have now.",
                    f"We received {units} x {product['name']}. Put them on the shelf in the system.")
    return Piece(request, f"Added {units} units of the {product['name']} ({hit['sku']}); stock is now {stock}.")


def stock_check(s: Session) -> Piece | None:
    sku = s.rng.choice([k for k in sorted(s.state["orders"]["products"]) if not s.repeats("get_product", {"sku": k})])
    got = s.call(f"Reading {sku}.", "get_product", {"sku": sku})
    stock = s.output(f"{sku}_stock", got, "stock", label=f"the stock of {sku}")
    request = s.say(f"How many units of {sku} are in stock?", f"What is the stock level of {sku}?",
                    f"Do we still have {sku}? Tell me how many units.")
    return Piece(request, f"{sku} ({got['name']}) has {plural(stock, 'unit')} in stock.")


def price_check(s: Session) -> Piece | None:
    options = [p for p in _unique_products(s) if not s.repeats("search_products", {"query": p["name"]})]
    if not options:
        return None
    name = s.rng.choice(options)["name"]
    found = s.call(f"Searching for the {name}.", "search_products", {"query": name})
    i = next(i for i, p in enumerate(found["products"]) if p["name"] == name)
    price = s.output("price", found, "products", i, "price", label=f"the price of the {name}")
    request = s.say(f"What does the {name} cost?", f"How much is the {name} right now?",
                    f"Tell me the current price of the {name}.")
    return Piece(request, f"The {name} costs ${price}.")


def order_count(s: Session) -> Piece | None:
    options = [c for c in _customers(s) if not s.repeats("list_orders", {"customer": c})]
    if not options:
        return None
    customer = s.rng.choice(options)
    listed = s.call(f"Listing {customer}'s orders.", "list_orders", {"customer": customer})
    count = s.output("orders", listed, "orders", extract="len", label=f"the number of {customer}'s orders")
    request = s.say(f"How many orders has {customer} placed?", f"Count {customer}'s orders for me.",
                    f"How often has {customer} ordered from us? Just the number of orders.")
    return Piece(request, f"{customer} has {plural(count, 'order')} on record.")


TEMPLATES = (place_order, cancel_latest, restock_low, ship_pending, discount, order_lookup, reorder, raise_price,
             ship_oldest, largest_order, receive_stock)
FILLERS = (stock_check, price_check, order_count)
