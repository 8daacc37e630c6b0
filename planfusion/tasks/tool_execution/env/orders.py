"""A shop: state {"products": {sku: product}, "orders": {id: order}, "next_id": int}; prices are whole dollars.

A product is {"sku", "name", "price", "stock"}; an order is
{"id", "customer", "items": [{"sku", "quantity", "price"}], "total", "status"} with status
pending -> shipped, or pending -> cancelled (stock goes back on the shelf).
"""

from __future__ import annotations

from typing import Any

from planfusion.tasks.tool_execution.env.base import State, Tool, require, tool
from planfusion.tasks.tool_execution.env.schema import array, integer, obj, string

BACKEND = "orders"
ORDER_STATUSES = ("pending", "shipped", "cancelled")


def _product(state: State, sku: str) -> dict[str, Any]:
    require(sku in state["products"], f"no such product: {sku}")
    return state["products"][sku]


def _order(state: State, order_id: str) -> dict[str, Any]:
    require(order_id in state["orders"], f"no order with id {order_id}")
    return state["orders"][order_id]


def search_products(state: State, query: str) -> dict[str, Any]:
    require(query.strip() != "", "query must not be empty")
    found = [dict(p) for p in state["products"].values() if query.lower() in p["name"].lower()]
    return {"products": sorted(found, key=lambda p: p["sku"])}


def get_product(state: State, sku: str) -> dict[str, Any]:
    return dict(_product(state, sku))


def list_low_stock(state: State, threshold: int) -> dict[str, Any]:
    low = [{"sku": p["sku"], "name": p["name"], "stock": p["stock"]}
           for p in state["products"].values() if p["stock"] < threshold]
    return {"threshold": threshold, "products": sorted(low, key=lambda p: p["sku"])}


def restock(state: State, sku: str, quantity: int) -> dict[str, Any]:
    product = _product(state, sku)
    product["stock"] += quantity
    return {"sku": sku, "stock": product["stock"]}


def update_price(state: State, sku: str, price: int) -> dict[str, Any]:
    product = _product(state, sku)
    require(product["price"] != price, f"{sku} already costs {price}")
    product["price"] = price
    return {"sku": sku, "price": price}


def create_order(state: State, customer: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    require(bool(items), "an order needs at least one item")
    require(customer.strip() != "", "customer must not be empty")
    wanted: dict[str, int] = {}
    for item in items:
        wanted[item["sku"]] = wanted.get(item["sku"], 0) + item["quantity"]
    for sku, quantity in wanted.items():
        stock = _product(state, sku)["stock"]
        require(stock >= quantity, f"not enough stock for {sku}: {stock} left, {quantity} requested")
    lines = []
    for sku, quantity in wanted.items():
        product = state["products"][sku]
        product["stock"] -= quantity
        lines.append({"sku": sku, "quantity": quantity, "price": product["price"]})
    order_id = f"O-{state['next_id']}"
    state["next_id"] += 1
    total = sum(line["quantity"] * line["price"] for line in lines)
    state["orders"][order_id] = {"id": order_id, "customer": customer, "items": lines, "total": total,
                                 "status": "pending"}
    return {"order_id": order_id, "total": total, "status": "pending"}


def list_orders(state: State, customer: str, status: str | None = None) -> dict[str, Any]:
    found = [{"id": o["id"], "status": o["status"], "total": o["total"]} for o in state["orders"].values()
             if o["customer"] == customer and (status is None or o["status"] == status)]
    return {"customer": customer, "orders": sorted(found, key=lambda o: o["id"])}


def get_order(state: State, order_id: str) -> dict[str, Any]:
    order = _order(state, order_id)
    return {**order, "items": [dict(line) for line in order["items"]]}


def cancel_order(state: State, order_id: str) -> dict[str, Any]:
    order = _order(state, order_id)
    require(order["status"] == "pending", f"order {order_id} is {order['status']}; only pending orders can be cancelled")
    for line in order["items"]:
        if line["sku"] in state["products"]:
            state["products"][line["sku"]]["stock"] += line["quantity"]
    order["status"] = "cancelled"
    return {"order_id": order_id, "status": "cancelled", "refund": order["total"]}


def ship_order(state: State, order_id: str) -> dict[str, Any]:
    order = _order(state, order_id)
    require(order["status"] == "pending", f"order {order_id} is {order['status']}; only pending orders can ship")
    order["status"] = "shipped"
    return {"order_id": order_id, "status": "shipped"}


_SKU = string("product sku, e.g. SKU-204")
_ORDER = string("order id, e.g. O-5120")
TOOLS: tuple[Tool, ...] = (
    tool(BACKEND, search_products, "Products whose name contains the query (case-insensitive).",
         {"query": string("part of a product name")}, ("query",), writes=False),
    tool(BACKEND, get_product, "Name, price and stock of one product.", {"sku": _SKU}, ("sku",), writes=False),
    tool(BACKEND, list_low_stock, "Products with fewer than `threshold` units in stock.",
         {"threshold": integer("stock level", minimum=1)}, ("threshold",), writes=False),
    tool(BACKEND, list_orders, "A customer's orders, optionally only those with a given status.",
         {"customer": string("customer name"), "status": string("order status", ORDER_STATUSES)},
         ("customer",), writes=False),
    tool(BACKEND, get_order, "All fields of one order, including its items.", {"order_id": _ORDER}, ("order_id",),
         writes=False),
    tool(BACKEND, create_order, "Place an order at current prices; fails if any item lacks stock.",
         {"customer": string("customer name"),
          "items": array(obj({"sku": _SKU, "quantity": integer("units", minimum=1)}, ("sku", "quantity")),
                         "the products and quantities to order")},
         ("customer", "items"), writes=True),
    tool(BACKEND, cancel_order, "Cancel a pending order and put its items back in stock; returns the refund.",
         {"order_id": _ORDER}, ("order_id",), writes=True),
    tool(BACKEND, ship_order, "Mark a pending order as shipped.", {"order_id": _ORDER}, ("order_id",), writes=True),
    tool(BACKEND, restock, "Add units to a product's stock.",
         {"sku": _SKU, "quantity": integer("units to add", minimum=1)}, ("sku", "quantity"), writes=True),
    tool(BACKEND, update_price, "Set a product's price in whole dollars.",
         {"sku": _SKU, "price": integer("new price", minimum=1)}, ("sku", "price"), writes=True),
)
